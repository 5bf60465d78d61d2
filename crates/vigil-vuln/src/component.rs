//! A software component (package) as SBOMs, host inventories and lock files
//! describe it, keyed by purl.

use crate::ecosystem::Ecosystem;
use crate::purl::Purl;

/// One installed or bundled package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Component {
    /// Package name as the ecosystem spells it (`@scope/name`,
    /// `group:artifact`, `github.com/a/b`, binary package name for distros).
    pub name: String,
    /// Version, if known.
    pub version: Option<String>,
    /// Package URL, the component's key.
    pub purl: Option<Purl>,
    /// Ecosystem, when the purl type maps to one.
    pub ecosystem: Option<Ecosystem>,
    /// Distribution release (`12`, `22.04`, `v3.18`) for OS packages.
    pub distro_release: Option<String>,
    /// Source package name (dpkg `Source:`, apk `o:`), when it differs.
    pub source_name: Option<String>,
    /// The SBOM's `bom-ref` / SPDX id, if any.
    pub bom_ref: Option<String>,
}

/// Debian code names to release numbers.
const DEBIAN_CODENAMES: [(&str, &str); 8] = [
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("sid", "sid"),
];

/// The distro release in a purl `distro` qualifier (`debian-12`,
/// `bookworm`, `ubuntu-22.04`, `alpine-3.18.4` → `v3.18`).
pub(crate) fn release_from_distro(eco: Ecosystem, distro: &str) -> Option<String> {
    let d = distro.trim().to_ascii_lowercase();
    let tail = d.rsplit_once('-').map_or(d.as_str(), |(_, t)| t);
    if let Some((_, n)) = DEBIAN_CODENAMES.iter().find(|(c, _)| *c == tail) {
        return Some((*n).to_owned());
    }
    match eco {
        Ecosystem::Alpine => {
            let t = tail.trim_start_matches('v');
            let mut parts = t.split('.');
            let major = parts.next()?;
            let minor = parts.next()?;
            Some(format!("v{major}.{minor}"))
        }
        _ if tail.chars().next().is_some_and(|c| c.is_ascii_digit()) => Some(tail.to_owned()),
        _ => None,
    }
}

impl Component {
    /// A component from its purl (ecosystem, name, version and distro release
    /// derived from it).
    pub fn from_purl(purl: Purl) -> Component {
        let (ecosystem, name) = match Ecosystem::from_purl(&purl) {
            Some((e, n)) => (Some(e), n),
            None => (None, purl.name().to_owned()),
        };
        let distro_release = match (ecosystem, purl.qualifier("distro")) {
            (Some(e), Some(d)) if e.is_distro() => release_from_distro(e, d),
            _ => None,
        };
        let source_name = purl
            .qualifier("upstream")
            .map(|u| u.split('@').next().unwrap_or(u).to_owned());
        // RPM purls carry the epoch as a qualifier; RPM ordering compares
        // the full EPOCH:VERSION-RELEASE.
        let version = match (purl.ty(), purl.version(), purl.qualifier("epoch")) {
            ("rpm", Some(v), Some(e)) if !v.contains(':') && !e.is_empty() => {
                Some(format!("{e}:{v}"))
            }
            (_, v, _) => v.map(str::to_owned),
        };
        Component {
            name,
            version,
            purl: Some(purl),
            ecosystem,
            distro_release,
            source_name,
            bom_ref: None,
        }
    }

    /// A component of a known ecosystem; the purl is built when possible.
    pub fn new(ecosystem: Ecosystem, name: &str, version: Option<&str>) -> Component {
        Component {
            name: name.to_owned(),
            version: version.map(str::to_owned),
            purl: ecosystem.purl(name, version).ok(),
            ecosystem: Some(ecosystem),
            distro_release: None,
            source_name: None,
            bom_ref: None,
        }
    }

    /// The key under which the component is stored: its canonical purl, or
    /// `name@version` without one.
    pub fn key(&self) -> String {
        match &self.purl {
            Some(p) => p.to_string(),
            None => format!("{}@{}", self.name, self.version.as_deref().unwrap_or("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(purl: &str, want: &str) {
        let c = Component::from_purl(purl.parse().unwrap());
        let got = format!(
            "{:?} {} {:?} {:?}",
            c.ecosystem.map(|e| e.osv_name()),
            c.name,
            c.version,
            c.distro_release
        );
        assert_eq!(got, want);
    }

    #[test]
    fn components() {
        check(
            "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12",
            r#"Some("Debian") curl Some("7.88.1-10") Some("12")"#,
        );
        check(
            "pkg:deb/debian/curl@7.88.1-10?distro=bookworm",
            r#"Some("Debian") curl Some("7.88.1-10") Some("12")"#,
        );
        check(
            "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.18.4",
            r#"Some("Alpine") musl Some("1.2.4-r2") Some("v3.18")"#,
        );
        check(
            "pkg:pypi/django@4.2",
            r#"Some("PyPI") django Some("4.2") None"#,
        );
        check("pkg:generic/zlib@1.3", "None zlib Some(\"1.3\") None");
        check(
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rhel-9.2",
            r#"Some("Red Hat") openssl-libs Some("1:3.0.7-27.el9") Some("9.2")"#,
        );
    }
}

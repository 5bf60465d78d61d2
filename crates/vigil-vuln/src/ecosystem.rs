//! Package ecosystems: OSV ecosystem names, purl types, version schemes and
//! package-name normalisation, in one table.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, echo};
use crate::purl::Purl;
use crate::version::Scheme;

/// A package ecosystem as OSV names it (without the `:release` suffix).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum Ecosystem {
    /// Go modules.
    Go,
    /// npm.
    Npm,
    /// PyPI.
    PyPI,
    /// RubyGems.
    RubyGems,
    /// crates.io.
    CratesIo,
    /// Packagist (Composer).
    Packagist,
    /// Maven.
    Maven,
    /// NuGet.
    NuGet,
    /// Hex (Erlang, Elixir).
    Hex,
    /// Pub (Dart).
    Pub,
    /// SwiftURL.
    SwiftUrl,
    /// Debian.
    Debian,
    /// Ubuntu.
    Ubuntu,
    /// Alpine.
    Alpine,
    /// Wolfi.
    Wolfi,
    /// Chainguard.
    Chainguard,
    /// Red Hat.
    RedHat,
    /// Rocky Linux.
    RockyLinux,
    /// AlmaLinux.
    AlmaLinux,
    /// SUSE.
    Suse,
    /// openSUSE.
    OpenSuse,
    /// Mageia.
    Mageia,
    /// Photon OS.
    PhotonOs,
    /// openEuler.
    OpenEuler,
    /// Bitnami (SemVer).
    Bitnami,
}

/// (ecosystem, OSV name, purl type, purl namespace for distros, scheme)
const TABLE: &[(Ecosystem, &str, &str, &str, Scheme)] = &[
    (Ecosystem::Go, "Go", "golang", "", Scheme::Go),
    (Ecosystem::Npm, "npm", "npm", "", Scheme::Npm),
    (Ecosystem::PyPI, "PyPI", "pypi", "", Scheme::Pep440),
    (Ecosystem::RubyGems, "RubyGems", "gem", "", Scheme::Gem),
    (Ecosystem::CratesIo, "crates.io", "cargo", "", Scheme::Cargo),
    (
        Ecosystem::Packagist,
        "Packagist",
        "composer",
        "",
        Scheme::Composer,
    ),
    (Ecosystem::Maven, "Maven", "maven", "", Scheme::Maven),
    (Ecosystem::NuGet, "NuGet", "nuget", "", Scheme::Nuget),
    (Ecosystem::Hex, "Hex", "hex", "", Scheme::Semver),
    (Ecosystem::Pub, "Pub", "pub", "", Scheme::Semver),
    (Ecosystem::SwiftUrl, "SwiftURL", "swift", "", Scheme::Semver),
    (Ecosystem::Debian, "Debian", "deb", "debian", Scheme::Dpkg),
    (Ecosystem::Ubuntu, "Ubuntu", "deb", "ubuntu", Scheme::Dpkg),
    (Ecosystem::Alpine, "Alpine", "apk", "alpine", Scheme::Apk),
    (Ecosystem::Wolfi, "Wolfi", "apk", "wolfi", Scheme::Apk),
    (
        Ecosystem::Chainguard,
        "Chainguard",
        "apk",
        "chainguard",
        Scheme::Apk,
    ),
    (Ecosystem::RedHat, "Red Hat", "rpm", "redhat", Scheme::Rpm),
    (
        Ecosystem::RockyLinux,
        "Rocky Linux",
        "rpm",
        "rocky",
        Scheme::Rpm,
    ),
    (
        Ecosystem::AlmaLinux,
        "AlmaLinux",
        "rpm",
        "almalinux",
        Scheme::Rpm,
    ),
    (Ecosystem::Suse, "SUSE", "rpm", "suse", Scheme::Rpm),
    (
        Ecosystem::OpenSuse,
        "openSUSE",
        "rpm",
        "opensuse",
        Scheme::Rpm,
    ),
    (Ecosystem::Mageia, "Mageia", "rpm", "mageia", Scheme::Rpm),
    (
        Ecosystem::PhotonOs,
        "Photon OS",
        "rpm",
        "photon",
        Scheme::Rpm,
    ),
    (
        Ecosystem::OpenEuler,
        "openEuler",
        "rpm",
        "openeuler",
        Scheme::Rpm,
    ),
    (Ecosystem::Bitnami, "Bitnami", "bitnami", "", Scheme::Semver),
];

fn row(e: Ecosystem) -> &'static (Ecosystem, &'static str, &'static str, &'static str, Scheme) {
    // Every variant has a row (checked by a test).
    TABLE.iter().find(|r| r.0 == e).unwrap_or(&TABLE[0])
}

impl Ecosystem {
    /// Splits an OSV ecosystem string (`Debian:12`, `Alpine:v3.18`,
    /// `Ubuntu:22.04:LTS`) into the ecosystem and its release.
    pub fn parse_osv(s: &str) -> Result<(Ecosystem, Option<&str>)> {
        let (base, release) = match s.split_once(':') {
            Some((b, r)) => (b, Some(r).filter(|r| !r.is_empty())),
            None => (s, None),
        };
        let e = TABLE
            .iter()
            .find(|r| r.1 == base)
            .map(|r| r.0)
            .or(match base {
                "Rocky" => Some(Ecosystem::RockyLinux),
                "Alma" => Some(Ecosystem::AlmaLinux),
                _ => None,
            })
            .ok_or_else(|| Error::Ecosystem(echo(s)))?;
        Ok((e, release))
    }

    /// The OSV name (`crates.io`, `PyPI`, `Red Hat`).
    pub fn osv_name(self) -> &'static str {
        row(self).1
    }

    /// The purl type (`cargo`, `pypi`, `deb`).
    pub fn purl_type(self) -> &'static str {
        row(self).2
    }

    /// The version scheme.
    pub fn scheme(self) -> Scheme {
        row(self).4
    }

    /// True for OS distributions, whose OSV ecosystems carry a release.
    pub fn is_distro(self) -> bool {
        !row(self).3.is_empty()
    }

    /// The ecosystem and package name a purl denotes (`@scope/name` for npm,
    /// `group:artifact` for Maven, `host/path` for Go, `vendor/name` for
    /// Packagist); `None` for types without an OSV ecosystem.
    pub fn from_purl(p: &Purl) -> Option<(Ecosystem, String)> {
        let ns = p.namespace();
        let e = match p.ty() {
            "deb" | "apk" | "rpm" => {
                let ns = ns?.to_ascii_lowercase();
                let ns = match ns.as_str() {
                    "rhel" | "red hat" | "centos" => "redhat",
                    "rocky-linux" | "rockylinux" => "rocky",
                    "sles" | "sle" | "suse-linux" => "suse",
                    "photon-os" => "photon",
                    other => other,
                };
                TABLE.iter().find(|r| r.2 == p.ty() && r.3 == ns)?.0
            }
            ty => TABLE.iter().find(|r| r.2 == ty && r.3.is_empty())?.0,
        };
        let name = match (e, ns) {
            (Ecosystem::Maven, Some(ns)) => format!("{ns}:{}", p.name()),
            (e, Some(ns)) if !e.is_distro() => format!("{ns}/{}", p.name()),
            _ => p.name().to_owned(),
        };
        Some((e, name))
    }

    /// The name under which packages are looked up: PEP 503 for PyPI, lower
    /// case where the registry is case-insensitive, as is otherwise.
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut sep = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        sep = true;
                    } else {
                        if sep && !out.is_empty() {
                            out.push('-');
                        }
                        sep = false;
                        out.push(c.to_ascii_lowercase());
                    }
                }
                out
            }
            Ecosystem::NuGet
            | Ecosystem::Packagist
            | Ecosystem::Debian
            | Ecosystem::Ubuntu
            | Ecosystem::Alpine
            | Ecosystem::Wolfi
            | Ecosystem::Chainguard
            | Ecosystem::Hex
            | Ecosystem::CratesIo => name.trim().to_ascii_lowercase(),
            _ => name.trim().to_owned(),
        }
    }

    /// Builds the purl of a package of this ecosystem.
    pub fn purl(self, name: &str, version: Option<&str>) -> Result<Purl> {
        let r = row(self);
        let (ns, n) = match self {
            Ecosystem::Maven => match name.split_once(':') {
                Some((g, a)) => (Some(g), a),
                None => (None, name),
            },
            e if e.is_distro() => (Some(r.3), name),
            _ => match name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, name),
            },
        };
        Purl::new(r.2, ns, n, version)
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

impl FromStr for Ecosystem {
    type Err = Error;
    fn from_str(s: &str) -> Result<Ecosystem> {
        Ecosystem::parse_osv(s).map(|(e, _)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(purl: &str, want: &str) {
        let p: Purl = purl.parse().unwrap();
        let got = match Ecosystem::from_purl(&p) {
            Some((e, n)) => format!("{e} {n}"),
            None => "none".into(),
        };
        assert_eq!(got, want);
    }

    #[test]
    fn purl_to_ecosystem() {
        check("pkg:npm/%40babel/core@7.0.0", "npm @babel/core");
        check(
            "pkg:maven/org.yaml/snakeyaml@1.0",
            "Maven org.yaml:snakeyaml",
        );
        check("pkg:golang/github.com/a/b@v1.0.0", "Go github.com/a/b");
        check("pkg:deb/ubuntu/openssl@1.0", "Ubuntu openssl");
        check("pkg:rpm/rhel/openssl@1.0", "Red Hat openssl");
        check("pkg:generic/openssl@1.0", "none");
        check(
            "pkg:composer/laravel/framework@7.12.0",
            "Packagist laravel/framework",
        );
    }

    #[test]
    fn table_is_complete() {
        for r in TABLE {
            assert_eq!(row(r.0).0, r.0);
            assert_eq!(Ecosystem::parse_osv(r.1).unwrap().0, r.0);
        }
        assert_eq!(
            Ecosystem::parse_osv("Ubuntu:22.04:LTS").unwrap(),
            (Ecosystem::Ubuntu, Some("22.04:LTS"))
        );
        assert_eq!(
            Ecosystem::PyPI.normalize_name("Zope.Interface__x"),
            "zope-interface-x"
        );
        assert!(Ecosystem::parse_osv("Nope").is_err());
    }
}

//! Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`) per
//! the package-url specification: parsing with percent-decoding and the
//! type-specific case rules, and the canonical form (qualifiers sorted,
//! components percent-encoded) as `Display`.
//!
//! Checked against the `packageurl` crate on the 1,311 distinct purls of the
//! shared SBOMs (test `purl_crosscheck`): same reading everywhere except
//! that `golang` namespaces and names keep their case here, since Go module
//! paths and OSV's Go package names are case-sensitive.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, echo};

/// Longest purl accepted.
const MAX_PURL: usize = 4096;

/// A parsed package URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

fn err(purl: &str, reason: &str) -> Error {
    Error::Purl {
        purl: echo(purl),
        reason: reason.to_owned(),
    }
}

fn decode(s: &str, whole: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .ok_or_else(|| err(whole, "truncated percent escape"))?;
            let h = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(h.ok_or_else(|| err(whole, "bad percent escape"))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| err(whole, "percent escapes are not UTF-8"))
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b".-_~".contains(&c) || keep.contains(&c) {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

impl Purl {
    /// Builds a purl from parts, applying the type's normalisation rules.
    pub fn new(
        ty: &str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
    ) -> Result<Purl> {
        let mut p = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace
                .filter(|n| !n.is_empty())
                .map(|n| n.trim_matches('/').to_owned()),
            name: name.to_owned(),
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            qualifiers: BTreeMap::new(),
            subpath: None,
        };
        p.validate(&format!("{ty}/{name}"))?;
        p.normalize();
        Ok(p)
    }

    /// Adds or replaces a qualifier (an empty value removes it).
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Purl {
        let key = key.to_ascii_lowercase();
        if value.is_empty() {
            self.qualifiers.remove(&key);
        } else {
            self.qualifiers.insert(key, value.to_owned());
        }
        self
    }

    /// Replaces the version.
    pub fn with_version(mut self, version: Option<&str>) -> Purl {
        self.version = version.filter(|v| !v.is_empty()).map(str::to_owned);
        self
    }

    /// The package type (`npm`, `deb`, ...), lower case.
    pub fn ty(&self) -> &str {
        &self.ty
    }
    /// The namespace (`@angular`, `debian`, Maven group id), if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    /// The package name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The version, if any.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The qualifiers, sorted by key.
    pub fn qualifiers(&self) -> &BTreeMap<String, String> {
        &self.qualifiers
    }
    /// One qualifier.
    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.get(key).map(String::as_str)
    }
    /// The subpath, if any.
    pub fn subpath(&self) -> Option<&str> {
        self.subpath.as_deref()
    }

    fn validate(&self, whole: &str) -> Result<()> {
        let t = self.ty.as_bytes();
        if t.is_empty()
            || t[0].is_ascii_digit()
            || !t
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b".+-".contains(c))
        {
            return Err(err(whole, "bad type"));
        }
        if self.name.is_empty() {
            return Err(err(whole, "empty name"));
        }
        if self.ty == "maven" && self.namespace.is_none() {
            return Err(err(whole, "maven purls need a namespace (group id)"));
        }
        Ok(())
    }

    fn normalize(&mut self) {
        let lower_ns = matches!(
            self.ty.as_str(),
            "bitbucket"
                | "github"
                | "pypi"
                | "composer"
                | "hex"
                | "deb"
                | "apk"
                | "alpm"
                | "rpm"
                | "npm"
        );
        let lower_name = matches!(
            self.ty.as_str(),
            "bitbucket" | "github" | "pypi" | "composer" | "hex" | "deb" | "apk" | "alpm" | "npm"
        );
        if lower_ns && let Some(ns) = &mut self.namespace {
            *ns = ns.to_lowercase();
        }
        if lower_name {
            self.name = self.name.to_lowercase();
        }
        if self.ty == "pypi" {
            self.name = self.name.replace('_', "-");
        }
    }
}

impl FromStr for Purl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Purl> {
        if s.len() > MAX_PURL {
            return Err(err(s, "longer than 4096 bytes"));
        }
        let whole = s;
        let s = s.trim();
        let (rest, subpath) = match s.rsplit_once('#') {
            Some((r, sp)) => {
                let mut segs = Vec::new();
                for seg in sp.trim_matches('/').split('/') {
                    if seg.is_empty() || seg == "." || seg == ".." {
                        continue;
                    }
                    segs.push(decode(seg, whole)?);
                }
                (
                    r,
                    if segs.is_empty() {
                        None
                    } else {
                        Some(segs.join("/"))
                    },
                )
            }
            None => (s, None),
        };
        let (rest, qualifiers) = match rest.rsplit_once('?') {
            Some((r, q)) => {
                let mut map = BTreeMap::new();
                for pair in q.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| err(whole, "qualifier without '='"))?;
                    let k = k.to_ascii_lowercase();
                    if k.is_empty()
                        || !k
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b".-_".contains(&c))
                    {
                        return Err(err(whole, "bad qualifier key"));
                    }
                    let v = decode(v, whole)?;
                    if v.is_empty() {
                        continue;
                    }
                    if map.insert(k, v).is_some() {
                        return Err(err(whole, "duplicate qualifier"));
                    }
                }
                (r, map)
            }
            None => (rest, BTreeMap::new()),
        };
        let (scheme, rest) = rest
            .split_once(':')
            .ok_or_else(|| err(whole, "missing 'pkg:' scheme"))?;
        if !scheme.eq_ignore_ascii_case("pkg") {
            return Err(err(whole, "scheme is not 'pkg'"));
        }
        let rest = rest.trim_start_matches('/');
        let (ty, rest) = rest
            .split_once('/')
            .ok_or_else(|| err(whole, "missing type"))?;
        let rest = rest.trim_matches('/');
        let (rest, version) = match rest.rsplit_once('@') {
            // an '@' that starts the path is an npm scope written without %40
            Some((r, v)) if !r.is_empty() => (r, Some(decode(v, whole)?).filter(|v| !v.is_empty())),
            _ => (rest, None),
        };
        let (ns, name) = match rest.rsplit_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, rest),
        };
        let name = decode(name, whole)?;
        let namespace = match ns {
            Some(ns) => {
                let segs: Vec<String> = ns
                    .split('/')
                    .filter(|x| !x.is_empty())
                    .map(|x| decode(x, whole))
                    .collect::<Result<_>>()?;
                if segs.is_empty() {
                    None
                } else {
                    Some(segs.join("/"))
                }
            }
            None => None,
        };
        let mut p = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name,
            version,
            qualifiers,
            subpath,
        };
        p.validate(whole)?;
        p.normalize();
        Ok(p)
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/') {
                write!(f, "{}/", encode(seg, b":"))?;
            }
        }
        f.write_str(&encode(&self.name, b":"))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v, b":"))?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            write!(
                f,
                "{}{k}={}",
                if i == 0 { '?' } else { '&' },
                encode(v, b":/")
            )?;
        }
        if let Some(sp) = &self.subpath {
            let segs: Vec<String> = sp.split('/').map(|s| encode(s, b":")).collect();
            write!(f, "#{}", segs.join("/"))?;
        }
        Ok(())
    }
}

impl serde::Serialize for Purl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Purl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Purl;

    /// Parses `input` and compares its canonical form with `want`
    /// (`Err` for a rejected purl).
    fn check(input: &str, want: &str) {
        let got = match input.parse::<Purl>() {
            Ok(p) => p.to_string(),
            Err(_) => "Err".to_owned(),
        };
        assert_eq!(got, want, "{input}");
    }

    #[test]
    fn purls() {
        check(
            "pkg:npm/%40angular/core@12.0.0",
            "pkg:npm/%40angular/core@12.0.0",
        );
        check(
            "pkg:npm/@angular/core@12.0.0",
            "pkg:npm/%40angular/core@12.0.0",
        );
        check("pkg:PyPI/Django_Rest@1.0", "pkg:pypi/django-rest@1.0");
        check(
            "pkg:deb/debian/curl@7.50.3-1?distro=jessie&arch=i386",
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
        );
        check(
            "pkg:maven/org.apache.commons/io@1.3.4",
            "pkg:maven/org.apache.commons/io@1.3.4",
        );
        check("pkg:maven/io@1.3.4", "Err");
        check(
            "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c#api",
            "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c#api",
        );
        check(
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64",
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64",
        );
        check(
            "pkg:rpm/fedora/curl@0:7.50.3-1.fc25?arch=i386&distro=fedora-25",
            "pkg:rpm/fedora/curl@0:7.50.3-1.fc25?arch=i386&distro=fedora-25",
        );
        check("pkg://cargo/rand@0.7.2", "pkg:cargo/rand@0.7.2");
        check(
            "pkg:gem/ruby-advisory-db-check@0.12.4?empty=",
            "pkg:gem/ruby-advisory-db-check@0.12.4",
        );
        check(
            "pkg:generic/openssl@1.1.10g?download_url=https://openssl.org/source/openssl-1.1.0g.tar.gz",
            "pkg:generic/openssl@1.1.10g?download_url=https://openssl.org/source/openssl-1.1.0g.tar.gz",
        );
        check("pkg:generic/x#/a/./../b/", "pkg:generic/x#a/b");
        check("pkg:npm/foo%ZZ", "Err");
        check("npm/foo", "Err");
        check("pkg:/foo", "Err");
        check("pkg:1npm/foo", "Err");
        check("pkg:npm/foo?a=1&a=2", "Err");
        check("pkg:npm/", "Err");
    }
}

#[cfg(test)]
mod random_tests {
    use super::Purl;

    /// Random purl-like strings never panic, and canonical forms re-parse to
    /// the same purl.
    #[test]
    fn random_input_never_panics() {
        const ALPHABET: &[u8] = b"pkg:/@?#&=%2Fa1B.-_~ \xc3\xa9npmdeb";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            let mut s = String::from("pkg:");
            let mut x = state;
            for _ in 0..len {
                x = x.rotate_left(7) ^ 0x9e37_79b9;
                s.push(char::from(
                    ALPHABET[(x % ALPHABET.len() as u64) as usize] & 0x7f,
                ));
            }
            if let Ok(p) = s.parse::<Purl>() {
                let again: Purl = p.to_string().parse().unwrap();
                assert_eq!(again, p, "{s}");
            }
        }
    }
}

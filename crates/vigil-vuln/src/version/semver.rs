//! SemVer 2.0.0 precedence, with the parsing flavours of crates.io (strict),
//! npm (node-semver: optional `v`), Go (`v` prefix, `v1`/`v1.2` shorthands,
//! pseudo-versions and `+incompatible` as ordinary pre-release and build
//! parts) and the other ecosystems OSV maps to SemVer (Hex, Pub, SwiftURL).

use std::cmp::Ordering;
use std::fmt;

use super::digits::{cmp_digits, parse_u64};
use crate::error::{Error, Result};

/// How strictly a SemVer string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// SemVer 2.0.0 exactly (crates.io, OSV `SEMVER` ranges).
    Strict,
    /// node-semver (strict mode): surrounding blanks and one leading `v`.
    Npm,
    /// Go modules: optional `v`, `v1` and `v1.2` mean `v1.0.0` and `v1.2.0`.
    Go,
}

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Ident {
    /// Numeric (no leading zeros), kept as digits so any length compares.
    Num(String),
    /// Alphanumeric, compared in ASCII order.
    Alnum(String),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => cmp_digits(a, b),
            (Ident::Num(_), Ident::Alnum(_)) => Ordering::Less,
            (Ident::Alnum(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alnum(a), Ident::Alnum(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed SemVer version. Equality and order ignore build metadata.
#[derive(Debug, Clone)]
pub struct SemVer {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Ident>,
    build: String,
}

impl SemVer {
    /// Parses `s` with the given flavour.
    pub(crate) fn parse(s: &str, flavor: Flavor, scheme: &'static str) -> Result<SemVer> {
        let err = |reason: &str| Error::version(scheme, s, reason);
        let mut t = s;
        match flavor {
            Flavor::Strict => {}
            Flavor::Npm => {
                t = t.trim();
                t = t.strip_prefix('v').unwrap_or(t);
            }
            Flavor::Go => {
                t = t.strip_prefix('v').unwrap_or(t);
            }
        }
        if t.is_empty() {
            return Err(err("empty"));
        }
        let (rest, build) = match t.split_once('+') {
            Some((r, b)) => {
                if b.is_empty() || b.split('.').any(|p| p.is_empty() || !is_ident(p)) {
                    return Err(err("bad build metadata"));
                }
                (r, b.to_owned())
            }
            None => (t, String::new()),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        let shorthand = flavor == Flavor::Go && pre.is_none() && build.is_empty();
        if parts.len() != 3 && !(shorthand && parts.len() < 3) {
            return Err(err("expected MAJOR.MINOR.PATCH"));
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.len() > 1 && p.starts_with('0') {
                return Err(err("leading zero in a numeric part"));
            }
            nums[i] = parse_u64(p).ok_or_else(|| err("numeric part expected"))?;
        }
        let mut idents = Vec::new();
        if let Some(pre) = pre {
            for p in pre.split('.') {
                if p.is_empty() || !is_ident(p) {
                    return Err(err("bad pre-release identifier"));
                }
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    if p.len() > 1 && p.starts_with('0') {
                        return Err(err("leading zero in a numeric pre-release identifier"));
                    }
                    idents.push(Ident::Num(p.to_owned()));
                } else {
                    idents.push(Ident::Alnum(p.to_owned()));
                }
            }
        }
        Ok(SemVer {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre: idents,
            build,
        })
    }

    /// True for a pre-release (`1.0.0-rc.1`).
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

fn is_ident(p: &str) -> bool {
    p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, p) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match p {
                Ident::Num(s) | Ident::Alnum(s) => f.write_str(s)?,
            }
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

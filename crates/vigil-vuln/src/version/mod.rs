//! Version parsing and ordering per ecosystem.
//!
//! Each [`Scheme`] follows its ecosystem's own rules; [`Version::parse`] gives
//! a value that orders against other versions of the same scheme, and
//! [`compare`] is the one-shot form. Malformed versions are errors.

mod apk;
mod composer;
pub(crate) mod digits;
mod dpkg;
mod maven;
mod nuget;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use self::apk::Apk;
pub use self::composer::Composer;
pub use self::dpkg::Dpkg;
pub use self::maven::Maven;
pub use self::nuget::NuGet;
pub use self::pep440::Pep440;
pub use self::rpm::Rpm;
pub use self::rubygems::Gem;
use self::semver::Flavor;
pub use self::semver::SemVer;
use crate::error::{Error, Result};

/// A version ordering scheme.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// SemVer 2.0.0, strict (OSV `SEMVER` ranges, Hex, Pub, SwiftURL).
    Semver,
    /// node-semver (npm).
    Npm,
    /// crates.io (strict SemVer 2.0.0).
    Cargo,
    /// PEP 440 (PyPI).
    Pep440,
    /// Maven `ComparableVersion`.
    Maven,
    /// Go modules (SemVer with `v`, pseudo-versions, `+incompatible`).
    Go,
    /// NuGet.
    Nuget,
    /// RubyGems `Gem::Version`.
    Gem,
    /// Composer (Packagist).
    Composer,
    /// dpkg (Debian, Ubuntu).
    Dpkg,
    /// apk-tools (Alpine, Wolfi, Chainguard).
    Apk,
    /// rpm (Red Hat, Rocky, AlmaLinux, SUSE, openSUSE, ...).
    Rpm,
}

impl Scheme {
    /// All schemes.
    pub const ALL: [Scheme; 12] = [
        Scheme::Semver,
        Scheme::Npm,
        Scheme::Cargo,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::Go,
        Scheme::Nuget,
        Scheme::Gem,
        Scheme::Composer,
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
    ];

    /// Lower-case name (`pep440`, `dpkg`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Semver => "semver",
            Scheme::Npm => "npm",
            Scheme::Cargo => "cargo",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::Go => "go",
            Scheme::Nuget => "nuget",
            Scheme::Gem => "gem",
            Scheme::Composer => "composer",
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Rpm => "rpm",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = Error;
    fn from_str(s: &str) -> Result<Scheme> {
        Scheme::ALL
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::Ecosystem(crate::error::echo(s)))
    }
}

/// A parsed version of some scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// SemVer, npm, crates.io and Go.
    SemVer(SemVer),
    /// PyPI.
    Pep440(Pep440),
    /// Maven.
    Maven(Maven),
    /// NuGet.
    NuGet(NuGet),
    /// RubyGems.
    Gem(Gem),
    /// Packagist.
    Composer(Composer),
    /// Debian and Ubuntu.
    Dpkg(Dpkg),
    /// Alpine.
    Apk(Apk),
    /// RPM distributions.
    Rpm(Rpm),
}

impl Version {
    /// Parses `s` under `scheme`'s rules.
    pub fn parse(scheme: Scheme, s: &str) -> Result<Version> {
        Ok(match scheme {
            Scheme::Semver => Version::SemVer(SemVer::parse(s, Flavor::Strict, "semver")?),
            Scheme::Cargo => Version::SemVer(SemVer::parse(s, Flavor::Strict, "cargo")?),
            Scheme::Npm => Version::SemVer(SemVer::parse(s, Flavor::Npm, "npm")?),
            Scheme::Go => Version::SemVer(SemVer::parse(s, Flavor::Go, "go")?),
            Scheme::Pep440 => Version::Pep440(Pep440::parse(s)?),
            Scheme::Maven => Version::Maven(Maven::parse(s)?),
            Scheme::Nuget => Version::NuGet(NuGet::parse(s)?),
            Scheme::Gem => Version::Gem(Gem::parse(s)?),
            Scheme::Composer => Version::Composer(Composer::parse(s)?),
            Scheme::Dpkg => Version::Dpkg(Dpkg::parse(s)?),
            Scheme::Apk => Version::Apk(Apk::parse(s)?),
            Scheme::Rpm => Version::Rpm(Rpm::parse(s)?),
        })
    }

    /// Orders two versions of the same scheme; `None` across schemes.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        Some(match (self, other) {
            (Version::SemVer(a), Version::SemVer(b)) => a.cmp(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::NuGet(a), Version::NuGet(b)) => a.cmp(b),
            (Version::Gem(a), Version::Gem(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.compare(other)
    }
}

/// Compares two version strings under `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering> {
    let va = Version::parse(scheme, a)?;
    let vb = Version::parse(scheme, b)?;
    // Same scheme, so the comparison is always defined.
    Ok(va.compare(&vb).unwrap_or(Ordering::Equal))
}

#[cfg(test)]
mod tests;

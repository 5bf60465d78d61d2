//! Plain-text blocklists for firewalls, proxies and DNS: which indicator
//! types make up each list, and the TLP filter (a list shared at `green`
//! serves only CLEAR and GREEN values; values without a TLP count as
//! CLEAR).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::indicator::{IndicatorType, Tlp};

/// One plain-text list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlocklistKind {
    /// IPv4 and IPv6 addresses.
    Ips,
    /// IPv4 and IPv6 networks.
    Cidrs,
    /// Domains and host names.
    Domains,
    /// URLs.
    Urls,
    /// MD5, SHA-1, SHA-256 and SHA-512 file hashes.
    Hashes,
}

impl BlocklistKind {
    /// Every list.
    pub const ALL: [BlocklistKind; 5] = [
        Self::Ips,
        Self::Cidrs,
        Self::Domains,
        Self::Urls,
        Self::Hashes,
    ];

    /// The list's name in its URL (`ips`, `cidrs`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ips => "ips",
            Self::Cidrs => "cidrs",
            Self::Domains => "domains",
            Self::Urls => "urls",
            Self::Hashes => "hashes",
        }
    }

    /// The indicator types the list serves.
    pub const fn types(self) -> &'static [IndicatorType] {
        use IndicatorType as T;
        match self {
            Self::Ips => &[T::Ipv4, T::Ipv6],
            Self::Cidrs => &[T::Ipv4Cidr, T::Ipv6Cidr],
            Self::Domains => &[T::Domain, T::Hostname],
            Self::Urls => &[T::Url],
            Self::Hashes => &[T::Md5, T::Sha1, T::Sha256, T::Sha512],
        }
    }

    /// The list a type belongs to, if any.
    pub fn of(kind: IndicatorType) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.types().contains(&kind))
    }
}

impl fmt::Display for BlocklistKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BlocklistKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown blocklist {s:?} (one of ips, cidrs, domains, urls, hashes)"
                ))
            })
    }
}

/// True when a value marked `tlp` (a `TLP:…` name, or none = CLEAR) may be
/// shared at `max`. An unknown TLP name is never shared.
pub fn tlp_allows(tlp: Option<&str>, max: Tlp) -> bool {
    match tlp {
        None => true,
        Some(t) => Tlp::parse(t).is_some_and(|t| t <= max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_tlp() {
        assert_eq!(
            "IPS".parse::<BlocklistKind>().ok(),
            Some(BlocklistKind::Ips)
        );
        assert!("nope".parse::<BlocklistKind>().is_err());
        assert_eq!(
            BlocklistKind::of(IndicatorType::Sha256),
            Some(BlocklistKind::Hashes)
        );
        assert_eq!(BlocklistKind::of(IndicatorType::Email), None);
        assert!(tlp_allows(None, Tlp::Clear));
        assert!(tlp_allows(Some("TLP:GREEN"), Tlp::Green));
        assert!(!tlp_allows(Some("TLP:AMBER"), Tlp::Green));
        assert!(!tlp_allows(Some("TLP:BOGUS"), Tlp::Red));
    }
}

//! The indicator model: one record per type + normalised value, with every
//! provenance that asserted it, and the [`IndicatorSet`] that merges them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use vigil_model::Timestamp;

use crate::normalize;
use crate::{Error, Result};

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum IndicatorType {
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An IPv4 network.
    Ipv4Cidr,
    /// An IPv6 network.
    Ipv6Cidr,
    /// A domain: it and every subdomain match.
    Domain,
    /// A host name: only this exact name matches.
    Hostname,
    /// A URL.
    Url,
    /// An email address.
    Email,
    /// MD5 file hash.
    Md5,
    /// SHA-1 file hash.
    Sha1,
    /// SHA-256 file hash.
    Sha256,
    /// SHA-512 file hash.
    Sha512,
    /// A file name (matched case-insensitively).
    FileName,
    /// An HTTP user agent.
    UserAgent,
    /// A JA3 TLS client fingerprint (MD5 hex).
    Ja3,
    /// A JA4 TLS client fingerprint.
    Ja4,
    /// A Windows registry key.
    RegistryKey,
    /// A CVE identifier.
    Cve,
}

impl IndicatorType {
    /// Every type, in declaration order.
    pub const ALL: [IndicatorType; 18] = [
        Self::Ipv4,
        Self::Ipv6,
        Self::Ipv4Cidr,
        Self::Ipv6Cidr,
        Self::Domain,
        Self::Hostname,
        Self::Url,
        Self::Email,
        Self::Md5,
        Self::Sha1,
        Self::Sha256,
        Self::Sha512,
        Self::FileName,
        Self::UserAgent,
        Self::Ja3,
        Self::Ja4,
        Self::RegistryKey,
        Self::Cve,
    ];

    /// The stable name (`ipv4`, `ipv4-cidr`, `sha256`, `registry-key`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Ipv4Cidr => "ipv4-cidr",
            Self::Ipv6Cidr => "ipv6-cidr",
            Self::Domain => "domain",
            Self::Hostname => "hostname",
            Self::Url => "url",
            Self::Email => "email",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
            Self::FileName => "file-name",
            Self::UserAgent => "user-agent",
            Self::Ja3 => "ja3",
            Self::Ja4 => "ja4",
            Self::RegistryKey => "registry-key",
            Self::Cve => "cve",
        }
    }

    /// True for the file hash types.
    pub const fn is_hash(self) -> bool {
        matches!(self, Self::Md5 | Self::Sha1 | Self::Sha256 | Self::Sha512)
    }
}

impl fmt::Display for IndicatorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndicatorType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let l = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == l)
            .or(match l.as_str() {
                "ip" | "ipv4-addr" | "ip-src" | "ip-dst" => Some(Self::Ipv4),
                "ipv6-addr" => Some(Self::Ipv6),
                "domain-name" | "fqdn" => Some(Self::Domain),
                "sha-1" => Some(Self::Sha1),
                "sha-256" => Some(Self::Sha256),
                "sha-512" => Some(Self::Sha512),
                "filename" => Some(Self::FileName),
                "email-addr" | "email-address" => Some(Self::Email),
                "regkey" => Some(Self::RegistryKey),
                _ => None,
            })
            .ok_or_else(|| Error::Config(format!("unknown indicator type {s:?}")))
    }
}

/// Traffic Light Protocol level (2.0 names; `white` and `clear` are one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tlp {
    /// TLP:CLEAR / TLP:WHITE.
    Clear,
    /// TLP:GREEN.
    Green,
    /// TLP:AMBER.
    Amber,
    /// TLP:AMBER+STRICT.
    AmberStrict,
    /// TLP:RED.
    Red,
}

impl Tlp {
    /// Parses `tlp:amber`, `TLP:AMBER+STRICT`, `white`, `clear`, ….
    pub fn parse(s: &str) -> Option<Tlp> {
        let l = s.trim().to_ascii_lowercase();
        let l = l.strip_prefix("tlp:").unwrap_or(&l);
        Some(match l.trim_matches('"') {
            "white" | "clear" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }

    /// The STIX TLP marking-definition ids (2.0 and 2.1 share them).
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        Some(match id {
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
            | "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" => Tlp::Clear,
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
            | "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" => Tlp::Green,
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
            | "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" => Tlp::Amber,
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" => Tlp::AmberStrict,
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
            | "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" => Tlp::Red,
            _ => return None,
        })
    }

    /// `TLP:GREEN` style name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }
}

/// A kill-chain phase (`mitre-attack` / `execution`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KillChainPhase {
    /// The kill chain's name.
    pub kill_chain_name: String,
    /// The phase.
    pub phase_name: String,
}

/// Who asserted an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Provenance {
    /// The feed or import source (`unit42/emotet`, `misp:…`, a file name).
    pub feed: String,
    /// The object in that feed (STIX id, MISP attribute uuid, CSV line).
    pub object_id: Option<String>,
}

/// One threat indicator: a normalised observable with its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// What the value is.
    pub kind: IndicatorType,
    /// The normalised value (see [`normalize::normalize`]).
    pub value: String,
    /// 0–100; the highest any source gave.
    pub confidence: u8,
    /// The most restrictive TLP any source gave.
    pub tlp: Option<Tlp>,
    /// Other marking-definition ids and statements.
    pub markings: BTreeSet<String>,
    /// Valid from (earliest over sources).
    pub valid_from: Option<Timestamp>,
    /// Valid until (latest over sources; `None` = open-ended).
    pub valid_until: Option<Timestamp>,
    /// Labels and tags.
    pub labels: BTreeSet<String>,
    /// Kill-chain phases.
    pub kill_chain: BTreeSet<KillChainPhase>,
    /// ATT&CK technique ids (`T1059.001`).
    pub techniques: BTreeSet<String>,
    /// Names of related threat actors, intrusion sets, malware, campaigns.
    pub related: BTreeSet<String>,
    /// Every source that asserted it.
    pub provenance: BTreeSet<Provenance>,
    /// First seen.
    pub first_seen: Option<Timestamp>,
    /// Last seen.
    pub last_seen: Option<Timestamp>,
    /// Sightings reported by sources (the highest count any source gave;
    /// sightings Vigil records itself are counted by the store).
    pub sightings: u64,
}

impl Indicator {
    /// A new indicator of `kind` from a raw value (refanged and normalised),
    /// with confidence 50 and one provenance.
    pub fn new(
        kind: IndicatorType,
        raw: &str,
        feed: &str,
        object_id: Option<&str>,
    ) -> Result<Self> {
        let (kind, value) = normalize::normalize(kind, raw)?;
        let mut provenance = BTreeSet::new();
        provenance.insert(Provenance {
            feed: feed.to_string(),
            object_id: object_id.map(str::to_string),
        });
        Ok(Self {
            kind,
            value,
            confidence: 50,
            tlp: None,
            markings: BTreeSet::new(),
            valid_from: None,
            valid_until: None,
            labels: BTreeSet::new(),
            kill_chain: BTreeSet::new(),
            techniques: BTreeSet::new(),
            related: BTreeSet::new(),
            provenance,
            first_seen: None,
            last_seen: None,
            sightings: 0,
        })
    }

    /// True if valid at `now`: `valid_from <= now` (when set) and
    /// `now < valid_until` (when set).
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| f <= now) && self.valid_until.is_none_or(|u| now < u)
    }

    /// Merges another assertion of the same type + value into this one;
    /// returns true if anything changed. Idempotent: merging the same
    /// indicator twice changes nothing the second time.
    pub fn merge(&mut self, o: &Indicator) -> bool {
        let before = self.clone();
        self.confidence = self.confidence.max(o.confidence);
        self.tlp = match (self.tlp, o.tlp) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.markings.extend(o.markings.iter().cloned());
        self.valid_from = min_opt(self.valid_from, o.valid_from);
        self.valid_until = match (self.valid_until, o.valid_until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        self.labels.extend(o.labels.iter().cloned());
        self.kill_chain.extend(o.kill_chain.iter().cloned());
        self.techniques.extend(o.techniques.iter().cloned());
        self.related.extend(o.related.iter().cloned());
        self.provenance.extend(o.provenance.iter().cloned());
        self.first_seen = min_opt(self.first_seen, o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        self.sightings = self.sightings.max(o.sightings);
        *self != before
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Index of an indicator in its [`IndicatorSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndicatorId(pub u32);

/// What a merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MergeStats {
    /// New indicators.
    pub added: usize,
    /// Existing indicators that gained something.
    pub updated: usize,
    /// Existing indicators that were already up to date.
    pub unchanged: usize,
}

/// All indicators, one per type + value. Ids are stable while the set only
/// grows ([`IndicatorSet::retain`] renumbers).
#[derive(Debug, Default, Clone)]
pub struct IndicatorSet {
    items: Vec<Indicator>,
    by_key: FxHashMap<(IndicatorType, Box<str>), u32>,
}

impl IndicatorSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds or merges one indicator; returns its id and whether it was new,
    /// changed or unchanged (as a [`MergeStats`] with one count).
    pub fn insert(&mut self, ind: Indicator) -> (IndicatorId, MergeStats) {
        let mut st = MergeStats::default();
        let key = (ind.kind, Box::<str>::from(ind.value.as_str()));
        if let Some(&i) = self.by_key.get(&key) {
            if let Some(cur) = self.items.get_mut(i as usize) {
                if cur.merge(&ind) {
                    st.updated = 1;
                } else {
                    st.unchanged = 1;
                }
            }
            return (IndicatorId(i), st);
        }
        let i = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.by_key.insert(key, i);
        self.items.push(ind);
        st.added = 1;
        (IndicatorId(i), st)
    }

    /// Adds or merges many.
    pub fn merge(&mut self, inds: impl IntoIterator<Item = Indicator>) -> MergeStats {
        let mut st = MergeStats::default();
        for i in inds {
            let (_, s) = self.insert(i);
            st.added += s.added;
            st.updated += s.updated;
            st.unchanged += s.unchanged;
        }
        st
    }

    /// The indicator with id `id`.
    pub fn get(&self, id: IndicatorId) -> Option<&Indicator> {
        self.items.get(id.0 as usize)
    }

    /// Finds an indicator by type and raw value (normalised first).
    pub fn find(&self, kind: IndicatorType, raw: &str) -> Option<(IndicatorId, &Indicator)> {
        let (kind, v) = normalize::normalize(kind, raw).ok()?;
        let i = *self.by_key.get(&(kind, Box::from(v.as_str())))?;
        Some((IndicatorId(i), self.items.get(i as usize)?))
    }

    /// All indicators with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (IndicatorId, &Indicator)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, x)| (IndicatorId(i as u32), x))
    }

    /// Keeps only the indicators for which `keep` is true, returning those
    /// removed. Ids are renumbered.
    pub fn retain(&mut self, mut keep: impl FnMut(&Indicator) -> bool) -> Vec<Indicator> {
        let (kept, removed): (Vec<_>, Vec<_>) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|i| keep(i));
        self.by_key.clear();
        for ind in kept {
            self.insert(ind);
        }
        removed
    }

    /// Counts per type.
    pub fn counts(&self) -> std::collections::BTreeMap<IndicatorType, usize> {
        let mut m = std::collections::BTreeMap::new();
        for i in &self.items {
            *m.entry(i.kind).or_default() += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_from_two_feeds_is_one_indicator() {
        let mut set = IndicatorSet::new();
        let mut a =
            Indicator::new(IndicatorType::Domain, "Evil[.]com", "feed-a", Some("x")).unwrap();
        a.tlp = Some(Tlp::Green);
        let mut b =
            Indicator::new(IndicatorType::Domain, "evil.com.", "feed-b", Some("y")).unwrap();
        b.tlp = Some(Tlp::Amber);
        b.confidence = 80;
        let s1 = set.merge([a.clone(), b.clone()]);
        assert_eq!((s1.added, s1.updated), (1, 1));
        let s2 = set.merge([a, b]);
        assert_eq!((s2.added, s2.updated, s2.unchanged), (0, 0, 2));
        let (_, ind) = set.find(IndicatorType::Domain, "EVIL.COM").unwrap();
        assert_eq!(ind.provenance.len(), 2);
        // records serialise for the store and read back unchanged
        let json = serde_json::to_string(ind).unwrap();
        assert!(
            json.contains("\"kind\":\"domain\"") && json.contains("\"tlp\":\"amber\""),
            "{json}"
        );
        let back: Indicator = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, ind);
        assert_eq!(ind.tlp, Some(Tlp::Amber));
        assert_eq!(ind.confidence, 80);
    }
}

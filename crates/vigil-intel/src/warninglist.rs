//! MISP warninglists: known-benign values (public DNS resolvers, cloud
//! ranges, top sites, …) that suppress indicators before they are indexed.
//! Types `string` (exact), `substring`, `hostname` (the name or a parent),
//! `cidr` (contained in a listed network) and `regex`; `matching_attributes`
//! restricts a list to the MISP attribute types it names.

use std::net::IpAddr;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::index::Lpm;
use crate::indicator::{Indicator, IndicatorSet, IndicatorType};
use crate::normalize;
use crate::{Error, Result};

/// Entries of one list, by matching kind.
#[derive(Debug, Clone)]
enum Entries {
    Strings(FxHashSet<String>),
    Substrings(Vec<String>),
    Hostnames(FxHashSet<String>),
    Cidr { v4: Lpm<u32>, v6: Lpm<u128> },
    Regex(Vec<regex::Regex>),
}

/// One warninglist.
#[derive(Debug, Clone)]
pub struct Warninglist {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: u64,
    /// Indicator types it applies to (`None`: all; the list had no
    /// `matching_attributes`).
    pub applies_to: Option<Vec<IndicatorType>>,
    entries: Entries,
    len: usize,
}

/// An indicator removed because a warninglist lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    /// The indicator's type.
    pub kind: IndicatorType,
    /// Its value.
    pub value: String,
    /// The warninglist's name.
    pub list: String,
}

/// MISP attribute type names → our indicator types.
fn misp_types(attr: &str) -> &'static [IndicatorType] {
    use IndicatorType as T;
    const IP: &[T] = &[T::Ipv4, T::Ipv6, T::Ipv4Cidr, T::Ipv6Cidr];
    match attr {
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" | "ip" => IP,
        "domain|ip" => &[T::Domain, T::Ipv4, T::Ipv6, T::Ipv4Cidr, T::Ipv6Cidr],
        "domain" => &[T::Domain],
        "hostname" | "hostname|port" => &[T::Hostname],
        "url" | "uri" | "link" => &[T::Url],
        "email" | "email-src" | "email-dst" | "target-email" => &[T::Email],
        "md5" | "filename|md5" => &[T::Md5],
        "sha1" | "filename|sha1" => &[T::Sha1],
        "sha256" | "filename|sha256" => &[T::Sha256],
        "sha512" | "filename|sha512" => &[T::Sha512],
        "filename" => &[T::FileName],
        "user-agent" => &[T::UserAgent],
        "ja3-fingerprint-md5" => &[T::Ja3],
        "regkey" | "regkey|value" => &[T::RegistryKey],
        "vulnerability" => &[T::Cve],
        _ => &[],
    }
}

/// Most entries accepted in one list.
pub const MAX_ENTRIES: usize = 5_000_000;

impl Warninglist {
    /// Parses a MISP warninglist `list.json` (gzip or not).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let data = crate::decode_input(bytes, crate::DEFAULT_MAX_DECOMPRESSED)?;
        let doc: Value =
            serde_json::from_slice(&data).map_err(|e| Error::json("warninglist", &e))?;
        let name = doc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("unnamed")
            .to_string();
        let version = doc.get("version").and_then(Value::as_u64).unwrap_or(0);
        let kind = doc.get("type").and_then(Value::as_str).unwrap_or("string");
        let Some(list) = doc.get("list").and_then(Value::as_array) else {
            return Err(Error::shape("warninglist", "no `list` array"));
        };
        if list.len() > MAX_ENTRIES {
            return Err(Error::shape("warninglist", "too many entries"));
        }
        let items = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let mut applies_to = None;
        if let Some(m) = doc.get("matching_attributes").and_then(Value::as_array)
            && !m.is_empty()
        {
            let applies_to = applies_to.get_or_insert_with(Vec::new);
            for a in m.iter().filter_map(Value::as_str) {
                for t in misp_types(a) {
                    if !applies_to.contains(t) {
                        applies_to.push(*t);
                    }
                }
            }
        }
        let entries = match kind {
            "string" => Entries::Strings(items.map(str::to_lowercase).collect()),
            "substring" => Entries::Substrings(items.map(str::to_lowercase).collect()),
            "hostname" => Entries::Hostnames(
                items
                    .map(|s| {
                        s.trim_start_matches("*.")
                            .trim_matches('.')
                            .to_ascii_lowercase()
                    })
                    .collect(),
            ),
            "cidr" => {
                let mut v4 = Lpm::default();
                let mut v6 = Lpm::default();
                for s in items {
                    let net = match s.parse::<ipnet::IpNet>() {
                        Ok(n) => n,
                        Err(_) => match s.parse::<IpAddr>() {
                            Ok(ip) => ipnet::IpNet::from(ip),
                            Err(_) => continue,
                        },
                    };
                    match net {
                        ipnet::IpNet::V4(n) => v4.insert(u32::from(n.network()), n.prefix_len(), 0),
                        ipnet::IpNet::V6(n) => {
                            v6.insert(u128::from(n.network()), n.prefix_len(), 0)
                        }
                    }
                }
                Entries::Cidr { v4, v6 }
            }
            "regex" => {
                let mut v = Vec::new();
                for s in items {
                    let (body, ci) = match s.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
                        Some((b, flags)) => (b, flags.contains('i')),
                        None => (s, false),
                    };
                    let re = regex::RegexBuilder::new(body)
                        .case_insensitive(ci)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| {
                            Error::Config(format!("warninglist {name}: regex {s:?}: {e}"))
                        })?;
                    v.push(re);
                }
                Entries::Regex(v)
            }
            other => {
                return Err(Error::Config(format!(
                    "warninglist {name}: unknown type {other:?}"
                )));
            }
        };
        Ok(Self {
            name,
            version,
            applies_to,
            len: list.len(),
            entries,
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if the list names this normalised value of `kind`.
    pub fn contains(&self, kind: IndicatorType, value: &str) -> bool {
        if self.applies_to.as_ref().is_some_and(|a| !a.contains(&kind)) {
            return false;
        }
        use IndicatorType as T;
        match &self.entries {
            Entries::Strings(s) => s.contains(value) || s.contains(&value.to_lowercase()),
            Entries::Substrings(v) => {
                let l = value.to_lowercase();
                v.iter().any(|e| l.contains(e.as_str()))
            }
            Entries::Regex(v) => v.iter().any(|r| r.is_match(value)),
            Entries::Hostnames(h) => {
                let host = match kind {
                    T::Domain | T::Hostname => Some(value),
                    T::Url => normalize::url_host(value),
                    T::Email => value.rsplit_once('@').map(|(_, d)| d),
                    _ => None,
                };
                let Some(host) = host else { return false };
                let host = host.to_ascii_lowercase();
                let mut rest = host.as_str();
                loop {
                    if h.contains(rest) {
                        return true;
                    }
                    match rest.split_once('.') {
                        Some((_, r)) if !r.is_empty() => rest = r,
                        _ => return false,
                    }
                }
            }
            Entries::Cidr { v4, v6 } => {
                let (addr, len) = match kind {
                    T::Ipv4 | T::Ipv6 => match value.parse::<IpAddr>() {
                        Ok(ip) => (ip, if ip.is_ipv4() { 32 } else { 128 }),
                        Err(_) => return false,
                    },
                    T::Ipv4Cidr | T::Ipv6Cidr => match value.parse::<ipnet::IpNet>() {
                        Ok(n) => (n.network(), n.prefix_len()),
                        Err(_) => return false,
                    },
                    T::Url => {
                        match normalize::url_host(value).and_then(|h| h.parse::<IpAddr>().ok()) {
                            Some(ip) => (ip, 128),
                            None => return false,
                        }
                    }
                    _ => return false,
                };
                match addr {
                    IpAddr::V4(a) => v4.lookup(u32::from(a), len).is_some(),
                    IpAddr::V6(a) => v6.lookup(u128::from(a), len).is_some(),
                }
            }
        }
    }
}

/// A set of warninglists.
#[derive(Debug, Clone, Default)]
pub struct Warninglists {
    lists: Vec<Warninglist>,
}

impl Warninglists {
    /// No lists.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a list.
    pub fn add(&mut self, list: Warninglist) {
        self.lists.push(list);
    }

    /// The lists.
    pub fn lists(&self) -> &[Warninglist] {
        &self.lists
    }

    /// The first list naming the indicator's value.
    pub fn check(&self, ind: &Indicator) -> Option<&Warninglist> {
        self.lists.iter().find(|l| l.contains(ind.kind, &ind.value))
    }

    /// Removes listed indicators from `set`; returns what was removed and by
    /// which list. Ids of `set` are renumbered.
    pub fn suppress(&self, set: &mut IndicatorSet) -> Vec<Suppressed> {
        let mut out = Vec::new();
        set.retain(|i| match self.check(i) {
            Some(l) => {
                out.push(Suppressed {
                    kind: i.kind,
                    value: i.value.clone(),
                    list: l.name.clone(),
                });
                false
            }
            None => true,
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorType as T;

    fn wl(kind: &str, items: &[&str], attrs: &[&str]) -> Warninglist {
        let doc = serde_json::json!({"name": kind, "version": 1, "type": kind, "list": items, "matching_attributes": attrs});
        Warninglist::parse(doc.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn kinds() {
        let c = wl("cidr", &["8.8.8.0/24", "2001:4860::/32"], &["ip-dst"]);
        assert!(c.contains(T::Ipv4, "8.8.8.8"));
        assert!(c.contains(T::Ipv4Cidr, "8.8.8.128/25"));
        assert!(!c.contains(T::Ipv4Cidr, "8.8.0.0/16"));
        assert!(c.contains(T::Ipv6, "2001:4860::8888"));
        assert!(!c.contains(T::Domain, "8.8.8.8"));
        let h = wl("hostname", &["google.com", ".microsoft.com"], &[]);
        assert!(h.contains(T::Domain, "mail.google.com"));
        assert!(h.contains(T::Url, "https://update.microsoft.com/x"));
        assert!(!h.contains(T::Domain, "notgoogle.com"));
        let s = wl("string", &["Example.com"], &["domain"]);
        assert!(s.contains(T::Domain, "example.com") && !s.contains(T::Hostname, "example.com"));
        let sub = wl("substring", &["amazonaws"], &[]);
        assert!(sub.contains(T::Domain, "x.s3.amazonaws.com"));
        let r = wl("regex", &["/^evil[0-9]+\\.test$/i"], &[]);
        assert!(r.contains(T::Domain, "EVIL42.test"));
        assert!(Warninglist::parse(br#"{"name":"x","type":"bogus","list":[]}"#).is_err());
    }
}

//! The compact in-memory match index: observable → [`IndicatorId`], nothing
//! else (full records live in the [`IndicatorSet`] or the store).
//!
//! - IPv4/IPv6 addresses: exact hash maps keyed by the address as integer.
//! - CIDRs: one hash map per prefix length present, probed longest first
//!   (longest-prefix match in at most 33 / 129 probes, usually a handful).
//! - Domains: a 64-bit hash of the lower-cased name; a lookup probes the
//!   name and each parent (`a.b.evil.com`, `b.evil.com`, `evil.com`, `com`),
//!   so a subdomain of a listed domain matches. Host names match exactly.
//! - Hashes: fixed-size binary keys (16/20/32/64 bytes).
//! - URLs and other strings: a 64-bit hash of the normalised value, seeded
//!   by the type. Two different values share a hash with probability about
//!   n / 2^64 per lookup (1 in 10^13 for a million indicators); a hit can be
//!   confirmed against the full record.

use std::net::IpAddr;

use rustc_hash::FxHashMap;
use vigil_model::Timestamp;

use crate::hash::hash_lower;
use crate::indicator::{IndicatorId, IndicatorSet, IndicatorType};
use crate::normalize;

/// Longest-prefix match over networks of one family.
#[derive(Debug, Default, Clone)]
pub(crate) struct Lpm<K> {
    /// Prefix lengths present, longest first.
    lens: Vec<u8>,
    /// One map per prefix length (`maps[len]`).
    maps: Vec<FxHashMap<K, u32>>,
    /// For IPv4: one bit per /16, set when some listed network overlaps it,
    /// so most misses cost one bit test instead of a probe per length.
    buckets: Vec<u64>,
}

pub(crate) trait Bits: Copy + Eq + std::hash::Hash + Default {
    const BITS: u8;
    fn mask(self, len: u8) -> Self;
    /// The /16 bucket range a network covers (IPv4 only).
    fn buckets(self, _len: u8) -> Option<(usize, usize)> {
        None
    }
    /// The /16 bucket of an address (IPv4 only).
    fn bucket(self) -> Option<usize> {
        None
    }
}

impl Bits for u32 {
    const BITS: u8 = 32;
    fn mask(self, len: u8) -> Self {
        if len == 0 {
            0
        } else {
            self & (u32::MAX << (32 - u32::from(len)))
        }
    }
}

impl Bits for u128 {
    const BITS: u8 = 128;
    fn mask(self, len: u8) -> Self {
        if len == 0 {
            0
        } else {
            self & (u128::MAX << (128 - u32::from(len)))
        }
    }
}

impl<K: Bits> Lpm<K> {
    pub(crate) fn insert(&mut self, net: K, len: u8, id: u32) {
        let len = len.min(K::BITS);
        if self.maps.is_empty() {
            self.maps = (0..=K::BITS).map(|_| FxHashMap::default()).collect();
        }
        if !self.lens.contains(&len) {
            self.lens.push(len);
            self.lens.sort_unstable_by(|a, b| b.cmp(a));
        }
        if let Some(m) = self.maps.get_mut(usize::from(len)) {
            m.entry(net.mask(len)).or_insert(id);
        }
        if let Some((first, count)) = net.buckets(len) {
            if self.buckets.is_empty() {
                self.buckets = vec![0; 1 << 10];
            }
            for b in first..(first + count).min(1 << 16) {
                if let Some(w) = self.buckets.get_mut(b >> 6) {
                    *w |= 1 << (b & 63);
                }
            }
        }
    }

    /// The most specific network containing `addr`, with prefix length at
    /// most `max_len`.
    pub(crate) fn lookup(&self, addr: K, max_len: u8) -> Option<u32> {
        if let Some(b) = addr.bucket()
            && self
                .buckets
                .get(b >> 6)
                .is_none_or(|w| w & (1 << (b & 63)) == 0)
        {
            return None;
        }
        for &len in &self.lens {
            if len > max_len {
                continue;
            }
            if let Some(id) = self
                .maps
                .get(usize::from(len))
                .and_then(|m| m.get(&addr.mask(len)))
            {
                return Some(*id);
            }
        }
        None
    }

    fn len(&self) -> usize {
        self.maps.iter().map(FxHashMap::len).sum()
    }

    fn shrink(&mut self) {
        self.maps.iter_mut().for_each(FxHashMap::shrink_to_fit);
    }
}

/// Seeds of the string-hash keys, one per type.
const fn seed(kind: IndicatorType) -> u64 {
    kind as u64 + 1
}

/// The match index. Build it from an [`IndicatorSet`] (or insert values one
/// by one), then look observables up; every lookup is allocation-free for
/// IPs, ASCII domains and hashes.
#[derive(Debug, Default, Clone)]
pub struct MatchIndex {
    v4: FxHashMap<u32, u32>,
    v6: FxHashMap<u128, u32>,
    v4_nets: Lpm<u32>,
    v6_nets: Lpm<u128>,
    domains: FxHashMap<u64, u32>,
    /// True when a single-label domain (`com`) is listed: only then is the
    /// last label probed on its own.
    single_label: bool,
    hosts: FxHashMap<u64, u32>,
    md5: FxHashMap<[u8; 16], u32>,
    sha1: FxHashMap<[u8; 20], u32>,
    sha256: FxHashMap<[u8; 32], u32>,
    sha512: FxHashMap<[u8; 64], u32>,
    strings: FxHashMap<u64, u32>,
}

fn hex_decode<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        let h = hexval(s[2 * i])?;
        let l = hexval(s[2 * i + 1])?;
        *o = (h << 4) | l;
    }
    Some(out)
}

#[inline]
fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl MatchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes every indicator of `set`.
    pub fn build(set: &IndicatorSet) -> Self {
        let mut ix = Self::new();
        for (id, ind) in set.iter() {
            ix.insert(ind.kind, &ind.value, id);
        }
        ix.shrink();
        ix
    }

    /// Indexes the indicators of `set` valid at `now` (past `valid_until`
    /// or before `valid_from` they do not match).
    pub fn build_at(set: &IndicatorSet, now: Timestamp) -> Self {
        let mut ix = Self::new();
        for (id, ind) in set.iter().filter(|(_, i)| i.is_valid_at(now)) {
            ix.insert(ind.kind, &ind.value, id);
        }
        ix.shrink();
        ix
    }

    /// Indexes the indicators of `set` active at `now` under `model`: valid
    /// and scoring at least its threshold (see [`crate::decay`]).
    pub fn build_active(set: &IndicatorSet, now: Timestamp, model: &crate::DecayModel) -> Self {
        let mut ix = Self::new();
        for (id, ind) in set.iter().filter(|(_, i)| model.is_active(i, now)) {
            ix.insert(ind.kind, &ind.value, id);
        }
        ix.shrink();
        ix
    }

    /// True when [`insert`](Self::insert) would index `value` (it fits its
    /// type: an address, a network, a hash of the right length).
    pub fn accepts(&self, kind: IndicatorType, value: &str) -> bool {
        use IndicatorType as T;
        let b = value.as_bytes();
        match kind {
            T::Ipv4 | T::Ipv6 => value.parse::<IpAddr>().is_ok(),
            T::Ipv4Cidr | T::Ipv6Cidr => value.parse::<ipnet::IpNet>().is_ok(),
            T::Md5 => hex_decode::<16>(b).is_some(),
            T::Sha1 => hex_decode::<20>(b).is_some(),
            T::Sha256 => hex_decode::<32>(b).is_some(),
            T::Sha512 => hex_decode::<64>(b).is_some(),
            _ => true,
        }
    }

    /// Indexes one normalised value (as produced by
    /// [`normalize::normalize`]). Returns false if the value does not fit
    /// its type (it is then not indexed). The first id inserted for a key
    /// wins.
    pub fn insert(&mut self, kind: IndicatorType, value: &str, id: IndicatorId) -> bool {
        use IndicatorType as T;
        let id = id.0;
        let b = value.as_bytes();
        match kind {
            T::Ipv4 | T::Ipv6 => match value.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) => {
                    self.v4.entry(u32::from(a)).or_insert(id);
                }
                Ok(IpAddr::V6(a)) => {
                    self.v6.entry(u128::from(a)).or_insert(id);
                }
                Err(_) => return false,
            },
            T::Ipv4Cidr | T::Ipv6Cidr => match value.parse::<ipnet::IpNet>() {
                Ok(ipnet::IpNet::V4(n)) => {
                    self.v4_nets
                        .insert(u32::from(n.network()), n.prefix_len(), id)
                }
                Ok(ipnet::IpNet::V6(n)) => {
                    self.v6_nets
                        .insert(u128::from(n.network()), n.prefix_len(), id)
                }
                Err(_) => return false,
            },
            T::Domain => {
                self.domains
                    .entry(hash_lower(seed(T::Domain), b))
                    .or_insert(id);
            }
            T::Hostname => {
                self.hosts
                    .entry(hash_lower(seed(T::Domain), b))
                    .or_insert(id);
            }
            T::Md5 => match hex_decode::<16>(b) {
                Some(k) => {
                    self.md5.entry(k).or_insert(id);
                }
                None => return false,
            },
            T::Sha1 => match hex_decode::<20>(b) {
                Some(k) => {
                    self.sha1.entry(k).or_insert(id);
                }
                None => return false,
            },
            T::Sha256 => match hex_decode::<32>(b) {
                Some(k) => {
                    self.sha256.entry(k).or_insert(id);
                }
                None => return false,
            },
            T::Sha512 => match hex_decode::<64>(b) {
                Some(k) => {
                    self.sha512.entry(k).or_insert(id);
                }
                None => return false,
            },
            T::Url => {
                let key = normalize::url_key(value);
                self.strings
                    .entry(hash_lower(seed(T::Url), key.as_bytes()))
                    .or_insert(id);
            }
            _ => {
                self.strings.entry(hash_lower(seed(kind), b)).or_insert(id);
            }
        }
        true
    }

    /// Releases spare capacity after building.
    pub fn shrink(&mut self) {
        self.v4.shrink_to_fit();
        self.v6.shrink_to_fit();
        self.v4_nets.shrink();
        self.v6_nets.shrink();
        self.domains.shrink_to_fit();
        self.hosts.shrink_to_fit();
        self.md5.shrink_to_fit();
        self.sha1.shrink_to_fit();
        self.sha256.shrink_to_fit();
        self.sha512.shrink_to_fit();
        self.strings.shrink_to_fit();
    }

    /// Heap bytes held by the index's tables (capacity × (entry + control
    /// byte), as hashbrown lays them out).
    pub fn heap_bytes(&self) -> usize {
        fn t<K, V>(m: &FxHashMap<K, V>) -> usize {
            let cap = m.capacity();
            if cap == 0 {
                return 0;
            }
            // buckets are a power of two ≥ cap·8/7; one control byte each + 16
            let buckets = (cap * 8 / 7).next_power_of_two();
            buckets * (std::mem::size_of::<(K, V)>() + 1) + 16
        }
        t(&self.v4)
            + t(&self.v6)
            + self.v4_nets.maps.iter().map(t).sum::<usize>()
            + self.v6_nets.maps.iter().map(t).sum::<usize>()
            + t(&self.domains)
            + t(&self.hosts)
            + t(&self.md5)
            + t(&self.sha1)
            + t(&self.sha256)
            + t(&self.sha512)
            + t(&self.strings)
    }

    /// Number of indexed keys.
    pub fn len(&self) -> usize {
        self.v4.len()
            + self.v6.len()
            + self.v4_nets.len()
            + self.v6_nets.len()
            + self.domains.len()
            + self.hosts.len()
            + self.md5.len()
            + self.sha1.len()
            + self.sha256.len()
            + self.sha512.len()
            + self.strings.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An IP address: exact first, then the most specific listed network.
    #[inline]
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<IndicatorId> {
        match ip {
            IpAddr::V4(a) => {
                let k = u32::from(a);
                self.v4
                    .get(&k)
                    .copied()
                    .or_else(|| self.v4_nets.lookup(k, 32))
            }
            IpAddr::V6(a) => {
                if let Some(m) = a.to_ipv4_mapped() {
                    return self.lookup_ip(IpAddr::V4(m));
                }
                let k = u128::from(a);
                self.v6
                    .get(&k)
                    .copied()
                    .or_else(|| self.v6_nets.lookup(k, 128))
            }
        }
        .map(IndicatorId)
    }

    /// Text that may be an IP address (`-`, empty and junk give `None`).
    #[inline]
    pub fn lookup_ip_str(&self, s: &str) -> Option<IndicatorId> {
        if self.v4.is_empty()
            && self.v6.is_empty()
            && self.v4_nets.lens.is_empty()
            && self.v6_nets.lens.is_empty()
        {
            return None;
        }
        let s = s.trim();
        let s = s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(s);
        s.parse::<IpAddr>().ok().and_then(|ip| self.lookup_ip(ip))
    }

    /// A host name: listed as a host name exactly, or it or a parent listed
    /// as a domain. Case and a trailing dot do not matter; non-ASCII names
    /// are converted to punycode first.
    pub fn lookup_domain(&self, name: &str) -> Option<IndicatorId> {
        if self.domains.is_empty() && self.hosts.is_empty() {
            return None;
        }
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() {
            return None;
        }
        if !name.is_ascii() {
            let a = idna::domain_to_ascii(name).ok()?;
            return self.lookup_domain_ascii(&a);
        }
        self.lookup_domain_ascii(name)
    }

    #[inline]
    fn lookup_domain_ascii(&self, name: &str) -> Option<IndicatorId> {
        let b = name.as_bytes();
        let s = seed(IndicatorType::Domain);
        let full = hash_lower(s, b);
        if let Some(id) = self.hosts.get(&full).or_else(|| self.domains.get(&full)) {
            return Some(IndicatorId(*id));
        }
        if self.domains.is_empty() {
            return None;
        }
        let mut i = 0;
        while let Some(dot) = memchr_dot(&b[i..]) {
            i += dot + 1;
            if i >= b.len() || (!self.single_label && memchr_dot(&b[i..]).is_none()) {
                break;
            }
            if let Some(id) = self.domains.get(&hash_lower(s, &b[i..])) {
                return Some(IndicatorId(*id));
            }
        }
        None
    }

    /// A file hash as hex text of the given type.
    #[inline]
    pub fn lookup_hash(&self, kind: IndicatorType, hex: &str) -> Option<IndicatorId> {
        let b = hex.trim().as_bytes();
        match kind {
            IndicatorType::Md5 => self.md5.get(&hex_decode::<16>(b)?),
            IndicatorType::Sha1 => self.sha1.get(&hex_decode::<20>(b)?),
            IndicatorType::Sha256 => self.sha256.get(&hex_decode::<32>(b)?),
            IndicatorType::Sha512 => self.sha512.get(&hex_decode::<64>(b)?),
            _ => None,
        }
        .copied()
        .map(IndicatorId)
    }

    /// A hash of unknown type, typed by its length.
    #[inline]
    pub fn lookup_any_hash(&self, hex: &str) -> Option<IndicatorId> {
        let kind = match hex.trim().len() {
            32 => IndicatorType::Md5,
            40 => IndicatorType::Sha1,
            64 => IndicatorType::Sha256,
            128 => IndicatorType::Sha512,
            _ => return None,
        };
        self.lookup_hash(kind, hex)
    }

    /// A URL, canonicalised first; the scheme does not take part (nor does
    /// letter case: keys are hashed lower-cased).
    pub fn lookup_url(&self, url: &str) -> Option<IndicatorId> {
        if self.strings.is_empty() {
            return None;
        }
        if let Some(key) = canonical_url_key(url) {
            return self
                .strings
                .get(&hash_lower(seed(IndicatorType::Url), key.as_bytes()))
                .copied()
                .map(IndicatorId);
        }
        let canon = normalize::normalize_url(&normalize::refang(url)).ok()?;
        let key = normalize::url_key(&canon);
        self.strings
            .get(&hash_lower(seed(IndicatorType::Url), key.as_bytes()))
            .copied()
            .map(IndicatorId)
    }

    /// A value of a string-keyed type (email, file name, user agent, JA3,
    /// JA4, registry key, CVE), normalised first.
    pub fn lookup_str(&self, kind: IndicatorType, raw: &str) -> Option<IndicatorId> {
        if self.strings.is_empty() {
            return None;
        }
        use IndicatorType as T;
        let h = match kind {
            T::FileName => {
                let n = normalize::basename(raw.trim());
                if n.is_ascii() {
                    hash_lower(seed(kind), n.as_bytes())
                } else {
                    hash_lower(seed(kind), n.to_lowercase().as_bytes())
                }
            }
            T::Ja3 | T::Ja4 => hash_lower(seed(kind), raw.trim().as_bytes()),
            T::UserAgent => hash_lower(seed(kind), raw.trim().as_bytes()),
            T::Url => return self.lookup_url(raw),
            _ => {
                let (_, v) = normalize::normalize(kind, raw).ok()?;
                hash_lower(seed(kind), v.as_bytes())
            }
        };
        self.strings.get(&h).copied().map(IndicatorId)
    }

    /// Any value of a given indicator type.
    pub fn lookup(&self, kind: IndicatorType, raw: &str) -> Option<IndicatorId> {
        use IndicatorType as T;
        match kind {
            T::Ipv4 | T::Ipv6 | T::Ipv4Cidr | T::Ipv6Cidr => self.lookup_ip_str(raw),
            T::Domain | T::Hostname => self.lookup_domain(&normalize::refang(raw)),
            T::Md5 | T::Sha1 | T::Sha256 | T::Sha512 => self.lookup_hash(kind, raw),
            _ => self.lookup_str(kind, raw),
        }
    }
}

/// The match key of an `http(s)://` URL that is already canonical up to
/// letter case (no fragment, userinfo, default port, defanging or odd
/// characters), without allocating; `None` sends the URL the slow way.
fn canonical_url_key(url: &str) -> Option<&str> {
    let b = url.as_bytes();
    let (rest, default_port) = if b.len() > 8 && b[..8].eq_ignore_ascii_case(b"https://") {
        (&url[8..], "443")
    } else if b.len() > 7 && b[..7].eq_ignore_ascii_case(b"http://") {
        (&url[7..], "80")
    } else {
        return None;
    };
    if !url.bytes().all(|c| {
        c.is_ascii_graphic()
            && !matches!(
                c,
                b'#' | b'[' | b']' | b'(' | b')' | b'{' | b'}' | b'\\' | b'@'
            )
    }) {
        return None;
    }
    let slash = rest.find('/')?;
    let authority = &rest[..slash];
    if authority.contains('?') {
        return None;
    }
    let host = match authority.split_once(':') {
        Some((h, p)) => {
            if p.is_empty() || p == default_port || !p.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            h
        }
        None => authority,
    };
    if host.is_empty()
        || host.len() > 253
        || !host.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        || !host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_')
    {
        return None;
    }
    Some(rest)
}

#[inline]
fn memchr_dot(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::Indicator;
    use IndicatorType as T;

    fn index(vals: &[(T, &str)]) -> (IndicatorSet, MatchIndex) {
        let mut set = IndicatorSet::new();
        for (k, v) in vals {
            set.insert(Indicator::new(*k, v, "t", None).unwrap());
        }
        let ix = MatchIndex::build(&set);
        (set, ix)
    }

    #[test]
    fn lookups() {
        let (set, ix) = index(&[
            (T::Ipv4, "198.51.100.7"),
            (T::Ipv4, "10.0.0.0/8"),
            (T::Ipv4, "10.1.0.0/16"),
            (T::Ipv6, "2001:db8::/32"),
            (T::Domain, "evil.com"),
            (T::Hostname, "only.example.org"),
            (T::Sha256, &"AB".repeat(32)),
            (T::Url, "hxxp://Bad.example/x?y=1"),
            (T::FileName, "EVIL.exe"),
            (T::Email, "a@b.example"),
            (T::RegistryKey, "HKEY_LOCAL_MACHINE\\Software\\Evil"),
        ]);
        let v = |id: Option<IndicatorId>| id.and_then(|i| set.get(i)).map(|i| i.value.clone());
        assert_eq!(
            v(ix.lookup_ip_str("198.51.100.7")).as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(
            v(ix.lookup_ip_str("10.1.2.3")).as_deref(),
            Some("10.1.0.0/16")
        );
        assert_eq!(
            v(ix.lookup_ip_str("10.2.2.3")).as_deref(),
            Some("10.0.0.0/8")
        );
        assert_eq!(
            v(ix.lookup_ip_str("::ffff:10.2.2.3")).as_deref(),
            Some("10.0.0.0/8")
        );
        assert_eq!(
            v(ix.lookup_ip_str("2001:db8:1::5")).as_deref(),
            Some("2001:db8::/32")
        );
        assert!(ix.lookup_ip_str("11.0.0.1").is_none() && ix.lookup_ip_str("-").is_none());
        assert_eq!(
            v(ix.lookup_domain("A.B.Evil.COM.")).as_deref(),
            Some("evil.com")
        );
        assert!(ix.lookup_domain("notevil.com").is_none());
        assert!(ix.lookup_domain("x.only.example.org").is_none());
        assert!(ix.lookup_domain("only.example.org").is_some());
        assert!(ix.lookup_hash(T::Sha256, &"ab".repeat(32)).is_some());
        assert!(ix.lookup_any_hash(&"AB".repeat(32)).is_some());
        assert!(ix.lookup_url("https://bad.example:443/x?y=1#f").is_some());
        assert!(ix.lookup_url("https://bad.example/x?y=2").is_none());
        assert!(ix.lookup_str(T::FileName, "C:\\Temp\\evil.EXE").is_some());
        assert!(ix.lookup_str(T::Email, "A@B.example").is_some());
        assert!(
            ix.lookup_str(T::RegistryKey, "HKLM\\SOFTWARE\\Evil")
                .is_some()
        );
        assert_eq!(ix.len(), 11);
    }

    /// The allocation-free URL key agrees with full canonicalisation.
    #[test]
    fn fast_url_key_agrees() {
        for u in [
            "http://Evil.example/a/B?c=1",
            "HTTPS://evil.example:8443/x",
            "https://evil.example:443/x",
            "http://evil.example",
            "http://evil.example?x",
            "http://evil.example./x",
            "http://u:p@evil.example/x",
            "http://evil.example/x#f",
            "hxxp://evil[.]example/x",
            "http://1.2.3.4/x",
            "ftp://evil.example/x",
            "http://ex ample.com/x",
            "http://a..b/x",
        ] {
            let slow = normalize::normalize_url(&normalize::refang(u)).ok();
            let slow_key = slow
                .as_deref()
                .map(|c| normalize::url_key(c).to_ascii_lowercase());
            if let Some(fast) = canonical_url_key(u) {
                assert_eq!(Some(fast.to_ascii_lowercase()), slow_key, "{u}");
            }
        }
        assert!(canonical_url_key("http://Evil.example/a").is_some());
        assert!(canonical_url_key("https://evil.example:443/x").is_none());
    }
}

//! Looking one value up: `vigil intel lookup VALUE` and the lookup API
//! normalise (refang) the value, guess its type, and ask the store for the
//! exact indicator plus every stored indicator that would match it in an
//! event — the parent domains of a host name, the CIDRs holding an address,
//! the scheme-less form of a URL.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Error, Result};
use crate::indicator::IndicatorType;
use crate::normalize::{self, guess_type, refang};

/// The stored `(type, value)` keys to fetch for one looked-up value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupKeys {
    /// The value's type (given or guessed).
    pub kind: IndicatorType,
    /// The normalised value.
    pub value: String,
    /// Exact keys: the value itself, then what else matches it.
    pub keys: Vec<(IndicatorType, String)>,
    /// For addresses: stored CIDRs must be checked for containment.
    pub ip: Option<IpAddr>,
}

/// Keys for `raw` (refanged; type guessed unless `kind` is given). Errors
/// when the type cannot be guessed or the value is not a valid one.
pub fn lookup_keys(raw: &str, kind: Option<IndicatorType>) -> Result<LookupKeys> {
    let kind = match kind {
        Some(k) => k,
        None => guess_type(raw).ok_or_else(|| {
            Error::Config(format!(
                "cannot tell the type of {:?}; pass the type explicitly",
                refang(raw)
            ))
        })?,
    };
    let (kind, value) = normalize::normalize(kind, raw)?;
    use IndicatorType as T;
    let mut keys = vec![(kind, value.clone())];
    let mut ip = None;
    match kind {
        T::Ipv4 | T::Ipv6 => ip = value.parse().ok(),
        T::Domain | T::Hostname => {
            // The exact host, then every parent domain (a subdomain of a
            // listed domain matches).
            let other = if kind == T::Domain {
                T::Hostname
            } else {
                T::Domain
            };
            keys.push((other, value.clone()));
            let mut rest = value.as_str();
            while let Some((_, parent)) = rest.split_once('.') {
                if !parent.is_empty() {
                    keys.push((T::Domain, parent.to_string()));
                }
                rest = parent;
            }
        }
        T::Url => {
            let bare = normalize::url_key(&value);
            if bare != value {
                keys.push((T::Url, bare.to_string()));
            }
            if let Some(host) = normalize::url_host(&value) {
                if let Ok(addr) = host.parse::<IpAddr>() {
                    let t = if addr.is_ipv4() { T::Ipv4 } else { T::Ipv6 };
                    keys.push((t, addr.to_string()));
                    ip = Some(addr);
                } else if let Ok(sub) = lookup_keys(host, Some(T::Domain)) {
                    keys.extend(sub.keys);
                }
            }
        }
        T::Email => {
            if let Some((_, d)) = value.rsplit_once('@')
                && let Ok(sub) = lookup_keys(d, Some(T::Domain))
            {
                keys.extend(sub.keys);
            }
        }
        _ => {}
    }
    keys.dedup();
    Ok(LookupKeys {
        kind,
        value,
        keys,
        ip,
    })
}

/// True when the stored CIDR `net` (e.g. `10.0.0.0/8`) holds `ip`.
pub fn cidr_contains(net: &str, ip: IpAddr) -> bool {
    net.parse::<IpNet>().is_ok_and(|n| n.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, want_kind: &str, want: &[&str]) {
        let k = lookup_keys(raw, None).expect("keys");
        assert_eq!(k.kind.as_str(), want_kind);
        let got: Vec<String> = k.keys.iter().map(|(t, v)| format!("{t}:{v}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn refangs_and_expands() {
        check(
            "www[.]Evil(dot)example",
            "domain",
            &[
                "domain:www.evil.example",
                "hostname:www.evil.example",
                "domain:evil.example",
                "domain:example",
            ],
        );
        check("203.0.113[.]7", "ipv4", &["ipv4:203.0.113.7"]);
        check(
            "hxxp://evil.example/a",
            "url",
            &[
                "url:http://evil.example/a",
                "url:evil.example/a",
                "domain:evil.example",
                "hostname:evil.example",
                "domain:example",
            ],
        );
        let k = lookup_keys("2001:DB8::1", None).expect("v6");
        assert_eq!(k.value, "2001:db8::1");
        assert!(cidr_contains("2001:db8::/32", k.ip.expect("ip")));
        assert!(!cidr_contains("10.0.0.0/8", k.ip.expect("ip")));
        assert!(lookup_keys("!!!", None).is_err());
    }
}

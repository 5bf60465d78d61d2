//! The egress guard: which outbound HTTP destinations a playbook may reach.
//!
//! A request is allowed only when its host is on the allowlist (a host name,
//! a `*.suffix` pattern, or an address range) **and** every address the name
//! resolves to is acceptable. Loopback, link-local (which holds the cloud
//! metadata service 169.254.169.254), private (RFC 1918, unique-local),
//! shared (CGNAT), unspecified, multicast, broadcast and documentation
//! ranges are denied unless an allowlisted range covers the address
//! explicitly: allowlisting a *name* never lets it resolve to an internal
//! address (no DNS rebinding). IPv4-mapped IPv6 addresses are judged as the
//! IPv4 address they carry.
//!
//! The guard does no I/O: the caller resolves the name through its
//! [`Resolver`] (injectable, so tests need no DNS) and connects only to the
//! addresses [`Guard::check`] returns.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Resolves a host name to addresses. The binary implements it with the
/// system resolver; tests with a fixed table.
pub trait Resolver {
    /// Addresses of `host` (no port). An empty list means "does not resolve".
    fn resolve(&self, host: &str) -> std::io::Result<Vec<IpAddr>>;
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    /// Exactly this host name (lower case, no trailing dot).
    Host(String),
    /// This domain and every subdomain (`*.example.com`).
    Suffix(String),
    /// An address range; also lets addresses in special ranges through.
    Net(IpNet),
}

impl Allow {
    /// Parses `hooks.example.com`, `*.example.com`, `203.0.113.7`,
    /// `10.0.0.0/8` or `::1`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Config("empty egress allowlist entry".into()));
        }
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Self::Net(net.trunc()));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self::Net(IpNet::from(ip)));
        }
        let (suffix, name) = match s.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(Error::Config(format!(
                "egress allowlist entry {s:?} is neither a host name, `*.domain`, an address nor a CIDR range"
            )));
        }
        Ok(if suffix {
            Self::Suffix(name)
        } else {
            Self::Host(name)
        })
    }
}

/// Why an address is special (denied unless explicitly allowlisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialRange {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16, fe80::/10 (holds the metadata service).
    LinkLocal,
    /// The cloud metadata service (169.254.169.254, fd00:ec2::254).
    Metadata,
    /// RFC 1918, fc00::/7.
    Private,
    /// 100.64.0.0/10 (carrier-grade NAT).
    Shared,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// Multicast and broadcast.
    Multicast,
    /// 192.0.0.0/24, 198.18.0.0/15, documentation and reserved ranges.
    Reserved,
}

impl SpecialRange {
    /// Short name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Metadata => "cloud metadata service",
            Self::Private => "private",
            Self::Shared => "shared (CGNAT)",
            Self::Unspecified => "unspecified",
            Self::Multicast => "multicast/broadcast",
            Self::Reserved => "reserved",
        }
    }
}

/// The special range `ip` falls in, if any.
pub fn classify(ip: IpAddr) -> Option<SpecialRange> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        return Some(SpecialRange::Metadata);
    }
    if ip.is_loopback() {
        Some(SpecialRange::Loopback)
    } else if ip.is_link_local() {
        Some(SpecialRange::LinkLocal)
    } else if ip.is_private() {
        Some(SpecialRange::Private)
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some(SpecialRange::Shared)
    } else if o[0] == 0 {
        Some(SpecialRange::Unspecified)
    } else if ip.is_multicast() || ip.is_broadcast() {
        Some(SpecialRange::Multicast)
    } else if ip.is_documentation()
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240
    {
        Some(SpecialRange::Reserved)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<SpecialRange> {
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(SpecialRange::Metadata);
    }
    if ip.is_loopback() {
        Some(SpecialRange::Loopback)
    } else if ip.is_unspecified() {
        Some(SpecialRange::Unspecified)
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some(SpecialRange::LinkLocal)
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some(SpecialRange::Private)
    } else if ip.is_multicast() {
        Some(SpecialRange::Multicast)
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some(SpecialRange::Reserved)
    } else if s[0] == 0x64 && s[1] == 0xff9b {
        // NAT64 carries an IPv4 address in its low 32 bits: judge that.
        let v4 = Ipv4Addr::new(
            (s[6] >> 8) as u8,
            (s[6] & 0xff) as u8,
            (s[7] >> 8) as u8,
            (s[7] & 0xff) as u8,
        );
        classify_v4(v4)
    } else {
        None
    }
}

/// Serialisable form of the guard's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Allowlist entries (see [`Allow::parse`]). By default, empty: no
    /// outbound request is allowed.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Allow plain `http://` (default: false, only `https://`).
    #[serde(default)]
    pub allow_http: bool,
}

/// A destination the guard accepted: connect only to these addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// The parsed URL.
    pub url: url::Url,
    /// Host as written in the URL (what goes into `Host:` and TLS SNI).
    pub host: String,
    /// Addresses to connect to (the resolved ones, port applied).
    pub addrs: Vec<SocketAddr>,
}

/// The egress guard.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<Allow>,
    allow_http: bool,
}

impl Guard {
    /// Builds the guard; an invalid entry is an error naming it.
    pub fn new(config: &GuardConfig) -> Result<Self> {
        let allow = config
            .allow
            .iter()
            .map(|s| Allow::parse(s))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            allow,
            allow_http: config.allow_http,
        })
    }

    fn name_allowed(&self, host: &str) -> bool {
        self.allow.iter().any(|a| match a {
            Allow::Host(h) => h == host,
            Allow::Suffix(s) => {
                host == s
                    || (host.len() > s.len()
                        && host.ends_with(s.as_str())
                        && host.as_bytes()[host.len() - s.len() - 1] == b'.')
            }
            Allow::Net(_) => false,
        })
    }

    fn net_allowed(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.allow.iter().any(|a| match a {
            Allow::Net(n) => n.contains(&ip),
            _ => false,
        })
    }

    /// Checks `url` and resolves its host; returns the addresses to connect
    /// to, or an error that says what was refused and how to allow it.
    pub fn check(&self, url: &str, resolver: &dyn Resolver) -> Result<Cleared> {
        let parsed =
            url::Url::parse(url).map_err(|e| Error::Egress(format!("{url:?}: not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(Error::Egress(format!(
                    "{url}: plain http is not allowed (set allow_http in the egress settings)"
                )));
            }
            other => {
                return Err(Error::Egress(format!(
                    "{url}: scheme {other:?} is not allowed (http or https only)"
                )));
            }
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::Egress(format!(
                "{}: credentials in the URL are not allowed; reference a secret instead",
                redact(&parsed)
            )));
        }
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| Error::Egress(format!("{url}: no port")))?;
        let (host, literal) = match parsed.host() {
            Some(url::Host::Domain(d)) => (d.trim_end_matches('.').to_ascii_lowercase(), None),
            Some(url::Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
            Some(url::Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
            None => return Err(Error::Egress(format!("{url}: no host"))),
        };
        let addrs = self.addresses(url, &host, literal, resolver)?;
        Ok(Cleared {
            host,
            addrs: addrs
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
            url: parsed,
        })
    }

    /// Checks a mail relay (or any non-HTTP endpoint) `host:port` the same
    /// way as a URL's host: allowlist, special ranges after resolution.
    /// Returns the socket addresses to connect to.
    pub fn check_host(
        &self,
        host: &str,
        port: u16,
        resolver: &dyn Resolver,
    ) -> Result<Vec<SocketAddr>> {
        let bare = host.trim().trim_start_matches('[').trim_end_matches(']');
        let label = format!("smtp://{host}:{port}");
        if bare.is_empty() {
            return Err(Error::Egress(format!("{label}: no host")));
        }
        let (name, literal) = match bare.parse::<IpAddr>() {
            Ok(ip) => (ip.to_string(), Some(ip)),
            Err(_) => (bare.trim_end_matches('.').to_ascii_lowercase(), None),
        };
        let addrs = self.addresses(&label, &name, literal, resolver)?;
        Ok(addrs
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect())
    }

    /// The addresses of `host` (`literal` when it is one) if the allowlist
    /// and the special ranges let them through; `url` labels the errors.
    fn addresses(
        &self,
        url: &str,
        host: &str,
        literal: Option<IpAddr>,
        resolver: &dyn Resolver,
    ) -> Result<Vec<IpAddr>> {
        let addrs = match literal {
            Some(ip) => {
                if !self.net_allowed(ip) {
                    return Err(Error::Egress(format!(
                        "{url}: address {ip} is not on the egress allowlist"
                    )));
                }
                vec![ip]
            }
            None => {
                if !self.name_allowed(host)
                    && !self.allow.iter().any(|a| matches!(a, Allow::Net(_)))
                {
                    return Err(Error::Egress(format!(
                        "{url}: host {host} is not on the egress allowlist"
                    )));
                }
                let ips = resolver
                    .resolve(host)
                    .map_err(|e| Error::Egress(format!("{url}: cannot resolve {host}: {e}")))?;
                if ips.is_empty() {
                    return Err(Error::Egress(format!("{url}: {host} has no address")));
                }
                let by_name = self.name_allowed(host);
                for ip in &ips {
                    let by_net = self.net_allowed(*ip);
                    if !by_name && !by_net {
                        return Err(Error::Egress(format!(
                            "{url}: host {host} is not on the egress allowlist (it resolves to {ip})"
                        )));
                    }
                    if let Some(class) = classify(*ip)
                        && !by_net
                    {
                        return Err(Error::Egress(format!(
                            "{url}: {host} resolves to {ip}, a {} address; list the address or its range in the egress allowlist to allow it",
                            class.as_str()
                        )));
                    }
                }
                ips
            }
        };
        for ip in &addrs {
            if let Some(class) = classify(*ip)
                && !self.net_allowed(*ip)
            {
                return Err(Error::Egress(format!(
                    "{url}: {ip} is a {} address; list it in the egress allowlist to allow it",
                    class.as_str()
                )));
            }
        }
        Ok(addrs)
    }
}

fn redact(u: &url::Url) -> String {
    let mut u = u.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Table(HashMap<&'static str, Vec<IpAddr>>);
    impl Resolver for Table {
        fn resolve(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
            Ok(self.0.get(host).cloned().unwrap_or_default())
        }
    }

    fn resolver() -> Table {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        Table(HashMap::from([
            ("hooks.example.com", vec![ip("34.117.59.81")]),
            ("api.partner.net", vec![ip("52.1.2.3")]),
            ("rebind.example.com", vec![ip("127.0.0.1")]),
            ("meta.example.com", vec![ip("169.254.169.254")]),
            (
                "mixed.example.com",
                vec![ip("93.184.216.34"), ip("10.1.2.3")],
            ),
            ("public.example.com", vec![ip("93.184.216.34")]),
            ("mapped.example.com", vec![ip("::ffff:192.168.1.1")]),
        ]))
    }

    fn guard(allow: &[&str]) -> Guard {
        Guard::new(&GuardConfig {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            allow_http: true,
        })
        .unwrap()
    }

    fn check(g: &Guard, url: &str) -> std::result::Result<Vec<String>, String> {
        g.check(url, &resolver())
            .map(|c| c.addrs.iter().map(|a| a.to_string()).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn classification() {
        let c = |s: &str| classify(s.parse().unwrap());
        assert_eq!(c("169.254.169.254"), Some(SpecialRange::Metadata));
        assert_eq!(c("169.254.1.1"), Some(SpecialRange::LinkLocal));
        assert_eq!(c("127.0.0.2"), Some(SpecialRange::Loopback));
        assert_eq!(c("10.0.0.1"), Some(SpecialRange::Private));
        assert_eq!(c("172.16.5.4"), Some(SpecialRange::Private));
        assert_eq!(c("192.168.0.1"), Some(SpecialRange::Private));
        assert_eq!(c("100.64.0.1"), Some(SpecialRange::Shared));
        assert_eq!(c("0.0.0.0"), Some(SpecialRange::Unspecified));
        assert_eq!(c("255.255.255.255"), Some(SpecialRange::Multicast));
        assert_eq!(c("::1"), Some(SpecialRange::Loopback));
        assert_eq!(c("fe80::1"), Some(SpecialRange::LinkLocal));
        assert_eq!(c("fd12::1"), Some(SpecialRange::Private));
        assert_eq!(c("::ffff:127.0.0.1"), Some(SpecialRange::Loopback));
        assert_eq!(c("64:ff9b::a9fe:a9fe"), Some(SpecialRange::Metadata));
        assert_eq!(c("fd00:ec2::254"), Some(SpecialRange::Metadata));
        assert_eq!(c("93.184.216.34"), None);
        assert_eq!(c("2606:4700::1111"), None);
    }

    #[test]
    fn allowlisted_name_with_public_address_passes() {
        let g = guard(&["hooks.example.com", "*.partner.net"]);
        assert_eq!(
            check(&g, "https://hooks.example.com/x").unwrap(),
            ["34.117.59.81:443"]
        );
        assert_eq!(
            check(&g, "https://API.partner.net./y").unwrap(),
            ["52.1.2.3:443"]
        );
    }

    #[test]
    fn names_off_the_list_are_refused() {
        let g = guard(&["hooks.example.com"]);
        let e = check(&g, "https://public.example.com/").unwrap_err();
        assert!(e.contains("not on the egress allowlist"), "{e}");
        // A suffix entry does not match a longer label that merely ends with it.
        let g = guard(&["*.example.com"]);
        assert!(check(&g, "https://evilexample.com/").is_err());
    }

    #[test]
    fn metadata_service_is_refused_even_by_literal_address() {
        let g = guard(&["hooks.example.com"]);
        let e = check(&g, "http://169.254.169.254/latest/meta-data/").unwrap_err();
        assert!(e.contains("169.254.169.254"), "{e}");
        // Allowlisting a wide public range does not cover it either.
        let g = guard(&["0.0.0.0/1"]);
        assert!(check(&g, "http://169.254.169.254/").is_err());
    }

    #[test]
    fn allowlisted_name_resolving_inward_is_refused() {
        let g = guard(&["*.example.com"]);
        let e = check(&g, "https://rebind.example.com/").unwrap_err();
        assert!(e.contains("loopback"), "{e}");
        let e = check(&g, "https://meta.example.com/").unwrap_err();
        assert!(e.contains("metadata"), "{e}");
        // One bad address among several refuses the whole name.
        let e = check(&g, "https://mixed.example.com/").unwrap_err();
        assert!(e.contains("10.1.2.3") && e.contains("private"), "{e}");
        let e = check(&g, "https://mapped.example.com/").unwrap_err();
        assert!(e.contains("private"), "{e}");
    }

    #[test]
    fn explicitly_listed_internal_range_is_allowed() {
        let g = guard(&["127.0.0.1/32"]);
        assert_eq!(
            check(&g, "http://127.0.0.1:8080/hook").unwrap(),
            ["127.0.0.1:8080"]
        );
        assert!(check(&g, "http://127.0.0.2:8080/hook").is_err());
        let g = guard(&["*.example.com", "127.0.0.0/8"]);
        assert_eq!(
            check(&g, "https://rebind.example.com/").unwrap(),
            ["127.0.0.1:443"]
        );
        let g = guard(&["::1"]);
        assert_eq!(check(&g, "http://[::1]:9/").unwrap(), ["[::1]:9"]);
    }

    #[test]
    fn schemes_and_credentials() {
        let g = Guard::new(&GuardConfig {
            allow: vec!["hooks.example.com".into()],
            allow_http: false,
        })
        .unwrap();
        assert!(
            check(&g, "http://hooks.example.com/")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(
            check(&g, "file:///etc/passwd")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            check(&g, "gopher://hooks.example.com/")
                .unwrap_err()
                .contains("scheme")
        );
        let e = check(&g, "https://user:pw@hooks.example.com/").unwrap_err();
        assert!(e.contains("credentials") && !e.contains("pw"), "{e}");
        assert!(check(&g, "not a url").is_err());
    }

    #[test]
    fn empty_allowlist_refuses_everything() {
        let g = guard(&[]);
        assert!(check(&g, "https://hooks.example.com/").is_err());
        assert!(check(&g, "https://93.184.216.34/").is_err());
    }

    #[test]
    fn bad_entries_are_named() {
        let e = Guard::new(&GuardConfig {
            allow: vec!["exa mple.com".into()],
            allow_http: false,
        })
        .unwrap_err();
        assert!(e.to_string().contains("exa mple.com"));
    }

    #[test]
    fn mail_relays_pass_the_same_checks() {
        let g = guard(&["hooks.example.com", "127.0.0.1/32"]);
        let r = resolver();
        let ok = |h: &str, p: u16| {
            g.check_host(h, p, &r)
                .map(|a| a.iter().map(|x| x.to_string()).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        assert_eq!(ok("hooks.example.com", 587).unwrap(), ["34.117.59.81:587"]);
        assert_eq!(ok("127.0.0.1", 2525).unwrap(), ["127.0.0.1:2525"]);
        // A listed name that resolves to loopback is still refused.
        let named = guard(&["rebind.example.com"]);
        let e = named
            .check_host("rebind.example.com", 25, &r)
            .unwrap_err()
            .to_string();
        assert!(e.contains("smtp://rebind.example.com:25"), "{e}");
        assert!(e.contains("loopback"), "{e}");
        let e = ok("169.254.169.254", 25).unwrap_err();
        assert!(e.contains("not on the egress allowlist"), "{e}");
        let e = ok("public.example.com", 25).unwrap_err();
        assert!(e.contains("not on the egress allowlist"), "{e}");
        assert!(ok("", 25).is_err());
    }
}

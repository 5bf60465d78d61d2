//! Normalisation of indicator values: refanging, lower-case domains, IDN to
//! punycode, URL canonicalisation, hash length checks, IP/CIDR canonical
//! forms. Both sides of a match go through the same rules, so
//! `hxxps://Evil[.]COM/a#frag` and `https://evil.com/a` are one indicator.

use std::net::IpAddr;

use crate::indicator::IndicatorType;
use crate::{Error, Result};

/// Longest value accepted for any indicator (bytes).
pub const MAX_VALUE_LEN: usize = 8192;

/// Undoes the usual defanging: `hxxp://`, `hXXps://`, `[.]`, `(.)`, `{.}`,
/// `[dot]`, `(dot)`, ` dot `, `[@]`, `(at)`, `[at]`, `[:]`, `[://]`.
pub fn refang(s: &str) -> String {
    let t = s.trim();
    let mut out = String::with_capacity(t.len());
    let lower = t.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut i = 0;
    // scheme
    for (from, to) in [("hxxps", "https"), ("hxxp", "http"), ("fxp", "ftp")] {
        if lower.starts_with(from) && lower[from.len()..].starts_with([':', '[']) {
            out.push_str(to);
            i = from.len();
            break;
        }
    }
    const SUBS: &[(&str, &str)] = &[
        ("[://]", "://"),
        ("[:]", ":"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("{dot}", "."),
        (" [dot] ", "."),
        (" dot ", "."),
        ("[@]", "@"),
        ("(@)", "@"),
        ("[at]", "@"),
        ("(at)", "@"),
        (" at ", "@"),
        ("[/]", "/"),
    ];
    'outer: while i < t.len() {
        for (from, to) in SUBS {
            if b[i..].starts_with(from.as_bytes()) {
                // " dot " / " at " only between label characters
                if from.starts_with(' ') && out.is_empty() {
                    continue;
                }
                out.push_str(to);
                i += from.len();
                continue 'outer;
            }
        }
        let Some(ch) = t[i..].chars().next() else {
            break;
        };
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Normalises `raw` (already refanged or not) as an indicator of `kind`.
/// Returns the canonical value and the kind, which can change between
/// address and CIDR (`10.0.0.1/32` is an address, `10.0.0.1/24` becomes the
/// network `10.0.0.0/24`).
pub fn normalize(kind: IndicatorType, raw: &str) -> Result<(IndicatorType, String)> {
    if raw.len() > MAX_VALUE_LEN {
        return Err(Error::value(kind.as_str(), raw, "value too long"));
    }
    let v = refang(raw);
    if v.is_empty() {
        return Err(Error::value(kind.as_str(), raw, "empty value"));
    }
    use IndicatorType as T;
    match kind {
        T::Ipv4 | T::Ipv6 | T::Ipv4Cidr | T::Ipv6Cidr => normalize_ip(kind, &v),
        T::Domain | T::Hostname => Ok((kind, normalize_domain(kind, &v)?)),
        T::Url => Ok((kind, normalize_url(&v)?)),
        T::Email => normalize_email(&v).map(|e| (kind, e)),
        T::Md5 | T::Sha1 | T::Sha256 | T::Sha512 | T::Ja3 => {
            let want = match kind {
                T::Md5 | T::Ja3 => 32,
                T::Sha1 => 40,
                T::Sha256 => 64,
                _ => 128,
            };
            let h = v.to_ascii_lowercase();
            if h.len() != want {
                return Err(Error::value(kind.as_str(), raw, "wrong hash length"));
            }
            if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(Error::value(kind.as_str(), raw, "not hexadecimal"));
            }
            Ok((kind, h))
        }
        T::Ja4 => {
            let h = v.to_ascii_lowercase();
            if !h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') || h.len() < 10 {
                return Err(Error::value(kind.as_str(), raw, "not a JA4 fingerprint"));
            }
            Ok((kind, h))
        }
        T::FileName => {
            // Windows file names are case-insensitive: compare lower-cased.
            let n = basename(&v).to_lowercase();
            if n.is_empty() {
                return Err(Error::value(kind.as_str(), raw, "empty file name"));
            }
            Ok((kind, n))
        }
        T::UserAgent => Ok((kind, raw.trim().to_string())),
        T::RegistryKey => Ok((kind, normalize_registry(raw.trim()))),
        T::Cve => {
            let u = v.to_ascii_uppercase();
            let ok = u
                .strip_prefix("CVE-")
                .and_then(|r| r.split_once('-'))
                .is_some_and(|(y, n)| {
                    y.len() == 4
                        && y.bytes().all(|c| c.is_ascii_digit())
                        && n.len() >= 4
                        && n.bytes().all(|c| c.is_ascii_digit())
                });
            if !ok {
                return Err(Error::value(kind.as_str(), raw, "not CVE-YYYY-NNNN"));
            }
            Ok((kind, u))
        }
    }
}

fn normalize_ip(kind: IndicatorType, v: &str) -> Result<(IndicatorType, String)> {
    use IndicatorType as T;
    if let Some((addr, len)) = v.split_once('/') {
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| Error::value(kind.as_str(), v, "not an IP address"))?;
        let len: u8 = len
            .trim()
            .parse()
            .map_err(|_| Error::value(kind.as_str(), v, "bad prefix length"))?;
        let net = ipnet::IpNet::new(ip, len)
            .map_err(|_| Error::value(kind.as_str(), v, "bad prefix length"))?
            .trunc();
        return Ok(match net {
            ipnet::IpNet::V4(n) if n.prefix_len() == 32 => (T::Ipv4, n.addr().to_string()),
            ipnet::IpNet::V6(n) if n.prefix_len() == 128 => (T::Ipv6, n.addr().to_string()),
            ipnet::IpNet::V4(n) => (T::Ipv4Cidr, n.to_string()),
            ipnet::IpNet::V6(n) => (T::Ipv6Cidr, n.to_string()),
        });
    }
    let ip: IpAddr = v
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| Error::value(kind.as_str(), v, "not an IP address"))?;
    Ok(match ip {
        IpAddr::V4(a) => (T::Ipv4, a.to_string()),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(m) => (T::Ipv4, m.to_string()),
            None => (T::Ipv6, a.to_string()),
        },
    })
}

/// Lower-cases, strips a trailing dot, converts IDN labels to punycode and
/// checks the label syntax loosely (underscores are allowed: they occur in
/// real malicious hostnames).
pub fn normalize_domain(kind: IndicatorType, v: &str) -> Result<String> {
    let v = v.trim().trim_end_matches('.');
    let ascii = if v.is_ascii() {
        v.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(v).map_err(|_| Error::value(kind.as_str(), v, "invalid IDN"))?
    };
    if ascii.is_empty() || ascii.len() > 253 {
        return Err(Error::value(kind.as_str(), v, "bad domain length"));
    }
    for label in ascii.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Error::value(kind.as_str(), v, "empty or long label"));
        }
        if !label
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'*')
        {
            return Err(Error::value(kind.as_str(), v, "invalid character"));
        }
    }
    Ok(ascii)
}

/// Canonical URL: scheme and host lower-cased (host to punycode), default
/// port removed, empty path made `/`, fragment dropped; path and query kept
/// as given. A URL without a scheme is kept without one.
pub fn normalize_url(v: &str) -> Result<String> {
    let v = v.trim();
    let (scheme, rest) = match v.find("://") {
        Some(i)
            if i > 0
                && v[..i]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.') =>
        {
            (Some(v[..i].to_ascii_lowercase()), &v[i + 3..])
        }
        _ => (None, v),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let userinfo = &authority[..authority.len() - host_port.len()];
    let (host, port) = split_host_port(host_port);
    if host.is_empty() {
        return Err(Error::value("url", v, "no host"));
    }
    let host = if host.starts_with('[') {
        host.to_ascii_lowercase()
    } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
        host.to_string()
    } else {
        normalize_domain(IndicatorType::Url, host)?
    };
    let default_port = match scheme.as_deref() {
        Some("http") => Some("80"),
        Some("https") => Some("443"),
        Some("ftp") => Some("21"),
        _ => None,
    };
    let mut out = String::with_capacity(v.len() + 1);
    if let Some(s) = &scheme {
        out.push_str(s);
        out.push_str("://");
    }
    out.push_str(userinfo);
    out.push_str(&host);
    if let Some(p) = port
        && Some(p) != default_port
    {
        out.push(':');
        out.push_str(p);
    }
    if !path.starts_with('/') {
        out.push('/');
    }
    out.push_str(path);
    Ok(out)
}

fn split_host_port(hp: &str) -> (&str, Option<&str>) {
    if hp.starts_with('[') {
        return match hp.find(']') {
            Some(i) => (&hp[..=i], hp[i + 1..].strip_prefix(':')),
            None => (hp, None),
        };
    }
    match hp.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        Some((h, "")) => (h, None),
        _ => (hp, None),
    }
}

/// The match key of a canonical URL: without its scheme, so an indicator
/// listed as `evil.com/x` matches `http://evil.com/x` and `https://…`.
pub fn url_key(canonical: &str) -> &str {
    match canonical.find("://") {
        Some(i) => &canonical[i + 3..],
        None => canonical,
    }
}

/// The host part of a URL (lower-case not applied).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url_key(url.trim());
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let hp = auth.rsplit('@').next().unwrap_or(auth);
    let (h, _) = split_host_port(hp);
    let h = h.trim_start_matches('[').trim_end_matches(']');
    (!h.is_empty()).then_some(h)
}

fn normalize_email(v: &str) -> Result<String> {
    let v = v.trim().trim_start_matches("mailto:");
    let v = v.trim_start_matches('<').trim_end_matches('>');
    let Some((local, domain)) = v.rsplit_once('@') else {
        return Err(Error::value("email", v, "no @"));
    };
    if local.is_empty() {
        return Err(Error::value("email", v, "empty local part"));
    }
    let d = normalize_domain(IndicatorType::Email, domain)?;
    Ok(format!("{}@{d}", local.to_lowercase()))
}

/// The last path component (`\` or `/` separated).
pub fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Registry keys: lower-cased, hive names abbreviated (`HKEY_LOCAL_MACHINE`
/// → `hklm`), Sysmon's `\REGISTRY\MACHINE` form mapped too, no trailing `\`.
pub fn normalize_registry(v: &str) -> String {
    let l = v.trim().trim_end_matches('\\').to_lowercase();
    const HIVES: &[(&str, &str)] = &[
        ("hkey_local_machine", "hklm"),
        ("hkey_current_user", "hkcu"),
        ("hkey_users", "hku"),
        ("hkey_classes_root", "hkcr"),
        ("hkey_current_config", "hkcc"),
        ("\\registry\\machine", "hklm"),
        ("\\registry\\user", "hku"),
    ];
    for (long, short) in HIVES {
        if let Some(rest) = l.strip_prefix(long) {
            return format!("{short}{rest}");
        }
    }
    l
}

/// Guesses the indicator type of a bare value (plain-text lists without a
/// type column): IPs and CIDRs, hashes by length, URLs, emails, CVE ids,
/// registry keys, then domains.
pub fn guess_type(raw: &str) -> Option<IndicatorType> {
    use IndicatorType as T;
    let v = refang(raw);
    let v = v.as_str();
    if v.is_empty() {
        return None;
    }
    if let Some((a, _)) = v.split_once('/')
        && a.parse::<IpAddr>().is_ok()
    {
        return Some(if a.contains(':') {
            T::Ipv6Cidr
        } else {
            T::Ipv4Cidr
        });
    }
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(if ip.is_ipv4() { T::Ipv4 } else { T::Ipv6 });
    }
    if v.bytes().all(|c| c.is_ascii_hexdigit()) {
        match v.len() {
            32 => return Some(T::Md5),
            40 => return Some(T::Sha1),
            64 => return Some(T::Sha256),
            128 => return Some(T::Sha512),
            _ => {}
        }
    }
    if v.contains("://") {
        return Some(T::Url);
    }
    if v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("cve-")) && v.len() > 4 {
        return Some(T::Cve);
    }
    let l = v.to_ascii_lowercase();
    // A hive prefix alone is not enough: `hkbank.com` is a domain.
    if (l.starts_with("hk") && l.contains('\\')) || l.starts_with("\\registry\\") {
        return Some(T::RegistryKey);
    }
    if v.contains('@') && !v.contains('/') {
        return Some(T::Email);
    }
    if v.contains('/') {
        return Some(T::Url);
    }
    if v.contains('.') && normalize_domain(T::Domain, v).is_ok() {
        return Some(T::Domain);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorType as T;

    fn check(kind: T, raw: &str, want: &str) {
        let (k, v) = normalize(kind, raw).unwrap();
        let got = format!("{}:{v}", k.as_str());
        assert_eq!(got, want, "{raw}");
    }

    #[test]
    fn refanging() {
        assert_eq!(refang("hxxp://evil[.]com/a"), "http://evil.com/a");
        assert_eq!(refang("hXXps[://]a(dot)b{.}c"), "https://a.b.c");
        assert_eq!(refang("bad[@]evil[.]com"), "bad@evil.com");
        assert_eq!(refang(" 1[.]2[.]3[.]4 "), "1.2.3.4");
    }

    #[test]
    fn values() {
        check(T::Domain, "Evil[.]COM.", "domain:evil.com");
        check(T::Domain, "bücher.example", "domain:xn--bcher-kva.example");
        check(
            T::Url,
            "hxxps://Evil.COM:443/a?b=C#x",
            "url:https://evil.com/a?b=C",
        );
        check(T::Url, "HTTP://evil.com", "url:http://evil.com/");
        check(T::Url, "evil.com:8080/x", "url:evil.com:8080/x");
        check(T::Ipv4, "10.0.0.1/32", "ipv4:10.0.0.1");
        check(T::Ipv4, "10.0.0.1/24", "ipv4-cidr:10.0.0.0/24");
        check(T::Ipv6, "2001:DB8::0:1", "ipv6:2001:db8::1");
        check(T::Ipv6, "::ffff:1.2.3.4", "ipv4:1.2.3.4");
        check(
            T::Sha256,
            &"AB".repeat(32),
            &format!("sha256:{}", "ab".repeat(32)),
        );
        check(T::Email, "Bad[@]Evil[.]com", "email:bad@evil.com");
        check(
            T::RegistryKey,
            "HKEY_LOCAL_MACHINE\\Software\\Run\\",
            "registry-key:hklm\\software\\run",
        );
        check(T::FileName, "C:\\Windows\\EVIL.exe", "file-name:evil.exe");
        check(T::Cve, "cve-2021-44228", "cve:CVE-2021-44228");
        assert!(normalize(T::Md5, "abc").is_err());
        assert!(normalize(T::Sha1, &"g".repeat(40)).is_err());
        assert!(normalize(T::Domain, "a..b").is_err());
        assert!(normalize(T::Ipv4, "300.1.1.1").is_err());
    }

    /// Random text over a small alphabet with multi-byte characters never
    /// panics any normaliser.
    #[test]
    fn no_panic_on_odd_input() {
        let alphabet: Vec<char> = "ab.:/[]()@-_é😀 0\\|hxp%?#".chars().collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = guess_type(&s);
            let _ = url_host(&s);
            for k in IndicatorType::ALL {
                let _ = normalize(k, &s);
            }
            x = x.wrapping_add(1);
        }
    }

    #[test]
    fn guessing() {
        assert_eq!(guess_type("1.2.3.4"), Some(T::Ipv4));
        assert_eq!(guess_type("1.2.3.0/24"), Some(T::Ipv4Cidr));
        assert_eq!(guess_type(&"a".repeat(64)), Some(T::Sha256));
        assert_eq!(guess_type("evil[.]com"), Some(T::Domain));
        assert_eq!(guess_type("hxxp://e.com/x"), Some(T::Url));
        assert_eq!(guess_type("nothing"), None);
        // A domain starting with a hive prefix is still a domain (#5).
        assert_eq!(guess_type("hkbank.com"), Some(T::Domain));
        assert_eq!(guess_type(r"HKLM\Software\Run"), Some(T::RegistryKey));
        assert_eq!(url_host("https://u:p@Evil.com:8443/x"), Some("Evil.com"));
    }
}

//! Matching events against the [`MatchIndex`]: the observables of an event
//! (IPs, host names, URLs, hashes incl. Sysmon's `Hashes=`, file names, user
//! agents, TLS fingerprints, emails, registry keys) are looked up all at
//! once. Field names are resolved to [`FieldId`]s once, in
//! [`Matcher::new`]; matching allocates only for a hit.

use vigil_model::{Event, FieldId, FieldRegistry, Value};

use crate::index::MatchIndex;
use crate::indicator::{IndicatorId, IndicatorType};
use crate::normalize;

/// How the values of one field are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extract {
    Ip,
    Domain,
    Url,
    Hash(IndicatorType),
    SysmonHashes,
    /// Sysmon DNS `QueryResults`: `type:  5 cname.example;::ffff:1.2.3.4;`.
    QueryResults,
    FileName,
    Str(IndicatorType),
}

/// ECS and Sysmon field names and how they are looked up.
const FIELDS: &[(&str, Extract)] = &[
    ("source.ip", Extract::Ip),
    ("destination.ip", Extract::Ip),
    ("client.ip", Extract::Ip),
    ("server.ip", Extract::Ip),
    ("host.ip", Extract::Ip),
    ("related.ip", Extract::Ip),
    ("DestinationIp", Extract::Ip),
    ("SourceIp", Extract::Ip),
    ("dns.question.name", Extract::Domain),
    ("url.domain", Extract::Domain),
    ("destination.domain", Extract::Domain),
    ("source.domain", Extract::Domain),
    ("server.domain", Extract::Domain),
    ("client.domain", Extract::Domain),
    ("related.hosts", Extract::Domain),
    ("tls.server.sni", Extract::Domain),
    ("QueryName", Extract::Domain),
    ("DestinationHostname", Extract::Domain),
    ("QueryResults", Extract::QueryResults),
    ("url.full", Extract::Url),
    ("url.original", Extract::Url),
    ("file.hash.md5", Extract::Hash(IndicatorType::Md5)),
    ("file.hash.sha1", Extract::Hash(IndicatorType::Sha1)),
    ("file.hash.sha256", Extract::Hash(IndicatorType::Sha256)),
    ("file.hash.sha512", Extract::Hash(IndicatorType::Sha512)),
    ("process.hash.md5", Extract::Hash(IndicatorType::Md5)),
    ("process.hash.sha1", Extract::Hash(IndicatorType::Sha1)),
    ("process.hash.sha256", Extract::Hash(IndicatorType::Sha256)),
    ("process.hash.sha512", Extract::Hash(IndicatorType::Sha512)),
    (
        "process.parent.hash.sha256",
        Extract::Hash(IndicatorType::Sha256),
    ),
    ("dll.hash.sha256", Extract::Hash(IndicatorType::Sha256)),
    ("related.hash", Extract::SysmonHashes),
    ("Hashes", Extract::SysmonHashes),
    ("Hash", Extract::SysmonHashes),
    ("file.name", Extract::FileName),
    ("file.path", Extract::FileName),
    ("process.executable", Extract::FileName),
    ("Image", Extract::FileName),
    ("ImageLoaded", Extract::FileName),
    ("TargetFilename", Extract::FileName),
    (
        "user_agent.original",
        Extract::Str(IndicatorType::UserAgent),
    ),
    ("tls.client.ja3", Extract::Str(IndicatorType::Ja3)),
    ("tls.client.ja4", Extract::Str(IndicatorType::Ja4)),
    ("email.from.address", Extract::Str(IndicatorType::Email)),
    ("email.to.address", Extract::Str(IndicatorType::Email)),
    ("email.sender.address", Extract::Str(IndicatorType::Email)),
    ("email.reply_to.address", Extract::Str(IndicatorType::Email)),
    ("user.email", Extract::Str(IndicatorType::Email)),
    ("registry.path", Extract::Str(IndicatorType::RegistryKey)),
    ("registry.key", Extract::Str(IndicatorType::RegistryKey)),
    ("TargetObject", Extract::Str(IndicatorType::RegistryKey)),
    ("vulnerability.id", Extract::Str(IndicatorType::Cve)),
];

/// One indicator hit in an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The indicator (look its context up in the [`crate::IndicatorSet`]).
    pub indicator: IndicatorId,
    /// The field the observable came from.
    pub field: FieldId,
    /// The observable as it appeared in the event.
    pub observed: String,
}

/// Extracts observables from events and looks them up.
#[derive(Debug, Clone)]
pub struct Matcher {
    fields: Vec<(FieldId, Extract)>,
}

impl Matcher {
    /// Resolves the field names once (interning them in `registry`).
    pub fn new(registry: &FieldRegistry) -> Self {
        let mut fields: Vec<(FieldId, Extract)> = FIELDS
            .iter()
            .filter_map(|(name, ex)| Some((registry.intern(name)?, *ex)))
            .collect();
        fields.sort_by_key(|(f, _)| *f);
        Self { fields }
    }

    /// Number of fields looked at.
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Appends the matches of `event` to `out` (one per indicator; the first
    /// field that hit wins). Returns the number of lookups made.
    pub fn match_event(&self, index: &MatchIndex, event: &Event, out: &mut Vec<Match>) -> usize {
        let start = out.len();
        let mut lookups = 0;
        let mut hit = |id: Option<IndicatorId>, field: FieldId, s: &str, out: &mut Vec<Match>| {
            lookups += 1;
            if let Some(id) = id
                && !out[start..].iter().any(|m| m.indicator == id)
            {
                out.push(Match {
                    indicator: id,
                    field,
                    observed: s.to_string(),
                });
            }
        };
        // Both lists are sorted by FieldId: walk them together.
        let ev = event.fields();
        let mut j = 0;
        for &(field, ex) in &self.fields {
            while j < ev.len() && ev[j].0 < field {
                j += 1;
            }
            let mut k = j;
            while k < ev.len() && ev[k].0 == field {
                let Value::Str(s) = &ev[k].1 else {
                    k += 1;
                    continue;
                };
                let s: &str = s;
                k += 1;
                if s.is_empty() || s == "-" {
                    continue;
                }
                match ex {
                    Extract::Ip => hit(index.lookup_ip_str(s), field, s, out),
                    Extract::Domain => hit(index.lookup_domain(s), field, s, out),
                    Extract::Url => {
                        hit(index.lookup_url(s), field, s, out);
                        if let Some(h) = normalize::url_host(s) {
                            match h.parse::<std::net::IpAddr>() {
                                Ok(ip) => hit(index.lookup_ip(ip), field, s, out),
                                Err(_) => hit(index.lookup_domain(h), field, s, out),
                            }
                        }
                    }
                    Extract::Hash(kind) => hit(index.lookup_hash(kind, s), field, s, out),
                    Extract::SysmonHashes => {
                        for part in s.split(',') {
                            let v = part.split_once('=').map_or(part, |(_, v)| v);
                            if matches!(v.len(), 32 | 40 | 64 | 128) {
                                hit(index.lookup_any_hash(v), field, v, out);
                            }
                        }
                    }
                    Extract::QueryResults => {
                        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                            match part.strip_prefix("type:") {
                                Some(rest) => {
                                    if let Some(name) = rest.split_whitespace().last() {
                                        hit(index.lookup_domain(name), field, name, out);
                                    }
                                }
                                None => hit(index.lookup_ip_str(part), field, part, out),
                            }
                        }
                    }
                    Extract::FileName => {
                        hit(index.lookup_str(IndicatorType::FileName, s), field, s, out)
                    }
                    Extract::Str(kind) => hit(index.lookup_str(kind, s), field, s, out),
                }
            }
            j = k;
        }
        lookups
    }

    /// The matches of one event.
    pub fn matches(&self, index: &MatchIndex, event: &Event) -> Vec<Match> {
        let mut out = Vec::new();
        self.match_event(index, event, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::{Indicator, IndicatorSet};
    use crate::warninglist::{Warninglist, Warninglists};
    use vigil_model::{EventBuilder, EventFormat, TenantId, Timestamp};

    fn event(reg: &FieldRegistry, fields: &[(&str, &str)]) -> Event {
        let mut b = EventBuilder::new(
            TenantId::DEFAULT,
            Timestamp::from_secs(0),
            "test",
            EventFormat::Json,
            b"{}".to_vec(),
        );
        for (k, v) in fields {
            b.push(reg.intern(k).unwrap(), Value::Str((*v).into()));
        }
        b.build()
    }

    // See: issue 5 acceptance — listed IP, subdomain of a listed domain and
    // a SHA-256 in Sysmon `Hashes` give three matches; warninglisted none.
    #[test]
    fn three_matches_and_warninglisted_none() {
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let mut set = IndicatorSet::new();
        let mut ip = Indicator::new(
            IndicatorType::Ipv4,
            "203.0.113.9",
            "feed-a",
            Some("indicator--1"),
        )
        .unwrap();
        ip.confidence = 90;
        ip.related.insert("BadRAT".into());
        set.insert(ip);
        set.insert(
            Indicator::new(IndicatorType::Domain, "evil[.]example", "feed-b", None).unwrap(),
        );
        let mut h =
            Indicator::new(IndicatorType::Sha256, &sha.to_uppercase(), "feed-c", None).unwrap();
        h.techniques.insert("T1204.002".into());
        set.insert(h);
        set.insert(Indicator::new(IndicatorType::Ipv4, "8.8.8.8", "feed-a", None).unwrap());
        set.insert(
            Indicator::new(IndicatorType::Domain, "www.google.com", "feed-a", None).unwrap(),
        );

        let mut wl = Warninglists::new();
        wl.add(Warninglist::parse(br#"{"name":"public-dns","type":"cidr","list":["8.8.8.0/24"],"matching_attributes":["ip-dst"]}"#).unwrap());
        wl.add(
            Warninglist::parse(br#"{"name":"top-sites","type":"hostname","list":["google.com"]}"#)
                .unwrap(),
        );
        let suppressed = wl.suppress(&mut set);
        let names: Vec<_> = suppressed
            .iter()
            .map(|s| format!("{}:{}", s.list, s.value))
            .collect();
        assert_eq!(names, ["public-dns:8.8.8.8", "top-sites:www.google.com"]);

        let ix = MatchIndex::build(&set);
        let reg = FieldRegistry::new();
        let m = Matcher::new(&reg);
        let ev = event(
            &reg,
            &[
                ("DestinationIp", "203.0.113.9"),
                ("QueryName", "cdn.EVIL.example"),
                (
                    "Hashes",
                    &format!(
                        "SHA1=0000000000000000000000000000000000000000,MD5=00000000000000000000000000000000,SHA256={},IMPHASH=00000000000000000000000000000000",
                        sha.to_uppercase()
                    ),
                ),
                ("Image", "C:\\Windows\\notepad.exe"),
            ],
        );
        let got = m.matches(&ix, &ev);
        let ctx: Vec<String> = got
            .iter()
            .map(|x| {
                let i = set.get(x.indicator).unwrap();
                format!(
                    "{} {} conf={} feeds={:?} related={:?} techniques={:?}",
                    i.kind,
                    i.value,
                    i.confidence,
                    i.provenance
                        .iter()
                        .map(|p| p.feed.as_str())
                        .collect::<Vec<_>>(),
                    i.related,
                    i.techniques
                )
            })
            .collect();
        assert_eq!(ctx.len(), 3, "{ctx:#?}");
        assert!(
            ctx.contains(
                &"ipv4 203.0.113.9 conf=90 feeds=[\"feed-a\"] related={\"BadRAT\"} techniques={}"
                    .to_string()
            ),
            "{ctx:#?}"
        );
        assert!(ctx.iter().any(|c| c.starts_with("domain evil.example")));
        assert!(
            ctx.iter()
                .any(|c| c.starts_with(&format!("sha256 {sha}")) && c.contains("T1204.002"))
        );

        let dns = event(
            &reg,
            &[(
                "QueryResults",
                "type:  5 cdn.evil.example;::ffff:203.0.113.9;",
            )],
        );
        assert_eq!(m.matches(&ix, &dns).len(), 2);

        let benign = event(
            &reg,
            &[
                ("destination.ip", "8.8.8.8"),
                ("dns.question.name", "www.google.com"),
            ],
        );
        assert!(m.matches(&ix, &benign).is_empty());
    }
}

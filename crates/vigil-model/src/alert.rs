//! Alerts: what a detector raises, with a copy of the triggering event.

use serde::{Deserialize, Serialize};

use crate::{AlertId, Event, EventId, FieldId, FieldRegistry, Severity, TenantId, Timestamp};

/// The entity fields an alert is about, copied from the event's ECS fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    /// `host.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `user.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `source.ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `destination.ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_ip: Option<String>,
    /// The process: `process.executable`, else `process.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// `process.command_line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
    /// The file's strongest hash, lowercase: `file.hash.sha256`, else
    /// `sha1`, else `md5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_hash: Option<String>,
    /// A domain name, lowercase without a trailing dot:
    /// `dns.question.name`, else the host of `url.full` (when it is a name,
    /// not an address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl Entities {
    /// Reads the entity fields of an event (pre-resolved core ids, no lookup
    /// by name).
    pub fn from_event(ev: &Event) -> Self {
        let s = |f: FieldId| {
            ev.get(f)
                .map(|v| v.to_text().trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        Self {
            host: s(FieldId::HOST_NAME).or_else(|| ev.host.as_deref().map(str::to_owned)),
            user: s(FieldId::USER_NAME),
            source_ip: s(FieldId::SOURCE_IP),
            destination_ip: s(FieldId::DESTINATION_IP),
            process: s(FieldId::PROCESS_EXECUTABLE).or_else(|| s(FieldId::PROCESS_NAME)),
            command_line: s(FieldId::PROCESS_COMMAND_LINE),
            file_hash: s(FieldId::FILE_HASH_SHA256)
                .or_else(|| s(FieldId::FILE_HASH_SHA1))
                .or_else(|| s(FieldId::FILE_HASH_MD5))
                .map(|h| h.to_ascii_lowercase()),
            domain: s(FieldId::DNS_QUESTION_NAME)
                .and_then(|d| domain_name(&d))
                .or_else(|| s(FieldId::URL_FULL).and_then(|u| url_host(&u))),
        }
    }

    /// The entities an alert can share with another, as (kind, value)
    /// pairs: every one but the command line (too specific to link on).
    pub fn linkable(&self) -> Vec<(&'static str, &str)> {
        [
            ("host", &self.host),
            ("user", &self.user),
            ("source_ip", &self.source_ip),
            ("destination_ip", &self.destination_ip),
            ("process", &self.process),
            ("file_hash", &self.file_hash),
            ("domain", &self.domain),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// `name` as a domain: lowercase, no trailing dot; `None` for an address
/// or something with characters no host name has.
fn domain_name(name: &str) -> Option<String> {
    let d = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.contains('.')
        && d.parse::<std::net::IpAddr>().is_err()
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    ok.then_some(d)
}

/// The host of a URL (`scheme://[user@]host[:port]/…`) when it is a name.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.starts_with('[') {
        return None; // an IPv6 literal
    }
    let host = host.split(':').next().unwrap_or("");
    domain_name(host)
}

/// An alert raised by a detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Id; deterministic per (detector, rule, event) so re-evaluation after a
    /// crash cannot duplicate it.
    pub id: AlertId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// The detector that raised it (`sigma`, `intel`, `match`, …).
    pub detector: String,
    /// The rule within the detector.
    pub rule_id: String,
    /// Human-readable title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// When it was raised.
    pub created_at: Timestamp,
    /// When the triggering event happened (falls back to its receive time).
    pub event_time: Timestamp,
    /// The triggering event, while retention keeps it.
    pub event_id: Option<EventId>,
    /// Host, user and IPs involved.
    pub entities: Entities,
    /// Free-form tags (`attack.t1059.001`, …).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Detector-specific details (matched fields, counts, …).
    #[serde(default)]
    pub details: serde_json::Value,
    /// A copy of the triggering event (`fields` and `event.original`), kept
    /// even after retention deletes the event.
    #[serde(default)]
    pub event: serde_json::Value,
}

impl Alert {
    /// An alert for one event, with the id derived from (detector, rule,
    /// event id), entities and the event copy filled in.
    pub fn for_event(
        ev: &Event,
        registry: &FieldRegistry,
        detector: &str,
        rule_id: &str,
        title: &str,
        severity: Severity,
        now: Timestamp,
    ) -> Self {
        Self {
            id: AlertId::derive(detector, rule_id, &ev.id.to_string()),
            tenant: ev.tenant,
            detector: detector.to_owned(),
            rule_id: rule_id.to_owned(),
            title: title.to_owned(),
            severity,
            created_at: now,
            event_time: ev.time.unwrap_or(ev.received_at),
            event_id: Some(ev.id),
            entities: Entities::from_event(ev),
            tags: Vec::new(),
            details: serde_json::Value::Null,
            event: event_copy(ev, registry),
        }
    }
}

/// The copy of an event an alert keeps: its fields plus the original text.
pub fn event_copy(ev: &Event, registry: &FieldRegistry) -> serde_json::Value {
    let mut m = ev.fields_json(registry);
    m.insert(
        "event.original".into(),
        serde_json::Value::String(ev.raw_text().into_owned()),
    );
    m.insert(
        "vigil.source".into(),
        serde_json::Value::String(ev.source.to_string()),
    );
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventBuilder, EventFormat};

    #[test]
    fn alert_for_event_copies_entities_and_event() {
        let r = FieldRegistry::new();
        let mut b = EventBuilder::new(
            TenantId::DEFAULT,
            Timestamp::from_secs(5),
            "http",
            EventFormat::Json,
            *b"{\"a\":1}",
        );
        b.push(FieldId::USER_NAME, "alice".into());
        b.push(FieldId::SOURCE_IP, "10.0.0.1".into());
        let ev = b.build();
        let a = Alert::for_event(
            &ev,
            &r,
            "match",
            "r1",
            "T",
            Severity::High,
            Timestamp::from_secs(6),
        );
        assert_eq!(a.entities.user.as_deref(), Some("alice"));
        assert_eq!(a.entities.source_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(a.entities.process, None);
        assert_eq!(a.event_time, Timestamp::from_secs(5));
        assert_eq!(a.event["event.original"], "{\"a\":1}");
        assert_eq!(
            a.id,
            Alert::for_event(
                &ev,
                &r,
                "match",
                "r1",
                "T",
                Severity::High,
                Timestamp::from_secs(9)
            )
            .id
        );
    }

    #[test]
    fn process_hash_and_domain_entities() {
        let ev = |fields: &[(FieldId, &str)]| {
            let mut b = EventBuilder::new(
                TenantId::DEFAULT,
                Timestamp::from_secs(5),
                "http",
                EventFormat::Json,
                *b"{}",
            );
            for (f, v) in fields {
                b.push(*f, (*v).into());
            }
            Entities::from_event(&b.build())
        };
        let e = ev(&[
            (FieldId::PROCESS_NAME, "powershell.exe"),
            (FieldId::PROCESS_EXECUTABLE, "C:\\Windows\\powershell.exe"),
            (FieldId::PROCESS_COMMAND_LINE, "powershell -enc AAAA"),
            (FieldId::FILE_HASH_MD5, "D41D8CD98F00B204E9800998ECF8427E"),
            (FieldId::DNS_QUESTION_NAME, "Evil.Example.COM."),
            (FieldId::URL_FULL, "https://other.example.org/x"),
        ]);
        assert_eq!(e.process.as_deref(), Some("C:\\Windows\\powershell.exe"));
        assert_eq!(e.command_line.as_deref(), Some("powershell -enc AAAA"));
        assert_eq!(
            e.file_hash.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(e.domain.as_deref(), Some("evil.example.com"));
        let kinds: Vec<_> = e.linkable().into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, ["process", "file_hash", "domain"]);

        let e = ev(&[
            (FieldId::PROCESS_NAME, "sshd"),
            (FieldId::FILE_HASH_SHA1, "AB"),
            (FieldId::FILE_HASH_SHA256, "CD"),
            (
                FieldId::URL_FULL,
                "http://user:pw@Files.Example.net:8080/a?b#c",
            ),
        ]);
        assert_eq!(e.process.as_deref(), Some("sshd"));
        assert_eq!(e.file_hash.as_deref(), Some("cd"));
        assert_eq!(e.domain.as_deref(), Some("files.example.net"));
        assert_eq!(ev(&[(FieldId::URL_FULL, "http://10.0.0.1/x")]).domain, None);
        assert_eq!(ev(&[(FieldId::URL_FULL, "http://[::1]:80/x")]).domain, None);
        assert_eq!(
            ev(&[(FieldId::DNS_QUESTION_NAME, "bad name!")]).domain,
            None
        );
        // Old alerts without the new fields still read.
        let old: Entities = serde_json::from_str(r#"{"host":"h"}"#).unwrap();
        assert_eq!(old.host.as_deref(), Some("h"));
        assert_eq!(serde_json::to_string(&old).unwrap(), r#"{"host":"h"}"#);
    }
}

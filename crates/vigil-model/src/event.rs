//! The parsed event: metadata, raw bytes and fields sorted by [`FieldId`].

use std::fmt;
use std::str::FromStr;

use crate::ecs;
use crate::{EventId, FieldId, FieldRegistry, TenantId, Timestamp, Value};

/// Names interned by every registry at construction, in this order.
pub(crate) const CORE_NAMES: &[&str] = &[
    ecs::TIMESTAMP,
    ecs::EVENT_KIND,
    ecs::EVENT_CATEGORY,
    ecs::EVENT_ACTION,
    ecs::EVENT_CODE,
    ecs::EVENT_DATASET,
    ecs::EVENT_SEVERITY,
    ecs::HOST_NAME,
    ecs::HOST_IP,
    ecs::SOURCE_IP,
    ecs::SOURCE_PORT,
    ecs::DESTINATION_IP,
    ecs::DESTINATION_PORT,
    ecs::USER_NAME,
    ecs::USER_DOMAIN,
    ecs::PROCESS_NAME,
    ecs::PROCESS_PID,
    ecs::PROCESS_EXECUTABLE,
    ecs::PROCESS_COMMAND_LINE,
    ecs::PROCESS_PARENT_EXECUTABLE,
    ecs::PROCESS_PARENT_COMMAND_LINE,
    ecs::URL_FULL,
    ecs::DNS_QUESTION_NAME,
    ecs::FILE_PATH,
    ecs::FILE_NAME,
    ecs::FILE_HASH_MD5,
    ecs::FILE_HASH_SHA1,
    ecs::FILE_HASH_SHA256,
    ecs::FILE_HASH_SHA512,
    ecs::MESSAGE,
    ecs::LOG_LEVEL,
    ecs::LOG_SYSLOG_FACILITY_CODE,
    ecs::LOG_SYSLOG_SEVERITY_CODE,
    ecs::LOG_SYSLOG_APPNAME,
    ecs::LOG_SYSLOG_MSGID,
    ecs::LOG_SYSLOG_VERSION,
];

/// The id of the `i`-th name in [`CORE_NAMES`]: every registry interns them
/// first and in order, so index `i` is `FieldId(i)` in every registry.
const fn core_id(i: u32) -> FieldId {
    crate::field::field_id_from_raw(i)
}

impl FieldId {
    /// `@timestamp`.
    pub const TIMESTAMP: FieldId = core_id(0);
    /// `event.kind`.
    pub const EVENT_KIND: FieldId = core_id(1);
    /// `event.category`.
    pub const EVENT_CATEGORY: FieldId = core_id(2);
    /// `event.action`.
    pub const EVENT_ACTION: FieldId = core_id(3);
    /// `event.code`.
    pub const EVENT_CODE: FieldId = core_id(4);
    /// `event.dataset`.
    pub const EVENT_DATASET: FieldId = core_id(5);
    /// `event.severity`.
    pub const EVENT_SEVERITY: FieldId = core_id(6);
    /// `host.name`.
    pub const HOST_NAME: FieldId = core_id(7);
    /// `host.ip`.
    pub const HOST_IP: FieldId = core_id(8);
    /// `source.ip`.
    pub const SOURCE_IP: FieldId = core_id(9);
    /// `source.port`.
    pub const SOURCE_PORT: FieldId = core_id(10);
    /// `destination.ip`.
    pub const DESTINATION_IP: FieldId = core_id(11);
    /// `destination.port`.
    pub const DESTINATION_PORT: FieldId = core_id(12);
    /// `user.name`.
    pub const USER_NAME: FieldId = core_id(13);
    /// `user.domain`.
    pub const USER_DOMAIN: FieldId = core_id(14);
    /// `process.name`.
    pub const PROCESS_NAME: FieldId = core_id(15);
    /// `process.pid`.
    pub const PROCESS_PID: FieldId = core_id(16);
    /// `process.executable`.
    pub const PROCESS_EXECUTABLE: FieldId = core_id(17);
    /// `process.command_line`.
    pub const PROCESS_COMMAND_LINE: FieldId = core_id(18);
    /// `process.parent.executable`.
    pub const PROCESS_PARENT_EXECUTABLE: FieldId = core_id(19);
    /// `process.parent.command_line`.
    pub const PROCESS_PARENT_COMMAND_LINE: FieldId = core_id(20);
    /// `url.full`.
    pub const URL_FULL: FieldId = core_id(21);
    /// `dns.question.name`.
    pub const DNS_QUESTION_NAME: FieldId = core_id(22);
    /// `file.path`.
    pub const FILE_PATH: FieldId = core_id(23);
    /// `file.name`.
    pub const FILE_NAME: FieldId = core_id(24);
    /// `file.hash.md5`.
    pub const FILE_HASH_MD5: FieldId = core_id(25);
    /// `file.hash.sha1`.
    pub const FILE_HASH_SHA1: FieldId = core_id(26);
    /// `file.hash.sha256`.
    pub const FILE_HASH_SHA256: FieldId = core_id(27);
    /// `file.hash.sha512`.
    pub const FILE_HASH_SHA512: FieldId = core_id(28);
    /// `message`.
    pub const MESSAGE: FieldId = core_id(29);
    /// `log.level`.
    pub const LOG_LEVEL: FieldId = core_id(30);
    /// `log.syslog.facility.code`.
    pub const LOG_SYSLOG_FACILITY_CODE: FieldId = core_id(31);
    /// `log.syslog.severity.code`.
    pub const LOG_SYSLOG_SEVERITY_CODE: FieldId = core_id(32);
    /// `log.syslog.appname`.
    pub const LOG_SYSLOG_APPNAME: FieldId = core_id(33);
    /// `log.syslog.msgid`.
    pub const LOG_SYSLOG_MSGID: FieldId = core_id(34);
    /// `log.syslog.version`.
    pub const LOG_SYSLOG_VERSION: FieldId = core_id(35);
}

/// Which parser produced an event (and re-parses its raw bytes on recovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventFormat {
    /// One JSON object.
    Json,
    /// A syslog line (RFC 3164 or RFC 5424, detected per line; a CEF or
    /// LEEF payload inside it is parsed too).
    Syslog,
    /// A raw ArcSight CEF line (no syslog header).
    Cef,
    /// A raw IBM QRadar LEEF 1.0/2.0 line (no syslog header).
    Leef,
    /// One Splunk HEC event object (`event`, `time`, `host`, `source`,
    /// `sourcetype`, `index`, `fields`).
    Hec,
}

impl EventFormat {
    /// The lowercase name stored with the event.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventFormat::Json => "json",
            EventFormat::Syslog => "syslog",
            EventFormat::Cef => "cef",
            EventFormat::Leef => "leef",
            EventFormat::Hec => "hec",
        }
    }
}

impl fmt::Display for EventFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(EventFormat::Json),
            "syslog" => Ok(EventFormat::Syslog),
            "cef" => Ok(EventFormat::Cef),
            "leef" => Ok(EventFormat::Leef),
            "hec" => Ok(EventFormat::Hec),
            other => Err(format!("unknown event format {other:?}")),
        }
    }
}

/// A parsed event. Fields are sorted by id, so [`Event::get`] is a binary
/// search and never allocates. A field may hold several values (JSON arrays).
#[derive(Debug, Clone)]
pub struct Event {
    /// Stable id (UUIDv7 from the receive time).
    pub id: EventId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Position in the durable event log; 0 until the store assigns it.
    pub seq: i64,
    /// When Vigil received it.
    pub received_at: Timestamp,
    /// When it happened, parsed from the payload where present.
    pub time: Option<Timestamp>,
    /// Where it came from (`file:/var/log/x`, `http`, `stdin`, …).
    pub source: Box<str>,
    /// The host it describes (`host.name`), where known.
    pub host: Option<Box<str>>,
    /// The parser that produced it.
    pub format: EventFormat,
    /// The bytes as received.
    pub raw: Box<[u8]>,
    fields: Box<[(FieldId, Value)]>,
}

impl Event {
    /// The first value of `field`.
    pub fn get(&self, field: FieldId) -> Option<&Value> {
        let i = self.fields.partition_point(|(f, _)| *f < field);
        match self.fields.get(i) {
            Some((f, v)) if *f == field => Some(v),
            _ => None,
        }
    }

    /// Every value of `field` (more than one for arrays).
    pub fn get_all(&self, field: FieldId) -> impl Iterator<Item = &Value> {
        let start = self.fields.partition_point(|(f, _)| *f < field);
        self.fields[start..]
            .iter()
            .take_while(move |(f, _)| *f == field)
            .map(|(_, v)| v)
    }

    /// The first value of `field` if it is a string.
    pub fn get_str(&self, field: FieldId) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }

    /// All fields, sorted by id.
    pub fn fields(&self) -> &[(FieldId, Value)] {
        &self.fields
    }

    /// The raw bytes as text (lossy for invalid UTF-8).
    pub fn raw_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.raw)
    }

    /// A flat JSON object `{"dotted.name": value | [values]}` of all fields:
    /// what the console shows and what an alert keeps as its copy of the event.
    pub fn fields_json(
        &self,
        registry: &FieldRegistry,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        let mut i = 0;
        while i < self.fields.len() {
            let f = self.fields[i].0;
            let mut j = i + 1;
            while j < self.fields.len() && self.fields[j].0 == f {
                j += 1;
            }
            // One lookup per distinct field, not a copy of the whole registry.
            let Some(name) = registry.name(f) else {
                i = j;
                continue;
            };
            let v = if j - i == 1 {
                self.fields[i].1.to_json()
            } else {
                serde_json::Value::Array(
                    self.fields[i..j].iter().map(|(_, v)| v.to_json()).collect(),
                )
            };
            out.insert(name.to_string(), v);
            i = j;
        }
        out
    }
}

/// Builds an [`Event`]; parsers push fields in any order.
#[derive(Debug)]
pub struct EventBuilder {
    event: Event,
    fields: Vec<(FieldId, Value)>,
}

impl EventBuilder {
    /// A new event with its metadata and raw bytes.
    pub fn new(
        tenant: TenantId,
        received_at: Timestamp,
        source: &str,
        format: EventFormat,
        raw: impl Into<Box<[u8]>>,
    ) -> Self {
        Self {
            event: Event {
                id: EventId::new_at(received_at),
                tenant,
                seq: 0,
                received_at,
                time: None,
                source: source.into(),
                host: None,
                format,
                raw: raw.into(),
                fields: Box::new([]),
            },
            fields: Vec::with_capacity(32),
        }
    }

    /// Overrides the generated id (recovery re-parses a stored event).
    pub fn id(mut self, id: EventId) -> Self {
        self.event.id = id;
        self
    }

    /// Sets the event time.
    pub fn set_time(&mut self, t: Timestamp) {
        self.event.time = Some(t);
    }

    /// Sets the host.
    pub fn set_host(&mut self, host: &str) {
        self.event.host = Some(host.into());
    }

    /// Adds a value to a field.
    pub fn push(&mut self, field: FieldId, value: Value) {
        self.fields.push((field, value));
    }

    /// Adds many values at once, after those already pushed. Takes over the
    /// vector's allocation when it is the larger side, so a parser that
    /// collected its fields does not copy them again.
    pub fn extend_fields(&mut self, mut fields: Vec<(FieldId, Value)>) {
        if fields.len() > self.fields.len() {
            fields.splice(0..0, self.fields.drain(..));
            self.fields = fields;
        } else {
            self.fields.append(&mut fields);
        }
    }

    /// True if `field` already has a value.
    pub fn has(&self, field: FieldId) -> bool {
        self.fields.iter().any(|(f, _)| *f == field)
    }

    /// The first value pushed for `field`.
    pub fn first(&self, field: FieldId) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }

    /// Adds a value only if the field has none yet (ECS normalisation never
    /// overwrites what the source said).
    pub fn push_if_absent(&mut self, field: FieldId, value: Value) {
        if !self.has(field) {
            self.push(field, value);
        }
    }

    /// Finishes the event: fields sorted by id, insertion order kept within a
    /// field; `host` filled from `host.name` when not set explicitly.
    pub fn build(mut self) -> Event {
        self.fields.sort_by_key(|(f, _)| *f);
        if self.event.host.is_none()
            && let Some(Value::Str(h)) = self.first(FieldId::HOST_NAME)
        {
            self.event.host = Some(h.clone());
        }
        self.event.fields = self.fields.into_boxed_slice();
        self.event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_ids_match_registry() {
        let r = FieldRegistry::new();
        for (i, name) in CORE_NAMES.iter().enumerate() {
            assert_eq!(r.get(name).map(FieldId::index), Some(i), "{name}");
        }
        assert_eq!(
            r.get("process.command_line"),
            Some(FieldId::PROCESS_COMMAND_LINE)
        );
        assert_eq!(
            r.get("log.syslog.version"),
            Some(FieldId::LOG_SYSLOG_VERSION)
        );
    }

    #[test]
    fn extend_keeps_push_order_within_a_field() {
        let r = FieldRegistry::new();
        let tags = r.intern("tags").unwrap();
        let mut b = EventBuilder::new(
            TenantId::DEFAULT,
            Timestamp::from_secs(1),
            "t",
            EventFormat::Json,
            *b"{}",
        );
        b.push(tags, "a".into());
        b.extend_fields(vec![(tags, "b".into()), (FieldId::USER_NAME, "u".into())]);
        b.extend_fields(vec![(tags, "c".into())]);
        let e = b.build();
        let all: Vec<_> = e.get_all(tags).map(|v| v.to_text().into_owned()).collect();
        assert_eq!(all, ["a", "b", "c"]);
        assert_eq!(e.get_str(FieldId::USER_NAME), Some("u"));
    }

    #[test]
    fn lookup_multi_values_and_json() {
        let r = FieldRegistry::new();
        let tags = r.intern("tags").unwrap();
        let mut b = EventBuilder::new(
            TenantId::DEFAULT,
            Timestamp::from_secs(1),
            "test",
            EventFormat::Json,
            *b"{}",
        );
        b.push(tags, "a".into());
        b.push(FieldId::HOST_NAME, "web1".into());
        b.extend_fields(vec![(tags, "b".into())]);
        b.push_if_absent(FieldId::HOST_NAME, "other".into());
        let e = b.build();
        assert_eq!(e.host.as_deref(), Some("web1"));
        assert_eq!(e.get_str(FieldId::HOST_NAME), Some("web1"));
        let all: Vec<_> = e.get_all(tags).map(|v| v.to_text().into_owned()).collect();
        assert_eq!(all, ["a", "b"]);
        assert!(e.get(FieldId::USER_NAME).is_none());
        let j = e.fields_json(&r);
        assert_eq!(j["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(j["host.name"], "web1");
    }
}

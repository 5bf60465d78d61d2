//! Splunk HTTP Event Collector (HEC) event objects.
//!
//! A HEC body is one or more JSON objects written one after the other (any
//! whitespace, or none, between them; not an array). Each object has an
//! `event` (required) and optional `time`, `host`, `source`, `sourcetype`,
//! `index` and `fields`. [`split_hec_events`] cuts a body into objects and
//! [`parse_hec_event`] turns one object into an [`Event`] whose raw bytes are
//! that object, so recovery re-parses it with the same function.
//!
//! Mapping:
//! - `event` as an object is flattened and ECS-normalised exactly like a
//!   JSON record. `event` as a string goes to `message`; when that string is
//!   itself a JSON object (a shipper that serialised its record, e.g.
//!   `splunk-handler` with `record_format`), it is flattened too and
//!   `message` keeps the text only if the object sets no `message` of its
//!   own. Numbers, booleans and arrays become `message` as JSON text.
//! - `time` (epoch seconds, number or numeric string, decimals allowed) is
//!   the event time and `@timestamp`; without it the time comes from the
//!   event's own fields like JSON ingest.
//! - `host` → `host.name` (unless the event sets one), `source` →
//!   `splunk.source`, `sourcetype` → `splunk.sourcetype`, `index` →
//!   `splunk.index`; `fields` (indexed fields: strings, numbers, booleans or
//!   arrays of them) become fields under their own names.
//!
//! Errors follow Splunk: the first bad object rejects the whole request and
//! is named by its 0-based number (`invalid-event-number`).

use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;
use vigil_model::{Event, EventBuilder, EventFormat, FieldId, FieldRegistry, Timestamp, Value};

use crate::ParseOptions;
use crate::context::Ctx;
use crate::ecs::{self, Fields};
use crate::lines::oversize_reason;

/// Why a HEC event object was refused; each kind has a Splunk HEC code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HecErrorKind {
    /// Not a JSON object, bad JSON, a bad `time` or an oversized object
    /// (HEC code 6, "Invalid data format").
    InvalidFormat(String),
    /// No `event` key, or `event` is null (HEC code 12).
    EventRequired,
    /// `event` is an empty or blank string (HEC code 13).
    EventBlank,
    /// `fields` is not an object of scalars or arrays of scalars (HEC code
    /// 15, "Error in handling indexed fields").
    IndexedFields(String),
}

impl HecErrorKind {
    /// Splunk's HEC status code for this error.
    pub const fn code(&self) -> u16 {
        match self {
            HecErrorKind::InvalidFormat(_) => 6,
            HecErrorKind::EventRequired => 12,
            HecErrorKind::EventBlank => 13,
            HecErrorKind::IndexedFields(_) => 15,
        }
    }

    /// Splunk's HEC text for this error.
    pub const fn text(&self) -> &'static str {
        match self {
            HecErrorKind::InvalidFormat(_) => "Invalid data format",
            HecErrorKind::EventRequired => "Event field is required",
            HecErrorKind::EventBlank => "Event field cannot be blank",
            HecErrorKind::IndexedFields(_) => "Error in handling indexed fields",
        }
    }
}

impl fmt::Display for HecErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HecErrorKind::InvalidFormat(why) | HecErrorKind::IndexedFields(why) => {
                write!(f, "{}: {why}", self.text())
            }
            _ => f.write_str(self.text()),
        }
    }
}

/// A refused HEC object and its 0-based position in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecError {
    /// 0-based number of the object in the body (`invalid-event-number`).
    pub event: usize,
    /// What is wrong with it.
    pub kind: HecErrorKind,
}

/// Cuts a HEC body into its JSON objects (the exact bytes of each). An
/// empty or all-whitespace body gives an empty list.
///
/// # Errors
///
/// The first element that is not valid JSON or not an object, by number.
pub fn split_hec_events(body: &[u8]) -> Result<Vec<&[u8]>, HecError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<&RawValue>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => return Ok(out),
            Some(Ok(raw)) => {
                let text = raw.get();
                if !text.starts_with('{') {
                    return Err(HecError {
                        event: out.len(),
                        kind: HecErrorKind::InvalidFormat("not a JSON object".into()),
                    });
                }
                let end = stream.byte_offset();
                // The raw value borrows the body; find its exact span.
                let span = &body[start..end];
                let lead = span.iter().take_while(|b| b.is_ascii_whitespace()).count();
                out.push(&span[lead..]);
            }
            Some(Err(e)) => {
                return Err(HecError {
                    event: out.len(),
                    kind: HecErrorKind::InvalidFormat(e.to_string()),
                });
            }
        }
    }
}

/// The envelope of one HEC object.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    #[serde(borrow, default)]
    time: Option<&'a RawValue>,
    #[serde(default)]
    host: Option<serde_json::Value>,
    #[serde(default)]
    source: Option<serde_json::Value>,
    #[serde(default)]
    sourcetype: Option<serde_json::Value>,
    #[serde(default)]
    index: Option<serde_json::Value>,
    #[serde(default)]
    fields: Option<serde_json::Value>,
}

/// Epoch seconds (number or numeric string) to a timestamp.
fn hec_time(raw: &RawValue) -> Result<Option<Timestamp>, HecErrorKind> {
    let bad = || HecErrorKind::InvalidFormat(format!("time: {} is not epoch seconds", raw.get()));
    let v: serde_json::Value = serde_json::from_str(raw.get()).map_err(|_| bad())?;
    let secs = match &v {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        serde_json::Value::String(s) if s.trim().is_empty() => return Ok(None),
        serde_json::Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    // Year 1 to 9999, in microseconds.
    let us = (secs * 1e6).round();
    if !us.is_finite() || !(-62_135_596_800e6..=253_402_300_799e6).contains(&us) {
        return Err(bad());
    }
    Ok(Some(Timestamp::from_micros(us as i64)))
}

/// A metadata value as text (Splunk sends strings; numbers are accepted).
fn meta_text(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn scalar(v: &serde_json::Value) -> Option<Value> {
    match v {
        serde_json::Value::String(s) => Some(Value::from(s.as_str())),
        serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
        serde_json::Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::Int(i),
            None => match n.as_f64() {
                Some(f) if n.is_f64() => Value::Float(f),
                _ => Value::from(n.to_string()),
            },
        }),
        serde_json::Value::Null => Some(Value::Null),
        _ => None,
    }
}

/// `fields` into (name, value) pairs.
fn indexed_fields(
    v: serde_json::Value,
    ctx: &mut Ctx<'_>,
    out: &mut Vec<(FieldId, Value)>,
) -> Result<(), HecErrorKind> {
    let serde_json::Value::Object(map) = v else {
        if v.is_null() {
            return Ok(());
        }
        return Err(HecErrorKind::IndexedFields(
            "fields must be an object".into(),
        ));
    };
    for (name, value) in map {
        let values: Vec<Value> = match &value {
            serde_json::Value::Array(items) => items.iter().map(scalar).collect::<Option<_>>(),
            other => scalar(other).map(|s| vec![s]),
        }
        .ok_or_else(|| {
            HecErrorKind::IndexedFields(format!("fields.{name}: nested objects are not allowed"))
        })?;
        if let Some(id) = ctx.names.intern(&name) {
            out.extend(values.into_iter().map(|v| (id, v)));
        }
    }
    Ok(())
}

fn push_named(ctx: &mut Ctx<'_>, out: &mut Vec<(FieldId, Value)>, name: &str, v: String) {
    if let Some(id) = ctx.names.intern(name) {
        out.push((id, Value::from(v)));
    }
}

/// Parses one HEC object with a shared context.
pub(crate) fn parse(
    obj: &[u8],
    ctx: &mut Ctx<'_>,
    opts: &ParseOptions,
) -> Result<Event, HecErrorKind> {
    if obj.len() > opts.max_event_bytes {
        return Err(HecErrorKind::InvalidFormat(oversize_reason(
            obj.len() as u64,
            opts.max_event_bytes,
        )));
    }
    let env: Envelope<'_> =
        serde_json::from_slice(obj).map_err(|e| HecErrorKind::InvalidFormat(e.to_string()))?;
    parse_envelope(env, obj, ctx, opts)
}

/// Builds the event of one object from its envelope (already deserialised)
/// and its exact bytes.
fn parse_envelope(
    env: Envelope<'_>,
    obj: &[u8],
    ctx: &mut Ctx<'_>,
    opts: &ParseOptions,
) -> Result<Event, HecErrorKind> {
    let Some(event) = env.event.filter(|e| e.get() != "null") else {
        return Err(HecErrorKind::EventRequired);
    };
    let mut fields: Vec<(FieldId, Value)> = Vec::with_capacity(ctx.field_hint);
    let text = event.get();
    if text.starts_with('{') {
        crate::json::flatten(text.as_bytes(), ctx, &mut fields)
            .map_err(HecErrorKind::InvalidFormat)?;
    } else if text.starts_with('"') {
        let s: String =
            serde_json::from_str(text).map_err(|e| HecErrorKind::InvalidFormat(e.to_string()))?;
        if s.trim().is_empty() {
            return Err(HecErrorKind::EventBlank);
        }
        ctx.aliases.clear();
        let inner = s.trim_start();
        if inner.starts_with('{')
            && crate::json::flatten(inner.as_bytes(), ctx, &mut fields).is_err()
        {
            fields.clear();
            ctx.aliases.clear();
        }
        if !fields.iter().any(|(f, _)| *f == FieldId::MESSAGE) {
            fields.push((FieldId::MESSAGE, Value::from(s)));
        }
    } else {
        ctx.aliases.clear();
        fields.push((FieldId::MESSAGE, Value::from(text)));
    }
    let time = match env.time {
        Some(t) => hec_time(t)?,
        None => None,
    };
    if let Some(host) = meta_text(env.host)
        && !fields.iter().any(|(f, _)| *f == FieldId::HOST_NAME)
    {
        fields.push((FieldId::HOST_NAME, Value::from(host)));
    }
    for (name, v) in [
        ("splunk.source", env.source),
        ("splunk.sourcetype", env.sourcetype),
        ("splunk.index", env.index),
    ] {
        if let Some(v) = meta_text(v) {
            push_named(ctx, &mut fields, name, v);
        }
    }
    if let Some(f) = env.fields {
        indexed_fields(f, ctx, &mut fields)?;
    }
    ctx.field_hint = (fields.len() + ctx.aliases.len()).clamp(8, 256);
    let mut fields = Fields::new(&ctx.ecs, fields);
    fields.add_aliases(&mut ctx.aliases);
    ecs::apply_table(&mut fields);
    let time = time.or_else(|| ecs::event_time(&fields));
    let mut b = EventBuilder::new(
        opts.tenant,
        opts.received_at,
        &opts.source,
        EventFormat::Hec,
        obj,
    );
    ecs::finish(&mut fields, time, opts.received_at, &mut b);
    fields.into_builder(&mut b);
    Ok(b.build())
}

/// Parses a whole HEC body into events, all or nothing (Splunk's rule: the
/// first bad object rejects the request). An empty body gives no events;
/// the caller answers "No data".
///
/// # Errors
///
/// The first bad object, by 0-based number.
pub fn parse_hec_body(
    body: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> Result<Vec<Event>, HecError> {
    // One pass: each object's envelope is deserialised straight from the
    // stream (the same cut as `split_hec_events`), not split first and
    // parsed again. Errors are rare: on one, the body is re-split so a
    // request is refused with exactly the error the two-pass order gives
    // (the first malformed element wins over a bad object before it).
    let fail = |event: usize, kind: HecErrorKind| -> HecError {
        split_hec_events(body)
            .err()
            .unwrap_or(HecError { event, kind })
    };
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut ctx = Ctx::new(registry);
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Envelope<'_>>();
    loop {
        let start = stream.byte_offset();
        let env = match stream.next() {
            None => return Ok(out),
            Some(Ok(env)) => env,
            Some(Err(e)) => {
                return Err(fail(out.len(), HecErrorKind::InvalidFormat(e.to_string())));
            }
        };
        let span = &body[start..stream.byte_offset()];
        let lead = span.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let obj = &span[lead..];
        if !obj.starts_with(b"{") {
            // serde reads a struct from an array too; HEC wants objects.
            let kind = HecErrorKind::InvalidFormat("not a JSON object".into());
            return Err(fail(out.len(), kind));
        }
        if obj.len() > opts.max_event_bytes {
            let kind = HecErrorKind::InvalidFormat(oversize_reason(
                obj.len() as u64,
                opts.max_event_bytes,
            ));
            return Err(fail(out.len(), kind));
        }
        match parse_envelope(env, obj, &mut ctx, opts) {
            Ok(event) => out.push(event),
            Err(kind) => return Err(fail(out.len(), kind)),
        }
    }
}

/// Parses one HEC event object (the raw bytes of a stored HEC event).
///
/// # Errors
///
/// The reason the object is refused.
pub fn parse_hec_event(
    obj: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> Result<Event, String> {
    parse(obj, &mut Ctx::new(registry), opts).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use vigil_model::TenantId;

    use super::*;

    fn opts() -> ParseOptions {
        ParseOptions::new(
            TenantId::DEFAULT,
            "hec",
            Timestamp::from_secs(1_700_000_000),
        )
    }

    /// Parses `body` and renders each event's fields as sorted `name=value`
    /// lines, events separated by `--`, or the error as `error N: text`.
    fn render(body: &str) -> String {
        let reg = FieldRegistry::new();
        match parse_hec_body(body.as_bytes(), &reg, &opts()) {
            Ok(events) => events
                .iter()
                .map(|e| {
                    let mut out: Vec<String> = e
                        .fields()
                        .iter()
                        .map(|(f, v)| format!("{}={v:?}", reg.name(*f).unwrap()))
                        .collect();
                    out.sort();
                    out.join("\n")
                })
                .collect::<Vec<_>>()
                .join("\n--\n"),
            Err(e) => format!("error {} {}: {}", e.event, e.kind.code(), e.kind),
        }
    }

    fn check(body: &str, expect: &[&str]) {
        let got = render(body);
        for line in expect {
            assert!(
                got.lines().any(|l| l == *line),
                "missing {line:?} in:\n{got}"
            );
        }
    }

    #[test]
    fn splits_concatenated_objects() {
        let body = b" {\"event\":\"a\"}{\"event\":\"b\"}\n\n{\"event\":{\"x\":\"}\"}}\r\n";
        let parts = split_hec_events(body).unwrap();
        assert_eq!(
            parts,
            [
                &b"{\"event\":\"a\"}"[..],
                b"{\"event\":\"b\"}",
                b"{\"event\":{\"x\":\"}\"}}"
            ]
        );
        assert!(split_hec_events(b"  \n").unwrap().is_empty());
        let e = split_hec_events(b"{\"event\":1} [1]").unwrap_err();
        assert_eq!((e.event, e.kind.code()), (1, 6));
        let e = split_hec_events(b"{\"event\":1}{\"event\":").unwrap_err();
        assert_eq!((e.event, e.kind.code()), (1, 6));
    }

    #[test]
    fn string_event_with_metadata() {
        check(
            r#"{"time":1700000123.5,"host":"web1","source":"/var/log/app","sourcetype":"app:log","index":"main","fields":{"env":"prod","dc":["a","b"],"n":3},"event":"hello world"}"#,
            &[
                "message=Str(\"hello world\")",
                "host.name=Str(\"web1\")",
                "splunk.source=Str(\"/var/log/app\")",
                "splunk.sourcetype=Str(\"app:log\")",
                "splunk.index=Str(\"main\")",
                "env=Str(\"prod\")",
                "dc=Str(\"a\")",
                "dc=Str(\"b\")",
                "n=Int(3)",
                "@timestamp=Str(\"2023-11-14T22:15:23.500000Z\")",
            ],
        );
    }

    #[test]
    fn object_event_is_flattened_and_normalised() {
        check(
            r#"{"event":{"user":{"name":"root"},"CommandLine":"cmd /c ver","Image":"C:\\w\\cmd.exe"},"time":"1700000000","host":"h"}"#,
            &[
                "user.name=Str(\"root\")",
                "process.command_line=Str(\"cmd /c ver\")",
                "process.name=Str(\"cmd.exe\")",
                "host.name=Str(\"h\")",
                "@timestamp=Str(\"2023-11-14T22:13:20.000000Z\")",
            ],
        );
        // A string holding a JSON object is flattened too; the text is kept
        // as `message` when the object has none.
        check(
            r#"{"event":"{\"user\":\"bob\",\"level\":\"INFO\"}"}"#,
            &[
                "user=Str(\"bob\")",
                "level=Str(\"INFO\")",
                "message=Str(\"{\\\"user\\\":\\\"bob\\\",\\\"level\\\":\\\"INFO\\\"}\")",
            ],
        );
        check(r#"{"event":42}"#, &["message=Str(\"42\")"]);
    }

    #[test]
    fn errors_name_the_first_bad_event() {
        for (body, want) in [
            (r#"{"event":"a"}{"time":1}"#, "error 1 12"),
            (r#"{"event":null}"#, "error 0 12"),
            (r#"{"event":"a"}{"event":"b"}{"event":"  "}"#, "error 2 13"),
            (r#"{"event":"a","time":"soon"}"#, "error 0 6"),
            (r#"{"event":"a","fields":{"x":{"y":1}}}"#, "error 0 15"),
            (r#"{"event":"a"}"x""#, "error 1 6"),
        ] {
            let got = render(body);
            assert!(got.starts_with(want), "{body}: {got}");
        }
    }

    #[test]
    fn reparse_gives_the_same_fields() {
        let reg = FieldRegistry::new();
        let body =
            br#"{"event":{"a":1},"host":"h","time":1700000001}{"event":"x","fields":{"k":"v"}}"#;
        let events = parse_hec_body(body, &reg, &opts()).unwrap();
        assert_eq!(events.len(), 2);
        for e in &events {
            assert_eq!(e.format, EventFormat::Hec);
            let again = crate::reparse(e.format, &e.raw, &reg, &opts()).unwrap();
            assert_eq!(again.fields(), e.fields());
            assert_eq!(again.time, e.time);
            assert_eq!(again.host, e.host);
        }
        assert_eq!(events[0].host.as_deref(), Some("h"));
        assert_eq!(events[0].time, Some(Timestamp::from_secs(1_700_000_001)));
    }
}

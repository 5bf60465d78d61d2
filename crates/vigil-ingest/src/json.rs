//! JSON records: one pass over the bytes that flattens objects straight into
//! interned fields, with no intermediate JSON tree.
//!
//! Nested objects become dotted paths (`{"process":{"pid":1}}` →
//! `process.pid`); keys that already contain dots are kept as they are.
//! Arrays become several values of one field; arrays of objects repeat their
//! dotted paths. Empty objects and arrays add nothing (the raw bytes keep
//! them). Integers that fit `i64` are [`Value::Int`]; larger integers keep
//! their exact decimal text as [`Value::Str`] (64-bit ids and masks stay
//! exact and match as text); other numbers are [`Value::Float`].
//!
//! Parser choice, measured (`examples/parse_file.rs` over 55 MB of
//! EVTX-derived NDJSON, user CPU time of three runs each, the same visitor
//! driven by both): sonic-rs 0.40–0.43 s, serde_json 0.42–0.48 s. The
//! visitor (interning, value allocation, ECS) dominates, so a ≤ 5 % gain did
//! not pay for sonic-rs' dependency tree and `unsafe`: serde_json it is.
//!
//! Limits: nesting deeper than [`MAX_DEPTH`] or more than [`MAX_FIELDS`]
//! leaves make the record an error. A name the registry refuses (full) is
//! skipped and stays only in the raw bytes.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use vigil_model::{Event, EventBuilder, EventFormat, FieldId, Value};

use crate::ParseOptions;
use crate::context::{Ctx, Interner};
use crate::ecs::{self, Fields};

/// Deepest accepted nesting of objects and arrays.
pub const MAX_DEPTH: usize = 64;
/// Most scalar leaves accepted in one record.
pub const MAX_FIELDS: usize = 10_000;

/// The flattening state of one record.
struct Flat<'a, 'r> {
    names: &'a mut Interner<'r>,
    path: &'a mut String,
    fields: &'a mut Vec<(FieldId, Value)>,
    aliases: &'a mut Vec<(FieldId, Value)>,
    depth: usize,
    leaves: usize,
}

impl Flat<'_, '_> {
    fn leaf<E: de::Error>(&mut self, v: Value) -> Result<(), E> {
        self.leaves += 1;
        if self.leaves > MAX_FIELDS {
            return Err(E::custom(format_args!("more than {MAX_FIELDS} fields")));
        }
        let Some(id) = self.names.intern(self.path) else {
            return Ok(());
        };
        if let Some(alias) = ecs::plain_alias(self.path)
            && let Some(aid) = self.names.intern(alias)
        {
            self.aliases.push((aid, v.clone()));
        }
        self.fields.push((id, v));
        Ok(())
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }
}

/// Any JSON value at the current path.
struct Node<'f, 'a, 'r>(&'f mut Flat<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.leaf(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.leaf(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => self.0.leaf(Value::Int(i)),
            Err(_) => self.0.leaf(Value::from(v.to_string())),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.leaf(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.leaf(Value::from(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.0.leaf(Value::from(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.leaf(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.leaf(Value::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        visit_object(self.0, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.enter()?;
        while seq.next_element_seed(Node(&mut *self.0))?.is_some() {}
        self.0.depth -= 1;
        Ok(())
    }
}

fn visit_object<'de, A: MapAccess<'de>>(
    flat: &mut Flat<'_, '_>,
    mut map: A,
) -> Result<(), A::Error> {
    flat.enter()?;
    let base = flat.path.len();
    while map.next_key_seed(Key(flat.path))?.is_some() {
        map.next_value_seed(Node(&mut *flat))?;
        flat.path.truncate(base);
    }
    flat.depth -= 1;
    Ok(())
}

/// A key: appended to the path buffer, never allocated on its own.
struct Key<'p>(&'p mut String);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if !self.0.is_empty() {
            self.0.push('.');
        }
        self.0.push_str(v);
        Ok(())
    }
}

/// The top level: only an object is accepted.
struct Top<'f, 'a, 'r>(&'f mut Flat<'a, 'r>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        visit_object(self.0, map)
    }
}

/// Flattens one JSON document into `fields` (and Windows aliases into
/// `ctx.aliases`).
pub(crate) fn flatten(
    bytes: &[u8],
    ctx: &mut Ctx<'_>,
    fields: &mut Vec<(FieldId, Value)>,
) -> Result<(), String> {
    ctx.path.clear();
    ctx.aliases.clear();
    let mut flat = Flat {
        names: &mut ctx.names,
        path: &mut ctx.path,
        fields,
        aliases: &mut ctx.aliases,
        depth: 0,
        leaves: 0,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Top(&mut flat)
        .deserialize(&mut de)
        .map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON: {e}"))
}

/// Parses and normalises one JSON record (the caller checked the size).
pub(crate) fn parse(line: &[u8], ctx: &mut Ctx<'_>, opts: &ParseOptions) -> Result<Event, String> {
    let body = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let mut fields = Vec::with_capacity(ctx.field_hint);
    flatten(body, ctx, &mut fields)?;
    ctx.field_hint = (fields.len() + ctx.aliases.len()).clamp(8, 256);
    let mut fields = Fields::new(&ctx.ecs, fields);
    fields.add_aliases(&mut ctx.aliases);
    ecs::apply_table(&mut fields);
    let time = ecs::event_time(&fields);
    let mut b = EventBuilder::new(
        opts.tenant,
        opts.received_at,
        &opts.source,
        EventFormat::Json,
        line,
    );
    ecs::finish(&mut fields, time, opts.received_at, &mut b);
    fields.into_builder(&mut b);
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use vigil_model::{FieldRegistry, TenantId, Timestamp};

    use super::*;

    fn opts() -> ParseOptions {
        ParseOptions::new(
            TenantId::DEFAULT,
            "test",
            Timestamp::from_secs(1_700_000_000),
        )
    }

    /// Parses `input` and renders the fields as `name=value` lines (arrays
    /// as repeated lines) in id order, or the error.
    fn render(input: &str) -> String {
        let reg = FieldRegistry::new();
        let mut ctx = Ctx::new(&reg);
        match parse(input.as_bytes(), &mut ctx, &opts()) {
            Ok(e) => {
                let mut out: Vec<String> = e
                    .fields()
                    .iter()
                    .map(|(f, v)| format!("{}={v:?}", reg.name(*f).unwrap()))
                    .collect();
                out.sort();
                out.join("\n")
            }
            Err(e) => format!("error: {e}"),
        }
    }

    fn check(input: &str, expect: &[&str]) {
        let got = render(input);
        for line in expect {
            assert!(
                got.lines().any(|l| l == *line),
                "missing {line:?} in:\n{got}"
            );
        }
    }

    #[test]
    fn flattens_nested_arrays_and_dotted_keys() {
        check(
            r#"{"process":{"command_line":"x","pid":7},"a.b":true,"tags":["t1","t2"],"n":null,"f":1.5,"big":18446744073709551615,"o":[{"k":1},{"k":2}],"e":{},"z":[]}"#,
            &[
                "process.command_line=Str(\"x\")",
                "process.pid=Int(7)",
                "a.b=Bool(true)",
                "tags=Str(\"t1\")",
                "tags=Str(\"t2\")",
                "n=Null",
                "f=Float(1.5)",
                "big=Str(\"18446744073709551615\")",
                "o.k=Int(1)",
                "o.k=Int(2)",
                "event.kind=Str(\"event\")",
                "@timestamp=Str(\"2023-11-14T22:13:20.000000Z\")",
            ],
        );
        let got = render(r#"{"e":{},"z":[]}"#);
        assert!(!got.contains("e=") && !got.contains("z="), "{got}");
    }

    #[test]
    fn escapes_and_unicode_keys() {
        check(
            r#"{"k\"q":"a\nb","\u00e9":"\ud83d\ude00"}"#,
            &["k\"q=Str(\"a\\nb\")", "é=Str(\"😀\")"],
        );
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        for bad in [
            "[1,2]",
            "1",
            "\"s\"",
            "{",
            "{\"a\":}",
            "{\"a\":1} x",
            "{\"a\":1}{\"b\":2}",
            "",
            "nul",
        ] {
            assert!(
                render(bad).starts_with("error: invalid JSON"),
                "{bad:?} -> {}",
                render(bad)
            );
        }
    }

    #[test]
    fn depth_and_field_limits() {
        let deep = format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(
            render(&deep).contains("nesting deeper than 64"),
            "{}",
            render(&deep)
        );
        let ok = format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        check(&ok, &["a=Int(1)"]);
        let many: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("\"k{i}\":1")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert!(render(&many).contains("more than 10000 fields"));
    }

    #[test]
    fn time_and_host() {
        let reg = FieldRegistry::new();
        let mut ctx = Ctx::new(&reg);
        let e = parse(
            br#"{"@timestamp":"2024-05-01T12:00:00Z","host":{"name":"web1"}}"#,
            &mut ctx,
            &opts(),
        )
        .unwrap();
        assert_eq!(
            e.time,
            Some(Timestamp::parse_rfc3339("2024-05-01T12:00:00Z").unwrap())
        );
        assert_eq!(e.host.as_deref(), Some("web1"));
        assert_eq!(
            e.get_str(FieldId::TIMESTAMP),
            Some("2024-05-01T12:00:00Z"),
            "source value kept"
        );
        let e = parse(br#"{"ts":1700000001.5,"hostname":"h2"}"#, &mut ctx, &opts()).unwrap();
        assert_eq!(e.time, Some(Timestamp::from_micros(1_700_000_001_500_000)));
        assert_eq!(e.host.as_deref(), Some("h2"));
        assert_eq!(
            e.get_str(FieldId::TIMESTAMP),
            Some("2023-11-14T22:13:21.500000Z")
        );
        let e = parse(br#"{"time":"soon"}"#, &mut ctx, &opts()).unwrap();
        assert_eq!(e.time, None);
        assert_eq!(
            e.get_str(FieldId::TIMESTAMP),
            Some("2023-11-14T22:13:20.000000Z"),
            "receive time fallback"
        );
    }

    #[test]
    fn evtx_shape() {
        let doc = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2025-11-27T07:40:10.165324Z"}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"pc1"},"EventData":{"Image":"C:\\a\\b.exe","CommandLine":"b.exe -x","ProcessId":12,"UtcTime":"2025-11-27 07:40:10.132"}}}"##;
        check(
            doc,
            &[
                "EventID=Int(1)",
                "Event.System.EventID=Int(1)",
                "Provider_Name=Str(\"Microsoft-Windows-Sysmon\")",
                "Channel=Str(\"Microsoft-Windows-Sysmon/Operational\")",
                "Computer=Str(\"pc1\")",
                "CommandLine=Str(\"b.exe -x\")",
                "Event.EventData.CommandLine=Str(\"b.exe -x\")",
                "Image=Str(\"C:\\\\a\\\\b.exe\")",
                "process.command_line=Str(\"b.exe -x\")",
                "process.name=Str(\"b.exe\")",
                "process.pid=Int(12)",
                "host.name=Str(\"pc1\")",
                "event.code=Str(\"1\")",
                "event.category=Str(\"process\")",
                "@timestamp=Str(\"2025-11-27T07:40:10.165324Z\")",
            ],
        );
    }
}

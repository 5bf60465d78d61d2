//! IBM QRadar Log Event Extended Format, 1.0 and 2.0:
//! `LEEF:1.0|Vendor|Product|Version|EventID|attributes` (tab-separated) and
//! `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|attributes`.
//!
//! - **Header**: `|`-separated; `\|` and `\\` are a pipe and a backslash.
//!   Fewer than five fields or a version other than 1 or 2 (`1.0`, `2.0`) is
//!   an error.
//! - **Delimiter (2.0)**: one character (`^`), or its code in hex (`x09`,
//!   `0x5E`); empty means tab, and `||` (the field holds a pipe) means `|`.
//!   The field may be left out: when the text before the next `|` contains
//!   `=`, it is the first attribute and the delimiter is tab. Anything else
//!   (`xZZ|`, `^^|`) is an error.
//! - **Attributes**: `key=value` split at the delimiter; values are taken
//!   literally (LEEF has no escapes), and a piece without `=` belongs to the
//!   value before it (a value that holds the delimiter). A first piece
//!   without `=` is an error; so are more than [`crate::MAX_FIELDS`] pieces.
//!
//! Fields: `leef.version`, `leef.vendor`, `leef.product`,
//! `leef.product_version`, `leef.event_id`, `leef.delimiter` (2.0, when
//! given), and every attribute as `leef.attributes.<key>` (a separate
//! namespace, so an attribute named `version` cannot collide with the
//! header's `leef.version`).
//!
//! ECS (never over a value already set): [`KEYS`], plus `event.code` = event
//! id, `observer.*` from the header, `message` = `msg` else the whole
//! record, and the event time from `devTime` read with `devTimeFormat` (a
//! Java `SimpleDateFormat` pattern) when given, else in the forms of
//! [`crate::kv`].

use std::borrow::Cow;

use vigil_model::{FieldId, Timestamp, Value};

use crate::context::Interner;
use crate::ecs::{Conv, Fields};
use crate::json::MAX_FIELDS;
use crate::kv::{self, Row, row};

/// Attributes mapped to ECS, in order of preference per target: the
/// predefined LEEF keys whose meaning matches an ECS field, plus the common
/// `msg`, `action`, `userAgent`, `filePath`, `fileName`. Identity keys
/// (`identSrc`, `identHostName`) and `cat` stay only under
/// `leef.attributes.*`: they describe the identity or a vendor category, not
/// the event's host or an ECS `event.type` value.
pub(crate) const KEYS: &[Row] = &[
    row("src", "source.ip", Conv::Ip),
    row("srcPort", "source.port", Conv::Int),
    row("srcMAC", "source.mac", Conv::Text),
    row("srcPostNAT", "source.nat.ip", Conv::Ip),
    row("srcPostNATPort", "source.nat.port", Conv::Int),
    row("srcBytes", "source.bytes", Conv::Int),
    row("srcPackets", "source.packets", Conv::Int),
    row("dst", "destination.ip", Conv::Ip),
    row("dstPort", "destination.port", Conv::Int),
    row("dstMAC", "destination.mac", Conv::Text),
    row("dstPostNAT", "destination.nat.ip", Conv::Ip),
    row("dstPostNATPort", "destination.nat.port", Conv::Int),
    row("dstBytes", "destination.bytes", Conv::Int),
    row("dstPackets", "destination.packets", Conv::Int),
    row("usrName", "user.name", Conv::UserName),
    row("accountName", "user.name", Conv::UserName),
    row("domain", "user.domain", Conv::Text),
    row("sev", "event.severity", Conv::Int),
    row("proto", "network.transport", Conv::Lower),
    row("url", "url.original", Conv::Copy),
    row("url", "url.full", Conv::AbsoluteUrl),
    row("userAgent", "user_agent.original", Conv::Text),
    row("msg", "message", Conv::Copy),
    row("action", "event.action", Conv::Text),
    row("policy", "rule.name", Conv::Text),
    row("filePath", "file.path", Conv::Copy),
    row("fileName", "file.name", Conv::Text),
    row("filePath", "file.name", Conv::Basename),
];

/// One LEEF record, borrowed from the line where no escape was undone.
#[derive(Debug)]
pub(crate) struct Leef<'a> {
    text: &'a str,
    /// Version, vendor, product, product version, event id.
    header: [Cow<'a, str>; 5],
    /// The delimiter field as written (2.0).
    delimiter: Option<&'a str>,
    attrs: Vec<(&'a str, &'a str)>,
}

const HEADER: [&str; 5] = [
    "leef.version",
    "leef.vendor",
    "leef.product",
    "leef.product_version",
    "leef.event_id",
];

/// The character a 2.0 delimiter field names, `None` if it names none.
fn delimiter_char(spec: &str) -> Option<char> {
    if spec.is_empty() {
        return Some('\t');
    }
    let mut chars = spec.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return (c != '=').then_some(c);
    }
    let hex = spec
        .strip_prefix("0x")
        .or_else(|| spec.strip_prefix("0X"))
        .or_else(|| spec.strip_prefix('x'))
        .or_else(|| spec.strip_prefix('X'))?;
    if hex.is_empty() || hex.len() > 4 {
        return None;
    }
    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    (c != '=' && c != '\0').then_some(c)
}

impl<'a> Leef<'a> {
    /// Splits a record that starts with `LEEF:`.
    pub(crate) fn parse(text: &'a str) -> Result<Self, String> {
        let body = text
            .strip_prefix("LEEF:")
            .ok_or("record does not start with LEEF:")?;
        let (header, start) = kv::split_header::<5>(body, "LEEF", "the attributes")?;
        let major = match header[0].as_ref() {
            "1.0" | "1" => 1,
            "2.0" | "2" => 2,
            other => return Err(format!("LEEF version {other:?} is not 1.0 or 2.0")),
        };
        let rest = &body[start..];
        let (delimiter, delim, attrs) = if major == 1 {
            (None, '\t', rest)
        } else if let Some(after) = rest.strip_prefix("||") {
            (Some("|"), '|', after)
        } else {
            match rest.split_once('|') {
                Some((spec, after)) if !spec.contains('=') => match delimiter_char(spec) {
                    Some(c) => (Some(spec), c, after),
                    None => {
                        return Err(format!(
                            "LEEF 2.0 delimiter {spec:?} is not a character or a hex code (x09, 0x5E)"
                        ));
                    }
                },
                _ => (None, '\t', rest),
            }
        };
        let attrs = split_attributes(attrs, delim)?;
        Ok(Self {
            text,
            header,
            delimiter,
            attrs,
        })
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// `leef.*` fields.
    pub(crate) fn push_fields(&self, names: &mut Interner<'_>, out: &mut Vec<(FieldId, Value)>) {
        for (name, v) in HEADER.iter().zip(&self.header) {
            if !v.is_empty() {
                kv::push(names, out, name, &**v);
            }
        }
        if let Some(d) = self.delimiter.filter(|d| !d.is_empty()) {
            kv::push(names, out, "leef.delimiter", d);
        }
        let mut path = String::with_capacity(48);
        for (k, v) in &self.attrs {
            path.clear();
            path.push_str("leef.attributes.");
            path.push_str(k);
            kv::push(names, out, &path, *v);
        }
    }

    /// ECS fields; returns the event time.
    pub(crate) fn normalise(
        &self,
        names: &mut Interner<'_>,
        fields: &mut Fields<'_>,
        received: Timestamp,
    ) -> Option<Timestamp> {
        kv::apply_rows(KEYS, |k| self.get(k), names, fields);
        let [_, vendor, product, version, event_id] = &self.header;
        for (target, v) in [
            ("observer.vendor", vendor),
            ("observer.product", product),
            ("observer.version", version),
        ] {
            if !v.is_empty() {
                kv::add(names, fields, target, Value::from(&**v));
            }
        }
        if !event_id.is_empty() {
            fields.add_if_absent(FieldId::EVENT_CODE, Value::from(&**event_id));
        }
        fields.add_if_absent(FieldId::MESSAGE, Value::from(self.text));
        let t = self.get("devTime")?;
        match self.get("devTimeFormat").filter(|f| !f.trim().is_empty()) {
            Some(f) => kv::device_time_with(t, f, received),
            None => kv::device_time(t, received),
        }
    }
}

/// The attributes (see the module docs).
fn split_attributes(attrs: &str, delim: char) -> Result<Vec<(&str, &str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    // Start of the current value in `attrs`.
    let mut value_start = 0;
    let mut pos = 0;
    for piece in attrs.split(delim) {
        let piece_start = pos;
        pos += piece.len() + delim.len_utf8();
        if piece.trim().is_empty() {
            continue;
        }
        let key = piece.split_once('=').map(|(k, _)| k.trim());
        match key {
            Some(k) if !k.is_empty() && !k.contains(' ') => {
                if out.len() >= MAX_FIELDS {
                    return Err(format!("more than {MAX_FIELDS} LEEF attributes"));
                }
                value_start = piece_start + piece.find('=').map_or(0, |e| e + 1);
                out.push((k, &attrs[value_start..piece_start + piece.len()]));
            }
            _ => match out.last_mut() {
                // A value holding the delimiter.
                Some(last) => last.1 = &attrs[value_start..piece_start + piece.len()],
                None => {
                    let shown: String = piece.chars().take(40).collect();
                    return Err(format!("LEEF attribute {shown:?} has no '='"));
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use vigil_model::{EventFormat, FieldRegistry, TenantId};

    use super::*;
    use crate::ParseOptions;
    use crate::context::Ctx;

    /// Parses a raw LEEF line and renders `name=value` lines sorted (plus
    /// the event time), or the error. The whole-record `message` is left out.
    fn render(line: &str) -> String {
        let reg = FieldRegistry::new();
        let mut ctx = Ctx::new(&reg);
        let opts = ParseOptions::new(
            TenantId::DEFAULT,
            "test",
            Timestamp::from_secs(1_704_153_600),
        );
        crate::test_util::render_event(
            kv::parse_raw(line.as_bytes(), EventFormat::Leef, &mut ctx, &opts),
            &reg,
            |f, v| f != FieldId::MESSAGE || v.as_str() != Some(line),
        )
    }

    fn check(line: &str, expect: &str) {
        crate::test_util::check_lines(&render(line), expect, line);
    }

    #[test]
    fn leef1_tabs() {
        check(
            "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tspoofed=0\tusrName=joe.black\tsev=5\tdevTime=Jan 18 2024 10:11:12",
            "
            @timestamp=2024-01-18T10:11:12.000000Z
            destination.ip=2.10.20.20
            event.code=15345
            event.kind=event
            event.severity=5
            leef.attributes.devTime=Jan 18 2024 10:11:12
            leef.attributes.dst=2.10.20.20
            leef.attributes.sev=5
            leef.attributes.spoofed=0
            leef.attributes.src=10.50.1.1
            leef.attributes.usrName=joe.black
            leef.event_id=15345
            leef.product=MSExchange
            leef.product_version=4.0 SP1
            leef.vendor=Microsoft
            leef.version=1.0
            observer.product=MSExchange
            observer.vendor=Microsoft
            observer.version=4.0 SP1
            source.ip=10.50.1.1
            time=2024-01-18T10:11:12.000000Z
            user.name=joe.black
            ",
        );
    }

    #[test]
    fn leef2_delimiters() {
        let want = |d: &str| {
            format!(
                "
                @timestamp=2024-01-02T00:00:00.000000Z
                destination.ip=10.0.0.2
                event.code=41
                event.kind=event
                leef.attributes.dst=10.0.0.2
                leef.attributes.msg=a{d}b
                leef.attributes.src=10.0.0.1
                leef.delimiter={}
                leef.event_id=41
                leef.product=P
                leef.version=2.0
                message=a{d}b
                observer.product=P
                source.ip=10.0.0.1
                time=-
                ",
                if d == "\t" { "x09" } else { d }
            )
        };
        for (d, spec) in [("^", "^"), ("|", "|"), ("\t", "x09")] {
            let head = if d == "|" {
                "LEEF:2.0||P||41|||".to_string()
            } else {
                format!("LEEF:2.0||P||41|{spec}|")
            };
            let line = format!("{head}src=10.0.0.1{d}dst=10.0.0.2{d}msg=a{d}b");
            let got = render(&line);
            let mut exp: Vec<&str> = Vec::new();
            let w = want(d);
            exp.extend(w.lines().map(str::trim).filter(|l| !l.is_empty()));
            if d == "\t" {
                // `a<TAB>b` renders over two lines.
                assert!(got.contains("leef.delimiter=x09"), "{got}");
                assert!(got.contains("leef.attributes.msg=a\tb"), "{got}");
            } else {
                assert_eq!(got.lines().collect::<Vec<_>>(), exp, "{line}\n{got}");
            }
        }
        assert!(render("LEEF:2.0|V|P|1|e|0x5E|a=1^b=2").contains("leef.attributes.b=2"));
        assert!(render("LEEF:2.0|V|P|1|e||a=1\tb=2").contains("leef.attributes.b=2"));
        // No delimiter field at all.
        assert!(render("LEEF:2.0|V|P|1|e|a=1\tb=2").contains("leef.attributes.b=2"));
    }

    #[test]
    fn dev_time_format() {
        let line = "LEEF:2.0|V|P|1|e|^|devTime=2024-01-18 10:11:12.5 +0100^devTimeFormat=yyyy-MM-dd HH:mm:ss.S Z";
        assert!(
            render(line).contains("time=2024-01-18T09:11:12.500000Z"),
            "{}",
            render(line)
        );
    }

    #[test]
    fn malformed_records() {
        for (line, reason) in [
            (
                "LEEF:1.0|V|P|1",
                "LEEF header has 3 of 5 fields before the attributes",
            ),
            (
                "LEEF:3.0|V|P|1|e|a=1",
                "LEEF version \"3.0\" is not 1.0 or 2.0",
            ),
            (
                "LEEF:2.0|V|P|1|e|xZZ|a=1",
                "LEEF 2.0 delimiter \"xZZ\" is not a character or a hex code (x09, 0x5E)",
            ),
            (
                "LEEF:1.0|V|P|1|e|junk\ta=1",
                "LEEF attribute \"junk\" has no '='",
            ),
            (
                "LEEF:1.0|V|P|1|e\\",
                "unterminated escape at the end of the LEEF header",
            ),
        ] {
            assert_eq!(render(line), format!("error: {reason}"), "{line}");
        }
    }
}

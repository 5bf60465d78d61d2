//! ArcSight Common Event Format:
//! `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`.
//!
//! - **Header**: seven `|`-separated fields; `\|` and `\\` are a pipe and a
//!   backslash, any other backslash is kept. Fewer than seven fields, a
//!   version that is not a number, or a trailing lone backslash make the
//!   record an error.
//! - **Extension**: `key=value` pairs separated by spaces; a value runs up to
//!   the space before the next `key=` (keys are letters, digits, `_`, `.`,
//!   `-`, as in `ad.xyz` custom keys), so values may hold spaces. That one
//!   space (or tab) separates; further padding belongs to the value, and
//!   the last value loses its trailing blanks. Empty values are kept. In values
//!   `\=`, `\\`, `\|` are the characters, `\n` and `\r` line breaks; an `=`
//!   not preceded by ` key` stays in the value (`request=https://h/?a=b`).
//!   Text before the first key, or no pair in a non-empty extension, is an
//!   error; so is a trailing lone backslash and more than
//!   [`crate::MAX_FIELDS`] pairs.
//!
//! Fields: `cef.version`, `cef.device_vendor`, `cef.device_product`,
//! `cef.device_version`, `cef.signature_id`, `cef.name`, `cef.severity`, and
//! every pair as `cef.extensions.<key>` (repeated keys give several values).
//! A custom field with a label (`cs1Label=Rule cs1=Block`) is also stored
//! under its label, `cef.extensions.Rule`, unless a key of that name exists.
//! Only these namespaced names: plain `src` would collide with other
//! sources' fields and ECS names.
//!
//! ECS (never over a value already set, e.g. by a syslog header):
//! [`KEYS`], plus `event.code` = signature id, `event.severity` = numeric
//! severity (`Low` 3, `Medium` 6, `High` 8, `Very-High` 10), `observer.*`
//! from the device header fields, `message` = `msg` else the name,
//! `file.hash.{md5,sha1,sha256,sha512}` from `fileHash` by length, and the
//! event time from `rt`, else `end`, else `start` (see [`crate::kv`] for the
//! formats); `start`/`end` also fill `event.start`/`event.end`;
//! `deviceDirection` 0/1 gives `network.direction` inbound/outbound. `in`
//! and `out` are bytes from source to destination and back, so they fill
//! `source.bytes` and `destination.bytes`.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use vigil_model::{FieldId, Timestamp, Value};

use crate::context::Interner;
use crate::ecs::{self, Conv, Fields};
use crate::json::MAX_FIELDS;
use crate::kv::{self, Row, row};

/// Extension keys mapped to ECS, in order of preference per target. Full
/// key names (`sourceAddress`) follow the short ones.
pub(crate) const KEYS: &[Row] = &[
    row("src", "source.ip", Conv::Ip),
    row("sourceAddress", "source.ip", Conv::Ip),
    row("c6a2", "source.ip", Conv::Ip),
    row("spt", "source.port", Conv::Int),
    row("sourcePort", "source.port", Conv::Int),
    row("shost", "source.address", Conv::Text),
    row("sourceHostName", "source.address", Conv::Text),
    row("smac", "source.mac", Conv::Text),
    row("sourceTranslatedAddress", "source.nat.ip", Conv::Ip),
    row("sourceTranslatedPort", "source.nat.port", Conv::Int),
    row("in", "source.bytes", Conv::Int),
    row("bytesIn", "source.bytes", Conv::Int),
    row("dst", "destination.ip", Conv::Ip),
    row("destinationAddress", "destination.ip", Conv::Ip),
    row("c6a3", "destination.ip", Conv::Ip),
    row("dpt", "destination.port", Conv::Int),
    row("destinationPort", "destination.port", Conv::Int),
    row("dhost", "destination.address", Conv::Text),
    row("destinationHostName", "destination.address", Conv::Text),
    row("dmac", "destination.mac", Conv::Text),
    row(
        "destinationTranslatedAddress",
        "destination.nat.ip",
        Conv::Ip,
    ),
    row(
        "destinationTranslatedPort",
        "destination.nat.port",
        Conv::Int,
    ),
    row("out", "destination.bytes", Conv::Int),
    row("bytesOut", "destination.bytes", Conv::Int),
    row("suser", "user.name", Conv::UserName),
    row("sourceUserName", "user.name", Conv::UserName),
    row("suid", "user.id", Conv::Text),
    row("duser", "destination.user.name", Conv::Text),
    row("destinationUserName", "destination.user.name", Conv::Text),
    row("duid", "destination.user.id", Conv::Text),
    row("dvchost", "observer.hostname", Conv::Text),
    row("deviceHostName", "observer.hostname", Conv::Text),
    row("dvchost", "host.name", Conv::Text),
    row("deviceHostName", "host.name", Conv::Text),
    row("dvc", "observer.ip", Conv::Ip),
    row("deviceAddress", "observer.ip", Conv::Ip),
    row("request", "url.original", Conv::Copy),
    row("requestURL", "url.original", Conv::Copy),
    row("request", "url.full", Conv::AbsoluteUrl),
    row("requestURL", "url.full", Conv::AbsoluteUrl),
    row("requestMethod", "http.request.method", Conv::Text),
    row(
        "requestClientApplication",
        "user_agent.original",
        Conv::Text,
    ),
    row("filePath", "file.path", Conv::Copy),
    row("fname", "file.name", Conv::Text),
    row("fileName", "file.name", Conv::Text),
    row("filePath", "file.name", Conv::Basename),
    row("fsize", "file.size", Conv::Int),
    row("msg", "message", Conv::Copy),
    row("message", "message", Conv::Copy),
    row("act", "event.action", Conv::Text),
    row("deviceAction", "event.action", Conv::Text),
    row("outcome", "event.outcome", Conv::Lower),
    row("reason", "event.reason", Conv::Text),
    row("app", "network.protocol", Conv::Lower),
    row("applicationProtocol", "network.protocol", Conv::Lower),
    row("proto", "network.transport", Conv::Lower),
    row("transportProtocol", "network.transport", Conv::Lower),
    row("sproc", "process.name", Conv::Text),
    row("sourceProcessName", "process.name", Conv::Text),
    row("spid", "process.pid", Conv::Int),
    row("sourceProcessId", "process.pid", Conv::Int),
    row("externalId", "event.id", Conv::Text),
];

/// Header field names, in header order.
const HEADER: [&str; 7] = [
    "cef.version",
    "cef.device_vendor",
    "cef.device_product",
    "cef.device_version",
    "cef.signature_id",
    "cef.name",
    "cef.severity",
];

/// One CEF record, borrowed from the line where no escape was undone.
#[derive(Debug)]
pub(crate) struct Cef<'a> {
    header: [Cow<'a, str>; 7],
    ext: Vec<(&'a str, Cow<'a, str>)>,
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

impl<'a> Cef<'a> {
    /// Splits a record that starts with `CEF:`.
    pub(crate) fn parse(text: &'a str) -> Result<Self, String> {
        let body = text
            .strip_prefix("CEF:")
            .ok_or("record does not start with CEF:")?;
        let (header, start) = kv::split_header::<7>(body, "CEF", "the extension")?;
        let version = &header[0];
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        let ok = match version.split_once('.') {
            Some((a, b)) => numeric(a) && numeric(b),
            None => numeric(version),
        };
        if !ok {
            return Err(format!("CEF version {version:?} is not a number"));
        }
        let ext = split_extension(&body[start..])?;
        Ok(Self { header, ext })
    }

    /// The first value of extension `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.ext.iter().find(|(k, _)| *k == key).map(|(_, v)| &**v)
    }

    /// `cef.*` fields.
    pub(crate) fn push_fields(&self, names: &mut Interner<'_>, out: &mut Vec<(FieldId, Value)>) {
        for (name, v) in HEADER.iter().zip(&self.header) {
            if !v.is_empty() {
                kv::push(names, out, name, &**v);
            }
        }
        let mut path = String::with_capacity(48);
        for (k, v) in &self.ext {
            path.clear();
            path.push_str("cef.extensions.");
            path.push_str(k);
            kv::push(names, out, &path, &**v);
        }
        if !self.ext.iter().any(|(k, _)| k.ends_with("Label")) {
            return;
        }
        // First value per key: labels are resolved in linear time even in
        // a record of MAX_FIELDS keys.
        let mut first: FxHashMap<&str, &str> = FxHashMap::default();
        for (k, v) in &self.ext {
            first.entry(k).or_insert(v);
        }
        for (k, label) in &self.ext {
            let Some(base) = k.strip_suffix("Label") else {
                continue;
            };
            let label = label.trim();
            if base.is_empty() || label.is_empty() || first.contains_key(label) {
                continue;
            }
            if let Some(v) = first.get(base) {
                path.clear();
                path.push_str("cef.extensions.");
                path.push_str(label);
                kv::push(names, out, &path, *v);
            }
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
        let [_, vendor, product, version, signature, name, severity] = &self.header;
        for (target, v) in [
            ("observer.vendor", vendor),
            ("observer.product", product),
            ("observer.version", version),
        ] {
            if !v.is_empty() {
                kv::add(names, fields, target, Value::from(&**v));
            }
        }
        if !signature.is_empty() {
            fields.add_if_absent(FieldId::EVENT_CODE, Value::from(&**signature));
        }
        if !name.is_empty() {
            fields.add_if_absent(FieldId::MESSAGE, Value::from(&**name));
        }
        let direction = match self.get("deviceDirection").map(str::trim) {
            Some("0") => Some("inbound"),
            Some("1") => Some("outbound"),
            _ => None,
        };
        if let Some(d) = direction {
            kv::add(names, fields, "network.direction", Value::from(d));
        }
        if let Some(sev) = severity_number(severity) {
            fields.add_if_absent(FieldId::EVENT_SEVERITY, Value::Int(sev));
        }
        if let Some(hash) = self.get("fileHash").map(str::trim) {
            let target = match hash.len() {
                32 => Some(FieldId::FILE_HASH_MD5),
                40 => Some(FieldId::FILE_HASH_SHA1),
                64 => Some(FieldId::FILE_HASH_SHA256),
                128 => Some(FieldId::FILE_HASH_SHA512),
                _ => None,
            };
            if let Some(t) = target.filter(|_| hash.bytes().all(|c| c.is_ascii_hexdigit())) {
                ecs::map_value(fields, t, Conv::Lower, Value::from(hash));
            }
        }
        let at = |k: &str| self.get(k).and_then(|v| kv::device_time(v, received));
        let (rt, start, end) = (at("rt"), at("start"), at("end"));
        for (target, t) in [("event.start", start), ("event.end", end)] {
            if let Some(t) = t {
                kv::add(names, fields, target, Value::from(t.to_rfc3339()));
            }
        }
        rt.or(end).or(start)
    }
}

/// `event.severity` from the CEF severity.
fn severity_number(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return (0..=10).contains(&n).then_some(n);
    }
    match s.to_ascii_lowercase().as_str() {
        "low" => Some(3),
        "medium" => Some(6),
        "high" => Some(8),
        "very-high" | "very high" => Some(10),
        _ => None,
    }
}

/// The extension's pairs (see the module docs).
fn split_extension(ext: &str) -> Result<Vec<(&str, Cow<'_, str>)>, String> {
    let b = ext.as_bytes();
    // (key start, position of its `=`)
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 >= b.len() => {
                return Err("unterminated escape at the end of the CEF extension".into());
            }
            b'\\' => i += 2,
            b'=' => {
                let mut k = i;
                while k > 0 && is_key_byte(b[k - 1]) {
                    k -= 1;
                }
                let starts = k == 0 || b[k - 1] == b' ' || b[k - 1] == b'\t';
                let after_last = keys.last().is_none_or(|&(_, eq)| k > eq);
                if k < i && starts && after_last {
                    if keys.len() >= MAX_FIELDS {
                        return Err(format!("more than {MAX_FIELDS} CEF extension keys"));
                    }
                    keys.push((k, i));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    let Some(&(first, _)) = keys.first() else {
        return match ext.trim() {
            "" => Ok(Vec::new()),
            other => Err(format!(
                "CEF extension has no key=value pair: {:?}",
                snippet(other)
            )),
        };
    };
    let lead = ext[..first].trim();
    if !lead.is_empty() {
        return Err(format!(
            "CEF extension starts with {:?}, not key=value",
            snippet(lead)
        ));
    }
    let mut out = Vec::with_capacity(keys.len());
    for (n, &(k, eq)) in keys.iter().enumerate() {
        // The one space (or tab) before the next key separates; other
        // padding is the value's. The last value loses trailing blanks.
        let value = match keys.get(n + 1) {
            Some(&(next, _)) => &ext[eq + 1..next - 1],
            None => ext[eq + 1..].trim_end(),
        };
        out.push((&ext[k..eq], kv::unescape(value, &['=', '|'], true)));
    }
    Ok(out)
}

/// At most 40 characters of `s` for an error message.
fn snippet(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::{FieldRegistry, TenantId};

    use super::*;
    use crate::ParseOptions;
    use crate::context::Ctx;

    /// Parses a raw CEF line and renders `name=value` lines sorted (plus the
    /// event time), or the error.
    fn render(line: &str) -> String {
        let reg = FieldRegistry::new();
        let mut ctx = Ctx::new(&reg);
        let opts = ParseOptions::new(
            TenantId::DEFAULT,
            "test",
            Timestamp::from_secs(1_704_153_600),
        );
        crate::test_util::render_event(
            kv::parse_raw(
                line.as_bytes(),
                vigil_model::EventFormat::Cef,
                &mut ctx,
                &opts,
            ),
            &reg,
            |_, _| true,
        )
    }

    fn check(line: &str, expect: &str) {
        crate::test_util::check_lines(&render(line), expect, line);
    }

    #[test]
    fn spec_example_with_escapes() {
        check(
            r"CEF:0|Security\|Corp|threat\\manager|1.0|100|detected a \| in message|10|src=10.0.0.1 act=blocked a \= dst=1.1.1.1 msg=line one\nline two\\end",
            r"
            @timestamp=2024-01-02T00:00:00.000000Z
            cef.device_product=threat\manager
            cef.device_vendor=Security|Corp
            cef.device_version=1.0
            cef.extensions.act=blocked a =
            cef.extensions.dst=1.1.1.1
            cef.extensions.msg=line one⏎line two\end
            cef.extensions.src=10.0.0.1
            cef.name=detected a | in message
            cef.severity=10
            cef.signature_id=100
            cef.version=0
            destination.ip=1.1.1.1
            event.action=blocked a =
            event.code=100
            event.kind=event
            event.severity=10
            message=line one⏎line two\end
            observer.product=threat\manager
            observer.vendor=Security|Corp
            observer.version=1.0
            source.ip=10.0.0.1
            time=-
            ",
        );
    }

    #[test]
    fn labels_users_time_and_urls() {
        check(
            "CEF:0|V|P|1|sig|Name here|High|rt=1704067200123 suser=CORP\\\\alice duser=bob cs1Label=Rule Name cs1=Block all request=https://e.com/?a=b&c=d spt=5 fileHash=D41D8CD98F00B204E9800998ECF8427E dvchost=fw1",
            r"
            @timestamp=2024-01-01T00:00:00.123000Z
            cef.device_product=P
            cef.device_vendor=V
            cef.device_version=1
            cef.extensions.Rule Name=Block all
            cef.extensions.cs1=Block all
            cef.extensions.cs1Label=Rule Name
            cef.extensions.duser=bob
            cef.extensions.dvchost=fw1
            cef.extensions.fileHash=D41D8CD98F00B204E9800998ECF8427E
            cef.extensions.request=https://e.com/?a=b&c=d
            cef.extensions.rt=1704067200123
            cef.extensions.spt=5
            cef.extensions.suser=CORP\alice
            cef.name=Name here
            cef.severity=High
            cef.signature_id=sig
            cef.version=0
            destination.user.name=bob
            event.code=sig
            event.kind=event
            event.severity=8
            file.hash.md5=d41d8cd98f00b204e9800998ecf8427e
            host.name=fw1
            message=Name here
            observer.hostname=fw1
            observer.product=P
            observer.vendor=V
            observer.version=1
            source.port=5
            time=2024-01-01T00:00:00.123000Z
            url.full=https://e.com/?a=b&c=d
            url.original=https://e.com/?a=b&c=d
            user.domain=CORP
            user.name=alice
            ",
        );
    }

    #[test]
    fn padding_and_tabs() {
        let got = render(
            "CEF:0|V|P|1|s|n|3|spt=1232 msg=kept  padding   src=10.0.0.1 x=tab\tis\t dst=10.0.0.2 y=last \t ",
        );
        for want in [
            "cef.extensions.msg=kept  padding  ",
            "cef.extensions.x=tab\tis\t",
            "cef.extensions.y=last",
            "source.ip=10.0.0.1",
            "destination.ip=10.0.0.2",
        ] {
            assert!(got.lines().any(|l| l == want), "missing {want:?} in\n{got}");
        }
        // A tab before a key separates too.
        assert!(render("CEF:0|V|P|1|s|n|3|msg=a\tsrc=10.0.0.3").contains("source.ip=10.0.0.3"));
    }

    #[test]
    fn empty_extension_and_versions() {
        assert!(render("CEF:1|V|P|1|s|n|Unknown|").contains("cef.severity=Unknown"));
        assert!(!render("CEF:1|V|P|1|s|n|Unknown|").contains("event.severity"));
        assert!(render("CEF:0.1|V|P|1|s|n|3|   ").contains("cef.version=0.1"));
    }

    #[test]
    fn malformed_records() {
        for (line, reason) in [
            (
                "CEF:0|V|P|1|100|name",
                "CEF header has 5 of 7 fields before the extension",
            ),
            ("CEF:", "CEF header has 0 of 7 fields before the extension"),
            ("CEF:x|V|P|1|s|n|3|a=b", "CEF version \"x\" is not a number"),
            ("CEF:|V|P|1|s|n|3|a=b", "CEF version \"\" is not a number"),
            (
                "CEF:0|V|P|1|s|n|3|a=b\\",
                "unterminated escape at the end of the CEF extension",
            ),
            (
                "CEF:0|V|P|1|s|n\\",
                "unterminated escape at the end of the CEF header",
            ),
            (
                "CEF:0|V|P|1|s|n|3|just text",
                "CEF extension has no key=value pair: \"just text\"",
            ),
            (
                "CEF:0|V|P|1|s|n|3|junk src=1",
                "CEF extension starts with \"junk\", not key=value",
            ),
            (
                "LEEF:1.0|V|P|1|e|src=1",
                "record does not start with CEF: (a syslog header in front needs format syslog or auto)",
            ),
        ] {
            assert_eq!(render(line), format!("error: {reason}"), "{line}");
        }
    }

    #[test]
    fn many_labels_stay_linear() {
        let pairs: Vec<String> = (0..4_000)
            .map(|i| format!("cs{i}=v{i} cs{i}Label=L{i}"))
            .collect();
        let line = format!("CEF:0|V|P|1|s|n|3|{}", pairs.join(" "));
        let got = render(&line);
        assert!(got.contains("cef.extensions.L3999=v3999"));
    }

    #[test]
    fn key_limit() {
        let many: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("k{i}=1")).collect();
        let line = format!("CEF:0|V|P|1|s|n|3|{}", many.join(" "));
        assert_eq!(render(&line), "error: more than 10000 CEF extension keys");
    }
}

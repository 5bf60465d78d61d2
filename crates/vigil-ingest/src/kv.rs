//! What the two key=value formats, CEF and LEEF, share: the payload switch
//! (raw lines and syslog bodies), the key → ECS tables' runner, and device
//! time formats (`rt`, `devTime` with `devTimeFormat`).
//!
//! Device times accepted, in order: an epoch number of 9–19 digits (unit by
//! magnitude, so CEF's milliseconds work), RFC 3339 and its relatives,
//! RFC 2822, and the ArcSight forms `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]`. A
//! date without a year takes the year of the receive time (the year before
//! when that would put it more than a day in the future, as for RFC 3164).
//! Zones: `Z`, `UTC`, `GMT`, numeric offsets (`+02:00`, `+0200`, `GMT+2`)
//! and a few unambiguous North American and European abbreviations; an
//! unknown zone name is read as UTC.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use vigil_model::{Event, EventBuilder, EventFormat, FieldId, Timestamp, Value};

use crate::ParseOptions;
use crate::cef::Cef;
use crate::context::{Ctx, Interner};
use crate::ecs::{self, Conv, Fields};
use crate::leef::Leef;
use crate::time;

/// One row of a key → ECS table: the first row of a target whose key is
/// present with a usable value wins.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) key: &'static str,
    pub(crate) target: &'static str,
    pub(crate) conv: Conv,
}

pub(crate) const fn row(key: &'static str, target: &'static str, conv: Conv) -> Row {
    Row { key, target, conv }
}

/// Fills ECS targets from a record's keys (never over a set value).
pub(crate) fn apply_rows<'a>(
    rows: &[Row],
    get: impl Fn(&str) -> Option<&'a str>,
    names: &mut Interner<'_>,
    fields: &mut Fields<'_>,
) {
    for r in rows {
        let Some(v) = get(r.key).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        if let Some(id) = names.intern(r.target) {
            ecs::map_value(fields, id, r.conv, Value::from(v));
        }
    }
}

/// Interns `name` and adds one value to `out`.
pub(crate) fn push(
    names: &mut Interner<'_>,
    out: &mut Vec<(FieldId, Value)>,
    name: &str,
    v: impl Into<Value>,
) {
    if let Some(id) = names.intern(name) {
        out.push((id, v.into()));
    }
}

/// Interns `name` and adds a value to `fields` unless it is set.
pub(crate) fn add(names: &mut Interner<'_>, fields: &mut Fields<'_>, name: &str, v: Value) {
    if let Some(id) = names.intern(name) {
        fields.add_if_absent(id, v);
    }
}

/// A parsed CEF or LEEF payload.
#[derive(Debug)]
pub(crate) enum Payload<'a> {
    /// `CEF:…`.
    Cef(Cef<'a>),
    /// `LEEF:…`.
    Leef(Leef<'a>),
}

impl<'a> Payload<'a> {
    /// The payload `text` starts with, if it starts with `CEF:` or `LEEF:`;
    /// `Some(Err)` when it does but is malformed.
    pub(crate) fn detect(text: &'a str) -> Option<Result<Self, String>> {
        if text.starts_with("CEF:") {
            Some(Cef::parse(text).map(Payload::Cef))
        } else if text.starts_with("LEEF:") {
            Some(Leef::parse(text).map(Payload::Leef))
        } else {
            None
        }
    }

    /// Pushes the format's own fields (`cef.*`, `leef.*`) and `message`.
    pub(crate) fn push_fields(&self, names: &mut Interner<'_>, out: &mut Vec<(FieldId, Value)>) {
        match self {
            Payload::Cef(c) => c.push_fields(names, out),
            Payload::Leef(l) => l.push_fields(names, out),
        }
    }

    /// Adds the ECS fields; returns the device time if one parses.
    pub(crate) fn normalise(
        &self,
        names: &mut Interner<'_>,
        fields: &mut Fields<'_>,
        received: Timestamp,
    ) -> Option<Timestamp> {
        match self {
            Payload::Cef(c) => c.normalise(names, fields, received),
            Payload::Leef(l) => l.normalise(names, fields, received),
        }
    }
}

/// Parses a raw CEF or LEEF line (the caller checked the size).
pub(crate) fn parse_raw(
    line: &[u8],
    format: EventFormat,
    ctx: &mut Ctx<'_>,
    opts: &ParseOptions,
) -> Result<Event, String> {
    let prefix = match format {
        EventFormat::Leef => "LEEF:",
        _ => "CEF:",
    };
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim();
    let payload = match Payload::detect(text) {
        Some(Ok(p)) if text.starts_with(prefix) => p,
        Some(Err(reason)) if text.starts_with(prefix) => return Err(reason),
        _ => {
            return Err(format!(
                "record does not start with {prefix} (a syslog header in front needs format syslog or auto)"
            ));
        }
    };
    let mut fields = Vec::with_capacity(ctx.field_hint);
    payload.push_fields(&mut ctx.names, &mut fields);
    ctx.field_hint = (fields.len() + 16).clamp(8, 256);
    let mut fields = Fields::new(&ctx.ecs, fields);
    let time = payload.normalise(&mut ctx.names, &mut fields, opts.received_at);
    let mut b = EventBuilder::new(opts.tenant, opts.received_at, &opts.source, format, line);
    ecs::finish(&mut fields, time, opts.received_at, &mut b);
    fields.into_builder(&mut b);
    Ok(b.build())
}

/// Splits the `N` pipe-separated header fields at the start of a CEF or LEEF
/// `body` (after its `CEF:`/`LEEF:` prefix), decoding `\|` and `\\`, and
/// returns them with the byte offset where the rest begins.
pub(crate) fn split_header<'a, const N: usize>(
    body: &'a str,
    what: &str,
    rest: &str,
) -> Result<([Cow<'a, str>; N], usize), String> {
    let b = body.as_bytes();
    let mut header: Vec<Cow<'a, str>> = Vec::with_capacity(N);
    let (mut start, mut i) = (0, 0);
    while i < b.len() && header.len() < N {
        match b[i] {
            b'\\' if i + 1 >= b.len() => {
                return Err(format!(
                    "unterminated escape at the end of the {what} header"
                ));
            }
            b'\\' => i += 2,
            b'|' => {
                header.push(unescape(body[start..i].trim(), &['|'], false));
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    match <[Cow<'a, str>; N]>::try_from(header) {
        Ok(h) => Ok((h, start)),
        Err(_) => {
            let n = body[..i.min(body.len())]
                .bytes()
                .filter(|c| *c == b'|')
                .count();
            Err(format!(
                "{what} header has {} of {N} fields before {rest}",
                n.min(N - 1)
            ))
        }
    }
}

/// Undoes backslash escapes: `\\` and `\<c>` for every `c` in `special`
/// give the character; `\n` and `\r` give line breaks when `newlines`;
/// any other backslash stays as it is (lenient towards Windows paths).
pub(crate) fn unescape<'s>(
    s: &'s str,
    special: &[char],
    newlines: bool,
) -> std::borrow::Cow<'s, str> {
    if !s.contains('\\') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') if newlines => out.push('\n'),
            Some('r') if newlines => out.push('\r'),
            Some(e) if special.contains(&e) => out.push(e),
            Some(e) => {
                out.push('\\');
                out.push(e);
            }
            None => out.push('\\'),
        }
    }
    out.into()
}

/// A device time in any of the forms of the module docs.
pub(crate) fn device_time(s: &str, received: Timestamp) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = time::parse_str(s) {
        return Some(t);
    }
    arcsight_time(s, received)
}

/// A device time with a Java `SimpleDateFormat` pattern (LEEF's
/// `devTimeFormat`), falling back to [`device_time`].
pub(crate) fn device_time_with(s: &str, pattern: &str, received: Timestamp) -> Option<Timestamp> {
    java_time(s.trim(), pattern).or_else(|| device_time(s, received))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Offset in seconds of a zone name or numeric offset.
fn zone_offset(z: &str) -> Option<i32> {
    let upper = z.to_ascii_uppercase();
    let named = match upper.as_str() {
        "Z" | "UTC" | "GMT" | "UT" => Some(0),
        "EST" => Some(-5),
        "EDT" | "AST" => Some(-4),
        "CST" => Some(-6),
        "CDT" => Some(-5),
        "MST" => Some(-7),
        "MDT" => Some(-6),
        "PST" => Some(-8),
        "PDT" => Some(-7),
        "WET" => Some(0),
        "CET" | "BST" | "WEST" => Some(1),
        "CEST" | "EET" => Some(2),
        "EEST" | "MSK" => Some(3),
        "JST" | "KST" => Some(9),
        _ => None,
    };
    if let Some(h) = named {
        return Some(h * 3600);
    }
    let num = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))
        .unwrap_or(&upper);
    let (sign, rest) = match num.as_bytes().first()? {
        b'+' => (1, &num[1..]),
        b'-' => (-1, &num[1..]),
        _ => return None,
    };
    let rest = rest.replace(':', "");
    if rest.is_empty() || rest.len() > 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if rest.len() <= 2 {
        (rest.parse::<i32>().ok()?, 0)
    } else {
        let split = rest.len() - 2;
        (
            rest[..split].parse::<i32>().ok()?,
            rest[split..].parse::<i32>().ok()?,
        )
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]`.
fn arcsight_time(s: &str, received: Timestamp) -> Option<Timestamp> {
    let mut parts = s.split_whitespace();
    let mon = parts.next()?.to_ascii_lowercase();
    let mon = MONTHS.iter().position(|m| mon.starts_with(m))? as u32 + 1;
    let day: u32 = parts.next()?.parse().ok()?;
    let mut next = parts.next()?;
    let year = if next.len() == 4 && next.bytes().all(|b| b.is_ascii_digit()) {
        let y = next.parse::<i32>().ok()?;
        next = parts.next()?;
        Some(y)
    } else {
        None
    };
    let (hms, frac) = match next.split_once(['.', ',']) {
        Some((a, f)) => (a, Some(f)),
        None => (next, None),
    };
    let mut t = hms.split(':');
    let h: u32 = t.next()?.parse().ok()?;
    let mi: u32 = t.next()?.parse().ok()?;
    let sec: u32 = t.next()?.parse().ok()?;
    if t.next().is_some() {
        return None;
    }
    let micros = match frac {
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &f[..f.len().min(6)];
            digits.parse::<u32>().ok()? * 10u32.pow(6 - digits.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    let offset = match parts.next() {
        Some(z) => zone_offset(z).unwrap_or(0),
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let at = |y: i32| -> Option<Timestamp> {
        let naive = NaiveDate::from_ymd_opt(y, mon, day)?.and_hms_micro_opt(h, mi, sec, micros)?;
        let utc = naive.and_utc().timestamp_micros() - i64::from(offset) * 1_000_000;
        Some(Timestamp::from_micros(utc))
    };
    match year {
        Some(y) => at(y),
        None => {
            let y = received
                .to_datetime()
                .map_or(1970, |d| chrono::Datelike::year(&d));
            match at(y) {
                Some(t) if t.as_micros() > received.as_micros().saturating_add(86_400_000_000) => {
                    at(y - 1)
                }
                other => other,
            }
        }
    }
}

/// A Java `SimpleDateFormat` pattern turned into a chrono format; `None`
/// for letters chrono cannot read. A zone name (`z`) is cut off the pattern
/// and the value and read by [`zone_offset`].
fn java_time(s: &str, pattern: &str) -> Option<Timestamp> {
    let (pattern, value, zone) = match pattern.trim_end().strip_suffix('z') {
        Some(p) => {
            let p = p.trim_end_matches('z');
            let (v, z) = s.rsplit_once(' ')?;
            (p.trim_end(), v.trim_end(), zone_offset(z).or(Some(0)))
        }
        None => (pattern.trim(), s, None),
    };
    let mut fmt = String::with_capacity(pattern.len() * 2);
    let mut has_offset = false;
    let b: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '\'' {
            let end = b[i + 1..].iter().position(|&x| x == '\'')? + i + 1;
            if end == i + 1 {
                fmt.push('\'');
            }
            for &x in &b[i + 1..end] {
                if x == '%' {
                    fmt.push('%');
                }
                fmt.push(x);
            }
            i = end + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '%' {
                fmt.push('%');
            }
            fmt.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < b.len() && b[i + n] == c {
            n += 1;
        }
        let spec = match (c, n) {
            ('y', 2) => "%y",
            ('y', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', _) if fmt.ends_with('.') => {
                fmt.pop();
                "%.f"
            }
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('S', _) => "%3f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z' | 'X', 1 | 2) => {
                has_offset = true;
                "%z"
            }
            ('X', _) => {
                has_offset = true;
                "%:z"
            }
            _ => return None,
        };
        fmt.push_str(spec);
        i += n;
    }
    let micros = if has_offset {
        DateTime::parse_from_str(value, &fmt)
            .ok()?
            .to_utc()
            .timestamp_micros()
    } else {
        let naive = NaiveDateTime::parse_from_str(value, &fmt).ok()?;
        naive.and_utc().timestamp_micros() - i64::from(zone.unwrap_or(0)) * 1_000_000
    };
    Some(Timestamp::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Received 2024-01-02T00:00:00Z.
    const RECEIVED: i64 = 1_704_153_600;

    fn check(input: &str, pattern: Option<&str>, expect: &str) {
        let received = Timestamp::from_secs(RECEIVED);
        let t = match pattern {
            Some(p) => device_time_with(input, p, received),
            None => device_time(input, received),
        };
        let got = t.map_or("-".into(), |t| t.to_rfc3339());
        assert_eq!(got, expect, "{input:?} with {pattern:?}");
    }

    #[test]
    fn device_times() {
        check("1700000000123", None, "2023-11-14T22:13:20.123000Z");
        check("Nov 14 2023 22:13:20", None, "2023-11-14T22:13:20.000000Z");
        check(
            "Nov 14 2023 23:13:20.5 CET",
            None,
            "2023-11-14T22:13:20.500000Z",
        );
        check(
            "Nov 14 2023 22:13:20.123 +02:00",
            None,
            "2023-11-14T20:13:20.123000Z",
        );
        check("Dec 31 23:00:00", None, "2023-12-31T23:00:00.000000Z");
        check("Jan  1 10:00:00 UTC", None, "2024-01-01T10:00:00.000000Z");
        check("2024-05-01T12:00:00Z", None, "2024-05-01T12:00:00.000000Z");
        check("Feb 30 2024 10:00:00", None, "-");
        check("yesterday", None, "-");
        check("", None, "-");
    }

    #[test]
    fn java_patterns() {
        check(
            "Jan 18 2024 10:11:12.345 PST",
            Some("MMM dd yyyy HH:mm:ss.SSS z"),
            "2024-01-18T18:11:12.345000Z",
        );
        check(
            "2024-01-18T10:11:12.345+0100",
            Some("yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
            "2024-01-18T09:11:12.345000Z",
        );
        check(
            "18/01/2024 10:11:12",
            Some("dd/MM/yyyy HH:mm:ss"),
            "2024-01-18T10:11:12.000000Z",
        );
        // An unusable pattern falls back to the generic forms.
        check("1705572672000", Some("qqq"), "2024-01-18T10:11:12.000000Z");
        check("junk", Some("'unterminated"), "-");
    }

    #[test]
    fn unescaping() {
        assert_eq!(
            unescape(r"a\=b\\c\nd\|e\x", &['='], true),
            "a=b\\c\nd\\|e\\x"
        );
        assert_eq!(unescape(r"a\|b\n", &['|'], false), "a|b\\n");
        assert_eq!(unescape("plain", &[], true), "plain");
    }
}

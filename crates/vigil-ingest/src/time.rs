//! Event-time parsing: RFC 3339 and its common relatives, epoch numbers.
//!
//! Accepted text forms (fast hand-written path, no allocation):
//! `YYYY-MM-DD[T| ]HH:MM:SS[.fraction][zone]` where `zone` is `Z`, `±HH:MM`,
//! `±HHMM`, `±HH`, ` UTC` or ` GMT`, optionally after one space. A time
//! **without a zone is taken as UTC** (Sysmon's `UtcTime`
//! `2024-05-01 12:00:00.123` is the common case). Fractions keep up to
//! microseconds; extra digits are truncated. RFC 2822 (`Tue, 1 Jul 2003
//! 10:52:37 +0200`) is the fallback, and a string of 9–19 digits is read as an
//! epoch number.
//!
//! Epoch numbers pick their unit by magnitude: below 10^11 seconds (up to
//! year 5138), below 10^14 milliseconds, below 10^17 microseconds, else
//! nanoseconds. Fractions of seconds are kept (Zeek's `ts: 1700000000.123456`).

use vigil_model::{Timestamp, Value};

/// A timestamp from a field value (string or number).
pub(crate) fn from_value(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Str(s) => parse_str(s),
        Value::Int(i) => from_epoch_int(*i),
        Value::Float(f) => from_epoch_float(*f),
        Value::Null | Value::Bool(_) => None,
    }
}

/// Parses a textual timestamp (see the module docs for the accepted forms).
pub(crate) fn parse_str(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Some(t) = parse_iso_like(s.as_bytes()) {
        return Some(t);
    }
    let b = s.as_bytes();
    if (9..=19).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return s.parse::<i64>().ok().and_then(from_epoch_int);
    }
    if b.len() > 2 && b.len() < 64 && b.iter().any(u8::is_ascii_alphabetic) {
        return chrono::DateTime::parse_from_rfc2822(s)
            .ok()
            .map(|d| Timestamp::from(d.to_utc()));
    }
    None
}

/// An integer epoch of unknown unit.
pub(crate) fn from_epoch_int(i: i64) -> Option<Timestamp> {
    let a = i.unsigned_abs();
    let us = if a < 100_000_000_000 {
        i.checked_mul(1_000_000)?
    } else if a < 100_000_000_000_000 {
        i.checked_mul(1_000)?
    } else if a < 100_000_000_000_000_000 {
        i
    } else {
        i / 1_000
    };
    Some(Timestamp::from_micros(us))
}

/// A floating-point epoch of unknown unit.
pub(crate) fn from_epoch_float(f: f64) -> Option<Timestamp> {
    if !f.is_finite() {
        return None;
    }
    let a = f.abs();
    let us = if a < 1e11 {
        f * 1e6
    } else if a < 1e14 {
        f * 1e3
    } else if a < 1e17 {
        f
    } else {
        f / 1e3
    };
    if us.abs() > 9.0e18 {
        return None;
    }
    Some(Timestamp::from_micros(us.round() as i64))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f][zone]`.
fn parse_iso_like(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let y = i64::from(digits(b, 0, 4)?);
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    let h = digits(b, 11, 2)?;
    let mi = digits(b, 14, 2)?;
    let s = digits(b, 17, 2)?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let mut i = 19;
    let mut micros: i64 = 0;
    if matches!(b.get(i), Some(b'.') | Some(b',')) {
        i += 1;
        let start = i;
        let mut scale = 100_000;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            micros += i64::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_secs = parse_zone(&b[i..])?;
    let days = days_from_civil(y, mo, d);
    let secs =
        days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s) - offset_secs;
    Some(Timestamp::from_micros(secs * 1_000_000 + micros))
}

/// Zone suffix to an offset in seconds east of UTC; empty means UTC.
fn parse_zone(z: &[u8]) -> Option<i64> {
    let z = z.strip_prefix(b" ").unwrap_or(z);
    match z {
        b"" | b"Z" | b"z" | b"UTC" | b"GMT" | b"+00:00" => return Some(0),
        _ => {}
    }
    let sign = match z.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = match z.len() {
        3 => (digits(z, 1, 2)?, 0),
        5 => (digits(z, 1, 2)?, digits(z, 3, 2)?),
        6 if z[3] == b':' => (digits(z, 1, 2)?, digits(z, 4, 2)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * i64::from(h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Option<&str>) {
        let got = parse_str(input).map(Timestamp::to_rfc3339);
        assert_eq!(got.as_deref(), expect, "input {input:?}");
    }

    #[test]
    fn text_forms() {
        check("2024-05-01T12:00:00Z", Some("2024-05-01T12:00:00.000000Z"));
        check(
            "2024-05-01T12:00:00.123456789+02:00",
            Some("2024-05-01T10:00:00.123456Z"),
        );
        check(
            "2024-05-01 12:00:00.123",
            Some("2024-05-01T12:00:00.123000Z"),
        );
        check("2024-05-01 12:00:00", Some("2024-05-01T12:00:00.000000Z"));
        check(
            "2024-05-01T12:00:00-0130",
            Some("2024-05-01T13:30:00.000000Z"),
        );
        check(
            "2024-05-01T12:00:00 UTC",
            Some("2024-05-01T12:00:00.000000Z"),
        );
        check(
            "2025-11-27T07:40:10.165324Z",
            Some("2025-11-27T07:40:10.165324Z"),
        );
        check("2024-02-29T00:00:00Z", Some("2024-02-29T00:00:00.000000Z"));
        check("1969-12-31T23:59:59Z", Some("1969-12-31T23:59:59.000000Z"));
        check(
            "Tue, 1 Jul 2003 10:52:37 +0200",
            Some("2003-07-01T08:52:37.000000Z"),
        );
        check("1700000000", Some("2023-11-14T22:13:20.000000Z"));
        check("1700000000123", Some("2023-11-14T22:13:20.123000Z"));
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "now",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-01T12:00:00+2",
            "2024-05-01T12:00:00.Z",
            "12",
            "2024-05-01X12:00:00",
        ] {
            check(s, None);
        }
    }

    #[test]
    fn epoch_units() {
        let t = |v: Value| from_value(&v).map(Timestamp::as_micros);
        assert_eq!(t(Value::Int(1_700_000_000)), Some(1_700_000_000_000_000));
        assert_eq!(
            t(Value::Int(1_700_000_000_123)),
            Some(1_700_000_000_123_000)
        );
        assert_eq!(
            t(Value::Int(1_700_000_000_123_456)),
            Some(1_700_000_000_123_456)
        );
        assert_eq!(
            t(Value::Int(1_700_000_000_123_456_789)),
            Some(1_700_000_000_123_456)
        );
        assert_eq!(
            t(Value::Float(1_700_000_000.5)),
            Some(1_700_000_000_500_000)
        );
        assert_eq!(t(Value::Float(f64::NAN)), None);
        assert_eq!(t(Value::Int(i64::MIN)), Some(i64::MIN / 1000));
        assert_eq!(t(Value::Bool(true)), None);
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}

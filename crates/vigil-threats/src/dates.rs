//! Calendar days without a clock: `YYYY-MM-DD…` strings and Unix
//! microseconds to days since 1970-01-01, so recency windows are computed
//! from values the caller passes in.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since the epoch of a string starting `YYYY-MM-DD` (RFC 3339, ISO
/// 8601 dates); `None` when it does not start with a valid date. A bare
/// year (`2014`) counts as its 1 January.
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let y = num(0..4)?;
    if b.len() == 4 {
        return Some(days_from_civil(y, 1, 1));
    }
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let m = u32::try_from(num(5..7)?).ok()?;
    let d = u32::try_from(num(8..10)?).ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since the epoch of Unix microseconds.
pub fn day_of_micros(us: i64) -> i64 {
    us.div_euclid(86_400_000_000)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(days: i64) -> String {
    // civil_from_days
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_day("2020-08-01T04:00:00.000Z"), Some(18_475));
        assert_eq!(format_day(18_475), "2020-08-01");
        assert_eq!(parse_day("2014"), Some(days_from_civil(2014, 1, 1)));
        assert_eq!(parse_day("2014-13-01"), None);
        assert_eq!(parse_day("soon"), None);
        assert_eq!(day_of_micros(86_400_000_000 * 3 + 5), 3);
    }
}

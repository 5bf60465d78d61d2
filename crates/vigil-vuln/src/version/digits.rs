//! Comparison of arbitrarily long decimal digit strings, shared by the schemes
//! whose numbers have no size limit (Maven, dpkg, RPM, SemVer pre-releases).

use std::cmp::Ordering;

/// Strips leading zeros, keeping one `0` for an all-zero string.
pub(crate) fn trim_zeros(s: &str) -> &str {
    let t = s.trim_start_matches('0');
    if t.is_empty() && !s.is_empty() {
        "0"
    } else {
        t
    }
}

/// Compares two ASCII digit strings numerically, whatever their length.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (trim_zeros(a), trim_zeros(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Parses a decimal number that must fit `u64`.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: &str, b: &str, want: Ordering) {
        assert_eq!(cmp_digits(a, b), want, "{a} vs {b}");
    }

    #[test]
    fn digits() {
        check("0", "000", Ordering::Equal);
        check("010", "9", Ordering::Greater);
        check(
            "123456789012345678901234567890",
            "123456789012345678901234567891",
            Ordering::Less,
        );
    }
}

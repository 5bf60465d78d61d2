//! Exact decimal arithmetic for CVSS v2: every v2 weight has at most three
//! decimals, so products and sums stay exact in an `i128` mantissa and the
//! round-half-up to one decimal is never fooled by binary floating point
//! (FIRST's v2 guide rounds `round_to_1_decimal`; 4.35 must become 4.4).

use std::cmp::Ordering;

/// `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dec {
    m: i128,
    s: u32,
}

impl Dec {
    /// `m × 10^-s`.
    pub(crate) const fn new(m: i128, s: u32) -> Dec {
        Dec { m, s }
    }

    /// A whole number.
    pub(crate) const fn int(m: i128) -> Dec {
        Dec { m, s: 0 }
    }

    /// Tenths, as rounded scores are stored.
    pub(crate) fn tenths(t: i64) -> Dec {
        Dec {
            m: i128::from(t),
            s: 1,
        }
    }

    fn aligned(self, o: Dec) -> (i128, i128, u32) {
        let s = self.s.max(o.s);
        (
            self.m * 10i128.pow(s - self.s),
            o.m * 10i128.pow(s - o.s),
            s,
        )
    }

    pub(crate) fn mul(self, o: Dec) -> Dec {
        Dec {
            m: self.m * o.m,
            s: self.s + o.s,
        }
    }

    pub(crate) fn add(self, o: Dec) -> Dec {
        let (a, b, s) = self.aligned(o);
        Dec { m: a + b, s }
    }

    pub(crate) fn sub(self, o: Dec) -> Dec {
        let (a, b, s) = self.aligned(o);
        Dec { m: a - b, s }
    }

    pub(crate) fn cmp(self, o: Dec) -> Ordering {
        let (a, b, _) = self.aligned(o);
        a.cmp(&b)
    }

    pub(crate) fn min(self, o: Dec) -> Dec {
        if self.cmp(o) == Ordering::Greater {
            o
        } else {
            self
        }
    }

    pub(crate) fn is_zero(self) -> bool {
        self.m == 0
    }

    /// Rounds half away from zero to one decimal; returns tenths.
    pub(crate) fn round_tenths(self) -> i64 {
        if self.s == 0 {
            return (self.m * 10) as i64;
        }
        let unit = 10i128.pow(self.s - 1);
        let q = (self.m.abs() * 2 + unit) / (2 * unit);
        // |score| ≤ 100 tenths: the cast is lossless.
        (if self.m < 0 { -q } else { q }) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_up_exactly() {
        assert_eq!(Dec::new(435, 2).round_tenths(), 44);
        assert_eq!(Dec::new(4349999, 6).round_tenths(), 43);
        assert_eq!(Dec::new(-435, 2).round_tenths(), -44);
        assert_eq!(Dec::int(10).round_tenths(), 100);
        assert_eq!(Dec::new(5, 1).round_tenths(), 5);
        let x = Dec::new(1041, 2).mul(Dec::new(275, 3)).sub(Dec::new(15, 1));
        assert_eq!(x.round_tenths(), 14); // 2.86275 - 1.5 = 1.36275
        assert_eq!(Dec::new(1, 0).min(Dec::new(9, 1)).round_tenths(), 9);
    }
}

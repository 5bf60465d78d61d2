//! CVSS v4.0 scoring (specification section 8.2): effective metric levels →
//! MacroVector (EQ1–EQ6) → its score from the table, lowered by the mean
//! proportional distance to the next lower MacroVectors.
//!
//! Arithmetic is exact: scores and distances are integer tenths and the
//! class depths divide 2520 (lcm 1..=10), so the mean distance is a
//! rational with denominator `2520 × n`. The result is rounded half up to
//! one decimal. FIRST's JavaScript calculator computes the same in `f64`
//! and, since its November 2024 fix, adds 10⁻⁶ before rounding so that
//! float noise below an exact .x5 no longer rounds down — exact arithmetic
//! needs no such guard (the smallest non-zero distance of an exact value to
//! a .x5 boundary here is 1/(2520·5·10), far above 10⁻⁶).

use super::table::{
    self, DEPTH_EQ1, DEPTH_EQ2, DEPTH_EQ3_EQ6, DEPTH_EQ4, MAX_EQ1, MAX_EQ2, MAX_EQ3_EQ6, MAX_EQ4,
};
use crate::score::Score;

/// Effective metric levels (see [`table`] for the level scale): base values
/// overridden by defined modified metrics, `E:X` as `A`, `CR/IR/AR:X` as
/// `H`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Levels {
    pub av: u8,
    pub ac: u8,
    pub at: u8,
    pub pr: u8,
    pub ui: u8,
    pub vc: u8,
    pub vi: u8,
    pub va: u8,
    pub sc: u8,
    pub si: u8,
    pub sa: u8,
    pub e: u8,
    pub cr: u8,
    pub ir: u8,
    pub ar: u8,
}

impl Levels {
    /// The MacroVector: EQ1 … EQ6.
    pub(crate) fn macrovector(&self) -> [u8; 6] {
        let eq1 = if self.av == 0 && self.pr == 0 && self.ui == 0 {
            0
        } else if (self.av == 0 || self.pr == 0 || self.ui == 0) && self.av != 3 {
            1
        } else {
            2
        };
        let eq2 = u8::from(!(self.ac == 0 && self.at == 0));
        let eq3 = if self.vc == 0 && self.vi == 0 {
            0
        } else if self.vc == 0 || self.vi == 0 || self.va == 0 {
            1
        } else {
            2
        };
        let eq4 = if self.si == 0 || self.sa == 0 {
            0
        } else if self.sc == 1 || self.si == 1 || self.sa == 1 {
            1
        } else {
            2
        };
        let eq5 = self.e.min(2);
        let eq6 = u8::from(
            !((self.cr == 0 && self.vc == 0)
                || (self.ir == 0 && self.vi == 0)
                || (self.ar == 0 && self.va == 0)),
        );
        [eq1, eq2, eq3, eq4, eq5, eq6]
    }

    /// The score.
    pub(crate) fn score(&self) -> Score {
        if self.vc == 2
            && self.vi == 2
            && self.va == 2
            && self.sc == 3
            && self.si == 3
            && self.sa == 3
        {
            return Score::ZERO;
        }
        let mv = self.macrovector();
        let [eq1, eq2, eq3, eq4, _, eq6] = mv;
        let Some(value) = table::macro_score(mv) else {
            // Unreachable: the EQs above only yield defined MacroVectors.
            return Score::ZERO;
        };
        let value = i64::from(value);
        let lower = |d: [u8; 6]| -> Option<i64> {
            let m = [
                mv[0] + d[0],
                mv[1] + d[1],
                mv[2] + d[2],
                mv[3] + d[3],
                mv[4] + d[4],
                mv[5] + d[5],
            ];
            table::macro_score(m).map(i64::from)
        };
        let next_eq1 = lower([1, 0, 0, 0, 0, 0]);
        let next_eq2 = lower([0, 1, 0, 0, 0, 0]);
        let next_eq3_eq6 = match (eq3, eq6) {
            (0, 0) => lower([0, 0, 0, 0, 0, 1]).max(lower([0, 0, 1, 0, 0, 0])),
            (1, 0) => lower([0, 0, 0, 0, 0, 1]),
            (0, 1) | (1, 1) => lower([0, 0, 1, 0, 0, 0]),
            _ => None,
        };
        let next_eq4 = lower([0, 0, 0, 1, 0, 0]);
        let next_eq5 = lower([0, 0, 0, 0, 1, 0]);

        // Severity distances to the first highest-severity vector of each
        // class that is at least as severe in every metric (else the last).
        let d1 = distance(&[self.av, self.pr, self.ui], MAX_EQ1[usize::from(eq1)]);
        let d2 = distance(&[self.ac, self.at], MAX_EQ2[usize::from(eq2)]);
        let d36 = distance(
            &[self.vc, self.vi, self.va, self.cr, self.ir, self.ar],
            MAX_EQ3_EQ6[usize::from(eq3)][usize::from(eq6)],
        );
        let d4 = distance(&[self.sc, self.si, self.sa], MAX_EQ4[usize::from(eq4)]);

        const L: i64 = 2520;
        let mut n = 0i64;
        let mut sum = 0i64; // Σ normalized distance × L, in tenths
        let mut add = |next: Option<i64>, dist: i64, depth: u8| {
            if let Some(next) = next {
                n += 1;
                if depth > 0 {
                    sum += (value - next) * dist * (L / i64::from(depth));
                }
            }
        };
        add(next_eq1, d1, DEPTH_EQ1[usize::from(eq1)]);
        add(next_eq2, d2, DEPTH_EQ2[usize::from(eq2)]);
        add(
            next_eq3_eq6,
            d36,
            DEPTH_EQ3_EQ6[usize::from(eq3)][usize::from(eq6)],
        );
        add(next_eq4, d4, DEPTH_EQ4[usize::from(eq4)]);
        // EQ5 counts towards the mean but its proportion is always 0.
        add(next_eq5, 0, 1);

        if n == 0 {
            return Score::from_tenths(value);
        }
        let den = L * n;
        let num = (value * den - sum).clamp(0, 100 * den);
        Score::from_tenths((2 * num + den) / (2 * den))
    }
}

/// Sum of level distances from the first max vector not exceeded in any
/// metric; the last one when none fits.
fn distance<const N: usize>(levels: &[u8; N], maxes: &[[u8; N]]) -> i64 {
    let fits = |m: &[u8; N]| levels.iter().zip(m).all(|(l, m)| l >= m);
    let chosen = maxes.iter().find(|m| fits(m)).or(maxes.last());
    chosen.map_or(0, |m| {
        levels
            .iter()
            .zip(m)
            .map(|(l, m)| i64::from(*l) - i64::from(*m))
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vector;

    fn check(vector: &str, expect: &str) {
        let v: Vector = vector.parse().unwrap();
        assert_eq!(v.scores().overall().to_string(), expect, "{vector}");
    }

    /// FIRST's v4.0 calculator before its November 2024 rounding fix
    /// computed 6.1 − 0.45 as 5.6499999… in `f64` and rounded it to 5.6;
    /// the exact value is 5.65 (MacroVector 111200 = 6.1, mean proportional
    /// distance (1.5·3/4 + 0.9·2/8 + 0)/3 = 0.45), which rounds half up to
    /// 5.7 — the value Red Hat's reference
    /// data lists and the fixed calculator gives. We follow the
    /// specification's arithmetic (exact), not the old float artefact.
    #[test]
    fn exact_half_rounds_up_unlike_the_old_first_calculator() {
        check(
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L",
            "5.7",
        );
    }

    #[test]
    fn specification_examples() {
        check(
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
            "10.0",
        );
        check(
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
            "0.0",
        );
        check(
            "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "8.5",
        );
        // Safety only through the modified subsequent-system metrics.
        check(
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSI:S",
            "10.0",
        );
    }

    fn all(n: usize, max: u8) -> Vec<Vec<u8>> {
        let mut out = vec![vec![]];
        for _ in 0..n {
            out = out
                .into_iter()
                .flat_map(|p| {
                    (0..=max).map(move |x| {
                        let mut q = p.clone();
                        q.push(x);
                        q
                    })
                })
                .collect();
        }
        out
    }

    /// Every combination of levels has a highest-severity vector in its
    /// class that it does not exceed, so "the first that fits" is always
    /// well defined.
    #[test]
    fn every_vector_fits_a_max_vector_of_its_class() {
        let fits = |l: &[u8], maxes: &[&[u8]]| {
            maxes
                .iter()
                .any(|m| l.iter().zip(m.iter()).all(|(a, b)| a >= b))
        };
        let base = Levels {
            av: 0,
            ac: 0,
            at: 0,
            pr: 0,
            ui: 0,
            vc: 0,
            vi: 0,
            va: 0,
            sc: 1,
            si: 1,
            sa: 1,
            e: 0,
            cr: 0,
            ir: 0,
            ar: 0,
        };
        for c in all(3, 3) {
            let (av, pr, ui) = (c[0], c[1].min(2), c[2].min(2));
            let l = Levels { av, pr, ui, ..base };
            let eq1 = usize::from(l.macrovector()[0]);
            let maxes: Vec<&[u8]> = MAX_EQ1[eq1].iter().map(|m| &m[..]).collect();
            assert!(fits(&[av, pr, ui], &maxes), "{c:?}");
        }
        for c in all(6, 2) {
            let l = Levels {
                vc: c[0],
                vi: c[1],
                va: c[2],
                cr: c[3],
                ir: c[4],
                ar: c[5],
                ..base
            };
            let mv = l.macrovector();
            let maxes: Vec<&[u8]> = MAX_EQ3_EQ6[usize::from(mv[2])][usize::from(mv[5])]
                .iter()
                .map(|m| &m[..])
                .collect();
            assert!(fits(&c, &maxes), "{c:?}");
        }
        for c in all(3, 3) {
            if c[0] == 0 {
                continue; // SC has no Safety value
            }
            let l = Levels {
                sc: c[0],
                si: c[1],
                sa: c[2],
                ..base
            };
            let eq4 = usize::from(l.macrovector()[3]);
            let maxes: Vec<&[u8]> = MAX_EQ4[eq4].iter().map(|m| &m[..]).collect();
            assert!(fits(&c, &maxes), "{c:?}");
        }
    }
}

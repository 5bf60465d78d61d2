//! CVSS v3.0 and v3.1 (FIRST's specification documents, section 7 and
//! appendix A): base, temporal and environmental scores.
//!
//! Metrics may come in any order after the `CVSS:3.x/` prefix; the eight
//! base metrics are mandatory, the rest optional (`X` = not defined, the
//! same as absent). Temporal and environmental scores always exist (with
//! every optional metric undefined they equal the base score).
//!
//! The two minor versions differ in two places:
//! - **Roundup.** v3.0 defines it as "the smallest number, specified to one
//!   decimal place, that is equal to or higher than its input" — the exact
//!   decimal ceiling. v3.1 (appendix A) defines it on the input scaled to an
//!   integer, `round(x × 100000)`, so that binary floating-point noise such
//!   as 4.000000000000001 is not rounded up. We compute in `f64` and take
//!   the v3.0 ceiling on `round(x × 10^10)`, which is the exact decimal
//!   ceiling for every value these equations produce; v3.1 uses the
//!   appendix's integer algorithm verbatim.
//! - **Modified impact, scope changed.** v3.0: `7.52 × (MISS − 0.029) −
//!   3.25 × (MISS − 0.02)^15`; v3.1: `… − 3.25 × (MISS × 0.9731 − 0.02)^13`.

use std::fmt;

use crate::error::Result;
use crate::metrics::{self, Grammar, MetricDef, Values};
use crate::score::{Score, Severity};

const AV: usize = 0;
const AC: usize = 1;
const PR: usize = 2;
const UI: usize = 3;
const S: usize = 4;
const C: usize = 5;
const I: usize = 6;
const A: usize = 7;
const E: usize = 8;
const RL: usize = 9;
const RC: usize = 10;
const CR: usize = 11;
const IR: usize = 12;
const AR: usize = 13;
const MAV: usize = 14;
const MAC: usize = 15;
const MPR: usize = 16;
const MUI: usize = 17;
const MS: usize = 18;
const MC: usize = 19;
const MI: usize = 20;
const MA: usize = 21;

static METRICS: [MetricDef; 22] = [
    MetricDef {
        key: "AV",
        values: &["N", "A", "L", "P"],
    },
    MetricDef {
        key: "AC",
        values: &["L", "H"],
    },
    MetricDef {
        key: "PR",
        values: &["N", "L", "H"],
    },
    MetricDef {
        key: "UI",
        values: &["N", "R"],
    },
    MetricDef {
        key: "S",
        values: &["U", "C"],
    },
    MetricDef {
        key: "C",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "I",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "A",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "E",
        values: &["X", "H", "F", "P", "U"],
    },
    MetricDef {
        key: "RL",
        values: &["X", "U", "W", "T", "O"],
    },
    MetricDef {
        key: "RC",
        values: &["X", "C", "R", "U"],
    },
    MetricDef {
        key: "CR",
        values: &["X", "H", "M", "L"],
    },
    MetricDef {
        key: "IR",
        values: &["X", "H", "M", "L"],
    },
    MetricDef {
        key: "AR",
        values: &["X", "H", "M", "L"],
    },
    MetricDef {
        key: "MAV",
        values: &["X", "N", "A", "L", "P"],
    },
    MetricDef {
        key: "MAC",
        values: &["X", "L", "H"],
    },
    MetricDef {
        key: "MPR",
        values: &["X", "N", "L", "H"],
    },
    MetricDef {
        key: "MUI",
        values: &["X", "N", "R"],
    },
    MetricDef {
        key: "MS",
        values: &["X", "U", "C"],
    },
    MetricDef {
        key: "MC",
        values: &["X", "H", "L", "N"],
    },
    MetricDef {
        key: "MI",
        values: &["X", "H", "L", "N"],
    },
    MetricDef {
        key: "MA",
        values: &["X", "H", "L", "N"],
    },
];

const fn grammar(version: &'static str) -> Grammar {
    Grammar {
        version,
        metrics: &METRICS,
        mandatory: 8,
        ordered: false,
    }
}

pub(crate) static GRAMMAR_30: Grammar = grammar("3.0");
pub(crate) static GRAMMAR_31: Grammar = grammar("3.1");

// Weights in value order (see `grammar`).
const W_AV: [f64; 4] = [0.85, 0.62, 0.55, 0.2];
const W_AC: [f64; 2] = [0.77, 0.44];
const W_PR_U: [f64; 3] = [0.85, 0.62, 0.27];
const W_PR_C: [f64; 3] = [0.85, 0.68, 0.5];
const W_UI: [f64; 2] = [0.85, 0.62];
const W_CIA: [f64; 3] = [0.56, 0.22, 0.0];
const W_E: [f64; 5] = [1.0, 1.0, 0.97, 0.94, 0.91];
const W_RL: [f64; 5] = [1.0, 1.0, 0.97, 0.96, 0.95];
const W_RC: [f64; 4] = [1.0, 1.0, 0.96, 0.92];
const W_REQ: [f64; 4] = [1.0, 1.5, 1.0, 0.5];

/// Which v3 minor version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Minor {
    /// CVSS v3.0.
    V30,
    /// CVSS v3.1.
    V31,
}

/// A parsed CVSS v3.0 or v3.1 vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cvss3 {
    minor: Minor,
    values: Values,
}

/// The three v3.x scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores3 {
    /// Base score.
    pub base: Score,
    /// Temporal score (equals the base score when no temporal metric is
    /// defined).
    pub temporal: Score,
    /// Environmental score (equals the temporal score when no
    /// environmental metric is defined).
    pub environmental: Score,
}

impl Cvss3 {
    /// Parses the part after `CVSS:3.x/`, which starts at byte `offset`.
    pub(crate) fn parse_body(minor: Minor, body: &str, offset: usize) -> Result<Cvss3> {
        let g = grammar_of(minor);
        let values = if body.is_empty() {
            return Err(metrics::all_missing(g));
        } else {
            metrics::parse(g, body, offset)?
        };
        Ok(Cvss3 { minor, values })
    }

    /// 3.0 or 3.1.
    pub fn minor(&self) -> Minor {
        self.minor
    }

    /// The value of a metric as written (`"N"` for `AV`), if present.
    pub fn get(&self, metric: &str) -> Option<&'static str> {
        metrics::get(grammar_of(self.minor), &self.values, metric)
    }

    /// Value index of metric `i` as given (0 = `X` for optional metrics).
    fn raw(&self, i: usize) -> usize {
        usize::from(self.values[i].saturating_sub(1))
    }

    /// Modified metric `m` (index into the `X`-first list) or, when not
    /// defined, the base metric `b` — as an index into the base list.
    fn modified(&self, m: usize, b: usize) -> usize {
        match self.raw(m) {
            0 => self.raw(b),
            v => v - 1,
        }
    }

    fn pick(table: &[f64], i: usize) -> f64 {
        table.get(i).or(table.last()).copied().unwrap_or(0.0)
    }

    fn roundup(&self, x: f64) -> f64 {
        match self.minor {
            Minor::V30 => roundup_30(x),
            Minor::V31 => roundup_31(x),
        }
    }

    /// Base, temporal and environmental scores.
    pub fn scores(&self) -> Scores3 {
        let p = Self::pick;
        // Base.
        let changed = self.raw(S) == 1;
        let iss = 1.0
            - (1.0 - p(&W_CIA, self.raw(C)))
                * (1.0 - p(&W_CIA, self.raw(I)))
                * (1.0 - p(&W_CIA, self.raw(A)));
        let impact = if changed {
            7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
        } else {
            6.42 * iss
        };
        let pr: &[f64] = if changed { &W_PR_C } else { &W_PR_U };
        let exploitability = 8.22
            * p(&W_AV, self.raw(AV))
            * p(&W_AC, self.raw(AC))
            * p(pr, self.raw(PR))
            * p(&W_UI, self.raw(UI));
        let base = if impact <= 0.0 {
            0.0
        } else if changed {
            self.roundup((1.08 * (impact + exploitability)).min(10.0))
        } else {
            self.roundup((impact + exploitability).min(10.0))
        };
        let threat = p(&W_E, self.raw(E)) * p(&W_RL, self.raw(RL)) * p(&W_RC, self.raw(RC));
        let temporal = self.roundup(base * threat);

        // Environmental.
        let m_changed = self.modified(MS, S) == 1;
        let req =
            |m: usize, b: usize, r: usize| p(&W_CIA, self.modified(m, b)) * p(&W_REQ, self.raw(r));
        let miss = (1.0 - (1.0 - req(MC, C, CR)) * (1.0 - req(MI, I, IR)) * (1.0 - req(MA, A, AR)))
            .min(0.915);
        let m_impact = if !m_changed {
            6.42 * miss
        } else {
            match self.minor {
                Minor::V30 => 7.52 * (miss - 0.029) - 3.25 * (miss - 0.02).powi(15),
                Minor::V31 => 7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02).powi(13),
            }
        };
        let mpr: &[f64] = if m_changed { &W_PR_C } else { &W_PR_U };
        let m_exploitability = 8.22
            * p(&W_AV, self.modified(MAV, AV))
            * p(&W_AC, self.modified(MAC, AC))
            * p(mpr, self.modified(MPR, PR))
            * p(&W_UI, self.modified(MUI, UI));
        let environmental = if m_impact <= 0.0 {
            0.0
        } else {
            let inner = if m_changed {
                (1.08 * (m_impact + m_exploitability)).min(10.0)
            } else {
                (m_impact + m_exploitability).min(10.0)
            };
            self.roundup(self.roundup(inner) * threat)
        };
        Scores3 {
            base: to_score(base),
            temporal: to_score(temporal),
            environmental: to_score(environmental),
        }
    }

    /// The severity of a v3.x score (FIRST's scale).
    pub fn severity(score: Score) -> Severity {
        Severity::from_score(score)
    }
}

pub(crate) fn grammar_of(minor: Minor) -> &'static Grammar {
    match minor {
        Minor::V30 => &GRAMMAR_30,
        Minor::V31 => &GRAMMAR_31,
    }
}

/// A rounded score (a multiple of 0.1 in `[0, 10]`) to tenths.
fn to_score(x: f64) -> Score {
    // `x` is already a multiple of 0.1 within [0, 10]; `as` saturates.
    Score::from_tenths((x * 10.0).round() as i64)
}

/// v3.0 Roundup: the decimal ceiling to one place. The input is first
/// snapped to 10 decimals to drop binary floating-point noise.
pub(crate) fn roundup_30(x: f64) -> f64 {
    let snapped = (x * 1e10).round() as i64;
    let unit = 1_000_000_000_i64;
    let tenths = snapped.div_euclid(unit) + i64::from(snapped.rem_euclid(unit) != 0);
    tenths as f64 / 10.0
}

/// v3.1 Roundup, appendix A of the v3.1 specification.
pub(crate) fn roundup_31(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        (int_input.div_euclid(10_000) + 1) as f64 / 10.0
    }
}

impl fmt::Display for Cvss3 {
    /// The vector with its prefix, metrics in the specification's order,
    /// `X` metrics left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = grammar_of(self.minor);
        write!(
            f,
            "CVSS:{}/{}",
            g.version,
            metrics::render(g, &self.values, "X")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vector;

    fn check(vector: &str, expect: &str) {
        let Ok(Vector::V3(v)) = vector.parse::<Vector>() else {
            panic!("not v3: {vector}")
        };
        let s = v.scores();
        let got = format!("{} {} {}", s.base, s.temporal, s.environmental);
        assert_eq!(got, expect, "{vector}");
    }

    #[test]
    fn specification_examples() {
        // Examples from FIRST's v3.1 user guide / calculator.
        check(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "9.8 9.8 9.8",
        );
        check(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            "10.0 10.0 10.0",
        );
        check(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            "6.1 6.1 6.1",
        );
        check(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U",
            "9.8 7.8 7.8", // 9.8 × 0.91 × 0.95 × 0.92 = 7.7943
        );
        check(
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
            "0.0 0.0 0.0",
        );
    }

    /// v3.0 and v3.1 differ in the modified impact under a changed scope
    /// (exponent 15 vs 0.9731 and 13).
    #[test]
    fn minor_versions_differ_in_modified_impact() {
        let body = "AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/CR:H";
        check(&format!("CVSS:3.0/{body}"), "9.6 9.6 9.6");
        check(&format!("CVSS:3.1/{body}"), "9.6 9.6 9.7");
    }

    #[test]
    fn roundups() {
        // v3.1's integer Roundup ignores float noise; v3.0's decimal ceiling
        // (snapped to 10 decimals) does too.
        assert_eq!(roundup_31(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup_30(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup_31(4.02), 4.1);
        assert_eq!(roundup_30(4.02), 4.1);
        // They differ within 0.000005 above a tenth: the ceiling rounds up,
        // the v3.1 algorithm (5-decimal granularity) does not.
        assert_eq!(roundup_31(4.000_004), 4.0);
        assert_eq!(roundup_30(4.000_004), 4.1);
    }
}

//! CVSS v2 (FIRST's "A Complete Guide to the CVSS Version 2.0"): base,
//! temporal and environmental equations in exact decimal arithmetic.
//!
//! Vectors have no prefix (`AV:N/AC:L/Au:N/C:P/I:P/A:P`); the six base
//! metrics are mandatory, the others optional (`ND` = not defined). The
//! guide (section 2.4) lists the metrics in a fixed order; like the
//! reference implementation we accept any order (unknown, malformed and
//! duplicate metrics are still errors) and write the canonical order back. The temporal score exists when a temporal metric other than `ND`
//! is given, the environmental score when an environmental one is — as the
//! reference implementation reports them.

use std::fmt;
use std::str::FromStr;

use crate::decimal::Dec;
use crate::error::{Error, Result};
use crate::metrics::{self, Grammar, MetricDef, Values};
use crate::score::{Score, Severity};

const AV: usize = 0;
const AC: usize = 1;
const AU: usize = 2;
const C: usize = 3;
const I: usize = 4;
const A: usize = 5;
const E: usize = 6;
const RL: usize = 7;
const RC: usize = 8;
const CDP: usize = 9;
const TD: usize = 10;
const CR: usize = 11;
const IR: usize = 12;
const AR: usize = 13;

pub(crate) static GRAMMAR: Grammar = Grammar {
    version: "2.0",
    metrics: &[
        MetricDef {
            key: "AV",
            values: &["L", "A", "N"],
        },
        MetricDef {
            key: "AC",
            values: &["H", "M", "L"],
        },
        MetricDef {
            key: "Au",
            values: &["M", "S", "N"],
        },
        MetricDef {
            key: "C",
            values: &["N", "P", "C"],
        },
        MetricDef {
            key: "I",
            values: &["N", "P", "C"],
        },
        MetricDef {
            key: "A",
            values: &["N", "P", "C"],
        },
        MetricDef {
            key: "E",
            values: &["U", "POC", "F", "H", "ND"],
        },
        MetricDef {
            key: "RL",
            values: &["OF", "TF", "W", "U", "ND"],
        },
        MetricDef {
            key: "RC",
            values: &["UC", "UR", "C", "ND"],
        },
        MetricDef {
            key: "CDP",
            values: &["N", "L", "LM", "MH", "H", "ND"],
        },
        MetricDef {
            key: "TD",
            values: &["N", "L", "M", "H", "ND"],
        },
        MetricDef {
            key: "CR",
            values: &["L", "M", "H", "ND"],
        },
        MetricDef {
            key: "IR",
            values: &["L", "M", "H", "ND"],
        },
        MetricDef {
            key: "AR",
            values: &["L", "M", "H", "ND"],
        },
    ],
    mandatory: 6,
    ordered: false,
};

/// Weights per metric, in value order; `ND` (and absent) is the last one.
const W_AV: [Dec; 3] = [Dec::new(395, 3), Dec::new(646, 3), Dec::int(1)];
const W_AC: [Dec; 3] = [Dec::new(35, 2), Dec::new(61, 2), Dec::new(71, 2)];
const W_AU: [Dec; 3] = [Dec::new(45, 2), Dec::new(56, 2), Dec::new(704, 3)];
const W_CIA: [Dec; 3] = [Dec::int(0), Dec::new(275, 3), Dec::new(660, 3)];
const W_E: [Dec; 5] = [
    Dec::new(85, 2),
    Dec::new(90, 2),
    Dec::new(95, 2),
    Dec::int(1),
    Dec::int(1),
];
const W_RL: [Dec; 5] = [
    Dec::new(87, 2),
    Dec::new(90, 2),
    Dec::new(95, 2),
    Dec::int(1),
    Dec::int(1),
];
const W_RC: [Dec; 4] = [Dec::new(90, 2), Dec::new(95, 2), Dec::int(1), Dec::int(1)];
const W_CDP: [Dec; 6] = [
    Dec::int(0),
    Dec::new(1, 1),
    Dec::new(3, 1),
    Dec::new(4, 1),
    Dec::new(5, 1),
    Dec::int(0),
];
const W_TD: [Dec; 5] = [
    Dec::int(0),
    Dec::new(25, 2),
    Dec::new(75, 2),
    Dec::int(1),
    Dec::int(1),
];
const W_REQ: [Dec; 4] = [Dec::new(5, 1), Dec::int(1), Dec::new(151, 2), Dec::int(1)];

/// A parsed CVSS v2 vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cvss2 {
    values: Values,
}

/// The three v2 scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores2 {
    /// Base score.
    pub base: Score,
    /// Temporal score, when a temporal metric is defined.
    pub temporal: Option<Score>,
    /// Environmental score, when an environmental metric is defined.
    pub environmental: Option<Score>,
}

impl Cvss2 {
    /// Parses a v2 vector; `offset` is where it starts in the caller's input
    /// (for error positions).
    pub(crate) fn parse_at(s: &str, offset: usize) -> Result<Cvss2> {
        if s.is_empty() {
            return Err(Error::Empty);
        }
        Ok(Cvss2 {
            values: metrics::parse(&GRAMMAR, s, offset)?,
        })
    }

    /// The value of a metric as written (`"N"` for `AV`), if present.
    pub fn get(&self, metric: &str) -> Option<&'static str> {
        metrics::get(&GRAMMAR, &self.values, metric)
    }

    /// Value index of metric `i`, `ND` (the last value) when absent.
    fn idx(&self, i: usize) -> usize {
        match self.values[i] {
            0 => GRAMMAR.metrics[i].values.len() - 1,
            v => usize::from(v) - 1,
        }
    }

    fn w<const N: usize>(&self, i: usize, table: &[Dec; N]) -> Dec {
        table[self.idx(i).min(N - 1)]
    }

    /// Whether any of the metrics is given with a value other than `ND`
    /// (always the last value).
    fn defined(&self, range: &[usize]) -> bool {
        range
            .iter()
            .any(|&i| self.values[i] != 0 && self.idx(i) + 1 != GRAMMAR.metrics[i].values.len())
    }

    fn base_equation(&self, impact: Dec) -> i64 {
        let exploitability = Dec::int(20)
            .mul(self.w(AV, &W_AV))
            .mul(self.w(AC, &W_AC))
            .mul(self.w(AU, &W_AU));
        let f = if impact.is_zero() {
            Dec::int(0)
        } else {
            Dec::new(1176, 3)
        };
        Dec::new(6, 1)
            .mul(impact)
            .add(Dec::new(4, 1).mul(exploitability))
            .sub(Dec::new(15, 1))
            .mul(f)
            .round_tenths()
    }

    fn impact(&self, req: bool) -> Dec {
        let one = Dec::int(1);
        let part = |m: usize, r: usize| {
            let w = self.w(m, &W_CIA);
            let w = if req { w.mul(self.w(r, &W_REQ)) } else { w };
            one.sub(w)
        };
        let i = Dec::new(1041, 2).mul(one.sub(part(C, CR).mul(part(I, IR)).mul(part(A, AR))));
        if req { i.min(Dec::int(10)) } else { i }
    }

    fn temporal_of(&self, base_tenths: i64) -> i64 {
        Dec::tenths(base_tenths)
            .mul(self.w(E, &W_E))
            .mul(self.w(RL, &W_RL))
            .mul(self.w(RC, &W_RC))
            .round_tenths()
    }

    /// Base, temporal and environmental scores.
    pub fn scores(&self) -> Scores2 {
        let base = self.base_equation(self.impact(false)).max(0);
        let temporal = self
            .defined(&[E, RL, RC])
            .then(|| Score::from_tenths(self.temporal_of(base)));
        let environmental = self.defined(&[CDP, TD, CR, IR, AR]).then(|| {
            let adjusted_base = self.base_equation(self.impact(true));
            let at = Dec::tenths(self.temporal_of(adjusted_base));
            let env = at
                .add(Dec::int(10).sub(at).mul(self.w(CDP, &W_CDP)))
                .mul(self.w(TD, &W_TD))
                .round_tenths();
            Score::from_tenths(env)
        });
        Scores2 {
            base: Score::from_tenths(base),
            temporal,
            environmental,
        }
    }

    /// The severity of a v2 score (NVD's scale).
    pub fn severity(score: Score) -> Severity {
        Severity::from_v2_score(score)
    }
}

impl FromStr for Cvss2 {
    type Err = Error;
    fn from_str(s: &str) -> Result<Cvss2> {
        Cvss2::parse_at(s, 0)
    }
}

impl fmt::Display for Cvss2 {
    /// The vector in the guide's metric order, `ND` metrics left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&metrics::render(&GRAMMAR, &self.values, "ND"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vector: &str, expect: &str) {
        let s = vector.parse::<Cvss2>().unwrap().scores();
        let o = |x: Option<Score>| x.map_or("-".to_owned(), |s| s.to_string());
        let got = format!("{} {} {}", s.base, o(s.temporal), o(s.environmental));
        assert_eq!(got, expect, "{vector}");
    }

    #[test]
    fn guide_examples() {
        // CVE-2002-0392 and CVE-2003-0818 from the v2 guide, section 3.3.
        check("AV:N/AC:L/Au:N/C:N/I:N/A:C", "7.8 - -");
        check("AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C", "7.8 6.4 -");
        check(
            "AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H",
            "7.8 6.4 9.2",
        );
        check("AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:OF/RC:C", "10.0 8.3 -");
        check("AV:L/AC:H/Au:M/C:N/I:N/A:N", "0.0 - -");
        check("AV:N/AC:L/Au:N/C:C/I:C/A:C/E:ND", "10.0 - -");
    }

    #[test]
    fn canonical_display() {
        let v: Cvss2 = "C:P/AV:N/AC:L/Au:N/I:P/A:P/E:ND/TD:L".parse().unwrap();
        assert_eq!(v.to_string(), "AV:N/AC:L/Au:N/C:P/I:P/A:P/TD:L");
    }
}

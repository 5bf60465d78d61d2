//! CVSS v4.0 (FIRST's specification document): strict parsing in the
//! specification's metric order and the MacroVector scoring of
//! [`score`], giving CVSS-B, CVSS-BT, CVSS-BE and CVSS-BTE.

mod score;
mod table;

use std::fmt;

use crate::error::Result;
use crate::metrics::{self, Grammar, MetricDef, Values};
use crate::score::{Score, Severity};

use self::score::Levels;

const AV: usize = 0;
const AC: usize = 1;
const AT: usize = 2;
const PR: usize = 3;
const UI: usize = 4;
const VC: usize = 5;
const VI: usize = 6;
const VA: usize = 7;
const SC: usize = 8;
const SI: usize = 9;
const SA: usize = 10;
const E: usize = 11;
const CR: usize = 12;
const IR: usize = 13;
const AR: usize = 14;
const MAV: usize = 15;
const MSA: usize = 25;

static METRICS: [MetricDef; 32] = [
    // Base.
    MetricDef {
        key: "AV",
        values: &["N", "A", "L", "P"],
    },
    MetricDef {
        key: "AC",
        values: &["L", "H"],
    },
    MetricDef {
        key: "AT",
        values: &["N", "P"],
    },
    MetricDef {
        key: "PR",
        values: &["N", "L", "H"],
    },
    MetricDef {
        key: "UI",
        values: &["N", "P", "A"],
    },
    MetricDef {
        key: "VC",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "VI",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "VA",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "SC",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "SI",
        values: &["H", "L", "N"],
    },
    MetricDef {
        key: "SA",
        values: &["H", "L", "N"],
    },
    // Threat.
    MetricDef {
        key: "E",
        values: &["X", "A", "P", "U"],
    },
    // Environmental.
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
        key: "MAT",
        values: &["X", "N", "P"],
    },
    MetricDef {
        key: "MPR",
        values: &["X", "N", "L", "H"],
    },
    MetricDef {
        key: "MUI",
        values: &["X", "N", "P", "A"],
    },
    MetricDef {
        key: "MVC",
        values: &["X", "H", "L", "N"],
    },
    MetricDef {
        key: "MVI",
        values: &["X", "H", "L", "N"],
    },
    MetricDef {
        key: "MVA",
        values: &["X", "H", "L", "N"],
    },
    MetricDef {
        key: "MSC",
        values: &["X", "H", "L", "N"],
    },
    MetricDef {
        key: "MSI",
        values: &["X", "S", "H", "L", "N"],
    },
    MetricDef {
        key: "MSA",
        values: &["X", "S", "H", "L", "N"],
    },
    // Supplemental: no effect on the score.
    MetricDef {
        key: "S",
        values: &["X", "N", "P"],
    },
    MetricDef {
        key: "AU",
        values: &["X", "N", "Y"],
    },
    MetricDef {
        key: "R",
        values: &["X", "A", "U", "I"],
    },
    MetricDef {
        key: "V",
        values: &["X", "D", "C"],
    },
    MetricDef {
        key: "RE",
        values: &["X", "L", "M", "H"],
    },
    MetricDef {
        key: "U",
        values: &["X", "Clear", "Green", "Amber", "Red"],
    },
];

pub(crate) static GRAMMAR: Grammar = Grammar {
    version: "4.0",
    metrics: &METRICS,
    mandatory: 11,
    ordered: true,
};

/// A parsed CVSS v4.0 vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cvss4 {
    values: Values,
}

/// Which metric groups a v4.0 vector defines, naming its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nomenclature {
    /// Base metrics only.
    CvssB,
    /// Base and threat metrics.
    CvssBT,
    /// Base and environmental metrics.
    CvssBE,
    /// Base, threat and environmental metrics.
    CvssBTE,
}

impl Nomenclature {
    /// `CVSS-B`, `CVSS-BT`, `CVSS-BE` or `CVSS-BTE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Nomenclature::CvssB => "CVSS-B",
            Nomenclature::CvssBT => "CVSS-BT",
            Nomenclature::CvssBE => "CVSS-BE",
            Nomenclature::CvssBTE => "CVSS-BTE",
        }
    }
}

impl fmt::Display for Nomenclature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The four v4.0 scores of one vector: with only its base metrics, with
/// its threat metrics, with its environmental metrics, with both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores4 {
    /// CVSS-B: base metrics only.
    pub base: Score,
    /// CVSS-BT: base and threat metrics (environmental ones ignored).
    pub threat: Score,
    /// CVSS-BE: base and environmental metrics (threat ones ignored).
    pub environmental: Score,
    /// CVSS-BTE: every metric.
    pub threat_environmental: Score,
    /// Which groups the vector defines; [`Scores4::score`] is the score of
    /// that name.
    pub nomenclature: Nomenclature,
}

impl Scores4 {
    /// The score of the vector as written (CVSS-BTE computed with every
    /// metric it has, which is its [`Nomenclature`] score).
    pub fn score(&self) -> Score {
        self.threat_environmental
    }
}

impl Cvss4 {
    /// Parses the part after `CVSS:4.0/`, which starts at byte `offset`.
    pub(crate) fn parse_body(body: &str, offset: usize) -> Result<Cvss4> {
        if body.is_empty() {
            return Err(metrics::all_missing(&GRAMMAR));
        }
        Ok(Cvss4 {
            values: metrics::parse(&GRAMMAR, body, offset)?,
        })
    }

    /// The value of a metric as written (`"N"` for `AV`), if present.
    pub fn get(&self, metric: &str) -> Option<&'static str> {
        metrics::get(&GRAMMAR, &self.values, metric)
    }

    /// Raw value index of metric `i` (0 = `X` or absent for optional ones).
    fn raw(&self, i: usize) -> u8 {
        self.values[i].saturating_sub(1)
    }

    /// Whether optional metric `i` is given with a value other than `X`.
    fn defined(&self, i: usize) -> bool {
        self.raw(i) != 0
    }

    fn levels(&self, threat: bool, env: bool) -> Levels {
        // Modified metric `MAV + b` (an `X`-first list) overrides base
        // metric `b`; `shift` maps the base value index to its level. MSC's
        // list is H/L/N like SC's; MSI and MSA add S (level 0) in front.
        let m = |b: usize, shift: u8| -> u8 {
            let modified = MAV + b;
            if env && self.defined(modified) {
                let extra = if b == SC { shift } else { 0 };
                self.raw(modified) - 1 + extra
            } else {
                self.raw(b) + shift
            }
        };
        let req = |i: usize| {
            if env && self.defined(i) {
                self.raw(i) - 1
            } else {
                0
            }
        };
        Levels {
            av: m(AV, 0),
            ac: m(AC, 0),
            at: m(AT, 0),
            pr: m(PR, 0),
            ui: m(UI, 0),
            vc: m(VC, 0),
            vi: m(VI, 0),
            va: m(VA, 0),
            sc: m(SC, 1),
            si: m(SI, 1),
            sa: m(SA, 1),
            e: if threat && self.defined(E) {
                self.raw(E) - 1
            } else {
                0
            },
            cr: req(CR),
            ir: req(IR),
            ar: req(AR),
        }
    }

    /// Which metric groups the vector defines.
    pub fn nomenclature(&self) -> Nomenclature {
        let threat = self.defined(E);
        let env = (CR..=MSA).any(|i| self.defined(i));
        match (threat, env) {
            (false, false) => Nomenclature::CvssB,
            (true, false) => Nomenclature::CvssBT,
            (false, true) => Nomenclature::CvssBE,
            (true, true) => Nomenclature::CvssBTE,
        }
    }

    /// The MacroVector (EQ1 … EQ6) of the vector as written.
    pub fn macrovector(&self) -> [u8; 6] {
        self.levels(true, true).macrovector()
    }

    /// CVSS-B, CVSS-BT, CVSS-BE and CVSS-BTE.
    pub fn scores(&self) -> Scores4 {
        let nomenclature = self.nomenclature();
        if nomenclature == Nomenclature::CvssB {
            // No threat or environmental metric: all four are the base score.
            let s = self.levels(false, false).score();
            return Scores4 {
                base: s,
                threat: s,
                environmental: s,
                threat_environmental: s,
                nomenclature,
            };
        }
        Scores4 {
            base: self.levels(false, false).score(),
            threat: self.levels(true, false).score(),
            environmental: self.levels(false, true).score(),
            threat_environmental: self.levels(true, true).score(),
            nomenclature,
        }
    }

    /// The severity of a v4.0 score (FIRST's scale).
    pub fn severity(score: Score) -> Severity {
        Severity::from_score(score)
    }
}

impl fmt::Display for Cvss4 {
    /// The vector with its prefix, `X` metrics left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CVSS:4.0/{}",
            metrics::render(&GRAMMAR, &self.values, "X")
        )
    }
}

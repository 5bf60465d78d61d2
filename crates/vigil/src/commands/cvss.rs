//! `vigil cvss [VECTOR…]`: scores CVSS vectors given as arguments, or one
//! per line on stdin, with `vigil-cvss`; one row per input line, errors in
//! their rows.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;
use vigil_cvss::{Score, Scores, Vector};

use crate::cli::CvssArgs;
use crate::output::{self, Row};

pub fn run(a: CvssArgs) -> Result<ExitCode> {
    let inputs = if a.vectors.is_empty() {
        read_lines(std::io::stdin().lock())?
    } else {
        a.vectors
    };
    let rows: Vec<CvssRow> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| CvssRow::new(i + 1, s))
        .collect();
    output::print(&rows, a.format)?;
    let bad = rows.iter().filter(|r| r.error.is_some()).count();
    if bad > 0 {
        eprintln!("{bad} of {} vectors invalid", rows.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Lines of `r`, invalid UTF-8 replaced (the row then shows the error).
fn read_lines(mut r: impl BufRead) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).context("reading stdin")?;
        if n == 0 {
            return Ok(out);
        }
        out.push(String::from_utf8_lossy(&buf).into_owned());
    }
}

/// One vector's result as the CLI shows it. For v4.0, `base`,
/// `temporal` and `environmental` are CVSS-B, CVSS-BT and CVSS-BE.
#[derive(Serialize)]
struct CvssRow {
    line: usize,
    vector: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporal: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporal_severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environmental: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environmental_severity: Option<&'static str>,
    /// v4.0 only: CVSS-BTE.
    #[serde(skip_serializing_if = "Option::is_none")]
    bte: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bte_severity: Option<&'static str>,
    /// v4.0 only: which score the vector as written is (CVSS-B … BTE).
    #[serde(skip_serializing_if = "Option::is_none")]
    nomenclature: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl CvssRow {
    fn new(line: usize, input: &str) -> CvssRow {
        let text = input.trim();
        let mut row = CvssRow {
            line,
            vector: text.to_owned(),
            version: None,
            base: None,
            base_severity: None,
            temporal: None,
            temporal_severity: None,
            environmental: None,
            environmental_severity: None,
            bte: None,
            bte_severity: None,
            nomenclature: None,
            error: None,
        };
        let v: Vector = match text.parse() {
            Ok(v) => v,
            Err(e) => {
                row.error = Some(e.to_string());
                return row;
            }
        };
        row.version = Some(v.version().as_str());
        let scores = v.scores();
        let rated = |s: Score| (Some(s.value()), Some(scores.rate(s).as_str()));
        let (base, temporal, environmental, bte) = match scores {
            Scores::V2(s) => (Some(s.base), s.temporal, s.environmental, None),
            Scores::V3(s) => (Some(s.base), Some(s.temporal), Some(s.environmental), None),
            Scores::V4(s) => {
                row.nomenclature = Some(s.nomenclature.as_str());
                (
                    Some(s.base),
                    Some(s.threat),
                    Some(s.environmental),
                    Some(s.threat_environmental),
                )
            }
        };
        if let Some(s) = base {
            (row.base, row.base_severity) = rated(s);
        }
        if let Some(s) = temporal {
            (row.temporal, row.temporal_severity) = rated(s);
        }
        if let Some(s) = environmental {
            (row.environmental, row.environmental_severity) = rated(s);
        }
        if let Some(s) = bte {
            (row.bte, row.bte_severity) = rated(s);
        }
        row
    }
}

impl Row for CvssRow {
    fn headers() -> &'static [&'static str] {
        &[
            "line",
            "vector",
            "version",
            "base",
            "temporal",
            "environmental",
            "bte",
            "error",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let cell = |score: Option<f64>, sev: Option<&str>| match (score, sev) {
            (Some(x), Some(s)) => format!("{x:.1} {s}"),
            // Empty, not "-": CSV would escape a leading "-" as a formula.
            _ => String::new(),
        };
        vec![
            self.line.to_string(),
            self.vector.clone(),
            self.version.unwrap_or_default().to_owned(),
            cell(self.base, self.base_severity),
            cell(self.temporal, self.temporal_severity),
            cell(self.environmental, self.environmental_severity),
            cell(self.bte, self.bte_severity),
            self.error.clone().unwrap_or_default(),
        ]
    }
}

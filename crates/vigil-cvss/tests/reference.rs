//! Every reference vector under `$VIGIL_TESTDATA/cvss` scores exactly as
//! listed: Red Hat's cvss test vectors (v2, v3.0, v3.1, v4.0) — every file
//! named `vectors_*` in any folder below it, in Red Hat's line format
//! (`VECTOR - (base, temporal, environmental)` for v2/v3.x, `VECTOR -
//! score` for v4.0). Prints the counts per version. Skipped (and passing)
//! when `VIGIL_TESTDATA` is unset.
//!
//! `scripts/random_vectors.py` writes more such files from Red Hat's Python
//! library for a differential run.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use vigil_cvss::{Score, Scores, Vector};

/// `"9.8"`, `"5"`, `"-0.0"`, `"None"` → tenths.
fn expected(s: &str) -> Option<i64> {
    let s = s.trim();
    if s == "None" || s.is_empty() {
        return None;
    }
    let x: f64 = s.parse().unwrap_or_else(|_| panic!("bad number {s:?}"));
    Some((x * 10.0).round() as i64)
}

fn tenths(s: Score) -> i64 {
    i64::from(s.tenths())
}

/// Our (base, temporal, environmental) in tenths; v4.0: the score of the
/// vector as written, then nothing.
fn ours(v: &Vector) -> Vec<Option<i64>> {
    match v.scores() {
        Scores::V2(s) => vec![
            Some(tenths(s.base)),
            s.temporal.map(tenths),
            s.environmental.map(tenths),
        ],
        Scores::V3(s) => vec![
            Some(tenths(s.base)),
            Some(tenths(s.temporal)),
            Some(tenths(s.environmental)),
        ],
        Scores::V4(s) => vec![Some(tenths(s.score()))],
    }
}

#[test]
fn red_hat_reference_vectors_score_exactly() {
    let Some(dir) = vigil_testkit::testdata_dir("cvss") else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![dir.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vectors_"))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no vectors_* files in {}", dir.display());
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (vector, want) = line
                .rsplit_once(" - ")
                .unwrap_or_else(|| panic!("{name}:{}: no ' - ' in {line:?}", n + 1));
            let want: Vec<Option<i64>> = want
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(expected)
                .collect();
            let v: Vector = match vector.parse() {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{name}:{}: {vector}: {e}", n + 1));
                    continue;
                }
            };
            let entry = counts.entry(v.version().to_string()).or_default();
            entry.0 += 1;
            let got = ours(&v);
            if got[..want.len()] == want[..] {
                entry.1 += 1;
            } else {
                failures.push(format!(
                    "{name}:{}: {vector}: expected {want:?}, got {got:?}",
                    n + 1
                ));
            }
        }
    }
    for (version, (total, ok)) in &counts {
        println!("CVSS {version}: {ok}/{total} vectors score exactly as listed");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for v in ["2.0", "3.0", "3.1", "4.0"] {
        assert!(counts.contains_key(v), "no CVSS {v} vectors found");
    }
}

//! The STIX pattern corpus: our syntax verdict on every line of
//! `tests/patterns/corpus.txt` and on every pattern in
//! `$VIGIL_TESTDATA/stix`; and, when `$VIGIL_PYTHON` names a Python with
//! `stix2-patterns` installed, the same verdict as its validator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use vigil_intel::pattern;

fn corpus() -> Vec<(bool, String)> {
    let text = include_str!("patterns/corpus.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (v, p) = l.split_once('\t').expect("verdict<TAB>pattern");
            (v == "valid", p.to_string())
        })
        .collect()
}

/// Every `pattern` of an indicator in the STIX files under `dir`.
fn real_patterns(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for f in common::files(dir) {
        let name = f.to_string_lossy();
        if !(name.ends_with(".json") || name.ends_with(".json.gz")) {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        let data = vigil_intel::decode_input(&bytes, 1 << 30).unwrap();
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&data) else {
            continue;
        };
        collect(&doc, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if m.get("type").and_then(|t| t.as_str()) == Some("indicator")
                && let Some(p) = m.get("pattern").and_then(|p| p.as_str())
                && m.get("pattern_type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("stix")
                    == "stix"
            {
                out.push(p.to_string());
            }
            m.values().for_each(|x| collect(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}

#[test]
fn corpus_verdicts() {
    let c = corpus();
    assert!(c.len() >= 200, "corpus has {} patterns", c.len());
    let mut bad = Vec::new();
    for (want, p) in &c {
        let got = pattern::parse(p);
        if got.is_ok() != *want {
            bad.push(format!("{p}\n    want valid={want}, got {got:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} disagree:\n{}",
        bad.len(),
        c.len(),
        bad.join("\n")
    );
    let invalid = c.iter().filter(|(v, _)| !v).count();
    println!(
        "corpus: {} patterns, {} invalid, all verdicts as expected",
        c.len(),
        invalid
    );
}

/// Every prefix of every corpus pattern (at character boundaries) parses or
/// fails with a position inside the input; none panics.
#[test]
fn truncations_never_panic() {
    for (_, p) in corpus() {
        for (i, _) in p.char_indices() {
            if let Err(e) = pattern::parse(&p[..i]) {
                assert!(e.offset <= i, "{p:?}[..{i}]: {e}");
            }
        }
    }
}

#[test]
fn real_patterns_parse() {
    let Some(data) = common::testdata() else {
        return;
    };
    let pats = real_patterns(&data.join("stix"));
    assert!(pats.len() > 1000, "only {} patterns found", pats.len());
    let mut matchable = 0;
    for p in &pats {
        match pattern::parse(p) {
            Ok(x) => matchable += usize::from(x.observables().is_some()),
            Err(e) => panic!("{p}: {e}"),
        }
    }
    println!("real patterns: {} parse, {matchable} matchable", pats.len());
}

const VALIDATE_PY: &str = r#"
import sys
from stix2patterns.validator import validate
for line in open(sys.argv[1], encoding="utf-8"):
    p = line.rstrip("\n")
    try:
        ok = validate(p, stix_version="2.1")
    except Exception:
        ok = False
    print("valid" if ok else "invalid")
"#;

#[test]
fn same_verdicts_as_stix2patterns() {
    let Some(py) = vigil_testkit::python("stix2-patterns") else {
        return;
    };
    let mut pats: Vec<String> = corpus().into_iter().map(|(_, p)| p).collect();
    if let Some(data) = common::testdata() {
        pats.extend(
            real_patterns(&data.join("stix"))
                .into_iter()
                .filter(|p| !p.contains('\n')),
        );
    }
    let dir = std::env::temp_dir().join(format!("vigil-intel-patterns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("patterns.txt");
    std::fs::write(&file, pats.join("\n") + "\n").unwrap();
    let out = std::process::Command::new(&py)
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{py}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<bool> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "valid")
        .collect();
    assert_eq!(verdicts.len(), pats.len());
    let mut bad = Vec::new();
    for (p, py_ok) in pats.iter().zip(&verdicts) {
        let ours = pattern::parse(p);
        if ours.is_ok() != *py_ok {
            bad.push(format!(
                "{p}\n    stix2patterns valid={py_ok}, ours {ours:?}"
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} disagree:\n{}",
        bad.len(),
        pats.len(),
        bad.join("\n")
    );
    println!("stix2patterns agrees on all {} patterns", pats.len());
}

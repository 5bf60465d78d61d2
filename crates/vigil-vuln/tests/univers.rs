//! Vigil's version order against the `univers` Python library.
//!
//! Runs when `VIGIL_PYTHON` names a Python with univers installed (the CI
//! pin is in `.ci/requirements.txt`): every fixture comparison and rejected
//! version, range-membership checks built from the fixtures, the Debian
//! versions in this machine's dpkg status database, and — with
//! `VIGIL_TESTDATA` — Go and PyPI versions and ranges from the real OSV
//! records. Every disagreement must be listed in `univers_differences.txt`
//! with the name of a test in `univers_differences.rs` that shows which side
//! follows the ecosystem's own rules.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use serde_json::{Value, json};
use vigil_vuln::osv::{OsvDatabase, RangeType, parse_json};
use vigil_vuln::{Component, Ecosystem, Scheme, compare};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/versions");
const DIFFERENCES: &str = include_str!("univers_differences.txt");
const DIFFERENCE_TESTS: &str = include_str!("univers_differences.rs");

fn ecosystem(s: Scheme) -> Ecosystem {
    match s {
        Scheme::Semver => Ecosystem::Hex,
        Scheme::Npm => Ecosystem::Npm,
        Scheme::Cargo => Ecosystem::CratesIo,
        Scheme::Pep440 => Ecosystem::PyPI,
        Scheme::Maven => Ecosystem::Maven,
        Scheme::Go => Ecosystem::Go,
        Scheme::Nuget => Ecosystem::NuGet,
        Scheme::Gem => Ecosystem::RubyGems,
        Scheme::Composer => Ecosystem::Packagist,
        Scheme::Dpkg => Ecosystem::Debian,
        Scheme::Apk => Ecosystem::Alpine,
        Scheme::Rpm => Ecosystem::RedHat,
    }
}

fn vers_scheme(s: Scheme) -> &'static str {
    match s {
        Scheme::Semver | Scheme::Npm => "npm",
        Scheme::Cargo => "cargo",
        Scheme::Pep440 => "pypi",
        Scheme::Maven => "maven",
        Scheme::Go => "golang",
        Scheme::Nuget => "nuget",
        Scheme::Gem => "gem",
        Scheme::Composer => "composer",
        Scheme::Dpkg => "deb",
        Scheme::Apk => "apk",
        Scheme::Rpm => "rpm",
    }
}

fn op(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "==",
        Ordering::Greater => ">",
    }
}

/// Our verdict: is `v` inside the OSV range `events` (JSON array)?
fn in_range(eco: Ecosystem, kind: &str, events: &Value, v: &str) -> Option<bool> {
    let rec = json!({"id": "T", "affected": [{"package": {"ecosystem": eco.osv_name(), "name": "p"},
        "ranges": [{"type": kind, "events": events}]}]});
    let db = OsvDatabase::new(parse_json(&rec.to_string()).ok()?);
    if !db.problems().is_empty() {
        return None;
    }
    Some(
        !db.match_component(&Component::new(eco, "p", Some(v)))
            .is_empty(),
    )
}

/// `vers:` constraints equivalent to OSV events sorted by our order; `None`
/// when the events do not alternate (introduced, end, introduced, ...), which
/// `vers` cannot express.
fn vers(scheme: Scheme, events: &[(String, String)]) -> Option<String> {
    let mut parts = Vec::new();
    let mut open = false;
    for (k, v) in events {
        match (k.as_str(), v.as_str(), open) {
            ("introduced", "0", false) => open = true,
            ("introduced", v, false) => {
                parts.push(format!(">={v}"));
                open = true;
            }
            ("fixed", v, true) => {
                parts.push(format!("<{v}"));
                open = false;
            }
            ("last_affected", v, true) => {
                parts.push(format!("<={v}"));
                open = false;
            }
            _ => return None,
        }
    }
    if parts.is_empty() {
        parts.push("*".into());
    }
    Some(format!("vers:{}/{}", vers_scheme(scheme), parts.join("|")))
}

struct Cases {
    cases: Vec<Value>,
    text: Vec<String>,
}

impl Cases {
    fn cmp(&mut self, s: Scheme, a: &str, b: &str) {
        let Ok(o) = compare(s, a, b) else { return };
        self.cases
            .push(json!({"eco": s.name(), "kind": "cmp", "a": a, "b": b, "ours": op(o)}));
        self.text.push(format!("{a} {} {b}", op(o)));
    }

    /// A range check for `v` against `[lo, hi)` built from OSV events.
    fn range(&mut self, s: Scheme, events: &[(String, String)], v: &str) {
        if compare(s, v, v).is_err() {
            return; // not a version of the scheme: nothing to evaluate
        }
        let Some(vers) = vers(s, events) else { return };
        let ev: Vec<Value> = events
            .iter()
            .map(|(k, x)| json!({ k.as_str(): x }))
            .collect();
        let kind = if matches!(s, Scheme::Go) {
            "SEMVER"
        } else {
            "ECOSYSTEM"
        };
        let Some(ours) = in_range(ecosystem(s), kind, &Value::Array(ev), v) else {
            return;
        };
        self.cases
            .push(json!({"eco": s.name(), "kind": "range", "vers": vers, "v": v, "ours": ours}));
        self.text.push(format!("{vers} {v}"));
    }
}

fn fixture_cases(c: &mut Cases) {
    for s in Scheme::ALL {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{}.txt", s.name())).unwrap();
        let mut versions: Vec<String> = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some(bad) = line.strip_prefix("! ") {
                c.cases
                    .push(json!({"eco": s.name(), "kind": "valid", "v": bad, "ours": false}));
                c.text.push(format!("! {bad}"));
            } else if let Some((a, b)) = line.split_once(" < ").or_else(|| line.split_once(" == "))
            {
                c.cmp(s, a, b);
                for v in [a, b] {
                    if !versions.iter().any(|x| x == v) {
                        versions.push(v.to_owned());
                    }
                }
            }
        }
        versions.sort_by(|a, b| compare(s, a, b).unwrap_or(Ordering::Equal));
        // range bounds: one spelling per distinct version, no build metadata
        let mut bounds: Vec<&String> = Vec::new();
        for v in versions.iter().filter(|v| !v.contains('+')) {
            if bounds
                .last()
                .is_none_or(|b| compare(s, b, v).ok() != Some(Ordering::Equal))
            {
                bounds.push(v);
            }
        }
        let step = (bounds.len() / 6).max(1);
        for i in (0..bounds.len().saturating_sub(3)).step_by(step) {
            let ev = vec![
                ("introduced".to_owned(), bounds[i].clone()),
                ("fixed".to_owned(), bounds[i + 3].clone()),
            ];
            for v in &versions {
                c.range(s, &ev, v);
            }
        }
    }
}

/// Go and PyPI versions and ranges from the real OSV records.
fn osv_cases(c: &mut Cases) {
    let Some(root) = common::testdata() else {
        return;
    };
    let (records, _) = common::load_osv(&root);
    for rec in &records {
        for aff in &rec.affected {
            let Some(pkg) = &aff.package else { continue };
            let s = match pkg.ecosystem.as_str() {
                "Go" => Scheme::Go,
                "PyPI" => Scheme::Pep440,
                _ => continue,
            };
            let mut versions: Vec<String> = aff.versions.iter().take(40).cloned().collect();
            for r in &aff.ranges {
                if r.kind == RangeType::Git {
                    continue;
                }
                let mut events: Vec<(String, String)> = Vec::new();
                for e in &r.events {
                    for (k, v) in [
                        ("introduced", &e.introduced),
                        ("fixed", &e.fixed),
                        ("last_affected", &e.last_affected),
                    ] {
                        if let Some(v) = v {
                            events.push((k.to_owned(), v.clone()));
                            if v != "0" {
                                versions.push(v.clone());
                            }
                        }
                    }
                }
                if events
                    .iter()
                    .any(|(_, v)| v != "0" && compare(s, v, v).is_err())
                {
                    continue;
                }
                events.sort_by(|a, b| match (a.1.as_str(), b.1.as_str()) {
                    ("0", "0") => Ordering::Equal,
                    ("0", _) => Ordering::Less,
                    (_, "0") => Ordering::Greater,
                    (x, y) => compare(s, x, y).unwrap_or(Ordering::Equal),
                });
                for v in versions.iter().take(30) {
                    c.range(s, &events, v);
                }
            }
            versions.retain(|v| compare(s, v, v).is_ok());
            versions.sort_by(|a, b| compare(s, a, b).unwrap_or(Ordering::Equal));
            versions.dedup();
            for w in versions.windows(2) {
                c.cmp(s, &w[0], &w[1]);
            }
        }
    }
}

/// Debian versions installed on this machine (`/var/lib/dpkg/status`),
/// compared in sorted order and with every 7th later one.
fn dpkg_cases(c: &mut Cases) {
    let Ok(status) = std::fs::read_to_string("/var/lib/dpkg/status") else {
        return;
    };
    let mut versions: Vec<String> = status
        .lines()
        .filter_map(|l| l.strip_prefix("Version: "))
        .map(str::to_owned)
        .filter(|v| compare(Scheme::Dpkg, v, v).is_ok())
        .collect();
    versions.sort_by(|a, b| compare(Scheme::Dpkg, a, b).unwrap_or(Ordering::Equal));
    versions.dedup();
    for (i, v) in versions.iter().enumerate() {
        for w in versions[i + 1..].iter().step_by(7).take(20) {
            c.cmp(Scheme::Dpkg, v, w);
        }
    }
}

#[test]
fn univers_agrees_or_differences_are_named() {
    let Some(python) = vigil_testkit::python("univers, see .ci/requirements.txt") else {
        return;
    };
    let mut c = Cases {
        cases: Vec::new(),
        text: Vec::new(),
    };
    fixture_cases(&mut c);
    osv_cases(&mut c);
    dpkg_cases(&mut c);
    let dir = std::env::temp_dir().join(format!("vigil-univers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("cases.json");
    std::fs::write(&input, json!({"cases": c.cases}).to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/univers_compare.py");
    let out = Command::new(python)
        .arg(script)
        .arg(&input)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "univers script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let known: HashMap<(String, String), String> = DIFFERENCES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 3).then(|| ((f[0].to_owned(), f[1].to_owned()), f[2].to_owned()))
        })
        .collect();
    let mut per_eco: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for case in &c.cases {
        per_eco
            .entry(format!(
                "{}/{}",
                case["eco"].as_str().unwrap(),
                case["kind"].as_str().unwrap()
            ))
            .or_default()
            .0 += 1;
    }
    let mut unexplained = Vec::new();
    for r in result["results"].as_array().unwrap() {
        let i = r["index"].as_u64().unwrap() as usize;
        let eco = c.cases[i]["eco"].as_str().unwrap().to_owned();
        let key = format!("{eco}/{}", c.cases[i]["kind"].as_str().unwrap());
        match known.get(&(eco.clone(), c.text[i].clone())) {
            Some(test) => {
                assert!(
                    DIFFERENCE_TESTS.contains(&format!("fn {test}()")),
                    "no test named {test}"
                );
                per_eco.entry(key).or_default().1 += 1;
            }
            None => {
                per_eco.entry(key).or_default().2 += 1;
                unexplained.push(format!("{eco}\t{}\tuniv={}", c.text[i], r["univers"]));
            }
        }
    }
    println!(
        "univers {}: (cases, named differences, unexplained) per ecosystem/kind:",
        result["univers"]
    );
    for (k, (n, named, bad)) in &per_eco {
        println!(
            "  {k}: {n} cases, {} agree, {named} named differences, {bad} unexplained",
            n - named - bad
        );
    }
    for u in &unexplained {
        println!("unexplained: {u}");
    }
    assert!(
        unexplained.is_empty(),
        "{} disagreements without a named test",
        unexplained.len()
    );
}

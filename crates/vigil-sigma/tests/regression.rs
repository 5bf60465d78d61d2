//! SigmaHQ regression cases: with the whole rules directory loaded, each
//! case's EVTX file and, separately, its evtx-JSON file fire the case's rule
//! exactly `match_count` times (at least once when no count is given).
//! See: #4

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use vigil_model::{Event, FieldRegistry};
use vigil_sigma::{Config, RuleSet, evtx::event_from_evtx_json};

struct Case {
    dir: String,
    rule_id: String,
    evtx: PathBuf,
    json: PathBuf,
    count: Option<usize>,
}

fn cases(data: &Path) -> Vec<Case> {
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("sigma/regression_index.json")).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    for e in index.as_array().unwrap() {
        if e["rule_in_shared_rules"] != serde_json::Value::Bool(true) {
            continue;
        }
        let dir = e["regression_dir"].as_str().unwrap();
        let info: yaml_serde::Value = yaml_serde::from_str(
            &std::fs::read_to_string(data.join("sigma").join(dir).join("info.yml")).unwrap(),
        )
        .unwrap();
        let Some(tests) = info["regression_tests_info"].as_sequence() else {
            // The cisco case: its test is commented out upstream and its log
            // is a raw CLI transcript, not an event log.
            println!("not a log case: {dir}");
            continue;
        };
        for t in tests {
            let path = t["path"].as_str().unwrap();
            if !path.ends_with(".evtx") {
                continue; // e.g. the cisco `.raw` case: not an event log
            }
            let rel = path.strip_prefix("regression_data/").unwrap();
            let evtx = data.join("sigma/regression").join(rel);
            out.push(Case {
                dir: dir.to_string(),
                rule_id: e["rule_id"].as_str().unwrap().to_string(),
                json: evtx.with_extension("json"),
                evtx,
                count: t
                    .get("match_count")
                    .and_then(yaml_serde::Value::as_u64)
                    .map(|n| n as usize),
            });
        }
    }
    out
}

fn evtx_events(p: &Path, reg: &FieldRegistry) -> Vec<Event> {
    let mut parser = evtx::EvtxParser::from_path(p).unwrap();
    parser
        .records_json_value()
        .map(|r| event_from_evtx_json(&r.unwrap().data, reg, "evtx", Vec::new()))
        .collect()
}

fn json_events(p: &Path, reg: &FieldRegistry) -> Vec<Event> {
    let text = std::fs::read_to_string(p).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(|v| event_from_evtx_json(&v.unwrap(), reg, "json", Vec::new()))
        .collect()
}

/// Cases whose expected count this engine does not reproduce, with why.
/// Empty: every case passes.
const EXCEPTIONS: &[(&str, &str)] = &[];

#[test]
fn regression_cases_fire_their_rule() {
    let Some(data) = common::testdata() else {
        return;
    };
    let sources = common::read_rules(&data.join("sigma/rules"));
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load(
        sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &reg,
        &Config::default(),
    );
    assert!(errors.len() <= 1, "{errors:?}");
    let mut failures = Vec::new();
    let all = cases(&data);
    let mut pass = [0usize; 2];
    let mut total = [0usize; 2];
    let mut evaluator = set.evaluator();
    for c in &all {
        let Some(ri) = set
            .rules()
            .iter()
            .position(|r| r.rule.meta.id.as_deref() == Some(&c.rule_id))
        else {
            failures.push(format!("{}: rule {} not loaded", c.dir, c.rule_id));
            continue;
        };
        for (k, (kind, events)) in [
            ("evtx", evtx_events(&c.evtx, &reg)),
            ("json", json_events(&c.json, &reg)),
        ]
        .into_iter()
        .enumerate()
        {
            let mut n = 0;
            let mut out = Vec::new();
            for e in &events {
                out.clear();
                evaluator.evaluate(e, &mut out);
                n += out.iter().filter(|v| v.rule == ri).count();
            }
            total[k] += 1;
            let ok = match c.count {
                Some(want) => n == want,
                None => n >= 1,
            };
            if ok {
                pass[k] += 1;
            } else if !EXCEPTIONS.iter().any(|(d, _)| c.dir.ends_with(d)) {
                failures.push(format!(
                    "{} [{kind}]: rule {} fired {n} times over {} events, want {:?}",
                    c.dir,
                    c.rule_id,
                    events.len(),
                    c.count
                ));
            }
        }
    }
    println!("regression cases: {}", all.len());
    println!(
        "evtx pass {}/{} ({:.1}%)",
        pass[0],
        total[0],
        100.0 * pass[0] as f64 / total[0].max(1) as f64
    );
    println!(
        "json pass {}/{} ({:.1}%)",
        pass[1],
        total[1],
        100.0 * pass[1] as f64 / total[1].max(1) as f64
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} regression failures",
        failures.len()
    );
}

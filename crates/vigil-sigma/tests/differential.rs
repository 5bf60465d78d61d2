//! Differential test against rsigma (crates.io `rsigma-eval` /
//! `rsigma-parser` 0.23.0): the same SigmaHQ rules over the same
//! EVTX-derived events, comparing the (rule id, record) match sets.
//!
//! Both sides get the identical event: each EVTX record is flattened by
//! [`vigil_sigma::evtx::event_from_evtx_json`] (SigmaHQ field names) and
//! rsigma receives that event's flat JSON object
//! ([`vigil_model::Event::fields_json`]). Our mapping's field aliases (the
//! Security 4688 renames, `Image` ← `NewProcessName` …, used by our engine
//! only when the Sigma field is absent) are materialised into rsigma's JSON
//! under the same condition, since rsigma has no such mapping.
//!
//! Log-source routing uses rsigma's own API,
//! `Engine::evaluate_with_logsource` (strict: every dimension a rule sets
//! must equal the event's): the event's product, services and categories
//! are derived from our built-in Windows mapping (Sysmon EventIDs, Security
//! 4688, PowerShell channels, services by Channel), one call per
//! (service, category) combination, results united.
//!
//! A second test checks the routing itself on the Sysmon records: rsigma
//! routes with its own built-in `sysmon` pipeline (categories → EventID,
//! from pySigma-pipeline-sysmon) and conflict-based pruning
//! (`Engine::evaluate_pruned` with `product: windows, service: sysmon`),
//! against our Windows mapping; aliases are not involved there.
//!
//! Every disagreement is pinned in [`PINNED`] with the side that follows the
//! Sigma specification and why; the test asserts the disagreement set
//! equals that table exactly, so a new disagreement (or a fixed one) fails.
//! Skipped (passes) when `VIGIL_TESTDATA` is unset. See: #4

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rsigma_eval::Engine;
use rsigma_eval::event::JsonEvent;
use rsigma_parser::LogSource;
use vigil_model::{Event, FieldRegistry, Value};
use vigil_sigma::{Config, MapValue, Mapping, OneOrMany, RuleSet, evtx::event_from_evtx_json};

/// Which engine fired on a pinned pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fired {
    /// Only Vigil matched.
    Vigil,
    /// Only rsigma matched.
    Rsigma,
}

/// A known disagreement: rule id, EVTX file (relative to `evtx/`), record
/// id, which side fired, which side follows the spec and why.
struct Pinned {
    rule: &'static str,
    file: &'static str,
    record: u64,
    fired: Fired,
    spec: &'static str,
}

/// Every (rule, record) pair on which the engines disagree. Filled from the
/// run over the whole corpus; each entry says who follows the spec.
const PINNED: &[Pinned] = &[];

/// Disagreements of [`sysmon_routing_against_rsigma_pipeline`] (rsigma's
/// own `sysmon` pipeline routing against our mapping), same format.
const PINNED_SYSMON_ROUTING: &[Pinned] = &[];

/// A record's identity: EVTX path relative to `evtx/`, event record id.
type RecordKey = (String, u64);

fn evtx_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("evtx"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn map_value_eq(m: &MapValue, v: &Value) -> bool {
    match (m, v) {
        (MapValue::Int(i), v) => v.as_i64() == Some(*i),
        (MapValue::Str(s), Value::Str(t)) => s.eq_ignore_ascii_case(t),
        (MapValue::Str(s), v) => s.eq_ignore_ascii_case(&v.to_text()),
    }
}

/// The event's log sources per our mappings: product (first mapping product
/// whose marker field is present), then every service and category whose
/// `when` holds, as rsigma `LogSource`s (one per service × category).
fn event_logsources(ev: &Event, reg: &FieldRegistry, mappings: &[Mapping]) -> Vec<LogSource> {
    let get = |name: &str| reg.get(name).filter(|f| ev.get(*f).is_some());
    let product = mappings.iter().find_map(|m| {
        m.products
            .iter()
            .find(|(_, fields)| fields.iter().any(|f| get(f).is_some()))
            .map(|(p, _)| p.clone())
    });
    let mut services = BTreeSet::new();
    let mut categories = BTreeSet::new();
    for m in mappings {
        for ls in &m.logsources {
            if ls.product.is_some() && ls.product != product {
                continue;
            }
            let holds = ls.when.iter().any(|conj| {
                conj.iter().all(|(field, want)| {
                    let Some(f) = get(field) else { return false };
                    let vals = match want {
                        OneOrMany::One(v) => std::slice::from_ref(v),
                        OneOrMany::Many(v) => v.as_slice(),
                    };
                    ev.get_all(f)
                        .any(|v| vals.iter().any(|w| map_value_eq(w, v)))
                })
            });
            if holds {
                if let Some(s) = &ls.service {
                    services.insert(Some(s.clone()));
                }
                if let Some(c) = &ls.category {
                    categories.insert(Some(c.clone()));
                }
            }
        }
    }
    if services.is_empty() {
        services.insert(None);
    }
    if categories.is_empty() {
        categories.insert(None);
    }
    let mut out = Vec::new();
    for s in &services {
        for c in &categories {
            out.push(LogSource {
                product: product.clone(),
                service: s.clone(),
                category: c.clone(),
                ..LogSource::default()
            });
        }
    }
    out
}

/// The flat JSON rsigma sees: our fields, plus each mapping alias
/// (`Image` ← `NewProcessName`) where the Sigma field is absent.
fn rsigma_json(ev: &Event, reg: &FieldRegistry, mappings: &[Mapping]) -> serde_json::Value {
    let mut obj = ev.fields_json(reg);
    for m in mappings {
        for (sigma, alts) in &m.fields {
            if obj.contains_key(sigma) {
                continue;
            }
            if let Some(v) = alts.iter().find_map(|a| obj.get(a).cloned()) {
                obj.insert(sigma.clone(), v);
            }
        }
    }
    serde_json::Value::Object(obj)
}

/// Asserts the disagreement set equals `table` exactly; prints ready-to-pin
/// lines for new ones and names stale pins.
fn check_pinned(diffs: &BTreeMap<(String, RecordKey), Fired>, table: &[Pinned]) {
    let pinned: BTreeMap<(String, RecordKey), Fired> = table
        .iter()
        .map(|p| {
            assert!(!p.spec.is_empty());
            (
                (p.rule.to_string(), (p.file.to_string(), p.record)),
                p.fired,
            )
        })
        .collect();
    let mut unexpected = Vec::new();
    for (k, f) in diffs {
        if pinned.get(k) != Some(f) {
            unexpected.push(format!(
                "    Pinned {{ rule: {:?}, file: {:?}, record: {}, fired: Fired::{f:?}, spec: \"\" }},",
                k.0, k.1.0, k.1.1
            ));
        }
    }
    let stale: Vec<_> = pinned
        .iter()
        .filter(|(k, f)| diffs.get(*k) != Some(*f))
        .map(|(k, _)| format!("{k:?}"))
        .collect();
    for u in &unexpected {
        println!("UNPINNED {u}");
    }
    for s in &stale {
        println!("STALE {s}");
    }
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{} unpinned disagreements, {} stale pins",
        unexpected.len(),
        stale.len()
    );
}

#[test]
fn differential_against_rsigma() {
    let Some(data) = common::testdata() else {
        return;
    };
    let config = Config::default();
    let reg = FieldRegistry::new();

    // Vigil.
    let sources = common::read_rules(&data.join("sigma/rules"));
    let (set, errors) = RuleSet::load(
        sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &reg,
        &config,
    );
    let vigil_ids: Vec<String> = set
        .rules()
        .iter()
        .map(|r| {
            r.rule
                .meta
                .id
                .clone()
                .unwrap_or_else(|| r.rule.meta.title.clone())
        })
        .collect();
    println!(
        "vigil: {} rules loaded, {} errors",
        vigil_ids.len(),
        errors.len()
    );

    // rsigma.
    let mut engine = Engine::new();
    let mut parse_errors = 0usize;
    let mut rules = Vec::new();
    for (path, text) in &sources {
        match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => {
                parse_errors += c.errors.len();
                for e in &c.errors {
                    println!("rsigma parse error {path}: {e}");
                }
                rules.extend(c.rules);
            }
            Err(e) => {
                parse_errors += 1;
                println!("rsigma parse error {path}: {e}");
            }
        }
    }
    let compile_errors = engine.add_rules(rules.iter());
    for (i, e) in &compile_errors {
        println!("rsigma compile error {}: {e}", rules[*i].title);
    }
    println!(
        "rsigma: {} rules loaded, {} parse errors, {} compile errors",
        engine.rule_count(),
        parse_errors,
        compile_errors.len()
    );
    let vigil_set: BTreeSet<&str> = vigil_ids.iter().map(String::as_str).collect();
    let rsigma_set: BTreeSet<String> = rules
        .iter()
        .map(|r| r.id.clone().unwrap_or_else(|| r.title.clone()))
        .collect();
    // Loading is part of the comparison: a rule only one side accepts is a
    // disagreement too (none today: both load every rule).
    let only_vigil: Vec<_> = vigil_set
        .iter()
        .filter(|i| !rsigma_set.contains(**i))
        .collect();
    let only_rsigma: Vec<_> = rsigma_set
        .iter()
        .filter(|i| !vigil_set.contains(i.as_str()))
        .collect();
    println!(
        "distinct rule ids: vigil {}, rsigma {}",
        vigil_set.len(),
        rsigma_set.len()
    );
    assert!(
        errors.is_empty() && parse_errors == 0 && compile_errors.is_empty(),
        "a rule failed to load on one side"
    );
    assert!(
        only_vigil.is_empty() && only_rsigma.is_empty(),
        "rule sets differ: vigil only {only_vigil:?}, rsigma only {only_rsigma:?}"
    );
    // Only rules both loaded are compared.
    let common_ids: BTreeSet<&str> = vigil_set
        .iter()
        .copied()
        .filter(|i| rsigma_set.contains(*i))
        .collect();

    // Events.
    let evtx_dir = data.join("evtx");
    let mut evaluator = set.evaluator();
    let mut verdicts = Vec::new();
    let mut records = 0usize;
    // (rule id, record) -> which side fired, for disagreements.
    let mut diffs: BTreeMap<(String, RecordKey), Fired> = BTreeMap::new();
    let mut both = 0usize;
    let mut totals = [0usize; 2];
    let mut fired_rules: BTreeSet<String> = BTreeSet::new();
    for path in evtx_files(&evtx_dir) {
        let rel = path
            .strip_prefix(&evtx_dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Ok(mut parser) = evtx::EvtxParser::from_path(&path) else {
            println!("unreadable: {rel}");
            continue;
        };
        for rec in parser.records_json_value() {
            let Ok(rec) = rec else { continue };
            records += 1;
            let key: RecordKey = (rel.clone(), rec.event_record_id);
            let ev = event_from_evtx_json(&rec.data, &reg, "evtx", Vec::new());

            verdicts.clear();
            evaluator.evaluate(&ev, &mut verdicts);
            let ours: BTreeSet<&str> = verdicts
                .iter()
                .map(|v| vigil_ids[v.rule].as_str())
                .filter(|id| common_ids.contains(id))
                .collect();

            let json = rsigma_json(&ev, &reg, &config.mappings);
            let jev = JsonEvent::borrow(&json);
            let mut theirs: BTreeSet<String> = BTreeSet::new();
            for ls in event_logsources(&ev, &reg, &config.mappings) {
                for r in engine.evaluate_with_logsource(&jev, &ls) {
                    let id = r.header.rule_id.unwrap_or(r.header.rule_title);
                    if common_ids.contains(id.as_str()) {
                        theirs.insert(id);
                    }
                }
            }

            totals[0] += ours.len();
            totals[1] += theirs.len();
            for id in &ours {
                if theirs.contains(*id) {
                    both += 1;
                    fired_rules.insert(id.to_string());
                } else {
                    diffs.insert((id.to_string(), key.clone()), Fired::Vigil);
                }
            }
            for id in &theirs {
                if !ours.contains(id.as_str()) {
                    diffs.insert((id.clone(), key.clone()), Fired::Rsigma);
                }
            }
        }
    }

    let pairs = records * common_ids.len();
    println!(
        "records: {records}; rules compared: {}; pairs compared: {pairs}",
        common_ids.len()
    );
    println!(
        "matches on both sides: {both}; disagreements: {}; agreement: {:.5}%",
        diffs.len(),
        100.0 * (pairs - diffs.len()) as f64 / pairs.max(1) as f64
    );
    println!(
        "matches: vigil {}, rsigma {}; rules firing on both sides at least once: {}",
        totals[0],
        totals[1],
        fired_rules.len()
    );
    // Guards against a harness that agrees because nothing matches (a
    // broken flattening, routing that drops every event).
    assert!(
        records > 9000 && both > 3000,
        "{records} records, {both} matches"
    );
    let mut by_rule: BTreeMap<(&str, Fired), usize> = BTreeMap::new();
    for ((id, _), f) in &diffs {
        *by_rule.entry((id.as_str(), *f)).or_default() += 1;
    }
    for ((id, f), n) in &by_rule {
        println!("disagreement by rule: {id} {f:?} x{n}");
    }

    check_pinned(&diffs, PINNED);
}

/// Routing itself, on the Sysmon records: rsigma with its own built-in
/// `sysmon` pipeline (categories → EventID conditions, from
/// pySigma-pipeline-sysmon) and conflict-based pruning with the event's
/// `product: windows, service: sysmon`, against our Windows mapping.
#[test]
fn sysmon_routing_against_rsigma_pipeline() {
    let Some(data) = common::testdata() else {
        return;
    };
    let config = Config::default();
    let reg = FieldRegistry::new();
    let sources = common::read_rules(&data.join("sigma/rules"));
    let (set, _) = RuleSet::load(
        sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &reg,
        &config,
    );
    let ids: Vec<String> = set
        .rules()
        .iter()
        .map(|r| r.rule.meta.id.clone().unwrap_or_default())
        .collect();
    let pipeline = rsigma_eval::resolve_builtin_pipeline("sysmon")
        .unwrap()
        .unwrap();
    let mut engine = Engine::new_with_pipeline(pipeline);
    let mut rules = Vec::new();
    for (_, text) in &sources {
        rules.extend(rsigma_parser::parse_sigma_yaml(text).unwrap().rules);
    }
    assert!(engine.add_rules(rules.iter()).is_empty());
    let sysmon = LogSource {
        product: Some("windows".into()),
        service: Some("sysmon".into()),
        ..LogSource::default()
    };
    let channel = reg.intern("Channel").unwrap();
    let evtx_dir = data.join("evtx");
    let mut evaluator = set.evaluator();
    let mut verdicts = Vec::new();
    let (mut records, mut both) = (0usize, 0usize);
    let mut diffs: BTreeMap<(String, RecordKey), Fired> = BTreeMap::new();
    for path in evtx_files(&evtx_dir) {
        let rel = path
            .strip_prefix(&evtx_dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Ok(mut parser) = evtx::EvtxParser::from_path(&path) else {
            continue;
        };
        for rec in parser.records_json_value() {
            let Ok(rec) = rec else { continue };
            let ev = event_from_evtx_json(&rec.data, &reg, "evtx", Vec::new());
            if !ev
                .get_str(channel)
                .is_some_and(|c| c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational"))
            {
                continue;
            }
            records += 1;
            let key: RecordKey = (rel.clone(), rec.event_record_id);
            verdicts.clear();
            evaluator.evaluate(&ev, &mut verdicts);
            let ours: BTreeSet<String> = verdicts.iter().map(|v| ids[v.rule].clone()).collect();
            let json = serde_json::Value::Object(ev.fields_json(&reg));
            let theirs: BTreeSet<String> = engine
                .evaluate_pruned(&JsonEvent::borrow(&json), &sysmon)
                .into_iter()
                .map(|r| r.header.rule_id.unwrap_or_default())
                .collect();
            both += ours.intersection(&theirs).count();
            for id in ours.difference(&theirs) {
                diffs.insert((id.clone(), key.clone()), Fired::Vigil);
            }
            for id in theirs.difference(&ours) {
                diffs.insert((id.clone(), key.clone()), Fired::Rsigma);
            }
        }
    }
    println!(
        "sysmon records: {records}; matches on both sides: {both}; disagreements: {}",
        diffs.len()
    );
    assert!(
        records > 1500 && both > 250,
        "{records} records, {both} matches"
    );
    let mut by_rule: BTreeMap<(&str, Fired), usize> = BTreeMap::new();
    for ((id, _), f) in &diffs {
        *by_rule.entry((id.as_str(), *f)).or_default() += 1;
    }
    for ((id, f), n) in &by_rule {
        println!("routing disagreement by rule: {id} {f:?} x{n}");
    }
    check_pinned(&diffs, PINNED_SYSMON_ROUTING);
}

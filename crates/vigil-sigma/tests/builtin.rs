//! The built-in rule pack (`rules/builtin/*.yml`): every file loads and
//! compiles, and each test event under `rules/builtin/tests/` fires exactly
//! the rule of the file it is named after. The SSH brute-force correlation
//! is only checked to parse (its evaluation is the streaming detector's).
//! See: #4

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vigil_model::{Event, EventBuilder, EventFormat, FieldRegistry, TenantId, Timestamp, Value};
use vigil_sigma::evtx::event_from_evtx_json;
use vigil_sigma::linux::enrich_syslog_event;
use vigil_sigma::{Config, RuleSet, parse_file};

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/builtin")
}

fn pack() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(pack_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yml") {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    out.sort();
    out
}

/// A test event: evtx-JSON (`{"Event":…}`) or flat JSON with dotted keys
/// (syslog as vigil-ingest produces it; sshd messages get their fields).
fn event(v: &serde_json::Value, reg: &FieldRegistry) -> Event {
    if v.get("Event").is_some() {
        return event_from_evtx_json(v, reg, "test", Vec::new());
    }
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_secs(0),
        "test",
        EventFormat::Json,
        Vec::new(),
    );
    for (k, x) in v.as_object().unwrap() {
        let val = match x {
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Number(n) => Value::Int(n.as_i64().unwrap()),
            other => Value::from(other.to_string().as_str()),
        };
        b.push(reg.intern(k).unwrap(), val);
    }
    enrich_syslog_event(&b.build(), reg)
}

#[test]
fn every_pack_file_loads_with_unique_ids_and_attack_tags() {
    let reg = FieldRegistry::new();
    let sources = pack();
    assert!(sources.len() >= 7, "{}", sources.len());
    let (set, errors) = RuleSet::load(sources.clone(), &reg, &Config::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let mut ids = BTreeSet::new();
    for r in set.rules() {
        let m = &r.rule.meta;
        let id = m.id.clone().unwrap();
        assert_eq!(id.len(), 36, "{}: id is not a UUID", r.path);
        assert!(ids.insert(id), "{}: duplicate id", r.path);
        assert!(m.level.is_some(), "{}: no level", r.path);
        assert!(
            m.tags.iter().any(|t| t.starts_with("attack.t")),
            "{}: no ATT&CK technique tag",
            r.path
        );
    }
    // The SSH brute force correlation parses, names its base rule and
    // groups by source address.
    let corr: Vec<_> = set.correlations().collect();
    assert_eq!(corr.len(), 1);
    let (path, c) = corr[0];
    assert_eq!(path, "ssh_brute_force.yml");
    assert_eq!(c.rules, ["vigil_ssh_failed_login"]);
    assert_eq!(c.group_by, ["source.ip"]);
    assert_eq!(c.timespan_secs, 300);
    assert!(
        set.rules()
            .iter()
            .any(|r| r.rule.meta.name.as_deref() == Some("vigil_ssh_failed_login"))
    );
    // Every document of the pack parses on its own, too.
    for (p, t) in &sources {
        for d in parse_file(p, t) {
            d.unwrap();
        }
    }
}

#[test]
fn each_test_event_fires_exactly_its_rule() {
    let reg = FieldRegistry::new();
    let (set, errors) = RuleSet::load(pack(), &reg, &Config::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let mut checked = 0;
    let mut tests: Vec<PathBuf> = std::fs::read_dir(pack_dir().join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    tests.sort();
    for t in tests {
        let stem = t.file_stem().unwrap().to_string_lossy().into_owned();
        let rule_file = format!("{stem}.yml");
        let text = std::fs::read_to_string(&t).unwrap();
        for v in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let ev = event(&v.unwrap(), &reg);
            let fired: Vec<&str> = set
                .evaluate(&ev)
                .iter()
                .map(|v| &*set.rules()[v.rule].path)
                .collect();
            assert_eq!(fired, [rule_file.as_str()], "{}", t.display());
            checked += 1;
        }
    }
    // One event per detection rule file.
    assert_eq!(checked, 7);
}

//! The threat register end to end through the real binary (#8):
//!
//! - with enterprise ATT&CK, the MISP galaxy and SigmaHQ's rules
//!   (`$VIGIL_TESTDATA`) and a financial-sector, European profile,
//!   `vigil threats list` ranks actors with an explanation for each;
//! - coverage is exact: for a dozen techniques the covering rules equal the
//!   rules whose tags name the technique (or, for a parent, one of its
//!   sub-techniques), computed here by reading the rule YAML directly;
//! - `vigil coverage --navigator` writes a layer with the fields of layer
//!   format 4.5, which `mitreattack-python`'s `navlayers` loads
//!   (`$VIGIL_PYTHON`, pinned in `.ci/requirements.txt`);
//! - on the hand-written fixture: an open finding on an internet-facing
//!   asset for a CVE the actor exploits raises its scenario's likelihood
//!   and the explanation names the CVE and the asset; enabling a rule for a
//!   gap technique lowers it again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use vigil_testkit::{python, testdata};

const BIN: &str = env!("CARGO_BIN_EXE_vigil");
const NOW: &str = "2026-11-27T12:00:00Z";

fn vigil(dir: &Path, args: &[&str]) -> (i32, String, String) {
    vigil_at(dir, NOW, args)
}

fn vigil_at(dir: &Path, now: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env_remove("VIGIL_DATABASE")
        .env_remove("VIGIL_CONFIG")
        .env("VIGIL_NOW", now)
        .output()
        .expect("run vigil");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = vigil(dir, args);
    assert_eq!(
        code, 0,
        "vigil {args:?} failed:\nstdout: {out}\nstderr: {err}"
    );
    out
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vigil-threats/tests/fixtures")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `attack.t1059.001` → `T1059.001`, read independently of the code under
/// test.
fn tag_technique(tag: &str) -> Option<String> {
    let t = tag
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .to_ascii_lowercase();
    let rest = t.strip_prefix("attack.t")?;
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    if main.len() != 4 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match sub {
        None => Some(format!("T{main}")),
        Some(s) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("T{main}.{s}"))
        }
        _ => None,
    }
}

/// `rule id → techniques` of every rule file under `dir`, by reading the
/// top-level `id:` and the `tags:` list of each file's first document.
fn scan_rules(dir: &Path, out: &mut BTreeMap<String, BTreeSet<String>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            scan_rules(&p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "yml" && x != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let mut id = None;
        let mut techs = BTreeSet::new();
        let mut in_tags = false;
        for line in text.lines() {
            if line.starts_with("---") {
                break;
            }
            if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim().trim_matches(|c| c == '\'' || c == '"').to_string());
            }
            if line.starts_with("tags:") {
                in_tags = true;
                continue;
            }
            if in_tags {
                match line.trim_start().strip_prefix("- ") {
                    Some(tag) if line.starts_with(' ') => techs.extend(tag_technique(tag)),
                    _ => in_tags = false,
                }
            }
        }
        if let Some(id) = id {
            out.insert(id, techs);
        }
    }
}

/// The rules covering `t` under the documented sub-technique rule.
fn expected(rules: &BTreeMap<String, BTreeSet<String>>, t: &str) -> BTreeSet<String> {
    rules
        .iter()
        .filter(|(_, ts)| {
            ts.iter().any(|x| {
                x == t
                    || (!t.contains('.') && x.strip_prefix(t).is_some_and(|r| r.starts_with('.')))
            })
        })
        .map(|(id, _)| id.clone())
        .collect()
}

fn check_layer_fields(layer: &Value, techniques: usize) {
    for k in ["name", "domain", "description"] {
        assert!(layer[k].is_string(), "{k}");
    }
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert!(
        layer["versions"]["attack"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    assert!(
        layer["versions"]["navigator"]
            .as_str()
            .is_some_and(|v| v.starts_with('5'))
    );
    assert_eq!(layer["domain"], "enterprise-attack");
    assert!(
        layer["filters"]["platforms"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    assert!(layer["sorting"].is_number());
    assert!(layer["layout"]["layout"].is_string());
    assert!(layer["hideDisabled"].is_boolean());
    let techs = layer["techniques"].as_array().unwrap();
    assert_eq!(techs.len(), techniques);
    let hex = |c: &Value| {
        c.as_str().is_some_and(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
        })
    };
    for t in techs {
        let id = t["techniqueID"].as_str().unwrap();
        assert!(
            tag_technique(&format!("attack.{id}")).as_deref() == Some(id),
            "{id}"
        );
        let score = t["score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&score));
        assert!(hex(&t["color"]), "{t}");
        assert!(t["comment"].is_string());
        assert!(t["enabled"].is_boolean());
        assert!(t["showSubtechniques"].is_boolean());
        for m in t["metadata"].as_array().unwrap() {
            assert!(m["name"].is_string() && m["value"].is_string(), "{m}");
        }
    }
    let g = &layer["gradient"];
    assert!(
        g["colors"]
            .as_array()
            .is_some_and(|c| c.len() >= 2 && c.iter().all(hex))
    );
    assert!(g["minValue"].as_f64().unwrap() < g["maxValue"].as_f64().unwrap());
    let legend = layer["legendItems"].as_array().unwrap();
    assert_eq!(legend.len(), 3);
    assert!(
        legend
            .iter()
            .all(|l| l["label"].is_string() && hex(&l["color"]))
    );
    for k in [
        "showTacticRowBackground",
        "selectTechniquesAcrossTactics",
        "selectSubtechniquesWithParent",
        "selectVisibleTechniques",
    ] {
        assert!(layer[k].is_boolean(), "{k}");
    }
    assert!(hex(&layer["tacticRowBackground"]));
    assert!(layer["metadata"].is_array() && layer["links"].is_array());
}

/// Loads the layer with `navlayers`; no warnings, same techniques.
fn navlayers(py: &str, file: &Path, techniques: usize) {
    let script = r#"
import json, sys
from mitreattack.navlayers import Layer
layer = Layer()
layer.from_file(sys.argv[1])
d = layer.to_dict()
print(json.dumps({"version": d["versions"]["layer"], "techniques": len(d.get("techniques", [])),
                  "legend": len(d.get("legendItems", [])), "domain": d["domain"]}))
"#;
    let out = Command::new(py)
        .args(["-c", script, s(file)])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "navlayers failed: {stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    // navlayers prints a line for every field it cannot read
    assert_eq!(lines.len(), 1, "navlayers warnings: {stdout}\n{stderr}");
    let v: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["version"], "4.5");
    assert_eq!(v["techniques"], techniques);
    assert_eq!(v["legend"], 3);
    assert_eq!(v["domain"], "enterprise-attack");
}

#[test]
fn register_on_real_data() {
    let Some(td) = testdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let rules = td.join("sigma/rules");
    ok(
        d,
        &[
            "attack",
            "import",
            "--quiet",
            s(&td.join("attack/enterprise-attack.json.gz")),
        ],
    );
    let out = ok(
        d,
        &[
            "threats",
            "import-galaxy",
            s(&td.join("misp/galaxy/clusters")),
        ],
    );
    assert!(out.contains("threat-actor.json: 1041 clusters"), "{out}");
    let prof = d.join("profile.toml");
    std::fs::write(
        &prof,
        "name = \"Example Bank\"\nsectors = [\"financial\"]\nregions = [\"europe\"]\n",
    )
    .unwrap();
    ok(d, &["threats", "profile", "set", s(&prof)]);

    // Actors ranked with an explanation each.
    let list = json(
        d,
        &[
            "threats",
            "list",
            "--rules",
            s(&rules),
            "--limit",
            "0",
            "--format",
            "json",
        ],
    );
    let list = list.as_array().unwrap();
    assert!(list.len() > 1000, "{}", list.len());
    let rel: Vec<f64> = list
        .iter()
        .map(|a| a["relevance"].as_f64().unwrap())
        .collect();
    assert!(rel.windows(2).all(|w| w[0] >= w[1]), "ranked by relevance");
    assert!(
        list.iter()
            .all(|a| !a["explanation"].as_str().unwrap().is_empty())
    );
    let top = &list[0];
    let why = top["explanation"].as_str().unwrap();
    assert!(rel[0] >= 57.5, "{top}");
    assert!(why.contains("(financial)"), "{why}");
    assert!(why.contains("region +"), "{why}");
    // Financially motivated actors known to target European banks rank high.
    let top30: Vec<&str> = list
        .iter()
        .take(30)
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        top30.contains(&"TA505") && top30.contains(&"Wizard Spider"),
        "{top30:?}"
    );
    // An actor with no victimology ranks low and says why.
    let none = list
        .iter()
        .find(|a| a["relevance"].as_f64() == Some(0.0))
        .expect("an unrelated actor");
    assert!(
        none["explanation"]
            .as_str()
            .unwrap()
            .starts_with("no sector, region, recent or observed match"),
        "{none}"
    );
    let shown = ok(d, &["threats", "show", "TA505", "--rules", s(&rules)]);
    assert!(
        shown.contains("G0092 TA505") && shown.contains("likelihood"),
        "{shown}"
    );

    // Exact coverage.
    let mut tags = BTreeMap::new();
    scan_rules(&rules, &mut tags);
    assert_eq!(tags.len(), 1555);
    let techniques = [
        "T1059",
        "T1059.001",
        "T1003",
        "T1003.001",
        "T1055",
        "T1105",
        "T1218",
        "T1218.011",
        "T1547.001",
        "T1562.001",
        "T1566",
        "T1190",
        "T1021.002",
        "T1078",
        "T1486",
    ];
    let mut args = vec!["coverage", "--rules", s(&rules), "--format", "json"];
    for t in &techniques {
        args.extend(["--technique", t]);
    }
    let cov = json(d, &args);
    let cov = cov.as_array().unwrap();
    assert_eq!(cov.len(), techniques.len());
    let mut nonempty = 0;
    for (row, t) in cov.iter().zip(techniques) {
        assert_eq!(row["technique"], t);
        let got: BTreeSet<String> = row["rules"]
            .as_array()
            .unwrap()
            .iter()
            .chain(row["disabled_rules"].as_array().unwrap())
            .map(|v| v.as_str().unwrap().to_string())
            // the built-in pack's rules are loaded too
            .filter(|id| tags.contains_key(id))
            .collect();
        let want = expected(&tags, t);
        assert_eq!(got, want, "{t}");
        if !want.is_empty() {
            nonempty += 1;
        }
    }
    assert!(nonempty >= 10, "{nonempty}");
    // a parent covers strictly more than its sub-technique here
    assert!(expected(&tags, "T1059").len() > expected(&tags, "T1059.001").len());

    // Navigator layer.
    let layer_path = d.join("layer.json");
    ok(
        d,
        &[
            "coverage",
            "--rules",
            s(&rules),
            "--navigator",
            s(&layer_path),
        ],
    );
    let layer: Value = serde_json::from_slice(&std::fs::read(&layer_path).unwrap()).unwrap();
    let all = json(d, &["coverage", "--rules", s(&rules), "--format", "json"]);
    let n = all.as_array().unwrap().len();
    assert!(n > 600, "{n}");
    check_layer_fields(&layer, n);
    let t1059 = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["techniqueID"] == "T1059.001")
        .unwrap();
    assert!(
        t1059["comment"].as_str().unwrap().starts_with("covered"),
        "{t1059}"
    );
    if let Some(py) = python("navlayers") {
        navlayers(&py, &layer_path, n);
    }
}

const OSV: &str = r#"{"id": "GHSA-0000-0000-0001", "modified": "2026-01-01T00:00:00Z",
  "aliases": ["CVE-2023-1111"], "summary": "edge appliance RCE",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "PyPI", "name": "edgeapp"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]}"#;

const RULE: &str = "title: Office macro attachment opened\nid: 7d3c1f2a-0000-4000-8000-00000000a001\nstatus: stable\nlevel: high\ntags:\n    - attack.initial-access\n    - attack.t1566.001\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        ParentImage|endswith: '\\WINWORD.EXE'\n    condition: selection\n";

fn alpha_likelihood(d: &Path, rules: &Path, now: &str) -> (f64, Value) {
    let args = ["threats", "review", "--rules", s(rules), "--format", "json"];
    let (code, out, err) = vigil_at(d, now, &args);
    assert_eq!(code, 0, "{err}");
    let rows: Value = serde_json::from_str(&out).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "alpha")
        .unwrap()
        .clone();
    (row["likelihood"].as_f64().unwrap(), row)
}

#[test]
fn finding_raises_and_rule_lowers_scenario_likelihood() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let fx = fixtures();
    let rules = d.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(d.join("osv")).unwrap();
    std::fs::write(rules.join("macro.yml"), RULE).unwrap();
    std::fs::write(d.join("osv/GHSA-0000-0000-0001.json"), OSV).unwrap();
    ok(
        d,
        &["attack", "import", "--quiet", s(&fx.join("bundle.json"))],
    );
    ok(
        d,
        &["threats", "import-galaxy", s(&fx.join("threat-actor.json"))],
    );
    let prof = d.join("profile.json");
    std::fs::write(
        &prof,
        r#"{"sectors":["financial"],"countries":["DE"],"regions":["europe"],"crown_jewels":["core"]}"#,
    )
    .unwrap();
    ok(d, &["threats", "profile", "set", s(&prof)]);
    // The macro rule exists but is disabled: T1566.001 is a gap.
    ok(d, &["coverage", "--rules", s(&rules)]);
    ok(
        d,
        &["rules", "disable", "7d3c1f2a-0000-4000-8000-00000000a001"],
    );
    ok(
        d,
        &[
            "threats",
            "scenario",
            "add",
            "--id",
            "alpha",
            "--title",
            "Alpha Bear intrusion",
            "--actor",
            "Sandy",
            "--owner",
            "ciso",
            "--next-review",
            "2026-11-01",
        ],
    );
    let (l0, row) = alpha_likelihood(d, &rules, "2026-11-27T12:00:00Z");
    assert!(row["overdue"].as_bool().unwrap(), "{row}");
    let recs = &row["assessment"]["recommendations"];
    assert!(
        recs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "enable-rules"
                && r["targets"][0] == "7d3c1f2a-0000-4000-8000-00000000a001"),
        "{recs}"
    );

    // An open finding for CVE-2023-1111 on an internet-facing asset.
    ok(
        d,
        &[
            "assets",
            "add",
            "edge-gw",
            "--kind",
            "application",
            "--criticality",
            "4",
            "--exposure",
            "internet-facing",
            "--data",
            "personal",
        ],
    );
    ok(d, &["vulns", "import", "osv", s(&d.join("osv")), "-q"]);
    let bom = d.join("bom.json");
    std::fs::write(
        &bom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"edgeapp","version":"1.0.0","purl":"pkg:pypi/edgeapp@1.0.0"}]}"#,
    )
    .unwrap();
    ok(d, &["sbom", "import", s(&bom), "--asset", "edge-gw"]);
    let (l1, row) = alpha_likelihood(d, &rules, "2026-11-27T12:01:00Z");
    assert!(l1 > l0, "{l0} → {l1}");
    let exposure = row["assessment"]["likelihood"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "exposure")
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        exposure.contains("CVE-2023-1111") && exposure.contains("edge-gw"),
        "{exposure}"
    );
    assert_eq!(
        row["assessment"]["recommendations"][0]["kind"],
        "fix-finding"
    );

    // Enabling the rule for the gap technique lowers it again.
    ok(
        d,
        &["rules", "enable", "7d3c1f2a-0000-4000-8000-00000000a001"],
    );
    let (l2, row) = alpha_likelihood(d, &rules, "2026-11-27T12:02:00Z");
    assert!(l2 < l1, "{l1} → {l2}");
    // three reviews, three scores kept
    let trend: Vec<f64> = row["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(trend, [l0, l1, l2], "{row}");

    // A report in each format.
    let md = ok(d, &["threats", "report", "--rules", s(&rules)]);
    assert!(
        md.contains("# Threat register") && md.contains("CVE-2023-1111"),
        "{md}"
    );
    let html = ok(
        d,
        &[
            "threats",
            "report",
            "--format",
            "html",
            "--rules",
            s(&rules),
        ],
    );
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        html.contains("<td>G0001 Alpha Bear</td>") && html.contains("CVE-2023-1111"),
        "{html}"
    );
    let rep = json(
        d,
        &[
            "threats",
            "report",
            "--format",
            "json",
            "--rules",
            s(&rules),
        ],
    );
    assert_eq!(rep["actors"][0]["key"], "G0001");

    // The fixture's layer with navlayers, too.
    let layer_path = d.join("layer.json");
    ok(
        d,
        &[
            "coverage",
            "--rules",
            s(&rules),
            "--navigator",
            s(&layer_path),
        ],
    );
    let layer: Value = serde_json::from_slice(&std::fs::read(&layer_path).unwrap()).unwrap();
    check_layer_fields(&layer, 5);
    if let Some(py) = python("navlayers") {
        navlayers(&py, &layer_path, 5);
    }
}

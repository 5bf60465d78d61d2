//! `vigil rules check` and `vigil hunt` end to end, on the built-in pack,
//! on fixtures written here, and (when `VIGIL_TESTDATA` is set) on SigmaHQ's
//! rules, the legacy rules that must be rejected, and real EVTX files.
//! See: #4

use std::path::{Path, PathBuf};
use std::process::Command;
use vigil_testkit::testdata;

const BIN: &str = env!("CARGO_BIN_EXE_vigil");

/// Runs `vigil ARGS` with its own data directory; (status, stdout, stderr).
fn vigil(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env_remove("VIGIL_DATABASE")
        .env_remove("VIGIL_CONFIG")
        .output()
        .expect("run vigil");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn ndjson(s: &str) -> Vec<serde_json::Value> {
    s.lines().filter(|l| !l.is_empty()).map(json).collect()
}

const ENCODED_PS: &str = "34949588-007a-4d8e-87a3-96828bc3311e";
const LSASS: &str = "865b505d-7b9b-42a1-814a-ccb415d49143";

#[test]
fn check_builtin_pack_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = repo().join("rules/builtin");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "rules",
            "check",
            pack.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let r = json(&out);
    assert_eq!(r["files"], 7, "{r}");
    assert_eq!(r["loaded"], 7, "{r}");
    assert_eq!(r["correlations"], 1, "{r}");
    assert_eq!(r["invalid"], 0, "{r}");
    assert_eq!(r["unsupported"], 0, "{r}");
}

#[test]
fn check_reports_each_bad_file_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("sub")).expect("mkdir");
    std::fs::write(
        rules.join("good.yml"),
        "title: ok\nid: 00000000-0000-4000-8000-000000000001\nlogsource: {product: windows}\n\
         detection: {sel: {EventID: 1}, condition: sel}\nlevel: low\n",
    )
    .expect("write");
    std::fs::write(
        rules.join("sub/bad.yaml"),
        "title: bad\nlogsource: {product: windows}\ndetection:\n  sel: {EventID: 1}\n  condition: sel and nope\n",
    )
    .expect("write");
    std::fs::write(
        rules.join("legacy.yml"),
        "title: legacy\nlogsource: {product: windows}\ndetection:\n  sel: {EventID: 1}\n  condition: sel | count() by host > 5\n",
    )
    .expect("write");
    std::fs::write(rules.join("notes.txt"), "not a rule").expect("write");
    let (code, out, err) = vigil(
        dir.path(),
        &["rules", "check", rules.to_str().expect("utf-8")],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("bad.yaml"), "{out}");
    assert!(out.contains("nope"), "{out}");
    assert!(out.contains("legacy.yml"), "{out}");
    assert!(out.contains("loaded:       1 rules"), "{out}");
    assert!(out.contains("invalid:      1"), "{out}");
    assert!(out.contains("unsupported:  1"), "{out}");

    let (code, out, _) = vigil(
        dir.path(),
        &[
            "rules",
            "check",
            rules.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let r = json(&out);
    assert_eq!(r["files"], 3, "{r}");
    let errors = r["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{r}");
    assert!(errors.iter().any(|e| {
        e["kind"] == "unsupported"
            && e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("legacy.yml"))
    }));
    assert!(
        errors.iter().any(|e| e["kind"] == "invalid"
            && e["path"].as_str().is_some_and(|p| p.ends_with("bad.yaml")))
    );

    // A path that does not exist is an error, not a silent success.
    let (code, out, _) = vigil(dir.path(), &["rules", "check", "/nonexistent/rules"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("/nonexistent/rules"), "{out}");
}

#[test]
fn check_sigmahq_rules_all_load() {
    let Some(data) = testdata() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = data.join("sigma/rules");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "rules",
            "check",
            rules.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    let r = json(&out);
    println!(
        "SigmaHQ rules: {} files, {} loaded, {} correlations, {} invalid, {} unsupported, {:.3} s",
        r["files"], r["loaded"], r["correlations"], r["invalid"], r["unsupported"], r["seconds"]
    );
    assert_eq!(r["invalid"], 0, "{:#}", r["errors"]);
    assert_eq!(r["unsupported"], 0, "{:#}", r["errors"]);
    assert_eq!(code, 0, "{err}");
    assert!(r["loaded"].as_u64().is_some_and(|n| n > 1000), "{r}");
}

#[test]
fn check_legacy_rules_are_rejected_with_reasons() {
    let Some(data) = testdata() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = data.join("sigma/unsupported");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "rules",
            "check",
            rules.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_ne!(code, 0, "{out}{err}");
    let r = json(&out);
    let errors = r["errors"].as_array().expect("errors");
    assert!(!errors.is_empty(), "{r}");
    for e in errors {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        assert!(
            e["path"]
                .as_str()
                .is_some_and(|p| p.starts_with(rules.to_str().unwrap_or(""))),
            "{e}"
        );
    }
    println!(
        "legacy rules: {} files, {} unsupported, {} invalid, {} loaded",
        r["files"], r["unsupported"], r["invalid"], r["loaded"]
    );
    let (code, table, _) = vigil(
        dir.path(),
        &["rules", "check", rules.to_str().expect("utf-8")],
    );
    assert_ne!(code, 0);
    assert!(table.contains("unsupported:"), "{table}");
}

/// An ECS-shaped Sysmon process creation (winlogbeat style), a syslog sshd
/// line as vigil-ingest flattens it, and an evtx-JSON record pretty-printed
/// over several lines, back to back in one file.
const MIXED: &str = r##"{"@timestamp":"2026-11-21T08:00:00Z","host":{"name":"ws-9"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,"computer_name":"ws-9","record_id":77},"process":{"executable":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","command_line":"powershell.exe -NoProfile -EncodedCommand SQBFAFgA","parent":{"executable":"C:\\Windows\\explorer.exe"}}}
{"@timestamp":"2026-11-21T08:05:00Z","host":{"name":"bastion-1"},"log":{"syslog":{"appname":"sshd"}},"message":"Failed password for root from 198.51.100.4 port 40022 ssh2"}
{"Event": {
  "System": {"EventID": 1102, "Channel": "Security", "Computer": "dc02",
             "EventRecordID": 31337,
             "TimeCreated": {"#attributes": {"SystemTime": "2026-11-21T08:10:00Z"}}},
  "UserData": {"LogFileCleared": {"SubjectUserName": "mallory"}}
}}
"##;

fn hunt_fixture(dir: &Path) -> PathBuf {
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(inputs.join("nested")).expect("mkdir");
    for e in std::fs::read_dir(repo().join("rules/builtin/tests")).expect("fixtures") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, inputs.join(p.file_name().expect("name"))).expect("copy");
    }
    std::fs::write(inputs.join("nested/mixed.ndjson"), MIXED).expect("write");
    std::fs::write(inputs.join("nested/ignored.txt"), "not an input").expect("write");
    inputs
}

#[test]
fn hunt_fixture_with_the_builtin_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = hunt_fixture(dir.path());
    let inp = inputs.to_str().expect("utf-8");

    let (code, out, err) = vigil(dir.path(), &["hunt", inp, "--format", "ndjson"]);
    assert_eq!(code, 0, "{out}{err}");
    let rows = ndjson(&out);
    // One per pack test event, plus three from the mixed file.
    assert_eq!(rows.len(), 10, "{out}");
    let ps: Vec<_> = rows.iter().filter(|r| r["rule_id"] == ENCODED_PS).collect();
    assert_eq!(ps.len(), 2, "{out}");
    let ecs = ps
        .iter()
        .find(|r| {
            r["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("mixed.ndjson"))
        })
        .expect("the ECS event fired");
    assert_eq!(ecs["record_id"], 77, "{ecs}");
    assert_eq!(ecs["computer"], "ws-9", "{ecs}");
    assert_eq!(ecs["level"], "high", "{ecs}");
    assert_eq!(ecs["time"], "2026-11-21T08:00:00.000000Z", "{ecs}");
    assert!(
        ecs["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == "attack.t1059.001")),
        "{ecs}"
    );
    assert!(
        ecs["fields"]["CommandLine"]
            .as_str()
            .is_some_and(|c| c.contains("-EncodedCommand")),
        "{ecs}"
    );
    let cleared = rows
        .iter()
        .find(|r| r["record_id"] == 31337)
        .expect("the pretty-printed evtx-JSON record fired");
    assert_eq!(cleared["computer"], "dc02");
    assert!(
        rows.iter()
            .any(|r| r["rule_title"] == "SSH Failed Login" && r["computer"] == "bastion-1"),
        "{out}"
    );
    let lsass: Vec<_> = rows.iter().filter(|r| r["rule_id"] == LSASS).collect();
    assert_eq!(lsass.len(), 1);
    assert_eq!(lsass[0]["record_id"], 4188);
    assert_eq!(lsass[0]["fields"]["GrantedAccess"], "0x1010");

    // Filters.
    let count = |args: &[&str]| {
        let mut all = vec!["hunt", inp, "--format", "ndjson"];
        all.extend_from_slice(args);
        let (code, out, err) = vigil(dir.path(), &all);
        assert_eq!(code, 0, "{args:?}: {err}");
        ndjson(&out).len()
    };
    assert_eq!(count(&["--min-level", "critical"]), 0);
    assert_eq!(count(&["--min-level", "medium"]), 8);
    assert_eq!(count(&["--rule-id", LSASS]), 1);
    assert_eq!(count(&["--tag", "attack.t1070"]), 3);
    assert_eq!(count(&["--from", "2026-11-21"]), 3);
    assert_eq!(
        count(&["--from", "2026-11-20T10:00:00Z", "--to", "2026-11-21"]),
        2
    );

    // Every format.
    let (code, out, _) = vigil(dir.path(), &["hunt", inp, "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out).as_array().map(Vec::len), Some(10));
    let (code, out, _) = vigil(dir.path(), &["hunt", inp, "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("time,level,rule_title,rule_id,tags,computer,file,record_id,fields\n"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 11);
    let (code, out, err) = vigil(dir.path(), &["hunt", inp]);
    assert_eq!(code, 0);
    assert!(out.contains("LSASS Process Memory Access"), "{out}");
    // The summary by rule and level: most severe first.
    assert!(
        out.lines()
            .any(|l| l.starts_with("LEVEL") && l.contains("COUNT")),
        "{out}"
    );
    assert!(err.contains("10 detections"), "{err}");
}

/// NDJSON lines are parsed once each; a line that is not one whole
/// document (two back to back, one continued on the next line) and a bad
/// line go through the document splitter, and nothing is lost.
#[test]
fn hunt_ndjson_lines_and_what_is_not_one_document_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = |rid: u32| {
        format!(
            r#"{{"winlog":{{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,"record_id":{rid}}},"process":{{"executable":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","command_line":"powershell.exe -NoProfile -EncodedCommand SQBFAFgA"}}}}"#
        )
    };
    let split = doc(4);
    let (head, tail) = split.split_at(split.len() - 1);
    let text = format!(
        "{}\n{}{}\n{head}\n{tail}\n\n{}\n{{\"bad\": }}\n{}\n",
        doc(1),
        doc(2),
        doc(3),
        doc(5),
        doc(6)
    );
    // The continued document's first line starts and ends like a whole one.
    assert!(head.ends_with('}') && tail == "}");
    let path = dir.path().join("events.ndjson");
    std::fs::write(&path, text).expect("write");
    let (code, out, err) = vigil(
        dir.path(),
        &["hunt", path.to_str().expect("utf-8"), "--format", "ndjson"],
    );
    assert_eq!(code, 1, "a bad record: {out}{err}");
    let mut ids: Vec<i64> = ndjson(&out)
        .iter()
        .filter(|r| r["rule_id"] == ENCODED_PS)
        .filter_map(|r| r["record_id"].as_i64())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6], "{out}{err}");
    assert!(
        err.contains("events.ndjson") && err.contains("line 7"),
        "{err}"
    );
}

/// JSON input is read 8 MiB at a time: a pretty-printed document and a
/// two-byte character cut by a chunk end are put back together, and every
/// document is read once.
#[test]
fn hunt_json_documents_across_read_chunks() {
    const CHUNK: usize = 8 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let hit = |rid: u32, extra: &str| {
        format!(
            r#"{{"winlog":{{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,"record_id":{rid}}},"user":{{"name":"{extra}"}},"process":{{"executable":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","command_line":"powershell.exe -NoProfile -EncodedCommand SQBFAFgA"}}}}"#
        )
    };
    let filler = format!("{{\"message\":\"{}\"}}\n", "x".repeat(400));
    let mut text = String::new();
    // Fill up to just before the first chunk end, then a document over
    // several lines that the chunk end cuts.
    while text.len() + filler.len() < CHUNK - 60 {
        text.push_str(&filler);
    }
    let pretty = hit(1, "a")
        .replace(",\"user\"", ",\n  \"user\"")
        .replace(",\"process\"", ",\n  \"process\"");
    text.push_str(&pretty);
    text.push('\n');
    assert!(text.len() > CHUNK && text.len() - pretty.len() < CHUNK);
    // Then a line whose "é" straddles the second chunk end.
    while text.len() + filler.len() < 2 * CHUNK - 300 {
        text.push_str(&filler);
    }
    let line = hit(2, "é");
    let at = line.find('é').expect("é");
    let pad = 2 * CHUNK - (text.len() + at + 1);
    text.push_str(&format!(
        "{{\"message\":\"{}\"}}\n",
        "y".repeat(pad.saturating_sub(15))
    ));
    let start = text.len();
    text.push_str(&line);
    text.push('\n');
    text.push_str(&hit(3, "c"));
    assert!(
        start + at < 2 * CHUNK && 2 * CHUNK < start + at + 2,
        "é at the chunk end"
    );
    let path = dir.path().join("big.ndjson");
    std::fs::write(&path, &text).expect("write");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "hunt",
            path.to_str().expect("utf-8"),
            "--format",
            "ndjson",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let mut ids: Vec<i64> = ndjson(&out)
        .iter()
        .filter(|r| r["rule_id"] == ENCODED_PS)
        .filter_map(|r| r["record_id"].as_i64())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3], "{err}");
}

#[test]
fn hunt_reports_bad_records_and_files_and_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).expect("mkdir");
    let good = std::fs::read_to_string(repo().join("rules/builtin/tests/lsass_access.json"))
        .expect("fixture");
    std::fs::write(
        inputs.join("broken.json"),
        format!("{{\"this is\": broken\n{good}\n[1, 2\n"),
    )
    .expect("write");
    std::fs::write(inputs.join("fake.evtx"), "not an evtx file").expect("write");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "hunt",
            inputs.to_str().expect("utf-8"),
            "--format",
            "ndjson",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    let rows = ndjson(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["rule_id"], LSASS);
    assert!(err.contains("broken.json"), "{err}");
    assert!(err.contains("line 1"), "{err}");
    assert!(err.contains("fake.evtx"), "{err}");

    // A rules directory without any usable rule is an error.
    let (code, _, err) = vigil(
        dir.path(),
        &[
            "hunt",
            inputs.to_str().expect("utf-8"),
            "--rules",
            inputs.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no rule"), "{err}");
}

#[test]
fn hunt_real_evtx_with_sigmahq_rules() {
    let Some(data) = testdata() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let evtx = data.join("evtx/EVTX-ATTACK-SAMPLES/Credential Access");
    let files = [
        evtx.join("sysmon_10_11_lsass_memdump.evtx"),
        evtx.join("CA_hashdump_4663_4656_lsass_access.evtx"),
        data.join(
            "evtx/hayabusa-sample-evtx/DeepBlueCLI/metasploit-psexec-powershell-target-system.evtx",
        ),
    ];
    let rules = data.join("sigma/rules");
    let mut args = vec![
        "hunt",
        "--rules",
        rules.to_str().expect("utf-8"),
        "--format",
        "ndjson",
    ];
    for f in &files {
        args.push(f.to_str().expect("utf-8"));
    }
    let (code, out, err) = vigil(dir.path(), &args);
    assert_eq!(code, 0, "{err}");
    let rows = ndjson(&out);
    println!("{err}");
    assert!(!rows.is_empty(), "{err}");
    for r in &rows {
        assert!(
            r["rule_title"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
        assert!(r["record_id"].as_u64().is_some(), "{r}");
        assert!(
            r["file"].as_str().is_some_and(|f| f.ends_with(".evtx")),
            "{r}"
        );
    }
    // The LSASS memory dump sample fires a SigmaHQ LSASS rule.
    assert!(
        rows.iter().any(|r| r["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("sysmon_10_11_lsass_memdump.evtx"))
            && r["rule_title"]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("lsass"))),
        "{out}"
    );
    // The PsExec sample installs a service: the built-in pack sees it.
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "hunt",
            files[2].to_str().expect("utf-8"),
            "--format",
            "ndjson",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        ndjson(&out)
            .iter()
            .any(|r| r["rule_title"] == "New Service Installed"),
        "{out}{err}"
    );
}

#[test]
fn list_enable_disable_on_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = vigil(dir.path(), &["rules", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows = json(&out);
    let rows = rows.as_array().expect("array");
    // The built-in pack: seven detection rules and one correlation.
    assert_eq!(rows.len(), 8, "{out}");
    assert!(
        rows.iter()
            .all(|r| r["source"] == "builtin" && r["enabled"] == true)
    );

    let (code, out, err) = vigil(
        dir.path(),
        &[
            "rules",
            "disable",
            LSASS,
            "--level",
            "low",
            "--tag",
            "custom.tag",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(LSASS), "{out}");
    let (_, out, _) = vigil(dir.path(), &["rules", "list", "--format", "json"]);
    let rows = json(&out);
    let lsass = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == LSASS))
        .expect("listed")
        .clone();
    assert_eq!(lsass["enabled"], false, "{lsass}");
    assert_eq!(lsass["level"], "low", "{lsass}");
    assert_eq!(lsass["tags"], serde_json::json!(["custom.tag"]), "{lsass}");
    assert!(
        lsass["updated_by"]
            .as_str()
            .is_some_and(|b| b.starts_with("system:cli:")),
        "{lsass}"
    );

    let (code, _, err) = vigil(
        dir.path(),
        &["rules", "enable", LSASS, "--level", "default", "--tag", ""],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = vigil(dir.path(), &["rules", "list", "--format", "json"]);
    let rows = json(&out);
    let lsass = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == LSASS))
        .expect("listed")
        .clone();
    assert_eq!(lsass["enabled"], true, "{lsass}");
    assert_eq!(lsass["level"], "high", "{lsass}");
    assert_eq!(lsass["tags_override"], serde_json::Value::Null, "{lsass}");

    let (code, _, err) = vigil(dir.path(), &["rules", "disable", "no-such-rule"]);
    assert_eq!(code, 1);
    assert!(err.contains("no rule"), "{err}");
    let (code, out, _) = vigil(
        dir.path(),
        &["rules", "list", "--source", "api", "--format", "json"],
    );
    assert_eq!(code, 0);
    assert_eq!(json(&out), serde_json::json!([]));
    let (code, _, err) = vigil(dir.path(), &["rules", "enable", LSASS, "--level", "severe"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--level"), "{err}");
}

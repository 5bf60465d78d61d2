//! Threat intel operations end to end (#5): MISP feed directories and CSV
//! column mappings; `vigil intel lookup|export|match|blocklist`; `vigil
//! serve` counting sightings of matched indicators and serving the
//! plain-text blocklists to a `feed` token over HTTP Basic; and the real
//! `$VIGIL_TESTDATA` STIX, MISP and ATT&CK data imported twice.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{Server, client, vigil};

fn fixture(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/intel")
        .join(p)
        .display()
        .to_string()
}

fn json_of(dir: &Path, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = vigil(dir, args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v)
}

fn import(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["intel", "import", "--output", "json", "--quiet"];
    all.extend_from_slice(args);
    json_of(dir, &all)
}

#[test]
fn misp_feed_directory_and_csv_column_mapping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, r) = import(dir.path(), &[&fixture("misp-feed")]);
    // The event listed but missing is reported by uuid; the rest imported.
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["objects"]["misp-manifest-entry"], 2, "{r}");
    assert_eq!(r["objects"]["misp-hash"], 2, "{r}");
    assert_eq!(r["indicators_added"], 2, "{r}");
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(
        r["errors"][0]["id"], "5f0e7a52-0c6b-4d3a-9d0e-2b1c3a4d5e61",
        "{r}"
    );
    let (_, again) = import(dir.path(), &[&fixture("misp-feed")]);
    assert_eq!(
        (
            again["indicators_added"].as_u64(),
            again["indicators_updated"].as_u64()
        ),
        (Some(0), Some(0)),
        "{again}"
    );

    let (code, r) = import(
        dir.path(),
        &[
            "--feed",
            "feodo",
            "--columns",
            "value=1,type=ip,first_seen=0,related=5",
            &fixture("feodo.csv"),
        ],
    );
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["indicators"]["ipv4"], 2, "{r}");
    assert_eq!(r["errors"][0]["id"], "line 5", "{r}");
    let (code, hits) = json_of(
        dir.path(),
        &["intel", "lookup", "198.51.100[.]22", "--format", "json"],
    );
    assert_eq!(code, 0);
    assert_eq!(hits[0]["related"][0], "Emotet", "{hits}");
    assert_eq!(
        hits[0]["first_seen"], "2024-05-02T11:30:00.000000Z",
        "{hits}"
    );
    assert_eq!(hits[0]["feeds"][0], "feodo", "{hits}");
    let (code, _, err) = vigil(
        dir.path(),
        &[
            "intel",
            "import",
            "--columns",
            "colour=1",
            &fixture("feodo.csv"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn lookup_export_match_and_blocklist_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _) = import(d, &["--feed", "f1", &fixture("bundle.json")]);
    assert_eq!(code, 0);
    // Lookup: exit 1 when nothing matches, the parent domain otherwise.
    let (code, _, _) = vigil(d, &["intel", "lookup", "192.0.2.200"]);
    assert_eq!(code, 1);
    let (code, hits) = json_of(
        d,
        &[
            "intel",
            "lookup",
            "hxxps://cdn.evil[.]example/x",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(hits[0]["matched_by"], "host", "{hits}");
    assert_eq!(hits[0]["value"], "evil.example", "{hits}");

    // Export: STIX bundle of the hashes only; CSV with a confidence floor.
    let (code, b) = json_of(d, &["intel", "export", "--type", "sha256"]);
    assert_eq!(code, 0);
    let objs = b["objects"].as_array().expect("objects");
    assert_eq!(objs.len(), 1, "{b}");
    assert_eq!(objs[0]["spec_version"], "2.1");
    assert!(
        objs[0]["pattern"]
            .as_str()
            .is_some_and(|p| p.starts_with("[file:hashes.'SHA-256' = ")),
        "{b}"
    );
    let (code, csv, _) = vigil(
        d,
        &[
            "intel",
            "export",
            "--format",
            "csv",
            "--min-confidence",
            "80",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("ipv4,203.0.113.7,90"), "{csv}");

    // Retro-match: an NDJSON event and a syslog line.
    let logs = d.join("logs");
    std::fs::create_dir_all(&logs).expect("mkdir");
    std::fs::write(
        logs.join("events.ndjson"),
        "{\"@timestamp\":\"2024-06-01T12:00:00Z\",\"destination\":{\"ip\":\"203.0.113.7\"}}\n{\"message\":\"nothing\"}\nnot json at all\n",
    )
    .expect("write");
    std::fs::write(
        logs.join("auth.log"),
        "<38>Jun  1 12:00:01 web1 sshd[411]: Failed password for root from 203.0.113.7 port 50022 ssh2\n",
    )
    .expect("write");
    let (code, out, err) = vigil(
        d,
        &[
            "intel",
            "match",
            "--quiet",
            "--format",
            "ndjson",
            logs.to_str().expect("path"),
        ],
    );
    let hits: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("ndjson"))
        .collect();
    assert_eq!(hits.len(), 2, "{out}\n{err}");
    assert!(
        hits.iter()
            .all(|h| h["value"] == "203.0.113.7" && h["confidence"] == 90),
        "{out}"
    );
    let files: Vec<&str> = hits.iter().filter_map(|h| h["file"].as_str()).collect();
    assert!(
        files[0].ends_with("auth.log") && files[1].ends_with("events.ndjson"),
        "{files:?}"
    );
    assert_eq!(hits[1]["record"], 1);
    // The syslog line that is not JSON is a syslog event, not an error.
    assert_eq!(code, 0, "{err}");

    // Manual blocklist entries.
    let (code, out, err) = vigil(
        d,
        &[
            "intel",
            "blocklist",
            "add",
            "198.51.100[.]9",
            "--reason",
            "incident 42",
            "--ttl",
            "2h",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("blocked ipv4 198.51.100.9"), "{out}");
    let (_, list, _) = vigil(
        d,
        &[
            "intel",
            "blocklist",
            "show",
            "ips",
            "--min-confidence",
            "60",
        ],
    );
    assert_eq!(list, "198.51.100.9\n203.0.113.7\n");
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "blocklist",
            "add",
            "CVE-2024-0001",
            "--reason",
            "x",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = vigil(d, &["intel", "blocklist", "remove", "198.51.100.9"]);
    assert_eq!(code, 0);
    let (code, _, _) = vigil(d, &["intel", "blocklist", "remove", "198.51.100.9"]);
    assert_eq!(code, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_counts_sightings_and_serves_blocklists_to_feed_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _) = import(d, &["--feed", "f1", &fixture("bundle.json")]);
    assert_eq!(code, 0);
    let (code, out, err) = vigil(
        d,
        &["token", "create", "--role", "feed", "--name", "firewall"],
    );
    assert_eq!(code, 0, "{err}");
    let feed_token = out
        .split_whitespace()
        .find(|w| w.starts_with("vgl_"))
        .expect("token in output")
        .to_string();
    let s = Server::start(d, None);
    let token = s.token.clone();
    // The bootstrap token is created only when none exists; a feed token
    // exists, so use the CLI for an admin one.
    let admin = match token {
        Some(t) => t,
        None => {
            let (_, out, _) = vigil(d, &["token", "create", "--role", "admin", "--name", "t"]);
            out.split_whitespace()
                .find(|w| w.starts_with("vgl_"))
                .expect("token")
                .to_string()
        }
    };
    let event = serde_json::json!({
        "@timestamp": "2024-06-01T12:00:00Z",
        "destination": {"ip": "203.0.113.7"},
        "dns": {"question": {"name": "cdn.evil.example"}}
    });
    let body = format!("{event}\n{event}\n");
    let r = client()
        .post(s.url("/api/v1/ingest"))
        .bearer_auth(&admin)
        .body(body)
        .send()
        .await
        .expect("ingest");
    assert_eq!(r.status(), 200);
    // Two events, each a sighting of the IP and the domain: counted once
    // each, durably, by the sightings consumer.
    let deadline = Instant::now() + Duration::from_secs(60);
    let ip = loop {
        let v: Value = client()
            .get(s.url("/api/v1/intel/indicators/ipv4:203.0.113.7"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if v["sightings"] == 2 || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(ip["sightings"], 2, "{ip}");
    assert_eq!(ip["last_sighting"], "2024-06-01T12:00:00.000000Z", "{ip}");
    let l: Value = client()
        .get(s.url("/api/v1/intel/lookup?value=evil.example"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("lookup")
        .json()
        .await
        .expect("json");
    assert_eq!(l["matches"][0]["sightings"], 2, "{l}");
    assert_eq!(
        l["matches"][0]["first_sighting"], "2024-06-01T12:00:00.000000Z",
        "{l}"
    );

    // A firewall fetches the list with the feed token as Basic password.
    let r = client()
        .get(s.url("/api/v1/blocklists/ips.txt?min_confidence=80"))
        .basic_auth("firewall", Some(&feed_token))
        .send()
        .await
        .expect("blocklist");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("text"), "203.0.113.7\n");
    let r = client()
        .get(s.url("/api/v1/alerts"))
        .basic_auth("firewall", Some(&feed_token))
        .send()
        .await
        .expect("alerts");
    assert_eq!(r.status(), 403);
    s.stop();
    // After a restart nothing is counted twice.
    let (_, hits) = json_of(d, &["intel", "lookup", "203.0.113.7", "--format", "json"]);
    assert_eq!(hits[0]["sightings"], 2, "{hits}");
}

fn testdata(sub: &str) -> Option<String> {
    vigil_testkit::testdata_dir(sub).map(|p| p.display().to_string())
}

#[test]
fn real_misp_events_import_idempotently_with_the_malformed_file_reported() {
    let Some(misp) = testdata("misp") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, first) = import(dir.path(), &[&misp]);
    let (_, second) = import(dir.path(), &[&misp]);
    assert_eq!(code, 1, "the invalid JSON file is reported");
    let errors = first["errors"].as_array().expect("errors");
    let bad: Vec<&Value> = errors
        .iter()
        .filter(|e| {
            e["source"]
                .as_str()
                .is_some_and(|s| s.ends_with("malicious_pypi_packages.misp-event.json"))
        })
        .collect();
    assert_eq!(bad.len(), 1, "{errors:#?}");
    assert!(
        bad[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("line 37374")),
        "{bad:?}"
    );
    assert!(
        first["objects"]["misp-event"].as_u64().unwrap_or(0) > 40,
        "{first}"
    );
    assert!(
        first["indicators_added"].as_u64().unwrap_or(0) > 1000,
        "{first}"
    );
    assert_eq!(first["objects"], second["objects"]);
    assert_eq!(second["indicators_added"], 0, "{second}");
    assert_eq!(second["indicators_updated"], 0, "{second}");
    eprintln!(
        "misp: objects {} indicators {} errors {}",
        first["objects"],
        first["indicators"],
        errors.len()
    );
}

#[test]
fn real_attack_bundles_import_idempotently() {
    let Some(attack) = testdata("attack") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // The whole folder: enterprise and mobile (STIX 2.0), ICS and mobile
    // (STIX 2.1) under stix-2.1/, whose collection index.json and licence
    // files are skipped.
    let args = ["attack", "import", "--quiet", "--output", "json", &attack];
    let (code, first) = json_of(dir.path(), &args);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["files"], 5, "{first}");
    assert_eq!(first["skipped"], 1, "{first}");
    for k in ["tactic", "technique", "group", "software", "mitigation"] {
        assert!(
            first["attack"][k][0].as_u64().unwrap_or(0) > 0,
            "{k}: {first}"
        );
    }
    assert!(
        first["attack"]["technique"][1].as_u64().unwrap_or(0) > 0,
        "revoked techniques counted: {first}"
    );
    assert!(
        first["subtechniques"].as_u64().unwrap_or(0) > 300,
        "{first}"
    );
    let (_, second) = json_of(dir.path(), &args);
    assert_eq!(second["stix_objects_added"], 0, "{second}");
    assert_eq!(first["objects"], second["objects"]);
    let (code, t) = json_of(
        dir.path(),
        &["attack", "show", "T1059.001", "--format", "json"],
    );
    assert_eq!(code, 0);
    assert_eq!(t["name"], "PowerShell", "{t}");
    assert_eq!(t["parent"]["id"], "T1059", "{t}");
    assert!(t["groups"].as_array().is_some_and(|g| !g.is_empty()), "{t}");
    assert!(
        t["mitigations"].as_array().is_some_and(|m| !m.is_empty()),
        "{t}"
    );
    // The built-in pack's encoded-PowerShell rule is tagged attack.t1059.001.
    assert!(
        t["rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["technique"] == "T1059.001")),
        "{t}"
    );
    eprintln!("attack: {}", first["attack"]);
}

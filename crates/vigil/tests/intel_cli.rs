//! Threat intel end to end (#5): `vigil intel import` of a STIX bundle with
//! a warninglist, then `vigil serve` raises one alert per listed observable
//! of an ingested event (IP, subdomain of a listed domain, SHA-256 in a
//! Sysmon `Hashes` field) and none for the warninglisted value; importing
//! the real `$VIGIL_TESTDATA/stix` twice adds nothing the second time.

mod common;

use std::path::{Path, PathBuf};
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

fn import_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["intel", "import", "--output", "json", "--quiet"];
    all.extend_from_slice(args);
    let (code, out, err) = vigil(dir, &all);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_observables_raise_alerts_with_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wl = fixture("warninglists");
    let bundle = fixture("bundle.json");
    let r = import_json(
        dir.path(),
        &["--feed", "test-feed", "--warninglists", &wl, &bundle],
    );
    assert_eq!(r["objects"]["indicator"], 4, "{r}");
    assert_eq!(r["indicators_added"], 3, "{r}");
    assert_eq!(r["suppressed"][0]["value"], "8.8.8.8", "{r}");
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{r}");
    let again = import_json(
        dir.path(),
        &["--feed", "test-feed", "--warninglists", &wl, &bundle],
    );
    assert_eq!(
        (
            &again["indicators_added"],
            &again["indicators_updated"],
            &again["stix_objects_added"]
        ),
        (&Value::from(0), &Value::from(0), &Value::from(0)),
        "{again}"
    );
    let (code, out, err) = vigil(dir.path(), &["intel", "search", "evil", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let found: Value = serde_json::from_str(&out).expect("search json");
    assert_eq!(found[0]["value"], "evil.example", "{found}");

    // The fixture's indicators date from 2024: with decay on (the
    // default) the IP and the domain would have decayed away (see
    // stale_indicators_decay_away); this test is about matching.
    let cfg = dir.path().join("vigil.toml");
    std::fs::write(&cfg, "[detect.intel]\ndecay = false\n").expect("config");
    let s = Server::start(dir.path(), Some(&cfg));
    let items = intel_alerts(&s, 3).await;
    let mut rules: Vec<&str> = items.iter().filter_map(|a| a["rule_id"].as_str()).collect();
    rules.sort_unstable();
    assert_eq!(
        rules,
        [
            "intel:domain:evil.example",
            "intel:ipv4:203.0.113.7",
            "intel:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ],
        "{items:#?}"
    );
    let ip = items
        .iter()
        .find(|a| a["rule_id"] == "intel:ipv4:203.0.113.7")
        .expect("ip alert");
    assert_eq!(ip["details"]["indicator"]["confidence"], 90, "{ip}");
    assert_eq!(
        ip["details"]["indicator"]["feeds"][0]["feed"], "test-feed",
        "{ip}"
    );
    assert_eq!(ip["details"]["field"], "destination.ip", "{ip}");
    s.stop();
}

/// Posts one event holding a listed IP, a subdomain of a listed domain, a
/// listed SHA-256 in Sysmon's `Hashes` and a warninglisted IP; the intel
/// alerts once `want` of them arrived (or after 30 s).
async fn intel_alerts(s: &Server, want: usize) -> Vec<Value> {
    let token = s.token.clone().expect("bootstrap token");
    let event = serde_json::json!({
        "@timestamp": "2024-06-01T12:00:00Z",
        "message": "intel test",
        "destination": {"ip": "203.0.113.7"},
        "source": {"ip": "8.8.8.8"},
        "dns": {"question": {"name": "cdn.evil.example"}},
        "Hashes": "MD5=D41D8CD98F00B204E9800998ECF8427E,SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    });
    let r = client()
        .post(s.url("/api/v1/ingest"))
        .bearer_auth(&token)
        .body(format!("{event}\n"))
        .send()
        .await
        .expect("ingest");
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v: Value = client()
            .get(s.url("/api/v1/alerts?limit=100"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("alerts")
            .json()
            .await
            .expect("alerts json");
        let items: Vec<Value> = v["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|x| {
                        x["rule_id"]
                            .as_str()
                            .is_some_and(|r| r.starts_with("intel:"))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if items.len() >= want || Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// With the default decay model, indicators last asserted in January 2024
/// (valid from then, imported — re-asserted by their feed — on 2024-02-01,
/// `VIGIL_NOW`) have decayed by now: the IP (30-day lifetime) and the
/// domain (180 days) no longer match; the SHA-256 (hashes never decay)
/// still does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_indicators_decay_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["intel", "import", "--output", "json", "--quiet"])
        .args(["--feed", "test-feed", &fixture("bundle.json")])
        .env("VIGIL_NOW", "2024-02-01T00:00:00Z")
        .output()
        .expect("run vigil");
    let r: Value = serde_json::from_slice(&out.stdout).expect("import json");
    assert_eq!(r["indicators_added"], 4, "{r}");
    let s = Server::start(dir.path(), None);
    let items = intel_alerts(&s, 1).await;
    // The alerts of one event are committed together: once one is there,
    // all are.
    let rules: Vec<&str> = items.iter().filter_map(|a| a["rule_id"].as_str()).collect();
    assert_eq!(
        rules,
        ["intel:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
        "{items:#?}"
    );
    s.stop();
}

#[test]
fn real_stix_data_imports_idempotently() {
    let Some(data) = std::env::var_os("VIGIL_TESTDATA") else {
        eprintln!("skipped: VIGIL_TESTDATA not set");
        return;
    };
    let stix = PathBuf::from(data).join("stix");
    let stix = stix.display().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let first = import_json(dir.path(), &[&stix]);
    let second = import_json(dir.path(), &[&stix]);
    assert_eq!(first["objects"], second["objects"]);
    assert_eq!(first["indicators"], second["indicators"]);
    assert_eq!(first["errors"], second["errors"]);
    assert!(
        first["indicators_added"].as_u64().unwrap_or(0) > 0,
        "{first}"
    );
    assert_eq!(second["indicators_added"], 0, "{second}");
    assert_eq!(second["indicators_updated"], 0, "{second}");
    assert_eq!(second["stix_objects_added"], 0, "{second}");
    eprintln!(
        "stix: {} objects by type, {} indicators added, {} STIX objects stored",
        first["objects"], first["indicators_added"], first["stix_objects_added"]
    );
}

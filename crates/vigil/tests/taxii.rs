//! TAXII 2.1 and feeds end to end against the real binary (#5):
//!
//! - a STIX indicator posted to the TAXII inbox is matched against events
//!   (the detectors are rebuilt without a restart);
//! - the `taxii2-client` Python library (pinned in `.ci/requirements.txt`,
//!   run with `$VIGIL_PYTHON`) discovers the server, lists collections,
//!   pages through objects and posts a bundle, with a token as the Basic
//!   password;
//! - file and HTTP feeds sync, the second HTTP sync is a conditional GET
//!   answered 304, and the health is recorded;
//! - Vigil's TAXII client pulls a collection from the `medallion` reference
//!   server on loopback, incrementally (`added_after`, `next`), with Basic
//!   credentials from the secret store.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::{Server, client, vigil};
use vigil_testkit::python;

const TAXII: &str = "application/taxii+json;version=2.1";
const INBOX: &str = "3f2a4c1e-9b7d-4e5a-8c61-0a7e5b9d2c02";
const INTEL: &str = "3f2a4c1e-9b7d-4e5a-8c61-0a7e5b9d2c01";

fn fixture(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/intel")
        .join(p)
        .display()
        .to_string()
}

fn indicator(n: u32, ip: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--7a2b0c3d-0000-4000-8000-{n:012}"),
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "valid_from": "2024-03-01T00:00:00Z",
        "pattern_type": "stix",
        "pattern": format!("[ipv4-addr:value = '{ip}']"),
        "confidence": 85,
    })
}

fn token(dir: &Path, role: &str) -> String {
    let (code, out, err) = vigil(
        dir,
        &["token", "create", "--role", role, "--name", role, "--quiet"],
    );
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

/// Intel alerts (rule ids) currently stored.
async fn intel_alerts(s: &Server, token: &str) -> Vec<String> {
    let v: Value = client()
        .get(s.url("/api/v1/alerts?limit=100"))
        .bearer_auth(token)
        .send()
        .await
        .expect("alerts")
        .json()
        .await
        .expect("alerts json");
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["rule_id"].as_str())
                .filter(|r| r.starts_with("intel:"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indicator_posted_over_taxii_is_matched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Server::start(dir.path(), None);
    let admin = s.token.clone().expect("bootstrap token");
    let r = client()
        .post(s.url(&format!("/taxii2/vigil/collections/{INBOX}/objects/")))
        .basic_auth("taxii", Some(&admin))
        .header("accept", TAXII)
        .header("content-type", TAXII)
        .body(json!({"objects": [indicator(1, "192.0.2.77")]}).to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 202);
    let status: Value = r.json().await.expect("status");
    assert_eq!(status["success_count"], 1, "{status}");

    // The detectors are rebuilt in the background: send fresh events until
    // one is matched (each event has its own alert id).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    let found = loop {
        n += 1;
        let event = json!({"@timestamp": "2024-06-01T12:00:00Z", "message": format!("probe {n}"),
            "destination": {"ip": "192.0.2.77"}});
        let r = client()
            .post(s.url("/api/v1/ingest"))
            .bearer_auth(&admin)
            .body(format!("{event}\n"))
            .send()
            .await
            .expect("ingest");
        assert_eq!(r.status(), 200);
        let alerts = intel_alerts(&s, &admin).await;
        if !alerts.is_empty() || Instant::now() > deadline {
            break alerts;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        found.iter().all(|r| r == "intel:ipv4:192.0.2.77") && !found.is_empty(),
        "{found:?}"
    );
    s.stop();
}

const CLIENT_SCRIPT: &str = r#"
import json, sys
from taxii2client.v21 import Server, Collection, as_pages

url, reader, writer, inbox_id, intel_id = sys.argv[1:6]
server = Server(url + "/taxii2/", user="taxii-reader", password=reader)
root = server.default
out = {"title": server.title, "roots": len(server.api_roots), "root_title": root.title}
cols = {c.id: c for c in root.collections}
out["collections"] = sorted(cols)
intel = cols[intel_id]
out["intel_can_write"] = intel.can_write
pages, ids = 0, []
for envelope in as_pages(intel.get_objects, per_request=2):
    pages += 1
    ids.extend(o["id"] for o in envelope.get("objects", []))
out["pages"], out["ids"] = pages, ids
manifest = intel.get_manifest()
out["manifest"] = len(manifest.get("objects", []))

inbox = Collection(url + "/taxii2/vigil/collections/" + inbox_id + "/", user="w", password=writer)
bundle = json.load(open(sys.argv[6]))
status = inbox.add_objects({"objects": bundle["objects"]})
out["status"] = status.status
out["success_count"] = status.success_count
out["failure_count"] = status.failure_count
back = inbox.get_objects()
out["inbox"] = len(back.get("objects", []))
one = inbox.get_object(bundle["objects"][0]["id"])
out["one"] = one["objects"][0]["id"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_discovers_pages_and_posts() {
    let Some(py) = python("taxii2-client") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "intel",
            "import",
            "--output",
            "json",
            "--quiet",
            &fixture("bundle.json"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let imported: Value = serde_json::from_str(&out).expect("report");
    let stored = imported["stix_objects_added"].as_u64().expect("count");
    assert!(stored >= 5, "{imported}");
    let reader = token(dir.path(), "feed");
    let writer = token(dir.path(), "analyst");
    let s = Server::start(dir.path(), None);

    // A second bundle (not yet stored) to post.
    let post = dir.path().join("post.json");
    let bundle = json!({"type": "bundle", "id": "bundle--1f1f1f1f-0000-4000-8000-000000000000",
        "objects": [indicator(11, "198.51.100.11"), indicator(12, "198.51.100.12")]});
    std::fs::write(&post, bundle.to_string()).expect("write");
    let script = dir.path().join("client.py");
    std::fs::write(&script, CLIENT_SCRIPT).expect("write script");
    let base = format!("http://{}", s.addr);
    let out = Command::new(&py)
        .arg(&script)
        .args([&base, &reader, &writer, INBOX, INTEL])
        .arg(&post)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["roots"], 1, "{v}");
    assert_eq!(
        v["collections"],
        json!(
            [INTEL, INBOX]
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>()
        ),
        "{v}"
    );
    assert_eq!(v["intel_can_write"], false, "{v}");
    let ids: Vec<&str> = v["ids"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(ids.len() as u64, stored, "every stored object once: {v}");
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no object twice: {v}");
    assert_eq!(v["pages"].as_u64(), Some(stored.div_ceil(2)), "{v}");
    assert_eq!(v["manifest"].as_u64(), Some(stored), "{v}");
    assert_eq!(v["status"], "complete", "{v}");
    assert_eq!(v["success_count"], 2, "{v}");
    assert_eq!(v["failure_count"], 0, "{v}");
    assert_eq!(v["inbox"], 2, "{v}");
    assert_eq!(v["one"], bundle["objects"][0]["id"], "{v}");
    s.stop();

    // The posted indicators are in the intel store.
    let (code, out, err) = vigil(
        dir.path(),
        &["intel", "search", "198.51.100.1", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let found: Value = serde_json::from_str(&out).expect("search");
    assert_eq!(found.as_array().map(Vec::len), Some(2), "{found}");
}

fn sync_json(dir: &Path, names: &[&str]) -> (i32, Value) {
    let mut args = vec!["intel", "feeds", "sync", "--output", "json", "--quiet"];
    args.extend_from_slice(names);
    let (code, out, err) = vigil(dir, &args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v)
}

fn feeds_json(dir: &Path) -> Value {
    let (code, out, err) = vigil(dir, &["intel", "feeds", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn feed<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no feed {name} in {list}"))
}

/// Serves `body` at `/feed.json` with an ETag; counts requests and 304s.
async fn etag_server(body: String) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use axum::http::{HeaderMap, StatusCode, header};
    let hits = Arc::new(AtomicUsize::new(0));
    let not_modified = Arc::new(AtomicUsize::new(0));
    let (h, nm) = (hits.clone(), not_modified.clone());
    let app = axum::Router::new().route(
        "/feed.json",
        axum::routing::get(move |headers: HeaderMap| {
            let (h, nm, body) = (h.clone(), nm.clone(), body.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                if headers
                    .get(header::IF_NONE_MATCH)
                    .is_some_and(|v| v.as_bytes() == b"\"v1\"")
                {
                    nm.fetch_add(1, Ordering::SeqCst);
                    return (
                        StatusCode::NOT_MODIFIED,
                        [(header::ETAG, "\"v1\"")],
                        String::new(),
                    );
                }
                (StatusCode::OK, [(header::ETAG, "\"v1\"")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/feed.json"), hits, not_modified)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_and_http_feeds_sync_with_conditional_get() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Bad configurations are refused with the field named.
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "x",
            "ftp://h/x",
            "--format",
            "taxii",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("location"), "{err}");
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "x",
            "/tmp/x",
            "--format",
            "csv",
            "--interval",
            "5",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("interval"), "{err}");

    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "local",
            &fixture("bundle.json"),
            "--format",
            "stix",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, v) = sync_json(d, &["local"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["status"], "ok", "{v}");
    assert_eq!(v[0]["added"], 4, "{v}");

    let body = json!({"type": "bundle", "id": "bundle--2e2e2e2e-0000-4000-8000-000000000000",
        "objects": [indicator(21, "203.0.113.21"),
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--7a2b0c3d-0000-4000-8000-000000000022",
             "created": "2024-03-01T00:00:00.000Z", "modified": "2024-03-01T00:00:00.000Z",
             "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z",
             "pattern_type": "stix", "pattern": "[domain-name:value = 'old.example']"}]})
    .to_string();
    let (url, hits, not_modified) = etag_server(body).await;
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "remote",
            &url,
            "--format",
            "stix",
            "--tlp",
            "amber",
            "--interval",
            "600",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, v) = sync_json(d, &["remote"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["status"], "ok", "{v}");
    assert_eq!(v[0]["added"], 2, "{v}");
    assert_eq!(v[0]["expired"], 1, "old.example is past valid_until: {v}");
    let (code, v) = sync_json(d, &["remote"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["status"], "not-modified", "{v}");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(not_modified.load(Ordering::SeqCst), 1);

    let list = feeds_json(d);
    let r = feed(&list, "remote");
    assert_eq!(r["status"], "not-modified", "{r}");
    assert!(r["last_success"].is_string(), "{r}");
    assert_eq!(r["default_tlp"], "amber", "{r}");
    assert_eq!(r["interval_secs"], 600, "{r}");
    let (code, out, _) = vigil(d, &["intel", "search", "203.0.113.21", "--format", "json"]);
    assert_eq!(code, 0);
    let found: Value = serde_json::from_str(&out).expect("search");
    assert_eq!(
        found[0]["tlp"], "TLP:AMBER",
        "the feed's default TLP: {found}"
    );

    // A CSV with a column mapping (abuse.ch style: header, URL in column 2).
    let csv = d.join("urls.csv");
    std::fs::write(
        &csv,
        "# export\nid,dateadded,url,status\n1,2024-01-01 00:00:00,http://bad.example/x.exe,online\n",
    )
    .expect("write csv");
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "urls",
            &csv.display().to_string(),
            "--format",
            "csv",
            "--csv-mapping",
            r#"{"delimiter": ",", "header": true, "value_column": 2, "kind": "url", "first_seen_column": 1}"#,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, v) = sync_json(d, &["urls"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["added"], 1, "{v}");
    let (_, out, _) = vigil(d, &["intel", "search", "bad.example", "--format", "json"]);
    let found: Value = serde_json::from_str(&out).expect("search");
    assert_eq!(found[0]["type"], "url", "{found}");
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "bad",
            "/tmp/x",
            "--format",
            "csv",
            "--csv-mapping",
            "{\"value_column\": \"two\"}",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("csv-mapping"), "{err}");

    // A failing feed records its error and the exit code says so.
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "gone",
            "http://127.0.0.1:9/nothing",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, v) = sync_json(d, &["gone"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v[0]["status"], "error", "{v}");
    let list = feeds_json(d);
    assert!(
        feed(&list, "gone")["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );

    let (code, _, err) = vigil(d, &["intel", "feeds", "remove", "gone"]);
    assert_eq!(code, 0, "{err}");
    let list = feeds_json(d);
    assert!(
        list.as_array()
            .is_some_and(|a| a.iter().all(|f| f["name"] != "gone"))
    );
}

/// A free loopback port (closed again before medallion binds it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Medallion {
    child: Child,
    base: String,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

fn start_medallion(py: &str, dir: &Path) -> Medallion {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data = json!({
        "/discovery": {"title": "medallion", "default": format!("{base}/api1/"),
            "api_roots": [format!("{base}/api1/")]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 9_765_625},
            "status": [],
            "collections": [{"id": COLLECTION, "title": "test", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}],
        }
    });
    let data_path: PathBuf = dir.join("medallion-data.json");
    std::fs::write(&data_path, data.to_string()).expect("write data");
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
            "filename": data_path},
        "users": {"vigil": "medallion-pw"},
        "taxii": {"max_page_size": 2},
    });
    let config_path = dir.join("medallion.json");
    std::fs::write(&config_path, config.to_string()).expect("write config");
    let child = Command::new(py)
        .args([
            "-m",
            "medallion.scripts.run",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start medallion");
    let m = Medallion { child, base };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "medallion did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    m
}

async fn medallion_post(m: &Medallion, objects: Vec<Value>) {
    let r = client()
        .post(format!("{}/api1/collections/{COLLECTION}/objects/", m.base))
        .basic_auth("vigil", Some("medallion-pw"))
        .header("accept", TAXII)
        .header("content-type", TAXII)
        .body(json!({ "objects": objects }).to_string())
        .send()
        .await
        .expect("post to medallion");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(status, 202, "{text}");
    let v: Value = serde_json::from_str(&text).expect("status json");
    assert_eq!(v["failure_count"], 0, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_feed_pulls_from_medallion_incrementally() {
    let Some(py) = python("medallion") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let m = start_medallion(&py, d);
    medallion_post(
        &m,
        (1..=3)
            .map(|i| indicator(100 + i, &format!("192.0.2.{i}")))
            .collect(),
    )
    .await;

    // Credentials from the secret store.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--data-dir")
        .arg(d)
        .args(["secret", "set", "taxii/medallion"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil secret set");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"vigil:medallion-pw\n")
        .expect("write secret");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let url = format!("{}/api1/collections/{COLLECTION}/", m.base);
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "medallion",
            &url,
            "--format",
            "taxii",
            "--auth",
            "basic",
            "--secret",
            "taxii/medallion",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, v) = sync_json(d, &["medallion"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["status"], "ok", "{v}");
    assert_eq!(
        v[0]["objects"], 3,
        "three objects over two pages of two: {v}"
    );
    assert_eq!(v[0]["added"], 3, "{v}");

    // Only what was added since is read the next time.
    medallion_post(
        &m,
        (4..=5)
            .map(|i| indicator(100 + i, &format!("192.0.2.{i}")))
            .collect(),
    )
    .await;
    let (code, v) = sync_json(d, &["medallion"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["objects"], 2, "incremental: {v}");
    assert_eq!(v[0]["added"], 2, "{v}");
    let (code, v) = sync_json(d, &["medallion"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["objects"], 0, "nothing new: {v}");

    let (code, out, _) = vigil(d, &["intel", "search", "192.0.2.", "--format", "json"]);
    assert_eq!(code, 0);
    let found: Value = serde_json::from_str(&out).expect("search");
    assert_eq!(found.as_array().map(Vec::len), Some(5), "{found}");

    // Wrong credentials: the feed's error names the refusal.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--data-dir")
        .arg(d)
        .args(["secret", "set", "taxii/medallion"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("vigil secret set");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"vigil:wrong\n")
        .expect("write secret");
    assert!(child.wait().expect("wait").success());
    let (code, v) = sync_json(d, &["medallion"]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v[0]["error"].as_str().is_some_and(|e| e.contains("401")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_syncs_feeds_on_schedule_and_matches_their_indicators() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (code, _, err) = vigil(
        d,
        &[
            "intel",
            "feeds",
            "add",
            "local",
            &fixture("bundle.json"),
            "--format",
            "stix",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let s = Server::start(d, None);
    let admin = s.token.clone().expect("bootstrap token");
    let deadline = Instant::now() + Duration::from_secs(60);
    let f = loop {
        let f: Value = client()
            .get(s.url("/api/v1/intel/feeds/local"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("feed")
            .json()
            .await
            .expect("feed json");
        if f["status"] != "new" || Instant::now() > deadline {
            break f;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(f["status"], "ok", "{f}");
    assert_eq!(f["added"], 4, "{f}");
    assert!(f["last_success"].is_string(), "{f}");

    // The scheduler's sync rebuilt the detectors: the feed's IP matches.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    let found = loop {
        n += 1;
        let event = json!({"@timestamp": "2024-06-01T12:00:00Z", "message": format!("probe {n}"),
            "destination": {"ip": "203.0.113.7"}});
        let r = client()
            .post(s.url("/api/v1/ingest"))
            .bearer_auth(&admin)
            .body(format!("{event}\n"))
            .send()
            .await
            .expect("ingest");
        assert_eq!(r.status(), 200);
        let alerts = intel_alerts(&s, &admin).await;
        if !alerts.is_empty() || Instant::now() > deadline {
            break alerts;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        found.contains(&"intel:ipv4:203.0.113.7".to_owned()),
        "{found:?}"
    );
    s.stop();
}

fn misp_event(uuid: &str, ts: i64, ip: &str) -> Value {
    json!({"Event": {"uuid": uuid, "info": "feed event", "date": "2024-01-01",
        "timestamp": ts.to_string(),
        "Attribute": [{"uuid": format!("{uuid}-a"), "type": "ip-dst", "value": ip, "to_ids": true}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misp_feed_layout_syncs_changed_events_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let feed = d.join("misp-feed");
    std::fs::create_dir_all(&feed).expect("mkdir");
    let (u1, u2) = (
        "5b2a1e5c-0000-4000-8000-000000000001",
        "5b2a1e5c-0000-4000-8000-000000000002",
    );
    let write = |name: &str, v: &Value| {
        std::fs::write(feed.join(name), v.to_string()).expect("write");
    };
    write(&format!("{u1}.json"), &misp_event(u1, 10, "198.51.100.201"));
    write(&format!("{u2}.json"), &misp_event(u2, 10, "198.51.100.202"));
    write(
        "manifest.json",
        &json!({u1: {"info": "a", "timestamp": "10"}, u2: {"info": "b", "timestamp": "10"}}),
    );
    let loc = format!("{}/", feed.display());
    let (code, _, err) = vigil(
        d,
        &["intel", "feeds", "add", "misp", &loc, "--format", "misp"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, v) = sync_json(d, &["misp"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["added"], 2, "{v}");
    // Nothing changed: no event is read again.
    let (_, v) = sync_json(d, &["misp"]);
    assert_eq!(
        (v[0]["added"].clone(), v[0]["objects"].clone()),
        (json!(0), json!(0)),
        "{v}"
    );
    // One event changed (newer manifest timestamp): only it is read.
    write(&format!("{u2}.json"), &misp_event(u2, 20, "198.51.100.203"));
    write(
        "manifest.json",
        &json!({u1: {"info": "a", "timestamp": "10"}, u2: {"info": "b", "timestamp": "20"}}),
    );
    let (code, v) = sync_json(d, &["misp"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["added"], 1, "{v}");
    let (_, out, _) = vigil(d, &["intel", "search", "198.51.100.20", "--format", "json"]);
    let found: Value = serde_json::from_str(&out).expect("search");
    assert_eq!(found.as_array().map(Vec::len), Some(3), "{found}");
}

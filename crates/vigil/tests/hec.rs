//! Acceptance for the Splunk HEC endpoint against the real binary:
//!
//! - a real HEC client, the `splunk-handler` Python library (pinned in
//!   `.ci/requirements.txt`, run with `$VIGIL_PYTHON`), delivers log records
//!   with an ingest token, and is refused with a wrong or empty one;
//! - an ack id reported as acknowledged is never lost by `kill -9` right
//!   after: post with a channel, `/ack` says true, SIGKILL, restart, and the
//!   events are in the store.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{Server, client, vigil};
use vigil_ingest::ParseOptions;
use vigil_model::{FieldId, TenantId};

const SCRIPT: &str = r#"
import logging, sys
from splunk_handler import SplunkHandler

host, port, token, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
handler = SplunkHandler(
    host=host, port=port, token=token, index="main", protocol="http", verify=False,
    source="vigil-test", sourcetype="python", hostname="py-host",
    flush_interval=0.2, retry_count=0, timeout=30,
)
log = logging.getLogger("vigil-hec-test")
log.propagate = False
log.setLevel(logging.INFO)
log.addHandler(handler)
for i in range(n):
    log.info("splunk-handler record %d user=%s", i, "alice")
handler.force_flush()
handler.close()
print("done")
"#;

/// Runs the script; returns its stdout (it prints refusals there).
fn run_handler(py: &str, dir: &Path, addr: &str, token: &str, n: usize) -> String {
    let script = dir.join("send.py");
    std::fs::write(&script, SCRIPT).expect("write script");
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let out = Command::new(py)
        .arg(&script)
        .args([host, port, token, &n.to_string()])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("done"), "{stdout}\n{stderr}");
    stdout
}

/// Every stored event as (format, source, host, raw).
async fn stored(dir: &Path) -> Vec<vigil_store::StoredEvent> {
    let store = vigil_store::Store::open_sqlite(&dir.join("vigil.db"))
        .await
        .expect("open store");
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let rows = store.events_after(after, 10_000).await.expect("events");
        let Some(last) = rows.last() else { break };
        after = last.seq;
        out.extend(rows);
    }
    store.close().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splunk_handler_delivers_with_a_token_and_is_refused_without() {
    let Some(py) = vigil_testkit::python("the splunk-handler test") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, token, err) = vigil(
        dir.path(),
        &[
            "token", "create", "--role", "ingest", "--name", "hec", "--quiet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_owned();
    let server = Server::start(dir.path(), None);

    const N: usize = 25;
    let out = run_handler(&py, dir.path(), &server.addr, &token, N);
    assert!(!out.contains("Exception"), "{out}");

    // A wrong secret and an empty token are refused, and nothing is stored.
    let wrong = format!("{}x", &token[..token.len() - 1]);
    let out = run_handler(&py, dir.path(), &server.addr, &wrong, 3);
    assert!(out.contains("403 Client Error"), "{out}");
    let out = run_handler(&py, dir.path(), &server.addr, "", 3);
    assert!(out.contains("Client Error"), "{out}");
    server.stop();

    let rows = stored(dir.path()).await;
    assert_eq!(rows.len(), N, "exactly the accepted records are stored");
    let registry = vigil_model::FieldRegistry::new();
    let name = |e: &vigil_model::Event, n: &str| {
        registry
            .get(n)
            .and_then(|id| e.get(id))
            .map(|v| v.to_text().into_owned())
    };
    let mut seen = BTreeSet::new();
    for r in &rows {
        assert_eq!(r.format, "hec");
        assert_eq!(r.host.as_deref(), Some("py-host"));
        assert!(r.time.is_some(), "HEC time is the record's time");
        let opts = ParseOptions::new(TenantId::DEFAULT, r.source.clone(), r.received_at);
        let e = vigil_ingest::parse_hec_event(&r.raw, &registry, &opts).expect("reparse");
        let msg = e.get_str(FieldId::MESSAGE).expect("message").to_owned();
        let i: usize = msg
            .strip_prefix("splunk-handler record ")
            .and_then(|m| m.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected message {msg:?}"));
        seen.insert(i);
        assert_eq!(name(&e, "host.name").as_deref(), Some("py-host"));
        assert_eq!(name(&e, "splunk.source").as_deref(), Some("vigil-test"));
        assert_eq!(name(&e, "splunk.sourcetype").as_deref(), Some("python"));
        assert_eq!(name(&e, "splunk.index").as_deref(), Some("main"));
    }
    assert_eq!(seen, (0..N).collect::<BTreeSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_ack_ids_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), None);
    let token = server.token.clone().expect("bootstrap admin token");
    let http = client();
    let channel = "5f0b3c4e-9a7d-4c1e-8f2a-0d6b7e8c9a1b";

    const REQUESTS: usize = 20;
    const PER: usize = 50;
    let mut ids = Vec::new();
    for r in 0..REQUESTS {
        let mut body = String::new();
        for i in 0..PER {
            body.push_str(&format!(
                r#"{{"event":{{"req":{r},"i":{i},"message":"ack test {r}/{i}"}},"host":"acker","time":{}}}"#,
                1_764_000_000 + r
            ));
        }
        let res = http
            .post(server.url("/services/collector/event"))
            .header("Authorization", format!("Splunk {token}"))
            .header("X-Splunk-Request-Channel", channel)
            .body(body)
            .send()
            .await
            .expect("post");
        assert!(res.status().is_success(), "{}", res.status());
        let v: serde_json::Value = res.json().await.expect("json");
        assert_eq!(v["code"], 0, "{v}");
        ids.push(v["ackId"].as_u64().expect("ackId"));
    }
    assert_eq!(ids, (0..REQUESTS as u64).collect::<Vec<_>>());

    let res = http
        .post(server.url("/services/collector/ack"))
        .header("Authorization", format!("Splunk {token}"))
        .header("X-Splunk-Request-Channel", channel)
        .json(&serde_json::json!({ "acks": ids }))
        .send()
        .await
        .expect("ack");
    let v: serde_json::Value = res.json().await.expect("json");
    for id in &ids {
        assert_eq!(v["acks"][id.to_string()], true, "{v}");
    }
    // Acknowledged: pull the plug at once.
    server.kill9();

    let server = Server::start(dir.path(), None);
    server.stop();
    let rows = stored(dir.path()).await;
    let mut got = BTreeSet::new();
    for r in &rows {
        let v: serde_json::Value = serde_json::from_slice(&r.raw).expect("raw json");
        got.insert((
            v["event"]["req"].as_u64().expect("req"),
            v["event"]["i"].as_u64().expect("i"),
        ));
    }
    let want: BTreeSet<_> = (0..REQUESTS as u64)
        .flat_map(|r| (0..PER as u64).map(move |i| (r, i)))
        .collect();
    assert_eq!(got, want, "an acknowledged event was lost");
}

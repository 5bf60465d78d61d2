//! Response end to end with the real binary: a syslog event → Sigma alert →
//! playbook run → incident, enrichment, an HMAC-signed webhook to a
//! loopback receiver that fails its first attempts, an approval; `kill -9`
//! while the webhook is being retried and again while the run waits for
//! approval; after each restart the run continues, the receiver counts
//! exactly one effect (deduplicated by `Idempotency-Key`) and the run log
//! holds every attempt; the audit chain verifies with the playbook's
//! actions in it. Plus: the egress guard refuses the metadata service,
//! private and non-allowlisted loopback addresses and names an (injected)
//! host table maps to them. See: #7

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{BIN, Server, client, vigil};
use parking_lot::Mutex;
use serde_json::Value;

const RULE: &str = "title: SSH failed login (e2e)\nid: t-ssh-fail\nlevel: high\n\
logsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: failure\n  condition: sel\n";

fn playbook(port: u16) -> String {
    format!(
        r#"id: contain-ssh
name: Contain SSH attacker
trigger:
  alert:
    rules: ["t-ssh-*"]
    entities: [source_ip]
steps:
  - id: case
    create_incident:
      title: "SSH attack from {{{{ alert.entities.source_ip }}}}"
      flags: [personal_data]
  - id: lookup
    enrich: {{ intel: "{{{{ alert.entities.source_ip }}}}" }}
  - id: hook
    http:
      url: "http://hooks.test:{port}/vigil"
      body: {{ ip: "{{{{ alert.entities.source_ip }}}}", incident: "{{{{ steps.case.number }}}}" }}
      hmac: {{ secret: hook-key }}
      retries: 6
      backoff: 1s
  - id: ok
    approval:
      message: "Block {{{{ alert.entities.source_ip }}}}?"
      timeout: 1h
  - id: done
    add_note: {{ text: "approved by {{{{ steps.ok.by }}}}" }}
  - id: block
    blocklist: {{ kind: ip, value: "{{{{ alert.entities.source_ip }}}}", ttl: 4s, reason: "INC-{{{{ steps.case.number }}}}" }}
"#
    )
}

#[derive(Default)]
struct Receiver {
    /// Attempts to fail (503) before answering 200.
    fail_first: AtomicUsize,
    attempts: Mutex<Vec<String>>,
    effects: Mutex<HashMap<String, Value>>,
    bad_signatures: AtomicUsize,
}

async fn hook(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let sig = headers
        .get("x-vigil-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !vigil_respond::playbook::run::verify(b"s3cret-hook-key", &body, sig) {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    r.attempts.lock().push(key.clone());
    if r.fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // Deduplicate by the key: a repeat is acknowledged, not applied again.
    r.effects.lock().entry(key).or_insert(v);
    StatusCode::OK
}

async fn start_receiver(r: Arc<Receiver>) -> u16 {
    let app = axum::Router::new()
        .route("/vigil", axum::routing::post(hook))
        .with_state(r);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

fn write_config(dir: &Path, rules: &Path, playbooks: &Path) -> std::path::PathBuf {
    let cfg = dir.join("vigil.toml");
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[detect]\naggregate_secs = 3600\n[detect.sigma]\nrules = [{rules:?}]\n\
             [respond]\nplaybooks = [{playbooks:?}]\ninterval_secs = 1\n\
             [respond.egress]\nallow = [\"127.0.0.1/32\", \"*.test\"]\nallow_http = true\n\
             [respond.egress.hosts]\n\"hooks.test\" = [\"127.0.0.1\"]\n\"inward.test\" = [\"10.1.2.3\"]\n\
             \"loop2.test\" = [\"127.0.0.2\"]\n\"partner.example\" = [\"93.184.216.34\"]\n"
        ),
    )
    .expect("write config");
    cfg
}

fn cli(data: &Path, cfg: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--config", cfg.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    vigil(data, &all)
}

fn set_secret(data: &Path, cfg: &Path, name: &str, value: &str) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(cfg)
        .args(["secret", "set", name])
        .env_remove("VIGIL_DATABASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("vigil secret set");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(value.as_bytes())
        .expect("write secret");
    assert!(child.wait().expect("wait").success());
}

async fn send_failure(s: &Server, token: &str, ip: &str) {
    let line = format!(
        "<38>1 2026-11-27T10:00:01Z bastion sshd 4242 - - Failed password for invalid user admin from {ip} port 50122 ssh2\n"
    );
    let r = client()
        .post(s.url("/api/v1/ingest?format=syslog"))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(line)
        .send()
        .await
        .expect("ingest");
    assert_eq!(r.status(), 200);
}

fn run_json(data: &Path, cfg: &Path) -> Option<Value> {
    let (code, out, err) = cli(data, cfg, &["runs", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let runs: Value = serde_json::from_str(&out).expect("runs json");
    let id = runs.as_array()?.first()?["id"].as_str()?.to_string();
    let (code, out, err) = cli(data, cfg, &["runs", "show", &id, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).ok()
}

/// Polls the run until `pred` holds (or fails after `secs`).
async fn wait_run(
    data: &Path,
    cfg: &Path,
    secs: u64,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(r) = run_json(data, cfg)
            && pred(&r)
        {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "run never reached: {what}; last: {:#?}",
            run_json(data, cfg)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn log_events(run: &Value, step: &str) -> Vec<String> {
    run["log"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["step"] == step)
                .map(|e| e["event"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_to_incident_webhook_and_approval_survive_kill9() {
    let data = tempfile::tempdir().expect("tempdir");
    let rules = tempfile::tempdir().expect("tempdir");
    let pbs = tempfile::tempdir().expect("tempdir");
    std::fs::write(rules.path().join("ssh.yml"), RULE).expect("rule");
    let receiver = Arc::new(Receiver::default());
    receiver.fail_first.store(3, Ordering::SeqCst);
    let port = start_receiver(receiver.clone()).await;
    std::fs::write(pbs.path().join("contain.yml"), playbook(port)).expect("playbook");
    let cfg = write_config(data.path(), rules.path(), pbs.path());
    set_secret(data.path(), &cfg, "hook-key", "s3cret-hook-key");

    let s = Server::start(data.path(), Some(&cfg));
    let token = s.token.clone().expect("bootstrap token");
    send_failure(&s, &token, "198.51.100.23").await;

    // The webhook has failed at least once and is waiting to retry: kill.
    wait_run(data.path(), &cfg, 60, "a failed webhook attempt", |r| {
        log_events(r, "hook").iter().any(|e| e == "retry")
    })
    .await;
    s.kill9();
    let attempts_before = receiver.attempts.lock().len();
    assert!(attempts_before >= 1);

    // Restarted: the run resumes, retries until the receiver accepts, then
    // waits for approval.
    let s = Server::start(data.path(), Some(&cfg));
    let run = wait_run(data.path(), &cfg, 60, "waiting for approval", |r| {
        r["status"] == "waiting_approval"
    })
    .await;
    assert_eq!(receiver.effects.lock().len(), 1, "exactly one effect");
    let attempts = receiver.attempts.lock().clone();
    assert_eq!(
        attempts.len(),
        4,
        "three refused attempts and one accepted: {attempts:?}"
    );
    assert!(
        attempts.iter().all(|k| k == &attempts[0]),
        "one idempotency key for every attempt: {attempts:?}"
    );
    assert_eq!(receiver.bad_signatures.load(Ordering::SeqCst), 0);
    let hook_log = log_events(&run, "hook");
    assert_eq!(
        hook_log.iter().filter(|e| *e == "started").count(),
        4,
        "every attempt logged: {hook_log:?}"
    );
    assert_eq!(
        hook_log.iter().filter(|e| *e == "retry").count(),
        3,
        "{hook_log:?}"
    );
    let body = receiver
        .effects
        .lock()
        .values()
        .next()
        .cloned()
        .expect("effect");
    assert_eq!(body["ip"], "198.51.100.23");
    assert_eq!(body["incident"], 1);

    // kill -9 while it waits; after restart it still waits, then an
    // analyst approves and the run completes.
    s.kill9();
    let s = Server::start(data.path(), Some(&cfg));
    wait_run(data.path(), &cfg, 30, "still waiting after restart", |r| {
        r["status"] == "waiting_approval"
    })
    .await;
    let id = run["id"].as_str().expect("run id").to_string();
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &["runs", "approve", &id, "--comment", "confirmed attacker"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let run = wait_run(data.path(), &cfg, 30, "succeeded", |r| {
        r["status"] == "succeeded"
    })
    .await;
    let blocked_at = Instant::now();
    // The blocklist feed serves the attacker's address to a firewall (a
    // feed token as the Basic password) until the TTL passes.
    let (code, feed_token, err) = cli(
        data.path(),
        &cfg,
        &[
            "token", "create", "--role", "feed", "--name", "fw", "--quiet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let feed_token = feed_token.trim().to_string();
    let ips = || async {
        let r = client()
            .get(s.url("/api/v1/blocklists/ips.txt"))
            .basic_auth("firewall", Some(&feed_token))
            .send()
            .await
            .expect("blocklist");
        assert_eq!(r.status(), 200);
        r.text().await.expect("text")
    };
    let served = ips().await;
    assert!(
        served.lines().any(|l| l.trim() == "198.51.100.23"),
        "{served:?}; run: {:#}; list: {:?}",
        run["log"],
        cli(data.path(), &cfg, &["intel", "blocklist", "list"])
    );
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(blocked_at.elapsed())).await;
    let served = ips().await;
    assert!(
        !served.lines().any(|l| l.trim() == "198.51.100.23"),
        "still served after the TTL: {served}"
    );
    assert_eq!(log_events(&run, "ok"), ["waiting", "approved"]);
    assert_eq!(receiver.effects.lock().len(), 1, "still exactly one effect");
    assert_eq!(
        receiver.attempts.lock().len(),
        4,
        "no request after the accepted one"
    );

    // The incident: linked alert, personal-data clock, the playbook's note.
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &["incidents", "show", "1", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let inc: Value = serde_json::from_str(&out).expect("incident json");
    assert_eq!(inc["incident"]["title"], "SSH attack from 198.51.100.23");
    assert_eq!(inc["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(inc["clocks"][0]["id"], "gdpr-art33");
    let notes: Vec<&str> = inc["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "note")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("approved by system:cli:"), "{notes:?}");

    // The same attack again within the aggregation window: the alert counts
    // a second hit; no second alert, so no second run.
    send_failure(&s, &token, "198.51.100.23").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = cli(data.path(), &cfg, &["alerts", "list", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let alerts: Value = serde_json::from_str(&out).expect("alerts json");
        let list = alerts.as_array().expect("alerts");
        assert_eq!(list.len(), 1, "{alerts:#}");
        if list[0]["hits"] == 2 {
            assert_eq!(list[0]["state"], "escalated");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "second hit never counted: {alerts:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, out, _) = cli(data.path(), &cfg, &["runs", "list", "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .expect("runs")
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    s.stop();

    // Audit: the playbook's actions under its own principal; chain intact.
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &["audit", "list", "--format", "json", "--limit", "1000"],
    );
    assert_eq!(code, 0, "{err}");
    let entries: Value = serde_json::from_str(&out).expect("audit json");
    let by_playbook: HashSet<String> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["principal"]
                .as_str()
                .is_some_and(|p| p.starts_with("playbook:"))
        })
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect();
    for action in ["incident.create", "playbook.step", "incident.note"] {
        assert!(
            by_playbook.contains(action),
            "{action} not audited as the playbook: {by_playbook:?}"
        );
    }
    let (code, out, err) = cli(data.path(), &cfg, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");

    // The archive: JSON lines, one per entry, each linked to the previous.
    let archive = data.path().join("audit.jsonl");
    let (code, _, err) = cli(
        data.path(),
        &cfg,
        &[
            "audit",
            "export",
            "--output",
            archive.to_str().expect("path"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&archive).expect("archive");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert!(
        out.contains(&format!("{} entries verified", lines.len())),
        "{out}"
    );
    for w in lines.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"]);
        assert_eq!(w[1]["seq"].as_i64(), w[0]["seq"].as_i64().map(|s| s + 1));
    }
    assert!(
        err.contains(&format!("exported {} audit entries", lines.len())),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn egress_guard_refuses_internal_destinations() {
    let data = tempfile::tempdir().expect("tempdir");
    let rules = tempfile::tempdir().expect("tempdir");
    let pbs = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(data.path(), rules.path(), pbs.path());
    let mut text = String::from("id: probe\nname: Probe\ntrigger: {manual: {}}\nsteps:\n");
    let urls = [
        ("metadata", "http://169.254.169.254/latest/meta-data/"),
        ("private", "http://10.0.0.5/hook"),
        ("loopback", "http://127.0.0.2:9/hook"),
        ("named-private", "http://inward.test/hook"),
        ("named-loopback", "http://loop2.test:9/hook"),
        ("not-listed", "http://partner.example/hook"),
    ];
    for (id, url) in urls {
        text.push_str(&format!(
            "  - id: {id}\n    on_error: continue\n    http: {{ url: \"{url}\", retries: 0 }}\n"
        ));
    }
    let file = pbs.path().join("probe.yml");
    std::fs::write(&file, text).expect("playbook");
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &["playbooks", "upload", file.to_str().expect("path")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(data.path(), &cfg, &["playbooks", "run", "probe"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("succeeded"), "{out}");
    let run = run_json(data.path(), &cfg).expect("run");
    let log = run["log"].as_array().expect("log");
    for (id, _) in urls {
        let e = log
            .iter()
            .find(|e| e["step"] == id && e["event"] == "error")
            .unwrap_or_else(|| panic!("no refusal logged for {id}: {log:#?}"));
        let msg = e["message"].as_str().unwrap_or("");
        assert!(msg.contains("egress refused"), "{id}: {msg}");
    }
    let msg = |id: &str| {
        log.iter()
            .find(|e| e["step"] == id && e["event"] == "error")
            .and_then(|e| e["message"].as_str())
            .unwrap_or("")
            .to_string()
    };
    assert!(msg("metadata").contains("169.254.169.254"));
    assert!(msg("named-private").contains("private"));
    assert!(msg("named-loopback").contains("loopback"));
    assert!(msg("not-listed").contains("not on the egress allowlist"));
}

#[test]
fn playbook_validation_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.yml");
    std::fs::write(&good, playbook(8080)).expect("write");
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        playbook(8080).replace(
            "retries: 6",
            "retries: 6\n      headers: { Authorization: \"Bearer x\" }",
        ),
    )
    .expect("write");
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "playbooks",
            "validate",
            good.to_str().expect("p"),
            bad.to_str().expect("p"),
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("good.yml: ok (contain-ssh"), "{out}");
    assert!(
        err.contains("bad.yml: line 14 (steps[2].http.headers.Authorization)"),
        "{err}"
    );
    assert!(err.contains("never inline"), "{err}");
    assert!(out.contains("1 valid, 1 invalid"), "{out}");
}

/// Incident work from the CLI: task templates by category, observables,
/// evidence round trip, status phases, merge, MTTx, and an overdue
/// regulatory clock noticed once by the server. See: #7
#[tokio::test(flavor = "multi_thread")]
async fn incident_workflow_from_the_cli() {
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        "version = 1\n[respond]\ninterval_secs = 1\n\
         [respond.task_templates]\nmalware = [\"Isolate the host\", \"Collect a memory image\"]\n\
         [[respond.clocks]]\nid = \"test-notice\"\nregime = \"TEST\"\nname = \"Notify the regulator\"\napplies_when = \"personal_data\"\ndue = \"1s\"\n",
    )
    .expect("config");
    let run = |args: &[&str]| {
        let (code, out, err) = cli(data.path(), &cfg, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    let out = run(&[
        "incidents",
        "create",
        "--title",
        "Emotet on ws-12",
        "--category",
        "malware",
        "--severity",
        "high",
        "--flag",
        "personal_data",
    ]);
    assert!(out.starts_with("INC-1 "), "{out}");
    run(&[
        "incidents",
        "create",
        "--title",
        "Same infection, second host",
        "--category",
        "Malware",
    ]);
    run(&["incidents", "observable", "1", "domain", "bad.example"]);
    run(&["incidents", "observable", "1", "domain", "bad.example"]);
    let sample = data.path().join("dropper.bin");
    std::fs::write(&sample, b"MZ\x90\x00not really a PE").expect("sample");
    let out = run(&["incidents", "evidence", "1", sample.to_str().expect("path")]);
    let evidence_id = out.split_whitespace().next().expect("id").to_string();
    let back = data.path().join("back.bin");
    run(&[
        "incidents",
        "evidence-get",
        &evidence_id,
        "--output",
        back.to_str().expect("path"),
    ]);
    assert_eq!(
        std::fs::read(&back).expect("back"),
        std::fs::read(&sample).expect("sample")
    );
    run(&["incidents", "update", "1", "--status", "triage"]);
    run(&[
        "incidents",
        "update",
        "1",
        "--status",
        "eradication",
        "--assignee",
        "alice",
    ]);
    let (code, _, err) = cli(
        data.path(),
        &cfg,
        &["incidents", "update", "1", "--status", "new"],
    );
    assert_eq!(code, 2, "going back two phases is refused");
    assert!(err.contains("one phase at a time"), "{err}");
    run(&["incidents", "merge", "1", "2"]);
    run(&["incidents", "update", "1", "--status", "closed"]);

    let inc: Value =
        serde_json::from_str(&run(&["incidents", "show", "INC-1", "--format", "json"]))
            .expect("json");
    let titles: Vec<&str> = inc["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(
        titles.iter().filter(|t| **t == "Isolate the host").count(),
        2,
        "templates of both incidents, merged: {titles:?}"
    );
    assert_eq!(inc["observables"].as_array().map(Vec::len), Some(1));
    assert_eq!(inc["evidence"][0]["size"], 19);
    assert_eq!(inc["incident"]["status"], "closed");
    let second: Value =
        serde_json::from_str(&run(&["incidents", "show", "2", "--format", "json"])).expect("json");
    assert_eq!(second["incident"]["status"], "closed");
    assert!(second["incident"]["merged_into"].is_string());

    let metrics: Value = serde_json::from_str(&run(&[
        "incidents",
        "metrics",
        "--period",
        "all",
        "--format",
        "json",
    ]))
    .expect("json");
    let rows = metrics.as_array().expect("rows");
    let row = |m: &str| {
        rows.iter()
            .find(|r| r["metric"] == m)
            .unwrap_or_else(|| panic!("no {m}: {metrics:#}"))
    };
    // INC-1 reached eradication and closed; INC-2 was merged, so it is not
    // counted.
    assert_eq!(
        (row("mttc")["count"].as_u64(), row("mttc")["open"].as_u64()),
        (Some(1), Some(0)),
        "{metrics:#}"
    );
    assert_eq!(row("mttr")["count"].as_u64(), Some(1), "{metrics:#}");
    assert!(row("mttr")["mean_secs"].as_i64() >= row("mttc")["mean_secs"].as_i64());

    // A flagged incident whose clock ran out: the server notes it once.
    run(&[
        "incidents",
        "create",
        "--title",
        "Leak",
        "--flag",
        "personal_data",
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s = Server::start(data.path(), Some(&cfg));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let inc: Value =
            serde_json::from_str(&run(&["incidents", "show", "3", "--format", "json"]))
                .expect("json");
        let notices = inc["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter(|e| e["kind"] == "clock")
            .count();
        if notices == 1 {
            assert_eq!(inc["clocks"][0]["status"], "overdue");
            break;
        }
        assert!(Instant::now() < deadline, "no overdue notice: {inc:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.stop();
}

/// A playbook's concurrency limit: a second run waits as `queued` while
/// the first waits for approval, and starts once the first is done.
#[tokio::test(flavor = "multi_thread")]
async fn concurrency_limit_queues_runs() {
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(&cfg, "version = 1\n[respond]\ninterval_secs = 1\n").expect("config");
    let pb = data.path().join("one.yml");
    std::fs::write(
        &pb,
        "id: one-at-a-time\nname: One at a time\nconcurrency: 1\ntrigger: {manual: {}}\nsteps:\n  - id: ok\n    approval: {timeout: 1h}\n",
    )
    .expect("playbook");
    let run = |args: &[&str]| {
        let (code, out, err) = cli(data.path(), &cfg, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    run(&["playbooks", "upload", pb.to_str().expect("path")]);
    let first = run(&["playbooks", "run", "one-at-a-time"]);
    assert!(first.contains("waiting_approval"), "{first}");
    let second = run(&["playbooks", "run", "one-at-a-time"]);
    assert!(second.contains("queued"), "{second}");
    let first_id = first.split_whitespace().nth(1).expect("id").to_string();
    let second_id = second.split_whitespace().nth(1).expect("id").to_string();
    run(&["runs", "approve", &first_id]);
    // The server's runner promotes the queued run; it then waits for its
    // own approval.
    let s = Server::start(data.path(), Some(&cfg));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, out, _) = cli(
            data.path(),
            &cfg,
            &["runs", "show", &second_id, "--format", "json"],
        );
        let v: Value = serde_json::from_str(&out).expect("run json");
        if v["status"] == "waiting_approval" {
            let events: Vec<&str> = v["log"]
                .as_array()
                .expect("log")
                .iter()
                .filter_map(|e| e["event"].as_str())
                .collect();
            assert!(events.starts_with(&["queued", "dequeued"]), "{events:?}");
            break;
        }
        assert!(Instant::now() < deadline, "queued run never started: {v:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.stop();
}

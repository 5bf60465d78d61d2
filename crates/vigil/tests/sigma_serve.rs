//! `vigil serve --rules DIR`: Sigma rules and an SSH brute-force
//! correlation over syslog lines sent to the HTTP ingest API; the
//! correlation window survives `kill -9` (detector snapshot) and SIGHUP
//! reloads pick up new rules without losing it. See: #4

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Server, client};
use serde_json::Value;

const RULES: &str = "title: SSH failed login (test)\nid: t-ssh-fail\nname: t_ssh_fail\nlevel: low\n\
logsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: failure\n  condition: sel\n---\n\
title: SSH brute force (test)\nid: t-ssh-brute\nlevel: high\ntags: [attack.credential-access, attack.t1110.001]\n\
correlation:\n  type: event_count\n  rules: [t_ssh_fail]\n  group-by: [source.ip]\n  timespan: 1m\n  condition: {gte: 5}\n";

const ROOT: &str = "title: Root SSH login (test)\nid: t-root-login\nlevel: critical\ntags: [attack.t1078]\n\
logsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: success\n    user.name: root\n  condition: sel\n";

const SUDO: &str = "title: Sudo to root (test)\nid: t-sudo\nlevel: medium\n\
logsource: {product: linux, service: sudo}\n\
detection:\n  sel:\n    user.target.name: root\n  condition: sel\n";

/// `vigil serve --rules <dir>` on an ephemeral port.
fn start(data: &Path, rules: &Path) -> Server {
    start_with(data, rules, None)
}

/// `vigil [--config FILE] serve --rules <dir>` on an ephemeral port.
fn start_with(data: &Path, rules: &Path, config: Option<&Path>) -> Server {
    let mut cmd = Command::new(BIN);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let mut child = cmd
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--rules"])
        .arg(rules)
        .env_remove("VIGIL_DATABASE")
        .env("VIGIL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sigma_serve test step");
    let mut lines = BufReader::new(child.stdout.take().expect("sigma_serve test step")).lines();
    let mut token = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines
            .next()
            .expect("server exited")
            .expect("sigma_serve test step");
        if let Some(t) = line.strip_prefix("Admin token (shown once; store it now): ") {
            token = Some(t.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("Vigil listening on http://") {
            break rest
                .split_whitespace()
                .next()
                .expect("sigma_serve test step")
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        addr,
        token,
        data_dir: data.to_owned(),
    }
}

fn fail(sec: u32, ip: &str) -> String {
    format!(
        "<38>1 2026-11-27T10:00:{sec:02}Z bastion sshd 4242 - - Failed password for invalid user admin from {ip} port 50122 ssh2\n"
    )
}

async fn send(s: &Server, token: &str, body: String) {
    let r = client()
        .post(s.url("/api/v1/ingest?format=syslog"))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .expect("sigma_serve test step");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("sigma_serve test step");
    assert_eq!(v["rejected"], 0, "{v}");
}

/// The alerts' rule ids, sorted.
async fn alerts(s: &Server, token: &str) -> Vec<Value> {
    let r = client()
        .get(s.url("/api/v1/alerts?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sigma_serve test step");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("sigma_serve test step");
    v["items"]
        .as_array()
        .expect("sigma_serve test step")
        .clone()
}

fn count(items: &[Value], rule: &str) -> usize {
    items.iter().filter(|a| a["rule_id"] == rule).count()
}

/// Polls until `rule` has `n` alerts (or fails after 30 s).
async fn wait_for(s: &Server, token: &str, rule: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let items = alerts(s, token).await;
        if count(&items, rule) >= n {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "no {n} alert(s) of {rule}: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn brute_force_correlation_survives_kill9_and_reload() {
    let data = tempfile::tempdir().expect("sigma_serve test step");
    let rules = tempfile::tempdir().expect("sigma_serve test step");
    std::fs::write(rules.path().join("ssh.yml"), RULES).expect("sigma_serve test step");
    std::fs::write(rules.path().join("root.yml"), ROOT).expect("sigma_serve test step");

    let s = start(data.path(), rules.path());
    let token = s.token.clone().expect("bootstrap token");
    // Three failures from .77, one from .5, and a root login.
    let mut body = String::new();
    for sec in [1, 2, 3] {
        body.push_str(&fail(sec, "203.0.113.77"));
    }
    body.push_str(&fail(4, "198.51.100.5"));
    body.push_str("<38>1 2026-11-27T10:00:05Z bastion sshd 4242 - - Accepted password for root from 192.0.2.9 port 2222 ssh2\n");
    send(&s, &token, body).await;
    let items = wait_for(&s, &token, "t-root-login", 1).await;
    let root = items
        .iter()
        .find(|a| a["rule_id"] == "t-root-login")
        .expect("sigma_serve test step");
    assert_eq!(root["severity"], "critical", "{root}");
    assert_eq!(root["detector"], "sigma", "{root}");
    assert!(
        root["tags"]
            .as_array()
            .expect("sigma_serve test step")
            .iter()
            .any(|t| t == "attack.t1078"),
        "{root}"
    );
    // The failed logins feed the correlation and raise nothing themselves.
    assert_eq!(count(&items, "t-ssh-fail"), 0, "{items:#?}");
    assert_eq!(count(&items, "t-ssh-brute"), 0);

    // Crash mid-window, restart, send the remaining failures.
    s.kill9();
    let s = start(data.path(), rules.path());
    send(
        &s,
        &token,
        fail(10, "203.0.113.77") + &fail(11, "203.0.113.77"),
    )
    .await;
    let items = wait_for(&s, &token, "t-ssh-brute", 1).await;
    let brute = items
        .iter()
        .find(|a| a["rule_id"] == "t-ssh-brute")
        .expect("sigma_serve test step");
    assert_eq!(brute["severity"], "high", "{brute}");
    assert_eq!(brute["details"]["events"], 5, "{brute}");
    assert_eq!(
        brute["details"]["group"]["source.ip"], "203.0.113.77",
        "{brute}"
    );

    // SIGHUP: a new rule file is picked up, open windows are kept.
    send(
        &s,
        &token,
        fail(20, "198.51.100.5") + &fail(21, "198.51.100.5"),
    )
    .await;
    std::fs::write(rules.path().join("sudo.yml"), SUDO).expect("sigma_serve test step");
    let pid = s.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("sigma_serve test step")
            .success()
    );
    // The reload happens between batches; retry the sudo line until it
    // raises (a line ingested before the reload finishes stays silent).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sec = 30;
    loop {
        send(
            &s,
            &token,
            format!("<86>1 2026-11-27T10:00:{sec:02}Z bastion sudo - - -     alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh\n"),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if count(&alerts(&s, &token).await, "t-sudo") > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reload did not load sudo.yml"
        );
        sec += 1;
    }
    // .5 had 3 failures before the reload (at :04, :20, :21); two more fire.
    send(
        &s,
        &token,
        fail(40, "198.51.100.5") + &fail(41, "198.51.100.5"),
    )
    .await;
    let items = wait_for(&s, &token, "t-ssh-brute", 2).await;
    let ips: Vec<&str> = items
        .iter()
        .filter(|a| a["rule_id"] == "t-ssh-brute")
        .map(|a| {
            a["details"]["group"]["source.ip"]
                .as_str()
                .expect("sigma_serve test step")
        })
        .collect();
    assert!(ips.contains(&"198.51.100.5"), "{ips:?}");

    // Exactly once each, also after a while and another failure.
    send(&s, &token, fail(50, "203.0.113.77")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let items = alerts(&s, &token).await;
    assert_eq!(count(&items, "t-ssh-brute"), 2, "{items:#?}");
    assert_eq!(count(&items, "t-root-login"), 1);
    s.stop();
}

const UPLOAD: &str = "title: Sudo by alice (uploaded)\nid: t-upload-alice\nlevel: high\n\
logsource: {product: linux, service: sudo}\n\
detection:\n  sel:\n    user.name: alice\n  condition: sel\n";

fn root_login(sec: u32) -> String {
    format!(
        "<38>1 2026-11-27T11:00:{sec:02}Z bastion sshd 4242 - - Accepted password for root from 192.0.2.9 port 2222 ssh2\n"
    )
}

fn sudo(sec: u32) -> String {
    format!(
        "<86>1 2026-11-27T11:00:{sec:02}Z bastion sudo - - -     alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh\n"
    )
}

async fn patch(s: &Server, token: &str, id: &str, body: Value) -> Value {
    let r = client()
        .patch(s.url(&format!("/api/v1/rules/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sigma_serve test step");
    assert_eq!(r.status(), 200);
    r.json().await.expect("sigma_serve test step")
}

async fn metric(s: &Server, token: &str, name: &str) -> f64 {
    let r = client()
        .get(s.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sigma_serve test step");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("sigma_serve test step");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {text}"))
}

/// Sends `body` (which includes a `sudo` line) until `rule` has more than
/// `before` alerts: the detectors reload between batches, so lines sent
/// before the reload finished may have met the old rules.
async fn until_fires(
    s: &Server,
    token: &str,
    rule: &str,
    before: usize,
    body: impl Fn(u32) -> String,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sec = 0;
    loop {
        send(s, token, body(sec)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let items = alerts(s, token).await;
        if count(&items, rule) > before {
            return items;
        }
        assert!(Instant::now() < deadline, "{rule} never fired: {items:#?}");
        sec += 1;
    }
}

/// Rule management reaches the running detector: disabling a rule through
/// the API stops its alerts, an uploaded rule fires, a level or tags
/// override lands in the alerts, all without a restart or SIGHUP; the
/// correlation state bounds are in /metrics. See: #4
#[tokio::test(flavor = "multi_thread")]
async fn api_rule_state_reloads_the_detector_and_metrics_show_correlation_bounds() {
    let data = tempfile::tempdir().expect("sigma_serve test step");
    let rules = tempfile::tempdir().expect("sigma_serve test step");
    std::fs::write(rules.path().join("ssh.yml"), RULES).expect("sigma_serve test step");
    std::fs::write(rules.path().join("root.yml"), ROOT).expect("sigma_serve test step");
    std::fs::write(rules.path().join("sudo.yml"), SUDO).expect("sigma_serve test step");
    let config = data.path().join("vigil.toml");
    std::fs::write(
        &config,
        "version = 1\n[detect.sigma]\nbuiltin = false\nmax_groups = 2\n",
    )
    .expect("sigma_serve test step");
    let s = start_with(data.path(), rules.path(), Some(&config));
    let token = s.token.clone().expect("bootstrap token");

    // Correlation bounds (the test rules only): three source IPs, room for
    // two groups.
    let mut body = String::new();
    for (sec, ip) in [(1, "192.0.2.1"), (2, "192.0.2.2"), (3, "192.0.2.3")] {
        body.push_str(&fail(sec, ip));
    }
    body.push_str(&root_login(4));
    send(&s, &token, body).await;
    let items = wait_for(&s, &token, "t-root-login", 1).await;
    assert_eq!(count(&items, "t-sudo"), 0);
    assert_eq!(
        metric(&s, &token, "vigil_sigma_correlation_open_groups").await,
        2.0
    );
    assert_eq!(
        metric(&s, &token, "vigil_sigma_correlation_evictions_total").await,
        1.0
    );
    assert_eq!(
        metric(&s, &token, "vigil_sigma_correlation_contributions_total").await,
        3.0
    );

    // Disable the root-login rule and upload a new one; one reload (or two)
    // later the upload fires and root logins in the same batch do not.
    let v = patch(
        &s,
        &token,
        "t-root-login",
        serde_json::json!({"enabled": false}),
    )
    .await;
    assert_eq!(v["enabled"], false, "{v}");
    let r = client()
        .post(s.url("/api/v1/rules"))
        .bearer_auth(&token)
        .header("content-type", "application/yaml")
        .body(UPLOAD)
        .send()
        .await
        .expect("sigma_serve test step");
    assert_eq!(r.status(), 201);
    let items = until_fires(&s, &token, "t-upload-alice", 0, |sec| {
        root_login(10 + sec) + &sudo(10 + sec)
    })
    .await;
    let roots = count(&items, "t-root-login");
    let up = items
        .iter()
        .find(|a| a["rule_id"] == "t-upload-alice")
        .expect("sigma_serve test step");
    assert_eq!(up["severity"], "high", "{up}");
    // A batch fully after the reload: the upload fires, root login does not.
    let uploads = count(&items, "t-upload-alice");
    send(&s, &token, root_login(50) + &sudo(50)).await;
    let items = wait_for(&s, &token, "t-upload-alice", uploads + 1).await;
    assert_eq!(
        count(&items, "t-root-login"),
        roots,
        "disabled rule still alerts"
    );
    // The reload kept the open correlation groups.
    assert_eq!(
        metric(&s, &token, "vigil_sigma_correlation_open_groups").await,
        2.0
    );

    // Override the sudo rule's level and tags.
    let before = count(&items, "t-sudo");
    let v = patch(
        &s,
        &token,
        "t-sudo",
        serde_json::json!({"level": "critical", "tags": ["attack.t1548.003", "custom.review"]}),
    )
    .await;
    assert_eq!(v["level"], "critical", "{v}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sec = 0;
    let a = loop {
        send(&s, &token, sudo(sec)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let items = alerts(&s, &token).await;
        assert!(count(&items, "t-sudo") > before, "{items:#?}");
        if let Some(a) = items
            .iter()
            .find(|a| a["rule_id"] == "t-sudo" && a["severity"] == "critical")
        {
            break a.clone();
        }
        assert!(
            Instant::now() < deadline,
            "override never applied: {items:#?}"
        );
        sec += 1;
    };
    let tags: Vec<&str> = a["tags"]
        .as_array()
        .expect("sigma_serve test step")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(tags, ["attack.t1548.003", "custom.review"], "{a}");
    assert_eq!(a["details"]["level"], "critical", "{a}");
    s.stop();
}

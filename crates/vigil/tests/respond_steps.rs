//! Playbook steps that reach outside, with the real binary: `notify` by
//! e-mail through an in-process SMTP server on loopback (STARTTLS with a
//! test CA, AUTH PLAIN with a password from the secret store; the server
//! records the message and the test checks envelope, headers and body), a
//! refusal when the relay is not on the egress allowlist, and `enrich`
//! with an ATT&CK technique from a small imported bundle. See: #7

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use common::{BIN, vigil};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

// ---- a fake SMTP server ------------------------------------------------------

/// One message as the fake server received it.
#[derive(Debug, Clone, Default)]
struct Received {
    ehlo: Vec<String>,
    /// Whether STARTTLS was done before AUTH and MAIL.
    tls: bool,
    /// Decoded AUTH PLAIN response (`\0user\0password`).
    auth: Option<String>,
    mail_from: String,
    rcpt_to: Vec<String>,
    /// The message after dot-unstuffing.
    data: String,
}

#[derive(Default)]
struct FakeSmtp {
    messages: Mutex<Vec<Received>>,
    connections: Mutex<usize>,
    /// TLS from the first byte (SMTPS) instead of STARTTLS.
    implicit_tls: bool,
    /// Do not offer STARTTLS (a downgraded or plain-only relay).
    no_starttls: bool,
}

async fn reply<S: AsyncWrite + Unpin>(io: &mut S, text: &str) -> std::io::Result<()> {
    io.write_all(text.as_bytes()).await?;
    io.flush().await
}

/// Runs commands until QUIT (false) or STARTTLS (true: upgrade and go on).
async fn dialog<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    cur: &mut Received,
    smtp: &FakeSmtp,
) -> std::io::Result<bool> {
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            return Ok(false);
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO ") {
            cur.ehlo.push(cmd[5..].to_string());
            let mut r = String::from("250-fake.test\r\n");
            if !cur.tls && !smtp.no_starttls {
                r.push_str("250-STARTTLS\r\n");
            }
            r.push_str("250-AUTH PLAIN\r\n250 8BITMIME\r\n");
            reply(io, &r).await?;
        } else if upper == "STARTTLS" {
            reply(io, "220 2.0.0 ready\r\n").await?;
            return Ok(true);
        } else if let Some(arg) = upper.strip_prefix("AUTH PLAIN") {
            let b64 = if arg.trim().is_empty() {
                reply(io, "334 \r\n").await?;
                let mut l = String::new();
                io.read_line(&mut l).await?;
                l.trim().to_string()
            } else {
                cmd["AUTH PLAIN ".len()..].trim().to_string()
            };
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            cur.auth = Some(String::from_utf8_lossy(&raw).into_owned());
            reply(io, "235 2.7.0 ok\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            cur.mail_from = cmd[10..].to_string();
            reply(io, "250 2.1.0 ok\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            cur.rcpt_to.push(cmd[8..].to_string());
            reply(io, "250 2.1.5 ok\r\n").await?;
        } else if upper == "DATA" {
            reply(io, "354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if io.read_line(&mut l).await? == 0 {
                    return Ok(false);
                }
                if l == ".\r\n" {
                    break;
                }
                // Dot-unstuffing (RFC 5321 4.5.2).
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            cur.data = data;
            smtp.messages.lock().push(cur.clone());
            reply(io, "250 2.0.0 queued as FAKE1\r\n").await?;
        } else if upper == "QUIT" {
            reply(io, "221 2.0.0 bye\r\n").await?;
            return Ok(false);
        } else if upper == "RSET" || upper == "NOOP" {
            reply(io, "250 ok\r\n").await?;
        } else {
            reply(io, "500 unknown command\r\n").await?;
        }
    }
}

async fn session(
    tcp: tokio::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    smtp: Arc<FakeSmtp>,
) -> std::io::Result<()> {
    *smtp.connections.lock() += 1;
    let mut cur = Received::default();
    if smtp.implicit_tls {
        let tls = acceptor.accept(tcp).await?;
        cur.tls = true;
        let mut io = BufReader::new(tls);
        reply(&mut io, "220 fake.test ESMTP\r\n").await?;
        dialog(&mut io, &mut cur, &smtp).await?;
        return Ok(());
    }
    let mut io = BufReader::new(tcp);
    reply(&mut io, "220 fake.test ESMTP\r\n").await?;
    if !dialog(&mut io, &mut cur, &smtp).await? {
        return Ok(());
    }
    let tls = acceptor.accept(io.into_inner()).await?;
    cur.tls = true;
    let mut io = BufReader::new(tls);
    dialog(&mut io, &mut cur, &smtp).await?;
    Ok(())
}

/// Starts the fake relay with a certificate for `mail.test`; returns its
/// port and the PEM of the certificate (the test's CA).
async fn start_smtp(smtp: Arc<FakeSmtp>) -> (u16, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["mail.test".to_owned()]).expect("cert");
    let pem = ck.cert.pem();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (a, s) = (acceptor.clone(), smtp.clone());
            tokio::spawn(async move {
                let _ = session(tcp, a, s).await;
            });
        }
    });
    (port, pem)
}

// ---- helpers -------------------------------------------------------------------

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

fn upload(data: &Path, cfg: &Path, name: &str, text: &str) {
    let file = data.join(name);
    std::fs::write(&file, text).expect("playbook");
    let (code, out, err) = cli(
        data,
        cfg,
        &["playbooks", "upload", file.to_str().expect("path")],
    );
    assert_eq!(code, 0, "{out}{err}");
}

/// The newest run with its log.
fn last_run(data: &Path, cfg: &Path) -> Value {
    let (code, out, err) = cli(data, cfg, &["runs", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let runs: Value = serde_json::from_str(&out).expect("runs json");
    let id = runs[0]["id"].as_str().expect("a run").to_string();
    let (code, out, err) = cli(data, cfg, &["runs", "show", &id, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("run json")
}

fn step_event<'a>(run: &'a Value, step: &str, event: &str) -> Option<&'a Value> {
    run["log"]
        .as_array()?
        .iter()
        .find(|e| e["step"] == step && e["event"] == event)
}

fn smtp_config(dir: &Path, port: u16, ca: &str, extra: &str) -> std::path::PathBuf {
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).expect("ca");
    let cfg = dir.join("vigil.toml");
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[respond.egress]\nallow = [\"127.0.0.1/32\"]\n\
             [respond.egress.hosts]\n\"mail.test\" = [\"127.0.0.1\"]\n\
             [respond.smtp]\nhost = \"mail.test\"\nport = {port}\n\
             from = \"vigil@example.com\"\nca_file = {ca_file:?}\n{extra}"
        ),
    )
    .expect("config");
    cfg
}

const MAIL_PLAYBOOK: &str = r#"id: mailer
name: Mail the SOC
trigger: {manual: {inputs: [host, n]}}
steps:
  - id: tell
    notify:
      channel: email
      to: ["soc@example.com", "Duty Officer <duty@example.org>"]
      subject: "Incident {{ inputs.n }} on {{ inputs.host }}"
      text: "Host {{ inputs.host }} needs attention.\n.a line that starts with a dot\nend"
"#;

// ---- tests -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn email_goes_through_starttls_with_auth_and_reaches_the_relay() {
    let smtp = Arc::new(FakeSmtp::default());
    let (port, ca) = start_smtp(smtp.clone()).await;
    let data = tempfile::tempdir().expect("tempdir");
    let ca_file = data.path().join("ca.pem");
    std::fs::write(&ca_file, ca).expect("ca");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[respond.egress]\nallow = [\"127.0.0.1/32\"]\n\
             [respond.egress.hosts]\n\"mail.test\" = [\"127.0.0.1\"]\n\
             [respond.smtp]\nhost = \"mail.test\"\nport = {port}\ntls = \"starttls\"\n\
             username = \"vigil\"\npassword_secret = \"smtp-pass\"\n\
             from = \"Vigil <vigil@example.com>\"\nca_file = {ca_file:?}\nhelo = \"vigil.test\"\n"
        ),
    )
    .expect("config");
    set_secret(data.path(), &cfg, "smtp-pass", "p4ss-w0rd");
    upload(data.path(), &cfg, "mailer.yml", MAIL_PLAYBOOK);
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &[
            "playbooks",
            "run",
            "mailer",
            "--input",
            "host=web-7",
            "--input",
            "n=42",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("succeeded"), "{out}{err}");

    let msgs = smtp.messages.lock().clone();
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    let m = &msgs[0];
    assert!(m.tls, "mail before STARTTLS: {m:#?}");
    assert_eq!(m.ehlo, ["vigil.test", "vigil.test"]);
    assert_eq!(m.auth.as_deref(), Some("\0vigil\0p4ss-w0rd"));
    assert_eq!(m.mail_from, "<vigil@example.com>");
    assert_eq!(m.rcpt_to, ["<soc@example.com>", "<duty@example.org>"]);
    let (head, body) = m.data.split_once("\r\n\r\n").expect("header/body");
    assert!(
        head.contains("From: Vigil <vigil@example.com>\r\n"),
        "{head}"
    );
    assert!(
        head.contains("To: soc@example.com, \"Duty Officer\" <duty@example.org>\r\n")
            || head.contains("To: soc@example.com, Duty Officer <duty@example.org>\r\n"),
        "{head}"
    );
    assert!(head.contains("Subject: Incident 42 on web-7\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("X-Vigil-Idempotency-Key: "), "{head}");
    assert!(head.contains("Message-ID: <"), "{head}");
    assert!(head.contains("Date: "), "{head}");
    assert_eq!(
        body,
        "Host web-7 needs attention.\r\n.a line that starts with a dot\r\nend\r\n"
    );

    let run = last_run(data.path(), &cfg);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    // The password never reaches the run state or log.
    assert!(!run.to_string().contains("p4ss-w0rd"));
    let (_, audit, _) = cli(data.path(), &cfg, &["audit", "export"]);
    assert!(!audit.contains("p4ss-w0rd"));
}

#[tokio::test(flavor = "multi_thread")]
async fn email_to_a_relay_off_the_allowlist_is_refused() {
    let smtp = Arc::new(FakeSmtp::default());
    let (port, _) = start_smtp(smtp.clone()).await;
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("vigil.toml");
    // The relay name maps to loopback, which is not listed; plain text and
    // no credentials so nothing but the guard could stop it.
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[respond.egress]\nallow = [\"mail.test\"]\n\
             [respond.egress.hosts]\n\"mail.test\" = [\"127.0.0.1\"]\n\
             [respond.smtp]\nhost = \"mail.test\"\nport = {port}\ntls = \"none\"\n\
             from = \"vigil@example.com\"\n"
        ),
    )
    .expect("config");
    upload(
        data.path(),
        &cfg,
        "mailer.yml",
        &format!("{MAIL_PLAYBOOK}    on_error: continue\n"),
    );
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &[
            "playbooks",
            "run",
            "mailer",
            "--input",
            "host=h",
            "--input",
            "n=1",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let run = last_run(data.path(), &cfg);
    let e = step_event(&run, "tell", "error").unwrap_or_else(|| panic!("no refusal: {run:#}"));
    let msg = e["message"].as_str().unwrap_or("");
    assert!(msg.contains("egress refused"), "{msg}");
    assert!(msg.contains("smtp://mail.test:"), "{msg}");
    assert!(msg.contains("loopback"), "{msg}");
    assert_eq!(*smtp.connections.lock(), 0, "the relay was contacted");
    assert!(smtp.messages.lock().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn enrich_attack_reads_the_imported_knowledge() {
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(&cfg, "version = 1\n").expect("config");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attack-mini.json"
    );
    let (code, out, err) = cli(data.path(), &cfg, &["attack", "import", "--quiet", fixture]);
    assert_eq!(code, 0, "{out}{err}");
    upload(
        data.path(),
        &cfg,
        "ctx.yml",
        r#"id: attack-ctx
name: ATT&CK context
trigger: {manual: {inputs: [technique]}}
steps:
  - id: ctx
    enrich: { attack: "{{ inputs.technique }}" }
  - id: keep
    set: { tactic: "{{ steps.ctx.attack.tactics[0] }}", mitigations: "{{ steps.ctx.attack.mitigations | length }}" }
  - id: unknown
    enrich: { attack: "T9999" }
"#,
    );
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &[
            "playbooks",
            "run",
            "attack-ctx",
            "--input",
            "technique=attack.t1059.001",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("succeeded"), "{out}{err}");
    let run = last_run(data.path(), &cfg);
    let a = &run["state"]["ctx"]["steps"]["ctx"]["attack"];
    assert_eq!(a["found"], true, "{a:#}");
    assert_eq!(a["id"], "T1059.001");
    assert_eq!(a["name"], "PowerShell");
    assert_eq!(a["tactics"], serde_json::json!(["Execution"]));
    assert_eq!(a["tactic_ids"], serde_json::json!(["TA0002"]));
    assert_eq!(a["parent"]["id"], "T1059");
    assert_eq!(
        a["mitigations"],
        serde_json::json!([
            {"id": "M1038", "name": "Execution Prevention"},
            {"id": "M1042", "name": "Disable or Remove Feature or Program"}
        ])
    );
    let d = a["description"].as_str().expect("description");
    assert!(
        d.starts_with(
            "Adversaries may abuse PowerShell commands and scripts for execution. PowerShell is"
        ),
        "{d}"
    );
    assert!(
        !d.contains("Citation") && d.ends_with('…') && d.chars().count() <= 401,
        "{d}"
    );
    assert_eq!(a["url"], "https://attack.mitre.org/techniques/T1059/001/");
    let vars = &run["state"]["ctx"]["vars"];
    assert_eq!(vars["tactic"], "Execution", "{vars:#}");
    assert_eq!(vars["mitigations"], 2, "{vars:#}");
    let u = &run["state"]["ctx"]["steps"]["unknown"]["attack"];
    assert_eq!(*u, serde_json::json!({"id": "T9999", "found": false}));
}

/// Offline ingest raises alerts with process, hash and domain entities;
/// `vigil alerts related` finds the ones sharing an entity (the CLI
/// catches the index up itself when no server runs). See: #7
#[test]
fn alerts_related_from_the_cli() {
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        "version = 1\n[[detect.rules]]\nid = \"root\"\ntitle = \"Root activity\"\nseverity = \"high\"\nfield = \"user.name\"\nvalue = \"root\"\n",
    )
    .expect("config");
    let events = data.path().join("events.ndjson");
    std::fs::write(
        &events,
        concat!(
            r#"{"@timestamp":"2026-11-26T10:00:00Z","user":{"name":"root"},"host":{"name":"h1"},"process":{"executable":"/usr/bin/curl"},"dns":{"question":{"name":"evil.example.com"}}}"#,
            "\n",
            r#"{"@timestamp":"2026-11-26T10:00:01Z","user":{"name":"root"},"host":{"name":"h2"},"process":{"executable":"/usr/bin/curl"}}"#,
            "\n",
            r#"{"@timestamp":"2026-11-26T10:00:02Z","user":{"name":"root"},"host":{"name":"h3"},"url":{"full":"https://evil.example.com/x"}}"#,
            "\n",
        ),
    )
    .expect("events");
    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &[
            "ingest",
            events.to_str().expect("path"),
            "--format",
            "json",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(data.path(), &cfg, &["alerts", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let alerts: Value = serde_json::from_str(&out).expect("alerts json");
    let id_of = |h: &str| {
        alerts
            .as_array()
            .expect("list")
            .iter()
            .find(|a| a["host"] == h)
            .and_then(|a| a["id"].as_str())
            .unwrap_or_else(|| panic!("no alert on {h}: {alerts:#}"))
            .to_string()
    };
    let h1 = id_of("h1");
    let first = alerts
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["host"] == "h1")
        .expect("h1");
    assert_eq!(first["process"], "/usr/bin/curl");
    assert_eq!(first["domain"], "evil.example.com");

    let (code, out, err) = cli(
        data.path(),
        &cfg,
        &["alerts", "related", &h1, "--format", "json"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let rel: Value = serde_json::from_str(&out).expect("related json");
    let mut got: Vec<(String, Vec<String>)> = rel
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["host"].as_str().unwrap_or("").to_string(),
                r["shared"]
                    .as_array()
                    .expect("shared")
                    .iter()
                    .map(|s| s.as_str().unwrap_or("").to_string())
                    .collect(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "h2".to_string(),
                vec!["user=root".to_string(), "process=/usr/bin/curl".into()]
            ),
            (
                "h3".to_string(),
                vec!["user=root".to_string(), "domain=evil.example.com".into()]
            ),
        ]
    );
    // The table names what is shared.
    let (code, out, _) = cli(data.path(), &cfg, &["alerts", "related", &h1]);
    assert_eq!(code, 0);
    assert!(out.contains("process=/usr/bin/curl"), "{out}");
    let (code, _, err) = cli(
        data.path(),
        &cfg,
        &["alerts", "related", "00000000-0000-4000-8000-000000000000"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("no alert"), "{err}");
}

/// A run started through the API is driven by the server's runner like any
/// other: it opens the incident, waits for the approval given through the
/// API, then finishes. See: #7
#[tokio::test(flavor = "multi_thread")]
async fn api_manual_run_is_driven_by_the_server() {
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("vigil.toml");
    std::fs::write(&cfg, "version = 1\n[respond]\ninterval_secs = 1\n").expect("config");
    let s = common::Server::start(data.path(), Some(&cfg));
    let token = s.token.clone().expect("admin token");
    let http = common::client();
    let r = http
        .post(s.url("/api/v1/playbooks"))
        .bearer_auth(&token)
        .header("content-type", "application/yaml")
        .body(
            "id: triage-host\nname: Triage a host\ntrigger: {manual: {inputs: [host]}}\nsteps:\n  \
             - id: case\n    create_incident: { title: \"Check {{ inputs.host }}\" }\n  \
             - id: ok\n    approval: { timeout: 1h }\n  \
             - id: note\n    add_note: { text: \"isolated {{ inputs.host }}\" }\n",
        )
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let r = http
        .post(s.url("/api/v1/playbooks/triage-host/runs"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "inputs": { "host": "web-7" } }))
        .send()
        .await
        .expect("run");
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let wait = |want: &'static str| {
        let (http, url, token) = (
            http.clone(),
            s.url(&format!("/api/v1/runs/{id}")),
            token.clone(),
        );
        async move {
            for _ in 0..300 {
                let v: Value = http
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("get run")
                    .json()
                    .await
                    .expect("json");
                if v["run"]["status"] == want {
                    return v;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("run never reached {want}");
        }
    };
    wait("waiting_approval").await;
    let r = http
        .post(s.url(&format!("/api/v1/runs/{id}/decision")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "approve": true }))
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), 200);
    let done = wait("succeeded").await;
    let events: Vec<&str> = done["log"]
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert!(
        events.contains(&"approved") || events.iter().any(|e| e.contains("approv")),
        "{done:#}"
    );
    let incidents: Value = http
        .get(s.url("/api/v1/incidents"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("incidents")
        .json()
        .await
        .expect("json");
    assert_eq!(
        incidents["items"][0]["title"], "Check web-7",
        "{incidents:#}"
    );
    s.stop();
}

/// Implicit TLS (`tls = "tls"`) delivers; `starttls` against a relay that
/// does not offer it is refused before anything is sent; credentials are
/// never sent in plain text. See: #7
#[tokio::test(flavor = "multi_thread")]
async fn email_tls_modes() {
    let playbook = format!("{MAIL_PLAYBOOK}    on_error: continue\n");
    let run = |dir: &Path, cfg: &Path| {
        let (code, out, err) = cli(
            dir,
            cfg,
            &[
                "playbooks",
                "run",
                "mailer",
                "--input",
                "host=h",
                "--input",
                "n=2",
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
        last_run(dir, cfg)
    };

    // Implicit TLS.
    let smtp = Arc::new(FakeSmtp {
        implicit_tls: true,
        ..FakeSmtp::default()
    });
    let (port, ca) = start_smtp(smtp.clone()).await;
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = smtp_config(data.path(), port, &ca, "tls = \"tls\"\n");
    upload(data.path(), &cfg, "mailer.yml", &playbook);
    let r = run(data.path(), &cfg);
    assert!(step_event(&r, "tell", "error").is_none(), "{r:#}");
    let msgs = smtp.messages.lock().clone();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].tls && msgs[0].auth.is_none());
    assert!(msgs[0].data.contains("Subject: Incident 2 on h\r\n"));

    // STARTTLS required, not offered.
    let smtp = Arc::new(FakeSmtp {
        no_starttls: true,
        ..FakeSmtp::default()
    });
    let (port, ca) = start_smtp(smtp.clone()).await;
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = smtp_config(data.path(), port, &ca, "tls = \"starttls\"\n");
    upload(data.path(), &cfg, "mailer.yml", &playbook);
    let r = run(data.path(), &cfg);
    let e = step_event(&r, "tell", "error").unwrap_or_else(|| panic!("not refused: {r:#}"));
    assert!(
        e["message"].as_str().unwrap_or("").contains("STARTTLS"),
        "{e}"
    );
    assert!(smtp.messages.lock().is_empty());

    // Credentials over a plain connection: refused before connecting.
    let smtp = Arc::new(FakeSmtp::default());
    let (port, ca) = start_smtp(smtp.clone()).await;
    let data = tempfile::tempdir().expect("tempdir");
    let cfg = smtp_config(
        data.path(),
        port,
        &ca,
        "tls = \"none\"\nusername = \"vigil\"\npassword_secret = \"smtp-pass\"\n",
    );
    set_secret(data.path(), &cfg, "smtp-pass", "p4ss");
    upload(data.path(), &cfg, "mailer.yml", &playbook);
    let r = run(data.path(), &cfg);
    let e = step_event(&r, "tell", "error").unwrap_or_else(|| panic!("not refused: {r:#}"));
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("never sent over a plain connection"),
        "{e}"
    );
    assert_eq!(*smtp.connections.lock(), 0);
}

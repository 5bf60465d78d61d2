//! The response routes through the real router: an incident from an
//! alert with its GDPR clock, NIST phase rules, notes and tasks, alert
//! triage rules, suppressions, playbook upload with positioned errors, and
//! an approval recorded against the run's revision. See: #7
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use serde_json::json;
use vigil_model::{Clock, Role, TenantId};
use vigil_respond::playbook::{self, Templates, run};

async fn req(
    app: &TestApp,
    method: Method,
    uri: &str,
    role: Role,
    ct: &str,
    body: &str,
) -> common::Reply {
    let r = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", app.token(role)))
        .header("content-type", ct)
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(r).await
}

async fn json_req(
    app: &TestApp,
    method: Method,
    uri: &str,
    role: Role,
    body: &str,
) -> common::Reply {
    req(app, method, uri, role, "application/json", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_triage_suppressions_playbooks_and_approvals() {
    let app = TestApp::start().await;
    // One alert from the root-user rule.
    let r = app.ingest(common::ndjson(1, 1)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.wait_detected().await;
    let alerts = app.get("/api/v1/alerts", Role::Viewer).await.json();
    let alert_id = alerts["items"][0]["id"].as_str().unwrap().to_owned();

    // Triage: acknowledge, close, and only reopen (as acknowledged) after.
    let r = json_req(
        &app,
        Method::POST,
        &format!("/api/v1/alerts/{alert_id}/triage"),
        Role::Analyst,
        r#"{"state":"ack"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "acknowledged");
    let r = json_req(
        &app,
        Method::POST,
        &format!("/api/v1/alerts/{alert_id}/triage"),
        Role::Analyst,
        r#"{"state":"closed","reason":"benign"}"#,
    )
    .await;
    assert_eq!(r.json()["reason"], "benign");
    let r = json_req(
        &app,
        Method::POST,
        &format!("/api/v1/alerts/{alert_id}/triage"),
        Role::Analyst,
        r#"{"state":"escalated"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("reopened")
    );

    // An incident from the alert: severity from the alert, flag → GDPR clock.
    let body = json!({"title": "Root activity", "alerts": [alert_id], "flags": ["personal_data"]})
        .to_string();
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Role::Analyst,
        &body,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let inc = r.json();
    assert_eq!(
        (inc["number"].as_i64(), inc["severity"].as_str()),
        (Some(1), Some("high"))
    );
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Role::Analyst,
        r#"{"title":"x","flags":["gdpr"]}"#,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("unknown flag")
    );
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Role::Viewer,
        r#"{"title":"x"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let d = app
        .get("/api/v1/incidents/INC-1", Role::Viewer)
        .await
        .json();
    assert_eq!(d["alerts"], json!([alert_id]));
    assert_eq!(d["clocks"][0]["id"], "gdpr-art33");
    assert_eq!(d["clocks"][0]["remaining_secs"], 72 * 3600);
    assert_eq!(d["clocks"][0]["status"], "running");

    // NIST phases: forward, not two back; clock done; note; task.
    let r = json_req(
        &app,
        Method::PATCH,
        "/api/v1/incidents/1",
        Role::Analyst,
        r#"{"status":"eradication","clocks_done":["gdpr-art33"]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["contained_at"].is_string());
    let r = json_req(
        &app,
        Method::PATCH,
        "/api/v1/incidents/1",
        Role::Analyst,
        r#"{"status":"new"}"#,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("one phase at a time")
    );
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents/1/notes",
        Role::Analyst,
        r#"{"text":"reset the root password"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents/1/tasks",
        Role::Analyst,
        r#"{"title":"Rotate keys"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let task = r.json()["id"].as_str().unwrap().to_owned();
    let r = json_req(
        &app,
        Method::PATCH,
        &format!("/api/v1/tasks/{task}"),
        Role::Analyst,
        r#"{"status":"done","assignee":"bob"}"#,
    )
    .await;
    assert_eq!(r.json()["status"], "done");
    let d = app.get("/api/v1/incidents/1", Role::Viewer).await.json();
    assert_eq!(d["clocks"][0]["status"], "met");
    let kinds: Vec<&str> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created", "alert", "status", "clock", "note", "task", "task"
        ]
    );
    let list = app
        .get("/api/v1/incidents?status=open", Role::Viewer)
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let r = app
        .get("/api/v1/incidents?status=bogus", Role::Viewer)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Observables (idempotent), evidence round trip, MTTx.
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents/1/observables",
        Role::Analyst,
        r#"{"kind":"Domain","value":"evil.example"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        (r.json()["kind"].as_str(), r.json()["added"].as_bool()),
        (Some("domain"), Some(true))
    );
    assert_eq!(r.json()["intel"]["matches"], json!([]));
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/incidents/1/observables",
        Role::Analyst,
        r#"{"kind":"domain","value":"evil.example"}"#,
    )
    .await;
    assert_eq!(r.json()["added"], false);
    let r = req(
        &app,
        Method::POST,
        "/api/v1/incidents/1/evidence?name=auth.log",
        Role::Analyst,
        "text/plain",
        "Failed password",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ev = r.json();
    assert_eq!(
        ev["sha256"],
        "c80b3f476858cbbe106d343b28ed256be340dd2146a0f8b07fb26f03acb8c7a7"
    );
    assert_eq!(ev["media_type"], "text/plain");
    let r = app
        .get(
            &format!("/api/v1/evidence/{}", ev["id"].as_str().unwrap()),
            Role::Viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "Failed password");
    assert_eq!(
        r.headers["x-content-sha256"],
        ev["sha256"].as_str().unwrap()
    );
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("auth.log")
    );
    let r = req(
        &app,
        Method::POST,
        "/api/v1/incidents/1/evidence?name=../x",
        Role::Analyst,
        "text/plain",
        "x",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let d = app.get("/api/v1/incidents/1", Role::Viewer).await.json();
    assert_eq!(
        (
            d["observables"].as_array().unwrap().len(),
            d["evidence"].as_array().unwrap().len()
        ),
        (1, 1)
    );
    let m = app
        .get("/api/v1/incident-metrics?period=all", Role::Viewer)
        .await
        .json();
    let mttc = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "mttc")
        .cloned()
        .unwrap();
    assert_eq!(
        (mttc["count"].as_u64(), mttc["severity"].as_str()),
        (Some(1), Some("high"))
    );
    assert_eq!(
        app.get("/api/v1/incident-metrics?period=decade", Role::Viewer)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Suppressions.
    let r = json_req(&app, Method::POST, "/api/v1/suppressions", Role::Analyst, r#"{"matcher":{"rule":"root-*","host":"web-1"},"reason":"admin host","expires_at":"2030-01-01T00:00:00Z"}"#).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sid = r.json()["id"].as_str().unwrap().to_owned();
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/suppressions",
        Role::Analyst,
        r#"{"matcher":{"colour":"red"},"reason":"x"}"#,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("matcher")
    );
    assert_eq!(
        app.get("/api/v1/suppressions", Role::Viewer).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/suppressions/{sid}"),
            Some(app.token(Role::Analyst)),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // Playbooks: admins upload YAML; errors name the line.
    let pb = "id: ask\nname: Ask first\ntrigger: {manual: {}}\nsteps:\n  - id: ok\n    approval: {roles: [admin], timeout: 1h}\n  - id: note\n    set: {x: 1}\n";
    let r = req(
        &app,
        Method::POST,
        "/api/v1/playbooks",
        Role::Admin,
        "application/yaml",
        pb,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        (r.json()["version"].as_i64(), r.json()["trigger"].as_str()),
        (Some(1), Some("manual"))
    );
    let r = req(
        &app,
        Method::POST,
        "/api/v1/playbooks",
        Role::Analyst,
        "application/yaml",
        pb,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad = pb.replace("set: {x: 1}", "sett: {x: 1}");
    let r = req(
        &app,
        Method::POST,
        "/api/v1/playbooks",
        Role::Admin,
        "application/yaml",
        &bad,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("line 7"),
        "{}",
        r.text()
    );

    // A run waiting for an admin's approval (as the runner leaves it): an
    // analyst may not decide, an admin may; the run is then running for
    // the runner to carry on; a stale second decision is refused.
    let parsed = playbook::parse("ask", pb).unwrap();
    let now = app.clock.now();
    let mut st = run::start(&parsed, "run-1", "manual", json!({}), json!(null), now);
    assert!(matches!(
        run::next(&parsed, &Templates::new(), &mut st, now).unwrap(),
        run::Next::WaitApproval(_)
    ));
    st.drain_log();
    let rec = vigil_store::RunRecord {
        id: "run-1".into(),
        playbook_id: "ask".into(),
        version: 1,
        trigger_kind: "manual".into(),
        trigger_id: "m1".into(),
        status: st.status.as_str().into(),
        state: serde_json::to_value(&st).unwrap(),
        wake_at: None,
        rev: 0,
        created_at: now,
        updated_at: now,
    };
    let system = vigil_model::Principal::system("test");
    assert!(
        app.store
            .create_run(TenantId::DEFAULT, &rec, &[], &system, now)
            .await
            .unwrap()
    );
    let r = app.get("/api/v1/runs/run-1", Role::Viewer).await.json();
    assert_eq!(r["run"]["status"], "waiting_approval");
    assert_eq!(r["run"]["waiting"]["step"], "ok");
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/runs/run-1/decision",
        Role::Analyst,
        r#"{"approve":true}"#,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("may not decide"),
        "{}",
        r.text()
    );
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/runs/run-1/decision",
        Role::Admin,
        r#"{"approve":true,"comment":"go"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "running");
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/runs/run-1/decision",
        Role::Admin,
        r#"{"approve":true}"#,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("not waiting")
    );
    let log = app.get("/api/v1/runs/run-1", Role::Viewer).await.json()["log"].clone();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "approved"),
        "{log}"
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/runs/run-1/cancel",
            Some(app.token(Role::Analyst)),
            Body::empty(),
        )
        .await;
    assert_eq!(r.json()["status"], "cancelled");

    // Everything above is in the audit chain with its principal.
    let v = app.store.verify_audit().await.unwrap();
    assert!(v.is_intact());
    let entries = app
        .store
        .list_audit(TenantId::DEFAULT, 0, 1000)
        .await
        .unwrap();
    for action in [
        "alert.update",
        "incident.create",
        "incident.update",
        "incident.note",
        "suppression.create",
        "suppression.delete",
        "playbook.upload",
        "run.approve",
        "run.cancel",
    ] {
        assert!(
            entries.iter().any(|e| e.action == action),
            "{action} not audited"
        );
    }
    app.stop().await;
}

/// The alert list once it holds `n` alerts (detection runs behind the
/// ingest answer).
async fn wait_alerts(app: &TestApp, n: usize) -> serde_json::Value {
    app.wait_detected().await;
    for _ in 0..500 {
        let alerts = app.get("/api/v1/alerts", Role::Viewer).await.json();
        if alerts["items"].as_array().map_or(0, Vec::len) >= n {
            return alerts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("fewer than {n} alerts");
}

/// Process, file hash and domain entities from the events' ECS fields, and
/// `GET /api/v1/alerts/{id}/related` over the entity index. See: #7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn related_alerts_by_shared_entities() {
    let app = TestApp::start().await;
    let hash = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    let lines = [
        r#"{"@timestamp":"2026-11-26T10:00:00Z","user":{"name":"root"},"host":{"name":"h1"},"process":{"executable":"/usr/bin/curl","command_line":"curl -s http://evil.example.com/x"},"dns":{"question":{"name":"Evil.Example.com."}}}"#.to_string(),
        format!(r#"{{"@timestamp":"2026-11-26T10:00:01Z","user":{{"name":"root"}},"host":{{"name":"h2"}},"file":{{"hash":{{"sha256":"{hash}"}}}},"url":{{"full":"https://evil.example.com/payload"}}}}"#),
        format!(r#"{{"@timestamp":"2026-11-26T10:00:02Z","user":{{"name":"root"}},"host":{{"name":"h3"}},"file":{{"hash":{{"sha256":"{hash}"}}}}}}"#),
        r#"{"@timestamp":"2026-11-26T10:00:03Z","user":{"name":"alice"},"host":{"name":"h1"}}"#.to_string(),
    ];
    let r = app.ingest(lines.join("\n") + "\n").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let alerts = wait_alerts(&app, 3).await;
    let items = alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{alerts:#}");
    let by_host = |h: &str| {
        items
            .iter()
            .find(|a| a["entities"]["host"] == h)
            .unwrap_or_else(|| panic!("no alert on {h}"))
            .clone()
    };
    let (a1, a2, a3) = (by_host("h1"), by_host("h2"), by_host("h3"));
    assert_eq!(a1["entities"]["process"], "/usr/bin/curl");
    assert_eq!(
        a1["entities"]["command_line"],
        "curl -s http://evil.example.com/x"
    );
    assert_eq!(a1["entities"]["domain"], "evil.example.com");
    assert_eq!(a2["entities"]["file_hash"], hash.to_ascii_lowercase());
    assert_eq!(a2["entities"]["domain"], "evil.example.com");
    assert_eq!(a3["entities"]["domain"], serde_json::Value::Null);

    let related = |id: &serde_json::Value| {
        let app = &app;
        let id = id.as_str().unwrap().to_owned();
        async move {
            let r = app
                .get(&format!("/api/v1/alerts/{id}/related"), Role::Viewer)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let mut out: Vec<(String, Vec<String>)> = r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["alert"]["entities"]["host"].as_str().unwrap().to_owned(),
                        x["shared"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| {
                                format!(
                                    "{}={}",
                                    s["kind"].as_str().unwrap(),
                                    s["value"].as_str().unwrap()
                                )
                            })
                            .collect(),
                    )
                })
                .collect();
            out.sort();
            out
        }
    };
    let h = hash.to_ascii_lowercase();
    assert_eq!(
        related(&a1["id"]).await,
        [
            (
                "h2".to_string(),
                vec!["user=root".to_string(), "domain=evil.example.com".into()]
            ),
            ("h3".to_string(), vec!["user=root".to_string()]),
        ]
    );
    assert_eq!(
        related(&a3["id"]).await,
        [
            ("h1".to_string(), vec!["user=root".to_string()]),
            (
                "h2".to_string(),
                vec!["user=root".to_string(), format!("file_hash={h}")]
            ),
        ]
    );
    // The limit, an unknown alert, and a reader role only.
    let r = app
        .get(
            &format!(
                "/api/v1/alerts/{}/related?limit=1",
                a2["id"].as_str().unwrap()
            ),
            Role::Viewer,
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = app
        .get(
            "/api/v1/alerts/00000000-0000-4000-8000-000000000000/related",
            Role::Viewer,
        )
        .await;
    r.problem(404);
    let r = app
        .get(
            &format!("/api/v1/alerts/{}/related", a2["id"].as_str().unwrap()),
            Role::Ingest,
        )
        .await;
    r.problem(403);
}

const MANUAL: &str = r#"id: triage-host
name: Triage a host
trigger: {manual: {inputs: [host]}}
steps:
  - id: case
    create_incident:
      title: "Check {{ inputs.host }}{% if alert %} ({{ alert.rule_id }}){% endif %}"
  - id: ok
    approval: { message: "Isolate {{ inputs.host }}?", timeout: 1h }
  - id: note
    add_note: { text: "isolating {{ inputs.host }}" }
"#;

/// `POST /api/v1/playbooks/{id}/runs`: a dry run shows the rendered steps
/// and stores nothing; a run is stored as the CLI stores it (due for the
/// server's runner), for an alert or not; errors name what is wrong. See: #7
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_runs_and_dry_runs_through_the_api() {
    let app = TestApp::start().await;
    let r = req(
        &app,
        Method::POST,
        "/api/v1/playbooks",
        Role::Admin,
        "application/yaml",
        MANUAL,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // Dry run: every step rendered, approval assumed, nothing stored.
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Analyst,
        r#"{"inputs":{"host":"web-7"},"dry_run":true}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["dry_run"], true);
    assert_eq!(d["status"], "succeeded", "{d:#}");
    let log = d["log"].as_array().unwrap();
    let msg = |step: &str| {
        log.iter()
            .filter(|e| e["step"] == step && e["event"] == "dry_run")
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(msg("case").contains("Check web-7"), "{d:#}");
    assert!(msg("ok").contains("assuming approved"), "{d:#}");
    assert!(msg("note").contains("isolating web-7"), "{d:#}");
    let runs = app.get("/api/v1/runs", Role::Viewer).await.json();
    assert_eq!(runs["items"].as_array().unwrap().len(), 0, "{runs:#}");
    assert_eq!(
        app.store
            .list_incidents(TenantId::DEFAULT, None, None, 10)
            .await
            .unwrap()
            .len(),
        0
    );

    // A real run: stored running with its inputs, due for the runner.
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Analyst,
        r#"{"inputs":{"host":"web-7"}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let run = r.json();
    assert_eq!(run["status"], "running", "{run:#}");
    assert_eq!(run["playbook"], "triage-host");
    assert_eq!(run["trigger_kind"], "manual");
    let id = run["id"].as_str().unwrap().to_owned();
    let stored = app
        .store
        .get_run(TenantId::DEFAULT, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state["ctx"]["inputs"]["host"], "web-7");
    let due = app.store.due_runs(app.clock.now(), 10).await.unwrap();
    assert!(due.iter().any(|(_, r)| r.id == id), "not due: {due:?}");
    // Audited with the caller as principal.
    let audit = app.get("/api/v1/audit", Role::Admin).await.json();
    assert!(
        audit.to_string().contains(&format!("run:{id}")),
        "{audit:#}"
    );

    // For an alert: the trigger object is the alert.
    app.ingest(common::ndjson(1, 1)).await;
    let alerts = wait_alerts(&app, 1).await;
    let alert_id = alerts["items"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"inputs": {"host": "h0"}, "alert": alert_id, "dry_run": true}).to_string();
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Analyst,
        &body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Check h0 (root-user)"), "{}", r.text());
    let body = json!({"inputs": {"host": "h0"}, "alert": alert_id}).to_string();
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Analyst,
        &body,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["trigger_kind"], "alert");
    assert!(
        r.json()["trigger_id"]
            .as_str()
            .unwrap()
            .starts_with(&alert_id)
    );

    // Errors: unknown playbook, unknown alert, unknown field, viewer role.
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/nope/runs",
        Role::Analyst,
        "{}",
    )
    .await;
    r.problem(404);
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Analyst,
        r#"{"alert":"00000000-0000-4000-8000-000000000000"}"#,
    )
    .await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("no alert")
    );
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Analyst,
        r#"{"dryrun":true}"#,
    )
    .await;
    r.problem(400);
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/playbooks/triage-host/runs",
        Role::Viewer,
        "{}",
    )
    .await;
    r.problem(403);
}

//! The console's forms, signed in through the real router and store: rules
//! (enable/disable, paging, load errors, test a rule), settings (users with
//! the last-admin guard, tokens, feeds, listeners, tenants) and incident
//! editing. Each asserts what was stored and what the page shows. See: #9

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::TestApp;
use common::console::{Browser, PASSWORD, sign_in, user};
use serde_json::json;
use vigil_model::{Role, TenantId};

const RULE_ID: &str = "6f1c0b7e-0000-4000-8000-0000000000c1";

/// A Windows process-creation rule; its `CommandLine` maps to ECS
/// `process.command_line`.
fn rule_yaml() -> String {
    format!(
        "title: Console whoami\nid: {RULE_ID}\n\
         logsource: {{product: windows, category: process_creation}}\n\
         detection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\n\
         level: medium\ntags: [attack.discovery]\n"
    )
}

/// A Sysmon process creation in ECS shape running `cmd`.
fn event(cmd: &str) -> String {
    json!({
        "@timestamp": "2026-11-26T10:00:00Z",
        "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1},
        "event": {"code": "1"},
        "process": {"command_line": cmd},
    })
    .to_string()
}

async fn api(
    app: &TestApp,
    method: Method,
    uri: &str,
    role: Role,
    ct: &str,
    body: &str,
) -> common::Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body.to_owned()))
        .expect("request");
    app.send(req).await
}

async fn upload(app: &TestApp, yaml: &str) {
    let r = api(
        app,
        Method::POST,
        "/api/v1/rules",
        Role::Analyst,
        "application/yaml",
        yaml,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_page_state_paging_and_load_errors() {
    let app = TestApp::start().await;
    user(&app, "ana", Role::Analyst).await;
    user(&app, "vera", Role::Viewer).await;
    upload(&app, &rule_yaml()).await;
    let ana = sign_in(&app, "ana").await;

    // Listed with its state, level, tags and source; analysts get the form.
    let page = ana.page(&app, "/rules").await;
    assert!(page.contains("Console whoami"), "{page}");
    assert!(page.contains("attack.discovery"), "{page}");
    assert!(page.contains(">enabled<"), "{page}");
    assert!(page.contains("<td>uploaded<br>"), "the source: {page}");
    assert!(page.contains("Disable</button>"), "{page}");

    // Disabling goes through the store: the stored state and the page.
    let page = ana
        .post_and_follow(
            &app,
            &format!("/rules/{RULE_ID}/state"),
            &[("enabled", "false"), ("back", "/rules?state=disabled")],
        )
        .await;
    let stored = app
        .store
        .get_rule(TenantId::DEFAULT, RULE_ID)
        .await
        .expect("get")
        .expect("rule");
    assert!(!stored.enabled);
    assert!(
        stored.updated_by.starts_with("user:"),
        "{}",
        stored.updated_by
    );
    assert!(
        page.contains("Console whoami") && page.contains(">disabled<"),
        "{page}"
    );
    assert!(
        page.contains("disabled</p>") || page.contains("notice"),
        "{page}"
    );
    let enabled_only = ana.page(&app, "/rules?state=enabled").await;
    assert!(!enabled_only.contains("Console whoami"), "{enabled_only}");
    ana.post_and_follow(
        &app,
        &format!("/rules/{RULE_ID}/state"),
        &[("enabled", "true")],
    )
    .await;
    assert!(
        app.store
            .get_rule(TenantId::DEFAULT, RULE_ID)
            .await
            .expect("get")
            .expect("rule")
            .enabled
    );

    // Filters: text and level.
    assert!(
        ana.page(&app, "/rules?q=WHOAMI")
            .await
            .contains("Console whoami")
    );
    assert!(
        !ana.page(&app, "/rules?level=high")
            .await
            .contains("Console whoami")
    );

    // The rule's page shows its YAML.
    let page = ana.page(&app, &format!("/rules/{RULE_ID}")).await;
    assert!(page.contains("CommandLine|contains: whoami"), "{page}");

    // Viewers read but get no forms.
    let vera = sign_in(&app, "vera").await;
    let page = vera.page(&app, "/rules").await;
    assert!(page.contains("Console whoami") && !page.contains("Disable</button>"));
    let r = vera
        .post(
            &app,
            &format!("/rules/{RULE_ID}/state"),
            &[("enabled", "false")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Paging: 100 rules per page, the next page by the last id.
    let mut many = String::new();
    for i in 0..105 {
        many.push_str(&format!(
            "title: Paged {i:03}\nid: paged-{i:03}\nlogsource: {{product: windows}}\n\
             detection: {{sel: {{EventID: {i}}}, condition: sel}}\nlevel: low\n---\n"
        ));
    }
    upload(&app, many.trim_end_matches("---\n")).await;
    let first = ana.page(&app, "/rules?q=paged").await;
    assert!(first.contains("Paged 000") && first.contains("Paged 099"));
    assert!(!first.contains("Paged 100"));
    let next = first
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("after="))
        .expect("next page link")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    let second = ana.page(&app, &next).await;
    assert!(
        second.contains("Paged 100") && second.contains("Paged 104"),
        "{second}"
    );
    assert!(!second.contains("Paged 099"));

    // Load errors recorded by the detector build are listed.
    app.state.rule_errors().replace(
        vec![vigil_server::RuleLoadError {
            path: "broken.yml".into(),
            line: 7,
            column: 3,
            reason: "unknown modifier frobnicate".into(),
            unsupported: false,
        }],
        vigil_model::Timestamp::from_secs(common::NOW),
    );
    let page = ana.page(&app, "/rules").await;
    assert!(page.contains("broken.yml") && page.contains("unknown modifier frobnicate"));
    assert!(page.contains("7:3"), "{page}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_a_rule_in_the_console_and_the_api() {
    let app = TestApp::start().await;
    user(&app, "ana", Role::Analyst).await;
    upload(&app, &rule_yaml()).await;
    let ana = sign_in(&app, "ana").await;

    // A stored rule against a matching event: match, with the matched
    // field and the event field it was read from (ECS mapping).
    let form = ana.page(&app, &format!("/rules/test?rule={RULE_ID}")).await;
    assert!(form.contains(RULE_ID), "the form names the rule");
    assert!(
        form.contains(&format!(
            "<option value=\"{RULE_ID}\">Console whoami</option>"
        )),
        "stored rules are offered: {form}"
    );
    let r = ana
        .post(
            &app,
            "/rules/test",
            &[
                ("rule_id", RULE_ID),
                ("event", &event("cmd /c whoami /all")),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("id=\"verdict\">match<"), "{page}");
    assert!(
        page.contains("CommandLine") && page.contains("process.command_line"),
        "{page}"
    );
    assert!(
        page.contains("cmd &#x2f;c whoami &#x2f;all") || page.contains("cmd /c whoami /all"),
        "{page}"
    );

    // Another event: no match.
    let r = ana
        .post(
            &app,
            "/rules/test",
            &[("rule_id", RULE_ID), ("event", &event("notepad.exe"))],
        )
        .await;
    assert!(
        r.text().contains("id=\"verdict\">no match<"),
        "{}",
        r.text()
    );

    // Pasted YAML with an error: reported with its line.
    let bad = "title: Broken\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|frobnicate: x\n  condition: sel\n";
    let r = ana
        .post(
            &app,
            "/rules/test",
            &[("rule_yaml", bad), ("event", &event("x"))],
        )
        .await;
    let page = r.text();
    assert!(page.contains("id=\"verdict\">no match<"), "{page}");
    assert!(
        page.contains("class=\"test-error\"") && page.contains(" line 5"),
        "{page}"
    );

    // A bad event is an error too.
    let r = ana
        .post(
            &app,
            "/rules/test",
            &[("rule_id", RULE_ID), ("event", "not json")],
        )
        .await;
    assert!(r.text().contains("event: event: not JSON"), "{}", r.text());

    // The REST API: the same outcome as JSON.
    let body = json!({"rule_yaml": rule_yaml(), "event": serde_json::from_str::<serde_json::Value>(&event("whoami")).expect("json")});
    let r = api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["matched"], true, "{v}");
    assert_eq!(v["matches"][0]["id"], RULE_ID);
    assert_eq!(v["matches"][0]["matched"]["CommandLine"], "whoami");
    assert_eq!(
        v["matches"][0]["fields"]["CommandLine"],
        "process.command_line"
    );
    let body = json!({"rule_id": RULE_ID, "event": {"process": {"command_line": "x"}, "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1}}});
    let v = api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &body.to_string(),
    )
    .await
    .json();
    assert_eq!(v["matched"], false, "{v}");
    let body = json!({"rule_yaml": bad, "event": {}});
    let v = api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &body.to_string(),
    )
    .await
    .json();
    assert_eq!(v["errors"][0]["kind"], "rule", "{v}");
    assert_eq!(v["errors"][0]["line"], 5, "{v}");
    // Exactly one of rule_id and rule_yaml; bounded sizes; unknown ids.
    let both = json!({"rule_id": RULE_ID, "rule_yaml": bad, "event": {}});
    api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &both.to_string(),
    )
    .await
    .problem(400);
    let huge = json!({"rule_yaml": "x".repeat(2 << 20), "event": {}});
    let r = api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &huge.to_string(),
    )
    .await;
    r.problem(413);
    let big_event = json!({"rule_yaml": rule_yaml(), "event": {"message": "x".repeat(300 << 10)}});
    api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &big_event.to_string(),
    )
    .await
    .problem(400);
    let unknown = json!({"rule_id": "no-such-rule", "event": {}});
    api(
        &app,
        Method::POST,
        "/api/v1/rules/test",
        Role::Analyst,
        "application/json",
        &unknown.to_string(),
    )
    .await
    .problem(404);
    app.stop().await;
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let v = app
        .get("/api/v1/audit?limit=1000", Role::Admin)
        .await
        .json();
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["action"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_tokens_feeds_listeners_and_tenants() {
    let config = vigil_server::ServerConfig {
        listeners: vec![vigil_server::ListenerInfo {
            name: "syslog-udp".into(),
            protocol: "udp".into(),
            address: "127.0.0.1:5514".into(),
            tls: false,
        }],
        ..vigil_server::ServerConfig::default()
    };
    let app = TestApp::with_config(config).await;
    let boss = user(&app, "boss", Role::Admin).await;
    let admin = sign_in(&app, "boss").await;

    // Create a user: stored with its role, listed on the page.
    let page = admin
        .post_and_follow(
            &app,
            "/settings/users",
            &[
                ("username", "carol"),
                ("role", "analyst"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(page.contains("id=\"user-carol\""), "{page}");
    let carol = app
        .store
        .find_user("carol")
        .await
        .expect("find")
        .expect("carol");
    assert_eq!(carol.role, Role::Analyst);
    // She can sign in with the initial password.
    let _ = sign_in(&app, "carol").await;

    // Change her role, disable and enable her, reset her password.
    admin
        .post_and_follow(
            &app,
            &format!("/settings/users/{}", carol.id),
            &[("action", "role"), ("role", "viewer")],
        )
        .await;
    let carol = app
        .store
        .find_user("carol")
        .await
        .expect("find")
        .expect("carol");
    assert_eq!(carol.role, Role::Viewer);
    let page = admin
        .post_and_follow(
            &app,
            &format!("/settings/users/{}", carol.id),
            &[("action", "disable")],
        )
        .await;
    assert!(
        app.store
            .find_user("carol")
            .await
            .expect("find")
            .expect("carol")
            .disabled_at
            .is_some()
    );
    let row = page.split("id=\"user-carol\"").nth(1).unwrap_or("");
    assert!(
        row.split("</tr>")
            .next()
            .unwrap_or("")
            .contains(">disabled<"),
        "{page}"
    );
    admin
        .post_and_follow(
            &app,
            &format!("/settings/users/{}", carol.id),
            &[("action", "enable")],
        )
        .await;
    assert!(
        app.store
            .find_user("carol")
            .await
            .expect("find")
            .expect("carol")
            .disabled_at
            .is_none()
    );
    let r = admin
        .post(
            &app,
            &format!("/settings/users/{}", carol.id),
            &[("action", "password"), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    admin
        .post_and_follow(
            &app,
            &format!("/settings/users/{}", carol.id),
            &[
                ("action", "password"),
                ("password", "another long password"),
            ],
        )
        .await;
    let after = app
        .store
        .find_user("carol")
        .await
        .expect("find")
        .expect("carol");
    assert!(vigil_store::verify_password("another long password", &after.password_hash).await);

    // The last enabled admin can be neither demoted nor disabled.
    for form in [
        [("action", "role"), ("role", "analyst")],
        [("action", "disable"), ("role", "")],
    ] {
        let r = admin
            .post(&app, &format!("/settings/users/{}", boss.id), &form)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(r.text().contains("last enabled admin"), "{}", r.text());
    }
    assert_eq!(
        app.store
            .find_user("boss")
            .await
            .expect("find")
            .expect("boss")
            .role,
        Role::Admin
    );
    // With a second admin, the first may step down (through the API).
    let v = api(
        &app,
        Method::POST,
        "/api/v1/users",
        Role::Admin,
        "application/json",
        &json!({"username": "dora", "role": "admin", "password": PASSWORD}).to_string(),
    )
    .await;
    assert_eq!(v.status, StatusCode::CREATED, "{}", v.text());
    let dora = v.json()["id"].as_str().expect("id").to_owned();
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{}", boss.id),
        Role::Admin,
        "application/json",
        r#"{"role":"analyst"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["role"], "analyst");
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{dora}"),
        Role::Admin,
        "application/json",
        r#"{"disabled":true}"#,
    )
    .await;
    r.problem(409);
    let users = app.get("/api/v1/users", Role::Admin).await.json();
    let names: Vec<&str> = users["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["boss", "carol", "dora"]);
    let actions = audit_actions(&app).await;
    for a in [
        "user.create",
        "user.role",
        "user.disable",
        "user.enable",
        "user.password",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} not audited: {actions:?}"
        );
    }
    // boss is an analyst now; sign dora in for the rest.
    let admin = sign_in(&app, "dora").await;

    // Tokens: the secret is shown once, the token works, then is revoked.
    let r = admin
        .post(
            &app,
            "/settings/tokens",
            &[("name", "shipper"), ("role", "ingest")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    let secret = page
        .split("id=\"token-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("secret shown")
        .to_owned();
    assert!(secret.starts_with("vgl_"), "{secret}");
    let who = app
        .call(Method::GET, "/api/v1/whoami", Some(&secret), Body::empty())
        .await;
    assert_eq!(who.status, StatusCode::OK);
    assert_eq!(who.json()["name"], "shipper");
    let id = &secret[4..20];
    let page = admin
        .post_and_follow(&app, &format!("/settings/tokens/{id}/revoke"), &[])
        .await;
    assert!(
        !page.contains("token-secret"),
        "the secret is not shown again"
    );
    app.call(Method::GET, "/api/v1/whoami", Some(&secret), Body::empty())
        .await
        .problem(401);

    // Feeds: added and deleted through the feed code paths.
    let page = admin
        .post_and_follow(
            &app,
            "/settings/feeds",
            &[
                ("name", "local-csv"),
                ("format", "csv"),
                ("location", "/tmp/vigil-feed.csv"),
                ("interval_secs", "600"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert!(page.contains("local-csv"), "{page}");
    let f = app
        .store
        .get_feed(TenantId::DEFAULT, "local-csv")
        .await
        .expect("get")
        .expect("feed");
    assert_eq!(
        (
            f.config.format.as_str(),
            f.config.interval_secs,
            f.config.enabled
        ),
        ("csv", 600, true)
    );
    let r = admin
        .post(
            &app,
            "/settings/feeds",
            &[
                ("name", "x"),
                ("format", "csv"),
                ("location", "/tmp/x"),
                ("interval_secs", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let page = admin
        .post_and_follow(&app, "/settings/feeds/local-csv/delete", &[])
        .await;
    assert!(
        app.store
            .get_feed(TenantId::DEFAULT, "local-csv")
            .await
            .expect("get")
            .is_none()
    );
    assert!(page.contains("No feeds."), "{page}");
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|a| a == "feed.put") && actions.iter().any(|a| a == "feed.delete"));

    // Listeners and tenants.
    assert!(
        page.contains("syslog-udp") && page.contains("127.0.0.1:5514"),
        "{page}"
    );
    assert!(
        page.contains(&TenantId::DEFAULT.to_string()) && page.contains(">current<"),
        "{page}"
    );

    // Analysts cannot reach any of it.
    let ana = {
        user(&app, "ana", Role::Analyst).await;
        sign_in(&app, "ana").await
    };
    let r = ana
        .post(
            &app,
            "/settings/users",
            &[
                ("username", "x"),
                ("role", "admin"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.find_user("x").await.expect("find").is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_editing() {
    let app = TestApp::start().await;
    user(&app, "ana", Role::Analyst).await;
    let ana: Browser = sign_in(&app, "ana").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Role::Analyst,
        "application/json",
        r#"{"title":"Phishing wave"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let number = r.json()["number"].as_i64().expect("number");
    let base = format!("/incidents/{number}");
    let stored = || async {
        app.store
            .get_incident(TenantId::DEFAULT, &number.to_string())
            .await
            .expect("get")
            .expect("incident")
    };

    // Status, severity and assignee.
    let page = ana
        .post_and_follow(
            &app,
            &format!("{base}/update"),
            &[
                ("status", "triage"),
                ("severity", "high"),
                ("assignee", "ana"),
            ],
        )
        .await;
    let inc = stored().await;
    assert_eq!(
        (
            inc.status.as_str(),
            inc.severity.as_str(),
            inc.assignee.as_deref()
        ),
        ("triage", "high", Some("ana"))
    );
    assert!(page.contains("id=\"incident-status\">triage<"), "{page}");
    // An impossible transition is refused with the reason.
    let r = ana
        .post(&app, &format!("{base}/update"), &[("status", "bogus")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A note on the timeline.
    let page = ana
        .post_and_follow(
            &app,
            &format!("{base}/notes"),
            &[("text", "Mail gateway rules updated")],
        )
        .await;
    let tl = app
        .store
        .incident_timeline(TenantId::DEFAULT, &inc.id)
        .await
        .expect("timeline");
    assert!(
        tl.iter()
            .any(|e| e.kind == "note" && e.text == "Mail gateway rules updated")
    );
    assert!(page.contains("Mail gateway rules updated"), "{page}");

    // A task, then done.
    let page = ana
        .post_and_follow(
            &app,
            &format!("{base}/tasks"),
            &[("title", "Reset passwords")],
        )
        .await;
    assert!(page.contains("Reset passwords"), "{page}");
    let tasks = app
        .store
        .incident_tasks(TenantId::DEFAULT, &inc.id)
        .await
        .expect("tasks");
    let task = tasks
        .iter()
        .find(|t| t.title == "Reset passwords")
        .expect("task");
    assert_eq!(task.status, "open");
    let page = ana
        .post_and_follow(
            &app,
            &format!("/tasks/{}/status", task.id),
            &[("status", "done"), ("back", &base)],
        )
        .await;
    let tasks = app
        .store
        .incident_tasks(TenantId::DEFAULT, &inc.id)
        .await
        .expect("tasks");
    assert_eq!(
        tasks
            .iter()
            .find(|t| t.id == task.id)
            .map(|t| t.status.as_str()),
        Some("done")
    );
    assert!(page.contains("class=\"task-status\">done<"), "{page}");

    // An observable.
    let page = ana
        .post_and_follow(
            &app,
            &format!("{base}/observables"),
            &[("kind", "domain"), ("value", "phish.example")],
        )
        .await;
    let obs = app
        .store
        .incident_observables(TenantId::DEFAULT, &inc.id)
        .await
        .expect("observables");
    assert!(
        obs.iter()
            .any(|o| o.kind == "domain" && o.value == "phish.example")
    );
    assert!(page.contains("phish.example"), "{page}");

    // Text evidence, stored with its hash.
    let page = ana
        .post_and_follow(
            &app,
            &format!("{base}/evidence"),
            &[("name", "headers.txt"), ("content", "Received: from evil")],
        )
        .await;
    let ev = app
        .store
        .incident_evidence(TenantId::DEFAULT, &inc.id)
        .await
        .expect("evidence");
    let e = ev
        .iter()
        .find(|e| e.name == "headers.txt")
        .expect("evidence");
    assert_eq!(e.size, 19);
    assert!(e.media_type.starts_with("text/plain"));
    assert!(
        page.contains("headers.txt") && page.contains("19 bytes"),
        "{page}"
    );

    // Viewers see no forms and are refused.
    user(&app, "vera", Role::Viewer).await;
    let vera = sign_in(&app, "vera").await;
    let page = vera.page(&app, &base).await;
    assert!(!page.contains("id=\"add-note\""), "{page}");
    let r = vera
        .post(&app, &format!("{base}/notes"), &[("text", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.stop().await;
}

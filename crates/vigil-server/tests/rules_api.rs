//! `/api/v1/rules`: list, get, patch (enable/disable, overrides) and YAML
//! uploads, on the real router and store. See: #4

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use common::TestApp;
use vigil_model::{Principal, Role, TenantId};
use vigil_store::{NewRule, RuleSource};

const RULE: &str = "title: Uploaded\nid: 0aa6c1a0-1111-4222-8333-444455556666\n\
logsource: {product: windows, category: process_creation}\n\
detection: {sel: {Image|endswith: '\\\\evil.exe'}, condition: sel}\nlevel: medium\n\
tags: [attack.execution, attack.t1204]\n";

async fn send(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_patch_and_upload() {
    let app = TestApp::start().await;
    app.store
        .register_rules(
            TenantId::DEFAULT,
            &[NewRule {
                id: "builtin-1".into(),
                title: "Built in".into(),
                source: RuleSource::Builtin,
                path: "x.yml".into(),
                level: Some("high".into()),
                tags: vec!["attack.t1003.001".into()],
                content: None,
            }],
            &Principal::system("test"),
            vigil_model::Timestamp::from_secs(common::NOW),
        )
        .await
        .expect("register");

    let r = app.get("/api/v1/rules", Role::Viewer).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["items"][0]["id"], "builtin-1");
    assert_eq!(r.json()["items"][0]["enabled"], true);

    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/rules/builtin-1",
        Role::Analyst,
        "application/json",
        r#"{"enabled":false,"level":"low","tags":["custom"]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["enabled"], false);
    assert_eq!(j["level"], "low");
    assert_eq!(j["rule_level"], "high");
    assert_eq!(j["tags"][0], "custom");
    assert!(
        j["updated_by"]
            .as_str()
            .is_some_and(|b| b.starts_with("token:")),
        "{j}"
    );

    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/rules/builtin-1",
        Role::Analyst,
        "application/json",
        r#"{"level":null,"tags":null}"#,
    )
    .await;
    assert_eq!(r.json()["level"], "high", "{}", r.text());
    assert_eq!(r.json()["enabled"], false);
    let r = send(
        &app,
        Method::PATCH,
        "/api/v1/rules/builtin-1",
        Role::Analyst,
        "application/json",
        r#"{"level":"severe"}"#,
    )
    .await;
    r.problem(400);

    // Uploads: validated, stored with source api, then listed.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/rules",
        Role::Analyst,
        "application/yaml",
        RULE,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["items"][0]["source"], "api");
    let r = app
        .get(
            "/api/v1/rules/0aa6c1a0-1111-4222-8333-444455556666",
            Role::Viewer,
        )
        .await;
    assert_eq!(r.json()["title"], "Uploaded", "{}", r.text());
    let bad = RULE.replace("condition: sel", "condition: sel and nothing");
    let r = send(
        &app,
        Method::POST,
        "/api/v1/rules",
        Role::Analyst,
        "application/yaml",
        &bad,
    )
    .await;
    let p = r.problem(400);
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("nothing")),
        "{p}"
    );
    // A built-in id cannot be replaced by an upload.
    let clash = RULE.replace("0aa6c1a0-1111-4222-8333-444455556666", "builtin-1");
    let r = send(
        &app,
        Method::POST,
        "/api/v1/rules",
        Role::Admin,
        "application/yaml",
        &clash,
    )
    .await;
    r.problem(409);
    let r = app.get("/api/v1/rules", Role::Viewer).await;
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(2));
}

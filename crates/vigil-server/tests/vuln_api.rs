//! The vulnerability routes through the real router: assets created and
//! read, findings paged by cursor and filtered, triage audited and refused
//! when malformed. See: #6
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use vigil_model::{Role, TenantId, Timestamp};
use vigil_store::FindingRecord;

fn finding(n: usize, asset_id: &str) -> FindingRecord {
    let t = Timestamp::from_secs(common::NOW - 100);
    FindingRecord {
        id: format!("0190000{n}-0000-7000-8000-000000000000"),
        asset_id: asset_id.into(),
        source: "sbom".into(),
        component: format!("pkg:pypi/p{n}@1.0"),
        package: format!("p{n}"),
        version: "1.0".into(),
        ecosystem: "PyPI".into(),
        vulnerability: format!("CVE-2024-{n}"),
        aliases: vec![format!("CVE-2024-{n}")],
        summary: None,
        severity: "high".into(),
        cvss_vector: None,
        cvss_score: Some(75),
        fixed_versions: vec!["1.1".into()],
        exploit_refs: false,
        status: if n.is_multiple_of(2) { "open" } else { "fixed" }.into(),
        first_seen: t,
        last_seen: t,
        fixed_at: None,
        since: t,
        accepted_until: None,
        reason: None,
        decided_by: None,
        decision: "scheduled".into(),
        risk: 1234,
        explanation: serde_json::json!({ "reason": "test" }),
        sla_due: None,
        updated_at: t,
    }
}

async fn json_req(
    app: &TestApp,
    method: Method,
    uri: &str,
    role: Role,
    body: &str,
) -> common::Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", app.token(role)))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_findings_and_triage() {
    let app = TestApp::start().await;
    let r = json_req(&app, Method::POST, "/api/v1/assets", Role::Analyst,
        r#"{"name":"web1","criticality":4,"exposure":"internet-facing","data_classes":["Payment"]}"#).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let asset = r.json();
    assert_eq!(asset["data_classes"], serde_json::json!(["payment"]));
    let id = asset["id"].as_str().unwrap().to_owned();
    let r = app.get("/api/v1/assets/web1", Role::Viewer).await;
    assert_eq!(r.json()["asset"]["id"], id.as_str());
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/assets",
        Role::Analyst,
        r#"{"name":"x","exposure":"dmz"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("exposure"), "{}", r.text());

    let fs: Vec<FindingRecord> = (0..5).map(|n| finding(n, &id)).collect();
    app.store
        .save_findings(TenantId::DEFAULT, &fs)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut uri = "/api/v1/findings?limit=2".to_owned();
    loop {
        let page = app.get(&uri, Role::Viewer).await.json();
        for f in page["items"].as_array().unwrap() {
            seen.push(f["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/findings?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, fs.iter().map(|f| f.id.clone()).collect::<Vec<_>>());
    let open = app
        .get("/api/v1/findings?status=open", Role::Viewer)
        .await
        .json();
    assert_eq!(open["items"].as_array().unwrap().len(), 3);
    assert_eq!(open["items"][0]["risk"], 12.34);
    assert_eq!(
        app.get("/api/v1/findings?status=closed", Role::Viewer)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let f0 = &fs[0].id;
    let uri = format!("/api/v1/findings/{f0}");
    let r = json_req(
        &app,
        Method::PATCH,
        &uri,
        Role::Analyst,
        r#"{"status":"accepted","reason":"WAF"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = json_req(
        &app,
        Method::PATCH,
        &uri,
        Role::Analyst,
        r#"{"status":"accepted","accepted_until":"2099-01-01T00:00:00Z","reason":"WAF"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "accepted");
    assert_eq!(
        json_req(
            &app,
            Method::PATCH,
            &uri,
            Role::Viewer,
            r#"{"status":"open"}"#
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let got = app.get(&uri, Role::Viewer).await.json();
    assert_eq!(got["reason"], "WAF");
    assert!(got["decided_by"].as_str().unwrap().starts_with("token:"));
    app.stop().await;
}

//! The threat register routes on the hand-written fixture (#8): profile
//! round trip and validation, actors ranked with their factors, one actor
//! with coverage and its scenario, scenarios created and reviewed (the
//! review records the score history), coverage rows and the Navigator
//! layer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use common::{Reply, TestApp};
use vigil_model::{Clock, Role, TenantId};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vigil-threats/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

async fn send_json(app: &TestApp, method: Method, uri: &str, body: &str) -> Reply {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Analyst)),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_routes_on_the_fixture() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    vigil_server::attack::import_attack(
        &app.store,
        TenantId::DEFAULT,
        &fixture("bundle.json"),
        "attack:fixture",
        now,
    )
    .await
    .unwrap();
    let (_, n, _) = vigil_server::threats::import_galaxy(
        &app.store,
        TenantId::DEFAULT,
        &fixture("threat-actor.json"),
        "threat-actor.json",
        now,
    )
    .await
    .unwrap();
    assert_eq!(n, 3);

    // Profile
    app.get("/api/v1/threats/profile", Role::Viewer)
        .await
        .problem(404);
    let r = send_json(
        &app,
        Method::PUT,
        "/api/v1/threats/profile",
        r#"{"sectors":["Finance"],"countries":["Germany"],"regions":["europe"]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let p = app
        .get("/api/v1/threats/profile", Role::Viewer)
        .await
        .json();
    assert_eq!(p["sectors"], serde_json::json!(["Finance"]));
    assert_eq!(p["activity_window_days"], 730);
    send_json(
        &app,
        Method::PUT,
        "/api/v1/threats/profile",
        r#"{"sector":["x"]}"#,
    )
    .await
    .problem(400);

    // Actors: Alpha Bear first (sector 35 + region 30 + recency), Gamma
    // Kitten (35 + 22.5), Beta Panda (17.5).
    let a = app.get("/api/v1/threats/actors", Role::Viewer).await.json();
    let items = a["items"].as_array().unwrap();
    let keys: Vec<&str> = items.iter().map(|x| x["key"].as_str().unwrap()).collect();
    assert_eq!(keys[0], "G0001");
    assert_eq!(keys[2], "G0002");
    let f = &items[0]["relevance"]["factors"];
    assert_eq!(f[0]["name"], "sector");
    assert_eq!(f[0]["points"], 35.0);
    assert_eq!(f[1]["reason"], "targets Germany");
    assert_eq!(items[1]["relevance"]["value"], 57.5);
    assert_eq!(items[2]["relevance"]["value"], 17.5);

    let d = app.get("/api/v1/threats/actors/sandy", Role::Viewer).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let d = d.json();
    assert_eq!(d["actor"]["key"], "G0001");
    assert_eq!(d["cves"][0]["cve"], "CVE-2023-1111");
    assert_eq!(d["techniques"].as_array().unwrap().len(), 3);
    assert!(d["scenario"]["likelihood"]["value"].as_f64().unwrap() > 0.0);
    app.get("/api/v1/threats/actors/nobody", Role::Viewer)
        .await
        .problem(404);

    // Scenarios and reviews
    let r = send_json(
        &app,
        Method::POST,
        "/api/v1/threats/scenarios",
        r#"{"id":"alpha","title":"Alpha Bear intrusion","actor":"G0001","owner":"ciso"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let s = r.json();
    assert_eq!(s["status"], "open");
    assert_eq!(s["score"]["actor"], "G0001");
    let r = send_json(
        &app,
        Method::PATCH,
        "/api/v1/threats/scenarios/alpha",
        r#"{"status":"treated","owner":null,"next_review":"2020-01-01"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = r.json();
    assert_eq!(
        (s["status"].as_str(), s["owner"].as_str()),
        (Some("treated"), None)
    );
    assert_eq!(s["overdue"], true);
    send_json(
        &app,
        Method::PATCH,
        "/api/v1/threats/scenarios/alpha",
        r#"{"status":"closed"}"#,
    )
    .await
    .problem(400);
    let list = app
        .get("/api/v1/threats/scenarios", Role::Viewer)
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // created and reviewed at the same (fixed) instant: one score kept
    let h = app
        .get("/api/v1/threats/scenarios/alpha/history", Role::Viewer)
        .await
        .json();
    assert_eq!(h["items"].as_array().unwrap().len(), 1);

    // Coverage
    let c = app
        .get(
            "/api/v1/threats/coverage?technique=T1566,T1059.001",
            Role::Viewer,
        )
        .await
        .json();
    let rows = c["items"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["state"], "gap");
    let l = app
        .get("/api/v1/threats/coverage/navigator", Role::Viewer)
        .await
        .json();
    assert_eq!(l["versions"]["layer"], "4.5");
    assert_eq!(l["techniques"].as_array().unwrap().len(), 5);

    // The server keeps the ATT&CK knowledge while the stored objects stay
    // the same, and rebuilds it once one is added.
    let cache = vigil_server::threats::AttackCache::default();
    let load = || {
        vigil_server::threats::load(&app.store, TenantId::DEFAULT, Vec::new(), now, Some(&cache))
    };
    let a = load().await.unwrap();
    let b = load().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&a.attack, &b.attack));
    assert!(a.attack.get("T9999").is_none());
    let extra = br#"{"type":"bundle","id":"bundle--6f0d6d34-0b8f-4c3e-9a3e-0d6c7e2b9f01","objects":[
      {"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--3c4d6e2a-8d7b-4a57-9f0e-2b1c0d9e8f71",
       "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Test technique",
       "external_references":[{"source_name":"mitre-attack","external_id":"T9999","url":"https://attack.mitre.org/techniques/T9999"}],
       "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}]}]}"#;
    vigil_server::attack::import_attack(&app.store, TenantId::DEFAULT, extra, "attack:extra", now)
        .await
        .unwrap();
    let c = load().await.unwrap();
    assert!(!std::sync::Arc::ptr_eq(&a.attack, &c.attack));
    assert!(c.attack.get("T9999").is_some());
    let d = vigil_server::threats::load(&app.store, TenantId::DEFAULT, Vec::new(), now, None)
        .await
        .unwrap();
    assert_eq!(
        d.attack.get("T9999").map(|t| t.name.clone()),
        c.attack.get("T9999").map(|t| t.name.clone())
    );
    app.stop().await;
}

//! `/api/v1/intel/feeds`: admins configure, readers see health, sync on
//! demand makes the scheduler job due. See: #5

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Reply, TestApp};
use serde_json::{Value, json};
use vigil_model::Role;

async fn post(app: &TestApp, uri: &str, body: &Value, role: Role) -> Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    app.send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_configured_read_synced_and_removed() {
    let app = TestApp::start().await;
    let feed = json!({"name": "abuse-ch", "format": "csv", "location": "https://feeds.example/ips.txt",
        "interval_secs": 900, "default_confidence": 60, "default_tlp": "TLP:GREEN"});
    // Viewers and analysts may not configure.
    for role in [Role::Viewer, Role::Analyst] {
        post(&app, "/api/v1/intel/feeds", &feed, role)
            .await
            .problem(403);
    }
    let r = post(&app, "/api/v1/intel/feeds", &feed, Role::Admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "new", "{v}");
    assert_eq!(v["interval_secs"], 900);
    assert_eq!(v["default_tlp"], "TLP:GREEN");

    let bad = json!({"name": "x", "format": "xml", "location": "/tmp/x"});
    let p = post(&app, "/api/v1/intel/feeds", &bad, Role::Admin)
        .await
        .problem(400);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("format")),
        "{p}"
    );
    let unknown = json!({"name": "x", "format": "csv", "location": "/tmp/x", "colour": 1});
    post(&app, "/api/v1/intel/feeds", &unknown, Role::Admin)
        .await
        .problem(400);

    let list = app.get("/api/v1/intel/feeds", Role::Viewer).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["items"][0]["name"], "abuse-ch");
    let one = app.get("/api/v1/intel/feeds/abuse-ch", Role::Analyst).await;
    assert_eq!(one.json()["location"], "https://feeds.example/ips.txt");

    // Sync on demand: the job becomes due now.
    app.clock.advance_micros(3_600_000_000);
    let r = post(
        &app,
        "/api/v1/intel/feeds/abuse-ch/sync",
        &json!({}),
        Role::Admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let jobs = app.store.list_jobs().await.expect("jobs");
    let job = jobs
        .iter()
        .find(|j| j.name == "intel.feed:abuse-ch")
        .expect("scheduled");
    assert_eq!(job.next_run, vigil_model::Clock::now(app.clock.as_ref()));
    assert_eq!(job.interval_secs, Some(900));

    let r = app
        .call(
            Method::DELETE,
            "/api/v1/intel/feeds/abuse-ch",
            Some(app.token(Role::Admin)),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/intel/feeds/abuse-ch", Role::Viewer)
        .await
        .problem(404);
    let jobs = app.store.list_jobs().await.expect("jobs");
    assert!(
        jobs.iter()
            .any(|j| j.name == "intel.feed:abuse-ch" && !j.enabled)
    );
    app.stop().await;
}

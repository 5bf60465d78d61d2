//! Handler tests on the real router, a real SQLite store and pipeline, and a
//! fixed clock: ingest with bad lines and gzip, body limits, alert paging,
//! events, tokens, audit, metrics and problem details.

mod common;

use std::io::Write as _;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TestApp, ndjson};
use vigil_model::{Role, TenantId};
use vigil_server::ServerConfig;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("gzip write");
    enc.finish().expect("gzip finish")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_reports_bad_lines_by_number() {
    let app = TestApp::start().await;
    let body = "{\"a\":1}\n{\"broken\": \n{\"a\":2}\nnot json\n\n{\"a\":3}\n";
    let r = app.ingest(body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["accepted"], 3, "{v}");
    assert_eq!(v["rejected"], 2, "{v}");
    let lines: Vec<_> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(lines, [Some(2), Some(4)], "{v}");
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert!(v.get("errors_truncated").is_none(), "{v}");

    // Every line bad: still 200, nothing accepted, the list capped at 100.
    let r = app.ingest("nope\n".repeat(150)).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(0), Some(150)),
        "{v}"
    );
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(100));
    assert_eq!(v["errors_truncated"], true);

    // Rejects are counted in the pipeline's metric.
    let m = app.get("/metrics", Role::Viewer).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.content_type().starts_with("application/openmetrics-text"),
        "{}",
        m.content_type()
    );
    let text = m.text();
    assert!(text.contains("vigil_events_rejected_total 152"), "{text}");
    assert!(text.contains("vigil_events_ingested_total 3"), "{text}");
    assert!(text.contains("vigil_http_requests_total{"), "{text}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_accepts_gzip_declared_or_detected() {
    let app = TestApp::start().await;
    let body = gzip(ndjson(20, 0).as_bytes());

    let declared = Request::post("/api/v1/ingest?source=gz-test")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Ingest)),
        )
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(body.clone()))
        .expect("request");
    let r = app.send(declared).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["accepted"], 20);

    // No Content-Encoding: the gzip magic number is enough.
    let r = app.ingest(body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["accepted"], 20);

    // Declared gzip that is not gzip: the body is not decodable.
    let bad = Request::post("/api/v1/ingest")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Ingest)),
        )
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from("{\"a\":1}\n"))
        .expect("request");
    let p = app.send(bad).await.problem(400);
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("gzip")),
        "{p}"
    );

    let events = app
        .get("/api/v1/events?limit=1", Role::Analyst)
        .await
        .json();
    assert_eq!(events["items"][0]["source"], "http", "{events}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_bodies_get_413() {
    let config = ServerConfig {
        max_body_bytes: 4096,
        max_decompressed_bytes: 64 * 1024,
        ..ServerConfig::default()
    };
    let app = TestApp::with_config(config).await;

    let p = app.ingest(ndjson(100, 0)).await.problem(413);
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("4096")),
        "{p}"
    );

    // Small compressed, too large decompressed: a bounded gunzip refuses it.
    let bomb = gzip(&vec![b' '; 512 * 1024]);
    assert!(bomb.len() < 4096);
    app.ingest(bomb).await.problem(413);

    // Under both limits: fine.
    let r = app.ingest(ndjson(5, 0)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_page_with_a_cursor() {
    let app = TestApp::start().await;
    // 50 events, every second one by root: 25 alerts, all created at the
    // same (fixed) time, so the cursor must break ties by id.
    let r = app.ingest(ndjson(50, 2)).await;
    assert_eq!(r.json()["accepted"], 50);
    app.wait_detected().await;

    let mut seen = Vec::new();
    let mut uri = "/api/v1/alerts?limit=10".to_owned();
    let mut pages = 0;
    loop {
        let r = app.get(&uri, Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        let items = v["items"].as_array().expect("items");
        for a in items {
            assert_eq!(a["rule_id"], "root-user");
            assert_eq!(a["severity"], "high");
            assert_eq!(a["entities"]["user"], "root");
            seen.push(a["id"].as_str().expect("id").to_owned());
        }
        pages += 1;
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/alerts?limit=10&cursor={c}"),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 25, "a page repeated an alert");

    // One alert by id; an unknown id is a 404 problem.
    let one = app
        .get(&format!("/api/v1/alerts/{}", seen[0]), Role::Analyst)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["id"], seen[0].as_str());
    app.get(
        "/api/v1/alerts/0190f1c2-0000-7000-8000-000000000000",
        Role::Analyst,
    )
    .await
    .problem(404);
    app.get("/api/v1/alerts/not-a-uuid", Role::Analyst)
        .await
        .problem(404);

    // Filters.
    let v = app
        .get("/api/v1/alerts?min_severity=critical", Role::Viewer)
        .await
        .json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{v}");
    let v = app
        .get(
            "/api/v1/alerts?detector=match&rule_id=root-user&order=asc&limit=1000",
            Role::Viewer,
        )
        .await
        .json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(25), "{v}");
    assert!(v["next_cursor"].is_null());
    let v = app
        .get("/api/v1/alerts?until=2000-01-01T00:00:00Z", Role::Viewer)
        .await
        .json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{v}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_400_problems_naming_the_parameter() {
    let app = TestApp::start().await;
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=abc", "limit"),
        ("min_severity=severe", "min_severity"),
        ("since=yesterday", "since"),
        ("until=2024-13-01T00:00:00Z", "until"),
        ("cursor=garbage", "cursor"),
        ("order=sideways", "order"),
    ] {
        let r = app
            .get(&format!("/api/v1/alerts?{query}"), Role::Viewer)
            .await;
        let p = r.problem(400);
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains(param)),
            "{query}: {p}"
        );
        assert_eq!(p["instance"], "/api/v1/alerts");
    }
    let p = app
        .get("/api/v1/events?before=x", Role::Viewer)
        .await
        .problem(400);
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("before")),
        "{p}"
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/ingest?format=xml",
            Some(app.token(Role::Admin)),
            Body::from("{}"),
        )
        .await;
    let p = r.problem(400);
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("format")),
        "{p}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::start().await;
    let p = app
        .get("/api/v1/nothing-here", Role::Admin)
        .await
        .problem(404);
    assert_eq!(p["instance"], "/api/v1/nothing-here");
    let r = app
        .call(
            Method::PUT,
            "/api/v1/alerts",
            Some(app.token(Role::Admin)),
            Body::empty(),
        )
        .await;
    r.problem(405);
    assert_eq!(
        r.headers.get(header::ALLOW).map(|v| v.as_bytes()),
        Some(&b"GET"[..])
    );
    // Also without a token: the method is wrong whoever asks.
    let r = app
        .call(Method::DELETE, "/api/v1/tokens", None, Body::empty())
        .await;
    r.problem(405);
    assert_eq!(
        r.headers.get(header::ALLOW).map(|v| v.as_bytes()),
        Some(&b"GET, POST"[..])
    );

    // Malformed JSON body → 400; wrong type → 400 too (never a bare 422).
    for body in [
        r#"{"name":"#,
        r#"{"name":"x","role":"root"}"#,
        r#"{"name":"x","role":"viewer","extra":1}"#,
    ] {
        let req = Request::post("/api/v1/tokens")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token(Role::Admin)),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        app.send(req).await.problem(400);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_page_newest_first() {
    let app = TestApp::start().await;
    assert_eq!(app.ingest(ndjson(5, 0)).await.json()["accepted"], 5);
    let v = app.get("/api/v1/events?limit=2", Role::Viewer).await.json();
    let seqs: Vec<_> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    assert_eq!(seqs.len(), 2);
    assert!(seqs[0] > seqs[1], "{v}");
    assert!(
        v["items"][0]["raw"]
            .as_str()
            .is_some_and(|r| r.contains("\"n\":4")),
        "{v}"
    );
    let before = v["next_before"].as_i64().expect("next_before");
    let v = app
        .get(
            &format!("/api/v1/events?limit=10&before={before}"),
            Role::Viewer,
        )
        .await
        .json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(3), "{v}");
    assert!(v["next_before"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_audit_and_changes() {
    let app = TestApp::start().await;
    let req = Request::post("/api/v1/tokens")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Admin)),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"name":"fluent-bit","role":"ingest","expires_at":"2030-01-01T00:00:00Z"}"#,
        ))
        .expect("request");
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let created = r.json();
    let plaintext = created["token"].as_str().expect("token").to_owned();
    assert!(plaintext.starts_with("vgl_"));
    assert_eq!(created["role"], "ingest");
    assert_eq!(created["expires_at"], "2030-01-01T00:00:00.000000Z");

    let list = app.get("/api/v1/tokens", Role::Admin).await;
    assert_eq!(list.status, StatusCode::OK);
    let text = list.text();
    assert!(
        !text.contains(&plaintext) && !text.contains("argon2") && !text.contains("secret_hash"),
        "{text}"
    );
    assert!(
        list.json()["items"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "fluent-bit"))
    );

    // Past expiry is refused.
    let req = Request::post("/api/v1/tokens")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Admin)),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"name":"old","role":"viewer","expires_at":"2001-01-01T00:00:00Z"}"#,
        ))
        .expect("request");
    let p = app.send(req).await.problem(400);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expires_at")),
        "{p}"
    );

    let id = created["id"].as_str().expect("id");
    let uri = format!("/api/v1/tokens/{id}");
    let admin = app.token(Role::Admin);
    let r = app
        .call(Method::DELETE, &uri, Some(admin), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    app.call(Method::DELETE, &uri, Some(admin), Body::empty())
        .await
        .problem(404);

    let audit = app.get("/api/v1/audit?limit=1000", Role::Admin).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text());
    let audit = audit.json();
    let actions: Vec<_> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.iter().any(|a| a.contains("create")), "{actions:?}");
    assert!(actions.iter().any(|a| a.contains("revoke")), "{actions:?}");
    let verify = app.get("/api/v1/audit/verify", Role::Admin).await.json();
    assert_eq!(verify["ok"], true, "{verify}");
    assert!(
        verify["checked"].as_u64().is_some_and(|n| n >= 2),
        "{verify}"
    );

    let changes = app
        .get("/api/v1/changes?after=0&limit=1000", Role::Analyst)
        .await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.text());
    assert!(changes.json()["items"].is_array());

    assert_eq!(
        app.call(Method::GET, "/readyz", None, Body::empty())
            .await
            .json()["status"],
        "ok"
    );
    assert_eq!(
        app.call(Method::GET, "/healthz", None, Body::empty())
            .await
            .json()["status"],
        "ok"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_see_only_their_own_data() {
    let app = TestApp::start().await;
    let other: TenantId = "00000000-0000-0000-0000-000000000002"
        .parse()
        .expect("tenant id");
    app.store
        .create_tenant(other, "other", vigil_model::Clock::now(app.clock.as_ref()))
        .await
        .expect("create tenant");
    let other_admin = app.create_token("other-admin", Role::Admin, other).await;

    // Tenant DEFAULT gets 5 alerts; the other tenant sends 3 root events.
    assert_eq!(app.ingest(ndjson(10, 2)).await.json()["accepted"], 10);
    let req = Request::post("/api/v1/ingest")
        .header(header::AUTHORIZATION, format!("Bearer {other_admin}"))
        .body(Body::from(ndjson(3, 1)))
        .expect("request");
    assert_eq!(app.send(req).await.json()["accepted"], 3);
    app.wait_detected().await;

    let mine = app.get("/api/v1/alerts", Role::Viewer).await.json();
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(5), "{mine}");
    let theirs = app
        .call(
            Method::GET,
            "/api/v1/alerts",
            Some(&other_admin),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(
        theirs["items"].as_array().map(Vec::len),
        Some(3),
        "{theirs}"
    );
    assert!(
        theirs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a["tenant"] == other.to_string())
    );

    // Another tenant's alert, token and events are invisible.
    let id = mine["items"][0]["id"].as_str().expect("id");
    let r = app
        .call(
            Method::GET,
            &format!("/api/v1/alerts/{id}"),
            Some(&other_admin),
            Body::empty(),
        )
        .await;
    r.problem(404);
    let events = app
        .call(
            Method::GET,
            "/api/v1/events?limit=1000",
            Some(&other_admin),
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(
        events["items"].as_array().map(Vec::len),
        Some(3),
        "{events}"
    );
    let tokens = app
        .call(
            Method::GET,
            "/api/v1/tokens",
            Some(&other_admin),
            Body::empty(),
        )
        .await
        .json();
    let names: Vec<_> = tokens["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["other-admin"]);
    let default_tokens = app.get("/api/v1/tokens", Role::Admin).await.json();
    let viewer_id = default_tokens["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == "viewer")
        .and_then(|t| t["id"].as_str())
        .expect("viewer token id")
        .to_owned();
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{viewer_id}"),
            Some(&other_admin),
            Body::empty(),
        )
        .await;
    r.problem(404);
    assert_eq!(
        app.get("/api/v1/whoami", Role::Viewer).await.status,
        StatusCode::OK,
        "still valid"
    );
    let changes = app
        .call(
            Method::GET,
            "/api/v1/changes?limit=1000",
            Some(&other_admin),
            Body::empty(),
        )
        .await
        .json();
    assert!(
        changes["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|c| c["object_id"] != viewer_id.as_str()),
        "{changes}"
    );
    app.stop().await;
}

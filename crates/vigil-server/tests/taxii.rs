//! The TAXII 2.1 server on the real router and store: discovery, API root,
//! collections, objects with every filter and pagination, POST and status,
//! object by id, versions, manifest, media types and TAXII error messages.
//! (Interoperability with the `taxii2-client` library is tested in
//! `crates/vigil/tests/taxii.rs` against the real binary.)

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use common::{Reply, TestApp};
use serde_json::{Value, json};
use vigil_model::{Clock, Role, TenantId, Timestamp};
use vigil_server::{INBOX_COLLECTION, INTEL_COLLECTION, TAXII_MEDIA};
use vigil_store::StixObjectRecord;

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn indicator(n: u32, modified: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{}", uuid(n)),
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"),
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    })
}

fn record(v: &Value) -> StixObjectRecord {
    StixObjectRecord {
        id: v["id"].as_str().unwrap_or_default().to_owned(),
        kind: v["type"].as_str().unwrap_or_default().to_owned(),
        modified: Timestamp::parse_rfc3339(v["modified"].as_str().unwrap_or_default())
            .unwrap_or(Timestamp::from_micros(0)),
        spec_version: v["spec_version"].as_str().unwrap_or("2.0").to_owned(),
        name: None,
        revoked: false,
        source: "test".into(),
        body: v.clone(),
        relationship: None,
    }
}

async fn taxii_get(app: &TestApp, uri: &str, role: Role) -> Reply {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
        .header(header::ACCEPT, TAXII_MEDIA)
        .body(Body::empty())
        .expect("request");
    app.send(req).await
}

fn ok_json(r: &Reply) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.content_type(), TAXII_MEDIA, "{}", r.text());
    r.json()
}

fn header_text(r: &Reply, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn ids(v: &Value) -> Vec<String> {
    v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Five indicators added at three times; indicator 1 has two versions.
async fn seed(app: &TestApp) -> (Timestamp, Timestamp) {
    let t0 = app.clock.now();
    let first = [
        indicator(1, "2024-01-01T00:00:00.000Z"),
        indicator(2, "2024-01-01T00:00:00.000Z"),
    ];
    let recs: Vec<_> = first.iter().map(record).collect();
    app.store
        .upsert_stix_objects(TenantId::DEFAULT, &recs, t0)
        .await
        .expect("store");
    app.clock.advance_micros(1_000_000);
    let t1 = app.clock.now();
    let second = [
        indicator(1, "2024-06-01T00:00:00.000Z"),
        indicator(3, "2024-01-01T00:00:00.000Z"),
    ];
    let recs: Vec<_> = second.iter().map(record).collect();
    app.store
        .upsert_stix_objects(TenantId::DEFAULT, &recs, t1)
        .await
        .expect("store");
    app.clock.advance_micros(1_000_000);
    let malware = json!({
        "type": "malware", "id": format!("malware--{}", uuid(9)), "spec_version": "2.1",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "Evil", "is_family": true,
    });
    let mut legacy = indicator(4, "2024-01-01T00:00:00.000Z");
    legacy.as_object_mut().map(|o| o.remove("spec_version"));
    let mut recs = vec![record(&malware), record(&legacy)];
    recs[1].spec_version = "2.0".into();
    app.store
        .upsert_stix_objects(TenantId::DEFAULT, &recs, app.clock.now())
        .await
        .expect("store");
    (t0, t1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_root_and_collections() {
    let app = TestApp::start().await;
    let d = ok_json(&taxii_get(&app, "/taxii2/", Role::Feed).await);
    assert_eq!(d["api_roots"], json!(["/taxii2/vigil/"]));
    assert_eq!(d["default"], "/taxii2/vigil/");
    let root = ok_json(&taxii_get(&app, "/taxii2/vigil/", Role::Viewer).await);
    assert_eq!(root["versions"], json!([TAXII_MEDIA]));
    assert!(root["max_content_length"].as_u64().is_some_and(|n| n > 0));

    // can_write follows the caller's role.
    for (role, inbox_writable) in [(Role::Feed, false), (Role::Analyst, true)] {
        let c = ok_json(&taxii_get(&app, "/taxii2/vigil/collections/", role).await);
        let cols = c["collections"].as_array().cloned().unwrap_or_default();
        assert_eq!(cols.len(), 2, "{c}");
        let find = |id: &str| {
            cols.iter()
                .find(|x| x["id"] == id)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(find(INTEL_COLLECTION)["can_write"], false);
        assert_eq!(find(INTEL_COLLECTION)["can_read"], true);
        assert_eq!(
            find(INBOX_COLLECTION)["can_write"],
            inbox_writable,
            "{role}"
        );
    }
    let one = ok_json(
        &taxii_get(
            &app,
            &format!("/taxii2/vigil/collections/{INBOX_COLLECTION}/"),
            Role::Viewer,
        )
        .await,
    );
    assert_eq!(one["id"], INBOX_COLLECTION);
    let r = taxii_get(&app, "/taxii2/vigil/collections/nope/", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.content_type(), TAXII_MEDIA);
    assert_eq!(r.json()["http_status"], "404");

    // Content negotiation: JSON only → 406; no Accept or */* is fine.
    let req = Request::get("/taxii2/")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Viewer)),
        )
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .expect("request");
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{}", r.text());
    assert_eq!(r.json()["http_status"], "406");
    let r = app.get("/taxii2/", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK);

    // The token as the Basic password (what TAXII clients send).
    let creds = base64::engine::general_purpose::STANDARD
        .encode(format!("client:{}", app.token(Role::Feed)));
    let req = Request::get("/taxii2/vigil/collections/")
        .header(header::AUTHORIZATION, format!("Basic {creds}"))
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send(req).await.status, StatusCode::OK);
    // An ingest token may not read.
    let r = taxii_get(&app, "/taxii2/", Role::Ingest).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["http_status"], "403");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_filters_and_pages() {
    let app = TestApp::start().await;
    let (t0, t1) = seed(&app).await;
    let base = format!("/taxii2/vigil/collections/{INTEL_COLLECTION}/objects/");

    // Default: the last version of every object.
    let all = ok_json(&taxii_get(&app, &base, Role::Feed).await);
    assert_eq!(all["more"], false);
    let got = ids(&all);
    assert_eq!(got.len(), 5, "{all}");
    let one = all["objects"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|o| o["id"] == format!("indicator--{}", uuid(1)))
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(one["modified"], "2024-06-01T00:00:00.000Z");

    // Pages of two: follow `next` until `more` is false.
    let mut seen = Vec::new();
    let mut uri = format!("{base}?limit=2");
    let mut pages = 0;
    let mut last_added = String::new();
    loop {
        let r = taxii_get(&app, &uri, Role::Feed).await;
        let v = ok_json(&r);
        pages += 1;
        let first = header_text(&r, "x-taxii-date-added-first");
        assert!(!first.is_empty(), "date-added headers on every page");
        assert!(first >= last_added, "pages are in date-added order");
        last_added = header_text(&r, "x-taxii-date-added-last");
        seen.extend(ids(&v));
        if v["more"] != true {
            assert!(v.get("next").is_none());
            break;
        }
        let next = v["next"].as_str().expect("next with more").to_owned();
        uri = format!("{base}?limit=2&next={next}");
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "every object exactly once: {seen:?}");

    // added_after: strictly after t0 leaves what was added at t1 and later.
    let v = ok_json(
        &taxii_get(
            &app,
            &format!("{base}?added_after={}", t0.to_rfc3339()),
            Role::Feed,
        )
        .await,
    );
    assert_eq!(ids(&v).len(), 4, "{v}");
    let v = ok_json(
        &taxii_get(
            &app,
            &format!("{base}?added_after={}", t1.to_rfc3339()),
            Role::Feed,
        )
        .await,
    );
    assert_eq!(ids(&v).len(), 2, "{v}");

    // match[type], match[id], match[version], match[spec_version].
    let v = ok_json(&taxii_get(&app, &format!("{base}?match[type]=malware"), Role::Feed).await);
    assert_eq!(ids(&v), vec![format!("malware--{}", uuid(9))]);
    let id1 = format!("indicator--{}", uuid(1));
    let id2 = format!("indicator--{}", uuid(2));
    let v = ok_json(
        &taxii_get(
            &app,
            &format!("{base}?match[id]={id1},{id2}&match[version]=all"),
            Role::Feed,
        )
        .await,
    );
    assert_eq!(ids(&v).len(), 3, "two versions of 1, one of 2: {v}");
    let v = ok_json(
        &taxii_get(
            &app,
            &format!("{base}?match[id]={id1}&match[version]=first"),
            Role::Feed,
        )
        .await,
    );
    assert_eq!(v["objects"][0]["modified"], "2024-01-01T00:00:00.000Z");
    let v = ok_json(
        &taxii_get(
            &app,
            &format!("{base}?match[version]=2024-06-01T00:00:00.000Z"),
            Role::Feed,
        )
        .await,
    );
    assert_eq!(ids(&v), vec![id1.clone()]);
    let v = ok_json(&taxii_get(&app, &format!("{base}?match[spec_version]=2.0"), Role::Feed).await);
    assert_eq!(ids(&v), vec![format!("indicator--{}", uuid(4))]);

    // Bad filters are TAXII 400s.
    for bad in [
        "added_after=yesterday",
        "match[version]=latest",
        "match[color]=red",
        "next=zzz",
    ] {
        let r = taxii_get(&app, &format!("{base}?{bad}"), Role::Feed).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        assert_eq!(r.content_type(), TAXII_MEDIA);
    }

    // Object by id, versions, manifest.
    let v = ok_json(&taxii_get(&app, &format!("{base}{id1}/"), Role::Feed).await);
    assert_eq!(v["objects"].as_array().map(Vec::len), Some(1));
    let v = ok_json(&taxii_get(&app, &format!("{base}{id1}/versions/"), Role::Feed).await);
    assert_eq!(
        v["versions"],
        json!(["2024-01-01T00:00:00.000000Z", "2024-06-01T00:00:00.000000Z"])
    );
    let r = taxii_get(&app, &format!("{base}indicator--{}/", uuid(77)), Role::Feed).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = taxii_get(
        &app,
        &format!("/taxii2/vigil/collections/{INTEL_COLLECTION}/manifest/?match[type]=indicator"),
        Role::Feed,
    )
    .await;
    let v = ok_json(&r);
    let m = v["objects"].as_array().cloned().unwrap_or_default();
    assert_eq!(m.len(), 4, "{v}");
    assert!(
        m.iter()
            .all(|e| e["date_added"].is_string() && e["version"].is_string())
    );
    assert!(
        m.iter()
            .any(|e| e["media_type"] == "application/stix+json;version=2.0")
    );
    app.stop().await;
}

async fn post(
    app: &TestApp,
    collection: &str,
    body: &Value,
    content_type: &str,
    role: Role,
) -> Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/taxii2/vigil/collections/{collection}/objects/"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
        .header(header::ACCEPT, TAXII_MEDIA)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request");
    app.send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_objects_and_status() {
    let app = TestApp::start().await;
    let envelope = json!({"objects": [
        indicator(11, "2024-01-01T00:00:00.000Z"),
        indicator(12, "2024-01-01T00:00:00.000Z"),
        {"type": "indicator", "id": "not-an-id"},
    ]});
    // Wrong media type, read-only collection, role without write.
    let r = post(
        &app,
        INBOX_COLLECTION,
        &envelope,
        "application/json",
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
    assert_eq!(r.json()["http_status"], "415");
    let r = post(
        &app,
        INTEL_COLLECTION,
        &envelope,
        TAXII_MEDIA,
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = post(&app, INBOX_COLLECTION, &envelope, TAXII_MEDIA, Role::Feed).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = post(
        &app,
        INBOX_COLLECTION,
        &json!([1]),
        TAXII_MEDIA,
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    let r = post(
        &app,
        INBOX_COLLECTION,
        &envelope,
        TAXII_MEDIA,
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.content_type(), TAXII_MEDIA);
    let s = r.json();
    assert_eq!(s["status"], "complete");
    assert_eq!(s["total_count"], 3);
    assert_eq!(s["success_count"], 2);
    assert_eq!(s["failure_count"], 1);
    assert_eq!(s["failures"][0]["id"], "not-an-id");
    assert_eq!(s["pending_count"], 0);
    let id = s["id"].as_str().expect("status id").to_owned();
    let again = ok_json(&taxii_get(&app, &format!("/taxii2/vigil/status/{id}/"), Role::Feed).await);
    assert_eq!(again, s);

    // In the inbox and in the all-intel collection.
    for c in [INBOX_COLLECTION, INTEL_COLLECTION] {
        let v = ok_json(
            &taxii_get(
                &app,
                &format!("/taxii2/vigil/collections/{c}/objects/"),
                Role::Feed,
            )
            .await,
        );
        assert_eq!(ids(&v).len(), 2, "{c}: {v}");
    }
    // Posting the same objects again adds nothing.
    app.clock.advance_micros(5_000_000);
    let r = post(&app, INBOX_COLLECTION, &envelope, TAXII_MEDIA, Role::Admin).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let v = ok_json(
        &taxii_get(
            &app,
            &format!("/taxii2/vigil/collections/{INBOX_COLLECTION}/manifest/?match[version]=all"),
            Role::Feed,
        )
        .await,
    );
    assert_eq!(v["objects"].as_array().map(Vec::len), Some(2), "{v}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_under_taxii2_is_a_taxii_error_message() {
    let app = TestApp::start().await;
    let obj = format!(
        "/taxii2/vigil/collections/{INTEL_COLLECTION}/objects/indicator--{}/",
        uuid(1)
    );
    // DELETE is not offered: 405 with Allow, as a TAXII error.
    let r = app
        .call(
            Method::DELETE,
            &obj,
            Some(app.token(Role::Admin)),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text());
    assert_eq!(r.content_type(), TAXII_MEDIA);
    assert_eq!(r.json()["http_status"], "405");
    assert_eq!(header_text(&r, "allow"), "GET");
    // Unknown paths and missing credentials.
    let r = taxii_get(&app, "/taxii2/vigil/nothing/", Role::Admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.content_type(), TAXII_MEDIA);
    let r = app.call(Method::GET, "/taxii2/", None, Body::empty()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.content_type(), TAXII_MEDIA);
    assert!(!header_text(&r, "www-authenticate").is_empty());
    // A body over max_content_length: 413.
    let small = TestApp::with_config(vigil_server::ServerConfig {
        max_body_bytes: 64,
        ..vigil_server::ServerConfig::default()
    })
    .await;
    let big = json!({"objects": [indicator(1, "2024-01-01T00:00:00.000Z")]});
    let r = post(&small, INBOX_COLLECTION, &big, TAXII_MEDIA, Role::Admin).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.content_type(), TAXII_MEDIA);
    small.stop().await;
    app.stop().await;
}

//! Splunk HEC endpoints on the real router, store and pipeline: concatenated
//! event objects, string and object events, the raw endpoint, gzip, channels
//! and acknowledgement, every HEC error code, and the request bodies Vector
//! and the OpenTelemetry collector send (`tests/fixtures/hec`).

mod common;

use std::io::Write as _;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, TestApp};
use vigil_ingest::ParseOptions;
use vigil_model::{Event, FieldId, Role, TenantId, Timestamp};
use vigil_server::ServerConfig;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hec");

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip write");
    enc.finish().expect("gzip finish")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture")
}

/// A HEC request: `uri`, `Splunk <token>` of `role` (or none), extra
/// headers, body.
async fn hec(
    app: &TestApp,
    uri: &str,
    auth: Option<String>,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Reply {
    let mut b = Request::post(uri);
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a);
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    app.send(b.body(body.into()).expect("request")).await
}

fn splunk(app: &TestApp) -> Option<String> {
    Some(format!("Splunk {}", app.token(Role::Ingest)))
}

/// Asserts a HEC JSON answer with this status and code; returns the body.
fn check(r: &Reply, status: u16, code: u64) -> serde_json::Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert!(
        r.content_type().starts_with("application/json"),
        "{}: {}",
        r.content_type(),
        r.text()
    );
    let v = r.json();
    assert_eq!(v["code"], code, "{v}");
    assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    v
}

/// Every stored event, re-parsed from its raw bytes, oldest first.
async fn stored(app: &TestApp) -> Vec<Event> {
    let rows = app.store.events_after(0, 10_000).await.expect("events");
    let reg = app.handle.registry();
    rows.iter()
        .map(|r| {
            let opts = ParseOptions::new(TenantId::DEFAULT, r.source.clone(), r.received_at);
            let format = r.format.parse().expect("format");
            let mut e = vigil_ingest::reparse(format, &r.raw, reg, &opts).expect("reparse");
            // The stored host column (the raw endpoint's `host` parameter
            // lives there, not in the fields).
            e.host = r.host.as_deref().map(Into::into);
            e
        })
        .collect()
}

fn field(app: &TestApp, e: &Event, name: &str) -> Option<String> {
    let id = app.handle.registry().get(name)?;
    e.get(id).map(|v| v.to_text().into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concatenated_string_and_object_events() {
    let app = TestApp::start().await;
    let body = concat!(
        r#"{"time":1764229200.5,"host":"web1","source":"/var/log/app.log","sourcetype":"app","index":"main","fields":{"env":"prod"},"event":"hello"}"#,
        r#"{"event":{"user":{"name":"root"},"action":"login"},"host":"db1"}"#,
        "\n\n",
        r#"  {"event":"third"}"#,
    );
    let r = hec(&app, "/services/collector/event", splunk(&app), &[], body).await;
    let v = check(&r, 200, 0);
    assert_eq!(v, serde_json::json!({"text":"Success","code":0}));

    let events = stored(&app).await;
    assert_eq!(events.len(), 3);
    let e = &events[0];
    assert_eq!(e.get_str(FieldId::MESSAGE), Some("hello"));
    assert_eq!(e.host.as_deref(), Some("web1"));
    assert_eq!(e.time, Some(Timestamp::from_micros(1_764_229_200_500_000)));
    assert_eq!(
        field(&app, e, "splunk.source").as_deref(),
        Some("/var/log/app.log")
    );
    assert_eq!(field(&app, e, "splunk.sourcetype").as_deref(), Some("app"));
    assert_eq!(field(&app, e, "splunk.index").as_deref(), Some("main"));
    assert_eq!(field(&app, e, "env").as_deref(), Some("prod"));
    assert_eq!(e.format.as_str(), "hec");
    assert_eq!(e.source.as_ref(), "hec");
    let e = &events[1];
    assert_eq!(e.get_str(FieldId::USER_NAME), Some("root"));
    assert_eq!(e.host.as_deref(), Some("db1"));
    // The raw bytes are the single HEC object.
    let raw: serde_json::Value = serde_json::from_slice(&e.raw).expect("raw is one object");
    assert_eq!(raw["event"]["action"], "login");

    // The root login raised an alert: the fields reached detection.
    app.wait_detected().await;
    let alerts = app.get("/api/v1/alerts", Role::Viewer).await.json();
    assert_eq!(
        alerts["items"].as_array().map(Vec::len),
        Some(1),
        "{alerts}"
    );

    // The aliases and Basic/Bearer work too.
    for uri in ["/services/collector", "/services/collector/event/1.0"] {
        let r = hec(
            &app,
            uri,
            Some(format!("Bearer {}", app.token(Role::Admin))),
            &[],
            r#"{"event":"x"}"#,
        )
        .await;
        check(&r, 200, 0);
    }
    let metrics = app.get("/metrics", Role::Viewer).await.text();
    assert!(
        metrics.contains(r#"vigil_hec_events_total{endpoint="event",outcome="accepted"} 5"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"vigil_hec_requests_total{endpoint="event",code="0"} 3"#),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_endpoint_and_gzip() {
    let app = TestApp::start().await;
    let body = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n{\"user\":{\"name\":\"bob\"}}\n{not json but kept\nplain line\n";
    let r = hec(
        &app,
        "/services/collector/raw?host=fw1&source=firewall&sourcetype=syslog&index=net",
        splunk(&app),
        &[],
        body,
    )
    .await;
    check(&r, 200, 0);
    let events = stored(&app).await;
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0].host.as_deref(),
        Some("mymachine"),
        "the line's own host wins"
    );
    assert_eq!(events[1].host.as_deref(), Some("fw1"));
    assert_eq!(events[1].get_str(FieldId::USER_NAME), Some("bob"));
    assert!(events.iter().all(|e| e.source.as_ref() == "firewall"));
    assert!(
        events
            .iter()
            .any(|e| e.get_str(FieldId::MESSAGE) == Some("{not json but kept"))
    );

    // Gzip, declared and detected, on both endpoints.
    let z = gzip(br#"{"event":"zipped"}{"event":"zipped2"}"#);
    let r = hec(
        &app,
        "/services/collector/event",
        splunk(&app),
        &[("content-encoding", "gzip")],
        z.clone(),
    )
    .await;
    check(&r, 200, 0);
    let r = hec(&app, "/services/collector/event", splunk(&app), &[], z).await;
    check(&r, 200, 0);
    let r = hec(
        &app,
        "/services/collector/raw",
        splunk(&app),
        &[("content-encoding", "gzip")],
        gzip(b"a\nb\n"),
    )
    .await;
    check(&r, 200, 0);
    assert_eq!(stored(&app).await.len(), 4 + 4 + 2);
    // Declared gzip that is not gzip.
    let r = hec(
        &app,
        "/services/collector/event",
        splunk(&app),
        &[("content-encoding", "gzip")],
        r#"{"event":"x"}"#,
    )
    .await;
    check(&r, 400, 6);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_and_acknowledgement() {
    let app = TestApp::start().await;
    let ch = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba";
    for want in 0..3u64 {
        let r = hec(
            &app,
            "/services/collector/event",
            splunk(&app),
            &[("x-splunk-request-channel", ch)],
            r#"{"event":"acked"}"#,
        )
        .await;
        let v = check(&r, 200, 0);
        assert_eq!(v["ackId"], want, "{v}");
    }
    // The query parameter works too, and channels count separately.
    let r = hec(
        &app,
        "/services/collector/raw?channel=other",
        splunk(&app),
        &[],
        "line\n",
    )
    .await;
    assert_eq!(check(&r, 200, 0)["ackId"], 0);

    let r = hec(
        &app,
        "/services/collector/ack",
        splunk(&app),
        &[
            ("x-splunk-request-channel", ch),
            ("content-type", "application/json"),
        ],
        r#"{"acks":[0,2,3]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"acks":{"0":true,"2":true,"3":false}})
    );
    // An unknown channel has acknowledged nothing.
    let r = hec(
        &app,
        "/services/collector/ack?channel=nobody",
        splunk(&app),
        &[],
        r#"{"acks":[0]}"#,
    )
    .await;
    assert_eq!(r.json(), serde_json::json!({"acks":{"0":false}}));
    // Without a channel: code 10; a bad body: code 6; bad channel: code 11.
    let r = hec(
        &app,
        "/services/collector/ack",
        splunk(&app),
        &[],
        r#"{"acks":[0]}"#,
    )
    .await;
    check(&r, 400, 10);
    let r = hec(
        &app,
        "/services/collector/ack?channel=c",
        splunk(&app),
        &[],
        r#"{"acks":"x"}"#,
    )
    .await;
    check(&r, 400, 6);
    let long = "c".repeat(200);
    let r = hec(
        &app,
        &format!("/services/collector/event?channel={long}"),
        splunk(&app),
        &[],
        r#"{"event":"x"}"#,
    )
    .await;
    check(&r, 400, 11);
    // No ackId without a channel.
    let r = hec(
        &app,
        "/services/collector/event",
        splunk(&app),
        &[],
        r#"{"event":"x"}"#,
    )
    .await;
    assert!(check(&r, 200, 0).get("ackId").is_none());
    app.stop().await;

    // Acknowledgement switched off: no ackId, /ack answers code 14.
    let app = TestApp::with_config(ServerConfig {
        hec_ack: false,
        ..ServerConfig::default()
    })
    .await;
    let r = hec(
        &app,
        "/services/collector/event?channel=c",
        splunk(&app),
        &[],
        r#"{"event":"x"}"#,
    )
    .await;
    assert!(check(&r, 200, 0).get("ackId").is_none());
    let r = hec(
        &app,
        "/services/collector/ack?channel=c",
        splunk(&app),
        &[],
        r#"{"acks":[0]}"#,
    )
    .await;
    check(&r, 400, 14);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_code() {
    let app = TestApp::with_config(ServerConfig {
        max_body_bytes: 4096,
        max_decompressed_bytes: 64 * 1024,
        ..ServerConfig::default()
    })
    .await;
    let ev = "/services/collector/event";
    // Credentials: none → 401 code 2; unknown scheme → 401 code 3;
    // malformed or unknown token, wrong role → 403 code 4.
    let r = hec(&app, ev, None, &[], r#"{"event":"x"}"#).await;
    assert_eq!(check(&r, 401, 2)["text"], "Token is required");
    assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));
    let r = hec(&app, ev, Some("Digest abc".into()), &[], r#"{"event":"x"}"#).await;
    check(&r, 401, 3);
    let r = hec(&app, ev, Some("Splunk".into()), &[], r#"{"event":"x"}"#).await;
    check(&r, 403, 4);
    let r = hec(
        &app,
        ev,
        Some("Splunk 00000000-1111-2222-3333-444444444444".into()),
        &[],
        r#"{"event":"x"}"#,
    )
    .await;
    assert_eq!(check(&r, 403, 4)["text"], "Invalid token");
    let r = hec(
        &app,
        ev,
        Some(format!("Splunk {}", app.token(Role::Viewer))),
        &[],
        r#"{"event":"x"}"#,
    )
    .await;
    check(&r, 403, 4);

    // Body errors reject the whole request and name the event (0-based).
    for (body, code, number) in [
        ("", 5, None),
        ("  \n ", 5, None),
        (r#"{"event":"a"}{"event":"b""#, 6, Some(1)),
        (r#"[{"event":"a"}]"#, 6, Some(0)),
        (r#"{"event":"a"}{"time":1}"#, 12, Some(1)),
        (r#"{"event":"a"}{"event":"b"}{"event":""}"#, 13, Some(2)),
        (r#"{"event":"a","time":"yesterday"}"#, 6, Some(0)),
        (r#"{"event":"a","fields":{"x":{"y":1}}}"#, 15, Some(0)),
    ] {
        let r = hec(&app, ev, splunk(&app), &[], body).await;
        let v = check(&r, 400, code);
        match number {
            Some(n) => assert_eq!(v["invalid-event-number"], n, "{body}: {v}"),
            None => assert!(v.get("invalid-event-number").is_none(), "{body}: {v}"),
        }
    }
    assert!(
        stored(&app).await.is_empty(),
        "a rejected request stored events"
    );

    // Too large, as sent or decompressed: 413.
    let big = format!("{{\"event\":\"{}\"}}", "x".repeat(5000));
    check(&hec(&app, ev, splunk(&app), &[], big).await, 413, 27);
    let bomb = gzip(&vec![b' '; 512 * 1024]);
    check(&hec(&app, ev, splunk(&app), &[], bomb).await, 413, 27);
    // Unknown encoding: 415.
    let r = hec(&app, ev, splunk(&app), &[("content-encoding", "br")], "x").await;
    check(&r, 415, 6);

    // Health is public and HEC-shaped.
    let r = app
        .call(
            axum::http::Method::GET,
            "/services/collector/health",
            None,
            Body::empty(),
        )
        .await;
    assert_eq!(check(&r, 200, 17)["text"], "HEC is healthy");

    let metrics = app.get("/metrics", Role::Viewer).await.text();
    assert!(
        metrics.contains(r#"vigil_hec_requests_total{endpoint="event",code="13"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("vigil_hec_events_total{endpoint=\"event\",outcome=\"rejected\"}"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_is_server_busy() {
    let mut app = TestApp::start().await;
    if let Some(p) = app.pipeline.take() {
        p.shutdown().await.expect("shutdown");
    }
    let r = hec(
        &app,
        "/services/collector/event",
        splunk(&app),
        &[],
        r#"{"event":"x"}"#,
    )
    .await;
    assert_eq!(check(&r, 503, 9)["text"], "Server is busy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_and_otel_batches_are_accepted() {
    let app = TestApp::start().await;
    // Vector: JSON-encoded events back to back, with a channel.
    let r = hec(
        &app,
        "/services/collector/event",
        splunk(&app),
        &[
            (
                "x-splunk-request-channel",
                "b6a8f4a0-7a3a-4a8e-9ad6-b1d4c1b4e0f7",
            ),
            ("content-type", "application/json"),
        ],
        fixture("vector.json"),
    )
    .await;
    assert_eq!(check(&r, 200, 0)["ackId"], 0);
    let events = stored(&app).await;
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0].get_str(FieldId::MESSAGE),
        Some("GET /index.html 200")
    );
    assert_eq!(events[0].host.as_deref(), Some("web-01"));
    assert_eq!(
        field(&app, &events[0], "splunk.sourcetype").as_deref(),
        Some("nginx:access")
    );
    assert_eq!(events[1].get_str(FieldId::USER_NAME), Some("root"));
    assert_eq!(field(&app, &events[1], "team").as_deref(), Some("sre"));
    assert_eq!(
        events[2].get_str(FieldId::MESSAGE),
        Some("plain text line from vector")
    );

    // The OpenTelemetry collector: gzip to /services/collector.
    let r = hec(
        &app,
        "/services/collector",
        splunk(&app),
        &[
            ("content-encoding", "gzip"),
            ("content-type", "application/json"),
        ],
        gzip(&fixture("otel.json")),
    )
    .await;
    check(&r, 200, 0);
    let events = stored(&app).await;
    assert_eq!(events.len(), 5);
    let e = &events[3];
    assert_eq!(e.get_str(FieldId::MESSAGE), Some("container started"));
    assert_eq!(e.host.as_deref(), Some("k8s-node-1"));
    assert_eq!(e.time, Some(Timestamp::from_micros(1_764_229_220_250_000)));
    assert_eq!(field(&app, e, "k8s.pod.name").as_deref(), Some("api-7d9c"));
    assert_eq!(
        field(&app, e, "otel.log.severity.number").as_deref(),
        Some("9")
    );
    let e = &events[4];
    assert_eq!(field(&app, e, "user").as_deref(), Some("alice"));
    assert_eq!(e.get_str(FieldId::SOURCE_IP), Some("10.1.2.3"));
    app.stop().await;
}

//! EVTX upload on the real router, store and pipeline with real Windows
//! event logs from `$VIGIL_TESTDATA/evtx` (skipped without it unless
//! `CI=true`): raw body and multipart, record counts equal to what the
//! `evtx` crate reads, ECS fields on Sysmon process creations, size limit,
//! media types, unreadable files reported.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, TestApp};
use vigil_model::Role;
use vigil_server::ServerConfig;
use vigil_testkit::testdata;

const SYSMON: &str = "evtx/EVTX-ATTACK-SAMPLES/Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx";
const SECURITY: &str =
    "evtx/EVTX-ATTACK-SAMPLES/Credential Access/CA_hashdump_4663_4656_lsass_access.evtx";

/// Records the evtx crate reads from `data` (the reference count).
fn evtx_records(data: &[u8]) -> usize {
    let mut p = evtx::EvtxParser::from_buffer(data.to_vec()).expect("evtx");
    p.records_json().filter(Result::is_ok).count()
}

async fn upload(app: &TestApp, content_type: &str, body: Vec<u8>) -> Reply {
    let req = Request::post("/api/v1/ingest/evtx")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Ingest)),
        )
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    app.send(req).await
}

fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "vigil-test-boundary-7d2f";
    let mut body = Vec::new();
    for (name, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysmon_file_as_raw_body() {
    let Some(dir) = testdata() else { return };
    let data = std::fs::read(dir.join(SYSMON)).expect("sysmon sample");
    let want = evtx_records(&data);
    assert!(want > 0);
    let app = TestApp::start().await;
    let r = upload(&app, "application/octet-stream", data).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["files"], 1, "{v}");
    assert_eq!(v["records"], want, "{v}");
    assert_eq!(v["accepted"], want, "{v}");
    assert_eq!(v["rejected"], 0, "{v}");

    // Stored as JSON events whose raw bytes are evtx's record JSON; Sysmon
    // process creations carry process.command_line.
    let rows = app.store.events_after(0, 10_000).await.expect("events");
    assert_eq!(rows.len(), want);
    let reg = app.handle.registry();
    let mut creations = 0;
    for row in &rows {
        assert_eq!(row.format, "json");
        assert!(row.source.starts_with("evtx:"), "{}", row.source);
        let opts = vigil_ingest::ParseOptions::new(row.tenant, row.source.clone(), row.received_at);
        let e = vigil_ingest::parse_json_record(&row.raw, reg, &opts).expect("record json");
        let eid = e
            .get(reg.get("EventID").expect("EventID interned"))
            .and_then(|v| v.as_i64());
        if eid == Some(1) {
            creations += 1;
            assert!(
                e.get_str(vigil_model::FieldId::PROCESS_COMMAND_LINE)
                    .is_some_and(|c| !c.is_empty()),
                "{}",
                row.raw.escape_ascii()
            );
        }
        assert!(row.time.is_some(), "every record has TimeCreated");
        assert!(row.host.is_some(), "every record has Computer");
    }
    assert!(creations > 0, "no Sysmon EID 1 in the sample");
    let metrics = app.get("/metrics", Role::Viewer).await.text();
    assert!(
        metrics.contains(&format!(
            "vigil_evtx_records_total{{outcome=\"accepted\"}} {want}"
        )),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_with_several_files_and_a_bad_one() {
    let Some(dir) = testdata() else { return };
    let a = std::fs::read(dir.join(SYSMON)).expect("sysmon sample");
    let b = std::fs::read(dir.join(SECURITY)).expect("security sample");
    let want = evtx_records(&a) + evtx_records(&b);
    let app = TestApp::start().await;
    let (ct, body) = multipart(&[
        ("sysmon.evtx", &a),
        ("security.evtx", &b),
        ("notes.txt", b"this is not an event log"),
    ]);
    let r = upload(&app, &ct, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["files"], 3, "{v}");
    assert_eq!(v["accepted"], want, "{v}");
    assert_eq!(v["rejected"], 1, "{v}");
    assert_eq!(v["errors"][0]["file"], "notes.txt", "{v}");
    assert!(v["errors"][0].get("record").is_none(), "{v}");
    let rows = app.store.events_after(0, 10_000).await.expect("events");
    assert_eq!(rows.len(), want);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_media_types() {
    let app = TestApp::with_config(ServerConfig {
        max_evtx_bytes: 64 * 1024,
        ..ServerConfig::default()
    })
    .await;
    let p = upload(&app, "application/octet-stream", vec![0u8; 100 * 1024])
        .await
        .problem(413);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("max_evtx_bytes")),
        "{p}"
    );
    let (ct, body) = multipart(&[("big.evtx", &vec![0u8; 100 * 1024])]);
    upload(&app, &ct, body).await.problem(413);
    upload(&app, "image/png", b"x".to_vec()).await.problem(415);
    upload(&app, "application/octet-stream", Vec::new())
        .await
        .problem(400);
    let r = upload(
        &app,
        "application/octet-stream",
        b"ElfFile\0garbage".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(0), Some(1)),
        "{v}"
    );
    // A viewer may not upload.
    let req = Request::post("/api/v1/ingest/evtx")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Viewer)),
        )
        .body(Body::from("x"))
        .expect("request");
    app.send(req).await.problem(403);
    app.stop().await;
}

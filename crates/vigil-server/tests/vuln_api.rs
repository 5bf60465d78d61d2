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

fn cyclonedx(version: &str) -> String {
    serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": "demo", "version": version,
             "purl": format!("pkg:pypi/demo@{version}")},
            {"type": "library", "name": "safe", "version": "1.0",
             "purl": "pkg:pypi/safe@1.0"}
        ]
    })
    .to_string()
}

async fn upload(
    app: &TestApp,
    asset: &str,
    ctype: &str,
    body: String,
    role: Role,
) -> common::Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/assets/{asset}/sbom"))
        .header("authorization", format!("Bearer {}", app.token(role)))
        .header("content-type", ctype)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn demo_finding(app: &TestApp, asset_id: &str) -> serde_json::Value {
    let page = app
        .get(&format!("/api/v1/findings?asset={asset_id}"), Role::Viewer)
        .await;
    let page = page.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    items[0].clone()
}

/// SBOM upload through the API runs the same import as `vigil sbom
/// import`: v1 (vulnerable) opens a finding, v2 (fixed version) fixes it,
/// v1 again reopens it; intel about the CVE (a worm exploiting it) makes
/// exploitation active and the vulnerability automatable. See: #6
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sbom_upload_lifecycle_and_intel_priority() {
    let app = TestApp::start().await;
    let now = Timestamp::from_secs(common::NOW);
    let osv = serde_json::json!({
        "id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"],
        "summary": "demo is vulnerable",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]
    });
    app.store
        .upsert_vuln_records(
            &[vigil_store::VulnRecord {
                id: "PYSEC-2099-1".into(),
                aliases: vec!["CVE-2099-0001".into()],
                modified: None,
                summary: None,
                record: osv.to_string(),
            }],
            now,
        )
        .await
        .unwrap();
    let r = json_req(
        &app,
        Method::POST,
        "/api/v1/assets",
        Role::Analyst,
        r#"{"name":"web2","criticality":4,"exposure":"internet-facing"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let asset_id = r.json()["id"].as_str().unwrap().to_owned();

    // Refusals first: unknown asset, wrong media type, not an SBOM, role.
    let r = upload(
        &app,
        "nope",
        "application/json",
        cyclonedx("1.0"),
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = upload(&app, "web2", "image/png", cyclonedx("1.0"), Role::Analyst).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = upload(
        &app,
        "web2",
        "application/json",
        "{\"a\":1}".into(),
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = upload(
        &app,
        "web2",
        "application/json",
        cyclonedx("1.0"),
        Role::Viewer,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // v1: vulnerable → open. No KEV, EPSS or intel yet: exploitation none,
    // and the local vector is not automatable.
    let r = upload(
        &app,
        "web2",
        "application/vnd.cyclonedx+json",
        cyclonedx("1.0"),
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let out = r.json();
    assert_eq!(out["format"], "cyclonedx-json");
    assert_eq!(out["components"], 2);
    assert_eq!(
        (out["opened"].as_u64(), out["fixed"].as_u64()),
        (Some(1), Some(0))
    );
    let f = demo_finding(&app, &asset_id).await;
    assert_eq!(f["status"], "open");
    assert_eq!(f["vulnerability"], "CVE-2099-0001");
    assert_eq!(f["explanation"]["exploitation"], "None");
    assert_eq!(f["explanation"]["automatable"], "No");
    let before = f["decision"].as_str().unwrap().to_owned();

    // v2: the fixed version → fixed; the stored components follow.
    app.clock.advance_micros(1_000_000);
    let r = upload(
        &app,
        "web2",
        "application/json",
        cyclonedx("2.0"),
        Role::Analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["fixed"], 1);
    assert_eq!(demo_finding(&app, &asset_id).await["status"], "fixed");
    let detail = app.get("/api/v1/assets/web2", Role::Viewer).await.json();
    let purls: Vec<&str> = detail["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert_eq!(purls, ["pkg:pypi/demo@2.0", "pkg:pypi/safe@1.0"]);

    // Intel arrives: a worm exploits the CVE.
    let stix = |id: &str, kind: &str, body: serde_json::Value, rel: Option<(&str, &str, &str)>| {
        vigil_store::StixObjectRecord {
            id: id.into(),
            kind: kind.into(),
            modified: now,
            spec_version: "2.1".into(),
            name: body["name"].as_str().map(str::to_owned),
            revoked: false,
            source: "test".into(),
            body,
            relationship: rel.map(|(a, b, c)| (a.into(), b.into(), c.into())),
        }
    };
    let vuln = "vulnerability--5f2b7e0a-0000-4000-8000-000000000001";
    let worm = "malware--5f2b7e0a-0000-4000-8000-000000000002";
    app.store
        .upsert_stix_objects(
            TenantId::DEFAULT,
            &[
                stix(vuln, "vulnerability", serde_json::json!({"type": "vulnerability", "id": vuln, "name": "CVE-2099-0001"}), None),
                stix(worm, "malware", serde_json::json!({"type": "malware", "id": worm, "name": "DemoWorm", "malware_types": ["worm"]}), None),
                stix("relationship--5f2b7e0a-0000-4000-8000-000000000003", "relationship",
                    serde_json::json!({"type": "relationship", "relationship_type": "exploits"}),
                    Some(("exploits", worm, vuln))),
            ],
            now,
        )
        .await
        .unwrap();

    // v1 again → reopened, now prioritised with the intel.
    app.clock.advance_micros(1_000_000);
    let r = upload(
        &app,
        "web2",
        "application/json",
        cyclonedx("1.0"),
        Role::Analyst,
    )
    .await;
    assert_eq!(r.json()["reopened"], 1, "{}", r.text());
    let f = demo_finding(&app, &asset_id).await;
    assert_eq!(f["status"], "reopened");
    assert_eq!(f["explanation"]["exploitation"], "Active");
    assert_eq!(f["explanation"]["automatable"], "Yes");
    let reason = f["explanation"]["reason"].as_str().unwrap();
    assert!(
        reason.contains(r#"intel: malware "DemoWorm" exploits CVE-2099-0001"#),
        "{reason}"
    );
    assert!(
        reason.contains(r#"automatable yes (intel: worm malware "DemoWorm""#),
        "{reason}"
    );
    assert_ne!(f["decision"].as_str().unwrap(), before);
    assert_eq!(f["decision"], "out-of-cycle");
    app.stop().await;
}

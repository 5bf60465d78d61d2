//! The console's intelligence, vulnerability, threat-register and ATT&CK
//! coverage pages on data seeded through the store and the API: a signed-in
//! person sees the seeded data, the filters and the keyset paging work,
//! imports report what they did, the admin's "sync now" makes the feed's
//! job due, and the Navigator export is the API's layer. See: #9
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{NOW, Reply, TestApp};
use vigil_model::{
    Alert, AlertId, Clock, Entities, Principal, Role, Severity, TenantId, Timestamp,
};
use vigil_store::{
    DetectionCommit, FeedConfig, FindingRecord, NewAsset, NewRule, RuleSource, RuleUpdate,
};

const DAY: i64 = 86_400_000_000;

/// A user per person role and a session of `role`: (cookie, CSRF token).
async fn sign_in(app: &TestApp, role: Role) -> (String, String) {
    let by = Principal::system("test");
    let name = format!("{role}-pages");
    if app.store.find_user(&name).await.unwrap().is_none() {
        app.store
            .create_user(
                TenantId::DEFAULT,
                &name,
                role,
                "console pages password 1234",
                &by,
                app.clock.now(),
            )
            .await
            .unwrap();
    }
    let user = app.store.find_user(&name).await.unwrap().unwrap();
    let (id, s) = app
        .store
        .create_session(&user, "test", 3_600_000_000, app.clock.now())
        .await
        .unwrap();
    (id, s.csrf)
}

async fn page(app: &TestApp, cookie: &str, uri: &str) -> Reply {
    let req = Request::get(uri)
        .header(header::COOKIE, format!("vigil_session={cookie}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

/// A page that must render: its HTML.
async fn html(app: &TestApp, cookie: &str, uri: &str) -> String {
    let r = page(app, cookie, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    assert!(r.content_type().starts_with("text/html"), "{uri}");
    // minijinja escapes `/` in values; browsers read both the same.
    r.text().replace("&#x2f;", "/")
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    uri: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.append_pair("csrf", csrf);
    for (k, v) in fields {
        ser.append_pair(k, v);
    }
    let req = Request::post(uri)
        .header(header::COOKIE, format!("vigil_session={cookie}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(ser.finish()))
        .unwrap();
    app.send(req).await
}

/// The `href` of the element with `id="next-page"`, HTML entities undone.
fn next_page(html: &str) -> Option<String> {
    let i = html.find("id=\"next-page\"")?;
    let start = html[..i].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&#x2f;", "/"),
    )
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

async fn api_post(app: &TestApp, uri: &str, ctype: &str, body: &str) -> Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Analyst)),
        )
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

const STIX: &str = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111",
  "created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z",
  "pattern":"[domain-name:value = 'old.example.org']","pattern_type":"stix",
  "valid_from":"2020-01-01T00:00:00Z","valid_until":"2021-01-01T00:00:00Z","confidence":80},
 {"type":"indicator","spec_version":"2.1","id":"indicator--22222222-2222-4222-8222-222222222222",
  "created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z",
  "pattern":"[ipv4-addr:value = '198.51.100.23']","pattern_type":"stix",
  "valid_from":"2026-01-01T00:00:00Z","confidence":90,"labels":["c2-server"]}
]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intelligence_pages() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    let (analyst, analyst_csrf) = sign_in(&app, Role::Analyst).await;
    let (admin, admin_csrf) = sign_in(&app, Role::Admin).await;
    let (viewer, _) = sign_in(&app, Role::Viewer).await;
    let feed = FeedConfig {
        name: "abuse-test".into(),
        format: "csv".into(),
        location: "https://feeds.example/abuse.csv".into(),
        enabled: true,
        interval_secs: 3600,
        default_confidence: None,
        default_tlp: None,
        auth: "none".into(),
        secret: None,
        options: None,
    };
    app.store
        .put_feed(TenantId::DEFAULT, &feed, now)
        .await
        .unwrap();

    // The analyst pastes a CSV list into the import form: two indicators,
    // one bad line reported with its number.
    let doc = "# abuse list\n203.0.113.5,botnet\nevil.example.com,phish\nnot a value!!,x\n";
    let r = post_form(
        &app,
        &analyst,
        &analyst_csrf,
        "/intel/import",
        &[
            ("feed", "abuse-test"),
            ("format", "auto"),
            ("document", doc),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let t = r.text();
    assert!(t.contains("Imported as csv"), "{t}");
    assert!(t.contains("<span id=\"added\">2</span> added"), "{t}");
    assert!(t.contains("<td>line 4</td>"), "{t}");
    // The same list again adds nothing.
    let t = post_form(
        &app,
        &analyst,
        &analyst_csrf,
        "/intel/import",
        &[
            ("feed", "abuse-test"),
            ("format", "auto"),
            ("document", doc),
        ],
    )
    .await
    .text();
    assert!(t.contains("<span id=\"added\">0</span> added"), "{t}");
    // An unreadable document comes back with the reason and the text kept.
    let r = post_form(
        &app,
        &analyst,
        &analyst_csrf,
        "/intel/import",
        &[("format", "stix"), ("document", "{not json")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("id=\"import-error\""), "{}", r.text());
    assert!(r.text().contains("{not json</textarea>"));
    // Viewers cannot import.
    let r = page(&app, &viewer, "/intel/import").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A STIX bundle through the API (one indicator expired), and a
    // 60-address plain list through the console.
    let r = api_post(
        &app,
        "/api/v1/intel/import?feed=stix-test",
        "application/json",
        STIX,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let bulk: String = (1..=60).map(|i| format!("10.9.0.{i}\n")).collect();
    let t = post_form(
        &app,
        &analyst,
        &analyst_csrf,
        "/intel/import",
        &[("feed", "bulk"), ("format", "plain"), ("document", &bulk)],
    )
    .await
    .text();
    assert!(t.contains("<span id=\"added\">60</span> added"), "{t}");

    // The API takes the same lists (same code path): a CSV body reports
    // the same bad line; other media types are refused.
    let r = api_post(&app, "/api/v1/intel/import?feed=api-csv", "text/csv", doc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["format"], "csv");
    assert_eq!(j["indicators_updated"], 2, "{j}");
    assert_eq!(j["errors"][0]["id"], "line 4", "{j}");
    let r = api_post(
        &app,
        "/api/v1/intel/import?feed=api-list",
        "text/plain",
        "192.0.2.77\n",
    )
    .await;
    assert_eq!(r.json()["indicators_added"], 1);
    api_post(&app, "/api/v1/intel/import", "application/xml", "<x/>")
        .await
        .problem(415);

    // Search: active by default, expired on request.
    let t = html(&app, &viewer, "/intel?feed=abuse-test").await;
    for v in ["203.0.113.5", "evil.example.com"] {
        assert!(t.contains(&format!("<code>{v}</code>")), "{v}: {t}");
    }
    let t = html(&app, &viewer, "/intel?feed=stix-test").await;
    assert!(t.contains("<code>198.51.100.23</code>"), "{t}");
    assert!(!t.contains("old.example.org"));
    let t = html(&app, &viewer, "/intel?state=expired").await;
    assert!(t.contains("<code>old.example.org</code>"), "{t}");
    assert_eq!(count(&t, "class=\"indicator-row"), 1);
    // Prefix against contains.
    let t = html(&app, &viewer, "/intel?q=example&match=prefix").await;
    assert!(t.contains("id=\"no-indicators\""), "{t}");
    let t = html(&app, &viewer, "/intel?q=EXAMPLE&match=contains").await;
    assert!(t.contains("<code>evil.example.com</code>"), "{t}");
    let t = html(&app, &viewer, "/intel?q=203.0.&match=prefix").await;
    assert_eq!(count(&t, "class=\"indicator-row"), 1, "{t}");
    // Type, feed, confidence.
    let t = html(&app, &viewer, "/intel?type=domain").await;
    assert_eq!(count(&t, "class=\"indicator-row"), 1, "{t}");
    assert!(t.contains("evil.example.com"));
    let t = html(&app, &viewer, "/intel?feed=stix-test&state=all").await;
    assert_eq!(count(&t, "class=\"indicator-row"), 2, "{t}");
    assert!(t.contains("198.51.100.23") && t.contains("old.example.org"));
    let t = html(&app, &viewer, "/intel?min_confidence=85").await;
    assert_eq!(count(&t, "class=\"indicator-row"), 1, "{t}");
    assert!(t.contains("198.51.100.23"));
    let r = page(&app, &viewer, "/intel?type=bogus").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.content_type().starts_with("text/html"));
    // Keyset paging: 50 of the feed's 60, then the other 10.
    let first = html(&app, &viewer, "/intel?feed=bulk").await;
    assert_eq!(count(&first, "class=\"indicator-row"), 50);
    let next = next_page(&first).expect("a next page");
    let second = html(&app, &viewer, &next).await;
    assert_eq!(count(&second, "class=\"indicator-row"), 10, "{next}");
    assert!(next_page(&second).is_none());
    let values = |h: &str| -> BTreeSet<String> {
        h.match_indices("<code>10.9.0.")
            .map(|(i, _)| h[i + 6..].split('<').next().unwrap_or("").to_owned())
            .collect()
    };
    let all: BTreeSet<String> = values(&first).union(&values(&second)).cloned().collect();
    assert_eq!(all.len(), 60);

    // A URL indicator: its id travels as one path segment.
    let t = post_form(
        &app,
        &analyst,
        &analyst_csrf,
        "/intel/import",
        &[
            ("feed", "urls"),
            ("format", "plain"),
            ("document", "http://bad.example/dl/x.exe?a=1\n"),
        ],
    )
    .await
    .text();
    assert!(t.contains("<span id=\"added\">1</span> added"), "{t}");
    let t = html(&app, &viewer, "/intel?feed=urls").await;
    let i = t.find("href=\"/intel/indicators/url").expect("url row");
    let href = t[i + 6..].split('"').next().unwrap().replace("&amp;", "&");
    assert!(href.contains("%2F"), "{href}");
    let t = html(&app, &viewer, &href).await;
    assert!(
        t.contains("<code id=\"indicator-value\">http://bad.example/dl/x.exe?a=1</code>"),
        "{t}"
    );

    // One indicator.
    let t = html(&app, &viewer, "/intel/indicators/ipv4%3A198.51.100.23").await;
    assert!(t.contains("<dd id=\"confidence\">90</dd>"), "{t}");
    assert!(t.contains("<dd id=\"feeds\">stix-test</dd>"), "{t}");
    assert!(t.contains("c2-server"), "{t}");
    assert!(t.contains("indicator--22222222-2222-4222-8222-222222222222"));
    let t = html(&app, &viewer, "/intel/indicators/domain%3Aold.example.org").await;
    assert!(
        t.contains("<dd id=\"valid-until\">2021-01-01 00:00:00</dd>"),
        "{t}"
    );
    assert!(
        t.contains("<span class=\"tag tag-bad\">expired</span>"),
        "{t}"
    );

    // Feeds and their health; the other sources with their counts.
    let t = html(&app, &viewer, "/intel/feeds").await;
    assert!(
        t.contains("abuse-test") && t.contains("https://feeds.example/abuse.csv"),
        "{t}"
    );
    assert!(!t.contains("Sync now"), "viewers get no sync form");
    let row = &t[t.find("abuse-test").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<td class=\"num\">2</td>"), "{row}");
    let others = &t[t.find("id=\"other-sources\"").expect("other sources")..];
    assert!(
        others.contains("stix-test</a></td><td class=\"num\">2</td><td class=\"num\">1</td>"),
        "{others}"
    );
    assert!(
        others.contains("bulk</a></td><td class=\"num\">60</td>"),
        "{others}"
    );

    // The admin makes the feed's sync due now.
    let t = html(&app, &admin, "/intel/feeds").await;
    assert!(t.contains("action=\"/intel/feeds/abuse-test/sync\""), "{t}");
    app.clock.advance_micros(120_000_000);
    let r = post_form(
        &app,
        &admin,
        &admin_csrf,
        "/intel/feeds/abuse-test/sync",
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let loc = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/intel/feeds?notice="), "{loc}");
    let job = app
        .store
        .list_jobs()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.name == vigil_store::feed_job_name("abuse-test"))
        .expect("the feed's job");
    assert_eq!(job.next_run, app.clock.now());
    let t = html(&app, &admin, &loc).await;
    assert!(t.contains("abuse-test will sync"), "{t}");
    assert!(
        t.contains("<td>2026-11-27 00:02:00</td>"),
        "next run shown: {t}"
    );
    let r = post_form(&app, &admin, &admin_csrf, "/intel/feeds/nope/sync", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

fn finding(
    id: &str,
    asset: &str,
    cve: &str,
    decision: &str,
    risk: i64,
    kev: bool,
    due_days: i64,
) -> FindingRecord {
    let now = Timestamp::from_secs(NOW);
    FindingRecord {
        id: id.into(),
        asset_id: asset.into(),
        source: "sbom".into(),
        component: format!("pkg:npm/lib-{cve}@1.0.0"),
        package: format!("lib-{cve}"),
        version: "1.0.0".into(),
        ecosystem: "npm".into(),
        vulnerability: cve.into(),
        aliases: vec![format!("GHSA-{cve}")],
        summary: Some(format!("{cve} summary")),
        severity: "high".into(),
        cvss_vector: None,
        cvss_score: Some(81),
        fixed_versions: vec!["1.0.1".into()],
        exploit_refs: false,
        status: "open".into(),
        first_seen: now.add_micros(-30 * DAY),
        last_seen: now,
        fixed_at: None,
        since: now.add_micros(-30 * DAY),
        accepted_until: None,
        reason: None,
        decided_by: None,
        decision: decision.into(),
        risk,
        explanation: serde_json::json!({"in_kev": kev, "epss": 0.5, "reason": format!("{decision}: because of {cve}")}),
        sla_due: Some(now.add_micros(due_days * DAY)),
        updated_at: now,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerability_pages() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    let (viewer, _) = sign_in(&app, Role::Viewer).await;
    let asset = |name: &str, exposure: &str, crit: u8| NewAsset {
        name: name.into(),
        kind: "host".into(),
        ips: vec!["192.0.2.10".into()],
        os: Some("Debian 12".into()),
        owner: Some("web team".into()),
        criticality: crit,
        exposure: exposure.into(),
        data_classes: vec!["personal".into()],
        tags: vec![],
    };
    let (web, _) = app
        .store
        .upsert_asset(
            TenantId::DEFAULT,
            &asset("web-1", "internet-facing", 5),
            now,
        )
        .await
        .unwrap();
    let (db, _) = app
        .store
        .upsert_asset(TenantId::DEFAULT, &asset("db-1", "internal", 3), now)
        .await
        .unwrap();
    let mut fs = vec![
        finding(
            "0190f1c2-0000-7000-8000-000000000001",
            &web.id,
            "CVE-2024-0001",
            "immediate",
            9500,
            true,
            -2,
        ),
        finding(
            "0190f1c2-0000-7000-8000-000000000002",
            &web.id,
            "CVE-2024-0002",
            "scheduled",
            3000,
            false,
            20,
        ),
        finding(
            "0190f1c2-0000-7000-8000-000000000003",
            &db.id,
            "CVE-2024-0003",
            "out-of-cycle",
            6000,
            false,
            -1,
        ),
        finding(
            "0190f1c2-0000-7000-8000-000000000004",
            &db.id,
            "CVE-2024-0004",
            "immediate",
            9900,
            true,
            -5,
        ),
    ];
    fs[2].status = "reopened".into();
    fs[3].status = "fixed".into();
    for i in 0..52 {
        fs.push(finding(
            &format!("0190f1c2-0000-7000-8000-1000000000{i:02}"),
            &db.id,
            &format!("CVE-2023-{:04}", 100 + i),
            "defer",
            100 + (i % 7) * 10,
            false,
            60,
        ));
    }
    app.store
        .save_findings(TenantId::DEFAULT, &fs)
        .await
        .unwrap();

    // The summary and the ranking.
    let t = html(&app, &viewer, "/vulns").await;
    for (d, n) in [
        ("immediate", 1),
        ("out-of-cycle", 1),
        ("scheduled", 1),
        ("defer", 52),
    ] {
        assert!(t.contains(&format!("id=\"count-{d}\">{n}</p>")), "{d}: {t}");
    }
    assert!(t.contains("id=\"overdue-count\">2 overdue</a>"), "{t}");
    assert!(!t.contains("CVE-2024-0004"), "fixed findings are not open");
    let (a, b, c) = (
        t.find("CVE-2024-0001").unwrap(),
        t.find("CVE-2024-0003").unwrap(),
        t.find("CVE-2024-0002").unwrap(),
    );
    assert!(a < b && b < c, "riskiest first");
    let first_row = &t[t.find("class=\"finding-row").unwrap()..];
    let first_row = &first_row[..first_row.find("</tr>").unwrap()];
    assert!(
        first_row.contains("KEV") && first_row.contains("overdue"),
        "{first_row}"
    );
    assert!(first_row.contains("href=\"/assets/"), "{first_row}");
    assert!(first_row.contains(">web-1</a>"), "{first_row}");

    // The dashboard's top vulnerability risks: the same ranking, five rows,
    // the riskiest first with its KEV mark and overdue SLA.
    let d = html(&app, &viewer, "/").await;
    let top = &d[d.find("id=\"top-risks-vulns\"").expect("top risks panel")..];
    let top = &top[..top.find("</div>").unwrap()];
    assert_eq!(count(top, "<tr><td>"), 5, "{top}");
    let (a, b, c) = (
        top.find("CVE-2024-0001").unwrap(),
        top.find("CVE-2024-0003").unwrap(),
        top.find("CVE-2024-0002").unwrap(),
    );
    assert!(a < b && b < c, "riskiest first: {top}");
    assert!(
        top.contains("KEV") && top.contains("class=\"overdue\""),
        "{top}"
    );

    // Filters.
    let rows = |h: &str| count(h, "class=\"finding-row");
    let t = html(&app, &viewer, "/vulns?kev=1").await;
    assert_eq!(rows(&t), 1);
    assert!(t.contains("CVE-2024-0001"));
    let t = html(&app, &viewer, "/vulns?overdue=1").await;
    assert_eq!(rows(&t), 2, "{t}");
    assert!(t.contains("CVE-2024-0001") && t.contains("CVE-2024-0003"));
    let t = html(&app, &viewer, "/vulns?decision=scheduled").await;
    assert_eq!(rows(&t), 1);
    assert!(t.contains("CVE-2024-0002"));
    let t = html(&app, &viewer, "/vulns?asset=web-1").await;
    assert_eq!(rows(&t), 2);
    assert!(!t.contains("CVE-2024-0003"));
    let r = page(&app, &viewer, "/vulns?decision=Track").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Keyset paging over (risk, id): 50, then 2, none twice.
    let first = html(&app, &viewer, "/vulns?decision=defer").await;
    assert_eq!(rows(&first), 50);
    let next = next_page(&first).expect("a next page");
    let second = html(&app, &viewer, &next).await;
    assert_eq!(rows(&second), 2, "{next}");
    let cves = |h: &str| -> BTreeSet<String> {
        h.match_indices("<strong>CVE-2023-")
            .map(|(i, _)| h[i + 8..i + 21].to_owned())
            .collect()
    };
    assert_eq!(cves(&first).union(&cves(&second)).count(), 52);

    // One asset, by name: its facts and its findings by decision.
    let t = html(&app, &viewer, "/assets/web-1").await;
    assert!(
        t.contains("<dd id=\"exposure\">internet-facing</dd>"),
        "{t}"
    );
    assert!(t.contains("<dd id=\"criticality\">5 / 5</dd>"));
    assert!(t.contains("id=\"asset-overdue\">1 overdue"), "{t}");
    let imm = &t[t
        .find("id=\"decision-immediate\"")
        .expect("immediate group")..];
    let imm = &imm[..imm.find("</section>").unwrap()];
    assert!(
        imm.contains("CVE-2024-0001") && imm.contains("overdue"),
        "{imm}"
    );
    let sch = &t[t
        .find("id=\"decision-scheduled\"")
        .expect("scheduled group")..];
    assert!(sch[..sch.find("</section>").unwrap()].contains("CVE-2024-0002"));
    assert!(!t.contains("decision-defer"), "no defer findings on web-1");
    let t = html(&app, &viewer, &format!("/assets/{}", db.id)).await;
    assert!(t.contains("<span id=\"asset-name\">db-1</span>"));
    assert_eq!(
        page(&app, &viewer, "/assets/nope").await.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vigil-threats/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn alert(n: usize, rule: &str, tag: &str, created: Timestamp) -> Alert {
    Alert {
        id: AlertId::derive("sigma", rule, &n.to_string()),
        tenant: TenantId::DEFAULT,
        detector: "sigma".into(),
        rule_id: rule.into(),
        title: format!("{rule} {n}"),
        severity: Severity::High,
        created_at: created,
        event_time: created,
        event_id: None,
        entities: Entities::default(),
        tags: vec![tag.into()],
        details: serde_json::json!({}),
        event: serde_json::json!({}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threat_register_and_coverage_pages() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    let (viewer, _) = sign_in(&app, Role::Viewer).await;

    // Without ATT&CK, the matrix says so and how to import it.
    let t = html(&app, &viewer, "/coverage").await;
    assert!(t.contains("id=\"no-attack\""), "{t}");
    assert!(t.contains("vigil attack import"));

    vigil_server::attack::import_attack(
        &app.store,
        TenantId::DEFAULT,
        &fixture("bundle.json"),
        "attack:fixture",
        now,
    )
    .await
    .unwrap();
    vigil_server::threats::import_galaxy(
        &app.store,
        TenantId::DEFAULT,
        &fixture("threat-actor.json"),
        "threat-actor.json",
        now,
    )
    .await
    .unwrap();
    let by = Principal::system("test");
    let rule = |id: &str, tag: &str| NewRule {
        id: id.into(),
        title: format!("rule {id}"),
        source: RuleSource::Api,
        path: format!("{id}.yml"),
        level: Some("high".into()),
        tags: vec![tag.into()],
        content: Some(format!("title: rule {id}\nid: {id}\nstatus: stable\n")),
    };
    app.store
        .register_rules(
            TenantId::DEFAULT,
            &[
                rule("r-phish", "attack.t1566.001"),
                rule("r-ps", "attack.t1059.001"),
            ],
            &by,
            now,
        )
        .await
        .unwrap();
    // r-ps is disabled: its technique stays a gap.
    app.store
        .update_rule(
            TenantId::DEFAULT,
            "r-ps",
            &RuleUpdate {
                enabled: Some(false),
                ..RuleUpdate::default()
            },
            &by,
            now,
        )
        .await
        .unwrap()
        .unwrap();
    // Alerts: 12 for spearphishing in the last 30 days, 5 long ago.
    let recent: Vec<Alert> = (0..12)
        .map(|i| alert(i, "r-phish", "attack.t1566.001", now.add_micros(-DAY)))
        .chain((12..17).map(|i| alert(i, "r-phish", "attack.t1566.001", now.add_micros(-90 * DAY))))
        .collect();
    app.store
        .commit_detections(&DetectionCommit {
            consumer: "test",
            upto_seq: 0,
            alerts: &recent,
            effects: &[],
            states: &[],
            at: now,
        })
        .await
        .unwrap();
    // Profile and scenarios through the API.
    let send = |method: Method, uri: &'static str, body: &'static str| {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token(Role::Analyst)),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        app.send(req)
    };
    let r = send(
        Method::PUT,
        "/api/v1/threats/profile",
        r#"{"name":"Example Bank","sectors":["Finance"],"countries":["Germany"],"regions":["europe"]}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = send(
        Method::POST,
        "/api/v1/threats/scenarios",
        r#"{"id":"alpha","title":"Alpha Bear intrusion","actor":"G0001","owner":"ciso","next_review":"2026-01-01"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = send(
        Method::POST,
        "/api/v1/threats/scenarios",
        r#"{"id":"phish","title":"Phishing of staff","techniques":["T1566"],"owner":"it-sec","next_review":"2027-06-01"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let api = app
        .get("/api/v1/threats/scenarios", Role::Viewer)
        .await
        .json();
    let risk_of = |id: &str| {
        api["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["score"]["risk"].as_u64().unwrap())
            .unwrap()
    };

    // The register.
    let t = html(&app, &viewer, "/threats").await;
    assert!(t.contains("Example Bank"), "{t}");
    assert!(t.contains("id=\"reviews-due\">1 review(s) due"), "{t}");
    // A scenario's row (its factor tables hold rows of their own).
    let scenario_row = |id: &str| {
        let r = &t[t
            .find(&format!("id=\"scenario-{id}\""))
            .expect("scenario row")..];
        let end = r.find("</details>").unwrap();
        r[..end + r[end..].find("</tr>").unwrap()].to_owned()
    };
    let alpha = scenario_row("alpha");
    assert!(
        alpha.contains("review due") && alpha.contains("ciso"),
        "{alpha}"
    );
    assert!(alpha.contains("href=\"/threats/actors/G0001\""), "{alpha}");
    assert!(
        alpha.contains(&format!(">{} ", risk_of("alpha"))),
        "{alpha}"
    );
    assert!(
        alpha.contains("<td>sector</td>") || alpha.contains("<td>threat</td>"),
        "factors: {alpha}"
    );
    assert!(!scenario_row("phish").contains("review due"));
    // Showing the register recorded the scores: the dashboard lists both
    // open scenarios as top threat risks, riskiest first.
    let d = html(&app, &viewer, "/").await;
    let top = &d[d.find("id=\"top-risks-threats\"").expect("top risks panel")..];
    let top = &top[..top.find("</div>").unwrap()];
    assert!(
        top.contains("Alpha Bear intrusion") && top.contains("Phishing of staff"),
        "{top}"
    );
    assert!(
        top.contains(&format!("<td>{}/25</td>", risk_of("alpha"))),
        "{top}"
    );
    if risk_of("alpha") > risk_of("phish") {
        assert!(top.find("Alpha Bear") < top.find("Phishing"), "{top}");
    }
    // Ranked by risk.
    if risk_of("alpha") > risk_of("phish") {
        assert!(t.find("scenario-alpha") < t.find("scenario-phish"));
    }
    // Actors, most relevant first: Alpha Bear, linked.
    let actors = &t[t.find("id=\"actors\"").unwrap()..];
    let first_actor = &actors[actors.find("class=\"actor-row\"").unwrap()..];
    assert!(
        first_actor[..first_actor.find("</tr>").unwrap()].contains("Alpha Bear"),
        "{first_actor}"
    );
    // Recommendations, largest reduction first: enabling r-ps is one.
    let recs = &t[t.find("id=\"recommendations\"").unwrap()..];
    assert!(count(recs, "class=\"recommendation-row\"") >= 1, "{recs}");
    assert!(recs.contains("r-ps"), "{recs}");

    // One actor, by alias.
    let t = html(&app, &viewer, "/threats/actors/sandy").await;
    assert!(
        t.contains("<span id=\"actor-name\">Alpha Bear</span>"),
        "{t}"
    );
    assert!(t.contains("Sandy"));
    assert!(t.contains("T1190 Exploit Public-Facing Application"), "{t}");
    assert!(t.contains("targets Germany"), "relevance explained: {t}");
    assert_eq!(
        page(&app, &viewer, "/threats/actors/nobody").await.status,
        StatusCode::NOT_FOUND
    );

    // The matrix: spearphishing covered (rolled up into Phishing) and
    // shaded by the 12 recent alerts; Alpha Bear's uncovered techniques
    // highlighted, the disabled rule's included.
    let t = html(&app, &viewer, "/coverage").await;
    assert!(t.contains("Initial Access"), "{t}");
    let cell = |id: &str| {
        let i = t
            .find(&format!("id=\"t-{id}\""))
            .unwrap_or_else(|| panic!("{id}: {t}"));
        let start = t[..i].rfind("<div").unwrap();
        t[start..start + t[start..].find("</div>").unwrap()].to_owned()
    };
    let phishing = cell("T1566");
    assert!(
        phishing.contains("cov-covered") || phishing.contains("cov-partial"),
        "{phishing}"
    );
    assert!(
        phishing.contains("heat-2") && phishing.contains("12 alerts"),
        "{phishing}"
    );
    assert!(!phishing.contains("actor-gap"), "{phishing}");
    let exploit = cell("T1190");
    assert!(
        exploit.contains("cov-gap") && exploit.contains("actor-gap"),
        "{exploit}"
    );
    let script = cell("T1059");
    assert!(
        script.contains("actor-gap"),
        "PowerShell is a gap of Alpha Bear: {script}"
    );
    assert!(!t.contains("id=\"t-T1566.001\""), "sub-techniques roll up");
    let gaps = &t[t.find("id=\"actor-gaps\"").unwrap()..];
    assert!(
        gaps.contains("T1190 Exploit Public-Facing Application"),
        "{gaps}"
    );
    assert!(gaps.contains("T1059.001 PowerShell"), "{gaps}");
    assert!(!gaps.contains("T1566.001"), "{gaps}");

    // The Navigator export is the API's layer, as valid JSON.
    let r = page(&app, &viewer, "/coverage/navigator.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("application/json"));
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let layer = r.json();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert_eq!(layer["domain"], "enterprise-attack");
    let techs: BTreeSet<&str> = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["techniqueID"].as_str())
        .collect();
    for id in ["T1190", "T1566", "T1566.001", "T1059", "T1059.001"] {
        assert!(techs.contains(id), "{id}: {layer}");
    }
    let api = app
        .get("/api/v1/threats/coverage/navigator", Role::Viewer)
        .await
        .json();
    assert_eq!(layer, api);
    app.stop().await;
}

/// The alert page lists the alerts that share an entity with it (the same
/// index and query as `GET /api/v1/alerts/{id}/related`) apart from those
/// of the same rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_page_links_alerts_by_shared_entity() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    let (viewer, _) = sign_in(&app, Role::Viewer).await;
    let on = |n: usize, rule: &str, host: &str| {
        let mut a = alert(
            n,
            rule,
            "attack.t1059",
            now.add_micros(-(n as i64) * 1_000_000),
        );
        a.entities.host = Some(host.into());
        a.title = format!("{rule} on {host}");
        a
    };
    let alerts = vec![
        on(1, "r-ps", "ws-7"),
        on(2, "r-lsass", "ws-7"),
        on(3, "r-other", "ws-8"),
    ];
    app.store
        .commit_detections(&DetectionCommit {
            consumer: "test",
            upto_seq: 0,
            alerts: &alerts,
            effects: &[],
            states: &[],
            at: now,
        })
        .await
        .unwrap();
    let t = html(&app, &viewer, &format!("/alerts/{}", alerts[0].id)).await;
    let linked = &t[t.find("id=\"linked-alerts\"").expect("linked section")..];
    let linked = &linked[..linked.find("</section>").unwrap()];
    assert!(
        linked.contains(&format!("/alerts/{}", alerts[1].id)) && linked.contains("r-lsass on ws-7"),
        "{linked}"
    );
    assert!(linked.contains("shares host ws-7"), "{linked}");
    assert!(!linked.contains("ws-8"), "{linked}");
    app.stop().await;
}

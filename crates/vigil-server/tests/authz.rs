//! The authorization matrix: every route of the route table × {anonymous,
//! each role}, on the real router, store and pipeline. A route added to the
//! server without a row here (or without a row in the route table) fails.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use common::{Reply, TestApp};
use vigil_model::{Role, TenantId};
use vigil_server::{Access, ROUTES, RouteRule, Scheme};

/// How the matrix calls a route, and what an allowed role gets back.
struct Case {
    uri: String,
    body: Vec<u8>,
    content_type: Option<&'static str>,
    allowed: StatusCode,
}

fn get(uri: &str, allowed: StatusCode) -> Case {
    Case {
        uri: uri.to_owned(),
        body: Vec::new(),
        content_type: None,
        allowed,
    }
}

fn json_case(uri: &str, body: &str, allowed: StatusCode) -> Case {
    Case {
        uri: uri.to_owned(),
        body: body.as_bytes().to_vec(),
        content_type: Some("application/json"),
        allowed,
    }
}

/// The matrix row of a route. Every route in the table must have one.
fn case(rule: &RouteRule) -> Case {
    const RANDOM_ALERT: &str = "0190f1c2-0000-7000-8000-000000000000";
    const RANDOM_TOKEN: &str = "0123456789abcdef";
    match (rule.method.as_str(), rule.path) {
        ("GET", "/healthz") => get("/healthz", StatusCode::OK),
        ("GET", "/readyz") => get("/readyz", StatusCode::OK),
        ("GET", "/metrics") => get("/metrics", StatusCode::OK),
        ("POST", "/api/v1/ingest") => Case {
            uri: "/api/v1/ingest".into(),
            body: b"{\"message\":\"matrix\"}\n".to_vec(),
            content_type: Some("application/x-ndjson"),
            allowed: StatusCode::OK,
        },
        // Not EVTX: a well-formed request whose file is reported unreadable.
        ("POST", "/api/v1/ingest/evtx") => Case {
            uri: "/api/v1/ingest/evtx".into(),
            body: b"not an evtx file".to_vec(),
            content_type: Some("application/octet-stream"),
            allowed: StatusCode::OK,
        },
        (
            "POST",
            "/services/collector" | "/services/collector/event" | "/services/collector/event/1.0",
        ) => Case {
            uri: rule.path.into(),
            body: br#"{"event":"matrix"}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::OK,
        },
        ("POST", "/services/collector/raw") => Case {
            uri: "/services/collector/raw".into(),
            body: b"matrix line\n".to_vec(),
            content_type: Some("text/plain"),
            allowed: StatusCode::OK,
        },
        ("POST", "/services/collector/ack") => Case {
            uri: "/services/collector/ack?channel=matrix".into(),
            body: br#"{"acks":[0]}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::OK,
        },
        ("GET", "/services/collector/health") => get("/services/collector/health", StatusCode::OK),
        ("GET", "/api/v1/alerts") => get("/api/v1/alerts", StatusCode::OK),
        ("GET", "/api/v1/alerts/{id}") => get(
            &format!("/api/v1/alerts/{RANDOM_ALERT}"),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/alerts/{id}/related") => get(
            &format!("/api/v1/alerts/{RANDOM_ALERT}/related"),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/events") => get("/api/v1/events", StatusCode::OK),
        ("GET", "/api/v1/tokens") => get("/api/v1/tokens", StatusCode::OK),
        ("POST", "/api/v1/tokens") => Case {
            uri: "/api/v1/tokens".into(),
            body: br#"{"name":"matrix","role":"viewer"}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::CREATED,
        },
        ("DELETE", "/api/v1/tokens/{id}") => get(
            &format!("/api/v1/tokens/{RANDOM_TOKEN}"),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/users") => get("/api/v1/users", StatusCode::OK),
        // A short password: refused after authorization, nothing stored.
        ("POST", "/api/v1/users") => json_case(
            "/api/v1/users",
            r#"{"username":"matrix","role":"viewer","password":"short"}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("PATCH", "/api/v1/users/{id}") => json_case(
            "/api/v1/users/no-such-user",
            r#"{"disabled":true}"#,
            StatusCode::NOT_FOUND,
        ),
        // A rule that does not parse: reported in the outcome, 200.
        ("POST", "/api/v1/rules/test") => json_case(
            "/api/v1/rules/test",
            r#"{"rule_yaml":"title: matrix\n","event":{"message":"x"}}"#,
            StatusCode::OK,
        ),
        ("GET", "/api/v1/audit") => get("/api/v1/audit", StatusCode::OK),
        ("GET", "/api/v1/audit/verify") => get("/api/v1/audit/verify", StatusCode::OK),
        ("GET", "/api/v1/changes") => get("/api/v1/changes", StatusCode::OK),
        ("GET", "/api/v1/rules") => get("/api/v1/rules", StatusCode::OK),
        ("GET", "/api/v1/rules/{id}") => get("/api/v1/rules/no-such-rule", StatusCode::NOT_FOUND),
        ("PATCH", "/api/v1/rules/{id}") => Case {
            uri: "/api/v1/rules/no-such-rule".into(),
            body: br#"{"enabled":false}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::NOT_FOUND,
        },
        // Invalid YAML: refused after authorization, nothing stored.
        ("POST", "/api/v1/rules") => Case {
            uri: "/api/v1/rules".into(),
            body: b"title: matrix\n".to_vec(),
            content_type: Some("application/yaml"),
            allowed: StatusCode::BAD_REQUEST,
        },
        ("GET", "/api/v1/assets") => get("/api/v1/assets", StatusCode::OK),
        ("GET", "/api/v1/assets/{id}") => {
            get("/api/v1/assets/no-such-asset", StatusCode::NOT_FOUND)
        }
        // Invalid criticality: refused after authorization, nothing stored.
        ("POST", "/api/v1/assets") => Case {
            uri: "/api/v1/assets".into(),
            body: br#"{"name":"matrix","criticality":9}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::BAD_REQUEST,
        },
        // Unknown asset: refused after authorization, nothing stored.
        ("POST", "/api/v1/assets/{id}/sbom") => Case {
            uri: "/api/v1/assets/no-such-asset/sbom".into(),
            body: br#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#.to_vec(),
            content_type: Some("application/vnd.cyclonedx+json"),
            allowed: StatusCode::NOT_FOUND,
        },
        ("GET", "/api/v1/findings") => get("/api/v1/findings", StatusCode::OK),
        ("GET", "/api/v1/findings/{id}") => {
            get("/api/v1/findings/no-such-finding", StatusCode::NOT_FOUND)
        }
        ("PATCH", "/api/v1/findings/{id}") => Case {
            uri: "/api/v1/findings/no-such-finding".into(),
            body: br#"{"status":"false_positive"}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::NOT_FOUND,
        },
        ("GET", "/api/v1/vulnerabilities/{id}") => get(
            "/api/v1/vulnerabilities/CVE-0000-0000",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/intel/indicators") => get("/api/v1/intel/indicators", StatusCode::OK),
        ("GET", "/api/v1/intel/indicators/{id}") => get(
            "/api/v1/intel/indicators/ipv4:192.0.2.1",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/intel/lookup") => {
            get("/api/v1/intel/lookup?value=192.0.2.1", StatusCode::OK)
        }
        ("GET", "/api/v1/intel/export") => get("/api/v1/intel/export", StatusCode::OK),
        // An empty bundle: imported (nothing), audited.
        ("POST", "/api/v1/intel/import") => Case {
            uri: "/api/v1/intel/import?feed=matrix".into(),
            body: br#"{"type":"bundle","id":"bundle--6d1b3c0e-1f1a-4e4e-9d4e-000000000009","objects":[]}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::OK,
        },
        ("GET", "/api/v1/blocklists/{list}") => {
            get("/api/v1/blocklists/ips.txt", StatusCode::OK)
        }
        ("GET", "/api/v1/blocklist-entries") => get("/api/v1/blocklist-entries", StatusCode::OK),
        // An invalid ttl: refused after authorization, nothing stored.
        ("POST", "/api/v1/blocklist-entries") => Case {
            uri: "/api/v1/blocklist-entries".into(),
            body: br#"{"value":"192.0.2.1","reason":"matrix","ttl":"5y"}"#.to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::BAD_REQUEST,
        },
        ("DELETE", "/api/v1/blocklist-entries/{id}") => get(
            "/api/v1/blocklist-entries/ipv4:192.0.2.1",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/attack/techniques/{id}") => {
            get("/api/v1/attack/techniques/T0000", StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/threats/profile") => get("/api/v1/threats/profile", StatusCode::NOT_FOUND),
        // An unknown region: refused after authorization, nothing stored.
        ("PUT", "/api/v1/threats/profile") => json_case(
            "/api/v1/threats/profile",
            r#"{"regions":["atlantis"]}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("GET", "/api/v1/threats/actors") => get("/api/v1/threats/actors", StatusCode::OK),
        ("GET", "/api/v1/threats/actors/{id}") => {
            get("/api/v1/threats/actors/G9999", StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/threats/scenarios") => get("/api/v1/threats/scenarios", StatusCode::OK),
        // An invalid status: refused after authorization, nothing stored.
        ("POST", "/api/v1/threats/scenarios") => json_case(
            "/api/v1/threats/scenarios",
            r#"{"id":"matrix","title":"matrix","status":"closed"}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("PATCH", "/api/v1/threats/scenarios/{id}") => json_case(
            "/api/v1/threats/scenarios/no-such",
            r#"{"status":"treated"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/threats/scenarios/{id}/history") => {
            get("/api/v1/threats/scenarios/no-such/history", StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/threats/coverage") => {
            get("/api/v1/threats/coverage?technique=T1059", StatusCode::OK)
        }
        ("GET", "/api/v1/threats/coverage/navigator") => {
            get("/api/v1/threats/coverage/navigator", StatusCode::OK)
        }
        ("GET", "/api/v1/intel/feeds") => get("/api/v1/intel/feeds", StatusCode::OK),
        // Invalid interval: refused after authorization, nothing stored.
        ("POST", "/api/v1/intel/feeds") => Case {
            uri: "/api/v1/intel/feeds".into(),
            body: br#"{"name":"matrix","format":"csv","location":"/tmp/x","interval_secs":1}"#
                .to_vec(),
            content_type: Some("application/json"),
            allowed: StatusCode::BAD_REQUEST,
        },
        ("GET", "/api/v1/intel/feeds/{name}") => {
            get("/api/v1/intel/feeds/no-such-feed", StatusCode::NOT_FOUND)
        }
        ("DELETE", "/api/v1/intel/feeds/{name}") => {
            get("/api/v1/intel/feeds/no-such-feed", StatusCode::NOT_FOUND)
        }
        ("POST", "/api/v1/intel/feeds/{name}/sync") => get(
            "/api/v1/intel/feeds/no-such-feed/sync",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/incidents") => get("/api/v1/incidents", StatusCode::OK),
        ("POST", "/api/v1/incidents") => json_case(
            "/api/v1/incidents",
            r#"{"title":"matrix"}"#,
            StatusCode::CREATED,
        ),
        ("GET", "/api/v1/incidents/{id}") => get("/api/v1/incidents/999999", StatusCode::NOT_FOUND),
        ("PATCH", "/api/v1/incidents/{id}") => json_case(
            "/api/v1/incidents/999999",
            r#"{"status":"triage"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/incidents/{id}/notes") => json_case(
            "/api/v1/incidents/999999/notes",
            r#"{"text":"matrix"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/incidents/{id}/tasks") => json_case(
            "/api/v1/incidents/999999/tasks",
            r#"{"title":"matrix"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/incidents/{id}/observables") => json_case(
            "/api/v1/incidents/999999/observables",
            r#"{"kind":"domain","value":"evil.example"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/incidents/{id}/evidence") => Case {
            uri: "/api/v1/incidents/999999/evidence?name=a.txt".into(),
            body: b"evidence".to_vec(),
            content_type: Some("text/plain"),
            allowed: StatusCode::NOT_FOUND,
        },
        ("GET", "/api/v1/evidence/{id}") => get("/api/v1/evidence/no-such", StatusCode::NOT_FOUND),
        ("GET", "/api/v1/incident-metrics") => get("/api/v1/incident-metrics", StatusCode::OK),
        ("PATCH", "/api/v1/tasks/{id}") => json_case(
            "/api/v1/tasks/no-such-task",
            r#"{"status":"done"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/alerts/{id}/triage") => json_case(
            &format!("/api/v1/alerts/{RANDOM_ALERT}/triage"),
            r#"{"state":"acknowledged"}"#,
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/suppressions") => get("/api/v1/suppressions", StatusCode::OK),
        // An empty matcher: refused after authorization, nothing stored.
        ("POST", "/api/v1/suppressions") => json_case(
            "/api/v1/suppressions",
            r#"{"matcher":{},"reason":"matrix"}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("DELETE", "/api/v1/suppressions/{id}") => Case {
            uri: "/api/v1/suppressions/no-such".into(),
            body: Vec::new(),
            content_type: None,
            allowed: StatusCode::NOT_FOUND,
        },
        ("GET", "/api/v1/playbooks") => get("/api/v1/playbooks", StatusCode::OK),
        ("POST", "/api/v1/playbooks") => Case {
            uri: "/api/v1/playbooks".into(),
            body: b"id: matrix\nname: m\ntrigger: {manual: {}}\nsteps: []\n".to_vec(),
            content_type: Some("application/yaml"),
            allowed: StatusCode::BAD_REQUEST,
        },
        ("POST", "/api/v1/playbooks/{id}/runs") => json_case(
            "/api/v1/playbooks/no-such-playbook/runs",
            r#"{"dry_run":true}"#,
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/runs") => get("/api/v1/runs", StatusCode::OK),
        ("GET", "/api/v1/runs/{id}") => get("/api/v1/runs/no-such-run", StatusCode::NOT_FOUND),
        ("POST", "/api/v1/runs/{id}/decision") => json_case(
            "/api/v1/runs/no-such-run/decision",
            r#"{"approve":true}"#,
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/api/v1/runs/{id}/cancel") => Case {
            uri: "/api/v1/runs/no-such-run/cancel".into(),
            body: Vec::new(),
            content_type: None,
            allowed: StatusCode::NOT_FOUND,
        },
        ("GET", "/api/v1/whoami") => get("/api/v1/whoami", StatusCode::OK),
        ("GET", "/api/v1/openapi.json") => get("/api/v1/openapi.json", StatusCode::OK),
        ("GET", "/taxii2/" | "/taxii2/vigil/" | "/taxii2/vigil/collections/") => {
            get(rule.path, StatusCode::OK)
        }
        ("GET", "/taxii2/vigil/collections/{id}/") => get(
            &format!(
                "/taxii2/vigil/collections/{}/",
                vigil_server::INTEL_COLLECTION
            ),
            StatusCode::OK,
        ),
        ("GET", "/taxii2/vigil/collections/{id}/objects/") => get(
            &format!(
                "/taxii2/vigil/collections/{}/objects/",
                vigil_server::INBOX_COLLECTION
            ),
            StatusCode::OK,
        ),
        ("GET", "/taxii2/vigil/collections/{id}/manifest/") => get(
            &format!(
                "/taxii2/vigil/collections/{}/manifest/",
                vigil_server::INBOX_COLLECTION
            ),
            StatusCode::OK,
        ),
        ("GET", "/taxii2/vigil/collections/{id}/objects/{object_id}/") => get(
            &format!(
                "/taxii2/vigil/collections/{}/objects/indicator--00000000-0000-4000-8000-000000000000/",
                vigil_server::INTEL_COLLECTION
            ),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/taxii2/vigil/collections/{id}/objects/{object_id}/versions/") => get(
            &format!(
                "/taxii2/vigil/collections/{}/objects/indicator--00000000-0000-4000-8000-000000000000/versions/",
                vigil_server::INTEL_COLLECTION
            ),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/taxii2/vigil/status/{status_id}/") => get(
            "/taxii2/vigil/status/no-such-status/",
            StatusCode::NOT_FOUND,
        ),
        // An empty envelope: accepted, nothing stored.
        ("POST", "/taxii2/vigil/collections/{id}/objects/") => Case {
            uri: format!(
                "/taxii2/vigil/collections/{}/objects/",
                vigil_server::INBOX_COLLECTION
            ),
            body: br#"{"objects":[]}"#.to_vec(),
            content_type: Some("application/taxii+json;version=2.1"),
            allowed: StatusCode::ACCEPTED,
        },
        (m, p) => panic!(
            "route {m} {p} has no row in the authorization matrix; add one to tests/authz.rs"
        ),
    }
}

async fn call(app: &TestApp, rule: &RouteRule, c: &Case, auth: Option<String>) -> Reply {
    let mut b = Request::builder().method(rule.method.clone()).uri(&c.uri);
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a);
    }
    if let Some(ct) = c.content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    app.send(b.body(Body::from(c.body.clone())).expect("request"))
        .await
}

/// Asserts a TAXII 2.1 error message with this status.
fn taxii_error(r: &Reply, status: u16) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert_eq!(
        r.content_type(),
        "application/taxii+json;version=2.1",
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["http_status"], status.to_string(), "{v}");
    assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
}

fn assert_challenge(r: &Reply) {
    let challenges: Vec<_> = r.headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
    assert!(
        challenges
            .iter()
            .any(|v| v.as_bytes().starts_with(b"Bearer realm=\"vigil\"")),
        "{challenges:?}"
    );
    assert!(
        challenges
            .iter()
            .any(|v| v.as_bytes().starts_with(b"Basic ")),
        "{challenges:?}"
    );
}

#[test]
fn route_table_and_openapi_list_the_same_routes() {
    let doc = serde_json::to_value(vigil_server::openapi()).expect("openapi json");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let table: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(
        table, documented,
        "the route table and the served routes differ"
    );
    for rule in ROUTES {
        let _ = case(rule); // every route has a matrix row
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_principal() {
    let app = TestApp::start().await;
    let mut checked = 0;
    for rule in ROUTES {
        let c = case(rule);
        let what = format!("{} {}", rule.method, rule.path);

        // HEC routes refuse in HEC's JSON shape, the API with problems.
        let hec = rule.schemes.contains(&Scheme::Splunk);
        let taxii = rule.path.starts_with("/taxii2/");
        let r = call(&app, rule, &c, None).await;
        if rule.access == Access::Public {
            assert_eq!(r.status, c.allowed, "anonymous on {what}: {}", r.text());
        } else if taxii {
            taxii_error(&r, 401);
            assert_challenge(&r);
        } else if hec {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(r.json()["code"], 2, "{what}: {}", r.text());
            assert_challenge(&r);
        } else {
            r.problem(401);
            assert_challenge(&r);
        }
        checked += 1;

        for role in Role::ALL {
            let r = call(&app, rule, &c, Some(format!("Bearer {}", app.token(role)))).await;
            let want = if rule.access.allows(role) {
                c.allowed
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role} on {what}: {}", r.text());
            if want == StatusCode::FORBIDDEN && taxii {
                taxii_error(&r, 403);
            } else if want == StatusCode::FORBIDDEN && hec {
                assert_eq!(r.json()["code"], 4, "{role} on {what}: {}", r.text());
            } else if want == StatusCode::FORBIDDEN {
                r.problem(403);
            }
            // HEC routes take the token as `Splunk <token>` as well.
            if hec {
                let r = call(&app, rule, &c, Some(format!("Splunk {}", app.token(role)))).await;
                assert_eq!(r.status, want, "{role} (Splunk) on {what}: {}", r.text());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * (1 + Role::ALL.len()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_cases() {
    let app = TestApp::start().await;

    // No token → 401 with a challenge.
    let r = app
        .call(Method::GET, "/api/v1/alerts", None, Body::empty())
        .await;
    r.problem(401);
    assert_challenge(&r);

    // A viewer may not send events.
    let r = app
        .call(
            Method::POST,
            "/api/v1/ingest",
            Some(app.token(Role::Viewer)),
            Body::from("{}\n"),
        )
        .await;
    r.problem(403);

    // An ingest token may not read alerts.
    app.get("/api/v1/alerts", Role::Ingest).await.problem(403);

    // Garbage, unknown ids and wrong secrets are all the same 401.
    let admin = app.token(Role::Admin).to_owned();
    // `vgl_` + 16 hex digits + `_` + secret; the secret may itself hold `_`.
    let (id_part, secret) = (&admin[..20], &admin[21..]);
    let last = if secret.ends_with('A') { 'B' } else { 'A' };
    let wrong_secret = format!("{id_part}_{}{last}", &secret[..secret.len() - 1]);
    let unknown_id = format!("vgl_ffffffffffffffff_{secret}");
    for bad in ["nonsense", unknown_id.as_str(), wrong_secret.as_str()] {
        let r = app
            .call(Method::GET, "/api/v1/whoami", Some(bad), Body::empty())
            .await;
        r.problem(401);
    }
    // The right token still works after a wrong secret was tried for its id.
    assert_eq!(
        app.get("/api/v1/whoami", Role::Admin).await.status,
        StatusCode::OK
    );

    // The Splunk scheme is not accepted on /api/v1.
    let req = Request::get("/api/v1/whoami")
        .header(header::AUTHORIZATION, format!("Splunk {admin}"))
        .body(Body::empty())
        .expect("request");
    app.send(req).await.problem(401);

    // Refusals are counted by reason.
    let metrics = app.get("/metrics", Role::Admin).await.text();
    for reason in [
        "missing",
        "malformed",
        "unknown_token",
        "bad_secret",
        "scheme",
        "role",
    ] {
        let line = format!("vigil_http_auth_failures_total{{reason=\"{reason}\"}}");
        assert!(metrics.contains(&line), "{line} missing from:\n{metrics}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_the_token_as_password() {
    let app = TestApp::start().await;
    let creds = base64::engine::general_purpose::STANDARD
        .encode(format!("taxii-client:{}", app.token(Role::Feed)));
    let req = Request::get("/api/v1/whoami")
        .header(header::AUTHORIZATION, format!("Basic {creds}"))
        .body(Body::empty())
        .expect("request");
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let who = r.json();
    assert_eq!(who["role"], "feed");
    assert_eq!(who["name"], "feed");
    assert_eq!(who["kind"], "token");
    assert_eq!(who["tenant"], TenantId::DEFAULT.to_string());
    app.stop().await;
}

/// The count of argon2 token checks, read from `/metrics` as admin.
async fn verifications(app: &TestApp) -> u64 {
    let text = app.get("/metrics", Role::Admin).await.text();
    text.lines()
        .find_map(|l| l.strip_prefix("vigil_http_token_verifications_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no token verification counter in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_is_refused_at_once() {
    let app = TestApp::start().await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(app.token(Role::Admin)),
            Body::from(r#"{"name":"shipper","role":"ingest"}"#),
        )
        .await;
    // The body has no Content-Type: axum's JSON extractor wants one.
    created.problem(415);

    let req = Request::post("/api/v1/tokens")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token(Role::Admin)),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"shipper","role":"ingest"}"#))
        .expect("request");
    let created = app.send(req).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let v = created.json();
    let token = v["token"].as_str().expect("plaintext token").to_owned();
    let id = v["id"].as_str().expect("id").to_owned();

    // Verified once (argon2), then served from the cache.
    let before = verifications(&app).await;
    for _ in 0..3 {
        let r = app
            .call(Method::GET, "/api/v1/whoami", Some(&token), Body::empty())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    // The admin token used to read the metric was verified before.
    assert_eq!(
        verifications(&app).await,
        before + 1,
        "argon2 ran more than once for one token"
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(app.token(Role::Admin)),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app
        .call(Method::GET, "/api/v1/whoami", Some(&token), Body::empty())
        .await;
    r.problem(401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refused() {
    let app = TestApp::start().await;
    let by = vigil_model::Principal::system("test");
    let now = vigil_model::Clock::now(app.clock.as_ref());
    let (_, token) = app
        .store
        .create_token(
            TenantId::DEFAULT,
            "short",
            Role::Viewer,
            Some(now.add_micros(3_600_000_000)),
            &by,
            now,
        )
        .await
        .expect("create token");
    let r = app
        .call(Method::GET, "/api/v1/whoami", Some(&token), Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.clock.advance_micros(2 * 3_600_000_000);
    app.call(Method::GET, "/api/v1/whoami", Some(&token), Body::empty())
        .await
        .problem(401);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// The console: every console route × {anonymous, each person role}, with
// and without the session's CSRF token on state-changing forms. See: #9

use vigil_server::{CONSOLE_ROUTES, CSP, ConsoleRoute};

/// How the matrix calls a console route and what an allowed role gets.
struct Page {
    uri: String,
    form: String,
    allowed: StatusCode,
}

fn page_case(rule: &ConsoleRoute) -> Page {
    const RANDOM_ALERT: &str = "0190f1c2-0000-7000-8000-000000000000";
    let p = |uri: &str, form: &str, allowed| Page {
        uri: uri.to_owned(),
        form: form.to_owned(),
        allowed,
    };
    match (rule.method.as_str(), rule.path) {
        ("GET", "/login") => p("/login", "", StatusCode::OK),
        // Public, but wrong credentials: the same 401 for everyone.
        ("POST", "/login") => p(
            "/login",
            "username=nobody&password=wrong+password+here",
            StatusCode::UNAUTHORIZED,
        ),
        ("GET", "/static/console.css") => p("/static/console.css", "", StatusCode::OK),
        ("POST", "/logout") => p("/logout", "", StatusCode::SEE_OTHER),
        ("GET", "/") => p("/", "", StatusCode::OK),
        ("GET", "/alerts") => p(
            "/alerts?status=all&severity=high&q=x&sort=severity",
            "",
            StatusCode::OK,
        ),
        // An unknown alert: refused inside, the queue comes back with a notice.
        ("POST", "/alerts/triage") => p(
            "/alerts/triage",
            &format!("state=acknowledged&id={RANDOM_ALERT}&back=%2Falerts"),
            StatusCode::SEE_OTHER,
        ),
        ("GET", "/alerts/{id}") => p(
            &format!("/alerts/{RANDOM_ALERT}"),
            "",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/alerts/{id}/triage") => p(
            &format!("/alerts/{RANDOM_ALERT}/triage"),
            "state=acknowledged",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/alerts/{id}/incident") => p(
            &format!("/alerts/{RANDOM_ALERT}/incident"),
            "title=matrix",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/incidents") => p("/incidents", "", StatusCode::OK),
        ("GET", "/incidents/{id}") => p("/incidents/999999", "", StatusCode::NOT_FOUND),
        ("POST", "/runs/{id}/decision") => p(
            "/runs/no-such-run/decision",
            "decision=approve",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/settings") => p("/settings", "", StatusCode::OK),
        // Rules, settings administration and incident editing.
        ("GET", "/rules") => p(
            "/rules?q=x&level=high&state=enabled&source=api",
            "",
            StatusCode::OK,
        ),
        ("GET", "/rules/test") => p("/rules/test?rule=x", "", StatusCode::OK),
        // A rule that does not parse: the outcome page lists the error.
        ("POST", "/rules/test") => p(
            "/rules/test",
            "rule_yaml=title%3A+matrix%0A&event=%7B%7D",
            StatusCode::OK,
        ),
        ("GET", "/rules/{id}") => p("/rules/no-such-rule", "", StatusCode::NOT_FOUND),
        ("POST", "/rules/{id}/state") => p(
            "/rules/no-such-rule/state",
            "enabled=false",
            StatusCode::NOT_FOUND,
        ),
        // Refused after authorization (a short password, an empty name, a
        // bad interval) or unknown objects: nothing changes.
        ("POST", "/settings/users") => p(
            "/settings/users",
            "username=matrix&role=viewer&password=short",
            StatusCode::BAD_REQUEST,
        ),
        ("POST", "/settings/users/{id}") => p(
            "/settings/users/no-such-user",
            "action=disable",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/settings/tokens") => p(
            "/settings/tokens",
            "name=&role=viewer",
            StatusCode::BAD_REQUEST,
        ),
        ("POST", "/settings/tokens/{id}/revoke") => p(
            "/settings/tokens/0123456789abcdef/revoke",
            "",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/settings/feeds") => p(
            "/settings/feeds",
            "name=matrix&format=csv&location=%2Ftmp%2Fx&interval_secs=1",
            StatusCode::BAD_REQUEST,
        ),
        ("POST", "/settings/feeds/{name}/delete") => p(
            "/settings/feeds/no-such-feed/delete",
            "",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/incidents/{id}/update") => p(
            "/incidents/999999/update",
            "status=triage",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/incidents/{id}/notes") => p(
            "/incidents/999999/notes",
            "text=matrix",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/incidents/{id}/tasks") => p(
            "/incidents/999999/tasks",
            "title=matrix",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/incidents/{id}/observables") => p(
            "/incidents/999999/observables",
            "kind=domain&value=evil.example",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/incidents/{id}/evidence") => p(
            "/incidents/999999/evidence",
            "name=a.txt&content=matrix",
            StatusCode::NOT_FOUND,
        ),
        ("POST", "/tasks/{id}/status") => p(
            "/tasks/no-such-task/status",
            "status=done",
            StatusCode::NOT_FOUND,
        ),
        // Intelligence, vulnerabilities, threats, ATT&CK coverage.
        ("GET", "/intel") => p(
            "/intel?q=203&match=prefix&type=ipv4&min_confidence=10&state=all&feed=x",
            "",
            StatusCode::OK,
        ),
        ("GET", "/intel/indicators/{id}") => p(
            "/intel/indicators/ipv4%3A203.0.113.250",
            "",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/intel/feeds") => p("/intel/feeds", "", StatusCode::OK),
        ("POST", "/intel/feeds/{name}/sync") => {
            p("/intel/feeds/no-such-feed/sync", "", StatusCode::NOT_FOUND)
        }
        ("GET", "/intel/import") => p("/intel/import", "", StatusCode::OK),
        ("POST", "/intel/import") => p(
            "/intel/import",
            "document=198.51.100.7&format=plain&feed=matrix",
            StatusCode::OK,
        ),
        ("GET", "/vulns") => p(
            "/vulns?decision=immediate&kev=1&overdue=1",
            "",
            StatusCode::OK,
        ),
        ("GET", "/assets/{id}") => p("/assets/no-such-asset", "", StatusCode::NOT_FOUND),
        ("GET", "/threats") => p("/threats", "", StatusCode::OK),
        ("GET", "/threats/actors/{id}") => p("/threats/actors/nobody", "", StatusCode::NOT_FOUND),
        ("GET", "/coverage") => p("/coverage", "", StatusCode::OK),
        ("GET", "/coverage/navigator.json") => p("/coverage/navigator.json", "", StatusCode::OK),
        (m, p) => panic!(
            "console route {m} {p} has no row in the authorization matrix; add one to tests/authz.rs"
        ),
    }
}

const PEOPLE: [Role; 3] = [Role::Admin, Role::Analyst, Role::Viewer];
const PASSWORD: &str = "matrix password 1234";

/// Creates one user per person role (`admin`, `analyst`, `viewer`).
async fn people(app: &TestApp) {
    let by = vigil_model::Principal::system("test");
    for role in PEOPLE {
        app.store
            .create_user(
                TenantId::DEFAULT,
                role.as_str(),
                role,
                PASSWORD,
                &by,
                vigil_model::Clock::now(app.clock.as_ref()),
            )
            .await
            .expect("create user");
    }
}

/// A fresh session of the `role` user: (cookie value, CSRF token).
async fn session(app: &TestApp, role: Role) -> (String, String) {
    let user = app
        .store
        .find_user(role.as_str())
        .await
        .expect("find user")
        .expect("user exists");
    let (id, s) = app
        .store
        .create_session(
            &user,
            "test",
            3_600_000_000,
            vigil_model::Clock::now(app.clock.as_ref()),
        )
        .await
        .expect("session");
    (id, s.csrf)
}

async fn page_call(
    app: &TestApp,
    method: &Method,
    uri: &str,
    cookie: Option<&str>,
    form: &str,
) -> Reply {
    let mut b = Request::builder().method(method.clone()).uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("vigil_session={c}"));
    }
    if *method == Method::POST {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    app.send(b.body(Body::from(form.to_owned())).expect("request"))
        .await
}

/// Posts the sign-in form as a browser does: first `GET /login` for the
/// pre-session token (a cookie and the same value in a hidden field).
async fn login_call(app: &TestApp, form: &str) -> Reply {
    let r = page_call(app, &Method::GET, "/login", None, "").await;
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(set.starts_with("vigil_login="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let token = set["vigil_login=".len()..]
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let page = r.text();
    assert!(
        page.contains(&format!("name=\"login_csrf\" value=\"{token}\"")),
        "the form carries the cookie's token"
    );
    let req = Request::post("/login")
        .header(header::COOKIE, format!("vigil_login={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(with_login_csrf(form, &token)))
        .expect("request");
    app.send(req).await
}

fn with_login_csrf(form: &str, token: &str) -> String {
    format!("{form}&{}", form_urlencoded_pair("login_csrf", token))
}

fn assert_console_headers(r: &Reply, what: &str) {
    let h = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(h("content-security-policy"), CSP, "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    // The stylesheet and the Navigator layer download are not pages.
    if r.status != StatusCode::SEE_OTHER
        && !what.contains("console.css")
        && !what.contains("navigator.json")
    {
        assert!(
            r.content_type().starts_with("text/html"),
            "{what}: {}",
            r.content_type()
        );
    }
}

fn with_csrf(form: &str, csrf: &str) -> String {
    let token: String = form_urlencoded_pair("csrf", csrf);
    if form.is_empty() {
        token
    } else {
        format!("{form}&{token}")
    }
}

fn form_urlencoded_pair(k: &str, v: &str) -> String {
    let enc: String = v
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{k}={enc}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_route_by_every_person_and_csrf() {
    let app = TestApp::start().await;
    people(&app).await;
    let mut checked = 0;
    for rule in CONSOLE_ROUTES {
        let c = page_case(rule);
        let what = format!("{} {}", rule.method, rule.path);
        let post = rule.method == Method::POST;

        // Anonymous: public routes answer; pages send the browser to the
        // sign-in page, forms are refused. The sign-in form itself needs
        // its pre-session token: without it, 403.
        if rule.path == "/login" && post {
            let r = page_call(&app, &rule.method, &c.uri, None, &c.form).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "sign-in without its token");
            assert_console_headers(&r, &what);
        }
        let r = if rule.path == "/login" && post {
            login_call(&app, &c.form).await
        } else {
            page_call(&app, &rule.method, &c.uri, None, &c.form).await
        };
        assert_console_headers(&r, &what);
        if rule.access == Access::Public {
            assert_eq!(r.status, c.allowed, "anonymous on {what}: {}", r.text());
        } else if post {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "anonymous on {what}");
        } else {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "anonymous on {what}");
            let loc = r
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(loc.starts_with("/login?next=%2F"), "{what}: {loc}");
        }
        // An API token is not a console credential, nor is a made-up cookie.
        if rule.access != Access::Public {
            let mut b = Request::builder().method(rule.method.clone()).uri(&c.uri);
            b = b.header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token(Role::Admin)),
            );
            let r = app
                .send(b.body(Body::from(c.form.clone())).expect("request"))
                .await;
            assert!(
                [StatusCode::SEE_OTHER, StatusCode::UNAUTHORIZED].contains(&r.status),
                "admin token on {what}: {}",
                r.status
            );
            let r = page_call(
                &app,
                &rule.method,
                &c.uri,
                Some("forged-session-id"),
                &c.form,
            )
            .await;
            assert!(
                [StatusCode::SEE_OTHER, StatusCode::UNAUTHORIZED].contains(&r.status),
                "forged cookie on {what}: {}",
                r.status
            );
        }
        checked += 1;

        for role in PEOPLE {
            let (cookie, csrf) = session(&app, role).await;
            let allowed = rule.access.allows(role);
            let want = if allowed {
                c.allowed
            } else {
                StatusCode::FORBIDDEN
            };
            let form = if post && rule.access != Access::Public {
                with_csrf(&c.form, &csrf)
            } else {
                c.form.clone()
            };
            if post && rule.access != Access::Public {
                // CSRF: without the token, or with another session's, the
                // form is refused before the handler runs.
                let r = page_call(&app, &rule.method, &c.uri, Some(&cookie), &c.form).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{role} without csrf on {what}"
                );
                assert_console_headers(&r, &what);
                let (_, other_csrf) = session(&app, role).await;
                let wrong = with_csrf(&c.form, &other_csrf);
                let r = page_call(&app, &rule.method, &c.uri, Some(&cookie), &wrong).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{role} with a wrong csrf on {what}"
                );
                if allowed {
                    assert!(r.text().contains("CSRF"), "{role} on {what}: {}", r.text());
                }
            }
            let r = if rule.path == "/login" && post {
                login_call(&app, &form).await
            } else {
                page_call(&app, &rule.method, &c.uri, Some(&cookie), &form).await
            };
            assert_eq!(r.status, want, "{role} on {what}: {}", r.text());
            assert_console_headers(&r, &format!("{role} on {what}"));
            checked += 1;
        }
    }
    assert_eq!(checked, CONSOLE_ROUTES.len() * (1 + PEOPLE.len()));

    // The session cookie is not an API credential.
    let (cookie, _) = session(&app, Role::Admin).await;
    let req = Request::get("/api/v1/whoami")
        .header(header::COOKIE, format!("vigil_session={cookie}"))
        .body(Body::empty())
        .expect("request");
    app.send(req).await.problem(401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sign_in_lockout_and_sign_out() {
    let app = TestApp::start().await;
    people(&app).await;
    let login = |user: &str, pw: &str| {
        format!(
            "username={user}&password={}&next=%2Falerts",
            pw.replace(' ', "+")
        )
    };

    // Success: a cookie with the right attributes, back to `next`.
    let r = login_call(&app, &login("analyst", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/alerts")
    );
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(set.starts_with("vigil_session="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{attr} missing: {set}");
    }
    assert!(
        !set.contains("Secure"),
        "no TLS, no Secure by default: {set}"
    );
    let cookie = set["vigil_session=".len()..]
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let r = page_call(&app, &Method::GET, "/alerts", Some(&cookie), "").await;
    assert_eq!(r.status, StatusCode::OK);
    // The page carries the session's CSRF token; signing out with it works
    // and ends the session.
    let page = r.text();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf field")
        .to_owned();
    let r = page_call(
        &app,
        &Method::POST,
        "/logout",
        Some(&cookie),
        &with_csrf("", &csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = page_call(&app, &Method::GET, "/alerts", Some(&cookie), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "signed out");

    // Five wrong passwords lock the user: the right one is refused then,
    // but a session it already has goes on (a lockout must not let anyone
    // sign a user out).
    let (live, _) = session(&app, Role::Viewer).await;
    for _ in 0..5 {
        let r = login_call(&app, &login("viewer", "wrong password!!")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = login_call(&app, &login("viewer", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "locked user");
    assert_eq!(
        page_call(&app, &Method::GET, "/", Some(&live), "")
            .await
            .status,
        StatusCode::OK,
        "the live session survives the lockout"
    );
    // After the lockout it works again.
    app.clock.advance_micros(16 * 60 * 1_000_000);
    let r = login_call(&app, &login("viewer", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "lockout over");

    // Twenty failures from one address lock the address for everyone.
    for i in 0..20 {
        let r = login_call(&app, &login(&format!("ghost{i}"), "x")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = login_call(&app, &login("admin", PASSWORD)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(r.headers.contains_key(header::RETRY_AFTER));

    // Idle sessions end.
    app.clock.advance_micros(16 * 60 * 1_000_000);
    let (cookie, _) = session(&app, Role::Admin).await;
    assert_eq!(
        page_call(&app, &Method::GET, "/", Some(&cookie), "")
            .await
            .status,
        StatusCode::OK
    );
    app.clock.advance_micros(31 * 60 * 1_000_000);
    assert_eq!(
        page_call(&app, &Method::GET, "/", Some(&cookie), "")
            .await
            .status,
        StatusCode::SEE_OTHER,
        "idle session ended"
    );

    // Logins, logouts and lockouts are audited.
    let audit = app
        .get("/api/v1/audit?limit=1000", Role::Admin)
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for a in [
        "user.login",
        "user.logout",
        "user.lockout",
        "console.lockout",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    app.stop().await;
}

//! The intel API (#5): import a STIX bundle, look values up (refanged,
//! parent domains, CIDRs), page and fetch indicators, export STIX 2.1 and
//! CSV with filters, and the plain-text blocklists fetched with a `feed`
//! token over HTTP Basic, including manual entries with a TTL.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use base64::Engine as _;
use common::TestApp;
use vigil_model::{Clock, Role, TenantId};

const GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

fn bundle() -> String {
    let ind = |n: u32, pattern: &str, conf: u32, marking: &str| {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--6d1b3c0e-1f1a-4e4e-9d4e-00000000000{n}",
            "created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z",
            "pattern_type":"stix","pattern":"{pattern}","confidence":{conf},"object_marking_refs":["{marking}"]}}"#
        )
    };
    format!(
        r#"{{"type":"bundle","id":"bundle--6d1b3c0e-1f1a-4e4e-9d4e-000000000000","objects":[{},{},{},{},
        {{"type":"indicator","spec_version":"2.1","id":"indicator--broken","pattern":"[ipv4-addr:value = "}}]}}"#,
        ind(1, "[ipv4-addr:value = '203.0.113.7']", 90, GREEN),
        ind(2, "[domain-name:value = 'evil.example']", 70, AMBER),
        ind(3, "[ipv4-addr:value = '198.51.100.0/24']", 80, GREEN),
        ind(4, "[ipv4-addr:value = '192.0.2.10']", 20, GREEN),
    )
}

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    role: Role,
    ct: &str,
    body: String,
) -> common::Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .expect("request");
    app.send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_lookup_export_and_blocklists() {
    let app = TestApp::start().await;
    // Import: counts per type, the broken object reported, the rest stored.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/intel/import?feed=unit",
        Role::Analyst,
        "application/json",
        bundle(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["format"], "stix");
    assert_eq!(v["objects"]["indicator"], 4, "{v}");
    assert_eq!(v["objects"]["invalid"], 1, "{v}");
    assert_eq!(v["indicators_added"], 4, "{v}");
    assert_eq!(v["errors"][0]["id"], "indicator--broken", "{v}");
    // Twice: nothing changes.
    let again = send(
        &app,
        Method::POST,
        "/api/v1/intel/import?feed=unit",
        Role::Analyst,
        "application/json",
        bundle(),
    )
    .await
    .json();
    assert_eq!(
        (
            again["indicators_added"].as_u64(),
            again["indicators_updated"].as_u64()
        ),
        (Some(0), Some(0)),
        "{again}"
    );
    // Not JSON, CSV or a plain list: 415.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/intel/import",
        Role::Analyst,
        "application/xml",
        bundle(),
    )
    .await;
    r.problem(415);

    // Lookup: defanged subdomain → the parent domain, with its context.
    let l = app
        .get(
            "/api/v1/intel/lookup?value=cdn%5B.%5Devil%5B.%5Dexample",
            Role::Viewer,
        )
        .await;
    assert_eq!(l.status, 200, "{}", l.text());
    let l = l.json();
    assert_eq!(l["value"], "cdn.evil.example", "{l}");
    assert_eq!(l["matches"][0]["matched_by"], "parent-domain", "{l}");
    assert_eq!(l["matches"][0]["value"], "evil.example", "{l}");
    assert_eq!(l["matches"][0]["tlp"], "TLP:AMBER", "{l}");
    assert_eq!(l["matches"][0]["feeds"][0], "unit", "{l}");
    // An address inside a listed network.
    let l = app
        .get("/api/v1/intel/lookup?value=198.51.100.77", Role::Viewer)
        .await
        .json();
    assert_eq!(l["matches"][0]["matched_by"], "cidr", "{l}");
    assert_eq!(l["matches"][0]["value"], "198.51.100.0/24", "{l}");
    let none = app
        .get("/api/v1/intel/lookup?value=192.0.2.99", Role::Viewer)
        .await
        .json();
    assert_eq!(none["matches"].as_array().map(Vec::len), Some(0), "{none}");
    app.get("/api/v1/intel/lookup?value=%21%21", Role::Viewer)
        .await
        .problem(400);

    // By id, and pages.
    let one = app
        .get("/api/v1/intel/indicators/ipv4:203.0.113.7", Role::Viewer)
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["confidence"], 90);
    let p1 = app
        .get("/api/v1/intel/indicators?limit=3", Role::Viewer)
        .await
        .json();
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(3), "{p1}");
    let cursor = p1["next_cursor"].as_str().expect("cursor").to_string();
    let p2 = app
        .get(
            &format!(
                "/api/v1/intel/indicators?limit=3&cursor={}",
                cursor.replace('/', "%2F")
            ),
            Role::Viewer,
        )
        .await
        .json();
    assert_eq!(p2["items"].as_array().map(Vec::len), Some(1), "{p2}");
    assert!(p2["next_cursor"].is_null());
    let ips = app
        .get(
            "/api/v1/intel/indicators?type=ipv4&min_confidence=50",
            Role::Viewer,
        )
        .await
        .json();
    assert_eq!(ips["items"].as_array().map(Vec::len), Some(1), "{ips}");

    // Export: STIX filtered by TLP (amber left out), CSV by type.
    let s = app
        .get(
            "/api/v1/intel/export?tlp=green&min_confidence=50",
            Role::Feed,
        )
        .await;
    assert_eq!(s.status, 200);
    assert!(
        s.content_type().starts_with("application/stix+json"),
        "{}",
        s.content_type()
    );
    let b = s.json();
    assert_eq!(b["type"], "bundle");
    let mut patterns: Vec<&str> = b["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["pattern"].as_str())
        .collect();
    patterns.sort_unstable();
    assert_eq!(
        patterns,
        [
            "[ipv4-addr:value = '198.51.100.0/24']",
            "[ipv4-addr:value = '203.0.113.7']"
        ]
    );
    let c = app
        .get("/api/v1/intel/export?format=csv&type=domain", Role::Viewer)
        .await;
    assert_eq!(c.content_type(), "text/csv");
    let text = c.text();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("domain,evil.example,70,TLP:AMBER")),
        "{text}"
    );

    // A manual entry with a TTL, then the list over Basic auth as a feed.
    let add = send(
        &app,
        Method::POST,
        "/api/v1/blocklist-entries",
        Role::Analyst,
        "application/json",
        r#"{"value":"192.0.2[.]66","reason":"contained host","ttl":"1h"}"#.into(),
    )
    .await;
    assert_eq!(add.status, 201, "{}", add.text());
    assert_eq!(add.json()["value"], "192.0.2.66");
    let feed = app.create_token("fw", Role::Feed, TenantId::DEFAULT).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("firewall:{feed}"));
    let fetch = |q: &'static str| {
        let req = Request::get(format!("/api/v1/blocklists/ips.txt{q}"))
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .body(Body::empty())
            .expect("request");
        app.send(req)
    };
    let r = fetch("?min_confidence=50").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.content_type().starts_with("text/plain"));
    assert_eq!(r.text(), "192.0.2.66\n203.0.113.7\n");
    let all = fetch("").await.text();
    assert_eq!(all, "192.0.2.10\n192.0.2.66\n203.0.113.7\n");
    // An amber-only list leaves the domain out at green.
    let req = Request::get("/api/v1/blocklists/domains.txt?tlp=green")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send(req).await.text(), "");
    // A feed token reads lists, not indicators.
    app.get("/api/v1/intel/indicators", Role::Feed)
        .await
        .problem(403);
    app.get("/api/v1/blocklists/nope.txt", Role::Feed)
        .await
        .problem(404);
    // After the TTL the entry is no longer served.
    app.clock.advance_micros(2 * 3600 * 1_000_000);
    assert_eq!(fetch("?min_confidence=50").await.text(), "203.0.113.7\n");
    let entries = app
        .get("/api/v1/blocklist-entries", Role::Viewer)
        .await
        .json();
    assert_eq!(
        entries["items"].as_array().map(Vec::len),
        Some(0),
        "{entries}"
    );
    // Remove: 404 when absent, 204 when present.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/blocklist-entries",
        Role::Admin,
        "application/json",
        r#"{"value":"evil2.example","reason":"phishing"}"#.into(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let del = |id: &'static str| {
        let req = Request::delete(format!("/api/v1/blocklist-entries/{id}"))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token(Role::Analyst)),
            )
            .body(Body::empty())
            .expect("request");
        app.send(req)
    };
    assert_eq!(del("domain:evil2.example").await.status, 204);
    del("domain:evil2.example").await.problem(404);
    app.stop().await;
}

/// A small ATT&CK bundle (2.0 style): a tactic, a technique with a
/// sub-technique, a group and a tool using it, a mitigation, a revoked
/// technique replaced by it, and a deprecated group that must not show.
fn attack_bundle() -> String {
    let ext = |id: &str| {
        format!(r#""external_references":[{{"source_name":"mitre-attack","external_id":"{id}"}}]"#)
    };
    let t = r#""created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z""#;
    let u = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    let rel = |n: u32, rt: &str, s: &str, d: &str| {
        format!(
            r#"{{"type":"relationship","id":"relationship--{}",{t},"relationship_type":"{rt}","source_ref":"{s}","target_ref":"{d}"}}"#,
            u(n)
        )
    };
    let tech = format!("attack-pattern--{}", u(2));
    let sub = format!("attack-pattern--{}", u(3));
    let old = format!("attack-pattern--{}", u(4));
    let grp = format!("intrusion-set--{}", u(5));
    let dep = format!("intrusion-set--{}", u(6));
    let tool = format!("tool--{}", u(7));
    let mit = format!("course-of-action--{}", u(8));
    let objs = [
        format!(
            r#"{{"type":"x-mitre-tactic","id":"x-mitre-tactic--{}",{t},"name":"Execution","x_mitre_shortname":"execution","x_mitre_domains":["enterprise-attack"],{}}}"#,
            u(1),
            ext("TA0002")
        ),
        format!(
            r#"{{"type":"attack-pattern","id":"{tech}",{t},"name":"Command and Scripting Interpreter","x_mitre_domains":["enterprise-attack"],"kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"execution"}}],{}}}"#,
            ext("T1059")
        ),
        format!(
            r#"{{"type":"attack-pattern","id":"{sub}",{t},"name":"PowerShell","x_mitre_is_subtechnique":true,"x_mitre_domains":["enterprise-attack"],"kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"execution"}}],{}}}"#,
            ext("T1059.001")
        ),
        format!(
            r#"{{"type":"attack-pattern","id":"{old}",{t},"name":"Old Scripting","revoked":true,{}}}"#,
            ext("T1064")
        ),
        format!(
            r#"{{"type":"intrusion-set","id":"{grp}",{t},"name":"APT-Test",{}}}"#,
            ext("G9001")
        ),
        format!(
            r#"{{"type":"intrusion-set","id":"{dep}",{t},"name":"Gone","x_mitre_deprecated":true,{}}}"#,
            ext("G9002")
        ),
        format!(
            r#"{{"type":"tool","id":"{tool}",{t},"name":"TestTool",{}}}"#,
            ext("S9001")
        ),
        format!(
            r#"{{"type":"course-of-action","id":"{mit}",{t},"name":"Execution Prevention",{}}}"#,
            ext("M1038")
        ),
        rel(10, "subtechnique-of", &sub, &tech),
        rel(11, "uses", &grp, &tech),
        rel(12, "uses", &dep, &tech),
        rel(13, "uses", &tool, &tech),
        rel(14, "mitigates", &mit, &tech),
        rel(15, "revoked-by", &old, &tech),
    ];
    format!(
        r#"{{"type":"bundle","id":"bundle--{}","spec_version":"2.0","objects":[{}]}}"#,
        u(99),
        objs.join(",")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_technique_with_groups_software_mitigations_and_rules() {
    let app = TestApp::start().await;
    let now = app.clock.now();
    let r = vigil_server::attack::import_attack(
        &app.store,
        TenantId::DEFAULT,
        attack_bundle().as_bytes(),
        "attack:test",
        now,
    )
    .await
    .expect("import");
    assert_eq!(r.attack["technique"].active, 2, "{r:?}");
    assert_eq!(r.attack["technique"].revoked_or_deprecated, 1, "{r:?}");
    assert_eq!(r.attack["group"].revoked_or_deprecated, 1, "{r:?}");
    let again = vigil_server::attack::import_attack(
        &app.store,
        TenantId::DEFAULT,
        attack_bundle().as_bytes(),
        "attack:test",
        now,
    )
    .await
    .expect("again");
    assert_eq!(again.stix_objects_added, 0);
    // A rule tagged with the sub-technique detects the technique.
    app.store
        .register_rules(
            TenantId::DEFAULT,
            &[vigil_store::NewRule {
                id: "r-ps".into(),
                title: "Encoded PowerShell".into(),
                source: vigil_store::RuleSource::Api,
                path: "x.yml".into(),
                level: Some("high".into()),
                tags: vec!["attack.execution".into(), "attack.t1059.001".into()],
                content: Some("title: x".into()),
            }],
            &vigil_model::Principal::system("test"),
            now,
        )
        .await
        .expect("rule");
    let v = app
        .get("/api/v1/attack/techniques/T1059", Role::Viewer)
        .await;
    assert_eq!(v.status, 200, "{}", v.text());
    let v = v.json();
    let ids = |k: &str| -> Vec<String> {
        v[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["id"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(v["name"], "Command and Scripting Interpreter");
    assert_eq!(ids("tactics"), ["TA0002"]);
    assert_eq!(ids("subtechniques"), ["T1059.001"]);
    assert_eq!(
        ids("groups"),
        ["G9001"],
        "the deprecated group is left out: {v}"
    );
    assert_eq!(ids("software"), ["S9001"]);
    assert_eq!(ids("mitigations"), ["M1038"]);
    assert_eq!(v["rules"][0]["id"], "r-ps", "{v}");
    assert_eq!(v["rules"][0]["technique"], "T1059.001", "{v}");
    // The revoked id answers with its replacement.
    let old = app
        .get("/api/v1/attack/techniques/t1064", Role::Viewer)
        .await
        .json();
    assert_eq!(
        (old["id"].as_str(), old["replaces"].as_str()),
        (Some("T1059"), Some("T1064")),
        "{old}"
    );
    let sub = app
        .get("/api/v1/attack/techniques/T1059.001", Role::Viewer)
        .await
        .json();
    assert_eq!(sub["parent"]["id"], "T1059", "{sub}");
    app.get("/api/v1/attack/techniques/T9999", Role::Viewer)
        .await
        .problem(404);
    app.stop().await;
}

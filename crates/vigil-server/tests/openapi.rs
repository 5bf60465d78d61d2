//! The OpenAPI document: generated from the code, pinned as a golden file
//! (`UPDATE_EXPECT=1 cargo test -p vigil-server --test openapi` rewrites it;
//! review the diff), and checked against the route table: every route is
//! documented with the security its table row demands.

use vigil_server::{Access, ROUTES, Scheme};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

fn doc() -> serde_json::Value {
    serde_json::to_value(vigil_server::openapi()).expect("openapi serialises")
}

/// `v` with every object's keys sorted, so the golden file does not depend
/// on whether serde_json's `preserve_order` feature is on (the `evtx` crate
/// turns it on for the whole build).
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut pairs: Vec<_> = m.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

#[test]
fn document_matches_the_golden_file() {
    let text = serde_json::to_string_pretty(&sorted(doc())).expect("json") + "\n";
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(GOLDEN, &text).expect("write golden openapi.json");
        return;
    }
    let golden = std::fs::read_to_string(GOLDEN).unwrap_or_default();
    assert!(
        golden == text,
        "the OpenAPI document changed; run `UPDATE_EXPECT=1 cargo test -p vigil-server --test openapi` and review the diff of {GOLDEN}"
    );
}

#[test]
fn every_route_is_documented_with_its_security() {
    let doc = doc();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["basic"]["scheme"], "basic", "{schemes}");
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    for rule in ROUTES {
        let what = format!("{} {}", rule.method, rule.path);
        let op = &doc["paths"][rule.path][rule.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{what} is not in the OpenAPI document");
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{what} has no responses"));
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{what}: no success response"
        );
        let security: Vec<String> = op["security"]
            .as_array()
            .map(|reqs| {
                reqs.iter()
                    .flat_map(|r| r.as_object().into_iter().flat_map(|o| o.keys().cloned()))
                    .collect()
            })
            .unwrap_or_default();
        match rule.access {
            Access::Public => {
                assert!(
                    security.is_empty(),
                    "{what} is public but documents security {security:?}"
                );
                assert!(
                    doc.get("security").is_none(),
                    "no global security requirement"
                );
            }
            Access::Roles(roles) => {
                let want: Vec<&str> = rule
                    .schemes
                    .iter()
                    .map(|s| match s {
                        Scheme::Bearer => "bearer",
                        Scheme::Basic => "basic",
                        Scheme::Splunk => "splunk",
                    })
                    .collect();
                assert_eq!(
                    security, want,
                    "{what}: security must list the schemes its table row accepts"
                );
                // HEC routes answer in HEC's JSON shape, everything else
                // with problem details.
                let (media, schema) = if rule.schemes.contains(&Scheme::Splunk) {
                    ("application/json", "#/components/schemas/HecResponse")
                } else if rule.path.starts_with("/taxii2/") {
                    (
                        "application/taxii+json;version=2.1",
                        "#/components/schemas/TaxiiError",
                    )
                } else {
                    ("application/problem+json", "#/components/schemas/Problem")
                };
                for status in ["401", "403"] {
                    let r = &responses
                        .get(status)
                        .unwrap_or_else(|| panic!("{what} lacks {status}"));
                    assert_eq!(
                        r["content"][media]["schema"]["$ref"], schema,
                        "{what} {status}: {r}"
                    );
                }
                let documented: Vec<_> = op["x-vigil-roles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                let want: Vec<_> = roles
                    .iter()
                    .map(|r| serde_json::json!(r.as_str()))
                    .collect();
                assert_eq!(documented, want, "{what}: x-vigil-roles");
            }
        }
    }
    // Route-specific errors.
    let ingest = &doc["paths"]["/api/v1/ingest"]["post"]["responses"];
    for status in ["400", "413", "503"] {
        assert!(
            ingest[status]["content"]["application/problem+json"].is_object(),
            "ingest {status}"
        );
    }
    assert!(doc["paths"]["/api/v1/alerts/{id}"]["get"]["responses"]["404"].is_object());
    assert!(doc["paths"]["/api/v1/alerts"]["get"]["responses"]["400"].is_object());
    assert!(doc["paths"]["/readyz"]["get"]["responses"]["503"].is_object());
    assert_eq!(schemes["splunk"]["in"], "header", "{schemes}");
    for (path, statuses) in [
        ("/services/collector/event", &["400", "413", "503"][..]),
        ("/services/collector/ack", &["400"][..]),
        ("/api/v1/ingest/evtx", &["400", "413", "415"][..]),
    ] {
        for status in statuses {
            assert!(
                doc["paths"][path]["post"]["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_owned()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_schema_reference_resolves() {
    let doc = doc();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling reference {r}"
        );
    }
}

/// A JSON body is read by an extractor that answers 415 when the
/// Content-Type is not JSON and 400 when the JSON is malformed; both must be
/// documented, or API fuzzers (schemathesis) report an undocumented status.
#[test]
fn every_json_body_documents_400_and_415() {
    let doc = doc();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let takes_json = op["requestBody"]["content"]
                .as_object()
                .is_some_and(|c| c.contains_key("application/json"));
            if !takes_json {
                continue;
            }
            for status in ["400", "415"] {
                if op["responses"].get(status).is_none() {
                    missing.push(format!("{method} {path}: {status}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented statuses: {missing:#?}");
}

//! Exporting indicators as STIX 2.1: one `indicator` object per indicator
//! with a STIX pattern over the matching cyber-observable, its confidence,
//! validity, labels, kill-chain phases, TLP marking and provenance. Ids are
//! UUIDv5 of type + value, so exporting twice gives the same objects.

use serde_json::{Value, json};
use vigil_model::Timestamp;

use crate::indicator::{Indicator, IndicatorType, Tlp};

/// Namespace of Vigil's exported STIX ids (UUIDv5).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5a1e_7c0d_9f1b_4d0e_8a3c_7e6f_0b2d_4c91);

/// A quoted STIX pattern string literal.
fn lit(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern matching `kind` + `value`; `None` for types STIX has
/// no observable for (CVE ids).
pub fn pattern(kind: IndicatorType, value: &str) -> Option<String> {
    use IndicatorType as T;
    let path = match kind {
        T::Ipv4 | T::Ipv4Cidr => "ipv4-addr:value",
        T::Ipv6 | T::Ipv6Cidr => "ipv6-addr:value",
        T::Domain | T::Hostname => "domain-name:value",
        T::Url => "url:value",
        T::Email => "email-addr:value",
        T::Md5 => "file:hashes.MD5",
        T::Sha1 => "file:hashes.'SHA-1'",
        T::Sha256 => "file:hashes.'SHA-256'",
        T::Sha512 => "file:hashes.'SHA-512'",
        T::FileName => "file:name",
        T::UserAgent => "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
        T::Ja3 => "x-ja3-fingerprint:value",
        T::Ja4 => "x-ja4-fingerprint:value",
        T::RegistryKey => "windows-registry-key:key",
        T::Cve => return None,
    };
    Some(format!("[{path} = {}]", lit(value)))
}

/// The STIX 2.1 TLP marking-definition id of a level.
pub const fn tlp_marking(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The deterministic STIX id of an exported indicator.
pub fn indicator_id(kind: IndicatorType, value: &str) -> String {
    let u = uuid::Uuid::new_v5(&NAMESPACE, format!("{kind}:{value}").as_bytes());
    format!("indicator--{u}")
}

/// The STIX 2.1 `indicator` object of `ind`; `created`/`modified` are the
/// stored times. `None` when the type has no STIX pattern.
pub fn indicator_object(ind: &Indicator, created: Timestamp, modified: Timestamp) -> Option<Value> {
    let pattern = pattern(ind.kind, &ind.value)?;
    let mut o = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(ind.kind, &ind.value),
        "created": created,
        "modified": modified.max(created),
        "name": format!("{} {}", ind.kind, ind.value),
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": ind.valid_from.unwrap_or(created),
        "confidence": ind.confidence,
        "x_vigil_type": ind.kind.as_str(),
        "x_vigil_provenance": ind.provenance,
    });
    let m = o.as_object_mut()?;
    if let Some(u) = ind.valid_until {
        // STIX requires valid_until > valid_from.
        if ind.valid_from.is_none_or(|f| u > f) {
            m.insert("valid_until".into(), json!(u));
        }
    }
    if !ind.labels.is_empty() {
        m.insert("labels".into(), json!(ind.labels));
    }
    let mut phases: Vec<Value> = ind
        .kill_chain
        .iter()
        .map(|k| json!({"kill_chain_name": k.kill_chain_name, "phase_name": k.phase_name}))
        .collect();
    phases.dedup();
    if !phases.is_empty() {
        m.insert("kill_chain_phases".into(), json!(phases));
    }
    if !ind.techniques.is_empty() {
        m.insert(
            "external_references".into(),
            json!(
                ind.techniques
                    .iter()
                    .map(|t| json!({"source_name": "mitre-attack", "external_id": t}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    if !ind.related.is_empty() {
        m.insert("x_vigil_related".into(), json!(ind.related));
    }
    if let Some(t) = ind.tlp {
        m.insert("object_marking_refs".into(), json!([tlp_marking(t)]));
    }
    if let Some(f) = ind.first_seen {
        m.insert("x_vigil_first_seen".into(), json!(f));
    }
    if let Some(l) = ind.last_seen {
        m.insert("x_vigil_last_seen".into(), json!(l));
    }
    Some(o)
}

/// A STIX 2.1 bundle of `objects`; its id is UUIDv5 of the object ids, so
/// the same export gives the same bundle.
pub fn bundle(objects: Vec<Value>) -> Value {
    let ids: Vec<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
    let u = uuid::Uuid::new_v5(&NAMESPACE, ids.join(",").as_bytes());
    json!({"type": "bundle", "id": format!("bundle--{u}"), "objects": objects})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stix::{self, ImportOptions};

    #[test]
    fn round_trips_through_the_importer() {
        let mut i = Indicator::new(IndicatorType::Sha256, &"a".repeat(64), "f", None).expect("i");
        i.confidence = 80;
        i.tlp = Some(Tlp::Amber);
        i.techniques.insert("T1059".into());
        let mut d = Indicator::new(IndicatorType::Domain, "ev'il.example", "f", None)
            .unwrap_or_else(|_| {
                Indicator::new(IndicatorType::Domain, "evil.example", "f", None).expect("d")
            });
        d.valid_until = Some(Timestamp::from_secs(100));
        let objs: Vec<Value> = [&i, &d]
            .iter()
            .filter_map(|x| indicator_object(x, Timestamp::from_secs(1), Timestamp::from_secs(2)))
            .collect();
        assert_eq!(objs.len(), 2);
        let b = bundle(objs);
        assert_eq!(b, bundle(b["objects"].as_array().expect("objs").clone()));
        let bytes = serde_json::to_vec(&b).expect("json");
        let imp = stix::parse_bundle(&bytes, "re", &ImportOptions::default()).expect("parse");
        assert!(imp.report.errors.is_empty(), "{:?}", imp.report.errors);
        let mut got: Vec<(IndicatorType, String, u8)> = imp
            .indicators
            .iter()
            .map(|x| (x.kind, x.value.clone(), x.confidence))
            .collect();
        got.sort();
        assert_eq!(got[0].0, IndicatorType::Domain);
        assert_eq!((got[1].0, got[1].2), (IndicatorType::Sha256, 80));
        let tlp = imp.indicators.iter().find_map(|x| x.tlp);
        assert_eq!(tlp, Some(Tlp::Amber));
        assert_eq!(pattern(IndicatorType::Cve, "CVE-2024-1"), None);
        assert_eq!(
            pattern(IndicatorType::FileName, "a'b\\c"),
            Some(r"[file:name = 'a\'b\\c']".into())
        );
    }
}

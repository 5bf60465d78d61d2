//! Block 5's links to other state: hosts seen in events linked to or
//! creating assets (migration 50010), and the read of intel about CVEs
//! (block 4 tables) used by prioritisation. See: #6

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{
    HostSighting, INTEL_MIGRATIONS, IndicatorRecord, NewAsset, StixObjectRecord, Store,
    VULN_MIGRATIONS,
};

use super::t;

fn seen(name: Option<&str>, ips: &[&str], at: i64) -> HostSighting {
    HostSighting {
        tenant: TenantId::DEFAULT,
        name: name.map(str::to_owned),
        ips: ips.iter().map(|s| (*s).to_owned()).collect(),
        at: t(at),
    }
}

pub async fn vuln_host_sightings_link_or_create_assets(s: Store) {
    s.migrate(VULN_MIGRATIONS).await.expect("migrate vuln");
    let d = TenantId::DEFAULT;
    let (db1, _) = s
        .upsert_asset(
            d,
            &NewAsset {
                name: "db1".into(),
                kind: "host".into(),
                ips: vec!["10.0.0.9".into()],
                criticality: 5,
                exposure: "isolated".into(),
                owner: Some("dba".into()),
                ..NewAsset::default()
            },
            t(1),
        )
        .await
        .expect("asset");
    assert_eq!((db1.source.as_str(), db1.last_seen), ("manual", None));
    let batch = [
        seen(Some("db1.corp.example"), &[], 5),
        seen(None, &["10.0.0.9"], 6),
        seen(Some("web9"), &["192.0.2.9"], 7),
        seen(Some("WEB9"), &[], 8),
        seen(None, &[], 8),
    ];
    let st = s
        .record_host_sightings("asset-discovery", 7, &batch, t(9))
        .await
        .expect("sightings");
    assert_eq!((st.created, st.linked), (1, 3));
    assert_eq!(s.checkpoint("asset-discovery").await.expect("cp"), 7);
    let db1 = s.get_asset(d, "db1").await.expect("get").expect("db1");
    assert_eq!(db1.source, "manual");
    assert_eq!(db1.last_seen, Some(t(6)));
    assert_eq!(
        (
            db1.asset.criticality,
            db1.asset.exposure.as_str(),
            db1.asset.owner.as_deref()
        ),
        (5, "isolated", Some("dba"))
    );
    let web = s.get_asset(d, "web9").await.expect("get").expect("web9");
    assert_eq!(web.source, "seen_in_events");
    assert_eq!(web.last_seen, Some(t(8)));
    assert_eq!(web.asset.ips, ["192.0.2.9"]);
    assert_eq!(
        (web.asset.criticality, web.asset.exposure.as_str()),
        (3, "internal")
    );
    // Older sightings move nothing; the checkpoint never goes back.
    let st = s
        .record_host_sightings("asset-discovery", 3, &[seen(Some("web9"), &[], 2)], t(10))
        .await
        .expect("again");
    assert_eq!((st.created, st.linked), (0, 0));
    assert_eq!(s.checkpoint("asset-discovery").await.expect("cp"), 7);
    assert_eq!(s.list_assets(d).await.expect("list").len(), 2);
}

fn stix(
    id: &str,
    kind: &str,
    body: serde_json::Value,
    rel: Option<(&str, &str)>,
) -> StixObjectRecord {
    StixObjectRecord {
        id: id.into(),
        kind: kind.into(),
        modified: t(1),
        spec_version: "2.1".into(),
        name: body["name"].as_str().map(str::to_owned),
        revoked: false,
        source: "test".into(),
        body,
        relationship: rel.map(|(a, b)| ("exploits".into(), a.into(), b.into())),
    }
}

pub async fn vuln_intel_about_cves(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    let d = TenantId::DEFAULT;
    let v = "vulnerability--00000000-0000-4000-8000-000000000001";
    let m = "malware--00000000-0000-4000-8000-000000000002";
    s.upsert_stix_objects(
        d,
        &[
            stix(v, "vulnerability", json!({"type": "vulnerability", "name": "EternalBlue",
                "external_references": [{"source_name": "cve", "external_id": "CVE-2017-0144"},
                    {"source_name": "exploit-db", "url": "https://www.exploit-db.com/exploits/42315"}]}), None),
            stix(m, "malware", json!({"type": "malware", "name": "WannaCry", "malware_types": ["worm", "ransomware"]}), None),
            stix("relationship--00000000-0000-4000-8000-000000000003", "relationship",
                json!({"type": "relationship"}), Some((m, v))),
        ],
        t(1),
    )
    .await
    .expect("stix");
    let ind = |value: &str, until: Option<i64>| IndicatorRecord {
        kind: "cve".into(),
        value: value.into(),
        confidence: 80,
        tlp: None,
        valid_from: None,
        valid_until: until.map(t),
        labels: vec![],
        techniques: vec![],
        related: vec![],
        markings: vec![],
        kill_chain: json!([]),
        provenance: json!([]),
        first_seen: None,
        last_seen: None,
        feed_sightings: 0,
        sightings: 0,
        last_sighting: None,
        created_at: t(0),
        updated_at: t(0),
    };
    s.upsert_indicators(
        d,
        &[ind("CVE-2021-44228", None), ind("CVE-2014-0160", Some(5))],
        t(1),
    )
    .await
    .expect("indicators");
    let intel = s.vuln_intel(d, t(10)).await.expect("read");
    let eb = &intel["CVE-2017-0144"];
    assert_eq!(eb.objects, [v]);
    assert_eq!(eb.links.len(), 1);
    assert_eq!(
        (
            eb.links[0].relationship.as_str(),
            eb.links[0].source_kind.as_str(),
            eb.links[0].source_name.as_str()
        ),
        ("exploits", "malware", "WannaCry")
    );
    assert_eq!(eb.links[0].source_types, ["worm", "ransomware"]);
    assert!(
        eb.references[0].contains("exploit-db.com"),
        "{:?}",
        eb.references
    );
    assert_eq!(intel["CVE-2021-44228"].indicators, 1);
    // An expired indicator says nothing.
    assert!(!intel.contains_key("CVE-2014-0160"));
}

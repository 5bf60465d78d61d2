//! Intel sightings consumed from the change feed exactly once, and manual
//! blocklist entries with TTLs served beside indicators. See: #5

use serde_json::json;
use vigil_model::{Effect, TenantId};
use vigil_store::{
    BlocklistEntry, DetectionCommit, INTEL_MIGRATIONS, INTEL_OPS_MIGRATIONS, IndicatorRecord, Store,
};

use super::t;

fn ind(kind: &str, value: &str, confidence: u8, valid_until: Option<i64>) -> IndicatorRecord {
    IndicatorRecord {
        kind: kind.into(),
        value: value.into(),
        confidence,
        tlp: Some("TLP:GREEN".into()),
        valid_from: None,
        valid_until: valid_until.map(t),
        labels: vec![],
        techniques: vec![],
        related: vec![],
        markings: vec![],
        kill_chain: json!([]),
        provenance: json!([{"feed": "f", "object_id": null}]),
        first_seen: None,
        last_seen: None,
        feed_sightings: 0,
        sightings: 0,
        last_sighting: None,
        created_at: t(0),
        updated_at: t(0),
    }
}

fn sighting(kind: &str, value: &str, at: &str) -> Effect {
    Effect {
        kind: "intel.sighting".into(),
        key: format!("{kind}:{value}"),
        payload: json!({"type": kind, "value": value, "at": at,
            "tenant": TenantId::DEFAULT.to_string()}),
    }
}

async fn migrate(s: &Store) {
    let mut all = INTEL_MIGRATIONS.to_vec();
    all.extend_from_slice(INTEL_OPS_MIGRATIONS);
    s.migrate(&all).await.expect("migrate intel");
}

pub async fn intel_sightings_counted_once_from_change_feed(s: Store) {
    migrate(&s).await;
    let d = TenantId::DEFAULT;
    s.upsert_indicators(
        d,
        &[
            ind("ipv6", "2001:db8::1", 80, None),
            ind("domain", "evil.example", 80, None),
        ],
        t(1),
    )
    .await
    .expect("upsert");
    // Before any sighting: nothing to count, the checkpoint still moves
    // past the other changes.
    let idle = s
        .apply_intel_sightings("intel-sightings", 100, t(2))
        .await
        .expect("idle");
    assert_eq!((idle.read, idle.counted), (0, 0));
    assert!(idle.checkpoint > 0);

    let effects = [
        sighting("ipv6", "2001:db8::1", "1970-01-01T00:01:40Z"),
        sighting("ipv6", "2001:db8::1", "1970-01-01T00:00:50Z"),
        sighting("domain", "evil.example", "1970-01-01T00:02:00Z"),
        sighting("md5", "not-stored", "1970-01-01T00:02:00Z"),
    ];
    s.commit_detections(&DetectionCommit {
        consumer: "detect",
        upto_seq: 5,
        alerts: &[],
        effects: &effects,
        states: &[],
        at: t(300),
    })
    .await
    .expect("commit");
    // Two steps of at most 3 rows each.
    let a = s
        .apply_intel_sightings("intel-sightings", 3, t(301))
        .await
        .expect("apply");
    assert_eq!((a.read, a.counted), (3, 3));
    let b = s
        .apply_intel_sightings("intel-sightings", 3, t(302))
        .await
        .expect("apply");
    assert_eq!((b.read, b.counted), (1, 0));
    // Applying again counts nothing: the checkpoint moved with the counts.
    let c = s
        .apply_intel_sightings("intel-sightings", 3, t(303))
        .await
        .expect("apply");
    assert_eq!(c.read, 0);
    let v6 = s
        .indicator_sightings(d, "ipv6", "2001:db8::1")
        .await
        .expect("stats")
        .expect("stored");
    assert_eq!(
        (v6.count, v6.first, v6.last),
        (2, Some(t(50)), Some(t(100)))
    );
    let dom = s
        .indicator_sightings(d, "domain", "evil.example")
        .await
        .expect("stats")
        .expect("stored");
    assert_eq!(dom.count, 1);
    assert!(
        s.indicator_sightings(d, "md5", "not-stored")
            .await
            .expect("stats")
            .is_none()
    );
    // A re-import keeps the counts.
    s.upsert_indicators(d, &[ind("ipv6", "2001:db8::1", 90, None)], t(400))
        .await
        .expect("reimport");
    let all = s.list_indicators(d).await.expect("list");
    let row = all.iter().find(|r| r.kind == "ipv6").expect("ipv6");
    assert_eq!((row.sightings, row.confidence), (2, 90));
}

pub async fn intel_blocklist_entries_and_candidates(s: Store) {
    migrate(&s).await;
    let d = TenantId::DEFAULT;
    s.upsert_indicators(
        d,
        &[
            ind("ipv4", "203.0.113.7", 90, None),
            ind("ipv4", "203.0.113.8", 30, None),
            ind("ipv4", "203.0.113.9", 90, Some(50)),
            ind("domain", "evil.example", 90, None),
        ],
        t(1),
    )
    .await
    .expect("upsert");
    let entry = |value: &str, expires: Option<i64>| BlocklistEntry {
        kind: "ipv4".into(),
        value: value.into(),
        reason: "playbook contain-host".into(),
        added_by: "playbook:p1".into(),
        created_at: t(10),
        expires_at: expires.map(t),
    };
    assert!(
        s.add_blocklist_entry(d, &entry("198.51.100.1", Some(200)))
            .await
            .expect("add")
    );
    assert!(
        s.add_blocklist_entry(d, &entry("198.51.100.2", Some(60)))
            .await
            .expect("add")
    );
    // Re-adding renews, not duplicates.
    assert!(
        !s.add_blocklist_entry(d, &entry("198.51.100.1", Some(300)))
            .await
            .expect("renew")
    );
    let at100 = s
        .blocklist_candidates(d, &["ipv4"], 50, t(100))
        .await
        .expect("candidates");
    let values: Vec<(&str, bool)> = at100.iter().map(|c| (c.value.as_str(), c.manual)).collect();
    // Low confidence, expired indicator and expired entry left out.
    assert_eq!(values, [("203.0.113.7", false), ("198.51.100.1", true)]);
    let listed = s
        .list_blocklist_entries(d, &[], t(100), true)
        .await
        .expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].expires_at, Some(t(300)));
    assert_eq!(
        s.purge_expired_blocklist_entries(d, t(100))
            .await
            .expect("purge"),
        1
    );
    assert!(
        s.remove_blocklist_entry(d, "ipv4", "198.51.100.1", t(101))
            .await
            .expect("remove")
    );
    assert!(
        !s.remove_blocklist_entry(d, "ipv4", "198.51.100.1", t(102))
            .await
            .expect("remove again")
    );
    let ops: Vec<String> = s
        .changes_after(0, 1000)
        .await
        .expect("changes")
        .into_iter()
        .filter(|c| c.object_type == "blocklist-entry")
        .map(|c| c.op)
        .collect();
    assert_eq!(ops, ["create", "create", "update", "delete"]);
}

pub async fn intel_query_indicators_filters_and_pages(s: Store) {
    use vigil_store::IndicatorQuery;
    migrate(&s).await;
    let d = TenantId::DEFAULT;
    s.upsert_indicators(
        d,
        &[
            ind("ipv4", "203.0.113.7", 90, None),
            ind("ipv4", "203.0.113.8", 30, None),
            ind("ipv4", "203.0.113.9", 90, Some(50)),
            ind("domain", "evil_1.example", 90, None),
            ind("domain", "evil.example", 60, None),
        ],
        t(1),
    )
    .await
    .expect("upsert");
    let q = |q: IndicatorQuery| {
        let s = s.clone();
        async move {
            s.query_indicators(d, &q)
                .await
                .expect("query")
                .into_iter()
                .map(|r| format!("{}:{}", r.kind, r.value))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        q(IndicatorQuery {
            kinds: vec!["ipv4".into()],
            min_confidence: 50,
            valid_at: Some(t(100)),
            ..Default::default()
        })
        .await,
        ["ipv4:203.0.113.7"]
    );
    // `_` is literal in `contains`, not a wildcard.
    assert_eq!(
        q(IndicatorQuery {
            contains: Some("EVIL_".into()),
            ..Default::default()
        })
        .await,
        ["domain:evil_1.example"]
    );
    let first = q(IndicatorQuery {
        limit: Some(2),
        ..Default::default()
    })
    .await;
    assert_eq!(first, ["domain:evil.example", "domain:evil_1.example"]);
    let next = q(IndicatorQuery {
        after: Some(("domain".into(), "evil_1.example".into())),
        limit: Some(2),
        ..Default::default()
    })
    .await;
    assert_eq!(next, ["ipv4:203.0.113.7", "ipv4:203.0.113.8"]);
    let got = s
        .get_indicator(d, "domain", "evil.example")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(got.confidence, 60);
}

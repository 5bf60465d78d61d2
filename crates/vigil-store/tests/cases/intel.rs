//! Threat-intelligence state (block 4 migration): indicator upserts are
//! idempotent, sightings are counted by the store, STIX object versions are
//! kept by `modified`, feeds record their last run. See: #5

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{FeedRecord, INTEL_MIGRATIONS, IndicatorRecord, StixObjectRecord, Store};

use super::t;

fn ind(kind: &str, value: &str, feeds: &[&str]) -> IndicatorRecord {
    IndicatorRecord {
        kind: kind.into(),
        value: value.into(),
        confidence: 80,
        tlp: Some("TLP:AMBER".into()),
        valid_from: Some(t(100)),
        valid_until: None,
        labels: vec!["malicious-activity".into()],
        techniques: vec!["T1071.004".into()],
        related: vec!["BadRAT".into()],
        markings: vec![],
        kill_chain: json!([]),
        provenance: json!(
            feeds
                .iter()
                .map(|f| json!({"feed": f, "object_id": null}))
                .collect::<Vec<_>>()
        ),
        first_seen: None,
        last_seen: None,
        feed_sightings: 0,
        sightings: 0,
        last_sighting: None,
        created_at: t(0),
        updated_at: t(0),
    }
}

fn obj(id: &str, kind: &str, modified: i64) -> StixObjectRecord {
    StixObjectRecord {
        id: id.into(),
        kind: kind.into(),
        modified: t(modified),
        spec_version: "2.1".into(),
        name: Some("x".into()),
        revoked: false,
        source: "test".into(),
        body: json!({"id": id, "type": kind, "modified": modified}),
        relationship: (kind == "relationship").then(|| {
            (
                "uses".into(),
                "malware--a".into(),
                "attack-pattern--b".into(),
            )
        }),
    }
}

pub async fn intel_indicators_objects_and_feeds(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate again");
    let d = TenantId::DEFAULT;
    let batch = [
        ind("ipv4", "203.0.113.7", &["a"]),
        ind("domain", "evil.example", &["a"]),
    ];
    let first = s.upsert_indicators(d, &batch, t(10)).await.expect("upsert");
    assert_eq!((first.added, first.updated, first.unchanged), (2, 0, 0));
    let changes = s.changes_after(0, 100).await.expect("changes").len();
    // Importing the same data again changes nothing, not even the feed.
    let again = s.upsert_indicators(d, &batch, t(20)).await.expect("again");
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(
        s.changes_after(0, 100).await.expect("changes").len(),
        changes
    );
    // A second feed asserting one of them updates it.
    let upd = s
        .upsert_indicators(d, &[ind("domain", "evil.example", &["a", "b"])], t(30))
        .await
        .expect("update");
    assert_eq!((upd.added, upd.updated), (0, 1));

    let n = s
        .record_sightings(
            d,
            &[
                ("domain".into(), "evil.example".into(), t(50)),
                ("domain".into(), "evil.example".into(), t(40)),
                ("md5".into(), "unknown".into(), t(40)),
            ],
        )
        .await
        .expect("sightings");
    assert_eq!(n, 2);
    // Sightings survive a re-import.
    s.upsert_indicators(d, &batch, t(60))
        .await
        .expect("reimport");
    let all = s.list_indicators(d).await.expect("list");
    assert_eq!(all.len(), 2);
    let dom = &all[0];
    assert_eq!(
        (dom.kind.as_str(), dom.value.as_str()),
        ("domain", "evil.example")
    );
    assert_eq!((dom.sightings, dom.last_sighting), (2, Some(t(50))));
    assert_eq!(dom.created_at, t(10));
    assert_eq!(dom.techniques, ["T1071.004"]);
    assert_eq!(dom.tlp.as_deref(), Some("TLP:AMBER"));
    // By key: only the stored ones among the keys, whatever the chunking.
    let mut keys: Vec<(String, String)> = (0..450)
        .map(|i| ("ipv4".to_string(), format!("198.51.100.{i}")))
        .collect();
    keys.insert(7, ("domain".into(), "evil.example".into()));
    keys.push(("ipv4".into(), "203.0.113.7".into()));
    keys.push(("domain".into(), "203.0.113.7".into()));
    let refs: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut got: Vec<(String, String)> = s
        .get_indicators_by_keys(d, &refs)
        .await
        .expect("by keys")
        .into_iter()
        .map(|r| (r.kind, r.value))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("domain".to_string(), "evil.example".to_string()),
            ("ipv4".to_string(), "203.0.113.7".to_string())
        ]
    );
    assert!(
        s.get_indicators_by_keys(super::OTHER, &refs)
            .await
            .expect("other tenant")
            .is_empty()
    );
    // Expired: valid_until passed, found through its index.
    let mut old = ind("ipv4", "192.0.2.1", &["a"]);
    old.valid_until = Some(t(65));
    s.upsert_indicators(d, &[old], t(61))
        .await
        .expect("expiring");
    assert!(
        s.list_expired_indicators(d, t(65))
            .await
            .expect("expired")
            .len()
            == 1
    );
    assert!(
        s.list_expired_indicators(d, t(64))
            .await
            .expect("expired")
            .is_empty()
    );
    let found = s.search_indicators(d, "EVIL", 10).await.expect("search");
    assert_eq!(found.len(), 1);
    assert!(
        s.search_indicators(d, "%", 10)
            .await
            .expect("search")
            .is_empty()
    );
    assert!(
        s.list_indicators(super::OTHER)
            .await
            .expect("other tenant")
            .is_empty()
    );

    // STIX objects: versions by `modified`, relationship edges.
    let objs = [
        obj("malware--a", "malware", 1),
        obj("malware--a", "malware", 2),
        obj("relationship--r", "relationship", 1),
    ];
    let st = s
        .upsert_stix_objects(d, &objs, t(70))
        .await
        .expect("objects");
    assert_eq!((st.added, st.unchanged), (3, 0));
    let st = s
        .upsert_stix_objects(d, &objs, t(80))
        .await
        .expect("objects again");
    assert_eq!((st.added, st.unchanged), (0, 3));
    let counts = s.count_stix_objects(d).await.expect("counts");
    assert_eq!(counts["malware"], 2);
    assert_eq!(counts["relationship-edges"], 1);
    let latest = s.get_stix_object(d, "malware--a").await.expect("get");
    assert_eq!(latest.expect("stored")["modified"], 2);

    // Feeds: the last run and its health.
    let mut feed = FeedRecord {
        name: "unit42".into(),
        kind: "stix".into(),
        location: "/data/stix".into(),
        enabled: true,
        last_run: Some(t(90)),
        last_success: Some(t(90)),
        status: "ok".into(),
        last_error: None,
        objects: 3,
        added: 2,
        updated: 0,
        errors: 0,
    };
    s.record_feed_run(d, &feed, t(90)).await.expect("feed");
    feed.last_run = Some(t(95));
    feed.last_success = None;
    feed.status = "error".into();
    feed.last_error = Some("unreadable".into());
    s.record_feed_run(d, &feed, t(95))
        .await
        .expect("feed again");
    let feeds = s.list_feeds(d).await.expect("feeds");
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].last_success, Some(t(90)));
    assert_eq!(feeds[0].status, "error");
}

//! TAXII collections and configured feeds (block 4, 40010–40011): object
//! queries with every filter and a stable page cursor, collection
//! membership, status resources; feed configuration, health, validators
//! and scheduling. See: #5

use serde_json::json;
use vigil_model::TenantId;
use vigil_store::{
    FeedConfig, FeedSync, INTEL_MIGRATIONS, StixObjectRecord, Store, TAXII_MIGRATIONS, TaxiiCursor,
    TaxiiQuery, TaxiiStatusRecord, VersionFilter,
};

use super::t;

fn obj(id: &str, kind: &str, modified: i64, spec: &str) -> StixObjectRecord {
    StixObjectRecord {
        id: id.into(),
        kind: kind.into(),
        modified: t(modified),
        spec_version: spec.into(),
        name: None,
        revoked: false,
        source: "test".into(),
        body: json!({"id": id, "type": kind, "modified": modified}),
        relationship: None,
    }
}

fn last() -> VersionFilter {
    VersionFilter {
        last: true,
        ..VersionFilter::default()
    }
}

async fn ids(s: &Store, q: &TaxiiQuery) -> Vec<(String, i64)> {
    s.query_taxii_objects(TenantId::DEFAULT, q)
        .await
        .expect("query")
        .into_iter()
        .map(|r| (r.id, r.modified.as_micros() / 1_000_000))
        .collect()
}

pub async fn taxii_collections_and_feeds(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    s.migrate(TAXII_MIGRATIONS).await.expect("migrate taxii");
    s.migrate(TAXII_MIGRATIONS).await.expect("migrate again");
    let d = TenantId::DEFAULT;
    s.upsert_stix_objects(
        d,
        &[
            obj("indicator--a", "indicator", 1, "2.1"),
            obj("malware--m", "malware", 1, "2.1"),
        ],
        t(100),
    )
    .await
    .expect("store");
    s.upsert_stix_objects(
        d,
        &[
            obj("indicator--a", "indicator", 2, "2.1"),
            obj("indicator--b", "indicator", 1, "2.0"),
        ],
        t(200),
    )
    .await
    .expect("store");

    let q = |f: &dyn Fn(&mut TaxiiQuery)| {
        let mut q = TaxiiQuery {
            versions: last(),
            limit: 100,
            ..TaxiiQuery::default()
        };
        f(&mut q);
        q
    };
    assert_eq!(
        ids(&s, &q(&|_| {})).await,
        vec![
            ("malware--m".into(), 1),
            ("indicator--a".into(), 2),
            ("indicator--b".into(), 1)
        ]
    );
    let all = q(&|q| q.versions.all = true);
    assert_eq!(ids(&s, &all).await.len(), 4);
    let first = q(&|q| {
        q.versions = VersionFilter {
            first: true,
            ..VersionFilter::default()
        }
    });
    assert!(ids(&s, &first).await.contains(&("indicator--a".into(), 1)));
    let at = q(&|q| {
        q.versions = VersionFilter {
            at: vec![t(2)],
            ..VersionFilter::default()
        }
    });
    assert_eq!(ids(&s, &at).await, vec![("indicator--a".into(), 2)]);
    let after = q(&|q| q.added_after = Some(t(100)));
    assert_eq!(ids(&s, &after).await.len(), 2);
    let types = q(&|q| q.types = vec!["malware".into()]);
    assert_eq!(ids(&s, &types).await, vec![("malware--m".into(), 1)]);
    let spec = q(&|q| q.spec_versions = vec!["2.0".into()]);
    assert_eq!(ids(&s, &spec).await, vec![("indicator--b".into(), 1)]);
    let by_id = q(&|q| {
        q.ids = vec!["indicator--a".into(), "indicator--b".into()];
        q.versions.all = true;
    });
    assert_eq!(ids(&s, &by_id).await.len(), 3);

    // Pages of one, by cursor: every row once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<TaxiiCursor> = None;
    loop {
        let page = s
            .query_taxii_objects(
                d,
                &TaxiiQuery {
                    after: cursor.clone(),
                    limit: 1,
                    ..all.clone()
                },
            )
            .await
            .expect("page");
        let Some(r) = page.first() else { break };
        cursor = Some(TaxiiCursor {
            added: r.added,
            id: r.id.clone(),
            modified: r.modified,
        });
        assert!(r.body.is_none(), "no body unless asked");
        seen.push((r.id.clone(), r.modified));
    }
    assert_eq!(seen.len(), 4);
    let with_body = TaxiiQuery {
        with_body: true,
        ..q(&|q| q.types = vec!["malware".into()])
    };
    let rows = s.query_taxii_objects(d, &with_body).await.expect("body");
    assert_eq!(
        rows[0].body.as_ref().map(|b| b["id"].clone()),
        Some(json!("malware--m"))
    );

    // Membership of a writable collection.
    let members = vec![
        ("indicator--a".to_owned(), t(1)),
        ("indicator--a".to_owned(), t(2)),
    ];
    assert_eq!(
        s.add_taxii_members(d, "inbox", &members, t(300))
            .await
            .expect("add"),
        2
    );
    assert_eq!(
        s.add_taxii_members(d, "inbox", &members, t(400))
            .await
            .expect("add"),
        0
    );
    let inbox = q(&|q| q.collection = Some("inbox".into()));
    let rows = s.query_taxii_objects(d, &inbox).await.expect("inbox");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].added, t(300), "the first date added is kept");
    assert_eq!(rows[0].modified, t(2));

    // Status resources.
    let st = TaxiiStatusRecord {
        id: "st-1".into(),
        collection: "inbox".into(),
        status: "complete".into(),
        requested_at: t(300),
        successes: json!([{"id": "indicator--a", "version": "x"}]),
        failures: json!([]),
        pendings: json!([]),
    };
    s.put_taxii_status(d, &st).await.expect("status");
    assert_eq!(s.get_taxii_status(d, "st-1").await.expect("get"), Some(st));
    assert_eq!(s.get_taxii_status(d, "nope").await.expect("get"), None);

    // Feeds: configure, sync outcomes, reconfigure, remove.
    let mut f = FeedConfig {
        name: "abuse".into(),
        format: "csv".into(),
        location: "https://feeds.example/list.csv".into(),
        enabled: true,
        interval_secs: 3600,
        default_confidence: Some(70),
        default_tlp: Some("TLP:GREEN".into()),
        auth: "none".into(),
        secret: None,
        options: Some(json!({"delimiter": ",", "value_column": 1, "header": true})),
    };
    assert_eq!(f.validate(), Ok(()));
    s.put_feed(d, &f, t(10)).await.expect("put");
    let got = s.get_feed(d, "abuse").await.expect("get").expect("feed");
    assert_eq!(got.config, f);
    assert_eq!(got.status, "new");
    assert!(got.configured);
    let ok = FeedSync {
        status: "ok".into(),
        objects: 10,
        added: 8,
        updated: 1,
        expired: 2,
        etag: Some("\"v1\"".into()),
        last_modified: Some("Tue, 01 Jan 2030 00:00:00 GMT".into()),
        ..FeedSync::default()
    };
    s.record_feed_sync(d, "abuse", &ok, t(20))
        .await
        .expect("sync");
    let err = FeedSync {
        status: "error".into(),
        error: Some("boom".into()),
        ..FeedSync::default()
    };
    s.record_feed_sync(d, "abuse", &err, t(30))
        .await
        .expect("sync");
    let got = s.get_feed(d, "abuse").await.expect("get").expect("feed");
    assert_eq!((got.last_run, got.last_success), (Some(t(30)), Some(t(20))));
    assert_eq!(got.status, "error");
    assert_eq!(got.last_error.as_deref(), Some("boom"));
    assert_eq!(
        got.etag.as_deref(),
        Some("\"v1\""),
        "validators kept when not given"
    );
    // Same location: validators kept; new location: reset.
    f.interval_secs = 600;
    s.put_feed(d, &f, t(40)).await.expect("put");
    assert!(
        s.get_feed(d, "abuse")
            .await
            .expect("get")
            .and_then(|g| g.etag)
            .is_some()
    );
    f.location = "https://feeds.example/other.csv".into();
    s.put_feed(d, &f, t(50)).await.expect("put");
    let got = s.get_feed(d, "abuse").await.expect("get").expect("feed");
    assert_eq!(
        (got.etag, got.last_modified, got.config.interval_secs),
        (None, None, 600)
    );

    s.schedule_feed(d, &f, t(50)).await.expect("schedule");
    let job = vigil_store::feed_job_name("abuse");
    assert!(s.run_job_soon(&job, t(60)).await.expect("soon"));
    let jobs = s.list_jobs().await.expect("jobs");
    let j = jobs.iter().find(|j| j.name == job).expect("job");
    assert_eq!((j.next_run, j.interval_secs), (t(60), Some(600)));
    assert_eq!(j.payload, json!({"feed": "abuse"}));
    f.enabled = false;
    s.schedule_feed(d, &f, t(70)).await.expect("disable");
    assert!(
        !s.run_job_soon(&job, t(80)).await.expect("soon"),
        "disabled job"
    );

    assert_eq!(s.list_feed_infos(d).await.expect("list").len(), 1);
    assert!(s.delete_feed(d, "abuse").await.expect("delete"));
    assert!(!s.delete_feed(d, "abuse").await.expect("delete"));

    // Validation names the field.
    for (bad, field) in [
        (
            FeedConfig {
                name: "a b".into(),
                ..f.clone()
            },
            "name",
        ),
        (
            FeedConfig {
                format: "xml".into(),
                ..f.clone()
            },
            "format",
        ),
        (
            FeedConfig {
                options: Some(json!([1])),
                ..f.clone()
            },
            "options",
        ),
        (
            FeedConfig {
                interval_secs: 1,
                ..f.clone()
            },
            "interval",
        ),
        (
            FeedConfig {
                default_confidence: Some(101),
                ..f.clone()
            },
            "default_confidence",
        ),
        (
            FeedConfig {
                default_tlp: Some("TLP:PINK".into()),
                ..f.clone()
            },
            "default_tlp",
        ),
        (
            FeedConfig {
                auth: "basic".into(),
                ..f.clone()
            },
            "secret",
        ),
        (
            FeedConfig {
                format: "taxii".into(),
                location: "/tmp/x".into(),
                ..f.clone()
            },
            "location",
        ),
    ] {
        let e = bad.validate().err().unwrap_or_default();
        assert!(e.starts_with(field), "{field}: {e}");
    }
}

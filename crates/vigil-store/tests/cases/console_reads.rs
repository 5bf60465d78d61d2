//! Reads behind the console's intelligence and vulnerability pages (#9):
//! indicator search by prefix, feed and expiry with keyset paging, counts
//! per feed, findings ranked by risk with their filters and `(risk, id)`
//! paging, and the per-decision summary.

use serde_json::json;
use vigil_model::{Severity, TenantId};
use vigil_store::{
    DetectionCommit, FindingRecord, INTEL_MIGRATIONS, IndicatorQuery, IndicatorRecord, Migration,
    NewAsset, RankedFindingQuery, Store, VULN_MIGRATIONS,
};

use super::t;

fn ind(kind: &str, value: &str, feeds: &[&str], until: Option<i64>) -> IndicatorRecord {
    IndicatorRecord {
        kind: kind.into(),
        value: value.into(),
        confidence: 60,
        tlp: None,
        valid_from: None,
        valid_until: until.map(t),
        labels: vec![],
        techniques: vec![],
        related: vec![],
        markings: vec![],
        kill_chain: json!([]),
        provenance: json!(
            feeds
                .iter()
                .map(|f| json!({"feed": f, "object_id": format!("{f}-{value}")}))
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

pub async fn console_indicator_search_and_feed_counts(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    let d = TenantId::DEFAULT;
    let mut rows = vec![
        ind("domain", "evil.example", &["alpha", "beta"], None),
        ind("domain", "old.example", &["alpha"], Some(50)),
        ind("ipv4", "203.0.113.7", &["beta"], Some(500)),
        // Two provenance entries of one feed count once.
        ind("ipv4", "203.0.113.8", &["beta", "beta"], None),
    ];
    for i in 0..25 {
        rows.push(ind("ipv4", &format!("10.1.0.{i}"), &["bulk"], None));
    }
    s.upsert_indicators(d, &rows, t(10)).await.expect("upsert");
    let values =
        |rs: Vec<IndicatorRecord>| -> Vec<String> { rs.into_iter().map(|r| r.value).collect() };
    let q = |f: IndicatorQuery| {
        let s = s.clone();
        async move { values(s.query_indicators(d, &f).await.expect("query")) }
    };
    assert_eq!(
        q(IndicatorQuery {
            feed: Some("alpha".into()),
            ..IndicatorQuery::default()
        })
        .await,
        ["evil.example", "old.example"]
    );
    assert_eq!(
        q(IndicatorQuery {
            feed: Some("beta".into()),
            valid_at: Some(t(100)),
            ..IndicatorQuery::default()
        })
        .await,
        ["evil.example", "203.0.113.7", "203.0.113.8"]
    );
    assert_eq!(
        q(IndicatorQuery {
            expired_at: Some(t(100)),
            ..IndicatorQuery::default()
        })
        .await,
        ["old.example"]
    );
    assert_eq!(
        q(IndicatorQuery {
            prefix: Some("203.0.113.".into()),
            ..IndicatorQuery::default()
        })
        .await,
        ["203.0.113.7", "203.0.113.8"]
    );
    assert!(
        q(IndicatorQuery {
            prefix: Some("example".into()),
            ..IndicatorQuery::default()
        })
        .await
        .is_empty()
    );
    // `%` and `_` are literal.
    assert!(
        q(IndicatorQuery {
            prefix: Some("10.1.0._".into()),
            ..IndicatorQuery::default()
        })
        .await
        .is_empty()
    );
    // Keyset paging within a feed: no dupes, no skips.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .query_indicators(
                d,
                &IndicatorQuery {
                    feed: Some("bulk".into()),
                    after: after.clone(),
                    limit: Some(10),
                    ..IndicatorQuery::default()
                },
            )
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some((last.kind.clone(), last.value.clone()));
        seen.extend(page.into_iter().map(|r| r.value));
    }
    assert_eq!(seen.len(), 25);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 25);
    // Counts per feed: (indicators, expired at the time).
    let counts = s.indicator_feed_counts(d, t(100)).await.expect("counts");
    assert_eq!(
        counts,
        [
            ("alpha".to_string(), 2, 1),
            ("beta".to_string(), 3, 0),
            ("bulk".to_string(), 25, 0),
        ]
    );
    let later = s.indicator_feed_counts(d, t(1000)).await.expect("counts");
    assert_eq!(later[1], ("beta".to_string(), 3, 1));
    assert!(
        s.indicator_feed_counts(super::OTHER, t(100))
            .await
            .expect("other tenant")
            .is_empty()
    );
    // An update replaces the indicator's feeds and expiry: evil.example
    // leaves alpha for gamma and expires at 60; a re-import of the same
    // rows changes nothing.
    let moved = ind("domain", "evil.example", &["beta", "gamma"], Some(60));
    let moved = std::slice::from_ref(&moved);
    let first = s.upsert_indicators(d, moved, t(20)).await.expect("update");
    assert_eq!(first.updated, 1);
    let again = s
        .upsert_indicators(d, moved, t(30))
        .await
        .expect("unchanged");
    assert_eq!(again.unchanged, 1);
    assert_eq!(
        s.indicator_feed_counts(d, t(100)).await.expect("counts"),
        [
            ("alpha".to_string(), 1, 1),
            ("beta".to_string(), 3, 1),
            ("bulk".to_string(), 25, 0),
            ("gamma".to_string(), 1, 1),
        ]
    );
    assert_eq!(
        q(IndicatorQuery {
            feed: Some("alpha".into()),
            ..IndicatorQuery::default()
        })
        .await,
        ["old.example"]
    );
    assert_eq!(
        q(IndicatorQuery {
            feed: Some("gamma".into()),
            ..IndicatorQuery::default()
        })
        .await,
        ["evil.example"]
    );
}

/// Upserts larger than one statement's batch, with a (type, value) given
/// twice: stats, the change feed in input order and the feed index agree
/// with what one statement per indicator would do.
pub async fn indicator_upsert_batches_and_duplicates(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    let d = TenantId::DEFAULT;
    let mut rows: Vec<IndicatorRecord> = (0..1_203)
        .map(|n| {
            ind(
                "ipv4",
                &format!("10.9.{}.{}", n / 256, n % 256),
                &["bulk"],
                None,
            )
        })
        .collect();
    // The same indicator again, now from two feeds: an update of the row
    // the first one wrote.
    rows.insert(700, ind("ipv4", "10.9.0.5", &["bulk", "other"], Some(50)));
    let before = s.changes_after(0, 10_000).await.expect("changes").len();
    let st = s.upsert_indicators(d, &rows, t(10)).await.expect("upsert");
    assert_eq!((st.added, st.updated, st.unchanged), (1_203, 1, 0));
    let changes = s.changes_after(0, 10_000).await.expect("changes");
    let ours: Vec<_> = changes[before..]
        .iter()
        .filter(|c| c.object_type == "indicator")
        .collect();
    assert_eq!(ours.len(), 1_204);
    assert_eq!(ours[0].object_id, "ipv4:10.9.0.0");
    assert_eq!(
        (ours[700].object_id.as_str(), ours[700].op.as_str()),
        ("ipv4:10.9.0.5", "update")
    );
    assert_eq!(
        s.indicator_feed_counts(d, t(100)).await.expect("counts"),
        [("bulk".to_string(), 1_203, 1), ("other".to_string(), 1, 1)]
    );
    // The same rows again: only 10.9.0.5 is written, twice (each of its
    // two versions differs from the one stored before it).
    let again = s.upsert_indicators(d, &rows, t(20)).await.expect("again");
    assert_eq!((again.added, again.updated, again.unchanged), (0, 2, 1_202));
}

/// Indicators stored before the feed index existed (migration 40030) are
/// counted once it is applied: the migration fills it from provenance.
pub async fn indicator_feed_index_filled_from_stored_provenance(s: Store) {
    let Some(first) = INTEL_MIGRATIONS.first() else {
        panic!("no intel migrations");
    };
    const ROWS: &str = "INSERT INTO intel_indicators (tenant, kind, value, confidence, labels, \
        techniques, related, markings, kill_chain, provenance, valid_until, created_at, updated_at) \
        VALUES ('00000000-0000-0000-0000-000000000001', 'domain', 'a.example', 50, '[]', '[]', '[]', '[]', '[]', \
        '[{\"feed\": \"x\"}, {\"feed\": \"y\"}, {\"feed\": \"x\"}]', 5, 0, 0), \
        ('00000000-0000-0000-0000-000000000001', 'domain', 'b.example', 50, '[]', '[]', '[]', '[]', '[]', \
        '[{\"object_id\": \"no-feed\"}]', NULL, 0, 0)";
    // The old rows, written as an earlier build would have (a test-only
    // migration between 40001 and 40030).
    let old = Migration {
        version: 40_029,
        name: "test_old_indicators",
        sqlite: ROWS,
        postgres: ROWS,
    };
    s.migrate(&[*first, old])
        .await
        .expect("old schema and rows");
    let mut all = INTEL_MIGRATIONS.to_vec();
    all.push(old);
    s.migrate(&all).await.expect("feed index");
    assert_eq!(
        s.indicator_feed_counts(TenantId::DEFAULT, t(10))
            .await
            .expect("counts"),
        [
            (String::new(), 1, 0),
            ("x".to_string(), 1, 1),
            ("y".to_string(), 1, 1),
        ]
    );
}

/// The threat register's reads: alerts per rule in a window with the
/// rule's latest tags, and only the indicators that name something.
pub async fn threat_register_alert_counts_and_related_indicators(s: Store) {
    s.migrate(INTEL_MIGRATIONS).await.expect("migrate intel");
    let d = TenantId::DEFAULT;
    // Rules rule-0 … rule-4 (n % 5); each alert's tags end with `n{n}`.
    let alerts: Vec<_> = (0..20)
        .map(|n| super::alert(d, n, t(1_000 + n as i64), Severity::High))
        .collect();
    s.commit_detections(&DetectionCommit {
        consumer: "seed",
        upto_seq: 0,
        alerts: &alerts,
        effects: &[],
        states: &[],
        at: t(0),
    })
    .await
    .expect("commit");
    // From 1,005: alerts 5..19, three per rule; the latest of rule-2 is n=17.
    let counts = s.alert_tag_counts(d, t(1_005)).await.expect("counts");
    assert_eq!(counts.len(), 5);
    let (rule, tags, n) = &counts[2];
    assert_eq!(
        (rule.as_str(), tags.as_slice(), *n),
        (
            "rule-2",
            ["attack.t1059".to_string(), "n17".to_string()].as_slice(),
            3
        )
    );
    assert!(counts.iter().all(|(_, _, n)| *n == 3));
    assert!(
        s.alert_tag_counts(d, t(5_000))
            .await
            .expect("none")
            .is_empty()
    );
    assert!(
        s.alert_tag_counts(super::OTHER, t(0))
            .await
            .expect("other tenant")
            .is_empty()
    );

    let mut named = ind("domain", "c2.example", &["a"], None);
    named.related = vec!["intrusion-set--apt-x".into()];
    named.sightings = 0;
    let plain = ind("domain", "plain.example", &["a"], None);
    s.upsert_indicators(d, &[named, plain], t(10))
        .await
        .expect("upsert");
    let links = s.related_indicator_links(d).await.expect("links");
    assert_eq!(links, [(vec!["intrusion-set--apt-x".to_string()], 0, None)]);
    assert!(
        s.related_indicator_links(super::OTHER)
            .await
            .expect("other tenant")
            .is_empty()
    );
}

fn finding(id: &str, asset: &str, decision: &str, risk: i64, kev: bool, due: i64) -> FindingRecord {
    FindingRecord {
        id: id.into(),
        asset_id: asset.into(),
        source: "sbom".into(),
        component: format!("pkg:npm/p-{id}@1"),
        package: format!("p-{id}"),
        version: "1".into(),
        ecosystem: "npm".into(),
        vulnerability: format!("CVE-2024-{id}"),
        aliases: vec![],
        summary: None,
        severity: "high".into(),
        cvss_vector: None,
        cvss_score: None,
        fixed_versions: vec![],
        exploit_refs: false,
        status: "open".into(),
        first_seen: t(10),
        last_seen: t(10),
        fixed_at: None,
        since: t(10),
        accepted_until: None,
        reason: None,
        decided_by: None,
        decision: decision.into(),
        risk,
        explanation: json!({ "in_kev": kev }),
        sla_due: Some(t(due)),
        updated_at: t(10),
    }
}

pub async fn console_ranked_findings_and_summary(s: Store) {
    s.migrate(VULN_MIGRATIONS).await.expect("migrate vuln");
    let d = TenantId::DEFAULT;
    let asset = |name: &str| NewAsset {
        name: name.into(),
        kind: "host".into(),
        ips: vec![],
        os: None,
        owner: None,
        criticality: 3,
        exposure: "internal".into(),
        data_classes: vec![],
        tags: vec![],
    };
    let (a, _) = s.upsert_asset(d, &asset("a"), t(1)).await.expect("asset");
    let (b, _) = s.upsert_asset(d, &asset("b"), t(1)).await.expect("asset");
    let mut fs = vec![
        finding("0001", &a.id, "immediate", 9000, true, 50),
        finding("0002", &a.id, "scheduled", 3000, false, 500),
        finding("0003", &b.id, "out-of-cycle", 6000, false, 50),
    ];
    let mut fixed = finding("0004", &b.id, "immediate", 9900, true, 50);
    fixed.status = "fixed".into();
    fs.push(fixed);
    // Ten with equal risk: ties go by id.
    for i in 0..10 {
        fs.push(finding(
            &format!("1{i:03}"),
            &b.id,
            "defer",
            1000,
            false,
            900,
        ));
    }
    s.save_findings(d, &fs).await.expect("save");
    let ids = |q: RankedFindingQuery| {
        let s = s.clone();
        async move {
            s.ranked_findings(d, &q)
                .await
                .expect("ranked")
                .into_iter()
                .map(|f| f.package.trim_start_matches("p-").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let top = ids(RankedFindingQuery {
        limit: 4,
        ..RankedFindingQuery::default()
    })
    .await;
    assert_eq!(top, ["0001", "0003", "0002", "1000"]);
    assert_eq!(
        ids(RankedFindingQuery {
            kev: true,
            limit: 50,
            ..RankedFindingQuery::default()
        })
        .await,
        ["0001"]
    );
    assert_eq!(
        ids(RankedFindingQuery {
            overdue_at: Some(t(100)),
            limit: 50,
            ..RankedFindingQuery::default()
        })
        .await,
        ["0001", "0003"]
    );
    assert_eq!(
        ids(RankedFindingQuery {
            asset_id: Some(a.id.clone()),
            decision: Some("scheduled".into()),
            limit: 50,
            ..RankedFindingQuery::default()
        })
        .await,
        ["0002"]
    );
    // Keyset over (risk, id) across the tie.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .ranked_findings(
                d,
                &RankedFindingQuery {
                    after: after.clone(),
                    limit: 3,
                    ..RankedFindingQuery::default()
                },
            )
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some((last.risk, last.id.clone()));
        seen.extend(page.into_iter().map(|f| f.package));
    }
    assert_eq!(seen.len(), 13);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 13);
    assert!(
        s.ranked_findings(
            d,
            &RankedFindingQuery {
                statuses: vec!["bogus".into()],
                limit: 1,
                ..RankedFindingQuery::default()
            }
        )
        .await
        .is_err()
    );
    // The summary: open and reopened only.
    let sum = s.finding_summary(d, t(100)).await.expect("summary");
    let by: Vec<(String, i64, i64, i64)> = sum
        .into_iter()
        .map(|c| (c.decision, c.findings, c.overdue, c.kev))
        .collect();
    assert_eq!(
        by,
        [
            ("defer".to_string(), 10, 0, 0),
            ("immediate".to_string(), 1, 1, 1),
            ("out-of-cycle".to_string(), 1, 1, 0),
            ("scheduled".to_string(), 1, 0, 0),
        ]
    );
}

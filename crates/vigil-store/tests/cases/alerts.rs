//! Alert listing cases.

use std::collections::HashSet;

use vigil_model::{Alert, Severity, TenantId, Timestamp};
use vigil_store::{AlertCursor, AlertQuery, DetectionCommit, Error, SortOrder, Store};

use super::{OTHER, alert, t};

async fn insert(s: &Store, alerts: &[Alert]) {
    s.commit_detections(&DetectionCommit {
        consumer: "seed",
        upto_seq: 0,
        alerts,
        effects: &[],
        states: &[],
        at: t(0),
    })
    .await
    .expect("seed alerts");
}

/// 230 default-tenant alerts, several sharing each `created_at` (so the id
/// breaks ties), plus 20 of another tenant.
fn seed() -> Vec<Alert> {
    let mut v: Vec<_> = (0..230)
        .map(|n| {
            alert(
                TenantId::DEFAULT,
                n,
                t(1000 + (n / 4) as i64),
                Severity::ALL[n % 5],
            )
        })
        .collect();
    v.extend((1000..1020).map(|n| alert(OTHER, n, t(1000), Severity::Critical)));
    v
}

pub async fn list_alerts_filters(s: Store) {
    let all = seed();
    insert(&s, &all).await;
    let mine: Vec<_> = all
        .iter()
        .filter(|a| a.tenant == TenantId::DEFAULT)
        .collect();

    let got = s
        .get_alert(TenantId::DEFAULT, mine[7].id)
        .await
        .expect("get");
    assert_eq!(got.as_ref(), Some(mine[7]), "round trip keeps every field");
    assert_eq!(
        s.get_alert(OTHER, mine[7].id).await.expect("other tenant"),
        None
    );
    assert_eq!(
        s.count_alerts(Some(TenantId::DEFAULT))
            .await
            .expect("count"),
        230
    );
    assert_eq!(s.count_alerts(Some(OTHER)).await.expect("count"), 20);
    assert_eq!(s.count_alerts(None).await.expect("count"), 250);

    let count = |q: AlertQuery| {
        let s = s.clone();
        async move {
            s.list_alerts(&AlertQuery { limit: 1000, ..q })
                .await
                .expect("list")
                .len()
        }
    };
    let high = mine.iter().filter(|a| a.severity >= Severity::High).count();
    assert_eq!(
        count(AlertQuery {
            min_severity: Some(Severity::High),
            ..Default::default()
        })
        .await,
        high
    );
    let sigma = mine.iter().filter(|a| a.detector == "sigma").count();
    assert_eq!(
        count(AlertQuery {
            detector: Some("sigma".into()),
            ..Default::default()
        })
        .await,
        sigma
    );
    let r2 = mine.iter().filter(|a| a.rule_id == "rule-2").count();
    assert_eq!(
        count(AlertQuery {
            rule_id: Some("rule-2".into()),
            ..Default::default()
        })
        .await,
        r2
    );
    let window = mine
        .iter()
        .filter(|a| a.created_at >= t(1010) && a.created_at < t(1020))
        .count();
    assert_eq!(window, 40);
    assert_eq!(
        count(AlertQuery {
            since: Some(t(1010)),
            until: Some(t(1020)),
            ..Default::default()
        })
        .await,
        window
    );
    assert_eq!(
        count(AlertQuery {
            tenant: OTHER,
            ..Default::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(AlertQuery {
            detector: Some("nope".into()),
            ..Default::default()
        })
        .await,
        0
    );

    // Default page size and the cap.
    assert_eq!(
        s.list_alerts(&AlertQuery::default())
            .await
            .expect("default")
            .len(),
        100
    );
    let big = AlertQuery {
        limit: 5000,
        ..Default::default()
    };
    assert_eq!(s.list_alerts(&big).await.expect("capped").len(), 230);
}

pub async fn list_alerts_keyset_pagination_has_no_dupes_or_skips(s: Store) {
    let all = seed();
    insert(&s, &all).await;
    for order in [SortOrder::Desc, SortOrder::Asc] {
        let base = AlertQuery {
            min_severity: Some(Severity::Low),
            limit: 7,
            order,
            ..Default::default()
        };
        let mut expected: Vec<_> = all
            .iter()
            .filter(|a| a.tenant == TenantId::DEFAULT && a.severity >= Severity::Low)
            .map(|a| (a.created_at, a.id.to_string()))
            .collect();
        expected.sort();
        if order == SortOrder::Desc {
            expected.reverse();
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let q = AlertQuery {
                cursor: cursor
                    .as_deref()
                    .map(AlertCursor::decode)
                    .transpose()
                    .expect("cursor"),
                ..base.clone()
            };
            let page = s.list_alerts(&q).await.expect("page");
            let Some(last) = page.last() else { break };
            assert!(page.len() <= 7);
            cursor = Some(AlertCursor::after(last).encode());
            seen.extend(page.iter().map(|a| (a.created_at, a.id.to_string())));
            pages += 1;
        }
        assert_eq!(pages, expected.len().div_ceil(7));
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "no duplicates ({order:?})");
        assert_eq!(seen, expected, "no skips, right order ({order:?})");
    }
    let far = AlertCursor {
        created_at: Timestamp::from_micros(0),
        id: all[0].id,
    };
    let q = AlertQuery {
        cursor: Some(far),
        ..Default::default()
    };
    assert!(s.list_alerts(&q).await.expect("past the end").is_empty());
    assert!(matches!(
        AlertCursor::decode("garbage!"),
        Err(Error::Invalid(_))
    ));
}

pub async fn corrupt_rows_are_errors(s: Store) {
    let a = alert(TenantId::DEFAULT, 1, t(5), Severity::Medium);
    insert(&s, std::slice::from_ref(&a)).await;
    s.raw_execute("UPDATE alerts SET event_id = 'not-a-uuid'")
        .await
        .expect("tamper");
    let err = s
        .get_alert(TenantId::DEFAULT, a.id)
        .await
        .expect_err("bad uuid");
    assert!(
        matches!(
            err,
            Error::Corrupt {
                table: "alerts",
                ..
            }
        ),
        "{err}"
    );
    s.raw_execute("UPDATE alerts SET event_id = NULL, severity = 9")
        .await
        .expect("tamper");
    let err = s
        .list_alerts(&AlertQuery::default())
        .await
        .expect_err("bad severity");
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");

    let mut ev = vec![super::event(TenantId::DEFAULT, 1, 1)];
    s.append_events(&mut ev).await.expect("append");
    s.raw_execute("UPDATE events SET id = 'zzz'")
        .await
        .expect("tamper");
    assert!(matches!(
        s.events_after(0, 10).await,
        Err(Error::Corrupt { .. })
    ));
}

/// Aggregation folds repeats within the window into one alert (hits,
/// last_seen), survives re-commits of the same alerts, and opens a new
/// alert after the window; suppressions swallow matching alerts and count
/// them. See: #7
pub async fn alerts_aggregate_and_suppress(s: Store) {
    use vigil_model::{AlertId, Principal};
    use vigil_store::SuppressionMatch;
    let mk = |n: usize, secs: i64, ip: &str| {
        let mut a = alert(TenantId::DEFAULT, n, t(secs), Severity::High);
        a.id = AlertId::derive("sigma", "ssh", &n.to_string());
        a.detector = "sigma".into();
        a.rule_id = "ssh-brute".into();
        a.event_time = t(secs);
        a.entities.source_ip = Some(ip.into());
        a.entities.host = Some("bastion".into());
        a.entities.user = None;
        a.entities.destination_ip = None;
        a
    };
    s.set_alert_aggregation(600 * 1_000_000);
    let batch1 = vec![
        mk(1, 1000, "198.51.100.7"),
        mk(2, 1100, "198.51.100.7"),
        mk(3, 1150, "203.0.113.9"),
    ];
    insert(&s, &batch1).await;
    // Replayed after a crash: nothing new, nothing counted twice.
    insert(&s, &batch1).await;
    let batch2 = vec![mk(4, 1500, "198.51.100.7"), mk(5, 2200, "198.51.100.7")];
    insert(&s, &batch2).await;
    let all = s
        .list_alerts(&AlertQuery {
            limit: 100,
            ..AlertQuery::default()
        })
        .await
        .expect("list");
    let ids: HashSet<String> = all.iter().map(|a| a.id.to_string()).collect();
    assert_eq!(all.len(), 3, "one per (rule, entities, window): {ids:?}");
    let hits = s
        .alert_hits(&all.iter().map(|a| a.id).collect::<Vec<_>>())
        .await
        .expect("hits");
    let first = hits.get(&batch1[0].id).copied().expect("first alert");
    assert_eq!(
        first,
        (3, t(1500)),
        "1000 + 1100 + 1500 folded; 2200 is past the 600 s window from 1500"
    );
    assert_eq!(hits.get(&batch2[1].id).copied(), Some((1, t(2200))));
    assert_eq!(hits.get(&batch1[2].id).copied(), Some((1, t(1150))));

    // Suppression: a matching alert is not opened; the suppression counts.
    let by = Principal::system("test");
    let m = SuppressionMatch {
        rule: Some("ssh-*".into()),
        source_ip: Some("192.0.2.0/24".into()),
        ..SuppressionMatch::default()
    };
    let sup = s
        .add_suppression(TenantId::DEFAULT, &m, "known scanner", None, &by, t(3000))
        .await
        .expect("add");
    insert(
        &s,
        &[mk(6, 3001, "192.0.2.44"), mk(7, 3002, "198.51.100.99")],
    )
    .await;
    insert(&s, &[mk(6, 3001, "192.0.2.44")]).await;
    let list = s.list_suppressions(TenantId::DEFAULT).await.expect("list");
    assert_eq!((list[0].id.as_str(), list[0].hits), (sup.id.as_str(), 1));
    let all = s
        .list_alerts(&AlertQuery {
            limit: 100,
            ..AlertQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 4, "the suppressed one is not opened");
    // Expired and deleted suppressions no longer apply.
    assert!(
        s.delete_suppression(TenantId::DEFAULT, &sup.id, &by, t(3100))
            .await
            .expect("delete")
    );
    let m2 = SuppressionMatch {
        host: Some("BASTION".into()),
        ..SuppressionMatch::default()
    };
    s.add_suppression(
        TenantId::DEFAULT,
        &m2,
        "maintenance",
        Some(t(3200)),
        &by,
        t(3100),
    )
    .await
    .expect("add");
    s.commit_detections(&DetectionCommit {
        consumer: "seed",
        upto_seq: 0,
        alerts: &[mk(8, 3300, "192.0.2.45")],
        effects: &[],
        states: &[],
        at: t(3300),
    })
    .await
    .expect("commit after expiry");
    let all = s
        .list_alerts(&AlertQuery {
            limit: 100,
            ..AlertQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 5, "expired suppression does not apply");
    assert!(
        s.add_suppression(
            TenantId::DEFAULT,
            &SuppressionMatch::default(),
            "x",
            None,
            &by,
            t(1)
        )
        .await
        .is_err()
    );
    assert!(s.verify_audit().await.expect("verify").is_intact());
}

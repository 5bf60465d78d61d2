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

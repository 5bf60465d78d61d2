//! Related alerts (migration 60010): the entity index filled from the
//! change feed exactly once, backfill of alerts that existed before the
//! migration, and the "shares an entity" query, newest first. See: #7

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use vigil_model::{AlertId, Entities, Severity, TenantId};
use vigil_store::{DetectionCommit, RESPOND_MIGRATIONS, Store};

use super::{alert, t};

fn with(n: usize, at: i64, e: Entities) -> vigil_model::Alert {
    let mut a = alert(TenantId::DEFAULT, n, t(at), Severity::High);
    a.entities = e;
    a
}

async fn commit(s: &Store, alerts: &[vigil_model::Alert]) {
    s.commit_detections(&DetectionCommit {
        consumer: "seed",
        upto_seq: 0,
        alerts,
        effects: &[],
        states: &[],
        at: t(0),
    })
    .await
    .unwrap();
}

fn ids(r: &[vigil_store::RelatedAlert]) -> Vec<AlertId> {
    r.iter().map(|x| x.alert.id).collect()
}

pub async fn related_alerts_share_entities(s: Store) {
    let tenant = TenantId::DEFAULT;
    // An alert stored before the respond migrations: backfilled.
    let old = with(
        1,
        10,
        Entities {
            host: Some("web-1".into()),
            source_ip: Some("203.0.113.9".into()),
            ..Entities::default()
        },
    );
    commit(&s, std::slice::from_ref(&old)).await;
    s.migrate(RESPOND_MIGRATIONS).await.unwrap();
    s.migrate(RESPOND_MIGRATIONS).await.unwrap();

    let hash = "d41d8cd98f00b204e9800998ecf8427e";
    let a = with(
        2,
        20,
        Entities {
            host: Some("web-1".into()),
            process: Some("/usr/bin/curl".into()),
            file_hash: Some(hash.into()),
            domain: Some("evil.example.com".into()),
            command_line: Some("curl evil.example.com".into()),
            ..Entities::default()
        },
    );
    let b = with(
        3,
        30,
        Entities {
            host: Some("db-2".into()),
            file_hash: Some(hash.into()),
            domain: Some("evil.example.com".into()),
            ..Entities::default()
        },
    );
    // Shares only the command line, which is not linkable.
    let c = with(
        4,
        40,
        Entities {
            host: Some("other".into()),
            command_line: Some("curl evil.example.com".into()),
            ..Entities::default()
        },
    );
    let d = with(
        5,
        50,
        Entities {
            host: Some("web-1".into()),
            ..Entities::default()
        },
    );
    commit(&s, &[a.clone(), b.clone(), c.clone(), d.clone()]).await;
    // Not indexed before the consumer ran: only the backfilled alert.
    let r = s.related_alerts(tenant, a.id, 50).await.unwrap().unwrap();
    assert_eq!(ids(&r), [old.id]);

    assert!(s.catch_up_alert_entities(t(60)).await.unwrap() >= 4);
    assert_eq!(s.catch_up_alert_entities(t(61)).await.unwrap(), 0);
    // Re-committing the same alerts adds no feed rows and no index rows.
    commit(&s, &[a.clone(), b.clone()]).await;
    assert_eq!(s.catch_up_alert_entities(t(62)).await.unwrap(), 0);

    let r = s.related_alerts(tenant, a.id, 50).await.unwrap().unwrap();
    assert_eq!(ids(&r), [d.id, b.id, old.id], "{r:#?}");
    let shared = |id: AlertId| {
        r.iter()
            .find(|x| x.alert.id == id)
            .unwrap()
            .shared
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shared(b.id),
        [
            format!("file_hash={hash}"),
            "domain=evil.example.com".into()
        ]
    );
    assert_eq!(shared(d.id), ["host=web-1"]);
    assert_eq!(shared(old.id), ["host=web-1"]);
    // The limit keeps the newest.
    let r = s.related_alerts(tenant, a.id, 1).await.unwrap().unwrap();
    assert_eq!(ids(&r), [d.id]);
    // From the backfilled side too.
    let r = s.related_alerts(tenant, old.id, 50).await.unwrap().unwrap();
    assert_eq!(ids(&r), [d.id, a.id]);
    // Nothing shared, and no such alert.
    assert!(
        s.related_alerts(tenant, c.id, 50)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
    let missing = AlertId::derive("x", "y", "z");
    assert!(
        s.related_alerts(tenant, missing, 50)
            .await
            .unwrap()
            .is_none()
    );
    // Another tenant sees nothing.
    let other: TenantId = "00000000-0000-4000-8000-000000000042".parse().unwrap();
    assert!(s.related_alerts(other, a.id, 50).await.unwrap().is_none());
}

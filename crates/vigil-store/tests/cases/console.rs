//! Console cases: users, lockout, sessions, the alert queue and the
//! dashboard histograms. See: #9

use vigil_model::{Role, Severity, TenantId};
use vigil_store::{
    CONSOLE_MIGRATIONS, DetectionCommit, FailedLogin, QueueCursor, QueueQuery, QueueSort,
    RESPOND_MIGRATIONS, Store,
};

use super::{admin, alert, t};

pub async fn console_users_sessions_and_queue(s: Store) {
    let mut m = RESPOND_MIGRATIONS.to_vec();
    m.extend_from_slice(CONSOLE_MIGRATIONS);
    s.migrate(&m).await.expect("migrate console");
    s.migrate(&m).await.expect("migrate again");
    let tenant = TenantId::DEFAULT;
    let by = admin();
    assert!(!s.has_users().await.expect("has users"));

    // Users: people's roles only, decent passwords, unique names.
    let u = s
        .create_user(
            tenant,
            "ana",
            Role::Analyst,
            "long enough password",
            &by,
            t(10),
        )
        .await
        .expect("create");
    assert!(u.password_hash.starts_with("$argon2id$"));
    assert!(!u.password_hash.contains("long enough"));
    assert!(s.has_users().await.expect("has users"));
    for (name, role, pw) in [
        ("bot", Role::Ingest, "long enough password"),
        ("short", Role::Viewer, "short"),
        ("bad name", Role::Viewer, "long enough password"),
    ] {
        let e = s.create_user(tenant, name, role, pw, &by, t(11)).await;
        assert!(
            matches!(e, Err(vigil_store::Error::Invalid(_))),
            "{name}: {e:?}"
        );
    }
    let dup = s
        .create_user(
            tenant,
            "ana",
            Role::Viewer,
            "another long password",
            &by,
            t(12),
        )
        .await;
    assert!(dup.is_err_and(|e| e.is_conflict()));
    let found = s.find_user("ana").await.expect("find").expect("exists");
    assert_eq!(found, u);
    assert!(vigil_store::verify_password("long enough password", &found.password_hash).await);
    assert!(!vigil_store::verify_password("long enough passwore", &found.password_hash).await);

    // Failures count, the third locks.
    assert_eq!(
        s.record_failed_login(&u, 3, 60_000_000, "192.0.2.1", t(20))
            .await
            .expect("fail"),
        FailedLogin::Counted(1)
    );
    s.record_failed_login(&u, 3, 60_000_000, "192.0.2.1", t(21))
        .await
        .expect("fail");
    let locked = s
        .record_failed_login(&u, 3, 60_000_000, "192.0.2.1", t(22))
        .await
        .expect("fail");
    assert_eq!(locked, FailedLogin::Locked(t(82)));
    let u = s.find_user("ana").await.expect("find").expect("exists");
    assert!(u.is_locked(t(81)) && !u.is_locked(t(82)));
    assert_eq!(u.failed_logins, 0);

    // Sessions: only the hash is stored; idle and absolute expiry.
    let (id, sess) = s
        .create_session(&u, "192.0.2.1", 3_600_000_000, t(100))
        .await
        .expect("session");
    assert_ne!(sess.id_hash, id);
    assert_eq!(sess.id_hash, vigil_store::session_hash(&id));
    let got = s
        .find_session(&id, 600_000_000, 60_000_000, t(200))
        .await
        .expect("find")
        .expect("live");
    assert_eq!(got.csrf, sess.csrf);
    assert_eq!(got.user.username, "ana");
    assert_eq!(got.last_seen, t(200), "touched after a minute");
    assert!(
        s.find_session(&sess.id_hash, 600_000_000, 60_000_000, t(200))
            .await
            .expect("find")
            .is_none(),
        "the hash is not a session id"
    );
    assert!(
        s.find_session(&id, 600_000_000, 60_000_000, t(801))
            .await
            .expect("find")
            .is_none(),
        "idle"
    );
    let (id2, s2) = s
        .create_session(&u, "x", 1_000_000_000, t(1000))
        .await
        .expect("session");
    assert!(
        s.find_session(&id2, 600_000_000, 60_000_000, t(2001))
            .await
            .expect("find")
            .is_none(),
        "absolute expiry"
    );
    let (id3, s3) = s
        .create_session(&u, "x", 3_600_000_000, t(3000))
        .await
        .expect("session");
    s.end_session(&s3, t(3001)).await.expect("logout");
    assert!(
        s.find_session(&id3, 600_000_000, 60_000_000, t(3002))
            .await
            .expect("find")
            .is_none()
    );
    let _ = s2;
    // A new password or disabling ends every session.
    let (id4, _) = s
        .create_session(&u, "x", 3_600_000_000, t(4000))
        .await
        .expect("session");
    s.set_user_password("ana", "a brand new password", &by, t(4001))
        .await
        .expect("passwd");
    assert!(
        s.find_session(&id4, 600_000_000, 60_000_000, t(4002))
            .await
            .expect("find")
            .is_none()
    );
    let u = s.find_user("ana").await.expect("find").expect("exists");
    let (id5, _) = s
        .create_session(&u, "x", 3_600_000_000, t(5000))
        .await
        .expect("session");
    s.disable_user("ana", &by, t(5001)).await.expect("disable");
    assert!(
        s.find_session(&id5, 600_000_000, 60_000_000, t(5002))
            .await
            .expect("find")
            .is_none()
    );
    assert_eq!(s.list_users(tenant).await.expect("list").len(), 1);
    let actions: Vec<String> = s
        .list_audit(tenant, 0, 1000)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "user.create",
        "user.lockout",
        "user.login",
        "user.logout",
        "user.password",
        "user.disable",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    assert!(s.verify_audit().await.expect("verify").is_intact());

    // The queue: 30 alerts, 5 rules, severities cycling.
    let sev = [Severity::Low, Severity::Medium, Severity::High];
    let alerts: Vec<_> = (0..30)
        .map(|n| alert(tenant, n, t(10_000 + n as i64), sev[n % 3]))
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
    s.triage_alert(
        tenant,
        alerts[29].id,
        "closed",
        None,
        Some("done"),
        &by,
        t(20_000),
    )
    .await
    .expect("triage")
    .expect("exists");
    let q = |f: &dyn Fn(&mut QueueQuery)| {
        let mut q = QueueQuery {
            limit: 100,
            ..QueueQuery::default()
        };
        f(&mut q);
        q
    };
    let all = s.alert_queue(&q(&|_| {})).await.expect("queue");
    assert_eq!(all.len(), 30);
    assert_eq!(all[0].alert.id, alerts[29].id, "newest first");
    assert_eq!(all[0].state, "closed");
    assert_eq!(all[1].state, "new");
    let open = s
        .alert_queue(&q(&|q| q.status = Some("open".into())))
        .await
        .expect("queue");
    assert_eq!(open.len(), 29);
    let closed = s
        .alert_queue(&q(&|q| q.status = Some("closed".into())))
        .await
        .expect("queue");
    assert_eq!(closed.len(), 1);
    let high = s
        .alert_queue(&q(&|q| q.severity = Some(Severity::High)))
        .await
        .expect("queue");
    assert_eq!(high.len(), 10);
    assert!(high.iter().all(|r| r.alert.severity == Severity::High));
    let rule = s
        .alert_queue(&q(&|q| q.rule_id = Some("rule-3".into())))
        .await
        .expect("queue");
    assert_eq!(rule.len(), 6);
    let text = s
        .alert_queue(&q(&|q| q.text = Some("ALERT 2".into())))
        .await
        .expect("queue");
    assert_eq!(text.len(), 11, "Alert 2 and Alert 20..29, case-insensitive");
    let none = s
        .alert_queue(&q(&|q| q.text = Some("100%_".into())))
        .await
        .expect("queue");
    assert!(none.is_empty(), "wildcards are literal");
    // Keyset paging in every order visits each alert once.
    for sort in [QueueSort::Newest, QueueSort::Oldest, QueueSort::Severity] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = s
                .alert_queue(&QueueQuery {
                    sort,
                    cursor,
                    limit: 7,
                    ..QueueQuery::default()
                })
                .await
                .expect("page");
            if page.is_empty() {
                break;
            }
            cursor = page.last().map(|r| QueueCursor::after(&r.alert));
            seen.extend(page.into_iter().map(|r| r.alert));
        }
        assert_eq!(seen.len(), 30, "{sort:?}");
        let mut ids: Vec<_> = seen.iter().map(|a| a.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 30, "{sort:?}: no duplicates");
        if sort == QueueSort::Severity {
            assert!(
                seen.windows(2).all(|w| w[0].severity >= w[1].severity),
                "most severe first"
            );
        }
    }

    // Histograms.
    let h = s
        .alert_histogram(tenant, t(10_000), None, 10_000_000)
        .await
        .expect("histogram");
    assert_eq!(h.iter().map(|c| c.count).sum::<i64>(), 30);
    assert!(h.iter().all(|c| c.bucket >= t(10_000)));
    assert_eq!(
        h.iter()
            .filter(|c| c.bucket == t(10_000) && c.severity == Severity::High.rank())
            .map(|c| c.count)
            .sum::<i64>(),
        3,
        "alerts 2, 5, 8 in the first 10 s"
    );
    // An end bound (exclusive): only the first bucket's alerts.
    let first: i64 = h
        .iter()
        .filter(|c| c.bucket == t(10_000))
        .map(|c| c.count)
        .sum();
    let bounded = s
        .alert_histogram(tenant, t(10_000), Some(t(10_010)), 10_000_000)
        .await
        .expect("bounded histogram");
    assert!(bounded.iter().all(|c| c.bucket == t(10_000)), "{bounded:?}");
    assert_eq!(bounded.iter().map(|c| c.count).sum::<i64>(), first);
    assert!(first > 0 && first < 30);
    let e = s.event_histogram(t(0), 60_000_000).await.expect("events");
    assert!(e.is_empty());
}

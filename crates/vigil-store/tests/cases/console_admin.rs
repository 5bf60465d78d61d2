//! Console administration cases: changing users' access with the
//! last-admin guard, and the rules page's filtered keyset query. See: #9

use vigil_model::{Role, TenantId};
use vigil_store::{
    CONSOLE_MIGRATIONS, NewRule, RESPOND_MIGRATIONS, RuleQuery, RuleSource, RuleUpdate,
    SIGMA_MIGRATIONS, Store, UserAccess,
};

use super::{admin, t};

pub async fn console_user_access_and_last_admin(s: Store) {
    let mut m = RESPOND_MIGRATIONS.to_vec();
    m.extend_from_slice(CONSOLE_MIGRATIONS);
    s.migrate(&m).await.expect("migrate console");
    let tenant = TenantId::DEFAULT;
    let by = admin();
    let pw = "long enough password";
    let boss = s
        .create_user(tenant, "boss", Role::Admin, pw, &by, t(1))
        .await
        .expect("boss");
    let ana = s
        .create_user(tenant, "ana", Role::Analyst, pw, &by, t(2))
        .await
        .expect("ana");
    assert_eq!(
        s.get_user(tenant, &ana.id)
            .await
            .expect("get")
            .map(|u| u.username),
        Some("ana".into())
    );
    assert!(s.get_user(tenant, "nope").await.expect("get").is_none());

    // A session ends when the user is disabled.
    let (sid, _) = s
        .create_session(&ana, "test", 3_600_000_000, t(3))
        .await
        .expect("session");
    let change = |role, disabled| UserAccess { role, disabled };
    let u = s
        .change_user_access(
            tenant,
            &ana.id,
            &change(Some(Role::Viewer), Some(true)),
            &by,
            t(4),
        )
        .await
        .expect("change");
    assert_eq!(u.role, Role::Viewer);
    assert_eq!(u.disabled_at, Some(t(4)));
    assert!(
        s.find_session(&sid, 3_600_000_000, 0, t(5))
            .await
            .expect("find")
            .is_none(),
        "sessions ended"
    );
    let u = s
        .change_user_access(tenant, &ana.id, &change(None, Some(false)), &by, t(6))
        .await
        .expect("enable");
    assert_eq!((u.role, u.disabled_at), (Role::Viewer, None));
    // No change: nothing audited, the record as it is.
    let same = s
        .change_user_access(
            tenant,
            &ana.id,
            &change(Some(Role::Viewer), Some(false)),
            &by,
            t(7),
        )
        .await
        .expect("no-op");
    assert_eq!(same, u);

    // The last enabled admin: neither demoted nor disabled; nothing stored.
    for c in [change(Some(Role::Analyst), None), change(None, Some(true))] {
        let e = s.change_user_access(tenant, &boss.id, &c, &by, t(8)).await;
        assert!(
            matches!(&e, Err(vigil_store::Error::Conflict { msg, .. }) if msg.contains("last enabled admin")),
            "{e:?}"
        );
    }
    let b = s
        .get_user(tenant, &boss.id)
        .await
        .expect("get")
        .expect("boss");
    assert_eq!((b.role, b.disabled_at), (Role::Admin, None));
    // Machine roles and unknown users.
    let e = s
        .change_user_access(
            tenant,
            &ana.id,
            &change(Some(Role::Ingest), None),
            &by,
            t(9),
        )
        .await;
    assert!(matches!(e, Err(vigil_store::Error::Invalid(_))), "{e:?}");
    let e = s
        .change_user_access(tenant, "nope", &change(None, Some(true)), &by, t(9))
        .await;
    assert!(matches!(e, Err(vigil_store::Error::NotFound(_))), "{e:?}");
    // With a second admin the first may step down.
    s.change_user_access(
        tenant,
        &ana.id,
        &change(Some(Role::Admin), None),
        &by,
        t(10),
    )
    .await
    .expect("promote");
    let b = s
        .change_user_access(tenant, &boss.id, &change(None, Some(true)), &by, t(11))
        .await
        .expect("disable boss");
    assert!(b.disabled_at.is_some());
    // The refused changes left no audit entry; the others did.
    let audit = s.list_audit(tenant, 0, 1000).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "user.role").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| **a == "user.disable").count(), 2);
    assert_eq!(actions.iter().filter(|a| **a == "user.enable").count(), 1);
    assert!(
        s.verify_audit()
            .await
            .expect("verify")
            .first_broken
            .is_none()
    );
}

pub async fn rules_page_filters_and_keyset(s: Store) {
    s.migrate(SIGMA_MIGRATIONS).await.expect("migrate sigma");
    let tenant = TenantId::DEFAULT;
    let by = admin();
    let defs: Vec<NewRule> = (0..30)
        .map(|i| NewRule {
            id: format!("r-{i:02}"),
            title: if i % 3 == 0 {
                format!("Mimikatz_{i} 100%")
            } else {
                format!("Other {i}")
            },
            source: if i < 20 {
                RuleSource::Builtin
            } else {
                RuleSource::Api
            },
            path: format!("p{i}.yml"),
            level: Some(if i % 2 == 0 { "high" } else { "low" }.into()),
            tags: vec![format!("attack.t10{i:02}")],
            content: None,
        })
        .collect();
    s.register_rules(tenant, &defs, &by, t(1))
        .await
        .expect("register");
    let page = |q: RuleQuery| {
        let s = s.clone();
        async move {
            s.rule_page(tenant, &q)
                .await
                .expect("page")
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    // Keyset pages cover everything once, in id order.
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let ids = page(RuleQuery {
            after: after.clone(),
            limit: 7,
            ..RuleQuery::default()
        })
        .await;
        if ids.is_empty() {
            break;
        }
        after = ids.last().cloned();
        all.extend(ids);
    }
    assert_eq!(all, defs.iter().map(|d| d.id.clone()).collect::<Vec<_>>());
    // Text is case-insensitive over title, id, path and tags; LIKE
    // wildcards are literal.
    let mimi = page(RuleQuery {
        text: Some("MIMIKATZ".into()),
        limit: 100,
        ..RuleQuery::default()
    })
    .await;
    assert_eq!(mimi.len(), 10, "{mimi:?}");
    assert_eq!(
        page(RuleQuery {
            text: Some("z_1".into()),
            limit: 100,
            ..RuleQuery::default()
        })
        .await,
        ["r-12", "r-15", "r-18"]
    );
    assert_eq!(
        page(RuleQuery {
            text: Some("0%".into()),
            limit: 100,
            ..RuleQuery::default()
        })
        .await
        .len(),
        10
    );
    assert_eq!(
        page(RuleQuery {
            text: Some("t1007".into()),
            limit: 100,
            ..RuleQuery::default()
        })
        .await,
        ["r-07"]
    );
    // Level in effect (overrides count), state and source.
    s.update_rule(
        tenant,
        "r-01",
        &RuleUpdate {
            enabled: Some(false),
            level_override: Some(Some("high".into())),
            ..RuleUpdate::default()
        },
        &by,
        t(2),
    )
    .await
    .expect("update");
    let high = page(RuleQuery {
        level: Some("high".into()),
        limit: 100,
        ..RuleQuery::default()
    })
    .await;
    assert_eq!(high.len(), 16);
    assert!(high.contains(&"r-01".to_owned()));
    assert_eq!(
        page(RuleQuery {
            enabled: Some(false),
            limit: 100,
            ..RuleQuery::default()
        })
        .await,
        ["r-01"]
    );
    assert_eq!(
        page(RuleQuery {
            source: Some(RuleSource::Api),
            limit: 100,
            ..RuleQuery::default()
        })
        .await
        .len(),
        10
    );
    assert_eq!(
        page(RuleQuery {
            source: Some(RuleSource::Api),
            level: Some("high".into()),
            text: Some("mimi".into()),
            limit: 100,
            ..RuleQuery::default()
        })
        .await,
        ["r-24"]
    );
}

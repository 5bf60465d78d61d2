//! Sigma rule management state (block 3 migration): registration keeps the
//! operator's state, updates are audited, tenants are separate.

use vigil_model::TenantId;
use vigil_store::{NewRule, RuleSource, RuleUpdate, SIGMA_MIGRATIONS, Store};

use super::{OTHER, admin, t};

fn rule(id: &str, title: &str, source: RuleSource) -> NewRule {
    NewRule {
        id: id.into(),
        title: title.into(),
        source,
        path: format!("{id}.yml"),
        level: Some("high".into()),
        tags: vec!["attack.t1059.001".into(), "attack.execution".into()],
        content: (source == RuleSource::Api).then(|| "title: x\n".to_owned()),
    }
}

pub async fn rules_register_update_and_list(s: Store) {
    s.migrate(SIGMA_MIGRATIONS).await.expect("migrate sigma");
    // Applying the block again is a no-op.
    s.migrate(SIGMA_MIGRATIONS).await.expect("migrate again");
    s.create_tenant(OTHER, "acme", t(0)).await.expect("tenant");
    let d = TenantId::DEFAULT;
    let added = s
        .register_rules(
            d,
            &[
                rule("b-rule", "B", RuleSource::Builtin),
                rule("a-rule", "A", RuleSource::Api),
            ],
            &admin(),
            t(1),
        )
        .await
        .expect("register");
    assert_eq!(added, 2);
    let list = s.list_rules(d).await.expect("list");
    assert_eq!(
        list.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a-rule", "b-rule"]
    );
    let a = &list[0];
    assert!(a.enabled);
    assert_eq!(a.source, RuleSource::Api);
    assert_eq!(a.content.as_deref(), Some("title: x\n"));
    assert_eq!(a.tags, ["attack.t1059.001", "attack.execution"]);
    assert_eq!(a.effective_level(), Some("high"));
    assert_eq!(a.created_at, t(1));
    assert!(s.list_rules(OTHER).await.expect("list other").is_empty());

    // Disable with overrides.
    let up = RuleUpdate {
        enabled: Some(false),
        level_override: Some(Some("low".into())),
        tags_override: Some(Some(vec!["custom.tag".into()])),
    };
    let r = s
        .update_rule(d, "b-rule", &up, &admin(), t(2))
        .await
        .expect("update")
        .expect("exists");
    assert!(!r.enabled);
    assert_eq!(r.effective_level(), Some("low"));
    assert_eq!(r.effective_tags(), ["custom.tag"]);
    assert_eq!(r.updated_at, t(2));
    assert_eq!(r.updated_by, admin().label());
    assert!(
        s.update_rule(OTHER, "b-rule", &up, &admin(), t(2))
            .await
            .expect("update other")
            .is_none()
    );
    assert!(
        s.update_rule(d, "nope", &up, &admin(), t(2))
            .await
            .expect("update missing")
            .is_none()
    );

    // Registering again refreshes the definition, keeps the state.
    let mut again = rule("b-rule", "B renamed", RuleSource::Builtin);
    again.level = Some("medium".into());
    let added = s
        .register_rules(d, &[again], &admin(), t(3))
        .await
        .expect("register again");
    assert_eq!(added, 0);
    let b = s.get_rule(d, "b-rule").await.expect("get").expect("exists");
    assert_eq!(b.title, "B renamed");
    assert_eq!(b.level.as_deref(), Some("medium"));
    assert!(!b.enabled);
    assert_eq!(b.effective_level(), Some("low"));
    assert_eq!(b.created_at, t(1));

    // Removing overrides; enabling again.
    let r = s
        .update_rule(
            d,
            "b-rule",
            &RuleUpdate {
                enabled: Some(true),
                level_override: Some(None),
                tags_override: Some(None),
            },
            &admin(),
            t(4),
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(r.enabled);
    assert_eq!(r.effective_level(), Some("medium"));
    assert_eq!(r.tags_override, None);

    // Audited, and in the change feed.
    let audit = s.list_audit(d, 0, 100).await.expect("audit");
    assert_eq!(
        audit.iter().filter(|e| e.action == "rule.update").count(),
        2
    );
    assert!(s.verify_audit().await.expect("verify").is_intact());
    let changes = s.changes_after(0, 1000).await.expect("changes");
    assert!(changes.iter().filter(|c| c.object_type == "rule").count() >= 4);

    // Bad ids are refused before anything is written.
    assert!(
        s.register_rules(d, &[rule("", "x", RuleSource::Dir)], &admin(), t(5))
            .await
            .is_err()
    );
}

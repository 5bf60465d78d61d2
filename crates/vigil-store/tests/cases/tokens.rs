//! API token cases.

use vigil_model::{Role, TenantId};
use vigil_store::{Store, token};

use super::{OTHER, admin, t};

pub async fn tokens_create_find_verify_revoke(s: Store) {
    let by = admin();
    let (rec, plain) = s
        .create_token(
            TenantId::DEFAULT,
            "ci runner",
            Role::Ingest,
            None,
            &by,
            t(100),
        )
        .await
        .expect("create");
    let (id, secret) = token::split(&plain).expect("token format");
    assert_eq!(id, rec.id);
    assert_eq!(rec.prefix, format!("vgl_{id}"));
    assert!(plain.starts_with(&rec.prefix));
    assert!(
        !rec.secret_hash.contains(secret),
        "plaintext is never stored"
    );
    assert!(rec.secret_hash.starts_with("$argon2id$"));
    assert_eq!(rec.created_by, "system:test");

    let found = s.find_token(id).await.expect("find").expect("exists");
    assert_eq!(found, rec);
    assert!(token::verify_secret(secret, &found.secret_hash));
    let mut wrong = secret.to_owned();
    wrong.replace_range(0..1, if wrong.starts_with('A') { "B" } else { "A" });
    assert!(!token::verify_secret(&wrong, &found.secret_hash));
    assert!(found.is_active(t(101)));
    assert_eq!(s.find_token("0000000000000000").await.expect("find"), None);

    let (expired, _) = s
        .create_token(
            TenantId::DEFAULT,
            "old",
            Role::Viewer,
            Some(t(150)),
            &by,
            t(100),
        )
        .await
        .expect("create expiring");
    assert!(expired.is_active(t(149)) && !expired.is_active(t(150)));
    assert_eq!(
        s.count_active_tokens().await.expect("count"),
        1,
        "the expired one does not count"
    );
    let listed = s.list_tokens(TenantId::DEFAULT).await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(s.list_tokens(OTHER).await.expect("list other").is_empty());

    assert!(
        !s.revoke_token(OTHER, id, &by, t(200))
            .await
            .expect("other tenant"),
        "tenant-scoped"
    );
    assert!(
        s.revoke_token(TenantId::DEFAULT, id, &by, t(200))
            .await
            .expect("revoke")
    );
    assert!(
        !s.revoke_token(TenantId::DEFAULT, id, &by, t(201))
            .await
            .expect("again")
    );
    let revoked = s.find_token(id).await.expect("find").expect("still listed");
    assert_eq!(revoked.revoked_at, Some(t(200)));
    assert!(!revoked.is_active(t(200)));
    assert_eq!(s.count_active_tokens().await.expect("count"), 0);

    let audit = s
        .list_audit(TenantId::DEFAULT, 0, 100)
        .await
        .expect("audit");
    let actions: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str()))
        .collect();
    let target = format!("token:{id}");
    assert_eq!(
        actions,
        [
            ("token.create", target.as_str()),
            ("token.create", &*format!("token:{}", expired.id)),
            ("token.revoke", target.as_str())
        ]
    );
    assert!(
        audit
            .iter()
            .all(|e| e.principal == "system:test" && e.principal_kind == "system")
    );
    assert_eq!(audit[0].details["role"], "ingest");
    assert!(s.verify_audit().await.expect("verify").is_intact());

    let changes = s.changes_after(0, 100).await.expect("changes");
    let ops: Vec<_> = changes
        .iter()
        .filter(|c| c.object_type == "token")
        .map(|c| c.op.as_str())
        .collect();
    assert_eq!(ops, ["create", "create", "revoke"]);
    assert!(
        changes
            .iter()
            .all(|c| !c.payload.to_string().contains(secret))
    );

    assert!(
        s.create_token(TenantId::DEFAULT, "  ", Role::Admin, None, &by, t(1))
            .await
            .is_err()
    );
    let unknown = TenantId::from_uuid(uuid::Uuid::from_u128(77));
    assert!(
        s.create_token(unknown, "x", Role::Admin, None, &by, t(1))
            .await
            .is_err(),
        "unknown tenant"
    );
}

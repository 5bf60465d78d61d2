//! Secret store cases.

use vigil_model::TenantId;
use vigil_store::{Engine, Error, SecretKey, Store};

use super::{OTHER, t};

pub async fn secrets_round_trip_encrypted(s: Store) {
    let key = SecretKey::from_bytes([42; 32]);
    s.create_tenant(OTHER, "acme", t(0)).await.expect("tenant");
    s.put_secret(&key, TenantId::DEFAULT, "smtp", b"hunter2-plaintext", t(1))
        .await
        .expect("put");
    s.put_secret(&key, TenantId::DEFAULT, "taxii", b"", t(1))
        .await
        .expect("put empty");
    s.put_secret(&key, OTHER, "smtp", b"acme-pass", t(1))
        .await
        .expect("put other");
    assert_eq!(
        s.get_secret(&key, TenantId::DEFAULT, "smtp")
            .await
            .expect("get"),
        Some(b"hunter2-plaintext".to_vec())
    );
    assert_eq!(
        s.get_secret(&key, TenantId::DEFAULT, "taxii")
            .await
            .expect("get"),
        Some(vec![])
    );
    assert_eq!(
        s.get_secret(&key, OTHER, "smtp").await.expect("get"),
        Some(b"acme-pass".to_vec())
    );
    assert_eq!(
        s.get_secret(&key, TenantId::DEFAULT, "none")
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        s.list_secrets(TenantId::DEFAULT).await.expect("list"),
        ["smtp", "taxii"]
    );

    // The plaintext is nowhere in the table.
    let (has_plain, has_name) = match s.engine() {
        Engine::Sqlite => (
            "UPDATE secrets SET updated_at = updated_at WHERE instr(ciphertext, CAST('hunter2' AS BLOB)) > 0",
            "UPDATE secrets SET updated_at = updated_at WHERE name = 'smtp' AND length(nonce) = 12",
        ),
        Engine::Postgres => (
            "UPDATE secrets SET updated_at = updated_at WHERE position(convert_to('hunter2', 'UTF8') in ciphertext) > 0",
            "UPDATE secrets SET updated_at = updated_at WHERE name = 'smtp' AND length(nonce) = 12",
        ),
    };
    assert_eq!(s.raw_execute(has_plain).await.expect("scan"), 0);
    assert_eq!(s.raw_execute(has_name).await.expect("control"), 2);

    // Overwrite, then a row moved to another name does not decrypt.
    s.put_secret(&key, TenantId::DEFAULT, "smtp", b"new", t(2))
        .await
        .expect("overwrite");
    assert_eq!(
        s.get_secret(&key, TenantId::DEFAULT, "smtp")
            .await
            .expect("get"),
        Some(b"new".to_vec())
    );
    s.raw_execute("UPDATE secrets SET name = 'moved' WHERE name = 'taxii'")
        .await
        .expect("move");
    assert!(matches!(
        s.get_secret(&key, TenantId::DEFAULT, "moved").await,
        Err(Error::Crypto(_))
    ));

    assert!(
        s.delete_secret(TenantId::DEFAULT, "smtp")
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_secret(TenantId::DEFAULT, "smtp")
            .await
            .expect("delete again")
    );
    assert_eq!(
        s.get_secret(&key, TenantId::DEFAULT, "smtp")
            .await
            .expect("get"),
        None
    );
    let changes = s.changes_after(0, 100).await.expect("changes");
    assert!(
        changes
            .iter()
            .any(|c| c.object_type == "secret" && c.op == "delete")
    );
    assert!(
        changes
            .iter()
            .all(|c| !c.payload.to_string().contains("hunter2"))
    );
}

pub async fn secrets_wrong_key_is_crypto_error(s: Store) {
    let key = SecretKey::from_bytes([1; 32]);
    let other = SecretKey::from_bytes([2; 32]);
    s.put_secret(&key, TenantId::DEFAULT, "webhook", b"tok", t(1))
        .await
        .expect("put");
    let err = s
        .get_secret(&other, TenantId::DEFAULT, "webhook")
        .await
        .expect_err("wrong key");
    let Error::Crypto(msg) = &err else {
        panic!("expected Crypto, got {err}")
    };
    assert!(
        msg.contains(&key.key_id()) && msg.contains(&other.key_id()),
        "{msg}"
    );
    assert!(matches!(
        s.put_secret(&key, TenantId::DEFAULT, "", b"x", t(1)).await,
        Err(Error::Invalid(_))
    ));
}

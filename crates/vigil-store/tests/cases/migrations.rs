//! Migration cases.

use vigil_store::{Error, Migration, Store};

use super::{OTHER, t};

const EXT: Migration = Migration {
    version: 20001,
    name: "test_ext",
    sqlite: "CREATE TABLE test_ext (id BIGINT PRIMARY KEY, note TEXT)",
    postgres: "CREATE TABLE test_ext (id BIGINT PRIMARY KEY, note TEXT)",
};

pub async fn migrations_are_idempotent_and_checksummed(s: Store) {
    s.migrate(&[]).await.expect("core again");
    s.migrate(&[EXT]).await.expect("with extra");
    s.migrate(&[EXT]).await.expect("with extra again");
    let applied = s.applied_migrations().await.expect("applied");
    let versions: Vec<i64> = applied.iter().map(|m| m.version).collect();
    assert_eq!(versions, [10001, 10002, 20001]);
    assert_eq!(applied[2].checksum, EXT.checksum(s.engine()));
    assert_eq!(
        s.raw_execute("INSERT INTO test_ext (id, note) VALUES (1, 'x')")
            .await
            .expect("table exists"),
        1
    );

    let changed = Migration {
        sqlite: "CREATE TABLE test_ext (id BIGINT PRIMARY KEY, note TEXT, more TEXT)",
        postgres: "CREATE TABLE test_ext (id BIGINT PRIMARY KEY, note TEXT, more TEXT)",
        ..EXT
    };
    let err = s
        .migrate(&[changed])
        .await
        .expect_err("changed migration must be refused");
    assert!(
        matches!(err, Error::Migration { version: 20001, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("checksum"), "{err}");

    // A build that no longer knows 20001 keeps it (reported, not deleted).
    s.migrate(&[])
        .await
        .expect("unknown applied version is only reported");
    assert_eq!(s.applied_migrations().await.expect("applied").len(), 3);

    let dup = Migration { name: "dup", ..EXT };
    assert!(matches!(
        s.migrate(&[EXT, dup]).await,
        Err(Error::Invalid(_))
    ));
}

pub async fn failed_migration_applies_nothing(s: Store) {
    let good = Migration {
        version: 30001,
        name: "good",
        sqlite: "CREATE TABLE good_t (id BIGINT)",
        postgres: "CREATE TABLE good_t (id BIGINT)",
    };
    let bad = Migration {
        version: 30002,
        name: "bad",
        sqlite: "CREATE TABLE bad_t (id BIGINT); CREATE TABL oops",
        postgres: "CREATE TABLE bad_t (id BIGINT); CREATE TABL oops",
    };
    let err = s.migrate(&[good, bad]).await.expect_err("bad SQL fails");
    assert!(
        matches!(err, Error::Migration { version: 30002, .. }),
        "{err}"
    );
    let versions: Vec<i64> = s
        .applied_migrations()
        .await
        .expect("applied")
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        versions,
        [10001, 10002],
        "one transaction: the good migration rolled back too"
    );
    assert!(
        s.raw_execute("INSERT INTO good_t (id) VALUES (1)")
            .await
            .is_err()
    );
    s.migrate(&[good]).await.expect("good alone");
}

pub async fn default_tenant_and_tenant_conflicts(s: Store) {
    let tenants = s.list_tenants().await.expect("tenants");
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].id, vigil_model::TenantId::DEFAULT);
    assert_eq!(tenants[0].name, "default");
    s.create_tenant(OTHER, "acme", t(1)).await.expect("create");
    let err = s
        .create_tenant(OTHER, "acme2", t(2))
        .await
        .expect_err("same id");
    assert!(err.is_conflict(), "{err}");
    let err = s
        .create_tenant(
            vigil_model::TenantId::from_uuid(uuid::Uuid::from_u128(3)),
            "acme",
            t(2),
        )
        .await
        .expect_err("same name");
    assert!(err.is_conflict(), "{err}");
    assert!(matches!(
        s.create_tenant(OTHER, " ", t(2)).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(s.list_tenants().await.expect("tenants").len(), 2);
}

pub async fn two_servers_migrate_concurrently(a: Store, b: Store) {
    let ext = Migration {
        version: 20002,
        name: "concurrent",
        sqlite: "CREATE TABLE test_concurrent (id BIGINT)",
        postgres: "CREATE TABLE test_concurrent (id BIGINT)",
    };
    let list = [EXT, ext];
    let (ra, rb) = tokio::join!(a.migrate(&list), b.migrate(&list));
    ra.expect("server a");
    rb.expect("server b");
    let versions: Vec<i64> = a
        .applied_migrations()
        .await
        .expect("applied")
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(versions, [10001, 10002, 20001, 20002], "each applied once");
}

//! The store test-suite: every case is an `async fn` taking a [`Store`] (or
//! two stores on the same database, for "two servers" cases) and runs
//!
//! - on a fresh SQLite file in a temporary directory, always;
//! - on PostgreSQL when `VIGIL_TEST_DATABASE_URL` is set
//!   (e.g. `postgres://postgres@127.0.0.1:5432/test`), each test in its own
//!   schema `vt_<random>` that is dropped afterwards.
//!
//! Without the variable the PostgreSQL variants print
//! `skipped: VIGIL_TEST_DATABASE_URL not set` and pass, except under
//! `CI=true`, where a missing variable or an unreachable database fails.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use futures::FutureExt;
use sqlx::Connection;
use vigil_store::Store;

mod cases;

const URL_VAR: &str = "VIGIL_TEST_DATABASE_URL";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The PostgreSQL URL, `None` (skip) when unset outside CI.
fn pg_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if in_ci() => {
            panic!("{URL_VAR} must be set when CI=true (PostgreSQL variants of the store suite)")
        }
        _ => {
            eprintln!("skipped: {URL_VAR} not set");
            None
        }
    }
}

async fn open_sqlite(path: &Path) -> Store {
    let s = Store::open_sqlite(path).await.expect("open sqlite");
    s.migrate(&[]).await.expect("migrate sqlite");
    s
}

/// A fresh database for one test; dropped (PostgreSQL schema) by `finish`.
enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
        schema: String,
    },
}

impl TestDb {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data").join("vigil.db");
        TestDb::Sqlite { _dir: dir, path }
    }

    async fn postgres() -> Option<Self> {
        let url = pg_url()?;
        let schema = format!("vt_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}={url}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        admin.close().await.expect("close admin connection");
        Some(TestDb::Postgres { url, schema })
    }

    /// A migrated store on this database (call twice for two "servers").
    async fn store(&self) -> Store {
        match self {
            TestDb::Sqlite { path, .. } => open_sqlite(path).await,
            TestDb::Postgres { url, schema } => {
                let s = Store::open_postgres_schema(url, schema)
                    .await
                    .expect("open postgres");
                s.migrate(&[]).await.expect("migrate postgres");
                s
            }
        }
    }

    async fn finish(self) {
        if let TestDb::Postgres { url, schema } = self {
            let mut admin = sqlx::PgConnection::connect(&url).await.expect("reconnect");
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .expect("drop test schema");
            let _ = admin.close().await;
        }
    }
}

/// Runs `case` on one store, cleaning up even when it panics.
async fn run1<F, Fut>(db: Option<TestDb>, case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = db else { return };
    let store = db.store().await;
    let result = AssertUnwindSafe(case(store.clone())).catch_unwind().await;
    store.close().await;
    db.finish().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `case` on two independent stores (pools) over one database.
async fn run2<F, Fut>(db: Option<TestDb>, case: F)
where
    F: FnOnce(Store, Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = db else { return };
    let a = db.store().await;
    let b = db.store().await;
    let result = AssertUnwindSafe(case(a.clone(), b.clone()))
        .catch_unwind()
        .await;
    a.close().await;
    b.close().await;
    db.finish().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Registers each case once per engine: `sqlite::name` and `postgres::name`.
macro_rules! suite {
    (one: [$($one:ident),* $(,)?], two: [$($two:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $one() {
                    crate::run1(Some(crate::TestDb::sqlite().await), crate::cases::$one).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $two() {
                    crate::run2(Some(crate::TestDb::sqlite().await), crate::cases::$two).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $one() {
                    crate::run1(crate::TestDb::postgres().await, crate::cases::$one).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $two() {
                    crate::run2(crate::TestDb::postgres().await, crate::cases::$two).await;
                }
            )*
        }
    };
}

suite! {
    one: [
        migrations_are_idempotent_and_checksummed,
        failed_migration_applies_nothing,
        default_tenant_and_tenant_conflicts,
        append_assigns_ascending_seqs,
        append_is_all_or_nothing,
        list_events_pages_newest_first,
        purge_events_by_retention,
        commit_detections_is_idempotent,
        checkpoint_is_monotonic_and_states_upsert,
        list_alerts_filters,
        alerts_aggregate_and_suppress,
        list_alerts_keyset_pagination_has_no_dupes_or_skips,
        corrupt_rows_are_errors,
        tokens_create_find_verify_revoke,
        audit_chain_verifies,
        audit_detects_edited_row,
        audit_detects_deleted_row,
        audit_detects_deleted_tail,
        audit_detects_reordered_rows,
        change_feed_in_order,
        jobs_lease_expiry_and_stale_completion,
        jobs_one_shot_and_upsert_keeps_schedule,
        vuln_assets_findings_and_reference_data,
        vuln_host_sightings_link_or_create_assets,
        vuln_intel_about_cves,
        secrets_round_trip_encrypted,
        secrets_wrong_key_is_crypto_error,
        rules_register_update_and_list,
        threats_profile_scenarios_and_history,
        intel_indicators_objects_and_feeds,
        console_indicator_search_and_feed_counts,
        indicator_feed_index_filled_from_stored_provenance,
        indicator_upsert_batches_and_duplicates,
        threat_register_alert_counts_and_related_indicators,
        console_ranked_findings_and_summary,
        intel_sightings_counted_once_from_change_feed,
        intel_blocklist_entries_and_candidates,
        intel_query_indicators_filters_and_pages,
        taxii_collections_and_feeds,
        respond_incidents_triage_and_runs,
        related_alerts_share_entities,
        console_users_sessions_and_queue,
        console_user_access_and_last_admin,
        rules_page_filters_and_keyset,
    ],
    two: [
        two_servers_migrate_concurrently,
        two_servers_claim_disjoint_jobs,
        two_servers_audit_chain_stays_linear,
        two_servers_append_events_concurrently,
    ],
}

// Engine-specific behaviour that the shared cases do not cover.

#[tokio::test]
async fn sqlite_open_creates_dirs_and_accepts_urls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("a").join("b").join("v.db");
    let url = format!("sqlite://{}", nested.display());
    let s = Store::open(&url).await.expect("open by url");
    assert_eq!(s.engine(), vigil_store::Engine::Sqlite);
    s.migrate(&[]).await.expect("migrate");
    s.ping().await.expect("ping");
    s.record_change(
        vigil_model::TenantId::DEFAULT,
        "x",
        "1",
        "create",
        &serde_json::json!({}),
        vigil_model::Timestamp::from_secs(1),
    )
    .await
    .expect("write");
    assert!(nested.exists());
    assert!(
        nested.with_extension("db-wal").exists(),
        "WAL journal in use"
    );
    s.close().await;

    // Reopening by plain path sees the committed write.
    let s = Store::open(nested.to_str().expect("utf-8 path"))
        .await
        .expect("reopen");
    s.migrate(&[]).await.expect("migrate again");
    assert_eq!(s.changes_after(0, 10).await.expect("changes").len(), 1);
    s.close().await;

    let m = Store::open("sqlite::memory:").await.expect("memory");
    m.migrate(&[]).await.expect("migrate memory");
    assert_eq!(m.count_events(None).await.expect("count"), 0);
    assert!(matches!(
        Store::open("").await,
        Err(vigil_store::Error::Invalid(_))
    ));
}

#[tokio::test]
async fn postgres_schema_names_are_validated() {
    for bad in ["", "1abc", "a-b", "a;drop", &"x".repeat(64)] {
        let r = Store::open_postgres_schema("postgres://nobody@127.0.0.1:1/x", bad).await;
        assert!(matches!(r, Err(vigil_store::Error::Invalid(_))), "{bad:?}");
    }
}

/// Every public async method returns a `Send` future (servers hold them in
/// spawned tasks and axum handlers). Type-checked only, never run.
#[allow(dead_code, clippy::too_many_lines)]
fn store_futures_are_send(s: &Store, events: &mut [vigil_model::Event]) {
    use vigil_model::{Principal, Role, TenantId, Timestamp};
    use vigil_store::*;
    fn send<T: Send>(_: &T) {}
    let (t0, d) = (Timestamp::from_secs(0), TenantId::DEFAULT);
    let p = Principal::system("x");
    let key = SecretKey::from_bytes([0; 32]);
    let spec = JobSpec {
        name: String::new(),
        kind: String::new(),
        interval_secs: None,
        next_run: t0,
        payload: serde_json::Value::Null,
        tenant: d,
    };
    let lease = JobLease {
        name: String::new(),
        kind: String::new(),
        payload: serde_json::Value::Null,
        tenant: d,
        lease_token: String::new(),
        lease_until: t0,
        attempts: 0,
    };
    let c = DetectionCommit {
        consumer: "",
        upto_seq: 0,
        alerts: &[],
        effects: &[],
        states: &[],
        at: t0,
    };
    let a = NewAudit::new(d, &p, "", "", serde_json::Value::Null, t0);
    send(&Store::open(""));
    send(&s.migrate(&[]));
    send(&s.ping());
    send(&s.close());
    send(&s.append_events(events));
    send(&s.events_after(0, 1));
    send(&s.list_events(d, 1, None));
    send(&s.count_events(None));
    send(&s.max_event_seq());
    send(&s.purge_events(t0));
    send(&s.checkpoint(""));
    send(&s.commit_detections(&c));
    send(&s.load_detector_state("", ""));
    send(&s.list_alerts(&AlertQuery::default()));
    send(&s.get_alert(d, vigil_model::AlertId::derive("", "", "")));
    send(&s.count_alerts(None));
    send(&s.create_token(d, "", Role::Admin, None, &p, t0));
    send(&s.find_token(""));
    send(&s.list_tokens(d));
    send(&s.revoke_token(d, "", &p, t0));
    send(&s.count_active_tokens());
    send(&s.audit(&a));
    send(&s.list_audit(d, 0, 1));
    send(&s.verify_audit());
    send(&s.changes_after(0, 1));
    send(&s.record_change(d, "", "", "", &serde_json::Value::Null, t0));
    send(&s.upsert_job(&spec));
    send(&s.claim_due_jobs("", t0, 1, 1));
    send(&s.renew_lease(&lease, t0, 1));
    send(&s.complete_job(&lease, t0, Ok(())));
    send(&s.list_jobs());
    send(&s.put_secret(&key, d, "", b"", t0));
    send(&s.get_secret(&key, d, ""));
    send(&s.list_secrets(d));
    send(&s.delete_secret(d, ""));
    send(&s.create_tenant(d, "", t0));
    send(&s.list_tenants());
}

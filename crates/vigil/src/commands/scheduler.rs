//! The job runner of `vigil serve`: claims due jobs from the store's
//! persisted scheduler under a lease (so two servers on one PostgreSQL never
//! run the same job twice) and runs them by kind: event retention and
//! intel feed syncs (`intel.feed`, see `feeds.rs`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::Notify;
use vigil_model::{Clock, TenantId};
use vigil_store::{FEED_JOB, JobLease, JobSpec, SecretKey, Store};

use crate::commands::feeds::{self, SyncContext};

use crate::config::Config;

/// Kind of the event-retention job.
pub const RETENTION_JOB: &str = "retention.events";

/// Kind of the job that deletes expired manual blocklist entries (they stop
/// being served at their TTL; this removes the rows).
pub const BLOCKLIST_PURGE_JOB: &str = "intel.blocklist.purge";

/// How long a claimed job is ours before another server may take it.
const LEASE_MICROS: i64 = 5 * 60 * 1_000_000;

/// Registers the built-in jobs.
pub async fn register(store: &Store, cfg: &Config, clock: &dyn Clock) -> Result<()> {
    if cfg.retention.events_days > 0 {
        store
            .upsert_job(&JobSpec {
                name: RETENTION_JOB.into(),
                kind: RETENTION_JOB.into(),
                interval_secs: Some(3600),
                next_run: clock.now(),
                payload: serde_json::json!({ "days": cfg.retention.events_days }),
                tenant: TenantId::DEFAULT,
            })
            .await?;
    }
    store
        .upsert_job(&JobSpec {
            name: BLOCKLIST_PURGE_JOB.into(),
            kind: BLOCKLIST_PURGE_JOB.into(),
            interval_secs: Some(3600),
            next_run: clock.now(),
            payload: serde_json::json!({}),
            tenant: TenantId::DEFAULT,
        })
        .await?;
    Ok(())
}

/// What jobs need besides the store and clock.
pub struct JobEnv {
    /// The secret-store key (feed credentials).
    pub key: Option<SecretKey>,
    /// Notified when a job changed indicators (detectors are rebuilt).
    pub intel_changed: Arc<Notify>,
}

/// Runs until `stop` resolves.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    owner: String,
    env: JobEnv,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let feeds = match feeds::http_client() {
        Ok(http) => Some(SyncContext {
            store: store.clone(),
            clock: clock.clone(),
            key: env.key.clone(),
            http,
        }),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "feed syncs disabled");
            None
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let now = clock.now();
        let leases = match store.claim_due_jobs(&owner, now, LEASE_MICROS, 8).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim scheduled jobs");
                continue;
            }
        };
        for lease in leases {
            let outcome = match (lease.kind.as_str(), &feeds) {
                (FEED_JOB, Some(ctx)) => {
                    let work = feeds::run_job(ctx, lease.tenant, &lease.payload);
                    match renewing(&store, &lease, clock.as_ref(), work).await {
                        Ok(changed) => {
                            if changed {
                                env.intel_changed.notify_one();
                            }
                            Ok(())
                        }
                        Err(e) => Err(format!("{e:#}")),
                    }
                }
                _ => run_job(&store, &lease, clock.as_ref()).await,
            };
            if let Err(e) = &outcome {
                tracing::warn!(job = %lease.name, error = %e, "scheduled job failed");
            }
            if let Err(e) = store.complete_job(&lease, clock.now(), outcome).await {
                tracing::warn!(job = %lease.name, error = %e, "cannot record job completion");
            }
        }
    }
}

/// Runs `work` while renewing `lease` every third of its length, so a long
/// feed sync is not claimed by another server meanwhile.
async fn renewing<T>(
    store: &Store,
    lease: &JobLease,
    clock: &dyn Clock,
    work: impl std::future::Future<Output = T>,
) -> T {
    let every = Duration::from_micros(u64::try_from(LEASE_MICROS / 3).unwrap_or(60_000_000));
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                match store.renew_lease(lease, clock.now(), LEASE_MICROS).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job = %lease.name, "lease lost while running"),
                    Err(e) => tracing::warn!(job = %lease.name, error = %e, "cannot renew lease"),
                }
            }
        }
    }
}

async fn run_job(
    store: &Store,
    lease: &JobLease,
    clock: &dyn Clock,
) -> std::result::Result<(), String> {
    match lease.kind.as_str() {
        RETENTION_JOB => {
            let days = lease
                .payload
                .get("days")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(30);
            let cutoff = clock.now().add_micros(-days.saturating_mul(86_400_000_000));
            let n = store
                .purge_events(cutoff)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(deleted = n, days, "event retention");
            Ok(())
        }
        BLOCKLIST_PURGE_JOB => {
            let n = store
                .purge_expired_blocklist_entries(lease.tenant, clock.now())
                .await
                .map_err(|e| e.to_string())?;
            if n > 0 {
                tracing::info!(deleted = n, "expired blocklist entries purged");
            }
            Ok(())
        }
        other => Err(format!("unknown job kind {other:?}")),
    }
}

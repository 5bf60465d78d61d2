//! The persisted job scheduler: jobs with leases, so that servers sharing a
//! database never run the same job at the same time.
//!
//! A server claims due jobs ([`Store::claim_due_jobs`]), which sets a lease
//! (owner, expiry, random token); it renews the lease while working and
//! completes the job with the same lease. If the server dies the lease
//! expires and another server claims the job. Completing or renewing with a
//! stale lease (the token changed because someone else claimed the job) does
//! nothing and returns `false`.

use std::time::Duration;

use sqlx::types::Json;
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Error, Result, db};
use crate::row::RowExt;
use crate::token::os_random;

/// Retry delay of a failed one-shot job after its first attempt; doubles per
/// attempt up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(30);
/// Longest retry delay of a failed one-shot job.
const MAX_RETRY: Duration = Duration::from_secs(3600);

/// A job definition.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Unique name (`intel.refresh:abuse-ch`, …).
    pub name: String,
    /// What to run; the scheduler maps kinds to handlers.
    pub kind: String,
    /// Repeat every this many seconds; `None` for a one-shot job.
    pub interval_secs: Option<i64>,
    /// First run time (see [`Store::upsert_job`] for existing jobs).
    pub next_run: Timestamp,
    /// Handler arguments.
    pub payload: serde_json::Value,
    /// Owning tenant.
    pub tenant: TenantId,
}

/// A claimed job: run it, renew while running, then complete it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobLease {
    /// Job name.
    pub name: String,
    /// Job kind.
    pub kind: String,
    /// Handler arguments.
    pub payload: serde_json::Value,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Identifies this claim; renew and complete need it.
    pub lease_token: String,
    /// The lease ends at this time unless renewed.
    pub lease_until: Timestamp,
    /// Attempts since the last success, this one included.
    pub attempts: i64,
}

/// A job as listed for operators.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Repeat interval; `None` for one-shot jobs.
    pub interval_secs: Option<i64>,
    /// Next due time.
    pub next_run: Timestamp,
    /// False once a one-shot job has succeeded.
    pub enabled: bool,
    /// Handler arguments.
    pub payload: serde_json::Value,
    /// Server holding the lease, if any.
    pub lease_owner: Option<String>,
    /// Lease expiry, if leased.
    pub lease_until: Option<Timestamp>,
    /// Attempts since the last success.
    pub attempts: i64,
    /// When it last finished.
    pub last_run: Option<Timestamp>,
    /// The last failure's message, cleared by a success.
    pub last_error: Option<String>,
}

const CLAIM_SQLITE: &str = "UPDATE jobs SET lease_owner = $1, lease_until = $2, lease_token = $3, \
     attempts = attempts + 1, updated_at = $4 \
     WHERE name IN (SELECT name FROM jobs WHERE enabled AND next_run <= $4 \
     AND (lease_until IS NULL OR lease_until < $4) ORDER BY next_run, name LIMIT $5) \
     RETURNING name, kind, payload, tenant, lease_token, lease_until, attempts";

/// PostgreSQL: `SKIP LOCKED` lets concurrent claimers take disjoint jobs;
/// the outer conditions re-check rows another claimer changed meanwhile.
const CLAIM_PG: &str = "UPDATE jobs SET lease_owner = $1, lease_until = $2, lease_token = $3, \
     attempts = attempts + 1, updated_at = $4 \
     WHERE name IN (SELECT name FROM jobs WHERE enabled AND next_run <= $4 \
     AND (lease_until IS NULL OR lease_until < $4) ORDER BY next_run, name LIMIT $5 \
     FOR UPDATE SKIP LOCKED) \
     AND enabled AND next_run <= $4 AND (lease_until IS NULL OR lease_until < $4) \
     RETURNING name, kind, payload, tenant, lease_token, lease_until, attempts";

fn lease_from_row(r: &impl RowExt) -> Result<JobLease> {
    const T: &str = "jobs";
    Ok(JobLease {
        name: r.text(T, "name")?,
        kind: r.text(T, "kind")?,
        payload: r.json(T, "payload")?,
        tenant: r.tenant(T, "tenant")?,
        lease_token: r.text(T, "lease_token")?,
        lease_until: r.ts(T, "lease_until")?,
        attempts: r.int(T, "attempts")?,
    })
}

fn info_from_row(r: &impl RowExt) -> Result<JobInfo> {
    const T: &str = "jobs";
    Ok(JobInfo {
        name: r.text(T, "name")?,
        kind: r.text(T, "kind")?,
        tenant: r.tenant(T, "tenant")?,
        interval_secs: r.opt_int(T, "interval_secs")?,
        next_run: r.ts(T, "next_run")?,
        enabled: r.flag(T, "enabled")?,
        payload: r.json(T, "payload")?,
        lease_owner: r.opt_text(T, "lease_owner")?,
        lease_until: r.opt_ts(T, "lease_until")?,
        attempts: r.int(T, "attempts")?,
        last_run: r.opt_ts(T, "last_run")?,
        last_error: r.opt_text(T, "last_error")?,
    })
}

/// Retry delay of a failed one-shot job after `attempts` attempts.
fn retry_delay(attempts: i64) -> i64 {
    let shift = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let d = FIRST_RETRY
        .as_micros()
        .saturating_mul(1u128 << shift)
        .min(MAX_RETRY.as_micros());
    i64::try_from(d).unwrap_or(i64::MAX)
}

impl Store {
    /// Creates a job, or updates an existing job's definition (kind,
    /// interval, payload, tenant). An existing enabled job keeps its
    /// `next_run`, so re-registering jobs at every start does not reset the
    /// schedule; a finished one-shot job is re-enabled with the new
    /// `next_run`.
    pub async fn upsert_job(&self, spec: &JobSpec) -> Result<()> {
        const OP: &str = "upsert_job";
        if spec.name.is_empty() {
            return Err(Error::Invalid("job name must not be empty".into()));
        }
        if spec.interval_secs.is_some_and(|s| s <= 0) {
            return Err(Error::Invalid(format!(
                "job {}: interval must be positive",
                spec.name
            )));
        }
        let now = vigil_model::Clock::now(&vigil_model::SystemClock);
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO jobs (name, kind, tenant, interval_secs, next_run, payload, enabled, attempts, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE, 0, $7) \
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, tenant = excluded.tenant, \
                 interval_secs = excluded.interval_secs, payload = excluded.payload, \
                 next_run = CASE WHEN jobs.enabled THEN jobs.next_run ELSE excluded.next_run END, \
                 enabled = TRUE, updated_at = excluded.updated_at",
            )
            .bind(spec.name.as_str())
            .bind(spec.kind.as_str())
            .bind(spec.tenant.to_string())
            .bind(spec.interval_secs)
            .bind(spec.next_run.as_micros())
            .bind(Json(&spec.payload))
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
        });
        Ok(())
    }

    /// Atomically claims up to `limit` due jobs (`next_run <= now`, not
    /// leased or lease expired) for `owner`, leasing them until `now +
    /// lease_micros` under a fresh random lease token.
    pub async fn claim_due_jobs(
        &self,
        owner: &str,
        now: Timestamp,
        lease_micros: i64,
        limit: u32,
    ) -> Result<Vec<JobLease>> {
        const OP: &str = "claim_due_jobs";
        if lease_micros <= 0 {
            return Err(Error::Invalid("lease duration must be positive".into()));
        }
        let token = hex::encode(os_random::<16>()?);
        let until = now.add_micros(lease_micros);
        let sql = match self.engine() {
            crate::Engine::Sqlite => CLAIM_SQLITE,
            crate::Engine::Postgres => CLAIM_PG,
        };
        let mut leases = dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let rows = sqlx::query(sql)
                .bind(owner)
                .bind(until.as_micros())
                .bind(token.as_str())
                .bind(now.as_micros())
                .bind(i64::from(limit))
                .fetch_all(tx.conn())
                .await
                .map_err(db(OP))?;
            tx.commit(OP).await?;
            rows.iter()
                .map(lease_from_row)
                .collect::<Result<Vec<_>>>()?
        });
        leases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(leases)
    }

    /// Extends a lease to `now + lease_micros`; `false` if the lease is no
    /// longer this one (another owner claimed the job, or it completed).
    pub async fn renew_lease(
        &self,
        lease: &JobLease,
        now: Timestamp,
        lease_micros: i64,
    ) -> Result<bool> {
        const OP: &str = "renew_lease";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE name = $3 AND lease_token = $4",
            )
            .bind(now.add_micros(lease_micros).as_micros())
            .bind(now.as_micros())
            .bind(lease.name.as_str())
            .bind(lease.lease_token.as_str())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Finishes a run, only if `lease` is still the job's current lease:
    /// clears the lease, records `last_run` and `last_error`, and schedules
    /// the next run (`now + interval`; a one-shot job is disabled after a
    /// success and retried with exponential backoff after a failure).
    /// Returns `false` for a stale lease.
    pub async fn complete_job(
        &self,
        lease: &JobLease,
        now: Timestamp,
        outcome: std::result::Result<(), String>,
    ) -> Result<bool> {
        const OP: &str = "complete_job";
        let error = outcome.err();
        let ok = error.is_none();
        let retry = now.add_micros(retry_delay(lease.attempts)).as_micros();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, lease_token = NULL, \
                 last_run = $1, last_error = $2, updated_at = $1, \
                 attempts = CASE WHEN $3 THEN 0 ELSE attempts END, \
                 enabled = CASE WHEN $3 AND interval_secs IS NULL THEN FALSE ELSE enabled END, \
                 next_run = CASE WHEN interval_secs IS NOT NULL THEN $1 + interval_secs * 1000000 \
                 WHEN $3 THEN next_run ELSE $4 END \
                 WHERE name = $5 AND lease_token = $6",
            )
            .bind(now.as_micros())
            .bind(error.as_deref())
            .bind(ok)
            .bind(retry)
            .bind(lease.name.as_str())
            .bind(lease.lease_token.as_str())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// All jobs, by name.
    pub async fn list_jobs(&self) -> Result<Vec<JobInfo>> {
        const OP: &str = "list_jobs";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT name, kind, tenant, interval_secs, next_run, enabled, payload, lease_owner, \
                 lease_until, attempts, last_run, last_error FROM jobs ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(info_from_row).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_backs_off_and_caps() {
        assert_eq!(retry_delay(1), 30_000_000);
        assert_eq!(retry_delay(2), 60_000_000);
        assert_eq!(retry_delay(0), 30_000_000);
        assert_eq!(retry_delay(100), 3_600_000_000);
    }
}

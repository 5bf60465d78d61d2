//! Configured intel feeds (block 4, migration 40011 on top of the
//! `intel_feeds` table of 40001): what to fetch, how often, with which
//! defaults and credentials, the conditional-GET validators and TAXII cursor
//! of the last run, and the feed's health.
//!
//! Rows that `vigil intel import --feed` recorded without configuration have
//! `configured = false`; [`Store::put_feed`] turns them into configured
//! feeds.

use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Result, corrupt, db};
use crate::jobs::JobSpec;
use crate::row::RowExt;

/// A feed's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// Unique name per tenant.
    pub name: String,
    /// `stix`, `misp`, `csv` or `taxii`.
    pub format: String,
    /// A URL (`http(s)://`) or a file path; for `taxii`, the collection's
    /// URL (`…/collections/<id>/`).
    pub location: String,
    /// Scheduled syncs run only for enabled feeds.
    pub enabled: bool,
    /// Seconds between scheduled syncs.
    pub interval_secs: i64,
    /// Confidence given to indicators that carry none.
    pub default_confidence: Option<u8>,
    /// TLP given to indicators that carry none (`TLP:AMBER`, …).
    pub default_tlp: Option<String>,
    /// `none`, `basic` (secret is `user:password`) or `bearer`.
    pub auth: String,
    /// Name of the secret holding the credentials.
    pub secret: Option<String>,
    /// Parser options: for `csv`, the column mapping (the fields of
    /// `vigil_intel::list::ListFormat`). Must be a JSON object.
    pub options: Option<serde_json::Value>,
}

/// Feed formats.
pub const FEED_FORMATS: &[&str] = &["stix", "misp", "csv", "taxii"];
/// Credential kinds.
pub const FEED_AUTH: &[&str] = &["none", "basic", "bearer"];
/// Shortest sync interval, seconds.
pub const MIN_FEED_INTERVAL: i64 = 60;

impl FeedConfig {
    /// Checks the configuration; the message names the field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let n = &self.name;
        if n.is_empty()
            || n.len() > 100
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "name: {n:?} must be 1 to 100 letters, digits, '-', '_' or '.'"
            ));
        }
        if !FEED_FORMATS.contains(&self.format.as_str()) {
            return Err(format!(
                "format: {:?} is not one of {}",
                self.format,
                FEED_FORMATS.join(", ")
            ));
        }
        let remote = self.location.starts_with("http://") || self.location.starts_with("https://");
        if self.location.trim().is_empty() {
            return Err("location: empty".into());
        }
        if self.format == "taxii" && !remote {
            return Err("location: a TAXII feed needs the collection's http(s) URL".into());
        }
        if self.interval_secs < MIN_FEED_INTERVAL {
            return Err(format!(
                "interval: at least {MIN_FEED_INTERVAL} seconds, got {}",
                self.interval_secs
            ));
        }
        if self.default_confidence.is_some_and(|c| c > 100) {
            return Err("default_confidence: 0 to 100".into());
        }
        if let Some(t) = &self.default_tlp {
            let u = t.to_ascii_uppercase();
            let name = u.strip_prefix("TLP:").unwrap_or(&u);
            if !["CLEAR", "WHITE", "GREEN", "AMBER", "AMBER+STRICT", "RED"].contains(&name) {
                return Err(format!(
                    "default_tlp: {t:?} is not a TLP (TLP:CLEAR … TLP:RED)"
                ));
            }
        }
        if !FEED_AUTH.contains(&self.auth.as_str()) {
            return Err(format!(
                "auth: {:?} is not one of {}",
                self.auth,
                FEED_AUTH.join(", ")
            ));
        }
        if self.auth != "none" && self.secret.as_deref().is_none_or(str::is_empty) {
            return Err(format!("secret: auth {} needs a secret name", self.auth));
        }
        if self.options.as_ref().is_some_and(|o| !o.is_object()) {
            return Err("options: must be a JSON object".into());
        }
        if self.options.is_some() && self.format != "csv" {
            return Err("options: only csv feeds take options (the column mapping)".into());
        }
        if self.auth != "none" && !remote {
            return Err("auth: credentials apply to http(s) feeds only".into());
        }
        Ok(())
    }
}

/// A feed: its configuration, sync state and health.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedInfo {
    /// Configuration.
    pub config: FeedConfig,
    /// Whether `vigil intel feeds add` (or the API) configured it.
    pub configured: bool,
    /// `ETag` of the last successful fetch.
    pub etag: Option<String>,
    /// `Last-Modified` of the last successful fetch.
    pub last_modified: Option<String>,
    /// TAXII: the `X-TAXII-Date-Added-Last` of the last page read.
    pub cursor: Option<String>,
    /// Last run.
    pub last_run: Option<Timestamp>,
    /// Last run without errors.
    pub last_success: Option<Timestamp>,
    /// `new`, `ok`, `not-modified`, `partial` or `error`.
    pub status: String,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Objects read in the last run.
    pub objects: i64,
    /// Indicators added in the last run.
    pub added: i64,
    /// Indicators updated in the last run.
    pub updated: i64,
    /// Indicators of this feed past `valid_until` at the last run.
    pub expired: i64,
    /// Items rejected in the last run.
    pub errors: i64,
}

/// The outcome of one sync, recorded by [`Store::record_feed_sync`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedSync {
    /// `ok`, `not-modified`, `partial` or `error`.
    pub status: String,
    /// The error, if any.
    pub error: Option<String>,
    /// Objects read.
    pub objects: i64,
    /// Indicators added.
    pub added: i64,
    /// Indicators updated.
    pub updated: i64,
    /// Expired indicators of the feed.
    pub expired: i64,
    /// Items rejected.
    pub errors: i64,
    /// New `ETag` (kept when `None`).
    pub etag: Option<String>,
    /// New `Last-Modified` (kept when `None`).
    pub last_modified: Option<String>,
    /// New TAXII cursor (kept when `None`).
    pub cursor: Option<String>,
}

const COLUMNS: &str = "name, kind, location, enabled, interval_secs, default_confidence, \
     default_tlp, auth, secret, CAST(options AS TEXT) AS options, configured, etag, last_modified, cursor, last_run, last_success, \
     status, last_error, objects, added, updated, expired, errors";

fn info_from_row(r: &impl RowExt) -> Result<FeedInfo> {
    const T: &str = "intel_feeds";
    let default_confidence = match r.opt_int(T, "default_confidence")? {
        None => None,
        Some(c) => Some(
            u8::try_from(c).map_err(|e| corrupt(T, format!("column default_confidence: {e}")))?,
        ),
    };
    Ok(FeedInfo {
        config: FeedConfig {
            name: r.text(T, "name")?,
            format: r.text(T, "kind")?,
            location: r.text(T, "location")?,
            enabled: r.flag(T, "enabled")?,
            interval_secs: r.int(T, "interval_secs")?,
            default_confidence,
            default_tlp: r.opt_text(T, "default_tlp")?,
            auth: r.text(T, "auth")?,
            secret: r.opt_text(T, "secret")?,
            options: r
                .opt_text(T, "options")?
                .map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| corrupt(T, format!("column options: {e}")))?,
        },
        configured: r.flag(T, "configured")?,
        etag: r.opt_text(T, "etag")?,
        last_modified: r.opt_text(T, "last_modified")?,
        cursor: r.opt_text(T, "cursor")?,
        last_run: r.opt_ts(T, "last_run")?,
        last_success: r.opt_ts(T, "last_success")?,
        status: r.text(T, "status")?,
        last_error: r.opt_text(T, "last_error")?,
        objects: r.int(T, "objects")?,
        added: r.int(T, "added")?,
        updated: r.int(T, "updated")?,
        expired: r.int(T, "expired")?,
        errors: r.int(T, "errors")?,
    })
}

/// Kind of the scheduled job that syncs one feed; its payload names the
/// feed (`{"feed": name}`).
pub const FEED_JOB: &str = "intel.feed";

/// The scheduler job name of a feed.
pub fn feed_job_name(feed: &str) -> String {
    format!("{FEED_JOB}:{feed}")
}

impl Store {
    /// Registers (or updates) the scheduled job of a feed; a disabled feed's
    /// job is disabled. A new job is due at `now`.
    pub async fn schedule_feed(
        &self,
        tenant: TenantId,
        f: &FeedConfig,
        now: Timestamp,
    ) -> Result<()> {
        let name = feed_job_name(&f.name);
        if f.enabled {
            self.upsert_job(&JobSpec {
                name,
                kind: FEED_JOB.into(),
                interval_secs: Some(f.interval_secs.max(1)),
                next_run: now,
                payload: serde_json::json!({ "feed": f.name }),
                tenant,
            })
            .await
        } else {
            self.set_job_enabled(&name, false, now).await
        }
    }

    /// Makes a job due now (`sync` on demand); `false` if there is no such
    /// enabled job.
    pub async fn run_job_soon(&self, name: &str, now: Timestamp) -> Result<bool> {
        const OP: &str = "run_job_soon";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query("UPDATE jobs SET next_run = $2 WHERE name = $1 AND enabled")
                .bind(name)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    /// Enables or disables a job (a removed feed's job is disabled).
    pub async fn set_job_enabled(&self, name: &str, enabled: bool, now: Timestamp) -> Result<()> {
        const OP: &str = "set_job_enabled";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query("UPDATE jobs SET enabled = $2, updated_at = $3 WHERE name = $1")
                .bind(name)
                .bind(enabled)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(())
        })
    }

    /// Creates or reconfigures a feed. A changed location or format resets
    /// the validators and the TAXII cursor; health is kept.
    pub async fn put_feed(&self, tenant: TenantId, f: &FeedConfig, now: Timestamp) -> Result<()> {
        const OP: &str = "put_feed";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO intel_feeds (tenant, name, kind, location, enabled, interval_secs, \
                 default_confidence, default_tlp, auth, secret, options, configured, status, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, \
                 TRUE, 'new', $11, $11) ON CONFLICT (tenant, name) DO UPDATE SET \
                 etag = CASE WHEN intel_feeds.location = excluded.location \
                   AND intel_feeds.kind = excluded.kind THEN intel_feeds.etag ELSE NULL END, \
                 last_modified = CASE WHEN intel_feeds.location = excluded.location \
                   AND intel_feeds.kind = excluded.kind THEN intel_feeds.last_modified ELSE NULL END, \
                 cursor = CASE WHEN intel_feeds.location = excluded.location \
                   AND intel_feeds.kind = excluded.kind THEN intel_feeds.cursor ELSE NULL END, \
                 kind = excluded.kind, location = excluded.location, enabled = excluded.enabled, \
                 interval_secs = excluded.interval_secs, \
                 default_confidence = excluded.default_confidence, \
                 default_tlp = excluded.default_tlp, auth = excluded.auth, \
                 secret = excluded.secret, options = excluded.options, configured = TRUE, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.to_string())
            .bind(&f.name)
            .bind(&f.format)
            .bind(&f.location)
            .bind(f.enabled)
            .bind(f.interval_secs)
            .bind(f.default_confidence.map(i64::from))
            .bind(f.default_tlp.as_deref())
            .bind(&f.auth)
            .bind(f.secret.as_deref())
            .bind(now.as_micros())
            .bind(f.options.as_ref().map(sqlx::types::Json))
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(())
        })
    }

    /// One feed, `None` if unknown.
    pub async fn get_feed(&self, tenant: TenantId, name: &str) -> Result<Option<FeedInfo>> {
        const OP: &str = "get_feed";
        let sql = format!("SELECT {COLUMNS} FROM intel_feeds WHERE tenant = $1 AND name = $2");
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(info_from_row).transpose()
        })
    }

    /// A tenant's feeds with configuration and health, by name.
    pub async fn list_feed_infos(&self, tenant: TenantId) -> Result<Vec<FeedInfo>> {
        const OP: &str = "list_feed_infos";
        let sql = format!("SELECT {COLUMNS} FROM intel_feeds WHERE tenant = $1 ORDER BY name");
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(info_from_row).collect()
        })
    }

    /// Removes a feed (its indicators stay); `false` if unknown.
    pub async fn delete_feed(&self, tenant: TenantId, name: &str) -> Result<bool> {
        const OP: &str = "delete_feed";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query("DELETE FROM intel_feeds WHERE tenant = $1 AND name = $2")
                .bind(tenant.to_string())
                .bind(name)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    /// Records a sync's outcome: health always; `last_success` for `ok` and
    /// `not-modified`; validators and cursor only when given.
    pub async fn record_feed_sync(
        &self,
        tenant: TenantId,
        name: &str,
        s: &FeedSync,
        now: Timestamp,
    ) -> Result<()> {
        const OP: &str = "record_feed_sync";
        let success = matches!(s.status.as_str(), "ok" | "not-modified");
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "UPDATE intel_feeds SET last_run = $3, \
                 last_success = CASE WHEN $4 THEN $3 ELSE last_success END, \
                 status = $5, last_error = $6, objects = $7, added = $8, updated = $9, \
                 expired = $10, errors = $11, etag = COALESCE($12, etag), \
                 last_modified = COALESCE($13, last_modified), cursor = COALESCE($14, cursor), \
                 updated_at = $3 WHERE tenant = $1 AND name = $2",
            )
            .bind(tenant.to_string())
            .bind(name)
            .bind(now.as_micros())
            .bind(success)
            .bind(&s.status)
            .bind(s.error.as_deref())
            .bind(s.objects)
            .bind(s.added)
            .bind(s.updated)
            .bind(s.expired)
            .bind(s.errors)
            .bind(s.etag.as_deref())
            .bind(s.last_modified.as_deref())
            .bind(s.cursor.as_deref())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(())
        })
    }
}

//! Threat-intelligence state (block 4): indicators (one row per type +
//! normalised value, every provenance kept), STIX objects kept by version
//! (`modified`), their relationships, and configured feeds with their
//! health.
//!
//! The store owns rows, not the intel model: the binary converts
//! `vigil_intel::Indicator` to and from [`IndicatorRecord`]. Every write is
//! idempotent — importing the same data twice changes nothing and records
//! nothing in the change feed the second time. Sightings Vigil observes
//! itself (`sightings`, `last_sighting`) are counted by
//! [`Store::record_sightings`] and never overwritten by imports.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::changes::{ChangeOps, NewChange};
use crate::engine::Backend;
use crate::error::{Result, corrupt, db};
use crate::migrations::{BLOCK_INTEL, Migration, version};
use crate::row::RowExt;

/// The intel block's migrations (block 4). The binary lists them in its
/// migration set.
pub const INTEL_MIGRATIONS: &[Migration] = &[
    Migration {
        version: version(BLOCK_INTEL, 1),
        name: "intel",
        sqlite: include_str!("../migrations/sqlite/40001_intel.sql"),
        postgres: include_str!("../migrations/postgres/40001_intel.sql"),
    },
    Migration {
        version: version(BLOCK_INTEL, 30),
        name: "indicator_feeds",
        sqlite: include_str!("../migrations/sqlite/40030_indicator_feeds.sql"),
        postgres: include_str!("../migrations/postgres/40030_indicator_feeds.sql"),
    },
    Migration {
        version: version(BLOCK_INTEL, 31),
        name: "indicators_related",
        sqlite: include_str!("../migrations/sqlite/40031_indicators_related.sql"),
        postgres: include_str!("../migrations/postgres/40031_indicators_related.sql"),
    },
];

/// One stored indicator. On upsert, the store-maintained fields
/// (`sightings`, `last_sighting`, `created_at`, `updated_at`) are ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRecord {
    /// Indicator type (`ipv4`, `domain`, `sha256`, …).
    pub kind: String,
    /// Normalised value.
    pub value: String,
    /// 0–100.
    pub confidence: u8,
    /// `TLP:AMBER` style name.
    pub tlp: Option<String>,
    /// Valid from.
    pub valid_from: Option<Timestamp>,
    /// Valid until (`None` = open-ended).
    pub valid_until: Option<Timestamp>,
    /// Labels and tags.
    pub labels: Vec<String>,
    /// ATT&CK technique ids.
    pub techniques: Vec<String>,
    /// Related actors, malware, campaigns.
    pub related: Vec<String>,
    /// Other markings.
    pub markings: Vec<String>,
    /// Kill-chain phases (JSON array).
    pub kill_chain: serde_json::Value,
    /// Every source that asserted it (JSON array of `{feed, object_id}`).
    pub provenance: serde_json::Value,
    /// First seen, as reported by sources.
    pub first_seen: Option<Timestamp>,
    /// Last seen, as reported by sources.
    pub last_seen: Option<Timestamp>,
    /// Sighting count reported by sources.
    pub feed_sightings: i64,
    /// Sightings Vigil recorded itself.
    pub sightings: i64,
    /// When Vigil last saw it.
    pub last_sighting: Option<Timestamp>,
    /// First stored.
    pub created_at: Timestamp,
    /// Last changed by an import.
    pub updated_at: Timestamp,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// New rows.
    pub added: usize,
    /// Existing rows whose content changed.
    pub updated: usize,
    /// Rows already stored as given.
    pub unchanged: usize,
}

/// One version of a STIX object to store.
#[derive(Debug, Clone, PartialEq)]
pub struct StixObjectRecord {
    /// STIX id (`indicator--…`).
    pub id: String,
    /// STIX type.
    pub kind: String,
    /// `modified` (or `created`, or 0 when the object has neither).
    pub modified: Timestamp,
    /// `2.0` or `2.1`.
    pub spec_version: String,
    /// `name`, if any.
    pub name: Option<String>,
    /// `revoked`.
    pub revoked: bool,
    /// The feed or file it came from.
    pub source: String,
    /// The object's JSON.
    pub body: serde_json::Value,
    /// For relationships: `(relationship_type, source_ref, target_ref)`.
    pub relationship: Option<(String, String, String)>,
}

/// A feed's configuration and health.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRecord {
    /// Feed name.
    pub name: String,
    /// Format (`stix`, `misp`, `csv`).
    pub kind: String,
    /// URL or path.
    pub location: String,
    /// Scheduled syncs run only for enabled feeds.
    pub enabled: bool,
    /// Last run.
    pub last_run: Option<Timestamp>,
    /// Last run without errors.
    pub last_success: Option<Timestamp>,
    /// `ok`, `partial` (some items rejected) or `error`.
    pub status: String,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Objects read in the last run.
    pub objects: i64,
    /// Indicators added in the last run.
    pub added: i64,
    /// Indicators updated in the last run.
    pub updated: i64,
    /// Items rejected in the last run.
    pub errors: i64,
}

pub(crate) const IND_COLUMNS: &str = "kind, value, confidence, tlp, valid_from, valid_until, labels, \
     techniques, related, markings, kill_chain, provenance, first_seen, last_seen, \
     feed_sightings, sightings, last_sighting, created_at, updated_at";

pub(crate) fn strings(table: &'static str, col: &str, v: serde_json::Value) -> Result<Vec<String>> {
    serde_json::from_value(v).map_err(|e| corrupt(table, format!("column {col}: {e}")))
}

pub(crate) fn indicator_from_row(r: &impl RowExt) -> Result<IndicatorRecord> {
    const T: &str = "intel_indicators";
    let confidence = u8::try_from(r.small(T, "confidence")?)
        .map_err(|e| corrupt(T, format!("column confidence: {e}")))?;
    Ok(IndicatorRecord {
        kind: r.text(T, "kind")?,
        value: r.text(T, "value")?,
        confidence,
        tlp: r.opt_text(T, "tlp")?,
        valid_from: r.opt_ts(T, "valid_from")?,
        valid_until: r.opt_ts(T, "valid_until")?,
        labels: strings(T, "labels", r.json(T, "labels")?)?,
        techniques: strings(T, "techniques", r.json(T, "techniques")?)?,
        related: strings(T, "related", r.json(T, "related")?)?,
        markings: strings(T, "markings", r.json(T, "markings")?)?,
        kill_chain: r.json(T, "kill_chain")?,
        provenance: r.json(T, "provenance")?,
        first_seen: r.opt_ts(T, "first_seen")?,
        last_seen: r.opt_ts(T, "last_seen")?,
        feed_sightings: r.int(T, "feed_sightings")?,
        sightings: r.int(T, "sightings")?,
        last_sighting: r.opt_ts(T, "last_sighting")?,
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
    })
}

fn feed_from_row(r: &impl RowExt) -> Result<FeedRecord> {
    const T: &str = "intel_feeds";
    Ok(FeedRecord {
        name: r.text(T, "name")?,
        kind: r.text(T, "kind")?,
        location: r.text(T, "location")?,
        enabled: r.flag(T, "enabled")?,
        last_run: r.opt_ts(T, "last_run")?,
        last_success: r.opt_ts(T, "last_success")?,
        status: r.text(T, "status")?,
        last_error: r.opt_text(T, "last_error")?,
        objects: r.int(T, "objects")?,
        added: r.int(T, "added")?,
        updated: r.int(T, "updated")?,
        errors: r.int(T, "errors")?,
    })
}

fn ts(t: Option<Timestamp>) -> Option<i64> {
    t.map(Timestamp::as_micros)
}

/// Most indicators one multi-row statement of `upsert_indicators` writes.
/// Measured on SQLite (100,000 new indicators): 32 a statement 4.2 s, 16
/// 5.0 s, 100 5.7 s, 500 16 s, one a statement 16.6 s — sqlx binds each of
/// a statement's parameters by looking its name up among all of them, so
/// the cost of a statement grows with the square of its parameters.
pub const UPSERT_BATCH: usize = 32;

const T_IND: &str = "intel_indicators";

/// `inds` cut into batches of at most [`UPSERT_BATCH`] with no (type,
/// value) twice in one batch.
fn upsert_batches(inds: &[IndicatorRecord]) -> Vec<Vec<&IndicatorRecord>> {
    let mut out: Vec<Vec<&IndicatorRecord>> = Vec::new();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut cur: Vec<&IndicatorRecord> = Vec::new();
    for i in inds {
        let key = (i.kind.as_str(), i.value.as_str());
        if cur.len() >= UPSERT_BATCH || seen.contains(&key) {
            out.push(std::mem::take(&mut cur));
            seen.clear();
        }
        seen.insert(key);
        cur.push(i);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `($a, $b), ($c, $d), …`: `rows` tuples of `width` placeholders
/// numbered from `first`.
fn values_list(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let p = first + r * width;
            let cols: Vec<String> = (p..p + width).map(|n| format!("${n}")).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The feed index rows (migration 40030) inside `upsert_indicators`'s
/// transaction.
trait FeedIndexOps: Backend {
    /// The rows of indicators just added or updated (`true`: it existed
    /// before): an updated indicator's rows are replaced whole, as its
    /// provenance or expiry may have changed.
    fn write_indicator_feeds(
        conn: &mut Self::Connection,
        tenant: TenantId,
        changed: &[(&IndicatorRecord, bool)],
    ) -> impl Future<Output = Result<()>> + Send;
}

impl_both! {
    impl FeedIndexOps {
        async fn write_indicator_feeds(
            conn: &mut <Self as sqlx::Database>::Connection,
            tenant: TenantId,
            changed: &[(&IndicatorRecord, bool)],
        ) -> Result<()> {
            const OP: &str = "upsert_indicators";
            let updated: Vec<&IndicatorRecord> = changed
                .iter()
                .filter(|(_, existed)| *existed)
                .map(|(i, _)| *i)
                .collect();
            if !updated.is_empty() {
                let sql = format!(
                    "DELETE FROM intel_indicator_feeds WHERE tenant = $1 AND (kind, value) IN (VALUES {})",
                    values_list(2, updated.len(), 2)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string());
                for i in &updated {
                    q = q.bind(i.kind.as_str()).bind(i.value.as_str());
                }
                q.execute(&mut *conn).await.map_err(db(OP))?;
            }
            let rows: Vec<(&str, &IndicatorRecord)> = changed
                .iter()
                .flat_map(|(i, _)| feeds_of(&i.provenance).into_iter().map(move |f| (f, *i)))
                .collect();
            // Four values a row: at most 4 × (feeds per indicator) × the
            // batch; cut so no statement nears the parameter limits.
            for part in rows.chunks(UPSERT_BATCH) {
                let sql = format!(
                    "INSERT INTO intel_indicator_feeds (feed, kind, value, valid_until, tenant) \
                     VALUES {} ON CONFLICT DO NOTHING",
                    (0..part.len())
                        .map(|r| {
                            let p = 2 + r * 4;
                            format!("(${}, ${}, ${}, ${}, $1)", p, p + 1, p + 2, p + 3)
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string());
                for (feed, i) in part {
                    q = q
                        .bind(*feed)
                        .bind(i.kind.as_str())
                        .bind(i.value.as_str())
                        .bind(ts(i.valid_until));
                }
                q.execute(&mut *conn).await.map_err(db(OP))?;
            }
            Ok(())
        }
    }
}

/// The distinct feed names of a provenance list (`[{"feed": …}, …]`); an
/// entry without a name counts as `""`.
fn feeds_of(provenance: &serde_json::Value) -> Vec<&str> {
    let mut feeds: Vec<&str> = provenance
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    p.get("feed")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("")
                })
                .collect()
        })
        .unwrap_or_default();
    feeds.sort_unstable();
    feeds.dedup();
    feeds
}

impl Store {
    /// Inserts or updates indicators by (type, value) in one transaction;
    /// rows whose content is unchanged are not written. Added and updated
    /// indicators land in the change feed (`indicator`), in input order.
    /// Written in multi-row statements of up to [`UPSERT_BATCH`] indicators
    /// (a later duplicate of a (type, value) starts a new batch, so it
    /// updates what the earlier one wrote, as one statement each would).
    pub async fn upsert_indicators(
        &self,
        tenant: TenantId,
        inds: &[IndicatorRecord],
        now: Timestamp,
    ) -> Result<UpsertStats> {
        const OP: &str = "upsert_indicators";
        let batches = upsert_batches(inds);
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut stats = UpsertStats::default();
            let mut payloads = Vec::new();
            for batch in &batches {
                let keys = values_list(2, batch.len(), 2);
                let existed: HashSet<(String, String)> = {
                    let sql = format!(
                        "SELECT kind, value FROM intel_indicators \
                         WHERE tenant = $1 AND (kind, value) IN (VALUES {keys})"
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string());
                    for i in batch {
                        q = q.bind(&i.kind).bind(&i.value);
                    }
                    let rows = q.fetch_all(tx.conn()).await.map_err(db(OP))?;
                    rows.iter()
                        .map(|r| Ok((r.text(T_IND, "kind")?, r.text(T_IND, "value")?)))
                        .collect::<Result<_>>()?
                };
                let sql = format!(
                    "INSERT INTO intel_indicators (kind, value, confidence, tlp, valid_from, \
                     valid_until, labels, techniques, related, markings, kill_chain, provenance, \
                     first_seen, last_seen, feed_sightings, tenant, sightings, created_at, \
                     updated_at) VALUES {} \
                     ON CONFLICT (tenant, kind, value) DO UPDATE SET \
                     confidence = excluded.confidence, tlp = excluded.tlp, \
                     valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
                     labels = excluded.labels, techniques = excluded.techniques, \
                     related = excluded.related, markings = excluded.markings, \
                     kill_chain = excluded.kill_chain, provenance = excluded.provenance, \
                     first_seen = excluded.first_seen, last_seen = excluded.last_seen, \
                     feed_sightings = excluded.feed_sightings, updated_at = excluded.updated_at \
                     WHERE intel_indicators.confidence <> excluded.confidence \
                     OR intel_indicators.tlp IS DISTINCT FROM excluded.tlp \
                     OR intel_indicators.valid_from IS DISTINCT FROM excluded.valid_from \
                     OR intel_indicators.valid_until IS DISTINCT FROM excluded.valid_until \
                     OR CAST(intel_indicators.labels AS TEXT) <> CAST(excluded.labels AS TEXT) \
                     OR CAST(intel_indicators.techniques AS TEXT) <> CAST(excluded.techniques AS TEXT) \
                     OR CAST(intel_indicators.related AS TEXT) <> CAST(excluded.related AS TEXT) \
                     OR CAST(intel_indicators.markings AS TEXT) <> CAST(excluded.markings AS TEXT) \
                     OR CAST(intel_indicators.kill_chain AS TEXT) <> CAST(excluded.kill_chain AS TEXT) \
                     OR CAST(intel_indicators.provenance AS TEXT) <> CAST(excluded.provenance AS TEXT) \
                     OR intel_indicators.first_seen IS DISTINCT FROM excluded.first_seen \
                     OR intel_indicators.last_seen IS DISTINCT FROM excluded.last_seen \
                     OR intel_indicators.feed_sightings <> excluded.feed_sightings \
                     RETURNING kind, value",
                    (0..batch.len())
                        .map(|k| {
                            let p = 3 + k * 15;
                            let cols: Vec<String> = (p..p + 15).map(|n| format!("${n}")).collect();
                            format!("({}, $1, 0, $2, $2)", cols.join(", "))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant.to_string())
                    .bind(now.as_micros());
                for i in batch {
                    q = q
                        .bind(&i.kind)
                        .bind(&i.value)
                        .bind(i16::from(i.confidence))
                        .bind(i.tlp.as_deref())
                        .bind(ts(i.valid_from))
                        .bind(ts(i.valid_until))
                        .bind(Json(&i.labels))
                        .bind(Json(&i.techniques))
                        .bind(Json(&i.related))
                        .bind(Json(&i.markings))
                        .bind(Json(&i.kill_chain))
                        .bind(Json(&i.provenance))
                        .bind(ts(i.first_seen))
                        .bind(ts(i.last_seen))
                        .bind(i.feed_sightings);
                }
                let rows = q.fetch_all(tx.conn()).await.map_err(db(OP))?;
                let written: HashSet<(String, String)> = rows
                    .iter()
                    .map(|r| Ok((r.text(T_IND, "kind")?, r.text(T_IND, "value")?)))
                    .collect::<Result<_>>()?;
                let mut changed = Vec::new();
                for i in batch {
                    let key = (i.kind.clone(), i.value.clone());
                    let existed = existed.contains(&key);
                    let op = match (existed, written.contains(&key)) {
                        (false, _) => {
                            stats.added += 1;
                            "create"
                        }
                        (true, true) => {
                            stats.updated += 1;
                            "update"
                        }
                        (true, false) => {
                            stats.unchanged += 1;
                            continue;
                        }
                    };
                    changed.push((*i, existed));
                    payloads.push((
                        format!("{}:{}", i.kind, i.value),
                        op,
                        json!({"type": i.kind, "value": i.value, "confidence": i.confidence}),
                    ));
                }
                <DB as FeedIndexOps>::write_indicator_feeds(tx.conn(), tenant, &changed).await?;
            }
            let changes: Vec<NewChange<'_>> = payloads
                .iter()
                .map(|(id, op, payload)| NewChange {
                    tenant,
                    object_type: "indicator",
                    object_id: id,
                    op,
                    payload,
                    at: now,
                })
                .collect();
            <DB as ChangeOps>::insert_changes(tx.conn(), &changes).await?;
            tx.commit(OP).await?;
            Ok(stats)
        })
    }

    /// Every indicator of a tenant, by type and value.
    pub async fn list_indicators(&self, tenant: TenantId) -> Result<Vec<IndicatorRecord>> {
        const OP: &str = "list_indicators";
        let sql = format!(
            "SELECT {IND_COLUMNS} FROM intel_indicators WHERE tenant = $1 ORDER BY kind, value"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(indicator_from_row).collect()
        })
    }

    /// Indicators whose value contains `needle` (case-insensitive for
    /// ASCII), at most `limit`, by type and value.
    pub async fn search_indicators(
        &self,
        tenant: TenantId,
        needle: &str,
        limit: u32,
    ) -> Result<Vec<IndicatorRecord>> {
        const OP: &str = "search_indicators";
        let escaped: String = needle
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let sql = format!(
            "SELECT {IND_COLUMNS} FROM intel_indicators WHERE tenant = $1 \
             AND LOWER(value) LIKE $2 ESCAPE '\\' ORDER BY kind, value LIMIT $3"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(&pattern)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(indicator_from_row).collect()
        })
    }

    /// Counts sightings Vigil observed: each `(kind, value, at)` adds one
    /// to the indicator's `sightings` and moves `last_sighting` forward.
    /// Unknown indicators are ignored. Returns how many rows changed.
    pub async fn record_sightings(
        &self,
        tenant: TenantId,
        sightings: &[(String, String, Timestamp)],
    ) -> Result<usize> {
        const OP: &str = "record_sightings";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut n = 0;
            for (kind, value, at) in sightings {
                let r = sqlx::query(
                    "UPDATE intel_indicators SET sightings = sightings + 1, \
                     last_sighting = CASE WHEN last_sighting IS NULL OR last_sighting < $1 \
                     THEN $1 ELSE last_sighting END \
                     WHERE tenant = $2 AND kind = $3 AND value = $4",
                )
                .bind(at.as_micros())
                .bind(tenant.to_string())
                .bind(kind)
                .bind(value)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                n += usize::try_from(r.rows_affected()).unwrap_or(0);
            }
            tx.commit(OP).await?;
            Ok(n)
        })
    }

    /// Stores STIX object versions (a version is `(id, modified)`; one
    /// already stored is left as is) and relationship edges, in one
    /// transaction. New versions land in the change feed (`stix-object`).
    pub async fn upsert_stix_objects(
        &self,
        tenant: TenantId,
        objects: &[StixObjectRecord],
        now: Timestamp,
    ) -> Result<UpsertStats> {
        const OP: &str = "upsert_stix_objects";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut stats = UpsertStats::default();
            let mut payloads = Vec::new();
            for o in objects {
                let res = sqlx::query(
                    "INSERT INTO intel_objects (tenant, id, modified, kind, spec_version, name, \
                     revoked, source, body, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10) ON CONFLICT (tenant, id, modified) DO NOTHING",
                )
                .bind(tenant.to_string())
                .bind(&o.id)
                .bind(o.modified.as_micros())
                .bind(&o.kind)
                .bind(&o.spec_version)
                .bind(o.name.as_deref())
                .bind(o.revoked)
                .bind(&o.source)
                .bind(Json(&o.body))
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                if res.rows_affected() == 0 {
                    stats.unchanged += 1;
                    continue;
                }
                stats.added += 1;
                if let Some((rt, src, dst)) = &o.relationship {
                    sqlx::query(
                        "INSERT INTO intel_relationships (tenant, id, modified, \
                         relationship_type, source_ref, target_ref) VALUES ($1, $2, $3, $4, $5, \
                         $6) ON CONFLICT (tenant, id, modified) DO NOTHING",
                    )
                    .bind(tenant.to_string())
                    .bind(&o.id)
                    .bind(o.modified.as_micros())
                    .bind(rt)
                    .bind(src)
                    .bind(dst)
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
                }
                payloads.push((
                    o.id.as_str(),
                    json!({"id": o.id, "type": o.kind, "modified": o.modified}),
                ));
            }
            let changes: Vec<NewChange<'_>> = payloads
                .iter()
                .map(|(id, payload)| NewChange {
                    tenant,
                    object_type: "stix-object",
                    object_id: id,
                    op: "create",
                    payload,
                    at: now,
                })
                .collect();
            <DB as ChangeOps>::insert_changes(tx.conn(), &changes).await?;
            tx.commit(OP).await?;
            Ok(stats)
        })
    }

    /// Stored STIX object versions per type, and the number of
    /// relationship edges (key `relationship-edges`).
    pub async fn count_stix_objects(&self, tenant: TenantId) -> Result<BTreeMap<String, i64>> {
        const OP: &str = "count_stix_objects";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT kind, COUNT(*) AS n FROM intel_objects WHERE tenant = $1 GROUP BY kind \
                 UNION ALL SELECT 'relationship-edges' AS kind, COUNT(*) AS n \
                 FROM intel_relationships WHERE tenant = $1",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut out = BTreeMap::new();
            for r in &rows {
                out.insert(
                    r.text("intel_objects", "kind")?,
                    r.int("intel_objects", "n")?,
                );
            }
            Ok(out)
        })
    }

    /// The latest stored version of a STIX object.
    pub async fn get_stix_object(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Option<serde_json::Value>> {
        const OP: &str = "get_stix_object";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT body FROM intel_objects WHERE tenant = $1 AND id = $2 \
                 ORDER BY modified DESC LIMIT 1",
            )
            .bind(tenant.to_string())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref()
                .map(|r| r.json("intel_objects", "body"))
                .transpose()
        })
    }

    /// Records a feed's configuration and the outcome of its latest run
    /// (`last_success` moves only when `status` is `ok`).
    pub async fn record_feed_run(
        &self,
        tenant: TenantId,
        feed: &FeedRecord,
        now: Timestamp,
    ) -> Result<()> {
        const OP: &str = "record_feed_run";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO intel_feeds (tenant, name, kind, location, enabled, last_run, \
                 last_success, status, last_error, objects, added, updated, errors, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                 $14) ON CONFLICT (tenant, name) DO UPDATE SET kind = excluded.kind, \
                 location = excluded.location, last_run = excluded.last_run, \
                 last_success = COALESCE(excluded.last_success, intel_feeds.last_success), \
                 status = excluded.status, last_error = excluded.last_error, \
                 objects = excluded.objects, added = excluded.added, \
                 updated = excluded.updated, errors = excluded.errors, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.to_string())
            .bind(&feed.name)
            .bind(&feed.kind)
            .bind(&feed.location)
            .bind(feed.enabled)
            .bind(ts(feed.last_run))
            .bind(ts(feed.last_success))
            .bind(&feed.status)
            .bind(feed.last_error.as_deref())
            .bind(feed.objects)
            .bind(feed.added)
            .bind(feed.updated)
            .bind(feed.errors)
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(())
        })
    }

    /// A tenant's feeds, by name.
    pub async fn list_feeds(&self, tenant: TenantId) -> Result<Vec<FeedRecord>> {
        const OP: &str = "list_feeds";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT name, kind, location, enabled, last_run, last_success, status, \
                 last_error, objects, added, updated, errors FROM intel_feeds \
                 WHERE tenant = $1 ORDER BY name",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(feed_from_row).collect()
        })
    }
}

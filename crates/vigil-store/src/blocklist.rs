//! Blocklists (block 4): manual entries — a value blocked for a while with
//! a reason, added by an analyst or a response playbook — and the values a
//! plain-text blocklist serves (active indicators above a confidence plus
//! active manual entries).
//!
//! The store keeps rows; which indicator types make up a list (`ips`,
//! `domains`, …) and how values are normalised is the caller's business
//! (`vigil_intel::blocklist`). Every add and removal lands in the change
//! feed (`blocklist-entry`).

use serde_json::json;
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Result, db};
use crate::row::RowExt;

/// A manual blocklist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistEntry {
    /// Indicator type name (`ipv4`, `domain`, `sha256`, …).
    pub kind: String,
    /// Normalised value.
    pub value: String,
    /// Why it is blocked.
    pub reason: String,
    /// The principal that added it (`token:<id>`, `system:cli:<user>`,
    /// `playbook:<id>`).
    pub added_by: String,
    /// When it was (last) added.
    pub created_at: Timestamp,
    /// When it stops being served; `None` = until removed.
    pub expires_at: Option<Timestamp>,
}

/// One value a blocklist may serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistCandidate {
    /// Indicator type name.
    pub kind: String,
    /// Normalised value.
    pub value: String,
    /// Confidence (manual entries: 100).
    pub confidence: u8,
    /// TLP name, if any (manual entries: none).
    pub tlp: Option<String>,
    /// True for a manual entry.
    pub manual: bool,
}

fn entry_from_row(r: &impl RowExt) -> Result<BlocklistEntry> {
    const T: &str = "intel_blocklist";
    Ok(BlocklistEntry {
        kind: r.text(T, "kind")?,
        value: r.text(T, "value")?,
        reason: r.text(T, "reason")?,
        added_by: r.text(T, "added_by")?,
        created_at: r.ts(T, "created_at")?,
        expires_at: r.opt_ts(T, "expires_at")?,
    })
}

impl Store {
    /// Adds a manual entry, or renews it (reason, principal, time and
    /// expiry replaced) when the type + value is already listed. Returns
    /// true when it was new.
    pub async fn add_blocklist_entry(&self, tenant: TenantId, e: &BlocklistEntry) -> Result<bool> {
        const OP: &str = "add_blocklist_entry";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let existed = sqlx::query(
                "SELECT 1 AS x FROM intel_blocklist WHERE tenant = $1 AND kind = $2 AND value = $3",
            )
            .bind(tenant.to_string())
            .bind(&e.kind)
            .bind(&e.value)
            .fetch_optional(tx.conn())
            .await
            .map_err(db(OP))?
            .is_some();
            sqlx::query(
                "INSERT INTO intel_blocklist (tenant, kind, value, reason, added_by, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant, kind, value) DO UPDATE SET reason = excluded.reason, \
                 added_by = excluded.added_by, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at",
            )
            .bind(tenant.to_string())
            .bind(&e.kind)
            .bind(&e.value)
            .bind(&e.reason)
            .bind(&e.added_by)
            .bind(e.created_at.as_micros())
            .bind(e.expires_at.map(Timestamp::as_micros))
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let id = format!("{}:{}", e.kind, e.value);
            let payload = json!({
                "type": e.kind, "value": e.value, "reason": e.reason,
                "added_by": e.added_by, "expires_at": e.expires_at,
            });
            <DB as ChangeOps>::insert_changes(
                tx.conn(),
                &[NewChange {
                    tenant,
                    object_type: "blocklist-entry",
                    object_id: &id,
                    op: if existed { "update" } else { "create" },
                    payload: &payload,
                    at: e.created_at,
                }],
            )
            .await?;
            tx.commit(OP).await?;
            Ok(!existed)
        })
    }

    /// Removes a manual entry; false when there was none.
    pub async fn remove_blocklist_entry(
        &self,
        tenant: TenantId,
        kind: &str,
        value: &str,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "remove_blocklist_entry";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let res = sqlx::query(
                "DELETE FROM intel_blocklist WHERE tenant = $1 AND kind = $2 AND value = $3",
            )
            .bind(tenant.to_string())
            .bind(kind)
            .bind(value)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let removed = res.rows_affected() > 0;
            if removed {
                let id = format!("{kind}:{value}");
                let payload = json!({"type": kind, "value": value});
                <DB as ChangeOps>::insert_changes(
                    tx.conn(),
                    &[NewChange {
                        tenant,
                        object_type: "blocklist-entry",
                        object_id: &id,
                        op: "delete",
                        payload: &payload,
                        at: now,
                    }],
                )
                .await?;
            }
            tx.commit(OP).await?;
            Ok(removed)
        })
    }

    /// Manual entries of the given types (all types when empty), by type
    /// and value; expired ones only with `include_expired`.
    pub async fn list_blocklist_entries(
        &self,
        tenant: TenantId,
        kinds: &[&str],
        now: Timestamp,
        include_expired: bool,
    ) -> Result<Vec<BlocklistEntry>> {
        const OP: &str = "list_blocklist_entries";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT kind, value, reason, added_by, created_at, expires_at \
                 FROM intel_blocklist WHERE tenant = $1 \
                 AND ($2 OR expires_at IS NULL OR expires_at > $3) ORDER BY kind, value",
            )
            .bind(tenant.to_string())
            .bind(include_expired)
            .bind(now.as_micros())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let e = entry_from_row(r)?;
                if kinds.is_empty() || kinds.contains(&e.kind.as_str()) {
                    out.push(e);
                }
            }
            Ok(out)
        })
    }

    /// Deletes manual entries expired at `now`; returns how many.
    pub async fn purge_expired_blocklist_entries(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<u64> {
        const OP: &str = "purge_expired_blocklist_entries";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let res = sqlx::query(
                "DELETE FROM intel_blocklist WHERE tenant = $1 AND expires_at IS NOT NULL \
                 AND expires_at <= $2",
            )
            .bind(tenant.to_string())
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(res.rows_affected())
        })
    }

    /// What a blocklist of `kinds` may serve at `now`: indicators of those
    /// types valid at `now` (`valid_from` reached, `valid_until` not passed)
    /// with confidence ≥ `min_confidence`, then active manual entries, by
    /// type and value. TLP filtering is the caller's (the store does not
    /// order TLP levels).
    pub async fn blocklist_candidates(
        &self,
        tenant: TenantId,
        kinds: &[&str],
        min_confidence: u8,
        now: Timestamp,
    ) -> Result<Vec<BlocklistCandidate>> {
        const OP: &str = "blocklist_candidates";
        let mut out = Vec::new();
        for kind in kinds {
            dispatch!(self, |pool, DB| {
                let rows = sqlx::query(
                    "SELECT kind, value, confidence, tlp FROM intel_indicators \
                     WHERE tenant = $1 AND kind = $2 AND confidence >= $3 \
                     AND (valid_from IS NULL OR valid_from <= $4) \
                     AND (valid_until IS NULL OR valid_until > $4) ORDER BY value",
                )
                .bind(tenant.to_string())
                .bind(*kind)
                .bind(i16::from(min_confidence))
                .bind(now.as_micros())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
                for r in &rows {
                    const T: &str = "intel_indicators";
                    out.push(BlocklistCandidate {
                        kind: r.text(T, "kind")?,
                        value: r.text(T, "value")?,
                        confidence: u8::try_from(r.small(T, "confidence")?).unwrap_or(0),
                        tlp: r.opt_text(T, "tlp")?,
                        manual: false,
                    });
                }
            });
        }
        for e in self
            .list_blocklist_entries(tenant, kinds, now, false)
            .await?
        {
            out.push(BlocklistCandidate {
                kind: e.kind,
                value: e.value,
                confidence: 100,
                tlp: None,
                manual: true,
            });
        }
        Ok(out)
    }
}

//! The hash-chained audit log: who did what, append-only, tamper-evident.
//!
//! Entry `seq` (contiguous from 1) stores `prev_hash` (the previous entry's
//! hash; 64 zeros for the first) and
//! `hash = hex(SHA-256(prev_hash || 0x00 || enc))`, where `enc` is `seq` and
//! `at` as 8-byte big-endian integers followed by `tenant`, `principal`
//! (label), `principal_kind`, `action`, `target` and `details` (the JSON text
//! exactly as stored), each as an 8-byte big-endian length and its UTF-8
//! bytes. A one-row `audit_head` table holds the last `seq` and hash: it
//! serialises appends (`SELECT … FOR UPDATE` on PostgreSQL, the write lock
//! on SQLite) and lets [`Store::verify_audit`] notice a deleted tail.

use std::future::Future;

use sha2::{Digest, Sha256};
use vigil_model::{Principal, TenantId, Timestamp};

use crate::Store;
use crate::engine::{Backend, Engine};
use crate::error::{Result, corrupt, db};
use crate::row::RowExt;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows read per page while verifying.
const VERIFY_PAGE: i64 = 1000;

/// An audit entry to append.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    /// Tenant the action concerns.
    pub tenant: TenantId,
    /// Who acted.
    pub principal: &'a Principal,
    /// What they did (`token.create`, `alert.update`, …).
    pub action: &'a str,
    /// What it was done to (`token:<id>`, …).
    pub target: &'a str,
    /// Action-specific details.
    pub details: serde_json::Value,
    /// When.
    pub at: Timestamp,
}

impl<'a> NewAudit<'a> {
    /// `principal` did `action` to `target` at `at`, in `tenant`.
    pub fn new(
        tenant: TenantId,
        principal: &'a Principal,
        action: &'a str,
        target: &'a str,
        details: serde_json::Value,
        at: Timestamp,
    ) -> Self {
        Self {
            tenant,
            principal,
            action,
            target,
            details,
            at,
        }
    }
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Tenant.
    pub tenant: TenantId,
    /// The principal's label (`kind:id`).
    pub principal: String,
    /// The principal's kind (`token`, `user`, `playbook`, `system`).
    pub principal_kind: String,
    /// Action.
    pub action: String,
    /// Target.
    pub target: String,
    /// Details.
    pub details: serde_json::Value,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The result of [`Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries checked and found intact before the first break (all of
    /// them when the chain is intact).
    pub checked: u64,
    /// The first broken link, if any.
    pub first_broken: Option<BrokenLink>,
}

impl AuditVerification {
    /// True if no link is broken.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The first `seq` that is missing, edited or mislinked.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// The fields that go into an entry's hash.
struct Link<'a> {
    seq: i64,
    at: i64,
    tenant: &'a str,
    principal: &'a str,
    principal_kind: &'a str,
    action: &'a str,
    target: &'a str,
    details: &'a str,
}

fn chain_hash(prev_hash: &str, l: &Link<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update([0u8]);
    h.update(l.seq.to_be_bytes());
    h.update(l.at.to_be_bytes());
    for s in [
        l.tenant,
        l.principal,
        l.principal_kind,
        l.action,
        l.target,
        l.details,
    ] {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Audit appends inside a caller's transaction.
pub(crate) trait AuditOps: Backend {
    /// Appends one entry to the chain.
    fn append_audit(
        conn: &mut Self::Connection,
        e: &NewAudit<'_>,
    ) -> impl Future<Output = Result<AuditEntry>> + Send;
}

impl_both! {
    impl AuditOps {
        async fn append_audit(
            conn: &mut <Self as sqlx::Database>::Connection,
            e: &NewAudit<'_>,
        ) -> Result<AuditEntry> {
            const OP: &str = "audit";
            let head_sql = match <Self as Backend>::ENGINE {
                Engine::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
                Engine::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
            };
            let head = sqlx::query(head_sql).fetch_one(&mut *conn).await.map_err(db(OP))?;
            let last = head.int("audit_head", "seq")?;
            let prev_hash = head.text("audit_head", "hash")?;
            let seq = last + 1;
            let tenant = e.tenant.to_string();
            let principal = e.principal.label();
            let kind = e.principal.kind.as_str();
            let details = serde_json::to_string(&e.details)
                .map_err(|err| crate::Error::Invalid(format!("audit details: {err}")))?;
            let hash = chain_hash(
                &prev_hash,
                &Link {
                    seq,
                    at: e.at.as_micros(),
                    tenant: &tenant,
                    principal: &principal,
                    principal_kind: kind,
                    action: e.action,
                    target: e.target,
                    details: &details,
                },
            );
            sqlx::query(
                "INSERT INTO audit_log (seq, at, tenant, principal, principal_kind, action, target, \
                 details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(seq)
            .bind(e.at.as_micros())
            .bind(tenant.as_str())
            .bind(principal.as_str())
            .bind(kind)
            .bind(e.action)
            .bind(e.target)
            .bind(details.as_str())
            .bind(prev_hash.as_str())
            .bind(hash.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db(OP))?;
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(hash.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db(OP))?;
            Ok(AuditEntry {
                seq,
                at: e.at,
                tenant: e.tenant,
                principal,
                principal_kind: kind.to_owned(),
                action: e.action.to_owned(),
                target: e.target.to_owned(),
                details: e.details.clone(),
                prev_hash,
                hash,
            })
        }
    }
}

fn entry_from_row(r: &impl RowExt) -> Result<AuditEntry> {
    const T: &str = "audit_log";
    let details = r.text(T, "details")?;
    Ok(AuditEntry {
        seq: r.int(T, "seq")?,
        at: r.ts(T, "at")?,
        tenant: r.tenant(T, "tenant")?,
        principal: r.text(T, "principal")?,
        principal_kind: r.text(T, "principal_kind")?,
        action: r.text(T, "action")?,
        target: r.text(T, "target")?,
        details: serde_json::from_str(&details)
            .map_err(|e| corrupt(T, format!("column details: {e}")))?,
        prev_hash: r.text(T, "prev_hash")?,
        hash: r.text(T, "hash")?,
    })
}

/// Checks one stored row against the expected position and previous hash.
fn check_row(
    r: &impl RowExt,
    expected_seq: i64,
    prev_hash: &str,
) -> Result<std::result::Result<String, BrokenLink>> {
    const T: &str = "audit_log";
    let seq = r.int(T, "seq")?;
    if seq != expected_seq {
        return Ok(Err(BrokenLink {
            seq: expected_seq,
            reason: format!("entry {expected_seq} is missing (next stored entry is {seq})"),
        }));
    }
    let (tenant, principal, kind) = (
        r.text(T, "tenant")?,
        r.text(T, "principal")?,
        r.text(T, "principal_kind")?,
    );
    let (action, target, details) = (
        r.text(T, "action")?,
        r.text(T, "target")?,
        r.text(T, "details")?,
    );
    let stored_prev = r.text(T, "prev_hash")?;
    let stored_hash = r.text(T, "hash")?;
    let link = Link {
        seq,
        at: r.int(T, "at")?,
        tenant: &tenant,
        principal: &principal,
        principal_kind: &kind,
        action: &action,
        target: &target,
        details: &details,
    };
    if chain_hash(&stored_prev, &link) != stored_hash {
        return Ok(Err(BrokenLink {
            seq,
            reason: format!("entry {seq} does not match its hash (edited)"),
        }));
    }
    if stored_prev != prev_hash {
        return Ok(Err(BrokenLink {
            seq,
            reason: format!(
                "entry {seq} does not link to the previous entry's hash (entries removed, replaced or reordered)"
            ),
        }));
    }
    Ok(Ok(stored_hash))
}

impl Store {
    /// Appends an entry to the audit chain and returns it.
    pub async fn audit(&self, e: &NewAudit<'_>) -> Result<AuditEntry> {
        const OP: &str = "audit";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let entry = <DB as AuditOps>::append_audit(tx.conn(), e).await?;
            tx.commit(OP).await?;
            Ok(entry)
        })
    }

    /// Up to `limit` entries of `tenant` with `seq > after_seq`, ascending.
    pub async fn list_audit(
        &self,
        tenant: TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        const OP: &str = "list_audit";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT seq, at, tenant, principal, principal_kind, action, target, details, prev_hash, hash \
                 FROM audit_log WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(tenant.to_string())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(entry_from_row).collect()
        })
    }

    /// Up to `limit` entries of every tenant with `seq > after_seq`, in
    /// chain order (for archiving the whole chain).
    pub async fn list_audit_all(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        const OP: &str = "list_audit_all";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT seq, at, tenant, principal, principal_kind, action, target, details, prev_hash, hash \
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(entry_from_row).collect()
        })
    }

    /// Walks the whole chain (all tenants) and reports the first broken link:
    /// an edited entry (hash mismatch), a deleted one (gap in `seq` or a
    /// `prev_hash` that does not link), reordered entries, or a deleted tail
    /// (the chain head names a later entry than the last one stored).
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        const OP: &str = "verify_audit";
        dispatch!(self, |pool, DB| {
            let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(db(OP))?;
            let head_seq = head.int("audit_head", "seq")?;
            let head_hash = head.text("audit_head", "hash")?;
            let mut checked = 0u64;
            let mut last_seq = 0i64;
            let mut prev_hash = GENESIS_HASH.to_owned();
            loop {
                let rows = sqlx::query(
                    "SELECT seq, at, tenant, principal, principal_kind, action, target, details, prev_hash, hash \
                     FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
                )
                .bind(last_seq)
                .bind(head_seq)
                .bind(VERIFY_PAGE)
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
                if rows.is_empty() {
                    break;
                }
                for r in &rows {
                    match check_row(r, last_seq + 1, &prev_hash)? {
                        Ok(hash) => {
                            checked += 1;
                            last_seq += 1;
                            prev_hash = hash;
                        }
                        Err(broken) => {
                            return Ok(AuditVerification {
                                checked,
                                first_broken: Some(broken),
                            });
                        }
                    }
                }
            }
            let first_broken = if last_seq != head_seq {
                Some(BrokenLink {
                    seq: last_seq + 1,
                    reason: format!(
                        "entries {} to {head_seq} are missing (deleted tail)",
                        last_seq + 1
                    ),
                })
            } else if prev_hash != head_hash {
                Some(BrokenLink {
                    seq: head_seq,
                    reason: format!("entry {head_seq} does not match the chain head"),
                })
            } else {
                None
            };
            Ok(AuditVerification {
                checked,
                first_broken,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(details: &str) -> Link<'_> {
        Link {
            seq: 1,
            at: 5,
            tenant: "t",
            principal: "user:a",
            principal_kind: "user",
            action: "x",
            target: "y",
            details,
        }
    }

    #[test]
    fn hash_covers_every_field_and_is_unambiguous() {
        let a = chain_hash(GENESIS_HASH, &link("{}"));
        assert_eq!(a.len(), 64);
        assert_eq!(a, chain_hash(GENESIS_HASH, &link("{}")));
        assert_ne!(a, chain_hash(GENESIS_HASH, &link("{ }")));
        assert_ne!(a, chain_hash(&"1".repeat(64), &link("{}")));
        let mut l = link("{}");
        l.action = "xy";
        l.target = "";
        assert_ne!(
            a,
            chain_hash(GENESIS_HASH, &l),
            "field boundaries are length-prefixed"
        );
    }
}

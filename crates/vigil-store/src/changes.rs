//! The change feed (outbox): one row per created or updated object, in
//! commit order, for consumers that follow changes (notifications, sync).

use std::future::Future;

use sqlx::QueryBuilder;
use sqlx::types::Json;
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::engine::{Backend, Engine};
use crate::error::{Result, db};
use crate::row::RowExt;

/// Rows per multi-row insert (6 binds each).
const CHUNK: usize = 500;
/// PostgreSQL: serialises change-feed inserts so `seq` values commit in
/// order. Taken after the audit head when a transaction writes both.
const PG_LOCK_CHANGES: &str = "SELECT pg_advisory_xact_lock(7419003)";

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Feed position.
    pub seq: i64,
    /// When it was recorded.
    pub at: Timestamp,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Object type (`alert`, `token`, `secret`, or an effect kind such as
    /// `intel.sighting`).
    pub object_type: String,
    /// Object id or key.
    pub object_id: String,
    /// What happened (`create`, `update`, `revoke`, `delete`, …).
    pub op: String,
    /// Object-specific data.
    pub payload: serde_json::Value,
}

/// A change to insert inside a transaction.
#[derive(Debug)]
pub(crate) struct NewChange<'a> {
    pub tenant: TenantId,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub op: &'a str,
    pub payload: &'a serde_json::Value,
    pub at: Timestamp,
}

/// Change-feed inserts inside a caller's transaction.
pub(crate) trait ChangeOps: Backend {
    /// Inserts `rows` in order and returns their `seq`s.
    fn insert_changes(
        conn: &mut Self::Connection,
        rows: &[NewChange<'_>],
    ) -> impl Future<Output = Result<Vec<i64>>> + Send;

    /// The start of a change-feed consumer's transaction: on PostgreSQL
    /// takes the consumer's advisory lock `pg_lock` (two servers on one
    /// database take turns; SQLite has one writer anyway), then reads the
    /// consumer's checkpoint and the committed maximum `seq`. Changes are
    /// numbered under a lock held to commit, so every seq in
    /// `(checkpoint, max]` is final. Returns `(checkpoint, max)`.
    fn consumer_window(
        conn: &mut Self::Connection,
        consumer: &str,
        pg_lock: i64,
        op: &'static str,
    ) -> impl Future<Output = Result<(i64, i64)>> + Send;
}

impl_both! {
    impl ChangeOps {
        async fn insert_changes(
            conn: &mut <Self as sqlx::Database>::Connection,
            rows: &[NewChange<'_>],
        ) -> Result<Vec<i64>> {
            const OP: &str = "record_change";
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            if <Self as Backend>::ENGINE == Engine::Postgres {
                sqlx::query(PG_LOCK_CHANGES).execute(&mut *conn).await.map_err(db(OP))?;
            }
            let mut seqs = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(CHUNK) {
                let mut qb = QueryBuilder::<Self>::new(
                    "INSERT INTO changes (at, tenant, object_type, object_id, op, payload) ",
                );
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(c.at.as_micros())
                        .push_bind(c.tenant.to_string())
                        .push_bind(c.object_type)
                        .push_bind(c.object_id)
                        .push_bind(c.op)
                        .push_bind(Json(c.payload));
                });
                qb.push(" RETURNING seq");
                let out = qb
                    .build()
                    .persistent(chunk.len() == CHUNK)
                    .fetch_all(&mut *conn).await.map_err(db(OP))?;
                let mut chunk_seqs = out
                    .iter()
                    .map(|r| r.int("changes", "seq"))
                    .collect::<Result<Vec<i64>>>()?;
                // Identity values follow VALUES order; RETURNING order is not
                // guaranteed, so sort.
                chunk_seqs.sort_unstable();
                seqs.extend(chunk_seqs);
            }
            Ok(seqs)
        }

        async fn consumer_window(
            conn: &mut <Self as sqlx::Database>::Connection,
            consumer: &str,
            pg_lock: i64,
            op: &'static str,
        ) -> Result<(i64, i64)> {
            if <Self as Backend>::ENGINE == Engine::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(pg_lock)
                    .execute(&mut *conn).await.map_err(db(op))?;
            }
            let cp = sqlx::query("SELECT seq FROM checkpoints WHERE consumer = $1")
                .bind(consumer)
                .fetch_optional(&mut *conn).await.map_err(db(op))?
                .map(|r| r.int("checkpoints", "seq"))
                .transpose()?
                .unwrap_or(0);
            let max = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS m FROM changes")
                .fetch_one(&mut *conn).await.map_err(db(op))?
                .int("changes", "m")?;
            Ok((cp, max))
        }
    }
}

fn change_from_row(r: &impl RowExt) -> Result<Change> {
    const T: &str = "changes";
    Ok(Change {
        seq: r.int(T, "seq")?,
        at: r.ts(T, "at")?,
        tenant: r.tenant(T, "tenant")?,
        object_type: r.text(T, "object_type")?,
        object_id: r.text(T, "object_id")?,
        op: r.text(T, "op")?,
        payload: r.json(T, "payload")?,
    })
}

impl Store {
    /// Up to `limit` changes with `seq > after_seq`, ascending.
    pub async fn changes_after(&self, after_seq: i64, limit: u32) -> Result<Vec<Change>> {
        const OP: &str = "changes_after";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT seq, at, tenant, object_type, object_id, op, payload \
                 FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(change_from_row).collect()
        })
    }

    /// Records one change and returns its `seq`.
    pub async fn record_change(
        &self,
        tenant: TenantId,
        object_type: &str,
        object_id: &str,
        op: &str,
        payload: &serde_json::Value,
        at: Timestamp,
    ) -> Result<i64> {
        const OP: &str = "record_change";
        let change = NewChange {
            tenant,
            object_type,
            object_id,
            op,
            payload,
            at,
        };
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let seqs =
                <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            seqs.first()
                .copied()
                .ok_or_else(|| crate::error::corrupt("changes", "insert returned no seq"))
        })
    }
}

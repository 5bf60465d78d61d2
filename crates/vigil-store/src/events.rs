//! The durable event log: batched appends that assign `seq`, reads by log
//! position and per tenant, counts and retention.

use std::collections::HashMap;

use sqlx::QueryBuilder;
use vigil_model::{Event, EventId, TenantId, Timestamp};

use crate::Store;
use crate::engine::{Backend, Engine};
use crate::error::{Result, corrupt, db};
use crate::row::RowExt;

/// Rows per multi-row `INSERT` (up to 9 binds each: 4,500 binds, well under
/// SQLite's 32,766 and PostgreSQL's 65,535).
const APPEND_CHUNK: usize = 500;
/// Rows deleted per retention transaction, so ingest can interleave.
const PURGE_CHUNK: i64 = 10_000;
/// PostgreSQL: serialises appends so `seq` values commit in order.
const PG_LOCK_EVENTS: &str = "SELECT pg_advisory_xact_lock(7419002)";

/// An event as stored: metadata and raw bytes (fields are re-parsed from
/// `raw` with `format` when needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Log position.
    pub seq: i64,
    /// Event id.
    pub id: EventId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// When Vigil received it.
    pub received_at: Timestamp,
    /// When it happened, if known.
    pub time: Option<Timestamp>,
    /// Where it came from.
    pub source: String,
    /// The host it describes.
    pub host: Option<String>,
    /// The parser that produced it (`json`, `syslog`).
    pub format: String,
    /// The bytes as received.
    pub raw: Vec<u8>,
}

fn event_from_row(r: &impl RowExt) -> Result<StoredEvent> {
    const T: &str = "events";
    Ok(StoredEvent {
        seq: r.int(T, "seq")?,
        id: r.parsed(T, "id")?,
        tenant: r.tenant(T, "tenant")?,
        received_at: r.ts(T, "received_at")?,
        time: r.opt_ts(T, "event_time")?,
        source: r.text(T, "source")?,
        host: r.opt_text(T, "host")?,
        format: r.text(T, "format")?,
        raw: r.bytes(T, "raw")?,
    })
}

impl Store {
    /// Appends a batch to the event log in ONE transaction (multi-row
    /// `INSERT`s of up to 500 rows) and sets each event's `seq`, ascending in
    /// slice order.
    ///
    /// All or nothing: if any row fails (duplicate id, unknown tenant) none
    /// is stored and no `seq` is changed. When this returns `Ok` the batch is
    /// committed and durable, so the caller may acknowledge it.
    pub async fn append_events(&self, events: &mut [Event]) -> Result<()> {
        const OP: &str = "append_events";
        if events.is_empty() {
            return Ok(());
        }
        let mut seqs: Vec<i64> = Vec::with_capacity(events.len());
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            if <DB as Backend>::ENGINE == Engine::Postgres {
                sqlx::query(PG_LOCK_EVENTS)
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
            }
            // SQLite: `BEGIN IMMEDIATE` excludes every other writer (other
            // processes on the same file included), so the next log
            // positions are known up front and rows go in with explicit
            // `seq`s: no `RETURNING`, which sqlx-sqlite would hand over one
            // row at a time through its worker thread. `sqlite_sequence`
            // keeps positions of purged rows from being reused.
            let mut next_seq = if <DB as Backend>::ENGINE == Engine::Sqlite {
                let top: i64 = sqlx::query_scalar(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), \
                                COALESCE((SELECT MAX(seq) FROM events), 0))",
                )
                .fetch_one(tx.conn())
                .await
                .map_err(db(OP))?;
                Some(top + 1)
            } else {
                None
            };
            for chunk in events.chunks(APPEND_CHUNK) {
                let ids: Vec<String> = chunk.iter().map(|e| e.id.to_string()).collect();
                let full = chunk.len() == APPEND_CHUNK;
                if let Some(first) = next_seq {
                    let mut qb = QueryBuilder::<DB>::new(
                        "INSERT INTO events (seq, id, tenant, received_at, event_time, source, host, format, raw) ",
                    );
                    let mut seq = first;
                    qb.push_values(chunk.iter().zip(&ids), |mut b, (ev, id)| {
                        b.push_bind(seq)
                            .push_bind(id.as_str())
                            .push_bind(ev.tenant.to_string())
                            .push_bind(ev.received_at.as_micros())
                            .push_bind(ev.time.map(Timestamp::as_micros))
                            .push_bind(&*ev.source)
                            .push_bind(ev.host.as_deref())
                            .push_bind(ev.format.as_str())
                            .push_bind(&ev.raw[..]);
                        seqs.push(seq);
                        seq += 1;
                    });
                    let done = qb
                        .build()
                        .persistent(full)
                        .execute(tx.conn())
                        .await
                        .map_err(db(OP))?;
                    if done.rows_affected() != chunk.len() as u64 {
                        return Err(corrupt(
                            "events",
                            format!("inserted {} of {} rows", done.rows_affected(), chunk.len()),
                        ));
                    }
                    next_seq = Some(seq);
                    continue;
                }
                let mut qb = QueryBuilder::<DB>::new(
                    "INSERT INTO events (id, tenant, received_at, event_time, source, host, format, raw) ",
                );
                qb.push_values(chunk.iter().zip(&ids), |mut b, (ev, id)| {
                    b.push_bind(id.as_str())
                        .push_bind(ev.tenant.to_string())
                        .push_bind(ev.received_at.as_micros())
                        .push_bind(ev.time.map(Timestamp::as_micros))
                        .push_bind(&*ev.source)
                        .push_bind(ev.host.as_deref())
                        .push_bind(ev.format.as_str())
                        .push_bind(&ev.raw[..]);
                });
                qb.push(" RETURNING id, seq");
                // Only full chunks (the repeated shape) go to the statement
                // cache; odd-sized tails would churn it.
                let rows = qb
                    .build()
                    .persistent(full)
                    .fetch_all(tx.conn())
                    .await
                    .map_err(db(OP))?;
                let mut by_id = HashMap::with_capacity(rows.len());
                for r in &rows {
                    by_id.insert(r.text("events", "id")?, r.int("events", "seq")?);
                }
                for id in &ids {
                    let seq = by_id.get(id).ok_or_else(|| {
                        corrupt("events", format!("insert returned no seq for event {id}"))
                    })?;
                    seqs.push(*seq);
                }
            }
            tx.commit(OP).await?;
        });
        for (ev, seq) in events.iter_mut().zip(seqs) {
            ev.seq = seq;
        }
        Ok(())
    }

    /// Up to `limit` events with `seq > after_seq`, ascending (all tenants:
    /// this is how the detection pipeline reads the log).
    pub async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        const OP: &str = "events_after";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT seq, id, tenant, received_at, event_time, source, host, format, raw \
                 FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// A tenant's events, newest first, `limit` per page; pass the last
    /// `seq` of a page as `before_seq` to get the next one.
    pub async fn list_events(
        &self,
        tenant: TenantId,
        limit: u32,
        before_seq: Option<i64>,
    ) -> Result<Vec<StoredEvent>> {
        const OP: &str = "list_events";
        let before = before_seq.unwrap_or(i64::MAX);
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT seq, id, tenant, received_at, event_time, source, host, format, raw \
                 FROM events WHERE tenant = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            )
            .bind(tenant.to_string())
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// The number of stored events, of one tenant or all.
    pub async fn count_events(&self, tenant: Option<TenantId>) -> Result<u64> {
        const OP: &str = "count_events";
        let n: i64 = dispatch!(self, |pool, DB| {
            let row = match tenant {
                Some(t) => {
                    sqlx::query("SELECT COUNT(*) AS n FROM events WHERE tenant = $1")
                        .bind(t.to_string())
                        .fetch_one(pool)
                        .await
                }
                None => {
                    sqlx::query("SELECT COUNT(*) AS n FROM events")
                        .fetch_one(pool)
                        .await
                }
            }
            .map_err(db(OP))?;
            row.int("events", "n")?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The highest stored `seq`; 0 when the log is empty.
    pub async fn max_event_seq(&self) -> Result<i64> {
        const OP: &str = "max_event_seq";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM events")
                .fetch_one(pool)
                .await
                .map_err(db(OP))?;
            row.int("events", "n")
        })
    }

    /// Retention: deletes events received before `older_than`, in chunks of
    /// 10,000 rows per transaction, and returns how many were deleted.
    /// Alerts keep their own copy of the triggering event.
    pub async fn purge_events(&self, older_than: Timestamp) -> Result<u64> {
        const OP: &str = "purge_events";
        let mut total = 0u64;
        loop {
            let n = dispatch!(self, |pool, DB| {
                let mut tx = self.begin_write(pool, OP).await?;
                let r = sqlx::query(
                    "DELETE FROM events WHERE seq IN \
                     (SELECT seq FROM events WHERE received_at < $1 ORDER BY seq LIMIT $2)",
                )
                .bind(older_than.as_micros())
                .bind(PURGE_CHUNK)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                tx.commit(OP).await?;
                r.rows_affected()
            });
            total += n;
            if n < PURGE_CHUNK as u64 {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunk_stays_under_bind_limits() {
        const { assert!(super::APPEND_CHUNK * 9 < 32_766) };
    }
}

//! Detection outputs with exactly-once semantics: alerts, effects, detector
//! snapshots and the consumer's checkpoint are written in one transaction.

use std::collections::HashSet;

use sqlx::QueryBuilder;
use sqlx::types::Json;
use vigil_model::{Alert, Effect, Timestamp};

use crate::Store;
use crate::aggregate::AggregateOps;
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Result, db};
use crate::row::RowExt;

/// Alert rows per multi-row insert (15 binds each).
const ALERT_CHUNK: usize = 200;

/// One detection step to persist atomically.
#[derive(Debug, Clone, Copy)]
pub struct DetectionCommit<'a> {
    /// The consumer (pipeline) whose checkpoint moves.
    pub consumer: &'a str,
    /// The last event `seq` this step covers.
    pub upto_seq: i64,
    /// Alerts raised; already-stored ids are skipped.
    pub alerts: &'a [Alert],
    /// Side effects, each recorded as a change-feed row (object type
    /// `kind`, id `key`, op `create`). They are not deduplicated: the
    /// checkpoint guarantees a range of events is committed once. The row's
    /// tenant is the payload's `"tenant"` field when it holds a tenant id,
    /// else the first alert's tenant, else the default tenant.
    pub effects: &'a [Effect],
    /// Detector snapshots: (detector id, state bytes).
    pub states: &'a [(String, Vec<u8>)],
    /// The time of the commit.
    pub at: Timestamp,
}

/// What a [`Store::commit_detections`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Alerts newly inserted (re-committed ids are not counted).
    pub alerts_inserted: u64,
}

/// The change-feed payload of a new alert: the alert without its (possibly
/// large) event copy, which [`Store::get_alert`] returns.
pub(crate) fn alert_change_payload(a: &Alert) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or(serde_json::Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.remove("event");
    }
    v
}

impl Store {
    /// The checkpoint of `consumer`: the last event `seq` whose outputs are
    /// committed; 0 if none.
    pub async fn checkpoint(&self, consumer: &str) -> Result<i64> {
        const OP: &str = "checkpoint";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query("SELECT seq FROM checkpoints WHERE consumer = $1")
                .bind(consumer)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            match row {
                Some(r) => r.int("checkpoints", "seq"),
                None => Ok(0),
            }
        })
    }

    /// Persists one detection step in ONE transaction: inserts alerts (`ON
    /// CONFLICT (id) DO NOTHING`, so re-evaluating events after a crash never
    /// duplicates them), writes one change-feed row per newly inserted alert
    /// (`alert`/`create`) and per effect (`effect.kind`/`effect.key`/
    /// `create`), upserts detector states, and sets the checkpoint to
    /// `max(old, upto_seq)`.
    pub async fn commit_detections(&self, c: &DetectionCommit<'_>) -> Result<CommitStats> {
        const OP: &str = "commit_detections";
        let window = self.alert_window();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut inserted: HashSet<String> = HashSet::new();
            // Aggregation and suppression decide which alerts open.
            let plan = <DB as AggregateOps>::plan(tx.conn(), c.alerts, window, c.at).await?;
            for chunk in plan.insert.chunks(ALERT_CHUNK) {
                let mut qb = QueryBuilder::<DB>::new(
                    "INSERT INTO alerts (id, tenant, detector, rule_id, title, severity, created_at, \
                     event_time, event_id, entities, tags, details, event, agg_key, last_seen) ",
                );
                qb.push_values(chunk, |mut b, (a, key)| {
                    b.push_bind(a.id.to_string())
                        .push_bind(a.tenant.to_string())
                        .push_bind(a.detector.as_str())
                        .push_bind(a.rule_id.as_str())
                        .push_bind(a.title.as_str())
                        .push_bind(a.severity.rank())
                        .push_bind(a.created_at.as_micros())
                        .push_bind(a.event_time.as_micros())
                        .push_bind(a.event_id.map(|e| e.to_string()))
                        .push_bind(Json(&a.entities))
                        .push_bind(Json(&a.tags))
                        .push_bind(Json(&a.details))
                        .push_bind(Json(&a.event))
                        .push_bind(key.as_str())
                        .push_bind(a.event_time.as_micros());
                });
                qb.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                let rows = qb
                    .build()
                    .persistent(chunk.len() == ALERT_CHUNK)
                    .fetch_all(tx.conn())
                    .await
                    .map_err(db(OP))?;
                for r in &rows {
                    inserted.insert(r.text("alerts", "id")?);
                }
            }

            <DB as AggregateOps>::apply(tx.conn(), &plan, c.at).await?;
            let mut payloads = Vec::with_capacity(inserted.len());
            let mut ids = Vec::with_capacity(inserted.len());
            let mut seen = HashSet::new();
            for a in c.alerts {
                let id = a.id.to_string();
                if inserted.contains(&id) && seen.insert(id.clone()) {
                    payloads.push((a, alert_change_payload(a)));
                    ids.push(id);
                }
            }
            let mut changes: Vec<NewChange<'_>> = payloads
                .iter()
                .zip(&ids)
                .map(|((a, p), id)| NewChange {
                    tenant: a.tenant,
                    object_type: "alert",
                    object_id: id,
                    op: "create",
                    payload: p,
                    at: c.at,
                })
                .collect();
            // A folded alert updates its target (hits, last_seen).
            let merged_payloads: Vec<serde_json::Value> = plan
                .merged
                .iter()
                .map(|(a, target)| serde_json::json!({ "id": target, "folded": a.id.to_string(), "last_seen": a.event_time.to_rfc3339() }))
                .collect();
            changes.extend(
                plan.merged
                    .iter()
                    .zip(&merged_payloads)
                    .map(|((a, target), p)| NewChange {
                        tenant: a.tenant,
                        object_type: "alert",
                        object_id: target,
                        op: "update",
                        payload: p,
                        at: c.at,
                    }),
            );
            let default_tenant = c
                .alerts
                .first()
                .map(|a| a.tenant)
                .unwrap_or(vigil_model::TenantId::DEFAULT);
            changes.extend(c.effects.iter().map(|e| NewChange {
                tenant: effect_tenant(e).unwrap_or(default_tenant),
                object_type: &e.kind,
                object_id: &e.key,
                op: "create",
                payload: &e.payload,
                at: c.at,
            }));
            <DB as ChangeOps>::insert_changes(tx.conn(), &changes).await?;

            for (detector, state) in c.states {
                sqlx::query(
                    "INSERT INTO detector_state (consumer, detector, state, updated_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (consumer, detector) DO UPDATE \
                     SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(c.consumer)
                .bind(detector.as_str())
                .bind(state.as_slice())
                .bind(c.at.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }

            sqlx::query(
                "INSERT INTO checkpoints (consumer, seq, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (consumer) DO UPDATE SET \
                 seq = CASE WHEN excluded.seq > checkpoints.seq THEN excluded.seq ELSE checkpoints.seq END, \
                 updated_at = excluded.updated_at",
            )
            .bind(c.consumer)
            .bind(c.upto_seq)
            .bind(c.at.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;

            tx.commit(OP).await?;
            Ok(CommitStats {
                alerts_inserted: ids.len() as u64,
            })
        })
    }

    /// The last snapshot `detector` committed under `consumer`.
    pub async fn load_detector_state(
        &self,
        consumer: &str,
        detector: &str,
    ) -> Result<Option<Vec<u8>>> {
        const OP: &str = "load_detector_state";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT state FROM detector_state WHERE consumer = $1 AND detector = $2",
            )
            .bind(consumer)
            .bind(detector)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.map(|r| r.bytes("detector_state", "state")).transpose()
        })
    }
}

/// An effect's tenant, when its payload names one (`"tenant": "<uuid>"`).
fn effect_tenant(e: &Effect) -> Option<vigil_model::TenantId> {
    e.payload.get("tenant")?.as_str()?.parse().ok()
}

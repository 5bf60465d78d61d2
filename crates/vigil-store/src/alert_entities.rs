//! Related alerts (respond block, migration 60010): an index of every
//! alert's linkable entities (`alert_entities`: host, user, source and
//! destination IP, process, file hash, domain) and the query "which alerts
//! share an entity with this one".
//!
//! The index is filled from the change feed ([`Store::index_alert_entities`],
//! consumer [`ALERT_ENTITIES_CONSUMER`], checkpoint moved in the same
//! transaction), not inside the detection commit, so ingest pays nothing
//! for it; `vigil serve` keeps it current and readers catch it up before
//! asking. [`Store::related_alerts`] reads at most `limit` rows per entity
//! of the alert through the `(tenant, kind, value, created_at)` index, so
//! its cost does not grow with the number of stored alerts.

use std::collections::HashMap;

use sqlx::QueryBuilder;
use vigil_model::{Alert, AlertId, Entities, TenantId, Timestamp};

use crate::Store;
use crate::changes::ChangeOps;
use crate::error::{Result, db};
use crate::row::RowExt;

/// The change-feed consumer that fills `alert_entities`.
pub const ALERT_ENTITIES_CONSUMER: &str = "changes:alert_entities";

/// Longest entity value indexed (longer ones are left out).
const MAX_VALUE: usize = 1000;

/// Rows per multi-row insert (5 binds each).
const CHUNK: usize = 200;

/// An alert that shares entities with another.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedAlert {
    /// The alert.
    pub alert: Alert,
    /// What it shares: (kind, value) pairs, in [`Entities::linkable`] order.
    pub shared: Vec<(String, String)>,
}

struct Row {
    tenant: String,
    alert_id: String,
    kind: &'static str,
    value: String,
    created_at: i64,
}

fn rows_of(tenant: &str, alert_id: &str, payload: &serde_json::Value) -> Vec<Row> {
    let Some(e) = payload.get("entities") else {
        return Vec::new();
    };
    let Ok(entities) = serde_json::from_value::<Entities>(e.clone()) else {
        return Vec::new();
    };
    let created_at = payload
        .get("created_at")
        .and_then(|v| serde_json::from_value::<Timestamp>(v.clone()).ok())
        .map_or(0, Timestamp::as_micros);
    entities
        .linkable()
        .into_iter()
        .filter(|(_, v)| !v.is_empty() && v.len() <= MAX_VALUE)
        .map(|(kind, value)| Row {
            tenant: tenant.to_string(),
            alert_id: alert_id.to_string(),
            kind,
            value: value.to_string(),
            created_at,
        })
        .collect()
}

impl Store {
    /// Indexes the entities of alerts created after the consumer's
    /// checkpoint (at most `limit` change rows), moving the checkpoint in
    /// the same transaction; returns how many change rows were read. Call
    /// it until it returns 0 to catch up. Safe to run from several
    /// processes at once (rows are keyed; the checkpoint only moves on).
    pub async fn index_alert_entities(&self, limit: u32, now: Timestamp) -> Result<usize> {
        const OP: &str = "index_alert_entities";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let (cp, max) =
                <DB as ChangeOps>::consumer_window(tx.conn(), ALERT_ENTITIES_CONSUMER, 7419041, OP)
                    .await?;
            let changes = sqlx::query(
                "SELECT seq, tenant, object_id, payload FROM changes \
                 WHERE seq > $1 AND seq <= $2 AND object_type = 'alert' AND op = 'create' \
                 ORDER BY seq LIMIT $3",
            )
            .bind(cp)
            .bind(max)
            .bind(i64::from(limit.max(1)))
            .fetch_all(tx.conn())
            .await
            .map_err(db(OP))?;
            let mut last = cp;
            let mut rows = Vec::new();
            for r in &changes {
                const T: &str = "changes";
                last = r.int(T, "seq")?;
                let tenant = r.text(T, "tenant")?;
                let id = r.text(T, "object_id")?;
                rows.extend(rows_of(&tenant, &id, &r.json(T, "payload")?));
            }
            for chunk in rows.chunks(CHUNK) {
                let mut qb = QueryBuilder::<DB>::new(
                    "INSERT INTO alert_entities (tenant, alert_id, kind, value, created_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.tenant.as_str())
                        .push_bind(r.alert_id.as_str())
                        .push_bind(r.kind)
                        .push_bind(r.value.as_str())
                        .push_bind(r.created_at);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(tx.conn()).await.map_err(db(OP))?;
            }
            if changes.len() < usize::try_from(limit.max(1)).unwrap_or(usize::MAX) {
                last = last.max(max);
            }
            if last > cp {
                sqlx::query(
                    "INSERT INTO checkpoints (consumer, seq, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (consumer) DO UPDATE SET seq = CASE WHEN excluded.seq > checkpoints.seq \
                     THEN excluded.seq ELSE checkpoints.seq END, updated_at = excluded.updated_at",
                )
                .bind(ALERT_ENTITIES_CONSUMER)
                .bind(last)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            tx.commit(OP).await?;
            Ok(changes.len())
        })
    }

    /// Catches the entity index up with the change feed.
    pub async fn catch_up_alert_entities(&self, now: Timestamp) -> Result<usize> {
        let mut n = 0;
        loop {
            let read = self.index_alert_entities(1000, now).await?;
            n += read;
            if read < 1000 {
                return Ok(n);
            }
        }
    }

    /// Alerts sharing a linkable entity with alert `id`, newest first, at
    /// most `limit`; `None` when there is no such alert. Reads the index
    /// as it is (see [`Store::catch_up_alert_entities`]).
    pub async fn related_alerts(
        &self,
        tenant: TenantId,
        id: AlertId,
        limit: u32,
    ) -> Result<Option<Vec<RelatedAlert>>> {
        const OP: &str = "related_alerts";
        let Some(alert) = self.get_alert(tenant, id).await? else {
            return Ok(None);
        };
        let limit = limit.clamp(1, 1000);
        let own = id.to_string();
        // alert id -> (newest created_at, shared entities)
        let mut found: HashMap<String, (i64, Vec<(String, String)>)> = HashMap::new();
        for (kind, value) in alert.entities.linkable() {
            let rows = dispatch!(self, |pool, DB| {
                sqlx::query(
                    "SELECT alert_id, created_at FROM alert_entities \
                     WHERE tenant = $1 AND kind = $2 AND value = $3 AND alert_id <> $4 \
                     ORDER BY created_at DESC, alert_id DESC LIMIT $5",
                )
                .bind(tenant.to_string())
                .bind(kind)
                .bind(value)
                .bind(own.as_str())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db(OP))?
                .iter()
                .map(|r| {
                    Ok((
                        r.text("alert_entities", "alert_id")?,
                        r.int("alert_entities", "created_at")?,
                    ))
                })
                .collect::<Result<Vec<_>>>()
            })?;
            for (aid, at) in rows {
                let e = found.entry(aid).or_insert((at, Vec::new()));
                e.0 = e.0.max(at);
                e.1.push((kind.to_string(), value.to_string()));
            }
        }
        let mut order: Vec<(String, i64)> = found.iter().map(|(k, v)| (k.clone(), v.0)).collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
        order.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut out = Vec::with_capacity(order.len());
        for (aid, _) in order {
            let Ok(parsed) = aid.parse::<AlertId>() else {
                continue;
            };
            if let Some(a) = self.get_alert(tenant, parsed).await?
                && let Some((_, shared)) = found.remove(&aid)
            {
                out.push(RelatedAlert { alert: a, shared });
            }
        }
        Ok(Some(out))
    }
}

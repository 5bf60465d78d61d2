//! Assets from the hosts seen in events (block 5, migration 50010): each
//! sighting links to the asset of that name (case-insensitively, or by the
//! first label of a fully qualified name) or IP address, or creates a host
//! asset with source `seen_in_events`. Linking only moves `last_seen`:
//! fields an analyst set (kind, criticality, exposure, owner, IPs, …) are
//! never overwritten. The consumer's checkpoint moves in the same
//! transaction, so a range of events is applied once.

use std::collections::HashMap;

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, db};

/// A host named by events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSighting {
    /// The events' tenant.
    pub tenant: TenantId,
    /// `host.name` (or the stored event's host), if any.
    pub name: Option<String>,
    /// `host.ip` values.
    pub ips: Vec<String>,
    /// The latest event time (or receive time) naming it.
    pub at: Timestamp,
}

/// What [`Store::record_host_sightings`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SightingStats {
    /// Assets created (source `seen_in_events`).
    pub created: usize,
    /// Existing assets whose `last_seen` moved.
    pub linked: usize,
}

/// Longest host name accepted from events (longer ones are cut).
const MAX_HOST_NAME: usize = 200;

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

impl Store {
    /// Links or creates the assets of these sightings and sets `consumer`'s
    /// checkpoint to `upto_seq`, in one transaction.
    pub async fn record_host_sightings(
        &self,
        consumer: &str,
        upto_seq: i64,
        sightings: &[HostSighting],
        now: Timestamp,
    ) -> Result<SightingStats> {
        const OP: &str = "record_host_sightings";
        let mut stats = SightingStats::default();
        // Per tenant: lower-case name → id, IP → id (snapshot; the insert
        // below is ON CONFLICT-safe against assets added meanwhile).
        let mut names: HashMap<TenantId, HashMap<String, String>> = HashMap::new();
        let mut ips: HashMap<TenantId, HashMap<String, String>> = HashMap::new();
        for t in sightings.iter().map(|s| s.tenant) {
            if names.contains_key(&t) {
                continue;
            }
            let assets = self.list_assets(t).await?;
            let n = names.entry(t).or_default();
            let i = ips.entry(t).or_default();
            for a in assets {
                n.insert(a.asset.name.to_lowercase(), a.id.clone());
                for ip in &a.asset.ips {
                    i.insert(ip.clone(), a.id.clone());
                }
            }
        }
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut changes = Vec::new();
            for s in sightings {
                let name = s
                    .name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty() && !n.chars().any(char::is_control))
                    .map(|n| n.chars().take(MAX_HOST_NAME).collect::<String>());
                let by_name = names.get(&s.tenant).and_then(|m| {
                    let n = name.as_deref()?.to_lowercase();
                    m.get(&n).or_else(|| m.get(short(&n))).cloned()
                });
                let by_ip = || {
                    let m = ips.get(&s.tenant)?;
                    s.ips.iter().find_map(|ip| m.get(ip).cloned())
                };
                if let Some(id) = by_name.or_else(by_ip) {
                    let r = sqlx::query(
                        "UPDATE assets SET last_seen = $3 WHERE tenant = $1 AND id = $2 \
                         AND (last_seen IS NULL OR last_seen < $3)",
                    )
                    .bind(s.tenant.to_string())
                    .bind(&id)
                    .bind(s.at.as_micros())
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
                    if r.rows_affected() > 0 {
                        stats.linked += 1;
                    }
                    continue;
                }
                let Some(asset_name) = name.clone().or_else(|| s.ips.first().cloned()) else {
                    continue;
                };
                let id = uuid::Uuid::now_v7().to_string();
                let r = sqlx::query(
                    "INSERT INTO assets (tenant, id, name, kind, ips, os, owner, criticality, \
                     exposure, data_classes, tags, source, last_seen, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'host', $4, NULL, NULL, 3, 'internal', $5, $5, \
                     'seen_in_events', $6, $7, $7) \
                     ON CONFLICT (tenant, name) DO UPDATE SET last_seen = excluded.last_seen \
                     WHERE assets.last_seen IS NULL OR assets.last_seen < excluded.last_seen \
                     RETURNING id",
                )
                .bind(s.tenant.to_string())
                .bind(&id)
                .bind(&asset_name)
                .bind(Json(&s.ips))
                .bind(Json(Vec::<String>::new()))
                .bind(s.at.as_micros())
                .bind(now.as_micros())
                .fetch_optional(tx.conn())
                .await
                .map_err(db(OP))?;
                let got: Option<String> = r
                    .as_ref()
                    .map(|row| crate::row::RowExt::text(row, "assets", "id"))
                    .transpose()?;
                if got.as_deref() == Some(id.as_str()) {
                    stats.created += 1;
                    changes.push((s.tenant, id.clone(), asset_name.clone()));
                } else if got.is_some() {
                    stats.linked += 1;
                }
                // Later sightings in this batch link to it.
                if let Some(aid) = got {
                    names
                        .entry(s.tenant)
                        .or_default()
                        .insert(asset_name.to_lowercase(), aid.clone());
                    let m = ips.entry(s.tenant).or_default();
                    for ip in &s.ips {
                        m.entry(ip.clone()).or_insert_with(|| aid.clone());
                    }
                }
            }
            let payloads: Vec<serde_json::Value> = changes
                .iter()
                .map(|(_, id, name)| json!({ "id": id, "name": name, "source": "seen_in_events" }))
                .collect();
            let rows: Vec<NewChange<'_>> = changes
                .iter()
                .zip(&payloads)
                .map(|((tenant, id, _), payload)| NewChange {
                    tenant: *tenant,
                    object_type: "asset",
                    object_id: id,
                    op: "create",
                    payload,
                    at: now,
                })
                .collect();
            <DB as ChangeOps>::insert_changes(tx.conn(), &rows).await?;
            sqlx::query(
                "INSERT INTO checkpoints (consumer, seq, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (consumer) DO UPDATE SET \
                 seq = CASE WHEN excluded.seq > checkpoints.seq THEN excluded.seq ELSE checkpoints.seq END, \
                 updated_at = excluded.updated_at",
            )
            .bind(consumer)
            .bind(upto_seq)
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        Ok(stats)
    }
}

//! Event discovery of assets: a consumer of the event log (checkpoint
//! `asset-discovery`) that links the hosts events name (`host.name` or the
//! stored host, `host.ip`) to assets or creates them (source
//! `seen_in_events`), without touching what analysts set. `vigil serve`
//! runs it every `[vuln] discovery_interval_secs`; `vigil assets discover`
//! runs one pass.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;
use vigil_ingest::ParseOptions;
use vigil_model::{EventFormat, FieldId, FieldRegistry, TenantId, Timestamp};
use vigil_store::{HostSighting, Store, StoredEvent};

/// The consumer name of the discovery checkpoint.
pub const CONSUMER: &str = "asset-discovery";

/// Events read per step.
const BATCH: u32 = 2_000;

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Discovered {
    /// Events read.
    pub events: usize,
    /// Assets created.
    pub created: usize,
    /// Existing assets linked (last_seen moved).
    pub linked: usize,
}

/// A usable, non-loopback address in its canonical form.
fn ip(s: &str) -> Option<String> {
    let a: IpAddr = s.trim().parse().ok()?;
    (!a.is_loopback() && !a.is_unspecified()).then(|| a.to_string())
}

/// The hosts of a batch of stored events, one sighting per (tenant, host).
fn sightings(batch: &[StoredEvent], registry: &FieldRegistry) -> Vec<HostSighting> {
    let mut by: HashMap<(TenantId, String), HostSighting> = HashMap::new();
    for r in batch {
        let mut name = r.host.clone();
        let mut ips = Vec::new();
        if let Ok(format) = r.format.parse::<EventFormat>() {
            let opts = ParseOptions {
                tenant: r.tenant,
                source: r.source.clone(),
                received_at: r.received_at,
                max_event_bytes: r.raw.len().max(1),
            };
            if let Ok(ev) = vigil_ingest::reparse(format, &r.raw, registry, &opts) {
                if name.is_none() {
                    name = ev.get_str(FieldId::HOST_NAME).map(str::to_owned);
                }
                ips = ev
                    .get_all(FieldId::HOST_IP)
                    .filter_map(|v| v.as_str().and_then(ip))
                    .collect();
            }
        }
        let name = name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty() && n != "-");
        let Some(key) = name
            .as_deref()
            .map(str::to_lowercase)
            .or_else(|| ips.first().cloned())
        else {
            continue;
        };
        let at = r.received_at;
        let s = by.entry((r.tenant, key)).or_insert_with(|| HostSighting {
            tenant: r.tenant,
            name: name.clone(),
            ips: Vec::new(),
            at,
        });
        if s.at < at {
            s.at = at;
        }
        for i in ips {
            if !s.ips.contains(&i) && s.ips.len() < 64 {
                s.ips.push(i);
            }
        }
    }
    let mut out: Vec<HostSighting> = by.into_values().collect();
    out.sort_by(|a, b| (&a.name, &a.ips).cmp(&(&b.name, &b.ips)));
    out
}

/// Reads the events after the discovery checkpoint up to the log's end and
/// records their hosts.
pub async fn discover_once(
    store: &Store,
    registry: &Arc<FieldRegistry>,
    now: Timestamp,
) -> Result<Discovered> {
    let mut from = store.checkpoint(CONSUMER).await?;
    let mut total = Discovered::default();
    loop {
        let batch = store
            .events_after(from, BATCH)
            .await
            .context("cannot read the event log")?;
        let Some(upto) = batch.last().map(|e| e.seq) else {
            break;
        };
        let full = batch.len() == BATCH as usize;
        total.events += batch.len();
        let reg = Arc::clone(registry);
        let seen = tokio::task::spawn_blocking(move || sightings(&batch, &reg)).await?;
        let s = store
            .record_host_sightings(CONSUMER, upto, &seen, now)
            .await
            .context("cannot record the hosts seen")?;
        total.created += s.created;
        total.linked += s.linked;
        from = upto;
        if !full {
            break;
        }
    }
    Ok(total)
}

/// Runs [`discover_once`] every `interval` until the task is aborted.
pub async fn run(
    store: Store,
    registry: Arc<FieldRegistry>,
    clock: Arc<dyn vigil_model::Clock>,
    interval: std::time::Duration,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match discover_once(&store, &registry, clock.now()).await {
            Ok(d) if d.created > 0 || d.linked > 0 => tracing::info!(
                events = d.events,
                created = d.created,
                linked = d.linked,
                "assets discovered from events"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "asset discovery failed"),
        }
    }
}

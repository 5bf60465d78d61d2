//! The sightings consumer of `vigil serve`: every second, counts the
//! `intel.sighting` effects the intel detector committed with its alerts
//! (see `Store::apply_intel_sightings`: counts and checkpoint move in one
//! transaction, so each sighting is counted exactly once).

use std::sync::Arc;
use std::time::Duration;

use vigil_model::Clock;
use vigil_store::Store;

/// The consumer name of the sightings checkpoint.
pub const CONSUMER: &str = "intel-sightings";

/// Sighting changes per transaction.
const BATCH: u32 = 1000;

/// Counts pending sightings until none are left; returns how many were read.
pub async fn catch_up(store: &Store, clock: &dyn Clock) -> vigil_store::Result<usize> {
    let mut total = 0;
    loop {
        let r = store
            .apply_intel_sightings(CONSUMER, BATCH, clock.now())
            .await?;
        total += r.read;
        if r.read < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Runs until `stop` changes, then catches up once more.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        match catch_up(&store, clock.as_ref()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sightings = n, "intel sightings counted"),
            Err(e) => tracing::warn!(error = %e, "cannot count intel sightings"),
        }
        if stopping {
            break;
        }
    }
}

//! Alerts per clock hour for the dashboard's 24-hour chart.
//!
//! An alert's `created_at` is its commit time, so the count of a complete
//! hour does not change once the hour is over: complete hours are counted
//! once (one index-only range scan per severity for every hour not yet
//! known) and kept for [`KEEP`], and only the current hour is counted on
//! every view. The time to keep bounds how long a change to past hours
//! (alerts deleted by retention, or stored with an older time by a tool)
//! takes to show.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vigil_model::{TenantId, Timestamp};
use vigil_store::Store;

/// One hour in microseconds.
pub(crate) const HOUR: i64 = 3_600_000_000;

/// How long a complete hour's counts are trusted.
const KEEP: Duration = Duration::from_secs(300);

/// Alerts per severity rank (0–4) of one complete hour, and when counted.
type Counted = ([i64; 5], Instant);

/// Counts per (tenant, hour start).
#[derive(Default)]
pub(crate) struct AlertHours {
    cells: Mutex<HashMap<(TenantId, i64), Counted>>,
}

impl AlertHours {
    /// Alerts per severity for each of the 24 clock hours ending with the
    /// current one, oldest first.
    pub(crate) async fn last_day(
        &self,
        store: &Store,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<Vec<[i64; 5]>, vigil_store::Error> {
        let current = now.as_micros().div_euclid(HOUR) * HOUR;
        let first = current - 23 * HOUR;
        let fresh = |t: &Instant| t.elapsed() < KEEP;
        // The oldest complete hour not known (or known too long ago).
        let missing = {
            let cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            (0..23)
                .map(|k| first + k * HOUR)
                .find(|h| !cells.get(&(tenant, *h)).is_some_and(|(_, t)| fresh(t)))
        };
        if let Some(lo) = missing {
            let counted = store
                .alert_histogram(
                    tenant,
                    Timestamp::from_micros(lo),
                    Some(Timestamp::from_micros(current)),
                    HOUR,
                )
                .await?;
            let mut hours: HashMap<i64, [i64; 5]> = (0..(current - lo) / HOUR)
                .map(|k| (lo + k * HOUR, [0; 5]))
                .collect();
            for c in &counted {
                let sev = usize::try_from(c.severity).unwrap_or(0).min(4);
                if let Some(row) = hours.get_mut(&c.bucket.as_micros()) {
                    row[sev] += c.count;
                }
            }
            let at = Instant::now();
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.retain(|(_, h), _| *h >= first);
            for (h, row) in hours {
                cells.insert((tenant, h), (row, at));
            }
        }
        let mut now_row = [0i64; 5];
        for c in store
            .alert_histogram(tenant, Timestamp::from_micros(current), None, HOUR)
            .await?
        {
            let sev = usize::try_from(c.severity).unwrap_or(0).min(4);
            now_row[sev] += c.count;
        }
        let cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<[i64; 5]> = (0..23)
            .map(|k| {
                cells
                    .get(&(tenant, first + k * HOUR))
                    .map_or([0; 5], |c| c.0)
            })
            .collect();
        rows.push(now_row);
        Ok(rows)
    }
}

//! Pipeline metrics, registered by the server into its Prometheus registry.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// Counters and gauges of the pipeline. Cheap to update (atomics).
#[derive(Debug)]
pub struct Metrics {
    /// Events committed to the event log.
    pub events_ingested: Counter,
    /// Records rejected by parsers (counted by whoever parses).
    pub events_rejected: Counter,
    /// Events evaluated by the detect stage.
    pub events_detected: Counter,
    /// Alerts newly stored.
    pub alerts_raised: Counter,
    /// Events submitted but not yet committed.
    pub write_queue_depth: Gauge,
    /// Events committed but not yet evaluated.
    pub detect_queue_depth: Gauge,
    /// Seconds per event-log write transaction.
    pub store_write_seconds: Histogram,
    /// Seconds per detection commit transaction.
    pub store_commit_seconds: Histogram,
    /// Seconds spent in detectors per batch.
    pub detect_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let h = || Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        Self {
            events_ingested: Counter::default(),
            events_rejected: Counter::default(),
            events_detected: Counter::default(),
            alerts_raised: Counter::default(),
            write_queue_depth: Gauge::default(),
            detect_queue_depth: Gauge::default(),
            store_write_seconds: h(),
            store_commit_seconds: h(),
            detect_seconds: h(),
        }
    }
}

impl Metrics {
    /// Registers every metric under the `vigil_` prefix.
    pub fn register(&self, reg: &mut Registry) {
        let reg = reg.sub_registry_with_prefix("vigil");
        reg.register(
            "events_ingested",
            "Events committed to the event log",
            self.events_ingested.clone(),
        );
        reg.register(
            "events_rejected",
            "Records rejected by parsers",
            self.events_rejected.clone(),
        );
        reg.register(
            "events_detected",
            "Events evaluated by the detect stage",
            self.events_detected.clone(),
        );
        reg.register(
            "alerts_raised",
            "Alerts newly stored",
            self.alerts_raised.clone(),
        );
        reg.register(
            "write_queue_depth",
            "Events submitted but not yet committed",
            self.write_queue_depth.clone(),
        );
        reg.register(
            "detect_queue_depth",
            "Events committed but not yet evaluated by detectors",
            self.detect_queue_depth.clone(),
        );
        reg.register_with_unit(
            "store_write",
            "Event-log write transaction latency",
            Unit::Seconds,
            self.store_write_seconds.clone(),
        );
        reg.register_with_unit(
            "store_commit",
            "Detection commit transaction latency",
            Unit::Seconds,
            self.store_commit_seconds.clone(),
        );
        reg.register_with_unit(
            "detect",
            "Time spent in detectors per batch",
            Unit::Seconds,
            self.detect_seconds.clone(),
        );
    }
}

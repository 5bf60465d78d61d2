//! The `Detector` trait every detection engine implements (Sigma rules and
//! correlations, indicator matching, …), and its context.
//!
//! A detector is I/O-free. The pipeline hands it committed events in log
//! order; what it raises (alerts) and the side effects it asks for are written
//! by the pipeline in the same store transaction as the detection checkpoint,
//! so after a crash every event is evaluated and its outputs stored exactly
//! once. State survives restarts through [`Detector::snapshot`] and
//! [`Detector::restore`]; windows close on timers without a new event through
//! [`Detector::next_deadline`] and [`Detector::on_timer`]; hot reload builds a
//! new detector and restores the old one's snapshot into it.

use std::sync::Arc;

use crate::{Alert, Event, FieldRegistry, Timestamp};

/// A detector's failure to snapshot or restore its state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The snapshot bytes could not be read.
    #[error("detector {detector}: cannot restore state: {reason}")]
    Restore {
        /// Detector id.
        detector: String,
        /// Why.
        reason: String,
    },
    /// The state could not be serialised.
    #[error("detector {detector}: cannot snapshot state: {reason}")]
    Snapshot {
        /// Detector id.
        detector: String,
        /// Why.
        reason: String,
    },
}

/// A side effect a detector asks for, applied through the store in the same
/// transaction as the checkpoint. It is recorded in the change feed as an
/// object of type `kind` keyed by `key`; later crates (sightings, counters,
/// blocklists) consume it from there.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// Object type, e.g. `intel.sighting`.
    pub kind: String,
    /// Object key within the type.
    pub key: String,
    /// Payload.
    pub payload: serde_json::Value,
}

/// What a detector sees besides the event: the field registry, the
/// pipeline's clock reading, and where to put its outputs.
#[derive(Debug)]
pub struct DetectCtx<'a> {
    /// The registry the events' field ids come from.
    pub registry: &'a FieldRegistry,
    /// The time the batch (or timer) is being evaluated at.
    pub now: Timestamp,
    alerts: Vec<Alert>,
    effects: Vec<Effect>,
}

impl<'a> DetectCtx<'a> {
    /// A fresh context.
    pub fn new(registry: &'a FieldRegistry, now: Timestamp) -> Self {
        Self {
            registry,
            now,
            alerts: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// Raises an alert.
    pub fn raise(&mut self, alert: Alert) {
        self.alerts.push(alert);
    }

    /// Asks for a side effect.
    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// The outputs collected so far.
    pub fn into_outputs(self) -> (Vec<Alert>, Vec<Effect>) {
        (self.alerts, self.effects)
    }

    /// Number of alerts raised so far.
    pub fn alert_count(&self) -> usize {
        self.alerts.len()
    }
}

/// A detection engine plugged into the pipeline.
///
/// Implementations resolve the field names they need to [`crate::FieldId`]s
/// once (at construction, through the shared [`FieldRegistry`]) and look
/// fields up by id per event.
pub trait Detector: Send {
    /// A stable id; snapshots and hot reload are keyed by it.
    fn id(&self) -> &str;

    /// Evaluates one event.
    fn on_event(&mut self, event: &Event, ctx: &mut DetectCtx<'_>);

    /// Evaluates a batch in log order. The default calls
    /// [`Detector::on_event`] for each; engines may override it to spread the
    /// batch over several cores.
    fn on_batch(&mut self, events: &[Arc<Event>], ctx: &mut DetectCtx<'_>) {
        for e in events {
            self.on_event(e, ctx);
        }
    }

    /// The earliest time at which [`Detector::on_timer`] must run even if no
    /// event arrives (a correlation window closing). `None`: no timer.
    fn next_deadline(&self) -> Option<Timestamp> {
        None
    }

    /// Called when `now` has passed [`Detector::next_deadline`].
    fn on_timer(&mut self, now: Timestamp, ctx: &mut DetectCtx<'_>) {
        let _ = (now, ctx);
    }

    /// Serialises the detector's state. `None`: stateless.
    fn snapshot(&self) -> Result<Option<Vec<u8>>, DetectError> {
        Ok(None)
    }

    /// Restores state written by [`Detector::snapshot`] (possibly by the
    /// previous version of this detector, on hot reload).
    fn restore(&mut self, state: &[u8]) -> Result<(), DetectError> {
        let _ = state;
        Ok(())
    }
}

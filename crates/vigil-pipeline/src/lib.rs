//! The event pipeline: bounded stages ingest → normalise → commit → detect →
//! sink, wired by channels, with backpressure and a durable detection
//! checkpoint.
//!
//! - Callers (HTTP handlers, the CLI, listeners) parse and normalise records
//!   themselves, off the async threads, and [`PipelineHandle::submit`] the
//!   events. The future resolves only once the events are committed to the
//!   store's event log, so a 2xx answered after it is durable.
//! - The writer stage groups concurrent submissions into one transaction
//!   (group commit) and forwards committed events to the detect stage.
//! - The detect stage runs every [`Detector`] over each committed batch, in
//!   log order, and writes alerts, side effects, detector state snapshots and
//!   the checkpoint in one transaction. On start it first evaluates events
//!   committed but not yet evaluated before the last stop (re-parsed from
//!   their raw bytes), so every event is evaluated exactly once.
//! - Both channels are bounded: a slow store slows ingest down, a slow
//!   detector slows the writer down, and submitters wait.

#![warn(missing_docs)]

mod config;
mod count_detector;
mod detect;
mod error;
mod handle;
mod match_detector;
mod metrics;
mod writer;

pub use config::PipelineConfig;
pub use count_detector::CountDetector;
pub use error::{Error, Result};
pub use handle::{Committed, Pipeline, PipelineHandle, PipelineStatus};
pub use match_detector::{MatchDetector, MatchOp, MatchRule};
pub use metrics::Metrics;
pub use vigil_model::Detector;

#[cfg(test)]
mod tests;

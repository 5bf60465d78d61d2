//! A diagnostic detector that counts the events it evaluates. Its count is
//! snapshotted with every detection commit, so after any crash it equals the
//! number of events in the log exactly when each event was evaluated exactly
//! once. Enabled with `detect.count_events = true`; the crash test uses it.

use vigil_model::{DetectCtx, DetectError, Detector, Event};

/// Counts evaluated events; detector id `count`.
#[derive(Debug, Default)]
pub struct CountDetector {
    count: u64,
}

impl CountDetector {
    /// The detector id.
    pub const ID: &'static str = "count";

    /// Events evaluated so far (including before restarts).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Reads a snapshot written by this detector.
    pub fn decode(state: &[u8]) -> Option<u64> {
        std::str::from_utf8(state).ok()?.trim().parse().ok()
    }
}

impl Detector for CountDetector {
    fn id(&self) -> &str {
        Self::ID
    }

    fn on_event(&mut self, _ev: &Event, _ctx: &mut DetectCtx<'_>) {
        self.count += 1;
    }

    fn snapshot(&self) -> Result<Option<Vec<u8>>, DetectError> {
        Ok(Some(self.count.to_string().into_bytes()))
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), DetectError> {
        self.count = Self::decode(state).ok_or_else(|| DetectError::Restore {
            detector: Self::ID.to_owned(),
            reason: "snapshot is not a decimal count".to_owned(),
        })?;
        Ok(())
    }
}

//! Pipeline tuning knobs, each with its default.

use std::time::Duration;

/// How the pipeline's stages are sized.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Most events written in one store transaction (group commit). By
    /// default, 10,000.
    pub write_max_events: usize,
    /// Submissions waiting for the writer before submitters wait. By default,
    /// 256.
    pub write_queue: usize,
    /// Committed batches waiting for detection before the writer waits. By
    /// default, 64.
    pub detect_queue: usize,
    /// The checkpoint and detector-state key of this pipeline's detect
    /// stage. By default, `detect`.
    pub consumer: String,
    /// Events read per chunk when catching up after a restart. By default,
    /// 5,000.
    pub recover_chunk: u32,
    /// How often detector timers are checked. By default, every second.
    pub timer_interval: Duration,
    /// The maximum event size used when re-parsing stored events on
    /// recovery. By default, 1 MiB.
    pub max_event_bytes: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            write_max_events: 10_000,
            write_queue: 256,
            detect_queue: 64,
            consumer: "detect".to_owned(),
            recover_chunk: 5_000,
            timer_interval: Duration::from_secs(1),
            max_event_bytes: 1 << 20,
        }
    }
}

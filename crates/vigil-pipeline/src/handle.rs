//! Starting the pipeline, submitting events, reloading detectors, shutting
//! down.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use vigil_model::{Clock, Detector, Event, FieldRegistry};
use vigil_store::Store;

use crate::detect::{self, Control};
use crate::writer::{self, Submission};
use crate::{Error, Metrics, PipelineConfig, Result};

/// Where a submission landed in the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Sequence number of the first event (0 when `count` is 0).
    pub first_seq: i64,
    /// Sequence number of the last event (0 when `count` is 0).
    pub last_seq: i64,
    /// Number of events committed.
    pub count: usize,
}

/// Progress of the two durable stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineStatus {
    /// Highest event-log sequence committed by this pipeline.
    pub committed_seq: i64,
    /// Highest sequence whose detection outputs are committed.
    pub detected_seq: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) committed: AtomicI64,
    pub(crate) detected: AtomicI64,
}

/// A cheap, cloneable handle to submit events to a running pipeline.
#[derive(Clone, Debug)]
pub struct PipelineHandle {
    tx: mpsc::Sender<Submission>,
    control: mpsc::Sender<Control>,
    registry: Arc<FieldRegistry>,
    metrics: Arc<Metrics>,
    progress: Arc<Progress>,
}

impl PipelineHandle {
    /// Submits events; resolves once they are committed to the event log.
    ///
    /// Waits while the write queue is full (backpressure). On error nothing
    /// of this submission is committed.
    pub async fn submit(&self, events: Vec<Event>) -> Result<Committed> {
        if events.is_empty() {
            return Ok(Committed {
                first_seq: 0,
                last_seq: 0,
                count: 0,
            });
        }
        let n = events.len() as i64;
        let (ack, rx) = oneshot::channel();
        self.metrics.write_queue_depth.inc_by(n);
        if self.tx.send(Submission { events, ack }).await.is_err() {
            self.metrics.write_queue_depth.dec_by(n);
            return Err(Error::ShuttingDown);
        }
        rx.await.map_err(|_| Error::ShuttingDown)?
    }

    /// Replaces the detectors. Each new detector whose id matches an old one
    /// gets the old one's state snapshot. Resolves once swapped.
    pub async fn reload(&self, detectors: Vec<Box<dyn Detector>>) -> Result<()> {
        let (done, rx) = oneshot::channel();
        self.control
            .send(Control::Reload(detectors, done))
            .await
            .map_err(|_| Error::ShuttingDown)?;
        rx.await.map_err(|_| Error::ShuttingDown)?
    }

    /// The field registry events must be parsed with.
    pub fn registry(&self) -> &Arc<FieldRegistry> {
        &self.registry
    }

    /// The pipeline's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// How far the durable stages have got.
    pub fn status(&self) -> PipelineStatus {
        PipelineStatus {
            committed_seq: self.progress.committed.load(Ordering::Acquire),
            detected_seq: self.progress.detected.load(Ordering::Acquire),
        }
    }
}

/// The running pipeline's tasks; [`Pipeline::shutdown`] drains them.
#[derive(Debug)]
pub struct Pipeline {
    stop: oneshot::Sender<()>,
    writer: JoinHandle<()>,
    detect: JoinHandle<Result<()>>,
}

impl Pipeline {
    /// Starts the pipeline: restores detector state, then (in the background)
    /// evaluates events committed but not evaluated before the last stop,
    /// then everything submitted from now on.
    pub async fn start(
        store: Store,
        registry: Arc<FieldRegistry>,
        detectors: Vec<Box<dyn Detector>>,
        clock: Arc<dyn Clock>,
        config: PipelineConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(PipelineHandle, Pipeline)> {
        let progress = Arc::new(Progress::default());
        // Everything up to here was committed before this start; the detect
        // stage catches up on it from the store before taking live batches.
        let recover_upto = store.max_event_seq().await?;
        let checkpoint = store.checkpoint(&config.consumer).await?;
        progress.committed.store(recover_upto, Ordering::Release);
        progress.detected.store(checkpoint, Ordering::Release);

        let (tx, rx) = mpsc::channel(config.write_queue.max(1));
        let (det_tx, det_rx) = mpsc::channel(config.detect_queue.max(1));
        let (control, control_rx) = mpsc::channel(4);
        let (stop, stop_rx) = oneshot::channel();

        let mut detectors = detectors;
        detect::restore_all(&store, &config.consumer, &mut detectors).await?;

        let detect = tokio::spawn(detect::run(detect::DetectStage {
            store: store.clone(),
            registry: registry.clone(),
            detectors,
            clock,
            config: config.clone(),
            metrics: metrics.clone(),
            progress: progress.clone(),
            checkpoint,
            recover_upto,
            rx: det_rx,
            control: control_rx,
        }));
        let writer = tokio::spawn(writer::run(writer::WriterStage {
            store,
            config,
            metrics: metrics.clone(),
            progress: progress.clone(),
            rx,
            stop: stop_rx,
            detect: det_tx,
        }));
        let handle = PipelineHandle {
            tx,
            control,
            registry,
            metrics,
            progress,
        };
        Ok((
            handle,
            Pipeline {
                stop,
                writer,
                detect,
            },
        ))
    }

    /// Stops taking submissions, commits what was submitted, evaluates what
    /// was committed, writes detector state, and returns.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.stop.send(());
        if let Err(e) = self.writer.await {
            tracing::error!(error = %e, "pipeline writer task failed");
        }
        match self.detect.await {
            Ok(r) => r,
            Err(e) => Err(Error::Detector(format!("detect task failed: {e}"))),
        }
    }
}

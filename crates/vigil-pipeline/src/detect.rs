//! The detect stage: catch up from the event log, then evaluate live batches;
//! outputs, detector state and the checkpoint commit in one transaction.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use vigil_ingest::ParseOptions;
use vigil_model::{
    Alert, Clock, DetectCtx, Detector, Effect, Event, EventFormat, FieldRegistry, Timestamp,
};
use vigil_store::{DetectionCommit, Store, StoredEvent};

use crate::handle::Progress;
use crate::{Error, Metrics, PipelineConfig, Result};

/// Messages to the detect stage besides event batches.
pub(crate) enum Control {
    /// Swap the detectors (hot reload).
    Reload(Vec<Box<dyn Detector>>, oneshot::Sender<Result<()>>),
}

pub(crate) struct DetectStage {
    pub(crate) store: Store,
    pub(crate) registry: Arc<FieldRegistry>,
    pub(crate) detectors: Vec<Box<dyn Detector>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: PipelineConfig,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) progress: Arc<Progress>,
    pub(crate) checkpoint: i64,
    pub(crate) recover_upto: i64,
    pub(crate) rx: mpsc::Receiver<Vec<Arc<Event>>>,
    pub(crate) control: mpsc::Receiver<Control>,
}

/// Restores each detector's last committed snapshot.
pub(crate) async fn restore_all(
    store: &Store,
    consumer: &str,
    detectors: &mut [Box<dyn Detector>],
) -> Result<()> {
    for d in detectors.iter_mut() {
        if let Some(state) = store.load_detector_state(consumer, d.id()).await? {
            d.restore(&state)
                .map_err(|e| Error::Detector(e.to_string()))?;
        }
    }
    Ok(())
}

pub(crate) async fn run(mut st: DetectStage) -> Result<()> {
    recover(&mut st).await?;
    let mut ticker = tokio::time::interval(st.config.timer_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            batch = st.rx.recv() => {
                let Some(batch) = batch else { break };
                let n = batch.len() as i64;
                // Events at or below the checkpoint were evaluated already.
                let batch: Vec<Arc<Event>> = batch.into_iter().filter(|e| e.seq > st.checkpoint).collect();
                if !batch.is_empty() {
                    evaluate(&mut st, batch).await?;
                }
                st.metrics.detect_queue_depth.dec_by(n);
            }
            Some(msg) = st.control.recv() => match msg {
                Control::Reload(new, done) => {
                    let _ = done.send(reload(&mut st, new));
                }
            },
            _ = ticker.tick() => {
                timers(&mut st).await?;
            }
        }
    }
    // Drained: write the final state (the checkpoint is already current).
    let upto = st.checkpoint;
    commit(&mut st, upto, Vec::new(), Vec::new()).await?;
    tracing::debug!(checkpoint = st.checkpoint, "pipeline detect stage stopped");
    Ok(())
}

/// Evaluates events committed before this start but not yet evaluated.
async fn recover(st: &mut DetectStage) -> Result<()> {
    if st.recover_upto <= st.checkpoint {
        return Ok(());
    }
    tracing::info!(
        from = st.checkpoint + 1,
        to = st.recover_upto,
        "evaluating events committed but not evaluated before the last stop"
    );
    while st.checkpoint < st.recover_upto {
        let rows = st
            .store
            .events_after(st.checkpoint, st.config.recover_chunk)
            .await?;
        let rows: Vec<StoredEvent> = rows
            .into_iter()
            .filter(|r| r.seq <= st.recover_upto)
            .collect();
        let Some(last_seq) = rows.last().map(|r| r.seq) else {
            break;
        };
        let events: Vec<Arc<Event>> = rows
            .iter()
            .filter_map(|r| rebuild(st, r))
            .map(Arc::new)
            .collect();
        if events.is_empty() {
            commit(st, last_seq, Vec::new(), Vec::new()).await?;
        } else {
            evaluate_upto(st, events, last_seq).await?;
        }
    }
    Ok(())
}

/// Re-parses a stored event from its raw bytes (recovery path only).
fn rebuild(st: &DetectStage, r: &StoredEvent) -> Option<Event> {
    let format = match r.format.parse::<EventFormat>() {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(seq = r.seq, error = %e, "stored event has an unknown format; skipped");
            return None;
        }
    };
    let opts = ParseOptions {
        tenant: r.tenant,
        source: r.source.clone(),
        received_at: r.received_at,
        max_event_bytes: st.config.max_event_bytes.max(r.raw.len()),
    };
    match vigil_ingest::reparse(format, &r.raw, &st.registry, &opts) {
        Ok(mut ev) => {
            ev.id = r.id;
            ev.seq = r.seq;
            // The host may have come from outside the raw bytes (HEC /raw
            // `host=`, listener peers): the stored column is authoritative.
            if let Some(h) = &r.host {
                ev.host = Some(h.as_str().into());
            }
            Some(ev)
        }
        Err(e) => {
            tracing::warn!(seq = r.seq, error = %e, "stored event no longer parses; skipped");
            None
        }
    }
}

async fn evaluate(st: &mut DetectStage, batch: Vec<Arc<Event>>) -> Result<()> {
    let upto = batch.last().map_or(st.checkpoint, |e| e.seq);
    evaluate_upto(st, batch, upto).await
}

/// Runs every detector over the batch (each detector on its own thread when
/// there are several), then commits outputs and the checkpoint `upto`.
async fn evaluate_upto(st: &mut DetectStage, batch: Vec<Arc<Event>>, upto: i64) -> Result<()> {
    let detectors = std::mem::take(&mut st.detectors);
    let registry = st.registry.clone();
    let now = st.clock.now();
    let n = batch.len() as u64;
    let t0 = Instant::now();
    let joined = tokio::task::spawn_blocking(move || {
        let mut detectors = detectors;
        let outputs = run_detectors(&mut detectors, &registry, now, |d, ctx| {
            d.on_batch(&batch, ctx)
        });
        (detectors, outputs)
    })
    .await;
    let (detectors, (alerts, effects)) =
        joined.map_err(|e| Error::Detector(format!("a detector panicked: {e}")))?;
    st.detectors = detectors;
    st.metrics
        .detect_seconds
        .observe(t0.elapsed().as_secs_f64());
    st.metrics.events_detected.inc_by(n);
    commit(st, upto, alerts, effects).await
}

/// Fires timers that are due.
async fn timers(st: &mut DetectStage) -> Result<()> {
    let now = st.clock.now();
    if !st
        .detectors
        .iter()
        .any(|d| d.next_deadline().is_some_and(|t| t <= now))
    {
        return Ok(());
    }
    let (alerts, effects) = run_detectors(&mut st.detectors, &st.registry, now, |d, ctx| {
        if d.next_deadline().is_some_and(|t| t <= now) {
            d.on_timer(now, ctx);
        }
    });
    let upto = st.checkpoint;
    commit(st, upto, alerts, effects).await
}

type Outputs = (Vec<Alert>, Vec<Effect>);

fn run_detectors(
    detectors: &mut [Box<dyn Detector>],
    registry: &FieldRegistry,
    now: Timestamp,
    f: impl Fn(&mut dyn Detector, &mut DetectCtx<'_>) + Sync,
) -> Outputs {
    let one = |d: &mut Box<dyn Detector>| {
        let mut ctx = DetectCtx::new(registry, now);
        f(d.as_mut(), &mut ctx);
        ctx.into_outputs()
    };
    let parts: Vec<Outputs> = if detectors.len() <= 1 {
        detectors.iter_mut().map(one).collect()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = detectors.iter_mut().map(|d| s.spawn(|| one(d))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut alerts = Vec::new();
    let mut effects = Vec::new();
    for (a, e) in parts {
        alerts.extend(a);
        effects.extend(e);
    }
    (alerts, effects)
}

/// Writes outputs, snapshots and the checkpoint in one transaction.
async fn commit(
    st: &mut DetectStage,
    upto: i64,
    alerts: Vec<Alert>,
    effects: Vec<Effect>,
) -> Result<()> {
    let mut states = Vec::new();
    for d in &st.detectors {
        match d.snapshot() {
            Ok(Some(bytes)) => states.push((d.id().to_owned(), bytes)),
            Ok(None) => {}
            Err(e) => tracing::warn!(detector = d.id(), error = %e, "detector snapshot failed"),
        }
    }
    let upto = upto.max(st.checkpoint);
    let t0 = Instant::now();
    let stats = st
        .store
        .commit_detections(&DetectionCommit {
            consumer: &st.config.consumer,
            upto_seq: upto,
            alerts: &alerts,
            effects: &effects,
            states: &states,
            at: st.clock.now(),
        })
        .await?;
    st.metrics
        .store_commit_seconds
        .observe(t0.elapsed().as_secs_f64());
    st.metrics.alerts_raised.inc_by(stats.alerts_inserted);
    st.checkpoint = upto;
    st.progress.detected.store(upto, Ordering::Release);
    Ok(())
}

/// Hot reload: new detectors take over the old ones' state by id.
fn reload(st: &mut DetectStage, mut new: Vec<Box<dyn Detector>>) -> Result<()> {
    for d in new.iter_mut() {
        if let Some(old) = st.detectors.iter().find(|o| o.id() == d.id())
            && let Some(state) = old.snapshot().map_err(|e| Error::Detector(e.to_string()))?
        {
            d.restore(&state)
                .map_err(|e| Error::Detector(e.to_string()))?;
        }
    }
    tracing::info!(detectors = new.len(), "detectors reloaded");
    st.detectors = new;
    Ok(())
}

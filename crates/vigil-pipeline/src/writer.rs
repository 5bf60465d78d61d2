//! The writer stage: group commit of submissions into the event log.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use vigil_model::Event;
use vigil_store::Store;

use crate::handle::Progress;
use crate::{Committed, Error, Metrics, PipelineConfig, Result};

/// Events submitted together, answered together.
pub(crate) struct Submission {
    pub(crate) events: Vec<Event>,
    pub(crate) ack: oneshot::Sender<Result<Committed>>,
}

pub(crate) struct WriterStage {
    pub(crate) store: Store,
    pub(crate) config: PipelineConfig,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) progress: Arc<Progress>,
    pub(crate) rx: mpsc::Receiver<Submission>,
    pub(crate) stop: oneshot::Receiver<()>,
    pub(crate) detect: mpsc::Sender<Vec<Arc<Event>>>,
}

pub(crate) async fn run(mut st: WriterStage) {
    let mut stopping = false;
    loop {
        let first = if stopping {
            st.rx.recv().await
        } else {
            tokio::select! {
                biased;
                _ = &mut st.stop => {
                    // Take no new submissions; drain what is already queued.
                    st.rx.close();
                    stopping = true;
                    continue;
                }
                s = st.rx.recv() => s,
            }
        };
        let Some(first) = first else { break };
        let mut group = vec![first];
        let mut n = group[0].events.len();
        while n < st.config.write_max_events {
            match st.rx.try_recv() {
                Ok(s) => {
                    n += s.events.len();
                    group.push(s);
                }
                Err(_) => break,
            }
        }
        if !commit_group(&mut st, group).await {
            break;
        }
    }
    tracing::debug!("pipeline writer stopped");
}

/// Commits a group in one transaction; if that fails and the group has
/// several submissions, each is retried alone so one bad submission cannot
/// fail its neighbours. Returns false when the detect stage is gone.
async fn commit_group(st: &mut WriterStage, group: Vec<Submission>) -> bool {
    let mut sizes = Vec::with_capacity(group.len());
    let mut acks = Vec::with_capacity(group.len());
    let mut events = Vec::new();
    for s in group {
        sizes.push(s.events.len());
        acks.push(s.ack);
        events.extend(s.events);
    }
    let t0 = Instant::now();
    let res = st.store.append_events(&mut events).await;
    st.metrics
        .store_write_seconds
        .observe(t0.elapsed().as_secs_f64());
    match res {
        Ok(()) => {
            let mut off = 0;
            for (ack, len) in acks.into_iter().zip(sizes) {
                let slice = &events[off..off + len];
                let _ = ack.send(Ok(Committed {
                    first_seq: slice.first().map_or(0, |e| e.seq),
                    last_seq: slice.last().map_or(0, |e| e.seq),
                    count: len,
                }));
                off += len;
            }
            forward(st, events).await
        }
        Err(e) if acks.len() == 1 => {
            tracing::warn!(error = %e, events = events.len(), "event-log write failed");
            st.metrics.write_queue_depth.dec_by(events.len() as i64);
            if let Some(ack) = acks.into_iter().next() {
                let _ = ack.send(Err(Error::from(e)));
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "group commit failed; retrying submissions one by one");
            let mut rest = events.into_iter();
            for (ack, len) in acks.into_iter().zip(sizes) {
                let events: Vec<Event> = rest.by_ref().take(len).collect();
                let sub = Submission { events, ack };
                if !Box::pin(commit_group(st, vec![sub])).await {
                    return false;
                }
            }
            true
        }
    }
}

async fn forward(st: &mut WriterStage, events: Vec<Event>) -> bool {
    let n = events.len() as i64;
    if let Some(last) = events.last() {
        st.progress.committed.fetch_max(last.seq, Ordering::AcqRel);
    }
    st.metrics.events_ingested.inc_by(n as u64);
    st.metrics.write_queue_depth.dec_by(n);
    st.metrics.detect_queue_depth.inc_by(n);
    let batch: Vec<Arc<Event>> = events.into_iter().map(Arc::new).collect();
    // Awaiting here is the backpressure from detection to ingest.
    st.detect.send(batch).await.is_ok()
}

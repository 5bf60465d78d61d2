//! The per-listener batching task: takes framed messages from the bounded
//! queue, parses them off the async threads, and submits them to the
//! pipeline in batches (up to `batch_max_events` or `batch_max_wait_ms`).
//!
//! At most one submission is in flight (the next batch is collected and
//! parsed meanwhile), so while the store is slow the queue fills: TCP readers then wait (back-pressure reaches the
//! sender) and the UDP loop stops reading (datagrams wait in the kernel
//! buffer; the kernel drops and counts them only when it overflows).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vigil_ingest::{InputFormat, ParseOptions, parse_lines, parse_syslog_record};
use vigil_model::{Clock, Event, FieldRegistry, TenantId};
use vigil_pipeline::PipelineHandle;

use crate::metrics::Counters;

/// One framed message and where it came from.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) data: Vec<u8>,
    pub(crate) peer: SocketAddr,
}

pub(crate) struct Batcher {
    pub(crate) rx: mpsc::Receiver<Message>,
    pub(crate) pipeline: PipelineHandle,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) counters: Counters,
    /// `syslog:<protocol>:<name>`; the peer is appended per event.
    pub(crate) source: String,
    pub(crate) max_events: usize,
    pub(crate) max_wait: Duration,
    pub(crate) max_event_bytes: usize,
}

impl Batcher {
    /// Runs until every sender is gone and the queue is empty.
    ///
    /// One submission is in flight while the next batch is collected and
    /// parsed; the next one is sent only after it committed, so events
    /// keep their order and at most two batches are held.
    pub(crate) async fn run(mut self) {
        let mut in_flight: Option<JoinHandle<()>> = None;
        loop {
            // Wait for a first message, then fill up to the size or time
            // limit; whatever else is already queued joins at once.
            let Some(first) = self.rx.recv().await else {
                break;
            };
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + self.max_wait;
            let mut closed = false;
            while batch.len() < self.max_events {
                match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                    Ok(Some(m)) => batch.push(m),
                    Ok(None) => {
                        closed = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            let n = batch.len() as i64;
            let events = self.parse(batch).await;
            if let Some(prev) = in_flight.take() {
                let _ = prev.await;
            }
            in_flight = Some(tokio::spawn(submit(
                self.pipeline.clone(),
                self.counters.clone(),
                self.source.clone(),
                events,
                n,
            )));
            if closed {
                break;
            }
        }
        if let Some(prev) = in_flight.take() {
            let _ = prev.await;
        }
    }

    /// Parses on a blocking thread; counts the rejected messages.
    async fn parse(&self, batch: Vec<Message>) -> Vec<Event> {
        let n = batch.len() as u64;
        let registry = self.pipeline.registry().clone();
        let source = self.source.clone();
        let received_at = self.clock.now();
        let max = self.max_event_bytes;
        let parsed = tokio::task::spawn_blocking(move || {
            let opts =
                ParseOptions::new(TenantId::DEFAULT, source, received_at).with_max_event_bytes(max);
            parse_messages(&batch, &registry, &opts)
        })
        .await;
        match parsed {
            Ok((events, rejected)) => {
                self.counters.rejected.inc_by(rejected);
                events
            }
            Err(e) => {
                tracing::error!(error = %e, source = %self.source, "listener parse task failed");
                self.counters.rejected.inc_by(n);
                Vec::new()
            }
        }
    }
}

/// Submits one parsed batch and settles its counters; `n` messages leave
/// the queue-depth gauge once the batch is committed (or failed).
async fn submit(
    pipeline: PipelineHandle,
    counters: Counters,
    source: String,
    events: Vec<Event>,
    n: i64,
) {
    let count = events.len() as u64;
    match pipeline.submit(events).await {
        Ok(_) => {
            counters.parsed.inc_by(count);
        }
        Err(e) => {
            // Only on shutdown races: the pipeline stops after the
            // listeners, so this is not expected in normal operation.
            tracing::error!(error = %e, %source, events = count, "listener batch not committed");
            counters.dropped.inc_by(count);
        }
    }
    counters.queue_depth.dec_by(n);
}

/// Parses a batch of messages; the number of rejected ones beside the
/// events. Runs of messages from the same peer share one `parse_lines` call
/// (its caches); a message with an inner newline is parsed on its own so it
/// stays one event.
pub(crate) fn parse_messages(
    batch: &[Message],
    registry: &FieldRegistry,
    base: &ParseOptions,
) -> (Vec<Event>, u64) {
    let mut events = Vec::with_capacity(batch.len());
    let mut rejected = 0u64;
    let mut joined: Vec<u8> = Vec::new();
    let flush = |joined: &mut Vec<u8>, events: &mut Vec<Event>, opts: &ParseOptions| {
        if joined.is_empty() {
            return 0;
        }
        let b = parse_lines(joined, InputFormat::Syslog, registry, opts, 1);
        joined.clear();
        for err in &b.errors {
            tracing::debug!(reason = %err.reason, source = %opts.source, "syslog message rejected");
        }
        events.extend(b.events);
        b.errors.len() as u64
    };
    let mut i = 0;
    while i < batch.len() {
        let peer = batch[i].peer;
        let mut opts = base.clone();
        opts.source = format!("{}@{peer}", base.source);
        while i < batch.len() && batch[i].peer == peer {
            let data = &batch[i].data;
            i += 1;
            if data.iter().all(u8::is_ascii_whitespace) {
                rejected += 1;
            } else if memchr::memchr2(b'\n', b'\r', data).is_some() {
                rejected += flush(&mut joined, &mut events, &opts);
                match parse_syslog_record(data, registry, &opts) {
                    Ok(e) => events.push(e),
                    Err(reason) => {
                        tracing::debug!(%reason, source = %opts.source, "syslog message rejected");
                        rejected += 1;
                    }
                }
            } else {
                joined.extend_from_slice(data);
                joined.push(b'\n');
            }
        }
        rejected += flush(&mut joined, &mut events, &opts);
    }
    (events, rejected)
}

#[cfg(test)]
mod tests {
    use vigil_model::{FieldId, Timestamp};

    use super::*;

    #[test]
    fn runs_per_peer_and_multiline_messages() {
        let reg = FieldRegistry::new();
        let opts = ParseOptions::new(TenantId::DEFAULT, "syslog:tcp:t", Timestamp::from_secs(0))
            .with_max_event_bytes(200);
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let m = |data: &[u8], peer| Message {
            data: data.to_vec(),
            peer,
        };
        let batch = vec![
            m(b"<13>Jan  2 03:04:05 h1 app[1]: one", a),
            m(b"<13>Jan  2 03:04:05 h1 app[1]: two\nlines", a),
            m(b"  ", a),
            m(&[0xff, 0xfe], b),
            m(b"<13>1 2026-01-02T03:04:05Z h2 p - - - three", b),
        ];
        let (events, rejected) = parse_messages(&batch, &reg, &opts);
        assert_eq!(rejected, 2);
        let got: Vec<_> = events
            .iter()
            .map(|e| format!("{} {}", e.source, e.get_str(FieldId::MESSAGE).unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                "syslog:tcp:t@127.0.0.1:1 one",
                "syslog:tcp:t@127.0.0.1:1 two\nlines",
                "syslog:tcp:t@127.0.0.1:2 three"
            ]
        );
    }
}

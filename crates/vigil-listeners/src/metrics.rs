//! Per-listener counters (label `listener`, `protocol`), registered by the
//! server into its Prometheus registry under `vigil_listener_`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of every listener metric.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    /// Listener name from the configuration.
    pub listener: String,
    /// `udp`, `tcp` or `tls`.
    pub protocol: String,
}

/// All listeners' metrics. Cheap to clone (shared atomics).
#[derive(Debug, Clone, Default)]
pub struct ListenerMetrics {
    received: Family<ListenerLabels, Counter>,
    parsed: Family<ListenerLabels, Counter>,
    rejected: Family<ListenerLabels, Counter>,
    dropped: Family<ListenerLabels, Counter>,
    kernel_dropped: Family<ListenerLabels, Counter>,
    bytes: Family<ListenerLabels, Counter>,
    errors: Family<ListenerLabels, Counter>,
    queue_depth: Family<ListenerLabels, Gauge>,
    connections: Family<ListenerLabels, Gauge>,
}

/// One listener's handles into [`ListenerMetrics`].
#[derive(Debug, Clone)]
pub(crate) struct Counters {
    pub(crate) received: Counter,
    pub(crate) parsed: Counter,
    pub(crate) rejected: Counter,
    pub(crate) dropped: Counter,
    pub(crate) kernel_dropped: Counter,
    pub(crate) bytes: Counter,
    pub(crate) errors: Counter,
    pub(crate) queue_depth: Gauge,
    pub(crate) connections: Gauge,
}

impl ListenerMetrics {
    /// Registers the families under `vigil_listener_`.
    pub fn register(&self, reg: &mut Registry) {
        let reg = reg.sub_registry_with_prefix("vigil_listener");
        reg.register(
            "received",
            "Messages received (framed or datagrams)",
            self.received.clone(),
        );
        reg.register(
            "parsed",
            "Messages parsed into events and submitted",
            self.parsed.clone(),
        );
        reg.register(
            "rejected",
            "Messages that did not parse (empty, not UTF-8, too long)",
            self.rejected.clone(),
        );
        reg.register(
            "dropped",
            "Messages received but not stored because the pipeline refused their batch (shutdown races); full queues make readers wait instead of dropping",
            self.dropped.clone(),
        );
        reg.register(
            "kernel_dropped",
            "UDP datagrams the kernel dropped because the socket receive buffer overflowed (/proc/net/udp drops, refreshed every second)",
            self.kernel_dropped.clone(),
        );
        reg.register("bytes", "Bytes received", self.bytes.clone());
        reg.register(
            "errors",
            "Connections closed on errors: framing, TLS, over max_connections, submission failures",
            self.errors.clone(),
        );
        reg.register(
            "queue_depth",
            "Messages received but not yet committed",
            self.queue_depth.clone(),
        );
        reg.register(
            "connections",
            "Open TCP/TLS connections",
            self.connections.clone(),
        );
    }

    pub(crate) fn counters(&self, listener: &str, protocol: &str) -> Counters {
        let l = ListenerLabels {
            listener: listener.to_owned(),
            protocol: protocol.to_owned(),
        };
        Counters {
            received: self.received.get_or_create(&l).clone(),
            parsed: self.parsed.get_or_create(&l).clone(),
            rejected: self.rejected.get_or_create(&l).clone(),
            dropped: self.dropped.get_or_create(&l).clone(),
            kernel_dropped: self.kernel_dropped.get_or_create(&l).clone(),
            bytes: self.bytes.get_or_create(&l).clone(),
            errors: self.errors.get_or_create(&l).clone(),
            queue_depth: self.queue_depth.get_or_create(&l).clone(),
            connections: self.connections.get_or_create(&l).clone(),
        }
    }

    /// A snapshot of one listener's counters (zeros if it never started).
    pub fn snapshot(&self, listener: &str, protocol: &str) -> Snapshot {
        let c = self.counters(listener, protocol);
        Snapshot {
            received: c.received.get(),
            parsed: c.parsed.get(),
            rejected: c.rejected.get(),
            dropped: c.dropped.get(),
            kernel_dropped: c.kernel_dropped.get(),
            bytes: c.bytes.get(),
            errors: c.errors.get(),
            queue_depth: c.queue_depth.get(),
            connections: c.connections.get(),
        }
    }
}

/// Counter values of one listener at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Messages received.
    pub received: u64,
    /// Messages parsed and submitted.
    pub parsed: u64,
    /// Messages that did not parse.
    pub rejected: u64,
    /// Messages received but not stored (batch refused by the pipeline).
    pub dropped: u64,
    /// UDP datagrams the kernel dropped (receive buffer overflow).
    pub kernel_dropped: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Connection-level errors.
    pub errors: u64,
    /// Messages in flight.
    pub queue_depth: i64,
    /// Open connections.
    pub connections: i64,
}

//! Network listeners that feed the pipeline: syslog over UDP (RFC 5426),
//! TCP (RFC 6587 octet counting and newline framing) and TLS (RFC 5425,
//! rustls with the ring provider and a user-provided PEM certificate).
//!
//! Each listener has a socket task (UDP receive loop or TCP accept loop
//! plus one task per connection), a bounded queue of framed messages, and a
//! batching task that parses them (syslog, off the async threads) and
//! submits them to the pipeline. Back-pressure: a full queue makes TCP and
//! TLS readers wait, which slows the sender through TCP flow control; the
//! UDP receive loop waits too, so datagrams queue in the kernel's socket
//! buffer and are dropped only when it overflows, counted by the kernel and
//! mirrored into `vigil_listener_kernel_dropped_total`.
//!
//! ```no_run
//! # async fn f(pipeline: vigil_pipeline::PipelineHandle, clock: std::sync::Arc<dyn vigil_model::Clock>) -> vigil_listeners::Result<()> {
//! use vigil_listeners::{ListenerMetrics, Listeners, Protocol, SyslogListenerConfig};
//! let cfg = SyslogListenerConfig::new("tcp", Protocol::Tcp, "127.0.0.1:5514");
//! let listeners = Listeners::start(&[cfg], pipeline, clock, ListenerMetrics::default()).await?;
//! // … later, before the pipeline shuts down:
//! listeners.shutdown().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod batch;
mod config;
mod error;
mod framing;
mod metrics;
mod tcp;
mod tls;
mod udp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vigil_model::Clock;
use vigil_pipeline::PipelineHandle;

pub use config::{Protocol, SyslogListenerConfig, validate};
pub use error::{Error, Result};
pub use framing::{FrameDecoder, FrameError, Framing};
pub use metrics::{ListenerLabels, ListenerMetrics, Snapshot};
pub use udp::kernel_udp_drops;

/// A started listener, as [`Listeners::bound`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// Listener name.
    pub name: String,
    /// Transport.
    pub protocol: Protocol,
    /// The address actually bound (port 0 resolved).
    pub addr: SocketAddr,
}

struct Running {
    socket: JoinHandle<()>,
    batcher: JoinHandle<()>,
}

/// The running listeners; [`Listeners::shutdown`] stops them.
pub struct Listeners {
    stop: watch::Sender<bool>,
    bound: Vec<Bound>,
    running: Vec<Running>,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl Listeners {
    /// Validates the configurations, binds every enabled listener (so
    /// address and certificate errors surface here), and starts them.
    ///
    /// # Errors
    ///
    /// An invalid configuration, an address that can't be bound, or an
    /// unreadable certificate or key. Nothing keeps running then.
    pub async fn start(
        configs: &[SyslogListenerConfig],
        pipeline: PipelineHandle,
        clock: Arc<dyn Clock>,
        metrics: ListenerMetrics,
    ) -> Result<Self> {
        validate(configs)?;
        let (stop, stop_rx) = watch::channel(false);
        let mut me = Self {
            stop,
            bound: Vec::new(),
            running: Vec::new(),
        };
        for cfg in configs.iter().filter(|c| c.enabled) {
            match me
                .start_one(cfg, &pipeline, &clock, &metrics, &stop_rx)
                .await
            {
                Ok(()) => {}
                Err(e) => {
                    me.shutdown().await;
                    return Err(e);
                }
            }
        }
        Ok(me)
    }

    async fn start_one(
        &mut self,
        cfg: &SyslogListenerConfig,
        pipeline: &PipelineHandle,
        clock: &Arc<dyn Clock>,
        metrics: &ListenerMetrics,
        stop: &watch::Receiver<bool>,
    ) -> Result<()> {
        let counters = metrics.counters(&cfg.name, cfg.protocol.as_str());
        let (tx, rx) = mpsc::channel(cfg.queue);
        let bind_err = |source| Error::Bind {
            listener: cfg.name.clone(),
            addr: cfg.listen.clone(),
            source,
        };
        let (socket, addr) = match cfg.protocol {
            Protocol::Udp => {
                let sock = udp::bind(cfg)?;
                let addr = sock.local_addr().map_err(bind_err)?;
                let task = tokio::spawn(udp::run(
                    sock,
                    tx,
                    counters.clone(),
                    cfg.max_event_bytes,
                    stop.clone(),
                ));
                (task, addr)
            }
            Protocol::Tcp | Protocol::Tls => {
                let tls = match (cfg.protocol, &cfg.tls_cert, &cfg.tls_key) {
                    (Protocol::Tls, Some(c), Some(k)) => Some(tls::acceptor(&cfg.name, c, k)?),
                    _ => None,
                };
                let listener = tokio::net::TcpListener::bind(cfg.socket_addr()?)
                    .await
                    .map_err(bind_err)?;
                let addr = listener.local_addr().map_err(bind_err)?;
                let src = tcp::TcpSource {
                    name: cfg.name.clone(),
                    listener,
                    tls,
                    framing: cfg.framing,
                    max_event_bytes: cfg.max_event_bytes,
                    max_connections: cfg.max_connections,
                    tx,
                    counters: counters.clone(),
                    stop: stop.clone(),
                };
                (tokio::spawn(src.run()), addr)
            }
        };
        let batcher = batch::Batcher {
            rx,
            pipeline: pipeline.clone(),
            clock: clock.clone(),
            counters,
            source: format!("syslog:{}:{}", cfg.protocol, cfg.name),
            max_events: cfg.batch_max_events,
            max_wait: Duration::from_millis(cfg.batch_max_wait_ms),
            max_event_bytes: cfg.max_event_bytes,
        };
        tracing::info!(listener = %cfg.name, protocol = %cfg.protocol, %addr, framing = %cfg.framing, "syslog listener started");
        self.bound.push(Bound {
            name: cfg.name.clone(),
            protocol: cfg.protocol,
            addr,
        });
        self.running.push(Running {
            socket,
            batcher: tokio::spawn(batcher.run()),
        });
        Ok(())
    }

    /// The started listeners and their bound addresses.
    pub fn bound(&self) -> &[Bound] {
        &self.bound
    }

    /// Stops accepting and reading, submits what was already received, and
    /// returns once every batch is committed (or failed). Call it before
    /// the pipeline shuts down.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for r in self.running {
            if let Err(e) = r.socket.await {
                tracing::error!(error = %e, "listener socket task failed");
            }
            if let Err(e) = r.batcher.await {
                tracing::error!(error = %e, "listener batch task failed");
            }
        }
    }
}

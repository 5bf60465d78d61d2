//! TCP and TLS syslog: an accept loop bounded by `max_connections`, one task
//! per connection that reads, frames (RFC 6587) and queues messages. A
//! full queue makes the reader wait, so TCP flow control slows the sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::batch::Message;
use crate::framing::{FrameDecoder, Framing};
use crate::metrics::Counters;

/// How long a TLS handshake may take before the connection is closed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Read buffer per connection.
const READ_BUF: usize = 64 * 1024;

pub(crate) struct TcpSource {
    pub(crate) name: String,
    pub(crate) listener: TcpListener,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) framing: Framing,
    pub(crate) max_event_bytes: usize,
    pub(crate) max_connections: usize,
    pub(crate) tx: mpsc::Sender<Message>,
    pub(crate) counters: Counters,
    pub(crate) stop: watch::Receiver<bool>,
}

impl TcpSource {
    /// Accepts until stopped. Connection tasks hold queue senders, so the
    /// batcher finishes once the last connection has ended.
    pub(crate) async fn run(mut self) {
        let slots = Arc::new(Semaphore::new(self.max_connections));
        loop {
            let (stream, peer) = tokio::select! {
                biased;
                _ = self.stop.changed() => break,
                r = self.listener.accept() => match r {
                    Ok(r) => r,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(listener = %self.name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                tracing::warn!(listener = %self.name, %peer, max = self.max_connections, "connection refused: max_connections reached");
                self.counters.errors.inc();
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let conn = Connection {
                name: self.name.clone(),
                peer,
                framing: self.framing,
                max_event_bytes: self.max_event_bytes,
                tx: self.tx.clone(),
                counters: self.counters.clone(),
                stop: self.stop.clone(),
            };
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let _permit = permit;
                conn.counters.connections.inc();
                conn.serve(stream, tls).await;
                conn.counters.connections.dec();
            });
        }
    }
}

struct Connection {
    name: String,
    peer: SocketAddr,
    framing: Framing,
    max_event_bytes: usize,
    tx: mpsc::Sender<Message>,
    counters: Counters,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(&self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        match tls {
            None => self.read_loop(stream).await,
            Some(acceptor) => {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => self.read_loop(s).await,
                    Ok(Err(e)) => {
                        tracing::warn!(listener = %self.name, peer = %self.peer, error = %e, "tls handshake failed");
                        self.counters.errors.inc();
                    }
                    Err(_) => {
                        tracing::warn!(listener = %self.name, peer = %self.peer, "tls handshake timed out");
                        self.counters.errors.inc();
                    }
                }
            }
        }
    }

    async fn read_loop<S: AsyncRead + Unpin>(&self, mut stream: S) {
        let mut stop = self.stop.clone();
        let mut decoder = FrameDecoder::new(self.framing, self.max_event_bytes);
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let n = tokio::select! {
                biased;
                _ = stop.changed() => return,
                r = stream.read(&mut buf) => match r {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::debug!(listener = %self.name, peer = %self.peer, error = %e, "read failed");
                        return;
                    }
                },
            };
            if n == 0 {
                if let Some(last) = decoder.finish() {
                    self.queue(last).await;
                }
                return;
            }
            self.counters.bytes.inc_by(n as u64);
            decoder.extend(&buf[..n]);
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => {
                        let frame = frame.to_vec();
                        if !self.queue(frame).await {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(listener = %self.name, peer = %self.peer, error = %e, "closing connection: framing error");
                        self.counters.errors.inc();
                        return;
                    }
                }
            }
        }
    }

    /// Queues one message, waiting while the queue is full (that wait is
    /// the back-pressure). False when the listener is shutting down.
    async fn queue(&self, data: Vec<u8>) -> bool {
        self.counters.received.inc();
        self.counters.queue_depth.inc();
        let msg = Message {
            data,
            peer: self.peer,
        };
        if self.tx.send(msg).await.is_err() {
            self.counters.queue_depth.dec();
            return false;
        }
        true
    }
}

//! UDP syslog (RFC 5426): one message per datagram. When the listener queue
//! is full the receive loop waits for room instead of reading and
//! discarding: datagrams then wait in the kernel's socket receive buffer
//! (`recv_buffer_bytes`), and only when that overflows does the kernel drop
//! them. Those drops are counted by the kernel (`/proc/net/udp`, see
//! [`crate::kernel_udp_drops`]) and mirrored every second into
//! `vigil_listener_kernel_dropped_total`, so no drop is silent and none is
//! spent on CPU Vigil could have used to catch up.

use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use crate::batch::Message;
use crate::config::SyslogListenerConfig;
use crate::metrics::Counters;
use crate::{Error, Result};

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// Binds the socket with the requested receive buffer.
pub(crate) fn bind(cfg: &SyslogListenerConfig) -> Result<UdpSocket> {
    let addr = cfg.socket_addr()?;
    let err = |source| Error::Bind {
        listener: cfg.name.clone(),
        addr: cfg.listen.clone(),
        source,
    };
    let domain = socket2::Domain::for_address(addr);
    let sock = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))
        .map_err(err)?;
    if let Err(e) = sock.set_recv_buffer_size(cfg.recv_buffer_bytes) {
        tracing::warn!(listener = %cfg.name, error = %e, "cannot set the UDP receive buffer size");
    }
    sock.set_nonblocking(true).map_err(err)?;
    sock.bind(&addr.into()).map_err(err)?;
    let got = sock.recv_buffer_size().unwrap_or(0);
    tracing::debug!(listener = %cfg.name, recv_buffer_bytes = got, "udp socket bound");
    UdpSocket::from_std(sock.into()).map_err(err)
}

pub(crate) async fn run(
    sock: UdpSocket,
    tx: mpsc::Sender<Message>,
    counters: Counters,
    max_event_bytes: usize,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let local = sock.local_addr().ok();
    let mut kernel = KernelDrops::new(local, counters.kernel_dropped.clone());
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let (n, peer): (usize, SocketAddr) = tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = tick.tick() => {
                kernel.refresh();
                continue;
            }
            r = sock.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors and the like; the socket stays usable.
                    tracing::debug!(error = %e, "udp receive error");
                    continue;
                }
            },
        };
        counters.received.inc();
        counters.bytes.inc_by(n as u64);
        let mut data = &buf[..n];
        while let Some((&last, rest)) = data.split_last() {
            if matches!(last, b'\n' | b'\r' | 0) {
                data = rest;
            } else {
                break;
            }
        }
        if data.len() > max_event_bytes {
            counters.rejected.inc();
            continue;
        }
        let msg = Message {
            data: data.to_vec(),
            peer,
        };
        counters.queue_depth.inc();
        let msg = match tx.try_send(msg) {
            Ok(()) => continue,
            Err(mpsc::error::TrySendError::Full(msg)) => msg,
            Err(mpsc::error::TrySendError::Closed(_)) => {
                counters.queue_depth.dec();
                break;
            }
        };
        // Queue full: stop reading until there is room; the kernel buffer
        // absorbs the burst meanwhile.
        tokio::select! {
            biased;
            _ = stop.changed() => {
                counters.queue_depth.dec();
                break;
            }
            r = tx.send(msg) => if r.is_err() {
                counters.queue_depth.dec();
                break;
            },
        }
    }
    kernel.refresh();
}

/// Mirrors the kernel's drop count for one socket into a counter. The
/// kernel counts per socket from zero (the socket is ours alone: no
/// `SO_REUSEPORT`), so its value is the listener's total.
struct KernelDrops {
    local: Option<SocketAddr>,
    counter: prometheus_client::metrics::counter::Counter,
}

impl KernelDrops {
    fn new(
        local: Option<SocketAddr>,
        counter: prometheus_client::metrics::counter::Counter,
    ) -> Self {
        Self { local, counter }
    }

    fn refresh(&mut self) {
        let Some(now) = self.local.and_then(kernel_udp_drops) else {
            return;
        };
        let counted = self.counter.get();
        if now > counted {
            self.counter.inc_by(now - counted);
        }
    }
}

/// Datagrams the kernel dropped on the UDP socket bound to `addr` (its
/// receive buffer overflowed), from `/proc/net/udp` or `/proc/net/udp6`.
/// `None` when no such socket is listed (or not on Linux).
pub fn kernel_udp_drops(addr: SocketAddr) -> Option<u64> {
    let (path, want) = match addr {
        SocketAddr::V4(a) => (
            "/proc/net/udp",
            format!(
                "{:08X}:{:04X}",
                u32::from_le_bytes(a.ip().octets()),
                a.port()
            ),
        ),
        SocketAddr::V6(a) => {
            let o = a.ip().octets();
            let mut s = String::with_capacity(37);
            for w in o.chunks(4) {
                let v = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                s.push_str(&format!("{v:08X}"));
            }
            ("/proc/net/udp6", format!("{s}:{:04X}", a.port()))
        }
    };
    let text = std::fs::read_to_string(path).ok()?;
    proc_net_udp_drops(&text, &want)
}

/// The `drops` column of the line whose local address is `local`.
fn proc_net_udp_drops(text: &str, local: &str) -> Option<u64> {
    text.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(1) == Some(&local))
            .then(|| cols.last()?.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_udp_line() {
        let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  123: 0100007F:1572 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12345 2 0000000000000000 42\n";
        assert_eq!(proc_net_udp_drops(text, "0100007F:1572"), Some(42));
        assert_eq!(proc_net_udp_drops(text, "0100007F:1573"), None);
    }

    #[test]
    fn kernel_drops_of_a_bound_socket() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = s.local_addr().unwrap();
        if std::path::Path::new("/proc/net/udp").exists() {
            assert_eq!(kernel_udp_drops(addr), Some(0));
        }
    }
}

//! UDP syslog (RFC 5426): one message per datagram. The receive loop never
//! waits on the pipeline: when the listener queue is full the datagram is
//! dropped and counted (`vigil_listener_dropped_total`); drops in the
//! kernel's socket buffer show in `/proc/net/udp` (see [`crate::kernel_udp_drops`]).

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
    loop {
        let (n, peer): (usize, SocketAddr) = tokio::select! {
            biased;
            _ = stop.changed() => break,
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
        match tx.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                counters.queue_depth.dec();
                counters.dropped.inc();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                counters.queue_depth.dec();
                break;
            }
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

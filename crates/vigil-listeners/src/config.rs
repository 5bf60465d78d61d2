//! Listener configuration as it appears in `[[listeners.syslog]]`, with
//! its defaults, and the I/O-free validation.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::framing::Framing;
use crate::{Error, Result};

/// Transport of a syslog listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// One message per datagram (RFC 5426).
    Udp,
    /// A stream framed per RFC 6587.
    Tcp,
    /// TCP inside TLS (RFC 5425).
    Tls,
}

impl Protocol {
    /// `udp`, `tcp` or `tls`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[listeners.syslog]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogListenerConfig {
    /// Name in metrics and event sources (`syslog:<protocol>:<name>`).
    /// Required, unique.
    pub name: String,
    /// `udp`, `tcp` or `tls`. Required.
    pub protocol: Protocol,
    /// Address to bind, e.g. `127.0.0.1:5514` or `0.0.0.0:514`. Required.
    pub listen: String,
    /// Stream framing for tcp and tls. By default, `auto` (octet counting
    /// when a message starts with a digit, else newline).
    #[serde(default)]
    pub framing: Framing,
    /// PEM certificate chain (tls only; required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1; tls only; required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Most concurrent connections (tcp, tls); more are closed at once and
    /// counted as errors. By default, 1000.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Largest message in bytes; a longer datagram is rejected, a longer
    /// stream frame closes its connection. By default, 1 MiB (1048576).
    #[serde(default = "default_max_event_bytes")]
    pub max_event_bytes: usize,
    /// Messages queued between the sockets and the pipeline. When full,
    /// TCP/TLS readers wait (the sender is slowed down) and the UDP loop
    /// stops reading (datagrams wait in the kernel buffer, which drops and
    /// counts them only when it overflows). By default, 100000.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Most messages per pipeline submission. By default, 10000.
    #[serde(default = "default_batch_max")]
    pub batch_max_events: usize,
    /// Longest a message waits for its batch to fill, in milliseconds. By
    /// default, 50.
    #[serde(default = "default_batch_wait")]
    pub batch_max_wait_ms: u64,
    /// Kernel receive buffer requested for UDP sockets, in bytes (the
    /// kernel caps it at `net.core.rmem_max`). By default, 8 MiB.
    #[serde(default = "default_recv_buffer")]
    pub recv_buffer_bytes: usize,
    /// Start this listener. By default, true (the listener section itself
    /// is empty by default, so nothing listens unless configured).
    #[serde(default = "default_true")]
    pub enabled: bool,
}

fn default_max_connections() -> usize {
    1000
}
fn default_max_event_bytes() -> usize {
    vigil_ingest::DEFAULT_MAX_EVENT_BYTES
}
fn default_queue() -> usize {
    100_000
}
fn default_batch_max() -> usize {
    10_000
}
fn default_batch_wait() -> u64 {
    50
}
fn default_recv_buffer() -> usize {
    8 << 20
}
fn default_true() -> bool {
    true
}

impl SyslogListenerConfig {
    /// A listener with every optional setting at its default.
    pub fn new(name: impl Into<String>, protocol: Protocol, listen: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            protocol,
            listen: listen.into(),
            framing: Framing::default(),
            tls_cert: None,
            tls_key: None,
            max_connections: default_max_connections(),
            max_event_bytes: default_max_event_bytes(),
            queue: default_queue(),
            batch_max_events: default_batch_max(),
            batch_max_wait_ms: default_batch_wait(),
            recv_buffer_bytes: default_recv_buffer(),
            enabled: true,
        }
    }

    /// The bind address.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `listen` is not `ip:port`.
    pub fn socket_addr(&self) -> Result<SocketAddr> {
        self.listen.parse().map_err(|_| Error::Config {
            listener: self.name.clone(),
            msg: format!("listen {:?} is not an ip:port address", self.listen),
        })
    }

    fn invalid(&self, msg: impl Into<String>) -> Error {
        Error::Config {
            listener: self.name.clone(),
            msg: msg.into(),
        }
    }
}

/// Checks a set of listener configurations; no I/O (certificate files are
/// read when the listener starts).
///
/// # Errors
///
/// The first problem found, naming the listener.
pub fn validate(listeners: &[SyslogListenerConfig]) -> Result<()> {
    let mut names = std::collections::HashSet::new();
    for l in listeners {
        if l.name.is_empty()
            || !l
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(l.invalid("name must be non-empty ASCII letters, digits, - _ ."));
        }
        if !names.insert(l.name.as_str()) {
            return Err(l.invalid("duplicate listener name"));
        }
        l.socket_addr()?;
        if l.max_event_bytes == 0 || l.max_event_bytes > 64 << 20 {
            return Err(l.invalid("max_event_bytes must be between 1 and 67108864"));
        }
        if l.max_connections == 0 || l.queue == 0 || l.batch_max_events == 0 {
            return Err(l.invalid("max_connections, queue and batch_max_events must be at least 1"));
        }
        match l.protocol {
            Protocol::Tls if l.tls_cert.is_none() || l.tls_key.is_none() => {
                return Err(l.invalid("protocol tls needs tls_cert and tls_key"));
            }
            Protocol::Udp | Protocol::Tcp if l.tls_cert.is_some() || l.tls_key.is_some() => {
                return Err(l.invalid("tls_cert and tls_key need protocol = \"tls\""));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ls: &[SyslogListenerConfig], expect: &str) {
        let got = match validate(ls) {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn validation() {
        let udp = SyslogListenerConfig::new("u", Protocol::Udp, "127.0.0.1:5514");
        check(std::slice::from_ref(&udp), "ok");
        check(
            &[udp.clone(), udp.clone()],
            "listener u: duplicate listener name",
        );
        let tls = SyslogListenerConfig::new("t", Protocol::Tls, "127.0.0.1:6514");
        check(
            &[tls],
            "listener t: protocol tls needs tls_cert and tls_key",
        );
        let bad = SyslogListenerConfig::new("b", Protocol::Tcp, "localhost");
        check(
            &[bad],
            "listener b: listen \"localhost\" is not an ip:port address",
        );
    }
}

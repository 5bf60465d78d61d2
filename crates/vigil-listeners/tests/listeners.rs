//! UDP, TCP and TLS listeners against a real pipeline and SQLite store.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigil_listeners::{Framing, Protocol, SyslogListenerConfig};
use vigil_model::Timestamp;

use common::Harness;

fn udp(name: &str) -> SyslogListenerConfig {
    SyslogListenerConfig::new(name, Protocol::Udp, "127.0.0.1:0")
}

fn tcp(name: &str) -> SyslogListenerConfig {
    SyslogListenerConfig::new(name, Protocol::Tcp, "127.0.0.1:0")
}

#[tokio::test]
async fn udp_datagrams_are_stored_with_host_program_time_and_message() {
    let mut h = Harness::start(vec![udp("u")]).await;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = h.addr("u");
    sock.send_to(
        b"<34>1 2026-11-27T10:00:00.5+02:00 web1 sshd 42 ID47 - Failed password for root\n",
        to,
    )
    .unwrap();
    sock.send_to(b"<13>Nov 27 08:00:01 db2 cron[7]: (root) CMD (run)", to)
        .unwrap();
    sock.send_to(b"\n", to).unwrap();
    let ev = h.wait_events(2).await;
    assert_eq!(ev[0].host.as_deref(), Some("web1"));
    assert_eq!(ev[0].program.as_deref(), Some("sshd"));
    assert_eq!(ev[0].appname.as_deref(), Some("sshd"));
    assert_eq!(ev[0].message.as_deref(), Some("Failed password for root"));
    assert_eq!(
        ev[0].time,
        Timestamp::parse_rfc3339("2026-11-27T08:00:00.5Z")
    );
    let local = sock.local_addr().unwrap();
    assert_eq!(ev[0].source, format!("syslog:udp:u@{local}"));
    assert_eq!(ev[1].host.as_deref(), Some("db2"));
    assert_eq!(ev[1].program.as_deref(), Some("cron"));
    assert_eq!(ev[1].message.as_deref(), Some("(root) CMD (run)"));
    let s = h
        .wait_metrics("u", |s| s.rejected == 1 && s.queue_depth == 0)
        .await;
    assert_eq!((s.received, s.parsed, s.dropped), (3, 2, 0));
    assert!(s.bytes > 100);
    h.shutdown().await;
}

#[tokio::test]
async fn tcp_mixed_framing_partial_writes_and_many_connections() {
    let mut h = Harness::start(vec![tcp("t")]).await;
    let addr = h.addr("t");
    let mut tasks = Vec::new();
    for c in 0..4 {
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut out = Vec::new();
            for i in 0..250 {
                let msg = format!("<13>1 2026-11-27T10:00:00Z h{c} app - - - msg {i}");
                if i % 2 == 0 {
                    out.extend_from_slice(format!("{} {msg}", msg.len()).as_bytes());
                } else {
                    out.extend_from_slice(msg.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
            }
            // Odd write sizes split frames and lengths across reads.
            for chunk in out.chunks(97) {
                s.write_all(chunk).await.unwrap();
            }
            s.shutdown().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ev = h.wait_events(1000).await;
    assert_eq!(ev.len(), 1000);
    for c in 0..4 {
        let mine: Vec<_> = ev
            .iter()
            .filter(|e| e.host.as_deref() == Some(&format!("h{c}")))
            .collect();
        assert_eq!(mine.len(), 250);
        // One connection's messages keep their order.
        for (i, e) in mine.iter().enumerate() {
            assert_eq!(e.message.as_deref(), Some(format!("msg {i}").as_str()));
        }
    }
    let s = h
        .wait_metrics("t", |s| s.connections == 0 && s.queue_depth == 0)
        .await;
    assert_eq!(
        (s.received, s.parsed, s.rejected, s.errors),
        (1000, 1000, 0, 0)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn oversize_octet_count_closes_the_connection() {
    let mut cfg = tcp("t");
    cfg.max_event_bytes = 100;
    cfg.framing = Framing::OctetCounting;
    let mut h = Harness::start(vec![cfg]).await;
    let mut s = tokio::net::TcpStream::connect(h.addr("t")).await.unwrap();
    s.write_all(b"9 <13>hello101 ").await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "the server closes the connection");
    let ev = h.wait_events(1).await;
    assert_eq!(ev[0].message.as_deref(), Some("<13>hello"));
    let s = h.wait_metrics("t", |s| s.errors == 1).await;
    assert_eq!(s.received, 1);
    h.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_and_counted() {
    let mut cfg = tcp("t");
    cfg.max_connections = 1;
    let mut h = Harness::start(vec![cfg]).await;
    let mut first = tokio::net::TcpStream::connect(h.addr("t")).await.unwrap();
    first.write_all(b"<13>one\n").await.unwrap();
    h.wait_metrics("t", |s| s.received == 1 && s.connections == 1)
        .await;
    let mut second = tokio::net::TcpStream::connect(h.addr("t")).await.unwrap();
    let mut buf = [0u8; 4];
    let n = tokio::time::timeout(Duration::from_secs(10), second.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    h.wait_metrics("t", |s| s.errors == 1).await;
    drop(first);
    h.shutdown().await;
}

#[tokio::test]
async fn shutdown_flushes_queued_messages() {
    let mut cfg = tcp("t");
    // Without shutdown these would wait a minute for their batch.
    cfg.batch_max_wait_ms = 60_000;
    let mut u = udp("u");
    u.batch_max_wait_ms = 60_000;
    let mut h = Harness::start(vec![cfg, u]).await;
    let mut s = tokio::net::TcpStream::connect(h.addr("t")).await.unwrap();
    for i in 0..10 {
        s.write_all(format!("<13>tcp {i}\n").as_bytes())
            .await
            .unwrap();
    }
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..10 {
        sock.send_to(format!("<13>udp {i}").as_bytes(), h.addr("u"))
            .unwrap();
    }
    h.wait_metrics("t", |s| s.received == 10).await;
    h.wait_metrics("u", |s| s.received == 10).await;
    assert_eq!(h.store.count_events(None).await.unwrap(), 0);
    h.shutdown().await;
    assert_eq!(h.store.count_events(None).await.unwrap(), 20);
    assert_eq!(h.snapshot("t").parsed, 10);
    assert_eq!(h.snapshot("u").queue_depth, 0);
}

#[tokio::test]
async fn udp_overload_is_counted_never_silent() {
    let mut cfg = udp("u");
    cfg.queue = 1;
    cfg.batch_max_events = 1;
    // A tiny kernel buffer so the burst overflows it.
    cfg.recv_buffer_bytes = 4096;
    let mut h = Harness::start(vec![cfg]).await;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..2000 {
        sock.send_to(format!("<13>m {i}").as_bytes(), h.addr("u"))
            .unwrap();
    }
    // Vigil waits for queue room instead of dropping: everything the socket
    // handed over is parsed; the rest was dropped by the kernel, which
    // counts it (/proc/net/udp) and Vigil mirrors it into its metrics.
    let mut kernel = 0;
    for _ in 0..100 {
        let s = h
            .wait_metrics("u", |s| s.queue_depth == 0 && s.received > 0)
            .await;
        kernel = vigil_listeners::kernel_udp_drops(h.addr("u")).unwrap_or(0);
        if s.received + kernel == 2000 && s.parsed == s.received && s.kernel_dropped == kernel {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let s = h.snapshot("u");
    assert_eq!(s.kernel_dropped, kernel, "{s:?}");
    assert_eq!(s.parsed, s.received, "{s:?}");
    assert_eq!(s.dropped, 0, "{s:?}");
    assert_eq!(s.received + kernel, 2000, "{s:?} kernel drops {kernel}");
    assert_eq!(h.store.count_events(None).await.unwrap(), s.parsed);
    h.shutdown().await;
}

#[tokio::test]
async fn tls_with_a_user_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, ck.cert.pem()).unwrap();
    std::fs::write(&key_path, ck.signing_key.serialize_pem()).unwrap();
    let mut cfg = SyslogListenerConfig::new("s", Protocol::Tls, "127.0.0.1:0");
    cfg.tls_cert = Some(cert_path);
    cfg.tls_key = Some(key_path);
    let mut h = Harness::start(vec![cfg]).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(h.addr("s")).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    for i in 0..3 {
        let msg = format!("<86>1 2026-11-27T10:00:0{i}Z gw sudo 9 - - tls message {i}");
        tls.write_all(format!("{} {msg}", msg.len()).as_bytes())
            .await
            .unwrap();
    }
    tls.shutdown().await.unwrap();
    let ev = h.wait_events(3).await;
    assert_eq!(ev[2].message.as_deref(), Some("tls message 2"));
    assert_eq!(ev[2].host.as_deref(), Some("gw"));
    assert_eq!(ev[2].program.as_deref(), Some("sudo"));
    assert!(ev[2].source.starts_with("syslog:tls:s@127.0.0.1:"));

    // A plain-text client on the TLS port fails the handshake, counted.
    let mut plain = tokio::net::TcpStream::connect(h.addr("s")).await.unwrap();
    plain.write_all(b"<13>not tls\n").await.unwrap();
    h.wait_metrics("s", |s| s.errors == 1).await;
    h.shutdown().await;
}

#[tokio::test]
async fn bad_certificate_paths_fail_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SyslogListenerConfig::new("s", Protocol::Tls, "127.0.0.1:0");
    cfg.tls_cert = Some(dir.path().join("missing.pem"));
    cfg.tls_key = Some(dir.path().join("missing.key"));
    let store = vigil_store::Store::open_sqlite_memory().await.unwrap();
    store.migrate(&[]).await.unwrap();
    let (handle, p) = vigil_pipeline::Pipeline::start(
        store,
        Arc::new(vigil_model::FieldRegistry::new()),
        Vec::new(),
        Arc::new(vigil_model::SystemClock),
        vigil_pipeline::PipelineConfig::default(),
        Arc::new(vigil_pipeline::Metrics::default()),
    )
    .await
    .unwrap();
    let err = vigil_listeners::Listeners::start(
        &[cfg],
        handle,
        Arc::new(vigil_model::SystemClock),
        vigil_listeners::ListenerMetrics::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot read tls_cert"), "{err}");
    p.shutdown().await.unwrap();
}

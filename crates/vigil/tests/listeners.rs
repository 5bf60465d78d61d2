//! `vigil serve` with syslog listeners from the configuration file: events
//! sent over UDP and TCP arrive, `/metrics` carries per-listener counters,
//! `vigil listeners status` shows them, `vigil config show` shows the
//! listener configuration, and SIGTERM stops cleanly.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Server, client, vigil};

fn free_port() -> u16 {
    let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = t.local_addr().unwrap().port();
    // The UDP listener takes the same number; make sure it is free too.
    std::net::UdpSocket::bind(("127.0.0.1", p)).unwrap();
    p
}

#[tokio::test]
async fn serve_with_udp_and_tcp_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("vigil.toml");
    std::fs::write(
        &config,
        format!(
            "[[listeners.syslog]]\nname = \"udp\"\nprotocol = \"udp\"\nlisten = \"127.0.0.1:{port}\"\n\n\
             [[listeners.syslog]]\nname = \"tcp\"\nprotocol = \"tcp\"\nlisten = \"127.0.0.1:{port}\"\nframing = \"auto\"\n\n\
             [[listeners.syslog]]\nname = \"off\"\nprotocol = \"udp\"\nlisten = \"127.0.0.1:1\"\nenabled = false\n"
        ),
    )
    .unwrap();
    let server = Server::start(dir.path(), Some(&config));
    let token = server.token.clone().unwrap();

    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(b"<13>Nov 27 10:00:00 h1 app: over udp", ("127.0.0.1", port))
        .unwrap();
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.write_all(b"<13>1 2026-11-27T10:00:00Z h2 app - - - one\n14 <13>x y z: two")
        .unwrap();
    drop(tcp);

    let http = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let m = http
            .get(server.url("/metrics"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if m.contains("vigil_listener_parsed_total{listener=\"tcp\",protocol=\"tcp\"} 2")
            && m.contains("vigil_listener_parsed_total{listener=\"udp\",protocol=\"udp\"} 1")
        {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "listener counters never arrived:\n{m}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        metrics.contains("vigil_events_ingested_total 3"),
        "{metrics}"
    );
    assert!(metrics.contains("vigil_listener_dropped_total{listener=\"udp\",protocol=\"udp\"} 0"));

    let cfg = config.to_str().unwrap();
    let (code, out, err) = vigil(
        dir.path(),
        &[
            "--config",
            cfg,
            "listeners",
            "status",
            "--token",
            &token,
            "--url",
            &server.url(""),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["name"], "udp");
    assert_eq!(rows[0]["counters"]["received"], 1);
    assert_eq!(rows[0]["kernel_drops"], 0);
    assert_eq!(rows[1]["counters"]["parsed"], 2);
    assert_eq!(rows[2]["enabled"], false);

    let (code, out, _) = vigil(dir.path(), &["--config", cfg, "listeners", "status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("NAME") && out.contains("tcp") && out.contains('-'),
        "{out}"
    );

    let (code, out, _) = vigil(dir.path(), &["--config", cfg, "config", "show"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("[[listeners.syslog]]") && out.contains("max_connections = 1000"),
        "{out}"
    );

    server.stop();
}

#[test]
fn serve_refuses_to_start_when_a_listener_cannot_bind() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let config = dir.path().join("vigil.toml");
    std::fs::write(
        &config,
        format!("[[listeners.syslog]]\nname = \"tcp\"\nprotocol = \"tcp\"\nlisten = \"{addr}\"\n"),
    )
    .unwrap();
    let (code, _, err) = vigil(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot start the listeners")
            && err.contains(&format!("cannot listen on {addr}")),
        "{err}"
    );
}

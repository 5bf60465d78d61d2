//! Quick loopback throughput check (not a CI test): a listener in front of
//! a real pipeline on a temporary SQLite store, fed by in-process clients.
//!
//! `cargo run --release -p vigil-listeners --example loopback -- tcp 1000000 4`
//! `cargo run --release -p vigil-listeners --example loopback -- udp 200000`
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use vigil_listeners::{ListenerMetrics, Listeners, Protocol, SyslogListenerConfig};
use vigil_model::{FieldRegistry, SystemClock};
use vigil_pipeline::{Metrics, Pipeline, PipelineConfig};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let proto = args.get(1).map_or("tcp", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let conns: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(4);
    let dir = tempfile::tempdir().unwrap();
    let store = vigil_store::Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    store.migrate(&[]).await.unwrap();
    let (handle, pipeline) = Pipeline::start(
        store.clone(),
        Arc::new(FieldRegistry::new()),
        Vec::new(),
        Arc::new(SystemClock),
        PipelineConfig::default(),
        Arc::new(Metrics::default()),
    )
    .await
    .unwrap();
    let protocol = if proto == "udp" {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let cfg = SyslogListenerConfig::new("bench", protocol, "127.0.0.1:0");
    let metrics = ListenerMetrics::default();
    let listeners = Listeners::start(&[cfg], handle, Arc::new(SystemClock), metrics.clone())
        .await
        .unwrap();
    let addr = listeners.bound()[0].addr;
    let line = |c: usize, i: usize| {
        format!(
            "<38>1 2026-11-27T10:00:00.000Z web-{c} sshd 4242 - - Accepted publickey for user{i} from 10.0.{}.{} port 50000 ssh2\n",
            i % 250,
            c
        )
    };
    let t0 = Instant::now();
    if protocol == Protocol::Tcp {
        let mut tasks = Vec::new();
        for c in 0..conns {
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                let mut buf = Vec::with_capacity(1 << 20);
                for i in (c..n).step_by(conns) {
                    buf.extend_from_slice(line(c, i).as_bytes());
                    if buf.len() > 1 << 19 {
                        s.write_all(&buf).await.unwrap();
                        buf.clear();
                    }
                }
                s.write_all(&buf).await.unwrap();
                s.shutdown().await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    } else {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..n {
            let _ = sock.send_to(line(0, i).as_bytes(), addr);
        }
    }
    let sent = t0.elapsed();
    // Wait until everything received is committed (and, for TCP, all sent).
    let mut last = (0, Instant::now());
    loop {
        let s = metrics.snapshot("bench", protocol.as_str());
        let done = s.parsed + s.rejected + s.dropped;
        if (protocol == Protocol::Tcp && s.parsed as usize >= n)
            || (protocol == Protocol::Udp
                && done == s.received
                && s.queue_depth == 0
                && last.1.elapsed() > Duration::from_millis(500))
        {
            break;
        }
        if s.received != last.0 {
            last = (s.received, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total = t0.elapsed();
    let total = if protocol == Protocol::Udp {
        total.saturating_sub(Duration::from_millis(500))
    } else {
        total
    };
    let s = metrics.snapshot("bench", protocol.as_str());
    let kernel = vigil_listeners::kernel_udp_drops(addr);
    listeners.shutdown().await;
    pipeline.shutdown().await.unwrap();
    let stored = store.count_events(None).await.unwrap();
    println!(
        "{proto}: sent {n} in {:.2}s; committed {stored} in {:.2}s = {:.0} events/s; received {} parsed {} rejected {} dropped {} kernel drops {:?}",
        sent.as_secs_f64(),
        total.as_secs_f64(),
        stored as f64 / total.as_secs_f64(),
        s.received,
        s.parsed,
        s.rejected,
        s.dropped,
        kernel
    );
}

//! A real pipeline on a tempdir SQLite store with listeners in front, and
//! helpers to read back what was stored.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use vigil_ingest::{ParseOptions, reparse};
use vigil_listeners::{ListenerMetrics, Listeners, Snapshot, SyslogListenerConfig};
use vigil_model::{Clock, FieldId, FieldRegistry, SystemClock, Timestamp};
use vigil_pipeline::{Metrics, Pipeline, PipelineConfig, PipelineHandle};
use vigil_store::Store;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub pipeline: Option<(PipelineHandle, Pipeline)>,
    pub listeners: Option<Listeners>,
    pub metrics: ListenerMetrics,
    pub registry: Arc<FieldRegistry>,
    pub configs: Vec<SyslogListenerConfig>,
}

/// One stored event, re-parsed from its raw bytes.
#[derive(Debug, Clone)]
pub struct Stored {
    pub source: String,
    pub host: Option<String>,
    pub time: Option<Timestamp>,
    pub received_at: Timestamp,
    pub program: Option<String>,
    pub appname: Option<String>,
    pub message: Option<String>,
}

impl Harness {
    pub async fn start(configs: Vec<SyslogListenerConfig>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("vigil.db"))
            .await
            .unwrap();
        store.migrate(&[]).await.unwrap();
        let registry = Arc::new(FieldRegistry::new());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let (handle, pipeline) = Pipeline::start(
            store.clone(),
            registry.clone(),
            Vec::new(),
            clock.clone(),
            PipelineConfig::default(),
            Arc::new(Metrics::default()),
        )
        .await
        .unwrap();
        let metrics = ListenerMetrics::default();
        let listeners = Listeners::start(&configs, handle.clone(), clock, metrics.clone())
            .await
            .unwrap();
        Harness {
            dir,
            store,
            pipeline: Some((handle, pipeline)),
            listeners: Some(listeners),
            metrics,
            registry,
            configs,
        }
    }

    pub fn addr(&self, name: &str) -> SocketAddr {
        self.listeners
            .as_ref()
            .unwrap()
            .bound()
            .iter()
            .find(|b| b.name == name)
            .unwrap()
            .addr
    }

    pub fn snapshot(&self, name: &str) -> Snapshot {
        let c = self.configs.iter().find(|c| c.name == name).unwrap();
        self.metrics.snapshot(name, c.protocol.as_str())
    }

    /// Waits (bounded) until at least `n` events are stored.
    pub async fn wait_events(&self, n: u64) -> Vec<Stored> {
        for _ in 0..1000 {
            if self.store.count_events(None).await.unwrap() >= n {
                return self.events().await;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "only {} of {n} events stored",
            self.store.count_events(None).await.unwrap()
        );
    }

    /// Waits (bounded) until `pred` holds for the listener's counters.
    pub async fn wait_metrics(&self, name: &str, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
        for _ in 0..1000 {
            let s = self.snapshot(name);
            if pred(&s) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("metrics of {name} never matched: {:?}", self.snapshot(name));
    }

    pub async fn events(&self) -> Vec<Stored> {
        let rows = self.store.events_after(0, 100_000).await.unwrap();
        rows.into_iter()
            .map(|r| {
                let opts = ParseOptions::new(r.tenant, r.source.clone(), r.received_at);
                let ev = reparse(r.format.parse().unwrap(), &r.raw, &self.registry, &opts).unwrap();
                let s = |f| ev.get_str(f).map(str::to_owned);
                Stored {
                    source: r.source,
                    host: r.host,
                    time: r.time,
                    received_at: r.received_at,
                    program: s(FieldId::PROCESS_NAME),
                    appname: s(FieldId::LOG_SYSLOG_APPNAME),
                    message: s(FieldId::MESSAGE),
                }
            })
            .collect()
    }

    /// Listeners first (flushing their batches), then the pipeline.
    pub async fn shutdown(&mut self) {
        if let Some(l) = self.listeners.take() {
            l.shutdown().await;
        }
        if let Some((_, p)) = self.pipeline.take() {
            p.shutdown().await.unwrap();
        }
    }
}

/// True when `bin` is on PATH. Missing: outside CI the caller skips (with
/// a message); under CI=true a missing tool is a failure.
pub fn have(bin: &str, package: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{bin} is not installed (package {package}); CI must provide it"
        );
        eprintln!("skipped: {bin} not installed");
    }
    found
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

//! Pipeline tests on a real SQLite store: commit, detect, recover, reload,
//! timers, drain on shutdown.

use std::sync::Arc;
use std::time::Duration;

use vigil_ingest::{InputFormat, ParseOptions};
use vigil_model::{
    Alert, DetectCtx, DetectError, Detector, Event, FieldRegistry, FixedClock, Severity, TenantId,
    Timestamp,
};
use vigil_store::{AlertQuery, Store};

use crate::{
    CountDetector, MatchDetector, MatchOp, MatchRule, Metrics, Pipeline, PipelineConfig,
    PipelineHandle,
};

fn events(reg: &FieldRegistry, from: usize, n: usize) -> Vec<Event> {
    let mut text = String::new();
    for i in from..from + n {
        let user = if i.is_multiple_of(10) {
            "root"
        } else {
            "alice"
        };
        text.push_str(&format!(
            "{{\"n\":{i},\"user\":{{\"name\":\"{user}\"}},\"host\":\"h1\"}}\n"
        ));
    }
    let opts = ParseOptions {
        tenant: TenantId::DEFAULT,
        source: "test".into(),
        received_at: Timestamp::from_secs(1_700_000_000),
        max_event_bytes: 1 << 20,
    };
    let b = vigil_ingest::parse_lines(text.as_bytes(), InputFormat::Json, reg, &opts, 1);
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    b.events
}

fn root_rule() -> MatchRule {
    MatchRule {
        id: "root-user".into(),
        title: "Root activity".into(),
        severity: Severity::High,
        field: "user.name".into(),
        op: MatchOp::Equals,
        value: Some("ROOT".into()),
        tags: vec!["test".into()],
    }
}

async fn store(dir: &tempfile::TempDir) -> Store {
    let s = Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    s.migrate(&[]).await.unwrap();
    s
}

async fn start(
    store: &Store,
    reg: &Arc<FieldRegistry>,
    detectors: Vec<Box<dyn Detector>>,
) -> (PipelineHandle, Pipeline) {
    let clock = Arc::new(FixedClock::new(Timestamp::from_secs(1_700_000_100)));
    let cfg = PipelineConfig {
        write_max_events: 700,
        recover_chunk: 333,
        timer_interval: Duration::from_millis(20),
        ..PipelineConfig::default()
    };
    Pipeline::start(
        store.clone(),
        reg.clone(),
        detectors,
        clock,
        cfg,
        Arc::new(Metrics::default()),
    )
    .await
    .unwrap()
}

async fn wait_detected(h: &PipelineHandle, seq: i64) {
    for _ in 0..1000 {
        if h.status().detected_seq >= seq {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("detection did not reach seq {seq}: {:?}", h.status());
}

async fn count_state(store: &Store) -> u64 {
    let s = store
        .load_detector_state("detect", CountDetector::ID)
        .await
        .unwrap()
        .unwrap();
    CountDetector::decode(&s).unwrap()
}

#[tokio::test]
async fn submitted_events_are_committed_detected_and_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let reg = Arc::new(FieldRegistry::new());
    let m = MatchDetector::new(vec![root_rule()], &reg).unwrap();
    let (h, p) = start(
        &store,
        &reg,
        vec![Box::new(m), Box::new(CountDetector::default())],
    )
    .await;
    let mut last = 0;
    for k in 0..5 {
        let c = h.submit(events(&reg, k * 200, 200)).await.unwrap();
        assert_eq!(c.count, 200);
        assert_eq!(c.last_seq - c.first_seq, 199);
        last = c.last_seq;
    }
    wait_detected(&h, last).await;
    p.shutdown().await.unwrap();
    assert_eq!(store.count_events(None).await.unwrap(), 1000);
    let alerts = store
        .list_alerts(&AlertQuery {
            limit: 1000,
            ..AlertQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.len(), 100, "every 10th event is root");
    let a: &Alert = &alerts[0];
    assert_eq!(a.rule_id, "root-user");
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.entities.user.as_deref(), Some("root"));
    assert_eq!(a.entities.host.as_deref(), Some("h1"));
    assert_eq!(count_state(&store).await, 1000);
    assert_eq!(store.checkpoint("detect").await.unwrap(), last);
}

#[tokio::test]
async fn committed_but_unevaluated_events_are_evaluated_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let reg = Arc::new(FieldRegistry::new());
    // Run 1: 300 events evaluated normally.
    let (h, p) = start(&store, &reg, vec![Box::new(CountDetector::default())]).await;
    let c = h.submit(events(&reg, 0, 300)).await.unwrap();
    wait_detected(&h, c.last_seq).await;
    p.shutdown().await.unwrap();
    // A crash between commit and detection: 1,000 events reach the log only.
    let mut evs = events(&reg, 300, 1000);
    store.append_events(&mut evs).await.unwrap();
    // Run 2 catches up from the log, restoring the count from its snapshot.
    let reg2 = Arc::new(FieldRegistry::new());
    let m = MatchDetector::new(vec![root_rule()], &reg2).unwrap();
    let (h, p) = start(
        &store,
        &reg2,
        vec![Box::new(CountDetector::default()), Box::new(m)],
    )
    .await;
    let c = h.submit(events(&reg2, 1300, 50)).await.unwrap();
    wait_detected(&h, c.last_seq).await;
    p.shutdown().await.unwrap();
    assert_eq!(
        count_state(&store).await,
        1350,
        "each event counted exactly once"
    );
    let alerts = store.count_alerts(None).await.unwrap();
    assert_eq!(alerts, 105, "root events among the recovered and new ones");
}

#[tokio::test]
async fn shutdown_drains_everything_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let reg = Arc::new(FieldRegistry::new());
    let (h, p) = start(&store, &reg, vec![Box::new(CountDetector::default())]).await;
    let mut tasks = Vec::new();
    for k in 0..8 {
        let h = h.clone();
        let evs = events(&reg, k * 100, 100);
        tasks.push(tokio::spawn(async move { h.submit(evs).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    p.shutdown().await.unwrap();
    assert!(matches!(
        h.submit(events(&reg, 0, 1)).await,
        Err(crate::Error::ShuttingDown)
    ));
    assert_eq!(count_state(&store).await, 800);
}

/// Raises one alert when its deadline passes, without any new event.
#[derive(Debug, Default)]
struct WindowDetector {
    deadline: Option<Timestamp>,
    seen: u64,
}

impl Detector for WindowDetector {
    fn id(&self) -> &str {
        "window"
    }
    fn on_event(&mut self, _ev: &Event, ctx: &mut DetectCtx<'_>) {
        self.seen += 1;
        self.deadline.get_or_insert(ctx.now.add_micros(1));
    }
    fn next_deadline(&self) -> Option<Timestamp> {
        self.deadline
    }
    fn on_timer(&mut self, now: Timestamp, ctx: &mut DetectCtx<'_>) {
        self.deadline = None;
        ctx.raise(Alert {
            id: vigil_model::AlertId::derive("window", "w", &now.as_micros().to_string()),
            tenant: TenantId::DEFAULT,
            detector: "window".into(),
            rule_id: "w".into(),
            title: format!("window closed after {} events", self.seen),
            severity: Severity::Low,
            created_at: now,
            event_time: now,
            event_id: None,
            entities: Default::default(),
            tags: vec![],
            details: serde_json::Value::Null,
            event: serde_json::Value::Null,
        });
    }
    fn snapshot(&self) -> Result<Option<Vec<u8>>, DetectError> {
        Ok(Some(self.seen.to_string().into_bytes()))
    }
    fn restore(&mut self, state: &[u8]) -> Result<(), DetectError> {
        self.seen = CountDetector::decode(state).unwrap_or(0);
        Ok(())
    }
}

#[tokio::test]
async fn timers_fire_without_new_events_and_reload_keeps_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let reg = Arc::new(FieldRegistry::new());
    let clock = Arc::new(FixedClock::new(Timestamp::from_secs(1_700_000_100)));
    let cfg = PipelineConfig {
        timer_interval: Duration::from_millis(10),
        ..PipelineConfig::default()
    };
    let (h, p) = Pipeline::start(
        store.clone(),
        reg.clone(),
        vec![Box::new(WindowDetector::default())],
        clock.clone(),
        cfg,
        Arc::new(Metrics::default()),
    )
    .await
    .unwrap();
    let c = h.submit(events(&reg, 0, 3)).await.unwrap();
    wait_detected(&h, c.last_seq).await;
    assert_eq!(store.count_alerts(None).await.unwrap(), 0);
    clock.advance_micros(10);
    for _ in 0..500 {
        if store.count_alerts(None).await.unwrap() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let alerts = store.list_alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].title, "window closed after 3 events");
    // Hot reload: the new instance continues from the old one's state.
    h.reload(vec![Box::new(WindowDetector::default())])
        .await
        .unwrap();
    let c = h.submit(events(&reg, 3, 2)).await.unwrap();
    wait_detected(&h, c.last_seq).await;
    p.shutdown().await.unwrap();
    let st = store
        .load_detector_state("detect", "window")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(CountDetector::decode(&st), Some(5));
}

#[test]
fn match_rules_need_values_and_unique_ids() {
    let reg = FieldRegistry::new();
    let mut r = root_rule();
    r.value = None;
    assert!(
        MatchDetector::new(vec![r], &reg)
            .unwrap_err()
            .contains("value")
    );
    assert!(
        MatchDetector::new(vec![root_rule(), root_rule()], &reg)
            .unwrap_err()
            .contains("duplicate")
    );
}

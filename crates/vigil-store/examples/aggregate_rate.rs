//! Alerts/s through `commit_detections` on SQLite with aggregation off
//! (the baseline) and on (1 h window, 500 distinct rule × entity keys, so
//! most alerts fold into an open one), measured in the same run; then the
//! related-alerts entity index catching up with the baseline's change feed
//! (alerts/s indexed, outside the commit). Used by `bench/respond.sh`.
//!
//!   cargo run --release -p vigil-store --example aggregate_rate [ALERTS]

use std::time::Instant;

use vigil_model::{Alert, AlertId, Entities, Severity, TenantId, Timestamp};
use vigil_store::{DetectionCommit, Store};

fn alert(n: usize) -> Alert {
    let key = n % 500;
    Alert {
        id: AlertId::derive("sigma", "bench", &n.to_string()),
        tenant: TenantId::DEFAULT,
        detector: "sigma".into(),
        rule_id: format!("rule-{}", key % 50),
        title: "bench".into(),
        severity: Severity::High,
        created_at: Timestamp::from_secs(1_800_000_000 + n as i64 / 100),
        event_time: Timestamp::from_secs(1_800_000_000 + n as i64 / 100),
        event_id: None,
        entities: Entities {
            host: Some(format!("host-{}", key / 50)),
            source_ip: Some(format!("198.51.100.{}", key % 250)),
            ..Entities::default()
        },
        tags: vec!["attack.t1110".into()],
        details: serde_json::json!({"n": n}),
        event: serde_json::json!({"message": "x".repeat(200)}),
    }
}

async fn run(
    alerts: &[Alert],
    window_secs: i64,
) -> Result<(f64, usize, f64), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open_sqlite(&dir.path().join("vigil.db")).await?;
    store.migrate(vigil_store::RESPOND_MIGRATIONS).await?;
    store.set_alert_aggregation(window_secs * 1_000_000);
    let t0 = Instant::now();
    for (i, chunk) in alerts.chunks(500).enumerate() {
        store
            .commit_detections(&DetectionCommit {
                consumer: "bench",
                upto_seq: i as i64,
                alerts: chunk,
                effects: &[],
                states: &[],
                at: Timestamp::from_secs(1_800_000_000),
            })
            .await?;
    }
    let secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    store
        .catch_up_alert_entities(Timestamp::from_secs(1_800_000_000))
        .await?;
    let index_secs = t1.elapsed().as_secs_f64();
    let opened = store
        .list_alerts(&vigil_store::AlertQuery {
            limit: 1000,
            ..Default::default()
        })
        .await?
        .len();
    store.close().await;
    Ok((secs, opened, index_secs))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000);
    let alerts: Vec<Alert> = (0..n).map(alert).collect();
    let (off, opened_off, index) = run(&alerts, 0).await?;
    let (on, opened_on, _) = run(&alerts, 3600).await?;
    println!("alerts:                      {n}");
    println!(
        "aggregation off (baseline):  {:.0} alerts/s ({off:.2} s, {opened_off}+ opened)",
        n as f64 / off
    );
    println!(
        "aggregation on (1 h window): {:.0} alerts/s ({on:.2} s, {opened_on} opened)",
        n as f64 / on
    );
    println!("ratio on/off:                {:.2}", off / on);
    println!(
        "entity index catch-up:       {:.0} alerts/s ({index:.2} s, after the baseline)",
        n as f64 / index
    );
    Ok(())
}

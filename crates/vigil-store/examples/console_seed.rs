//! Seeds a data directory for the console benchmark (`bench/console.sh`):
//! ALERTS alerts over the last 24 hours (5 severities, 50 rules, a tenth of
//! them triaged), INCIDENTS incidents (a third with regulatory flags, each
//! linked to one alert, with tasks and timeline notes), INDICATORS
//! indicators from five feeds (a fifth of them expired) and an admin user.
//! Prints the id of the middle alert (`alert: …`) for the alert page.
//!
//!   cargo run --release -p vigil-store --example console_seed DATA_DIR [ALERTS] [INCIDENTS] [PASSWORD] [INDICATORS]

use vigil_model::{
    Alert, AlertId, Clock, Entities, Principal, Role, Severity, SystemClock, TenantId, Timestamp,
};
use vigil_store::{DetectionCommit, IndicatorRecord, NewIncident, Store};

fn indicator(n: usize, now: Timestamp) -> IndicatorRecord {
    let feed = format!("bench-feed-{}", n % 5);
    IndicatorRecord {
        kind: "ipv4".into(),
        value: format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
        confidence: 50 + (n % 50) as u8,
        tlp: Some("TLP:AMBER".into()),
        valid_from: None,
        valid_until: Some(
            now.add_micros(if n.is_multiple_of(5) { -1 } else { 1 } * 86_400_000_000),
        ),
        labels: vec!["bench".into()],
        techniques: vec![],
        related: vec![],
        markings: vec![],
        kill_chain: serde_json::json!([]),
        provenance: serde_json::json!([{"feed": feed, "object_id": format!("indicator--{n}")}]),
        first_seen: None,
        last_seen: None,
        feed_sightings: 0,
        sightings: 0,
        last_sighting: None,
        created_at: now,
        updated_at: now,
    }
}

fn alert(n: usize, now: Timestamp) -> Alert {
    let created = now.add_micros(-((n as i64) * 86_000_000_000 / 100_000) - 1_000_000);
    Alert {
        id: AlertId::derive("sigma", "console-bench", &n.to_string()),
        tenant: TenantId::DEFAULT,
        detector: "sigma".into(),
        rule_id: format!("bench-rule-{}", n % 50),
        title: format!("Suspicious activity {} on host-{}", n % 50, n % 997),
        severity: Severity::ALL[n % 5],
        created_at: created,
        event_time: created,
        event_id: None,
        entities: Entities {
            host: Some(format!("host-{}", n % 997)),
            user: Some(format!("user-{}", n % 101)),
            source_ip: Some(format!(
                "10.{}.{}.{}",
                (n >> 16) & 255,
                (n >> 8) & 255,
                n & 255
            )),
            ..Entities::default()
        },
        tags: vec!["attack.t1110".into()],
        details: serde_json::json!({"process.command_line": format!("cmd.exe /c whoami {n}"), "count": n % 7}),
        event: serde_json::json!({"event.original": format!("<38>1 bench sshd - - - event {n} {}", "x".repeat(200))}),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(
        args.next()
            .ok_or("usage: console_seed DATA_DIR [ALERTS] [INCIDENTS] [PASSWORD]")?,
    );
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let incidents: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let password = args.next().unwrap_or_else(|| "bench password 1234".into());
    let indicators: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    std::fs::create_dir_all(&dir)?;
    let store = Store::open_sqlite(&dir.join("vigil.db")).await?;
    let mut m = Vec::new();
    for block in [
        vigil_store::SIGMA_MIGRATIONS,
        vigil_store::INTEL_MIGRATIONS,
        vigil_store::INTEL_OPS_MIGRATIONS,
        vigil_store::TAXII_MIGRATIONS,
        vigil_store::VULN_MIGRATIONS,
        vigil_store::RESPOND_MIGRATIONS,
        vigil_store::CONSOLE_MIGRATIONS,
    ] {
        m.extend_from_slice(block);
    }
    store.migrate(&m).await?;
    let now = SystemClock.now();
    let by = Principal::system("bench");
    let t0 = std::time::Instant::now();
    let all: Vec<Alert> = (0..n).map(|i| alert(i, now)).collect();
    for (i, chunk) in all.chunks(5000).enumerate() {
        store
            .commit_detections(&DetectionCommit {
                consumer: "bench-seed",
                upto_seq: i as i64,
                alerts: chunk,
                effects: &[],
                states: &[],
                at: now,
            })
            .await?;
    }
    for a in all.iter().step_by(10) {
        store
            .triage_alert(
                TenantId::DEFAULT,
                a.id,
                "acknowledged",
                None,
                None,
                &by,
                now,
            )
            .await?;
    }
    println!("alerts: {n} in {:.1} s", t0.elapsed().as_secs_f64());
    if let Some(a) = all.get(n / 2) {
        println!("alert: {}", a.id);
    }
    let t0 = std::time::Instant::now();
    for i in 0..incidents {
        let inc = store
            .create_incident(
                TenantId::DEFAULT,
                &NewIncident {
                    title: format!("Bench incident {i}"),
                    description: "seeded".into(),
                    severity: None,
                    category: Some("intrusion".into()),
                    tags: vec![],
                    flags: if i % 3 == 0 {
                        vec!["personal_data".into()]
                    } else {
                        vec![]
                    },
                    assignee: None,
                    alerts: vec![all[(i * 37 + 5) % n].id],
                    origin_key: None,
                },
                &by,
                now,
            )
            .await?;
        for t in 0..3 {
            store
                .add_task(
                    TenantId::DEFAULT,
                    &inc.id,
                    &format!("task {t}"),
                    "",
                    None,
                    &by,
                    now,
                )
                .await?;
        }
    }
    println!(
        "incidents: {incidents} in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let t0 = std::time::Instant::now();
    let inds: Vec<IndicatorRecord> = (0..indicators).map(|i| indicator(i, now)).collect();
    for chunk in inds.chunks(5000) {
        store
            .upsert_indicators(TenantId::DEFAULT, chunk, now)
            .await?;
    }
    println!(
        "indicators: {indicators} in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    if store.find_user("bench").await?.is_none() {
        store
            .create_user(TenantId::DEFAULT, "bench", Role::Admin, &password, &by, now)
            .await?;
    }
    store.close().await;
    Ok(())
}

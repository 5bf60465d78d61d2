//! Response engine hot paths: matching one alert against 100 alert-trigger
//! playbooks (alerts/s through triggering) and driving a 20-step run with
//! no network (steps/s, i.e. per-step latency of the state machine with
//! its serialisation to JSON between steps, as the runner persists it).

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use vigil_model::{Alert, AlertId, Entities, Severity, TenantId, Timestamp};
use vigil_respond::playbook::run::{self, Next, Outcome};
use vigil_respond::playbook::{self, Playbook, Templates, Trigger};

fn playbooks() -> Vec<Playbook> {
    (0..100)
        .map(|i| {
            let condition = if i % 5 == 0 {
                "\n    condition: \"alert.details.count >= 3\"".to_string()
            } else {
                String::new()
            };
            let text = format!(
                "id: pb-{i}\nname: pb {i}\ntrigger:\n  alert:\n    rules: [\"rule-{}-*\"]\n    min_level: {}\n    tags: [\"attack.t1{:03}*\"]{condition}\nsteps:\n  - id: s\n    set: {{x: 1}}\n",
                i % 10,
                ["low", "medium", "high"][i % 3],
                i % 7
            );
            playbook::parse("bench", &text).unwrap()
        })
        .collect()
}

fn alert(n: usize) -> Alert {
    Alert {
        id: AlertId::derive("sigma", "rule", &n.to_string()),
        tenant: TenantId::DEFAULT,
        detector: "sigma".into(),
        rule_id: format!("rule-{}-ssh", n % 10),
        title: "t".into(),
        severity: Severity::High,
        created_at: Timestamp::from_secs(1),
        event_time: Timestamp::from_secs(1),
        event_id: None,
        entities: Entities {
            source_ip: Some("198.51.100.7".into()),
            ..Entities::default()
        },
        tags: vec![format!("attack.t1{:03}.001", n % 7)],
        details: json!({"count": n % 5}),
        event: serde_json::Value::Null,
    }
}

const STEPS: &str = r#"id: long
name: Long
trigger: {manual: {}}
steps:
  - id: a
    set: {ip: "198.51.100.7", n: 3}
  - id: b
    if:
      condition: "vars.n > 2"
      then:
        - id: c
          create_incident: {title: "Attack from {{ vars.ip }}"}
  - id: d
    for_each:
      items: "[1, 2, 3, 4, 5]"
      steps:
        - id: e
          add_note: {text: "item {{ item }}"}
  - id: f
    http:
      url: https://hooks.example.com/x
      body: {ip: "{{ vars.ip }}", incident: "{{ incident_id }}"}
  - id: g
    blocklist: {kind: ip, value: "{{ vars.ip }}", ttl: 24h, reason: bench}
  - id: h
    set: {done: true}
"#;

fn bench(c: &mut Criterion) {
    let t = Templates::new();
    let pbs = playbooks();
    let alerts: Vec<Alert> = (0..64).map(alert).collect();
    let mut g = c.benchmark_group("respond");
    g.throughput(Throughput::Elements(alerts.len() as u64));
    g.bench_function("trigger_100_playbooks", |b| {
        b.iter(|| {
            let mut fired = 0usize;
            for a in &alerts {
                for pb in &pbs {
                    if let Trigger::Alert(tr) = &pb.trigger
                        && playbook::matches_alert(tr, a, &t).unwrap()
                    {
                        fired += 1;
                    }
                }
            }
            fired
        })
    });

    let pb = playbook::parse("bench", STEPS).unwrap();
    // Steps executed per run: a, b, c, d, 5×e, f, g, h = 12 (plus the
    // control steps the engine walks through on its own).
    g.throughput(Throughput::Elements(12));
    g.bench_function("drive_run_persisting_between_steps", |b| {
        b.iter(|| {
            let now = Timestamp::from_secs(1);
            let mut st = run::start(&pb, "r", "manual", json!({}), json!(null), now);
            loop {
                let next = run::next(&pb, &t, &mut st, now).unwrap();
                // The runner saves the state before and after each effect.
                let saved = serde_json::to_vec(&st).unwrap();
                st = serde_json::from_slice(&saved).unwrap();
                match next {
                    Next::Execute(_) => {
                        run::complete(&pb, &mut st, Outcome::Ok(json!({"id": "INC-1"})), now)
                            .unwrap();
                        let saved = serde_json::to_vec(&st).unwrap();
                        st = serde_json::from_slice(&saved).unwrap();
                    }
                    Next::Done(_) => break,
                    other => panic!("{other:?}"),
                }
                st.drain_log();
            }
            st
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

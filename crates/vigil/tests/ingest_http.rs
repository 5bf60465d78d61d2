//! Acceptance: 100,000 NDJSON events posted over HTTP in batches with 1,000
//! malformed lines mixed in end as exactly 100,000 stored events and 1,000
//! reported rejects, while /healthz (polled every 100 ms) always answers 200
//! within 5 s. The CLI then lists the alerts the pipeline raised.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Server, client, vigil};

const EVENTS: usize = 100_000;
const BAD: usize = 1_000;
const BATCHES: usize = 50;

fn body(batch: usize) -> (String, usize, usize) {
    let per = EVENTS / BATCHES;
    let bad_per = BAD / BATCHES;
    let mut s = String::new();
    let mut good = 0;
    let mut bad = 0;
    for i in 0..per {
        let n = batch * per + i;
        let user = if n.is_multiple_of(1000) {
            "root"
        } else {
            "svc"
        };
        s.push_str(&format!(
            "{{\"@timestamp\":\"2026-11-27T10:00:00Z\",\"n\":{n},\"host\":{{\"name\":\"web-{}\"}},\"user\":{{\"name\":\"{user}\"}},\"process\":{{\"command_line\":\"/usr/bin/curl http://example.org/{n}\"}}}}\n",
            n % 7
        ));
        good += 1;
        if i % (per / bad_per) == 0 && bad < bad_per {
            s.push_str(if bad % 2 == 0 {
                "{\"broken\": \n"
            } else {
                "not json at all\n"
            });
            bad += 1;
        }
    }
    (s, good, bad)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_events_with_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        "[[detect.rules]]\nid = \"root-user\"\ntitle = \"Activity as root\"\nseverity = \"high\"\nfield = \"user.name\"\nvalue = \"root\"\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), Some(&cfg));
    let token = server.token.clone().expect("bootstrap admin token printed");
    let http = client();

    // Health poller: every 100 ms, each answer 200 within 5 s.
    let stop = Arc::new(AtomicBool::new(false));
    let health = {
        let stop = stop.clone();
        let url = server.url("/healthz");
        tokio::spawn(async move {
            let c = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut polls = 0u32;
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let r = c
                    .get(&url)
                    .send()
                    .await
                    .expect("healthz answered within 5 s");
                assert_eq!(r.status(), 200);
                worst = worst.max(t0.elapsed());
                polls += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (polls, worst)
        })
    };

    let t0 = Instant::now();
    let mut accepted = 0u64;
    let mut rejected = 0u64;
    let mut sent_bad = 0;
    for b in 0..BATCHES {
        let (text, good, bad) = body(b);
        sent_bad += bad;
        let r = http
            .post(server.url("/api/v1/ingest"))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(text)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "batch {b}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["accepted"], good as u64, "batch {b}: {v}");
        assert_eq!(v["rejected"], bad as u64, "batch {b}: {v}");
        let first = &v["errors"][0];
        assert!(
            first["line"].as_u64().unwrap() >= 1 && first["reason"].is_string(),
            "{v}"
        );
        accepted += v["accepted"].as_u64().unwrap();
        rejected += v["rejected"].as_u64().unwrap();
    }
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(sent_bad, BAD);
    assert_eq!(accepted, EVENTS as u64);
    assert_eq!(rejected, BAD as u64);
    eprintln!(
        "ingested {accepted} events over HTTP in {secs:.2} s ({:.0} events/s)",
        accepted as f64 / secs
    );

    // Alerts appear once detection has caught up: one per root event.
    let mut alerts = 0;
    for _ in 0..300 {
        let r = http
            .get(server.url("/api/v1/alerts?limit=1000"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        alerts = v["items"].as_array().unwrap().len();
        if alerts == EVENTS / 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(alerts, EVENTS / 1000);

    let metrics = http
        .get(server.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vigil_events_ingested_total 100000"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vigil_events_rejected_total 1000"),
        "{metrics}"
    );

    stop.store(true, Ordering::Relaxed);
    let (polls, worst) = health.await.unwrap();
    eprintln!("healthz: {polls} polls, slowest {worst:?}");
    assert!(polls > 0);
    server.stop();

    // Exactly 100,000 events stored, visible to the CLI after a clean stop.
    let (code, out, err) = vigil(
        dir.path(),
        &["alerts", "list", "--format", "json", "--limit", "1000"],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), EVENTS / 1000);
    assert_eq!(v[0]["rule_id"], "root-user");
    assert_eq!(v[0]["user"], "root");
    let (code, out, _) = vigil(dir.path(), &["alerts", "list", "--limit", "3"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("TIME"), "{out}");
    assert_eq!(out.lines().count(), 4);

    let store = vigil_store::Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    assert_eq!(store.count_events(None).await.unwrap(), EVENTS as u64);
}

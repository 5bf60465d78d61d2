//! Acceptance: `kill -9` of the server during ingest. After a restart every
//! batch answered 2xx is fully present, no batch is half-present, and events
//! committed but not evaluated before the kill are evaluated: the `count`
//! detector has counted each stored event exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, client};
use vigil_pipeline::CountDetector;

const PER_BATCH: usize = 2_000;
const POSTERS: usize = 4;

fn batch_body(b: usize) -> String {
    let mut s = String::with_capacity(PER_BATCH * 120);
    for i in 0..PER_BATCH {
        s.push_str(&format!(
            "{{\"batch\":{b},\"i\":{i},\"user\":{{\"name\":\"u{i}\"}},\"message\":\"crash test event {b}/{i}\"}}\n"
        ));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_loses_no_acknowledged_batch_and_detects_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vigil.toml");
    std::fs::write(&cfg, "[detect]\ncount_events = true\n").unwrap();
    let server = Server::start(dir.path(), Some(&cfg));
    let token = server.token.clone().unwrap();
    let url = server.url("/api/v1/ingest");

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut posters = Vec::new();
    for _ in 0..POSTERS {
        let (acked, next, url, token) = (acked.clone(), next.clone(), url.clone(), token.clone());
        posters.push(tokio::spawn(async move {
            let http = client();
            loop {
                let b = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .body(batch_body(b))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let v: serde_json::Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => return,
                        };
                        assert_eq!(v["accepted"], PER_BATCH as u64);
                        acked.lock().unwrap().insert(b);
                    }
                    _ => return, // the server died mid-request: never answered
                }
            }
        }));
    }
    // Let a good number of batches through, then pull the plug mid-flight.
    for _ in 0..600 {
        if acked.lock().unwrap().len() >= 15 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    for p in posters {
        p.await.unwrap();
    }
    let acked: BTreeSet<usize> = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 15,
        "only {} batches acknowledged before the kill",
        acked.len()
    );

    // Restart: recovery evaluates what was committed but not evaluated;
    // a clean stop then drains everything.
    let server = Server::start(dir.path(), Some(&cfg));
    assert!(server.token.is_none(), "tokens survived the crash");
    server.stop();

    let store = vigil_store::Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    let mut per_batch: BTreeMap<u64, usize> = BTreeMap::new();
    let mut after = 0;
    let mut total = 0u64;
    loop {
        let rows = store.events_after(after, 10_000).await.unwrap();
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in &rows {
            let v: serde_json::Value = serde_json::from_slice(&r.raw).unwrap();
            *per_batch.entry(v["batch"].as_u64().unwrap()).or_default() += 1;
            total += 1;
        }
    }
    for b in &acked {
        assert_eq!(
            per_batch.get(&(*b as u64)),
            Some(&PER_BATCH),
            "acknowledged batch {b} incomplete"
        );
    }
    for (b, n) in &per_batch {
        assert_eq!(*n, PER_BATCH, "batch {b} is half-present");
    }
    eprintln!(
        "{} batches acknowledged, {} stored ({} stored but never answered), {total} events",
        acked.len(),
        per_batch.len(),
        per_batch.len() - acked.len()
    );
    assert_eq!(store.count_events(None).await.unwrap(), total);
    let state = store
        .load_detector_state("detect", CountDetector::ID)
        .await
        .unwrap()
        .expect("count state");
    assert_eq!(
        CountDetector::decode(&state),
        Some(total),
        "every stored event evaluated exactly once"
    );
    assert_eq!(
        store.checkpoint("detect").await.unwrap(),
        store.max_event_seq().await.unwrap()
    );
}

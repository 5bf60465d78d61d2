//! Rough throughput of `Store::append_events` on SQLite: 500-event batches of
//! ~300-byte raw JSON into a fresh file (WAL, `synchronous=FULL`).
//!
//! `cargo run --release -p vigil-store --example append_rate [batches] [dir]`

use std::time::Instant;

use vigil_model::{EventBuilder, EventFormat, TenantId, Timestamp};
use vigil_store::Store;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let batches: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let dir = match args.next() {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("vigil-append-rate-{}", std::process::id())),
    };
    let path = dir.join("vigil.db");
    let store = Store::open_sqlite(&path).await?;
    store.migrate(&[]).await?;
    let make = |b: usize| {
        (0..500)
            .map(|i| {
                let n = b * 500 + i;
                let raw = format!(
                    "{{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"host\":\"web-{}\",\"user\":\"u{}\",\"msg\":\"{}\"}}",
                    n % 50,
                    n % 1000,
                    "x".repeat(220)
                );
                let mut e = EventBuilder::new(
                    TenantId::DEFAULT,
                    Timestamp::from_micros(1_714_564_800_000_000 + n as i64),
                    "bench",
                    EventFormat::Json,
                    raw.into_bytes(),
                );
                e.set_host(&format!("web-{}", n % 50));
                e.build()
            })
            .collect::<Vec<_>>()
    };
    let mut prepared: Vec<_> = (0..batches).map(make).collect();
    let raw_bytes: usize = prepared.iter().flatten().map(|e| e.raw.len()).sum();
    let start = Instant::now();
    for batch in &mut prepared {
        store.append_events(batch).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = batches * 500;
    println!(
        "{n} events in {batches} batches of 500 ({:.0} B raw avg): {secs:.2} s, {:.0} events/s, {:.1} ms/batch",
        raw_bytes as f64 / n as f64,
        n as f64 / secs,
        secs * 1000.0 / batches as f64
    );
    assert_eq!(store.count_events(None).await?, n as u64);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

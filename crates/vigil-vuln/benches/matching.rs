//! Matching and import benchmarks: 100,000 OSV records derived from the real
//! ones in `$VIGIL_TESTDATA/osv` (default `../shared/data` beside the repo)
//! with a fixed seed, and a 5,000-component SBOM drawn from their packages.
//!
//! `cargo bench -p vigil-vuln --bench matching`; the figures for the issue
//! are the `osv_import` and `match_sbom` throughputs and the printed peak RSS.
#![allow(clippy::unwrap_used, missing_docs)] // a benchmark may unwrap

use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_vuln::osv::{OsvDatabase, OsvRecord, parse_json};

mod synth;
use synth::{Rng, SEED, peak_rss_kib, real_records, sbom, synthetic, thread_cpu_secs};

fn bench(c: &mut Criterion) {
    let (t, cpu) = (Instant::now(), thread_cpu_secs());
    let real = real_records();
    let real_db = OsvDatabase::new(real.clone());
    let (real_wall, real_cpu) = (t.elapsed(), thread_cpu_secs() - cpu);
    println!(
        "real data: read + parse (JSON and YAML) + index {} files in {real_wall:.2?} wall / {real_cpu:.2} s CPU = {:.0} records/s (CPU), {} entries",
        real.len(),
        real.len() as f64 / real_cpu.max(0.01),
        real_db.stats().entries
    );
    drop(real_db);
    let records = synthetic(&real);
    let json: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let mut rng = Rng(SEED);
    let components = sbom(&records, &mut rng);

    // one-shot figures for the report
    let (t, cpu) = (Instant::now(), thread_cpu_secs());
    let parsed: Vec<OsvRecord> = json.iter().flat_map(|j| parse_json(j).unwrap()).collect();
    let db = OsvDatabase::new(parsed);
    let (import, import_cpu) = (t.elapsed(), thread_cpu_secs() - cpu);
    let (t, cpu) = (Instant::now(), thread_cpu_secs());
    let findings = db.match_components(&components);
    let (matching, matching_cpu) = (t.elapsed(), thread_cpu_secs() - cpu);
    println!(
        "one-shot: import {} records (JSON parse + index) in {:.2?} wall / {import_cpu:.2} s CPU = {:.0} records/s (CPU); matched {} components in {:.2?} wall / {matching_cpu:.2} s CPU = {:.0} components/s (CPU), {} findings; {} real records seeded; peak RSS {} MiB",
        json.len(),
        import,
        json.len() as f64 / import_cpu.max(0.01),
        components.len(),
        matching,
        components.len() as f64 / matching_cpu.max(0.01),
        findings.len(),
        real.len(),
        peak_rss_kib().unwrap_or(0) / 1024
    );

    let mut g = c.benchmark_group("osv_import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(json.len() as u64));
    g.bench_function("parse_json_and_index_100k", |b| {
        b.iter(|| OsvDatabase::new(json.iter().flat_map(|j| parse_json(j).unwrap()).collect()))
    });
    g.finish();

    let mut g = c.benchmark_group("match_sbom");
    g.sample_size(20);
    g.throughput(Throughput::Elements(components.len() as u64));
    g.bench_function("5k_components_vs_100k_records", |b| {
        b.iter(|| db.match_components(&components))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

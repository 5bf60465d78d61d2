//! One-shot vulnerability-matching figures for `bench/vuln.sh` (issue #6's
//! acceptance): OSV import of the real records in `$VIGIL_TESTDATA/osv`
//! (read + parse JSON/YAML + index) and of 100,000 synthetic records
//! derived from them with a fixed seed (JSON parse + index); matching a
//! 5,000-component SBOM against all real records and against the 100,000
//! (median of `RUNS` runs, one thread); peak RSS. CPU time of the measuring
//! thread is printed beside wall time because the machine is shared.
//!
//! `--write DIR` also writes the synthetic records (`DIR/osv/*.json`) and
//! the SBOM (`DIR/sbom.cdx.json`, CycloneDX 1.5) for the end-to-end runs
//! of the `vigil` binary that `bench/vuln.sh` times.
//!
//! `cargo run --release -p vigil-vuln --example vuln_bench [-- --write DIR]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark may unwrap

use std::path::PathBuf;
use std::time::{Duration, Instant};

use vigil_vuln::Component;
use vigil_vuln::osv::{OsvDatabase, OsvRecord, parse_json};

#[path = "../benches/synth/mod.rs"]
mod synth;
use synth::{Rng, SEED, peak_rss_kib, real_records, sbom, synthetic, thread_cpu_secs};

/// Wall and thread CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, f64) {
    let (t, cpu) = (Instant::now(), thread_cpu_secs());
    let out = f();
    (out, t.elapsed(), thread_cpu_secs() - cpu)
}

/// Median wall and CPU of `runs` matchings; the finding count.
fn match_runs(db: &OsvDatabase, comps: &[Component], runs: usize) -> (usize, Duration, f64) {
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut n = 0;
    for _ in 0..runs {
        let (f, w, c) = timed(|| db.match_components(comps));
        n = f.len();
        walls.push(w);
        cpus.push(c);
    }
    walls.sort();
    cpus.sort_by(f64::total_cmp);
    (n, walls[runs / 2], cpus[runs / 2])
}

fn cyclonedx(comps: &[Component]) -> String {
    let list: Vec<serde_json::Value> = comps
        .iter()
        .map(|c| {
            serde_json::json!({
                "type": "library",
                "name": c.name,
                "version": c.version,
                "purl": c.key(),
            })
        })
        .collect();
    serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": list,
    })
    .to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average (1 5 15 min): {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // Real data: read + parse + index.
    let (real, w, c) = timed(real_records);
    let (real_db, w2, c2) = timed(|| OsvDatabase::new(real.clone()));
    println!(
        "osv import (real, {} records from {}): read+parse {w:.2?} wall / {c:.2} s CPU, index {w2:.2?} wall / {c2:.2} s CPU; {:.0} records/s (CPU); {} index entries, {} withdrawn",
        real.len(),
        synth::data_root().join("osv").display(),
        real.len() as f64 / (c + c2).max(0.001),
        real_db.stats().entries,
        real_db.stats().withdrawn,
    );

    // Synthetic 100k: JSON parse + index.
    let records = synthetic(&real);
    let json: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let mut rng = Rng(SEED);
    let comps = sbom(&records, &mut rng);
    let mut rng = Rng(SEED ^ 1);
    let real_comps = sbom(&real, &mut rng);
    let (db, w, c) = timed(|| {
        let parsed: Vec<OsvRecord> = json.iter().flat_map(|j| parse_json(j).unwrap()).collect();
        OsvDatabase::new(parsed)
    });
    println!(
        "osv import (synthetic, {} records, seed {SEED:#x}): JSON parse + index {w:.2?} wall / {c:.2} s CPU = {:.0} records/s (CPU); {} index entries",
        json.len(),
        json.len() as f64 / c.max(0.001),
        db.stats().entries
    );

    // Matching.
    let (n, w, c) = match_runs(&real_db, &real_comps, runs);
    println!(
        "match (real records): {} components vs {} records, median of {runs}: {w:.2?} wall / {c:.3} s CPU = {:.0} components/s (CPU); {n} findings",
        real_comps.len(),
        real.len(),
        real_comps.len() as f64 / c.max(0.0001)
    );
    let (n, w, c) = match_runs(&db, &comps, runs);
    println!(
        "match (target): {} components vs {} records, median of {runs}: {w:.2?} wall / {c:.3} s CPU = {:.0} components/s (CPU); {n} findings; target < 1 s on one core: {}",
        comps.len(),
        json.len(),
        comps.len() as f64 / c.max(0.0001),
        if c < 1.0 { "met" } else { "MISSED" }
    );
    println!(
        "peak RSS: {} MiB (whole process: real + synthetic records, their JSON, both indexes)",
        peak_rss_kib().unwrap_or(0) / 1024
    );

    if let Some(dir) = write {
        let osv = dir.join("osv");
        std::fs::create_dir_all(&osv).unwrap();
        for (r, j) in records.iter().zip(&json) {
            std::fs::write(osv.join(format!("{}.json", r.id)), j).unwrap();
        }
        std::fs::write(dir.join("sbom.cdx.json"), cyclonedx(&comps)).unwrap();
        println!(
            "wrote {} records to {} and the SBOM to {}",
            json.len(),
            osv.display(),
            dir.join("sbom.cdx.json").display()
        );
    }
}

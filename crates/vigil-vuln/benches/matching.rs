//! Matching and import benchmarks: 100,000 OSV records derived from the real
//! ones in `$VIGIL_TESTDATA/osv` (default `../shared/data` beside the repo)
//! with a fixed seed, and a 5,000-component SBOM drawn from their packages.
//!
//! `cargo bench -p vigil-vuln --bench matching`; the figures for the issue
//! are the `osv_import` and `match_sbom` throughputs and the printed peak RSS.
#![allow(clippy::unwrap_used, missing_docs)] // a benchmark may unwrap

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_vuln::osv::{OsvDatabase, OsvRecord, parse_json, parse_yaml};
use vigil_vuln::{Component, Ecosystem};

const RECORDS: usize = 100_000;
const COMPONENTS: usize = 5_000;
const SEED: u64 = 0x5eed_1234_abcd_0001;

/// xorshift64*: a fixed-seed generator without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn real_records() -> Vec<OsvRecord> {
    let root = std::env::var_os("VIGIL_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let mut paths = Vec::new();
    files(&root.join("osv"), &mut paths);
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        match p.extension().and_then(|e| e.to_str()) {
            Some("json") if !p.to_string_lossy().contains("schema") => {
                out.extend(parse_json(&text).unwrap_or_default())
            }
            Some("yaml") => out.extend(parse_yaml(&text).ok()),
            _ => {}
        }
    }
    assert!(
        !out.is_empty(),
        "no OSV records under {}; set VIGIL_TESTDATA",
        root.display()
    );
    out
}

/// Copies of the real records with new ids, aliases and (after the first
/// copy) package names, so the index grows like a real 100k database.
fn synthetic(real: &[OsvRecord]) -> Vec<OsvRecord> {
    let mut out = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let copy = i / real.len();
        let mut r = real[i % real.len()].clone();
        r.id = format!("SYN-{i}");
        r.aliases = r.aliases.iter().map(|a| format!("{a}-S{copy}")).collect();
        if copy > 0 {
            for a in &mut r.affected {
                if let Some(p) = &mut a.package {
                    p.name = format!("{}-syn{copy}", p.name);
                }
            }
        }
        out.push(r);
    }
    out
}

/// Components drawn from the records' packages, versions from their events
/// and version lists (so a fair share is affected).
fn sbom(records: &[OsvRecord], rng: &mut Rng) -> Vec<Component> {
    let mut out = Vec::with_capacity(COMPONENTS);
    while out.len() < COMPONENTS {
        let r = &records[rng.below(records.len())];
        let Some(a) = r.affected.first() else {
            continue;
        };
        let Some(p) = &a.package else { continue };
        let Ok((eco, _)) = Ecosystem::parse_osv(&p.ecosystem) else {
            continue;
        };
        let mut candidates: Vec<&str> = a.versions.iter().map(String::as_str).collect();
        for range in &a.ranges {
            for e in &range.events {
                candidates.extend(
                    e.fixed
                        .as_deref()
                        .into_iter()
                        .chain(e.introduced.as_deref())
                        .filter(|v| *v != "0"),
                );
            }
        }
        if candidates.is_empty() {
            continue;
        }
        let v = candidates[rng.below(candidates.len())];
        let v = if eco == Ecosystem::Go && !v.starts_with('v') {
            format!("v{v}")
        } else {
            v.to_owned()
        };
        out.push(Component::new(eco, &p.name, Some(&v)));
    }
    out
}

/// CPU time of this thread (utime + stime) in seconds, from procfs: the
/// machine is shared, so wall time alone overstates the cost.
fn thread_cpu_secs() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    let Some(rest) = s.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

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

//! Shared by the criterion bench (`benches/matching.rs`) and the one-shot
//! report (`examples/vuln_bench.rs`, which includes this file by path): 100,000 OSV records derived from the
//! real ones with a fixed seed, a 5,000-component SBOM drawn from them,
//! CPU-time and peak-RSS readings from procfs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use vigil_vuln::osv::{OsvRecord, parse_json, parse_yaml};
use vigil_vuln::{Component, Ecosystem};

pub const RECORDS: usize = 100_000;
pub const COMPONENTS: usize = 5_000;
pub const SEED: u64 = 0x5eed_1234_abcd_0001;

/// xorshift64*: a fixed-seed generator without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
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

pub fn data_root() -> PathBuf {
    std::env::var_os("VIGIL_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

pub fn real_records() -> Vec<OsvRecord> {
    let root = data_root();
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
pub fn synthetic(real: &[OsvRecord]) -> Vec<OsvRecord> {
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
pub fn sbom(records: &[OsvRecord], rng: &mut Rng) -> Vec<Component> {
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
pub fn thread_cpu_secs() -> f64 {
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

pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

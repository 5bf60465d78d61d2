//! Rule load + compile, phase by phase (read, parse, compile), with CPU
//! time and peak RSS after each phase: the figures behind `bench/sigma.sh`
//! (a). Not a test; no thresholds.
//!
//! `cargo run --release -p vigil-sigma --example load_rules -- [--runs 5] RULE_DIR...`

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use vigil_model::FieldRegistry;
use vigil_sigma::{Config, RuleSet, parse_file};

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else if p
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml"))
    {
        out.push(p.to_path_buf());
    }
}

/// CPU seconds of this process (user + system).
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// Peak RSS so far, MiB.
fn hwm() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let mut runs = 1usize;
    let mut dirs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().unwrap().parse().unwrap(),
            p => dirs.push(PathBuf::from(p)),
        }
    }
    for run in 0..runs {
        let (w0, c0) = (Instant::now(), cpu());
        let mut files = Vec::new();
        for d in &dirs {
            walk(d, &mut files);
        }
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
            .collect();
        let (w1, c1, m1) = (Instant::now(), cpu(), hwm());
        let mut docs = Vec::new();
        let mut errors = 0;
        for (p, t) in &texts {
            let path: Arc<str> = Arc::from(p.as_str());
            for d in parse_file(&path, t) {
                match d {
                    Ok(d) => docs.push((path.clone(), d)),
                    Err(_) => errors += 1,
                }
            }
        }
        let (w2, c2, m2) = (Instant::now(), cpu(), hwm());
        let registry = FieldRegistry::new();
        let (set, errs) = RuleSet::compile(docs, &registry, &Config::default());
        let (w3, c3, m3) = (Instant::now(), cpu(), hwm());
        let s = set.stats();
        println!(
            "run {}: {} files, {} rules ({} gated), {} patterns in {} automata, {} errors; \
             read {:.3}s/{:.2}cpu ({m1:.0} MiB), parse {:.3}s/{:.2}cpu ({m2:.0} MiB), \
             compile {:.3}s/{:.2}cpu ({m3:.0} MiB); total {:.3} s wall, {:.2} s CPU",
            run + 1,
            files.len(),
            s.rules,
            s.gated_rules,
            s.patterns,
            s.automata,
            errors + errs.len(),
            (w1 - w0).as_secs_f64(),
            c1 - c0,
            (w2 - w1).as_secs_f64(),
            c2 - c1,
            (w3 - w2).as_secs_f64(),
            c3 - c2,
            (w3 - w0).as_secs_f64(),
            c3 - c0,
        );
    }
}

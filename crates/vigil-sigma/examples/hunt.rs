//! Minimal hunt over EVTX files: `cargo run --release --example hunt --
//! RULES_DIR EVTX_PATH...`. Prints load time, parse and evaluation time
//! separately, and the detections per rule (top 20).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use vigil_model::FieldRegistry;
use vigil_sigma::{Config, RuleSet, evtx::event_from_evtx_json};

fn walk(p: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, ext, out);
        }
    } else if p.extension().is_some_and(|x| x == ext) {
        out.push(p.to_path_buf());
    }
}

/// CPU seconds (user + system) of this process so far, from
/// `/proc/self/stat` (Linux; 0 elsewhere). The machine may be shared, so
/// CPU time is reported beside wall time.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: hunt RULES_DIR EVTX_PATH...");
        std::process::exit(2);
    }
    let mut rule_files = Vec::new();
    walk(Path::new(&args[0]), "yml", &mut rule_files);
    let sources: Vec<(String, String)> = rule_files
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    let reg = FieldRegistry::new();
    let (t, c) = (Instant::now(), cpu_secs());
    let (set, errors) = RuleSet::load(
        sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &reg,
        &Config::default(),
    );
    let (load, load_cpu) = (t.elapsed(), cpu_secs() - c);
    for e in &errors {
        eprintln!("{e}");
    }
    let mut files = Vec::new();
    for a in &args[1..] {
        walk(Path::new(a), "evtx", &mut files);
    }
    let (t, c) = (Instant::now(), cpu_secs());
    let mut events = Vec::new();
    for f in &files {
        let Ok(mut p) = evtx::EvtxParser::from_path(f) else {
            continue;
        };
        for r in p.records_json_value().flatten() {
            events.push(event_from_evtx_json(&r.data, &reg, "evtx", Vec::new()));
        }
    }
    let (parse, parse_cpu) = (t.elapsed(), cpu_secs() - c);
    // REPEAT=N evaluates the corpus N times (for profiling); figures are
    // per pass.
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (t, c) = (Instant::now(), cpu_secs());
    let mut counts = vec![0usize; set.rules().len()];
    let mut ev = set.evaluator();
    let mut out = Vec::new();
    for pass in 0..repeat {
        for e in &events {
            out.clear();
            ev.evaluate(e, &mut out);
            if pass == 0 {
                for v in &out {
                    counts[v.rule] += 1;
                }
            }
        }
    }
    let (eval, eval_cpu) = (
        t.elapsed() / repeat as u32,
        (cpu_secs() - c) / repeat as f64,
    );
    let total: usize = counts.iter().sum();
    println!(
        "rules {} (rejected {}), patterns {}, load {:.3}s (cpu {:.2}s); files {}, events {}, parse {:.3}s (cpu {:.2}s); eval {:.3}s (cpu {:.2}s, {:.0} events per cpu-second); detections {}",
        set.rules().len(),
        errors.len(),
        set.pattern_count(),
        load.as_secs_f64(),
        load_cpu,
        files.len(),
        events.len(),
        parse.as_secs_f64(),
        parse_cpu,
        eval.as_secs_f64(),
        eval_cpu,
        events.len() as f64 / eval_cpu.max(0.01),
        total
    );
    let mut top: Vec<(usize, usize)> = counts
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| *c > 0)
        .collect();
    top.sort_by_key(|x| std::cmp::Reverse(x.1));
    println!("rules that fired: {}", top.len());
    for (i, c) in top.iter().take(20) {
        let r = &set.rules()[*i].rule;
        println!(
            "{c:6}  {}  {}",
            r.meta.level.map(|l| l.to_string()).unwrap_or_default(),
            r.meta.title
        );
    }
}

//! The EVTX parse floor for `bench/sigma.sh`: the `evtx` crate turning every
//! record of the given files into JSON (`serde_json::Value`, what `vigil
//! hunt` parses) in-process on N threads, files spread over the threads as
//! `vigil hunt` does. The corpus is read into memory once, then parsed
//! repeatedly until a run lasts at least `--min-secs`; per run it reports
//! the wall and CPU time of one corpus pass; the median of `--runs` runs is
//! printed last.
//!
//! `cargo run --release -p vigil-sigma --example parse_floor -- [--threads 2]
//! [--min-secs 5] [--runs 5] [--dump-ndjson FILE] EVTX_PATH...`
//!
//! `--dump-ndjson FILE` also writes every record once, flattened to SigmaHQ
//! field names (`vigil_sigma::evtx`), one JSON object per line: the
//! identical input for streaming comparisons with other engines.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use vigil_model::FieldRegistry;
use vigil_sigma::evtx::event_from_evtx_json;

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
        .is_some_and(|x| x.eq_ignore_ascii_case("evtx"))
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

/// One pass over the corpus on `threads` threads; returns the records.
fn pass(corpus: &[Vec<u8>], threads: usize) -> usize {
    let next = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut n = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(bytes) = corpus.get(i) else { break };
                    let Ok(p) = evtx::EvtxParser::from_buffer(bytes.clone()) else {
                        continue;
                    };
                    let mut p = p.with_configuration(
                        evtx::ParserSettings::new().num_threads(1).indent(false),
                    );
                    n += p.records_json_value().flatten().count();
                }
                total.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    total.into_inner()
}

fn main() {
    let mut threads = 2usize;
    let mut min_secs = 5.0f64;
    let mut runs = 5usize;
    let mut dump: Option<PathBuf> = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().unwrap().parse().unwrap(),
            "--min-secs" => min_secs = args.next().unwrap().parse().unwrap(),
            "--runs" => runs = args.next().unwrap().parse().unwrap(),
            "--dump-ndjson" => dump = Some(PathBuf::from(args.next().unwrap())),
            p => walk(Path::new(p), &mut files),
        }
    }
    // Largest first, as vigil hunt schedules them.
    let mut corpus: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    corpus.sort_by_key(|b| std::cmp::Reverse(b.len()));
    let bytes: usize = corpus.iter().map(Vec::len).sum();

    if let Some(path) = dump {
        let reg = FieldRegistry::new();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut n = 0;
        for b in &corpus {
            let Ok(mut p) = evtx::EvtxParser::from_buffer(b.clone()) else {
                continue;
            };
            for r in p.records_json_value().flatten() {
                let ev = event_from_evtx_json(&r.data, &reg, "floor", Vec::new());
                serde_json::to_writer(&mut out, &ev.fields_json(&reg)).unwrap();
                out.write_all(b"\n").unwrap();
                n += 1;
            }
        }
        out.flush().unwrap();
        eprintln!("wrote {n} flattened events to {}", path.display());
    }

    let mut per_pass: Vec<(f64, f64)> = Vec::new();
    let mut records = 0;
    for run in 0..runs {
        let (w0, c0) = (Instant::now(), cpu());
        let mut passes = 0;
        while w0.elapsed().as_secs_f64() < min_secs || passes == 0 {
            records = pass(&corpus, threads);
            passes += 1;
        }
        let wall = w0.elapsed().as_secs_f64() / passes as f64;
        let cpu_s = (cpu() - c0) / passes as f64;
        eprintln!(
            "run {}: {passes} passes, per pass {wall:.3} s wall, {cpu_s:.3} s CPU",
            run + 1
        );
        per_pass.push((wall, cpu_s));
    }
    per_pass.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (wall, cpu_s) = per_pass[per_pass.len() / 2];
    println!(
        "floor: files {} ({:.1} MB), records {records}, threads {threads}; median per pass: {wall:.3} s wall, {cpu_s:.3} s CPU ({:.0} records/s wall)",
        corpus.len(),
        bytes as f64 / 1e6,
        records as f64 / wall
    );
}

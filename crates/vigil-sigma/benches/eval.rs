//! Evaluation with all SigmaHQ rules loaded over EVTX-derived events
//! (`$VIGIL_TESTDATA/sigma/rules` × `$VIGIL_TESTDATA/evtx`), plus rule
//! load + compile. Skips cleanly when `VIGIL_TESTDATA` is unset.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_model::FieldRegistry;
use vigil_sigma::{Config, RuleSet, evtx::event_from_evtx_json};

fn walk(p: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            walk(&e.path(), ext, out);
        }
    } else if p.extension().is_some_and(|x| x == ext) {
        out.push(p.to_path_buf());
    }
}

fn bench(c: &mut Criterion) {
    let Some(data) = std::env::var_os("VIGIL_TESTDATA").map(PathBuf::from) else {
        println!("skipped: VIGIL_TESTDATA not set");
        return;
    };
    let mut rule_files = Vec::new();
    walk(&data.join("sigma/rules"), "yml", &mut rule_files);
    let sources: Vec<(String, String)> = rule_files
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    let mut g = c.benchmark_group("sigma");
    g.sample_size(10);
    g.throughput(Throughput::Elements(sources.len() as u64));
    g.bench_function("load_compile_all_rules", |b| {
        b.iter(|| {
            let reg = FieldRegistry::new();
            RuleSet::load(
                sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
                &reg,
                &Config::default(),
            )
        })
    });
    let reg = FieldRegistry::new();
    let (set, _) = RuleSet::load(
        sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &reg,
        &Config::default(),
    );
    let mut files = Vec::new();
    walk(&data.join("evtx"), "evtx", &mut files);
    let mut events = Vec::new();
    for f in &files {
        let Ok(mut p) = evtx::EvtxParser::from_path(f) else {
            continue;
        };
        for r in p.records_json_value().flatten() {
            events.push(event_from_evtx_json(&r.data, &reg, "evtx", Vec::new()));
        }
    }
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("evaluate_evtx_corpus", |b| {
        let mut ev = set.evaluator();
        let mut out = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for e in &events {
                out.clear();
                ev.evaluate(e, &mut out);
                n += out.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Parse + ECS-normalise throughput on real data from `$VIGIL_TESTDATA`:
//! NDJSON built from the EVTX-derived Sigma regression events, and loghub
//! syslog files; plus the CEF and LEEF fixture corpus of `tests/fixtures`
//! repeated. Skips (and says so) when `VIGIL_TESTDATA` is unset.
//!
//! `cargo bench -p vigil-ingest --bench parse`

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use vigil_ingest::{InputFormat, ParseOptions, parse_lines};
use vigil_model::{FieldRegistry, TenantId, Timestamp};

fn testdata() -> Option<PathBuf> {
    std::env::var_os("VIGIL_TESTDATA").map(PathBuf::from)
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// One compact JSON document per line, from files that may hold several
/// pretty-printed documents back to back.
fn evtx_ndjson(root: &Path) -> Vec<u8> {
    let mut files = Vec::new();
    json_files(&root.join("sigma/regression"), &mut files);
    let mut out = Vec::new();
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        for doc in serde_json::Deserializer::from_slice(&bytes).into_iter::<serde_json::Value>() {
            let Ok(doc) = doc else { break };
            if let Ok(line) = serde_json::to_vec(&doc) {
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let Some(root) = testdata() else {
        eprintln!("skipped: VIGIL_TESTDATA not set");
        return;
    };
    let opts = ParseOptions::new(
        TenantId::DEFAULT,
        "bench",
        Timestamp::from_secs(1_764_000_000),
    );
    let mut inputs: Vec<(&str, InputFormat, Vec<u8>)> =
        vec![("evtx_ndjson", InputFormat::Json, evtx_ndjson(&root))];
    for name in ["Linux", "OpenSSH"] {
        if let Ok(b) = std::fs::read(root.join(format!("logs/loghub/{name}/{name}_2k.log"))) {
            inputs.push((name, InputFormat::Syslog, b));
        }
    }
    let cef = [
        &include_bytes!("../tests/fixtures/cef/arcsight_spec.log")[..],
        include_bytes!("../tests/fixtures/cef/vendors.log"),
        include_bytes!("../tests/fixtures/cef/syslog_wrapped.log"),
    ]
    .concat()
    .repeat(500);
    inputs.push(("cef", InputFormat::Auto, cef));
    let leef = [
        &include_bytes!("../tests/fixtures/leef/leef1.log")[..],
        include_bytes!("../tests/fixtures/leef/leef2.log"),
    ]
    .concat()
    .repeat(500);
    inputs.push(("leef", InputFormat::Leef, leef));
    let mut group = c.benchmark_group("parse_normalise");
    for (name, format, data) in &inputs {
        let registry = FieldRegistry::new();
        let probe = parse_lines(data, *format, &registry, &opts, 1);
        if probe.events.is_empty() {
            eprintln!("skipped {name}: no events");
            continue;
        }
        for unit in ["events", "bytes"] {
            let tp = match unit {
                "events" => Throughput::Elements(probe.events.len() as u64),
                _ => Throughput::Bytes(data.len() as u64),
            };
            group.throughput(tp);
            group.bench_with_input(BenchmarkId::new(*name, unit), data, |b, data| {
                b.iter(|| parse_lines(data, *format, &registry, &opts, 1));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

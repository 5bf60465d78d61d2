//! Threat-intel benchmark (issue #5 acceptance; run by `bench/intel.sh`):
//! 1,000,000 indicators of mixed types, then matching throughput on real
//! events.
//!
//! 1. Load: the 1M (type, raw value) pairs are normalised into
//!    `Indicator`s, merged into an `IndicatorSet` (what `vigil serve` does
//!    with the stored rows) and indexed (`MatchIndex::build`). Wall and CPU
//!    time of each step.
//! 2. Memory: the match index alone, built from the normalised values with
//!    nothing else allocated meanwhile — RSS delta (`/proc/self/statm`) and
//!    the index's own heap accounting, per indicator; then what `vigil
//!    serve`'s detector keeps — the index plus the compact per-indicator
//!    contexts — built from indicators streamed in pages as serve reads
//!    them from the store. (Full records live in the store.)
//! 3. Matching: EVTX files (`$DATA/evtx`, via the `evtx` crate and the
//!    Sigma evtx mapping, as `vigil hunt` reads them) and syslog lines
//!    (`$DATA/logs/loghub/{OpenSSH,Linux}`, parsed and sshd-enriched as the
//!    listeners do) are parsed first; then the `Matcher` runs over them on
//!    one thread, the corpus repeated until a run lasts `MIN_SECS`. Every
//!    observable the matcher extracts is one lookup; figures are lookups
//!    per CPU second of the matching thread (the machine is shared).
//!
//! `cargo run --release -p vigil --example intel_bench -- DATA_DIR [MIN_SECS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use vigil_intel::detector::IntelDetectorBuilder;
use vigil_intel::{Indicator, IndicatorId, IndicatorSet, IndicatorType, MatchIndex, Matcher};
use vigil_model::{Event, FieldId, FieldRegistry, TenantId, Timestamp};

const N: usize = 1_000_000;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(n);
        s
    }
    fn word(&mut self) -> String {
        let len = 5 + (self.next() % 8) as usize;
        (0..len)
            .map(|_| (b'a' + (self.next() % 26) as u8) as char)
            .collect()
    }
}

/// `n` (type, raw value) pairs: 25% IPv4, 3% IPv4 CIDR, 2% IPv6, 20%
/// domains, 15% URLs, 20% SHA-256, 7% MD5, 5% SHA-1, 3% file names.
fn synthetic(n: usize) -> Vec<(IndicatorType, String)> {
    use IndicatorType as T;
    let mut r = Rng(0x5eed);
    (0..n)
        .map(|_| match r.next() % 100 {
            0..25 => (
                T::Ipv4,
                std::net::Ipv4Addr::from(r.next() as u32).to_string(),
            ),
            25..28 => {
                let a = std::net::Ipv4Addr::from(r.next() as u32 & 0xffff_ff00);
                (T::Ipv4Cidr, format!("{a}/24"))
            }
            28..30 => (
                T::Ipv6,
                std::net::Ipv6Addr::from(u128::from(r.next()) << 64 | u128::from(r.next()))
                    .to_string(),
            ),
            30..50 => (T::Domain, format!("{}.{}.com", r.word(), r.word())),
            50..65 => (
                T::Url,
                format!("http://{}.net/{}/{}.php", r.word(), r.word(), r.word()),
            ),
            65..85 => (T::Sha256, r.hex(64)),
            85..92 => (T::Md5, r.hex(32)),
            92..97 => (T::Sha1, r.hex(40)),
            _ => (T::FileName, format!("{}.exe", r.word())),
        })
        .collect()
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |p| p * 4096)
}

/// CPU seconds of this thread (utime + stime, 100 ticks/s).
fn thread_cpu() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return f64::NAN;
    };
    let Some(i) = s.rfind(')') else {
        return f64::NAN;
    };
    let f: Vec<&str> = s[i + 2..].split_whitespace().collect();
    let t = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

fn evtx_events(dir: &Path, reg: &FieldRegistry) -> (Vec<Event>, usize) {
    let mut paths = Vec::new();
    files(dir, "evtx", &mut paths);
    let mut out = Vec::new();
    for p in &paths {
        let Ok(parser) = evtx::EvtxParser::from_path(p) else {
            continue;
        };
        let mut parser =
            parser.with_configuration(evtx::ParserSettings::new().num_threads(1).indent(false));
        for rec in parser.records_json_value().flatten() {
            out.push(vigil_sigma::evtx::event_from_evtx_json(
                &rec.data,
                reg,
                "bench",
                Vec::new(),
            ));
        }
    }
    (out, paths.len())
}

fn syslog_events(dirs: &[PathBuf], reg: &FieldRegistry) -> Vec<Event> {
    let opts = vigil_ingest::ParseOptions::new(
        TenantId::DEFAULT,
        "bench",
        Timestamp::from_secs(1_700_000_000),
    );
    let mut out = Vec::new();
    for d in dirs {
        let mut paths = Vec::new();
        files(d, "log", &mut paths);
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for line in text.lines() {
                // loghub lines lack the <PRI>; add one so they parse as
                // RFC 3164 like a listener receives them.
                let line = format!("<38>{line}");
                if let Ok(ev) = vigil_ingest::parse_syslog_record(line.as_bytes(), reg, &opts) {
                    let ev = if ev.get(FieldId::LOG_SYSLOG_APPNAME).is_some() {
                        vigil_sigma::linux::enrich_syslog_event(&ev, reg)
                    } else {
                        ev
                    };
                    out.push(ev);
                }
            }
        }
    }
    out
}

/// Values of observable fields in `events`, one in `every`, as
/// indicators — so the runs have real hits.
fn observed(events: &[Event], reg: &FieldRegistry, every: usize) -> Vec<(IndicatorType, String)> {
    let fields = [
        "DestinationIp",
        "SourceIp",
        "QueryName",
        "source.ip",
        "destination.ip",
    ];
    let ids: Vec<FieldId> = fields.iter().filter_map(|f| reg.get(f)).collect();
    let mut out = Vec::new();
    let mut n = 0;
    for ev in events {
        for f in &ids {
            if let Some(v) = ev.get(*f) {
                let s = v.to_text();
                n += 1;
                if n % every == 0
                    && let Some(t) = vigil_intel::normalize::guess_type(&s)
                {
                    out.push((t, s.to_string()));
                }
            }
        }
    }
    out
}

struct Run {
    events: u64,
    lookups: u64,
    hits: u64,
    wall: f64,
    cpu: f64,
}

fn run(matcher: &Matcher, index: &MatchIndex, events: &[Event], min_secs: f64) -> Run {
    let mut buf = Vec::new();
    let (mut ev, mut lookups, mut hits) = (0u64, 0u64, 0u64);
    let c0 = thread_cpu();
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < min_secs || ev == 0 {
        for e in events {
            buf.clear();
            lookups += matcher.match_event(index, e, &mut buf) as u64;
            hits += buf.len() as u64;
        }
        ev += events.len() as u64;
    }
    Run {
        events: ev,
        lookups,
        hits,
        wall: t0.elapsed().as_secs_f64(),
        cpu: thread_cpu() - c0,
    }
}

fn report(name: &str, r: &Run, corpus: usize) {
    println!(
        "match {name}: {corpus} events × {:.0} passes, {:.2} observable lookups/event, {} hits; \
         {:.2}s wall, {:.2}s CPU → {:.0} lookups/CPU-s ({:.0} events/CPU-s)",
        r.events as f64 / corpus.max(1) as f64,
        r.lookups as f64 / r.events.max(1) as f64,
        r.hits,
        r.wall,
        r.cpu,
        r.lookups as f64 / r.cpu,
        r.events as f64 / r.cpu,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let data = PathBuf::from(args.next().unwrap_or_else(|| "../shared/data".into()));
    let min_secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let reg = FieldRegistry::new();

    // Events first (parsing is not what is measured).
    let t = Instant::now();
    let (evtx, nfiles) = evtx_events(&data.join("evtx"), &reg);
    let syslog = syslog_events(
        &[
            data.join("logs/loghub/OpenSSH"),
            data.join("logs/loghub/Linux"),
        ],
        &reg,
    );
    println!(
        "corpus: {} EVTX records from {nfiles} files, {} syslog lines (parsed in {:.1}s)",
        evtx.len(),
        syslog.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        !evtx.is_empty() && !syslog.is_empty(),
        "no events under {}",
        data.display()
    );

    let mut pairs = synthetic(N);
    let mut real = observed(&evtx, &reg, 20);
    real.extend(observed(&syslog, &reg, 20));
    real.sort();
    real.dedup();
    let n_real = real.len().min(N / 100);
    pairs.truncate(N - n_real);
    pairs.extend(real.into_iter().take(n_real));
    println!(
        "indicators: {} ({} synthetic mixed types + {n_real} values seen in the corpus)",
        pairs.len(),
        N - n_real
    );

    // 2. The index alone: normalised values in, nothing else allocated.
    let normalised: Vec<(IndicatorType, String)> = pairs
        .iter()
        .filter_map(|(k, v)| vigil_intel::normalize::normalize(*k, v).ok())
        .collect();
    let rss0 = rss_bytes();
    let (c0, t0) = (thread_cpu(), Instant::now());
    let mut index = MatchIndex::new();
    for (i, (k, v)) in normalised.iter().enumerate() {
        index.insert(*k, v, IndicatorId(i as u32));
    }
    index.shrink();
    let (build_wall, build_cpu) = (t0.elapsed().as_secs_f64(), thread_cpu() - c0);
    let rss1 = rss_bytes();
    println!(
        "index build: {} indicators in {build_wall:.2}s wall, {build_cpu:.2}s CPU ({:.0} indicators/CPU-s)",
        index.len(),
        index.len() as f64 / build_cpu
    );
    println!(
        "index memory: RSS delta {:.1} MiB = {:.0} bytes/indicator; heap accounting {:.1} MiB = {:.0} bytes/indicator (target ≤ 200)",
        (rss1.saturating_sub(rss0)) as f64 / 1048576.0,
        rss1.saturating_sub(rss0) as f64 / index.len() as f64,
        index.heap_bytes() as f64 / 1048576.0,
        index.heap_bytes() as f64 / index.len() as f64
    );
    drop(index);
    drop(normalised);

    // 2b. What `vigil serve` keeps: the index plus the compact contexts,
    // built from indicators streamed in pages (as serve reads the store).
    let rss0 = rss_bytes();
    let (c0, t0) = (thread_cpu(), Instant::now());
    let mut b = IntelDetectorBuilder::new(Timestamp::from_secs(0), None);
    for chunk in pairs.chunks(20_000) {
        let page: Vec<Indicator> = chunk
            .iter()
            .filter_map(|(k, v)| Indicator::new(*k, v, "bench", None).ok())
            .collect();
        for i in &page {
            b.add(i);
        }
    }
    let det = b.build("intel", &reg);
    let (det_wall, det_cpu) = (t0.elapsed().as_secs_f64(), thread_cpu() - c0);
    let rss1 = rss_bytes();
    println!(
        "detector (index + compact contexts, from 20k-indicator pages): {} indicators in {det_wall:.2}s wall, {det_cpu:.2}s CPU; \
         RSS delta {:.1} MiB = {:.0} bytes/indicator; heap accounting {:.0} bytes/indicator (index {:.0} + contexts {:.0}) (target ≤ 200)",
        det.len(),
        rss1.saturating_sub(rss0) as f64 / 1048576.0,
        rss1.saturating_sub(rss0) as f64 / det.len() as f64,
        det.heap_bytes() as f64 / det.len() as f64,
        det.index_heap_bytes() as f64 / det.len() as f64,
        (det.heap_bytes() - det.index_heap_bytes()) as f64 / det.len() as f64
    );
    drop(det);

    // 1. The full load path of `vigil serve`: normalise, merge, index.
    let rss_a = rss_bytes();
    let (c0, t0) = (thread_cpu(), Instant::now());
    let mut set = IndicatorSet::new();
    let mut bad = 0;
    for (k, v) in &pairs {
        match Indicator::new(*k, v, "bench", None) {
            Ok(i) => {
                set.insert(i);
            }
            Err(_) => bad += 1,
        }
    }
    let (set_wall, set_cpu) = (t0.elapsed().as_secs_f64(), thread_cpu() - c0);
    let rss_b = rss_bytes();
    let (c1, t1) = (thread_cpu(), Instant::now());
    let index = MatchIndex::build(&set);
    let (ix_wall, ix_cpu) = (t1.elapsed().as_secs_f64(), thread_cpu() - c1);
    println!(
        "load (normalise + merge): {} indicators ({bad} rejected) in {set_wall:.2}s wall, {set_cpu:.2}s CPU; \
         records {:.0} bytes/indicator (RSS delta)",
        set.len(),
        rss_b.saturating_sub(rss_a) as f64 / set.len() as f64
    );
    println!(
        "load (index from the set): {ix_wall:.2}s wall, {ix_cpu:.2}s CPU; total load {:.2}s wall, {:.2}s CPU",
        set_wall + ix_wall,
        set_cpu + ix_cpu
    );

    // 3. Matching, one thread.
    let matcher = Matcher::new(&reg);
    let r = run(&matcher, &index, &evtx, min_secs);
    report("EVTX", &r, evtx.len());
    let r = run(&matcher, &index, &syslog, min_secs);
    report("syslog", &r, syslog.len());
}

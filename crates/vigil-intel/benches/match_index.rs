//! Match-index benchmark: 1,000,000 synthetic mixed indicators — load time,
//! index bytes per indicator (heap accounting and RSS delta), and lookups/s
//! on EVTX-like (Sysmon) and syslog-like (ECS network) events.
//!
//! `cargo bench -p vigil-intel --bench match_index`
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_intel::{IndicatorId, IndicatorType, MatchIndex, Matcher};
use vigil_model::{Event, EventBuilder, EventFormat, FieldRegistry, TenantId, Timestamp, Value};

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

fn ip4(r: &mut Rng) -> String {
    let v = r.next() as u32;
    std::net::Ipv4Addr::from(v).to_string()
}

/// 1M (type, normalised value) pairs: 25% IPv4, 3% IPv4 CIDR, 2% IPv6, 20%
/// domains, 15% URLs, 20% SHA-256, 7% MD5, 5% SHA-1, 3% other strings.
fn indicators(seed: u64) -> Vec<(IndicatorType, String)> {
    use IndicatorType as T;
    let mut r = Rng(seed);
    (0..N)
        .map(|_| {
            let p = r.next() % 100;
            match p {
                0..25 => (T::Ipv4, ip4(&mut r)),
                25..28 => {
                    let len = 16 + (r.next() % 13) as u8;
                    let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(r.next() as u32), len)
                        .unwrap()
                        .trunc();
                    (T::Ipv4Cidr, net.to_string())
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
            }
        })
        .collect()
}

fn build(inds: &[(IndicatorType, String)]) -> MatchIndex {
    let mut ix = MatchIndex::new();
    for (i, (k, v)) in inds.iter().enumerate() {
        ix.insert(*k, v, IndicatorId(i as u32));
    }
    ix.shrink();
    ix
}

fn rss_bytes() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// CPU seconds used by this thread (utime + stime from
/// `/proc/thread-self/stat`, 100 ticks per second): lookups per CPU second
/// stay meaningful on a machine shared with other jobs.
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / 100.0)
}

fn event(reg: &FieldRegistry, fields: &[(&str, String)]) -> Event {
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_secs(0),
        "bench",
        EventFormat::Json,
        b"{}".to_vec(),
    );
    for (k, v) in fields {
        b.push(reg.intern(k).unwrap(), Value::Str(v.as_str().into()));
    }
    b.build()
}

/// Sysmon-like events: process creation (Image, Hashes), network
/// connection (SourceIp, DestinationIp, DestinationHostname), DNS query
/// (QueryName); one value in a hundred is listed.
fn evtx_events(reg: &FieldRegistry, inds: &[(IndicatorType, String)]) -> Vec<Event> {
    let mut r = Rng(7);
    let listed = |t: IndicatorType, r: &mut Rng| -> Option<String> {
        r.next()
            .is_multiple_of(100)
            .then(|| {
                inds.iter()
                    .skip((r.next() % 1000) as usize)
                    .find(|(k, _)| *k == t)
                    .map(|(_, v)| v.clone())
            })
            .flatten()
    };
    (0..10_000)
        .map(|i| match i % 3 {
            0 => {
                let sha = listed(IndicatorType::Sha256, &mut r)
                    .unwrap_or_else(|| r.hex(64).to_uppercase());
                event(
                    reg,
                    &[
                        ("EventID", "1".into()),
                        ("Image", format!("C:\\Windows\\System32\\{}.exe", r.word())),
                        ("CommandLine", format!("{} -k {}", r.word(), r.word())),
                        (
                            "Hashes",
                            format!(
                                "SHA1={},MD5={},SHA256={},IMPHASH={}",
                                r.hex(40),
                                r.hex(32),
                                sha,
                                r.hex(32)
                            ),
                        ),
                    ],
                )
            }
            1 => event(
                reg,
                &[
                    ("EventID", "3".into()),
                    ("SourceIp", ip4(&mut r)),
                    (
                        "DestinationIp",
                        listed(IndicatorType::Ipv4, &mut r).unwrap_or_else(|| ip4(&mut r)),
                    ),
                    (
                        "DestinationHostname",
                        format!("{}.{}.example.org", r.word(), r.word()),
                    ),
                    ("Image", format!("C:\\Program Files\\{}.exe", r.word())),
                ],
            ),
            _ => event(
                reg,
                &[
                    ("EventID", "22".into()),
                    (
                        "QueryName",
                        listed(IndicatorType::Domain, &mut r).map_or_else(
                            || format!("www.{}.{}.com", r.word(), r.word()),
                            |d| format!("cdn.{d}"),
                        ),
                    ),
                    ("Image", format!("C:\\Program Files\\{}.exe", r.word())),
                ],
            ),
        })
        .collect()
}

/// Syslog-like firewall / proxy events after ECS mapping.
fn syslog_events(reg: &FieldRegistry) -> Vec<Event> {
    let mut r = Rng(11);
    (0..10_000)
        .map(|i| {
            let mut f = vec![("source.ip", ip4(&mut r)), ("destination.ip", ip4(&mut r))];
            if i % 2 == 0 {
                f.push((
                    "url.full",
                    format!("http://{}.net/{}/{}.php", r.word(), r.word(), r.word()),
                ));
                f.push((
                    "user_agent.original",
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)".into(),
                ));
            }
            event(reg, &f)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let inds = indicators(42);
    let rss0 = rss_bytes();
    let t = Instant::now();
    let ix = build(&inds);
    let load = t.elapsed();
    let rss1 = rss_bytes();
    let heap = ix.heap_bytes();
    eprintln!(
        "match index: {} indicators ({} keys) built in {:.0} ms; {:.1} bytes/indicator (heap accounting), RSS delta {:?} bytes/indicator",
        N,
        ix.len(),
        load.as_secs_f64() * 1000.0,
        heap as f64 / N as f64,
        rss0.zip(rss1).map(|(a, b)| b.saturating_sub(a) / N)
    );

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("build_1m_mixed", |b| b.iter(|| black_box(build(&inds))));
    g.finish();

    let reg = FieldRegistry::new();
    let m = Matcher::new(&reg);
    for (name, events) in [
        ("evtx_sysmon", evtx_events(&reg, &inds)),
        ("syslog_ecs", syslog_events(&reg)),
    ] {
        let mut out = Vec::new();
        let lookups: usize = events.iter().map(|e| m.match_event(&ix, e, &mut out)).sum();
        eprintln!(
            "{name}: {} events, {lookups} lookups, {} matches per pass",
            events.len(),
            out.len()
        );
        if let Some(c0) = thread_cpu_secs() {
            let mut passes = 0u64;
            let mut c1 = c0;
            while c1 - c0 < 3.0 {
                out.clear();
                for e in &events {
                    m.match_event(&ix, e, &mut out);
                }
                passes += 1;
                c1 = thread_cpu_secs().unwrap_or(c0 + 10.0);
            }
            eprintln!(
                "{name}: {:.2} M lookups per CPU second ({:.2} M events per CPU second)",
                (passes as f64 * lookups as f64) / (c1 - c0) / 1e6,
                (passes as f64 * events.len() as f64) / (c1 - c0) / 1e6
            );
        }
        let mut g = c.benchmark_group("match");
        g.throughput(Throughput::Elements(lookups as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for e in &events {
                    m.match_event(&ix, e, &mut out);
                }
                black_box(out.len())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

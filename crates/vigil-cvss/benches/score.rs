//! Parse-and-score throughput (vectors/s) per CVSS version.

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_cvss::Vector;

const V2: &[&str] = &[
    "AV:N/AC:L/Au:N/C:P/I:P/A:P",
    "AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H",
    "AV:L/AC:H/Au:M/C:C/I:N/A:P/E:U/RL:W",
];
const V3: &[&str] = &[
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:A/AC:H/PR:L/UI:R/S:C/C:L/I:H/A:N/E:P/RL:T/RC:R/CR:H/MAV:N/MS:U/MC:H",
    "CVSS:3.0/AV:L/AC:L/PR:H/UI:N/S:C/C:N/I:L/A:H/MS:C/MPR:N",
];
const V4: &[&str] = &[
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L/E:P",
    "CVSS:4.0/AV:A/AC:H/AT:N/PR:L/UI:P/VC:L/VI:H/VA:N/SC:H/SI:L/SA:H/E:U/CR:M/IR:L/MAV:N/MVC:H/MSI:S",
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_and_score");
    for (name, vectors) in [("v2", V2), ("v3", V3), ("v4", V4)] {
        group.throughput(Throughput::Elements(vectors.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for v in vectors {
                    let v: Vector = std::hint::black_box(v).parse().unwrap();
                    std::hint::black_box(v.scores());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

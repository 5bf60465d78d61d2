//! Version-order tests: the committed fixtures of every ecosystem and a few
//! hand-picked cases, all through one `check` helper.

use std::cmp::Ordering;

use super::{Scheme, compare};

/// Parses one fixture line and checks it; returns a failure message.
fn check(scheme: Scheme, line: &str) -> Option<String> {
    let line = line.trim_end();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    if let Some(bad) = line.strip_prefix('!') {
        let bad = bad.strip_prefix(' ').unwrap_or(bad);
        return match super::Version::parse(scheme, bad) {
            Ok(v) => Some(format!(
                "{scheme}: {bad:?} should be rejected, parsed as {v:?}"
            )),
            Err(_) => None,
        };
    }
    let (a, op, b) = if let Some((a, b)) = line.split_once(" == ") {
        (a, Ordering::Equal, b)
    } else if let Some((a, b)) = line.split_once(" < ") {
        (a, Ordering::Less, b)
    } else if let Some((a, b)) = line.split_once(" > ") {
        (a, Ordering::Greater, b)
    } else {
        return Some(format!("{scheme}: bad fixture line {line:?}"));
    };
    match (compare(scheme, a, b), compare(scheme, b, a)) {
        (Ok(x), Ok(y)) if x == op && y == op.reverse() => None,
        (x, y) => Some(format!("{scheme}: {line}: got {x:?} / reversed {y:?}")),
    }
}

fn fixture(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Semver => include_str!("../../tests/fixtures/versions/semver.txt"),
        Scheme::Npm => include_str!("../../tests/fixtures/versions/npm.txt"),
        Scheme::Cargo => include_str!("../../tests/fixtures/versions/cargo.txt"),
        Scheme::Pep440 => include_str!("../../tests/fixtures/versions/pep440.txt"),
        Scheme::Maven => include_str!("../../tests/fixtures/versions/maven.txt"),
        Scheme::Go => include_str!("../../tests/fixtures/versions/go.txt"),
        Scheme::Nuget => include_str!("../../tests/fixtures/versions/nuget.txt"),
        Scheme::Gem => include_str!("../../tests/fixtures/versions/gem.txt"),
        Scheme::Composer => include_str!("../../tests/fixtures/versions/composer.txt"),
        Scheme::Dpkg => include_str!("../../tests/fixtures/versions/dpkg.txt"),
        Scheme::Apk => include_str!("../../tests/fixtures/versions/apk.txt"),
        Scheme::Rpm => include_str!("../../tests/fixtures/versions/rpm.txt"),
    }
}

fn run(scheme: Scheme) {
    let text = fixture(scheme);
    let comparisons = text
        .lines()
        .filter(|l| l.contains(" < ") || l.contains(" == "))
        .count();
    assert!(
        comparisons >= 100,
        "{scheme}: only {comparisons} comparisons"
    );
    let failures: Vec<String> = text.lines().filter_map(|l| check(scheme, l)).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn semver() {
    run(Scheme::Semver);
}
#[test]
fn npm() {
    run(Scheme::Npm);
}
#[test]
fn cargo() {
    run(Scheme::Cargo);
}
#[test]
fn pep440() {
    run(Scheme::Pep440);
}
#[test]
fn maven() {
    run(Scheme::Maven);
}
#[test]
fn go() {
    run(Scheme::Go);
}
#[test]
fn nuget() {
    run(Scheme::Nuget);
}
#[test]
fn gem() {
    run(Scheme::Gem);
}
#[test]
fn composer() {
    run(Scheme::Composer);
}
#[test]
fn dpkg() {
    run(Scheme::Dpkg);
}
#[test]
fn apk() {
    run(Scheme::Apk);
}
#[test]
fn rpm() {
    run(Scheme::Rpm);
}

#[test]
fn hand_picked() {
    for (scheme, line) in [
        (Scheme::Pep440, "1.0.post1 < 1.0.1"),
        (Scheme::Apk, "1.001 < 1.01"),
        (Scheme::Apk, "1.01 < 1.1"),
        (Scheme::Dpkg, "1.0~~ < 1.0~"),
        (Scheme::Rpm, "1.0~rc1 < 1.0"),
        (Scheme::Maven, "1-1 < 1.1"),
        (Scheme::Gem, "1.0.a < 1.0"),
        (Scheme::Go, "v1 == v1.0.0"),
        (
            Scheme::Semver,
            "1.0.0-alpha.99999999999999999999999 < 1.0.0-alpha.a",
        ),
        (Scheme::Pep440, "! 1.0.99999999999999999999999"),
    ] {
        assert_eq!(check(scheme, line), None);
    }
}

/// Random strings over the characters versions are made of: parsing and
/// comparing never panics, and the order is antisymmetric.
#[test]
fn random_input_never_panics() {
    const ALPHABET: &[u8] = b"0123456789..--__~~^^++::abcdefprvxzABRCv!@ \xc3\xa9";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for scheme in Scheme::ALL {
        let mut valid = Vec::new();
        for _ in 0..3000 {
            let len = (next() % 14) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let s = String::from_utf8_lossy(&bytes).into_owned();
            if super::Version::parse(scheme, &s).is_ok() {
                valid.push(s);
            }
        }
        for w in valid.windows(2) {
            let ab = compare(scheme, &w[0], &w[1]).unwrap();
            let ba = compare(scheme, &w[1], &w[0]).unwrap();
            assert_eq!(ab, ba.reverse(), "{scheme}: {:?} vs {:?}", w[0], w[1]);
        }
    }
}

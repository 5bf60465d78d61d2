//! Where Vigil and univers disagree, which side follows the ecosystem's own
//! rules: one named test per difference. Each test states the rule, checks
//! examples taken from the ecosystem's documentation, and re-checks every
//! case listed under its name in `univers_differences.txt` (comparisons
//! against the hand-written fixture verdicts, rejected versions, and range
//! memberships against the OSV evaluation).
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::cmp::Ordering;

use serde_json::json;
use vigil_vuln::osv::{OsvDatabase, parse_json};
use vigil_vuln::{Component, Ecosystem, Scheme, Version, compare};

const LIST: &str = include_str!("univers_differences.txt");

fn ecosystem(s: Scheme) -> Ecosystem {
    match s {
        Scheme::Semver => Ecosystem::Hex,
        Scheme::Npm => Ecosystem::Npm,
        Scheme::Cargo => Ecosystem::CratesIo,
        Scheme::Pep440 => Ecosystem::PyPI,
        Scheme::Maven => Ecosystem::Maven,
        Scheme::Go => Ecosystem::Go,
        Scheme::Nuget => Ecosystem::NuGet,
        Scheme::Gem => Ecosystem::RubyGems,
        Scheme::Composer => Ecosystem::Packagist,
        Scheme::Dpkg => Ecosystem::Debian,
        Scheme::Apk => Ecosystem::Alpine,
        _ => Ecosystem::RedHat,
    }
}

/// Checks one listed case with Vigil; returns a failure message.
fn verify(s: Scheme, case: &str) -> Option<String> {
    if let Some(bad) = case.strip_prefix("! ") {
        return Version::parse(s, bad)
            .is_ok()
            .then(|| format!("{s}: {bad:?} should be rejected"));
    }
    if let Some(rest) = case.strip_prefix("vers:") {
        let (constraints, v) = rest.split_once('/')?.1.rsplit_once(' ')?;
        let mut events = Vec::new();
        // membership computed from the comparator, interval by interval
        let mut expected = false;
        let mut lo: Option<&str> = None;
        for c in constraints.split('|') {
            if let Some(x) = c.strip_prefix(">=") {
                events.push(json!({"introduced": x}));
                lo = Some(x);
            } else if let Some(x) = c.strip_prefix("<=") {
                if events.is_empty() {
                    events.push(json!({"introduced": "0"}));
                }
                events.push(json!({"last_affected": x}));
                let above = lo.is_none_or(|l| compare(s, v, l).ok() != Some(Ordering::Less));
                expected |= above && compare(s, v, x).ok() != Some(Ordering::Greater);
                lo = None;
            } else if let Some(x) = c.strip_prefix('<') {
                if events.is_empty() {
                    events.push(json!({"introduced": "0"}));
                }
                events.push(json!({"fixed": x}));
                let above = lo.is_none_or(|l| compare(s, v, l).ok() != Some(Ordering::Less));
                expected |= above && compare(s, v, x).ok() == Some(Ordering::Less);
                lo = None;
            }
        }
        if let Some(l) = lo {
            expected |= compare(s, v, l).ok() != Some(Ordering::Less);
        }
        let eco = ecosystem(s);
        let kind = if s == Scheme::Go {
            "SEMVER"
        } else {
            "ECOSYSTEM"
        };
        let rec = json!({"id": "T", "affected": [{"package": {"ecosystem": eco.osv_name(), "name": "p"},
            "ranges": [{"type": kind, "events": events}]}]});
        let db = OsvDatabase::new(parse_json(&rec.to_string()).ok()?);
        let got = !db
            .match_component(&Component::new(eco, "p", Some(v)))
            .is_empty();
        return (got != expected)
            .then(|| format!("{s}: {case}: OSV evaluation {got}, comparator says {expected}"));
    }
    let (a, op, b) = if let Some((a, b)) = case.split_once(" == ") {
        (a, Ordering::Equal, b)
    } else if let Some((a, b)) = case.split_once(" < ") {
        (a, Ordering::Less, b)
    } else {
        let (a, b) = case.split_once(" > ")?;
        (a, Ordering::Greater, b)
    };
    match compare(s, a, b) {
        Ok(o) if o == op => None,
        other => Some(format!("{s}: {case}: got {other:?}")),
    }
}

/// Re-checks every case listed under `name`; at least one must exist.
fn check_listed(name: &str) {
    let mut n = 0;
    let mut failures = Vec::new();
    for line in LIST
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "bad line {line:?}");
        if f[2] != name {
            continue;
        }
        n += 1;
        let s: Scheme = f[0].parse().unwrap();
        failures.extend(verify(s, f[1]));
    }
    assert!(n > 0, "no case listed for {name}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check(s: Scheme, a: &str, b: &str, want: Ordering) {
    assert_eq!(compare(s, a, b).unwrap(), want, "{s}: {a} vs {b}");
}

/// SemVer 2.0.0 §10: "Build metadata MUST be ignored when determining version
/// precedence"; Go's `semver.Compare` and the Rust `semver` crate's
/// precedence do the same (`+incompatible` is build metadata). univers adds
/// the build to its precedence key.
#[test]
fn build_metadata_is_ignored() {
    check(Scheme::Semver, "1.0.0+build.1", "1.0.0", Ordering::Equal);
    check(Scheme::Go, "v2.0.0+incompatible", "v2.0.0", Ordering::Equal);
    check(Scheme::Cargo, "1.0.0+abc", "1.0.0+1.2", Ordering::Equal);
    check_listed("build_metadata_is_ignored");
}

/// node-semver's strict grammar (`FULLPLAIN = v?MAIN PRE? BUILD?`) accepts
/// one leading `v` (`semver.valid("v1.2.3") === "1.2.3"`); univers's npm
/// scheme rejects it.
#[test]
fn npm_accepts_leading_v() {
    check(Scheme::Npm, "v1.0.0", "1.0.0", Ordering::Equal);
    check_listed("npm_accepts_leading_v");
}

/// SemVer 2.0.0's grammar: exactly three numeric parts without leading
/// zeros, non-empty identifiers of `[0-9A-Za-z-]`, no empty pre-release or
/// build. univers "coerces" such strings into versions.
#[test]
fn semver_grammar_is_strict() {
    for bad in ["1.0", "01.0.0", "1.0.0-", "1.0.0+", "1.0.0-01"] {
        assert!(Version::parse(Scheme::Semver, bad).is_err(), "{bad}");
    }
    check_listed("semver_grammar_is_strict");
}

/// Go module versions must be canonical semantic versions with a `v`
/// (`golang.org/x/mod/semver.IsValid`): `v1.0.0.0`, `vv1.0.0` and
/// `v01.0.0` are not versions.
#[test]
fn go_rejects_non_canonical_module_versions() {
    check_listed("go_rejects_non_canonical_module_versions");
}

/// Maven's `ComparableVersion` maps the qualifiers `ga`, `final` and
/// `release` to the empty (release) qualifier, so `1.0.RELEASE` equals `1.0`
/// and sorts below `1.0-sp`; univers treats `release` as an unknown
/// qualifier.
#[test]
fn maven_release_is_an_alias_of_ga() {
    check(Scheme::Maven, "1.0.RELEASE", "1.0", Ordering::Equal);
    check(Scheme::Maven, "1.0.RELEASE", "1.0-sp", Ordering::Less);
    check_listed("maven_release_is_an_alias_of_ga");
}

/// An empty string names no version (Maven's model validation and NuGet's
/// `NuGetVersion.Parse` both reject it); univers accepts it.
#[test]
fn empty_versions_are_rejected() {
    assert!(Version::parse(Scheme::Maven, "").is_err());
    assert!(Version::parse(Scheme::Nuget, "").is_err());
    check_listed("empty_versions_are_rejected");
}

/// Composer compares versions after `VersionParser::normalize` (padding to
/// four numbers, `a`/`b`/`p`/`pl` spelled out, `-stable` and build metadata
/// dropped) with PHP's `version_compare`, whose order is `dev < alpha < beta
/// < RC < release < patch`. univers reads Composer versions as SemVer, so
/// `1.0.0-dev` sorts after `1.0.0-alpha` and `1.0.0` differs from `1.0.0.0`.
#[test]
fn composer_normalize_then_version_compare() {
    check(Scheme::Composer, "1.0.0-dev", "1.0.0-alpha", Ordering::Less);
    check(Scheme::Composer, "1.0.0", "1.0.0.0", Ordering::Equal);
    check(Scheme::Composer, "1.0.0-RC1", "1.0.0rc1", Ordering::Equal);
    check(Scheme::Composer, "1.0.0-patch1", "1.0.0", Ordering::Greater);
    check_listed("composer_normalize_then_version_compare");
}

/// Composer's `VersionParser::normalize` throws for branch names (`dev-*`,
/// `1.x-dev`) in version position and for unknown suffixes; univers accepts
/// them as SemVer-like strings.
#[test]
fn composer_grammar() {
    check_listed("composer_grammar");
}

/// apk-tools knows the post-release suffixes `_cvs`, `_svn`, `_git`, `_hg`
/// and `_p` (sorting after the release); univers uses Gentoo's rules, which
/// have no `_git`.
#[test]
fn apk_post_release_suffixes() {
    check(Scheme::Apk, "1.2_git20200101", "1.2", Ordering::Greater);
    check(Scheme::Apk, "1.2_git20200101", "1.2_p1", Ordering::Less);
    check_listed("apk_post_release_suffixes");
}

/// apk-tools' tokenizer takes one lower-case letter after a number and only
/// digits after `-r`; `1.0A` and `1.0-r1a` fail `apk_version_validate`.
#[test]
fn apk_grammar() {
    check_listed("apk_grammar");
}

/// dpkg's `parseversion`: "revision number is empty" for a trailing `-`.
#[test]
fn dpkg_rejects_empty_revision() {
    check_listed("dpkg_rejects_empty_revision");
}

/// rpm versions cannot contain whitespace (rpmbuild rejects `Version: 1.0 1`).
#[test]
fn rpm_rejects_whitespace() {
    check_listed("rpm_rejects_whitespace");
}

//! Strict parsing: each malformed vector gives the error that names what
//! is wrong and where; any input at all parses or fails without panicking
//! (property test), and what parses round-trips through `Display`.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vigil_cvss::{Error, Scores, Vector};

const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const V40: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

fn check(input: &str, expect: &str) {
    match input.parse::<Vector>() {
        Ok(v) => panic!("{input:?} parsed as {v}"),
        Err(e) => assert_eq!(e.to_string(), expect, "{input:?}"),
    }
}

#[test]
fn errors_name_the_problem_and_its_position() {
    check("", "empty vector");
    check(
        &format!("{V31}/"),
        "at byte 45: malformed component \"\" (expected METRIC:VALUE)",
    );
    check(
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "at byte 14: duplicate metric AV",
    );
    check(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        "missing mandatory metric(s) A for CVSS 3.1",
    );
    check(
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "at byte 9: invalid value \"X\" for metric AV (allowed: N/A/L/P)",
    );
    check(
        &format!("{V31}/XX:N"),
        "at byte 45: unknown metric \"XX\" for CVSS 3.1",
    );
    check(
        "CVSS:3.2/AV:N",
        "at byte 0: unsupported CVSS version \"3.2\" (expected 3.0, 3.1 or 4.0, or no prefix for v2)",
    );
    check(
        "CVSS:3.1",
        "missing mandatory metric(s) AV, AC, PR, UI, S, C, I, A for CVSS 3.1",
    );
    check(
        "CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "at byte 14: metric AV out of order (CVSS 4.0 requires the specification's metric order)",
    );
    check(
        &format!("{V40}/CR:H/E:A"),
        "at byte 69: metric E out of order (CVSS 4.0 requires the specification's metric order)",
    );
    check(&format!("{V40}/E:A/E:A"), "at byte 68: duplicate metric E");
    check(
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
        "at byte 54: invalid value \"S\" for metric SI (allowed: H/L/N)",
    );
    check(
        "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC:1",
        "at byte 27: malformed component \"E:POC:1\" (expected METRIC:VALUE)",
    );
    check(
        "AV:N/AC:L/Au:N/C:P/I:P",
        "missing mandatory metric(s) A for CVSS 2.0",
    );
    check("av:n", "at byte 0: unknown metric \"av\" for CVSS 2.0");
    // No trimming: surrounding blanks are the caller's to strip.
    check(
        " CVSS:3.1/AV:N",
        "at byte 0: unknown metric \" CVSS\" for CVSS 2.0",
    );
    // Metric names are case-sensitive: CVSS v2 writes Au, not AU.
    check(
        "AV:N/AC:L/AU:N/C:P/I:P/A:P",
        "at byte 10: unknown metric \"AU\" for CVSS 2.0",
    );
}

#[test]
fn any_order_for_v2_and_v3_and_canonical_display() {
    let v: Vector = "CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X"
        .parse()
        .unwrap();
    assert_eq!(
        v.to_string(),
        "CVSS:3.0/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/E:F"
    );
    let v: Vector = format!("{V40}/E:X/MSI:S/U:Amber").parse().unwrap();
    assert_eq!(v.to_string(), format!("{V40}/MSI:S/U:Amber"));
}

#[test]
fn derived_helpers() {
    let v: Vector = V31.parse().unwrap();
    assert!(v.attack_vector_network() && v.privileges_required_none());
    assert!(v.user_interaction_none() && v.automatable_hint());
    let v: Vector = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
        .parse()
        .unwrap();
    assert!(v.attack_vector_network() && !v.attack_requirements_none());
    assert!(!v.automatable_hint());
    let v: Vector = "AV:N/AC:L/Au:S/C:P/I:P/A:P".parse().unwrap();
    assert!(!v.privileges_required_none() && v.user_interaction_none());
    let v: Vector = "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"
        .parse()
        .unwrap();
    assert!(!v.attack_vector_network() && !v.user_interaction_none());
}

#[test]
fn v4_scores_by_nomenclature() {
    let v: Vector = format!("{V40}/E:U/CR:L/IR:L/AR:L").parse().unwrap();
    let Scores::V4(s) = v.scores() else { panic!() };
    assert_eq!(s.nomenclature.as_str(), "CVSS-BTE");
    assert_eq!(s.base.to_string(), "9.3");
    assert!(s.threat < s.base && s.environmental < s.base);
    assert!(s.threat_environmental <= s.threat.min(s.environmental));
    assert_eq!(s.score(), s.threat_environmental);
}

const KEYS: &[&str] = &[
    "AV", "AC", "AT", "Au", "PR", "UI", "S", "C", "I", "A", "VC", "VI", "VA", "SC", "SI", "SA",
    "E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR", "MAV", "MAC", "MAT", "MPR", "MUI", "MS", "MC",
    "MI", "MA", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA", "AU", "R", "V", "RE", "U", "", "ZZ",
];
const VALUES: &[&str] = &[
    "N", "A", "L", "P", "H", "M", "S", "C", "U", "R", "X", "F", "O", "T", "W", "D", "Y", "I", "ND",
    "POC", "OF", "TF", "UC", "UR", "LM", "MH", "Clear", "Green", "Amber", "Red", "", "é", ":",
];
const PREFIXES: &[&str] = &[
    "",
    "CVSS:3.0/",
    "CVSS:3.1/",
    "CVSS:4.0/",
    "CVSS:",
    "CVSS:4.0",
];

fn vectorish() -> impl Strategy<Value = String> {
    (
        prop::sample::select(PREFIXES),
        prop::collection::vec(
            (prop::sample::select(KEYS), prop::sample::select(VALUES)),
            0..36,
        ),
    )
        .prop_map(|(prefix, parts)| {
            let body: Vec<String> = parts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{prefix}{}", body.join("/"))
        })
}

fn exercise(s: &str) {
    match s.parse::<Vector>() {
        Ok(v) => {
            let scores = v.scores();
            assert!(scores.overall().tenths() <= 100);
            assert!(scores.base().tenths() <= 100);
            // The canonical form parses back to the same scores.
            let again: Vector = v.to_string().parse().unwrap();
            assert_eq!(again.scores(), scores, "{s} → {v}");
        }
        Err(e) => {
            // Positions point inside the input.
            let msg = e.to_string();
            assert!(!msg.is_empty());
            if let Error::Malformed { position, .. }
            | Error::UnknownMetric { position, .. }
            | Error::InvalidValue { position, .. }
            | Error::Duplicate { position, .. }
            | Error::OutOfOrder { position, .. } = e
            {
                assert!(position <= s.len(), "{s:?}: {msg}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        exercise(&s);
    }

    #[test]
    fn vector_like_text_never_panics(s in vectorish()) {
        exercise(&s);
    }

    /// Every well-formed v4.0 base vector scores within its MacroVector's
    /// range and never panics, with any threat/environmental additions.
    #[test]
    fn well_formed_v4_vectors_score(
        base in prop::collection::vec(0usize..4, 11),
        extra in prop::collection::vec(0usize..6, 15),
    ) {
        let lists: [&[&str]; 11] = [
            &["N", "A", "L", "P"], &["L", "H"], &["N", "P"], &["N", "L", "H"], &["N", "P", "A"],
            &["H", "L", "N"], &["H", "L", "N"], &["H", "L", "N"], &["H", "L", "N"],
            &["H", "L", "N"], &["H", "L", "N"],
        ];
        let keys = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"];
        let mut s = String::from("CVSS:4.0");
        for ((k, l), i) in keys.iter().zip(lists).zip(&base) {
            s.push_str(&format!("/{k}:{}", l[i % l.len()]));
        }
        let opt: [(&str, &[&str]); 15] = [
            ("E", &["X", "A", "P", "U"]), ("CR", &["X", "H", "M", "L"]),
            ("IR", &["X", "H", "M", "L"]), ("AR", &["X", "H", "M", "L"]),
            ("MAV", &["X", "N", "A", "L", "P"]), ("MAC", &["X", "L", "H"]),
            ("MAT", &["X", "N", "P"]), ("MPR", &["X", "N", "L", "H"]),
            ("MUI", &["X", "N", "P", "A"]), ("MVC", &["X", "H", "L", "N"]),
            ("MVI", &["X", "H", "L", "N"]), ("MVA", &["X", "H", "L", "N"]),
            ("MSC", &["X", "H", "L", "N"]), ("MSI", &["X", "S", "H", "L", "N"]),
            ("MSA", &["X", "S", "H", "L", "N"]),
        ];
        for ((k, l), i) in opt.iter().zip(&extra) {
            if *i < l.len() {
                s.push_str(&format!("/{k}:{}", l[*i]));
            }
        }
        let v: Vector = s.parse().unwrap();
        exercise(&s);
        let Scores::V4(sc) = v.scores() else { panic!() };
        prop_assert!(sc.threat <= sc.base, "{}", s);
    }
}

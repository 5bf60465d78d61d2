//! Unit tests of the pattern parser: verdicts, positions, reduction.

use super::*;

static FAILS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn check(src: &str, want: &str) {
    let got = match parse(src) {
        Ok(p) => match p.observables() {
            Some(obs) => format!(
                "match {}",
                obs.iter()
                    .map(|o| format!("{}={}", o.kind, o.value))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            None => "valid".to_string(),
        },
        Err(e) => format!("error {}:{}", e.column, e.message),
    };
    if got != want {
        eprintln!("MISMATCH {src}\n  got:  {got}\n  want: {want}");
        FAILS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn verdicts() {
    check("[ipv4-addr:value = '1.2.3.4']", "match ipv4=1.2.3.4");
    check(
        "[domain-name:value = 'a.com' OR file:hashes.'SHA-256' = 'x']",
        "error 57:\"x\" is not a valid SHA256 hash",
    );
    check(
        "[file:hashes.MD5 IN ('a')]",
        "error 21:\"(a)\" is not a valid MD5 hash",
    );
    check(
        "[url:value IN ('http://a/', 'http://b/')]",
        "match url=http://a/ url=http://b/",
    );
    check(
        "([domain-name:value = 'a.com']) OR [email-message:from_ref.value = 'x@y.z']",
        "match domain=a.com email=x@y.z",
    );
    check("[a:b = 1 AND (a:c = 2 OR NOT EXISTS a:d)]", "valid");
    check("[file:name = 'x'] WITHIN 5 SECONDS", "valid");
    check(
        "[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES",
        "error 27:duplicate qualifier type on one observation",
    );
    check("([a:b = 1]) REPEATS 2 TIMES REPEATS 3 TIMES", "valid");
    check("[a:b = 1", "error 9:expected ']', found end of pattern");
    check(
        "[a:b-c = 1]",
        "error 4:expected a property name, found identifier \"b-c\"",
    );
    check("[a:b = 1] #", "error 11:unexpected character '#'");
    check(
        "a:b = 1",
        "error 1:a pattern starts with '[' or '(', found identifier \"a\"",
    );
    check(
        "[a:b > true]",
        "error 8:expected an orderable literal, found boolean \"true\"",
    );
    check(
        "[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-01-02T00:00:00Z'",
        "valid",
    );
    assert_eq!(FAILS.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn v20_start_stop_strings() {
    let s = "[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2016-01-02T00:00:00Z'";
    assert!(parse(s).is_err());
    assert!(parse_version(s, Version::V20).is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let s = format!("{}[a:b = 1]{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&s).is_err());
}

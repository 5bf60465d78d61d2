//! Where the tests' outside resources are, read from the environment that
//! `.ci/run` sets, with one rule for all of them: set, the resource is
//! used; unset on a user's machine, the test prints that it was skipped
//! and passes; unset under CI (`CI=true`), the test fails, because CI
//! always provides it.
//!
//! | variable | what |
//! |---|---|
//! | `VIGIL_TESTDATA` | the shared real-data folder (`../shared/data`) |
//! | `VIGIL_PYTHON` | a Python with the reference tools of `.ci/requirements.txt` |
//!
//! A dev-dependency only; nothing here is linked into Vigil.

use std::path::PathBuf;

/// Whether this is a CI run (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A variable's non-empty value; `None` after printing the skip notice
/// (`what` says which test or tool is skipped). Panics under CI.
pub fn required_env(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if in_ci() => panic!("{name} must be set in CI (.ci/run sets it): {what}"),
        _ => {
            println!("skipped: {name} not set ({what})");
            None
        }
    }
}

/// The shared real-data folder, `$VIGIL_TESTDATA`, or `None` (skipped).
pub fn testdata() -> Option<PathBuf> {
    required_env("VIGIL_TESTDATA", "real-data tests").map(PathBuf::from)
}

/// A folder of the shared real data (`evtx`, `sigma/rules`, …), or `None`.
pub fn testdata_dir(sub: &str) -> Option<PathBuf> {
    testdata().map(|d| d.join(sub))
}

/// The Python of the CI virtualenv, `$VIGIL_PYTHON`, or `None` (skipped);
/// `what` names the reference tool the test runs.
pub fn python(what: &str) -> Option<String> {
    required_env("VIGIL_PYTHON", what)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_variable_is_skipped_outside_ci_and_fails_in_ci() {
        let got = std::panic::catch_unwind(|| {
            super::required_env("VIGIL_TESTKIT_NEVER_SET", "this test")
        });
        if super::in_ci() {
            assert!(got.is_err(), "CI must fail on a missing variable");
        } else {
            assert_eq!(got.ok(), Some(None));
        }
    }
}

//! Test helpers shared by the parser modules: render a parse result as
//! sorted `name=value` lines and compare with an expected block.

use vigil_model::{Event, FieldId, FieldRegistry, Value};

/// Sorted `name=value` lines (line breaks in values shown as `⏎`) plus
/// `time=…`, or `error: …`. `keep` filters fields out of the rendering.
pub(crate) fn render_event(
    parsed: Result<Event, String>,
    reg: &FieldRegistry,
    keep: impl Fn(FieldId, &Value) -> bool,
) -> String {
    match parsed {
        Ok(e) => {
            let mut out: Vec<String> = e
                .fields()
                .iter()
                .filter(|(f, v)| keep(*f, v))
                .map(|(f, v)| {
                    let name = reg
                        .name(*f)
                        .map_or_else(|| "?".to_owned(), |n| n.to_string());
                    format!("{name}={v}").replace('\n', "⏎")
                })
                .collect();
            out.push(format!(
                "time={}",
                e.time.map_or("-".into(), |t| t.to_rfc3339())
            ));
            out.sort();
            out.join("\n")
        }
        Err(e) => format!("error: {e}"),
    }
}

/// Asserts that `got` has exactly the non-blank, trimmed lines of `expect`.
pub(crate) fn check_lines(got: &str, expect: &str, input: &str) {
    let want: Vec<&str> = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        got.lines().collect::<Vec<_>>(),
        want,
        "input {input:?}\n{got}"
    );
}

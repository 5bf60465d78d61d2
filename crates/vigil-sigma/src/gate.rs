//! Necessary literals of a regular expression: text every match contains,
//! so a regex test can be skipped — and its rule left unevaluated — when
//! the field's automaton found none of them.
//!
//! The literals are read off the parsed expression (`regex-syntax` HIR):
//! a run of literal characters in a concatenation, one literal per branch
//! of an alternation, the body of a repetition that occurs at least once.
//! Matching them in the case-insensitive automaton (ASCII folding only) is
//! a superset of what the expression accepts as long as every character
//! class kept is a single character or an ASCII letter with its case
//! partner; Unicode case classes such as `(?i)k` (which also matches the
//! Kelvin sign) end a run instead, so no match is ever lost.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Shortest literal worth gating on.
const MIN_LEN: usize = 3;

/// Most alternatives kept.
const MAX_ALTERNATIVES: usize = 16;

/// Literals one of which (compared ASCII case-insensitively) every match of
/// `src` contains, or `None` when no useful set is known.
pub(crate) fn required_literals(src: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(src).ok()?;
    let mut set = need(&hir)?;
    set.sort();
    set.dedup();
    (set.len() <= MAX_ALTERNATIVES && set.iter().all(|l| l.len() >= MIN_LEN)).then_some(set)
}

/// The one character a class stands for, ASCII case folded: a single
/// character, or an ASCII letter and its other case.
fn class_char(c: &Class) -> Option<Vec<u8>> {
    let chars: Vec<(u32, u32)> = match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (u32::from(r.start()), u32::from(r.end())))
            .collect(),
    };
    let single = |(a, b): (u32, u32)| (a == b).then_some(a);
    let ch = match chars.as_slice() {
        [one] => single(*one)?,
        [x, y] => {
            let (x, y) = (single(*x)?, single(*y)?);
            let (cx, cy) = (char::from_u32(x)?, char::from_u32(y)?);
            if !(cx.is_ascii_alphabetic() && cx.eq_ignore_ascii_case(&cy) && cx != cy) {
                return None;
            }
            u32::from(cx.to_ascii_lowercase())
        }
        _ => return None,
    };
    if matches!(c, Class::Bytes(_)) {
        return u8::try_from(ch).ok().filter(u8::is_ascii).map(|b| vec![b]);
    }
    let mut buf = [0u8; 4];
    Some(
        char::from_u32(ch)?
            .encode_utf8(&mut buf)
            .as_bytes()
            .to_vec(),
    )
}

/// Literal bytes a node matches exactly (ASCII case aside), if it is one.
fn as_literal(h: &Hir) -> Option<Vec<u8>> {
    match h.kind() {
        HirKind::Literal(l) => Some(l.0.to_vec()),
        HirKind::Class(c) => class_char(c),
        _ => None,
    }
}

/// How good a set is: its shortest literal (longer is rarer), then fewer
/// alternatives.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    (
        set.iter().map(Vec::len).min().unwrap_or(0),
        std::cmp::Reverse(set.len()),
    )
}

fn need(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(_) | HirKind::Class(_) => as_literal(h).map(|l| vec![l]),
        HirKind::Capture(c) => need(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => need(&r.sub),
        HirKind::Alternation(hs) => {
            let mut out = Vec::new();
            for b in hs {
                out.extend(need(b)?);
                if out.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
            Some(out)
        }
        HirKind::Concat(hs) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut keep = |cand: Vec<Vec<u8>>| {
                if best.as_ref().is_none_or(|b| score(&cand) > score(b)) {
                    best = Some(cand);
                }
            };
            let mut run: Vec<u8> = Vec::new();
            for c in hs {
                if let Some(l) = as_literal(c) {
                    run.extend(l);
                    continue;
                }
                if !run.is_empty() {
                    keep(vec![std::mem::take(&mut run)]);
                }
                if let Some(n) = need(c) {
                    keep(n);
                }
            }
            if !run.is_empty() {
                keep(vec![run]);
            }
            best
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::required_literals as req;

    fn lits(src: &str) -> Option<Vec<String>> {
        req(src).map(|v| {
            v.into_iter()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .collect()
        })
    }

    #[test]
    fn literal_runs_and_alternations() {
        assert_eq!(lits(r"powershell.*-enc"), Some(vec!["powershell".into()]));
        assert_eq!(
            lits(r"(?i)\\AppData\\.+\.exe$"),
            Some(vec!["\\appdata\\".into()])
        );
        assert_eq!(
            lits(r"(invoke-mimikatz|sekurlsa)"),
            Some(vec!["invoke-mimikatz".into(), "sekurlsa".into()])
        );
        // A Unicode case class ends the run: `(?i)k` also matches the Kelvin
        // sign and `(?i)s` the long s, which ASCII folding would miss.
        assert_eq!(lits(r"(?i)mimikatz"), Some(vec!["mimi".into()]));
        assert_eq!(
            lits(r"(?i)(invoke-mimikatz|sekurlsa)"),
            Some(vec!["e-mimi".into(), "url".into()])
        );
        assert!(
            regex::Regex::new(r"(?i)mimikatz")
                .unwrap()
                .is_match("MIMI\u{212A}ATZ")
        );
        // Nothing required, or too short.
        assert_eq!(lits(r"a|bcd"), None);
        assert_eq!(lits(r"(abc)?de"), None);
        assert_eq!(lits(r"(abc)?def"), Some(vec!["def".into()]));
        assert_eq!(lits(r"(abcd)?defg"), Some(vec!["defg".into()]));
        assert_eq!(lits(r"[a-z]{5}\.exe"), Some(vec![".exe".into()]));
        assert_eq!(lits(r"(?:xyz)+\d"), Some(vec!["xyz".into()]));
        assert_eq!(lits(r"^.*$"), None);
        assert_eq!(lits(r"("), None);
    }

    #[test]
    fn gate_never_rejects_a_match() {
        // For each expression and text the regex matches, the text contains
        // one of the literals, ASCII case-insensitively.
        let cases = [
            (
                r"(?i)invoke-(expression|webrequest)",
                "IEX; INVOKE-WebRequest http://x",
            ),
            (r"(?i)\\AppData\\.+\.exe$", r"C:\Users\A\APPDATA\x\y.EXE"),
            (r"cmd\.exe /c (whoami|hostname)", "cmd.exe /c hostname"),
            (r"(?i)sekurlsa::logonpasswords", "SEKURLSA::LOGONPASSWORDS"),
            (r"(?si)^.*\\temp\\.*\.ps1$", "C:\\TEMP\\a.PS1"),
        ];
        for (src, text) in cases {
            let re = regex::Regex::new(src).unwrap();
            assert!(re.is_match(text), "{src}");
            let set = req(src).unwrap_or_else(|| panic!("{src}: no literal"));
            let hay = text.to_ascii_lowercase();
            assert!(
                set.iter()
                    .any(|l| hay.contains(&String::from_utf8_lossy(l).to_ascii_lowercase())),
                "{src}: {set:?}"
            );
        }
    }
}

//! Sigma condition parser: text to AST, no evaluation.
//!
//! Grammar (lowest to highest precedence): `or`, `and`, `not`, then atoms:
//! an identifier, `( … )`, or `N of pattern` / `all of pattern` where the
//! pattern is an identifier with `*` wildcards or `them`. Keywords are
//! case-insensitive. Legacy aggregations (`| count() by …`) and `near` are
//! rejected as unsupported.

use crate::error::Problem;

/// Longest condition accepted, in bytes.
const MAX_CONDITION_LEN: usize = 64 * 1024;
/// Deepest nesting of parentheses and `not`s accepted.
const MAX_DEPTH: usize = 64;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier.
    Ident(String),
    /// `not x`.
    Not(Box<Condition>),
    /// `a and b and …`.
    And(Vec<Condition>),
    /// `a or b or …`.
    Or(Vec<Condition>),
    /// `1 of x*`, `all of them`, …
    Of {
        /// How many must hold.
        quantifier: Quantifier,
        /// Which identifiers.
        target: OfTarget,
    },
}

/// The count in `N of …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// `N of`: at least N (the spec uses `1 of`).
    AtLeast(u32),
    /// `all of`.
    All,
}

/// What `N of` ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfTarget {
    /// `them`: every search identifier (except those starting with `_`).
    Them,
    /// An identifier pattern with `*` wildcards, e.g. `selection_*`.
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    LParen,
    RParen,
    Pipe,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, Problem> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                out.push(Tok::LParen);
                chars.next();
            }
            ')' => {
                out.push(Tok::RParen);
                chars.next();
            }
            '|' => {
                out.push(Tok::Pipe);
                chars.next();
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || matches!(d, '_' | '*' | '-' | '.' | '?') {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(s[i..end].to_string()));
            }
            other => {
                return Err(Problem::new(format!(
                    "condition: unexpected character {other:?} at offset {i}"
                )));
            }
        }
    }
    Ok(out)
}

/// Parses a condition string.
pub(crate) fn parse_condition(s: &str) -> Result<Condition, Problem> {
    if s.len() > MAX_CONDITION_LEN {
        return Err(Problem::new("condition too long"));
    }
    if let Some((_, rest)) = s.split_once('|') {
        let rest = rest.trim();
        let what = if rest.to_ascii_lowercase().starts_with("near") {
            "legacy `near` aggregation"
        } else {
            "legacy aggregation after `|`"
        };
        return Err(Problem::unsupported(format!(
            "{what} (`| {rest}`); express it as a correlation rule"
        )));
    }
    let toks = tokenize(s)?;
    if toks
        .iter()
        .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("near")))
    {
        return Err(Problem::unsupported("legacy `near` operator"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(Problem::new(format!(
            "condition: unexpected {} after the expression",
            p.describe()
        )));
    }
    Ok(c)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<&str> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }
    fn is_kw(&self, kw: &str) -> bool {
        self.peek_word().is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }
    fn describe(&self) -> String {
        match self.toks.get(self.pos) {
            None => "end of condition".into(),
            Some(Tok::Word(w)) => format!("`{w}`"),
            Some(Tok::LParen) => "`(`".into(),
            Some(Tok::RParen) => "`)`".into(),
            Some(Tok::Pipe) => "`|`".into(),
        }
    }
    fn or(&mut self) -> Result<Condition, Problem> {
        let mut v = vec![self.and()?];
        while self.is_kw("or") {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Condition::Or(v)
        })
    }
    fn and(&mut self) -> Result<Condition, Problem> {
        let mut v = vec![self.not()?];
        while self.is_kw("and") {
            self.pos += 1;
            v.push(self.not()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Condition::And(v)
        })
    }
    fn not(&mut self) -> Result<Condition, Problem> {
        if self.is_kw("not") {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(Problem::new("condition nested too deeply"));
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Condition, Problem> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(Problem::new("condition nested too deeply"));
                }
                let c = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::RParen) {
                    return Err(Problem::new(format!(
                        "condition: expected `)`, found {}",
                        self.describe()
                    )));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(c)
            }
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if matches!(lower.as_str(), "and" | "or" | "of" | "them") {
                    return Err(Problem::new(format!(
                        "condition: expected an identifier, found `{w}`"
                    )));
                }
                self.pos += 1;
                let quantifier = if lower == "all" {
                    Some(Quantifier::All)
                } else if let Ok(n) = w.parse::<u32>() {
                    Some(Quantifier::AtLeast(n))
                } else {
                    None
                };
                if let Some(quantifier) = quantifier
                    && self.is_kw("of")
                {
                    self.pos += 1;
                    let target = match self.peek_word() {
                        Some(t) if t.eq_ignore_ascii_case("them") => OfTarget::Them,
                        Some(t)
                            if !["and", "or", "not", "of"]
                                .iter()
                                .any(|k| t.eq_ignore_ascii_case(k)) =>
                        {
                            OfTarget::Pattern(t.to_string())
                        }
                        _ => {
                            return Err(Problem::new(format!(
                                "condition: expected a pattern or `them` after `of`, found {}",
                                self.describe()
                            )));
                        }
                    };
                    self.pos += 1;
                    if quantifier == Quantifier::AtLeast(0) {
                        return Err(Problem::new("condition: `0 of` is meaningless"));
                    }
                    return Ok(Condition::Of { quantifier, target });
                }
                if w.contains('*') {
                    return Err(Problem::new(format!(
                        "condition: wildcard identifier `{w}` needs `1 of` or `all of`"
                    )));
                }
                Ok(Condition::Ident(w))
            }
            _ => Err(Problem::new(format!(
                "condition: expected an identifier, found {}",
                self.describe()
            ))),
        }
    }
}

/// Does the identifier `name` match the `*`-wildcard `pattern`?
pub(crate) fn ident_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, expect: &str) {
        let got = match parse_condition(src) {
            Ok(c) => format!("{c:?}"),
            Err(p) => format!(
                "{}{}",
                if p.unsupported {
                    "unsupported: "
                } else {
                    "error: "
                },
                p.msg
            ),
        };
        assert_eq!(got, expect, "condition {src:?}");
    }

    #[test]
    fn forms() {
        check("sel", r#"Ident("sel")"#);
        check("a and not b", r#"And([Ident("a"), Not(Ident("b"))])"#);
        check(
            "a or b and c",
            r#"Or([Ident("a"), And([Ident("b"), Ident("c")])])"#,
        );
        check(
            "(a or b) and c",
            r#"And([Or([Ident("a"), Ident("b")]), Ident("c")])"#,
        );
        check(
            "1 of sel*",
            r#"Of { quantifier: AtLeast(1), target: Pattern("sel*") }"#,
        );
        check("all of them", "Of { quantifier: All, target: Them }");
        check("1 of them", "Of { quantifier: AtLeast(1), target: Them }");
        check("NOT a AND b", r#"And([Not(Ident("a")), Ident("b")])"#);
        check("not not a", r#"Not(Not(Ident("a")))"#);
        check(
            "all of sel_* and not 1 of filter_*",
            r#"And([Of { quantifier: All, target: Pattern("sel_*") }, Not(Of { quantifier: AtLeast(1), target: Pattern("filter_*") })])"#,
        );
    }

    #[test]
    fn errors() {
        check(
            "a and",
            "error: condition: expected an identifier, found end of condition",
        );
        check(
            "(a",
            "error: condition: expected `)`, found end of condition",
        );
        check(
            "a b",
            "error: condition: unexpected `b` after the expression",
        );
        check(
            "sel*",
            "error: condition: wildcard identifier `sel*` needs `1 of` or `all of`",
        );
        check(
            "sel | count() by x > 5",
            "unsupported: legacy aggregation after `|` (`| count() by x > 5`); express it as a correlation rule",
        );
        check(
            "a | near b",
            "unsupported: legacy `near` aggregation (`| near b`); express it as a correlation rule",
        );
        check(
            "a = b",
            "error: condition: unexpected character '=' at offset 2",
        );
        check(
            "1 of",
            "error: condition: expected a pattern or `them` after `of`, found end of condition",
        );
    }

    #[test]
    fn ident_patterns() {
        assert!(ident_matches("sel*", "selection"));
        assert!(ident_matches("*_a*", "x_ab"));
        assert!(!ident_matches("sel*", "filter"));
        assert!(ident_matches("a*b*c", "aXbYc"));
        assert!(!ident_matches("ab*ba", "aba"));
    }
}

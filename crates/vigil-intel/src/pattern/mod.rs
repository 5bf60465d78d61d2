//! The STIX 2.x patterning language: AST, parser with positioned errors, and
//! the reduction of a pattern to matchable single-observable indicators.
//!
//! ```text
//! [domain-name:value = 'evil.com' OR ipv4-addr:value = '1.2.3.4']   matchable: 2 observables
//! [file:name = 'a.exe' AND file:size > 10]                          valid, not matchable
//! ([a:b = 1] AND [c:d = 2]) WITHIN 5 SECONDS                        valid, not matchable
//! ```

mod lexer;
mod parser;

use std::fmt;

use serde::Serialize;

use crate::indicator::IndicatorType;

/// Grammar version: 2.1 (default) or 2.0 (`START`/`STOP` also take plain
/// strings, as STIX 2.0 bundles write them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// STIX 2.0.
    V20,
    /// STIX 2.1.
    #[default]
    V21,
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("line {line}, column {column} (byte {offset}): {message}")]
pub struct PatternError {
    /// Byte offset into the pattern.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl PatternError {
    pub(crate) fn at(src: &str, offset: usize, message: String) -> Self {
        let offset = offset.min(src.len());
        let before = src.get(..offset).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            offset,
            line,
            column,
            message,
        }
    }
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The top-level observation expression.
    pub expr: Observation,
}

/// An observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// `[ comparison ]`.
    Comparison(Comparison),
    /// `( observations )`.
    Group(Box<Observation>),
    /// `A AND B AND …`.
    And(Vec<Observation>),
    /// `A OR B OR …`.
    Or(Vec<Observation>),
    /// `A FOLLOWEDBY B …`.
    FollowedBy(Vec<Observation>),
    /// An expression with a qualifier.
    Qualified(Box<Observation>, Qualifier),
}

/// An observation qualifier.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`.
    Within(f64),
    /// `REPEATS n TIMES`.
    Repeats(u64),
    /// `START t'…' STOP t'…'`.
    StartStop(String, String),
}

/// A comparison expression inside `[ ]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// `a AND b`.
    And(Vec<Comparison>),
    /// `a OR b`.
    Or(Vec<Comparison>),
    /// One property test.
    Test(PropTest),
}

/// `path [NOT] op literal`, or `[NOT] EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct PropTest {
    /// The object path.
    pub path: ObjectPath,
    /// `NOT` present.
    pub negated: bool,
    /// The operator.
    pub op: Op,
    /// The literal (`Literal::Set` for `IN`, `Literal::None` for `EXISTS`).
    pub value: Literal,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `!=`.
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN`.
    In,
    /// `LIKE`.
    Like,
    /// `MATCHES`.
    Matches,
    /// `ISSUBSET`.
    IsSubset,
    /// `ISSUPERSET`.
    IsSuperset,
    /// `EXISTS`.
    Exists,
}

/// `type:step.step[0]…`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    /// The object type (`file`, `ipv4-addr`, `x-custom`).
    pub object_type: String,
    /// Property steps.
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// A property name (quotes removed).
    Key(String),
    /// A list index.
    Index(i64),
    /// `[*]`.
    Any,
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// No literal (`EXISTS`).
    None,
    /// An integer (saturated to `i64`).
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (escapes resolved).
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `b'…'` (base64 text).
    Binary(String),
    /// `h'…'` (hex text).
    Hex(String),
    /// `t'…'` (RFC 3339 text).
    Timestamp(String),
    /// `( a, b, … )`.
    Set(Vec<Literal>),
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_type)?;
        f.write_str(":")?;
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                PathStep::Key(k) if i == 0 => f.write_str(k)?,
                PathStep::Key(k) => write!(f, ".{k}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Any => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Longest pattern accepted (bytes).
pub const MAX_PATTERN_LEN: usize = 64 * 1024;

/// Parses a STIX 2.1 pattern.
pub fn parse(src: &str) -> Result<Pattern, PatternError> {
    parse_version(src, Version::V21)
}

/// Parses a pattern of the given grammar version.
pub fn parse_version(src: &str, version: Version) -> Result<Pattern, PatternError> {
    if src.len() > MAX_PATTERN_LEN {
        return Err(PatternError::at(
            src,
            0,
            format!("pattern longer than {MAX_PATTERN_LEN} bytes"),
        ));
    }
    parser::parse(src, version)
}

/// One matchable observable of a pattern: its type and raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observable {
    /// The indicator type the object path maps to.
    pub kind: IndicatorType,
    /// The literal value, not yet normalised.
    pub value: String,
}

impl Pattern {
    /// The observables if the pattern reduces to equality comparisons (or
    /// `IN` sets) on single observables, possibly OR'd, with no qualifiers;
    /// `None` when it needs more than one value at once (AND, FOLLOWEDBY,
    /// qualifiers, other operators or unmapped object paths).
    pub fn observables(&self) -> Option<Vec<Observable>> {
        let mut out = Vec::new();
        obs_observables(&self.expr, &mut out)?;
        (!out.is_empty()).then_some(out)
    }
}

fn obs_observables(o: &Observation, out: &mut Vec<Observable>) -> Option<()> {
    match o {
        Observation::Comparison(c) => cmp_observables(c, out),
        Observation::Group(g) => obs_observables(g, out),
        Observation::Or(v) => v.iter().try_for_each(|x| obs_observables(x, out)),
        _ => None,
    }
}

fn cmp_observables(c: &Comparison, out: &mut Vec<Observable>) -> Option<()> {
    match c {
        Comparison::Or(v) => v.iter().try_for_each(|x| cmp_observables(x, out)),
        Comparison::And(_) => None,
        Comparison::Test(t) => {
            if t.negated {
                return None;
            }
            let kind = path_type(&t.path)?;
            match (&t.op, &t.value) {
                (Op::Eq, Literal::Str(s)) => out.push(Observable {
                    kind,
                    value: s.clone(),
                }),
                (Op::In, Literal::Set(items)) => {
                    for it in items {
                        let Literal::Str(s) = it else { return None };
                        out.push(Observable {
                            kind,
                            value: s.clone(),
                        });
                    }
                }
                _ => return None,
            }
            Some(())
        }
    }
}

/// The indicator type an object path denotes, if it is one we match.
pub fn path_type(p: &ObjectPath) -> Option<IndicatorType> {
    use IndicatorType as T;
    let keys: Vec<Option<&str>> = p
        .steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    let k = |i: usize| keys.get(i).copied().flatten();
    let n = keys.len();
    Some(match (p.object_type.as_str(), n) {
        ("ipv4-addr", 1) if k(0) == Some("value") => T::Ipv4,
        ("ipv6-addr", 1) if k(0) == Some("value") => T::Ipv6,
        ("domain-name", 1) if k(0) == Some("value") => T::Domain,
        ("url", 1) if k(0) == Some("value") => T::Url,
        ("email-addr", 1) if k(0) == Some("value") => T::Email,
        ("email-message", 2)
            if matches!(k(0), Some("from_ref" | "sender_ref")) && k(1) == Some("value") =>
        {
            T::Email
        }
        ("email-message", 3)
            if matches!(k(0), Some("to_refs" | "cc_refs" | "bcc_refs"))
                && k(1).is_none()
                && k(2) == Some("value") =>
        {
            T::Email
        }
        ("file", 1) if k(0) == Some("name") => T::FileName,
        ("file" | "artifact", 2) if k(0) == Some("hashes") => {
            match k(1)?.to_ascii_uppercase().replace('-', "").as_str() {
                "MD5" => T::Md5,
                "SHA1" => T::Sha1,
                "SHA256" => T::Sha256,
                "SHA512" => T::Sha512,
                _ => return None,
            }
        }
        ("windows-registry-key", 1) if k(0) == Some("key") => T::RegistryKey,
        ("network-traffic", 4)
            if k(0) == Some("extensions")
                && k(1) == Some("http-request-ext")
                && k(2) == Some("request_header")
                && k(3).is_some_and(|h| h.eq_ignore_ascii_case("user-agent")) =>
        {
            T::UserAgent
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests;

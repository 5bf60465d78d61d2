//! Value modifiers applied in the order written: a field item's values and
//! modifiers become a list of value tests, independent of any event or
//! field registry. The compiler turns these tests into matchers.

use std::collections::HashMap;

use base64::Engine as _;
use ipnet::IpNet;

use crate::error::Problem;
use crate::rule::{FieldItem, Modifier, Part, SigmaString, SigmaValue};

/// Most values one field item may expand to (windash, expand, base64offset).
pub(crate) const MAX_VALUES: usize = 4096;
/// Longest regex source accepted.
pub(crate) const MAX_REGEX_LEN: usize = 16 * 1024;

/// Placeholder values for `|expand` (`%name%` → values).
pub type Placeholders = HashMap<String, Vec<String>>;

/// A glob piece over bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Gp {
    Lit(Vec<u8>),
    Many,
    One,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

impl Cmp {
    pub(crate) fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Lte => a <= b,
            Cmp::Gt => a > b,
            Cmp::Gte => a >= b,
            Cmp::Eq => a == b,
        }
    }
}

/// A part of a date for the time modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// One test of one field value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueTest {
    /// A glob over the value's text (or bytes after encoding modifiers).
    Glob { parts: Vec<Gp>, cased: bool },
    /// A regular expression (source with inline flags already applied).
    Re(String),
    /// Numeric comparison (plain numbers use `Eq`).
    Num(Cmp, f64),
    /// The value is in the network.
    Cidr(IpNet),
    /// The field is absent or null.
    Null,
    /// A boolean (matches `true`/`false` strings too).
    Bool(bool),
    /// The field exists (or not).
    Exists(bool),
    /// Equal to another field of the same event.
    FieldRef { field: String, cased: bool },
    /// A part of a date compared with a number.
    Time(TimePart, Cmp, f64),
}

/// The tests of one field item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemSpec {
    pub(crate) tests: Vec<ValueTest>,
    /// `all`: every test must hold (otherwise any).
    pub(crate) all: bool,
    /// `neq`: the result is negated (the field must exist).
    pub(crate) neq: bool,
}

#[derive(Debug, Clone)]
enum V {
    S(Vec<Gp>),
    Num(f64),
    Bool(bool),
    Null,
}

fn string_parts(s: &SigmaString) -> Vec<Gp> {
    s.parts
        .iter()
        .map(|p| match p {
            Part::Lit(l) => Gp::Lit(l.clone().into_bytes()),
            Part::AnyMany => Gp::Many,
            Part::AnyOne => Gp::One,
            Part::Placeholder(n) => Gp::Lit(format!("%{n}%").into_bytes()),
        })
        .collect()
}

fn plain_bytes(parts: &[Gp], what: &str) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Gp::Lit(l) => out.extend_from_slice(l),
            _ => {
                return Err(Problem::new(format!(
                    "`{what}` cannot encode a value with wildcards"
                )));
            }
        }
    }
    Ok(out)
}

fn text_of(v: &SigmaValue) -> Option<String> {
    match v {
        SigmaValue::Str(s) => Some(s.raw.clone()),
        SigmaValue::Int(i) => Some(i.to_string()),
        SigmaValue::Float(f) => Some(f.to_string()),
        SigmaValue::Bool(b) => Some(b.to_string()),
        SigmaValue::Null => None,
    }
}

fn number_of(v: &SigmaValue) -> Option<f64> {
    match v {
        SigmaValue::Int(i) => Some(*i as f64),
        SigmaValue::Float(f) => Some(*f),
        SigmaValue::Str(s) => s.raw.trim().parse().ok(),
        _ => None,
    }
}

const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

fn windash(parts: &[Gp]) -> Result<Vec<Vec<Gp>>, Problem> {
    let mut out: Vec<Vec<Gp>> = vec![Vec::new()];
    for p in parts {
        match p {
            Gp::Lit(l) => {
                let s = String::from_utf8_lossy(l);
                let mut variants: Vec<String> = vec![String::new()];
                for c in s.chars() {
                    if DASHES.contains(&c) {
                        let mut next = Vec::with_capacity(variants.len() * DASHES.len());
                        for v in &variants {
                            for d in DASHES {
                                let mut n = v.clone();
                                n.push(d);
                                next.push(n);
                            }
                        }
                        variants = next;
                        if variants.len() > MAX_VALUES {
                            return Err(Problem::new("`windash` expands to too many values"));
                        }
                    } else {
                        for v in &mut variants {
                            v.push(c);
                        }
                    }
                }
                let mut next = Vec::with_capacity(out.len() * variants.len());
                for o in &out {
                    for v in &variants {
                        let mut n = o.clone();
                        n.push(Gp::Lit(v.clone().into_bytes()));
                        next.push(n);
                    }
                }
                out = next;
                if out.len() > MAX_VALUES {
                    return Err(Problem::new("`windash` expands to too many values"));
                }
            }
            other => {
                for o in &mut out {
                    o.push(other.clone());
                }
            }
        }
    }
    Ok(out)
}

/// The three `base64offset` variants of `value`.
pub(crate) fn base64_offsets(value: &[u8]) -> Vec<Vec<u8>> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    let mut out = Vec::with_capacity(3);
    for i in 0..3 {
        let mut shifted = vec![b' '; i];
        shifted.extend_from_slice(value);
        let enc = base64::engine::general_purpose::STANDARD.encode(&shifted);
        let end_cut = END[(value.len() + i) % 3];
        let end = enc.len().saturating_sub(end_cut);
        let start = START[i].min(end);
        out.push(enc.as_bytes()[start..end].to_vec());
    }
    out
}

fn expand_placeholders(s: &str, ph: &Placeholders) -> Result<Vec<String>, Problem> {
    // `\%` is a plain percent; `%name%` a placeholder.
    let mut pieces: Vec<Vec<String>> = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'%') {
            lit.push_str("\\%");
            chars.next();
        } else if c == '%' {
            let mut name = String::new();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == '%' {
                    closed = true;
                    break;
                }
                name.push(d);
            }
            if !closed {
                lit.push('%');
                lit.push_str(&name);
                continue;
            }
            let Some(vals) = ph.get(&name) else {
                return Err(Problem::new(format!(
                    "`expand`: unknown placeholder %{name}% (add it to the placeholder map)"
                )));
            };
            pieces.push(vec![std::mem::take(&mut lit)]);
            pieces.push(vals.clone());
        } else {
            lit.push(c);
        }
    }
    pieces.push(vec![lit]);
    let mut out = vec![String::new()];
    for alts in pieces {
        let mut next = Vec::with_capacity(out.len() * alts.len().max(1));
        for o in &out {
            for a in &alts {
                next.push(format!("{o}{a}"));
            }
        }
        out = next;
        if out.len() > MAX_VALUES {
            return Err(Problem::new("`expand` produces too many values"));
        }
    }
    Ok(out.into_iter().map(|s| s.replace("\\%", "%")).collect())
}

/// Applies the modifiers of `item` to its values. `placeholders` is `None`
/// at parse time (placeholders are then only checked syntactically).
pub(crate) fn item_spec(
    item: &FieldItem,
    placeholders: Option<&Placeholders>,
) -> Result<ItemSpec, Problem> {
    use Modifier as M;
    // Keywords search anywhere in a value: an implicit `contains` unless a
    // matching modifier says otherwise.
    let implicit;
    let mods = if item.field.is_none()
        && item
            .modifiers
            .iter()
            .all(|m| matches!(m, M::All | M::Cased))
    {
        implicit = [&[M::Contains][..], &item.modifiers[..]].concat();
        &implicit
    } else {
        &item.modifiers
    };
    let has = |m: M| mods.contains(&m);
    let mut seen = Vec::new();
    for m in mods {
        if seen.contains(m) {
            return Err(Problem::new(format!("modifier {m:?} given twice")));
        }
        seen.push(*m);
    }
    let all = has(M::All);
    let neq = has(M::Neq);
    let cased = has(M::Cased);
    if item.values.is_empty() {
        return Err(Problem::new("no values"));
    }
    if item.values.len() > MAX_VALUES {
        return Err(Problem::new("too many values"));
    }

    if has(M::Exists) {
        if mods.iter().any(|m| !matches!(m, M::Exists)) {
            return Err(Problem::new(
                "`exists` cannot be combined with other modifiers",
            ));
        }
        let [SigmaValue::Bool(b)] = item.values.as_slice() else {
            return Err(Problem::new("`exists` takes one boolean value"));
        };
        if item.field.is_none() {
            return Err(Problem::new("`exists` needs a field"));
        }
        return Ok(ItemSpec {
            tests: vec![ValueTest::Exists(*b)],
            all: false,
            neq: false,
        });
    }

    if has(M::Re) {
        let mut flags = String::new();
        for m in mods {
            match m {
                M::Re | M::All | M::Neq => {}
                M::ReI => flags.push('i'),
                M::ReM => flags.push('m'),
                M::ReS => flags.push('s'),
                M::Cased => {}
                other => {
                    return Err(Problem::new(format!(
                        "`re` cannot be combined with {other:?}"
                    )));
                }
            }
        }
        let mut tests = Vec::new();
        for v in &item.values {
            let Some(src) = text_of(v) else {
                return Err(Problem::new("`re` needs a string value"));
            };
            if src.len() > MAX_REGEX_LEN {
                return Err(Problem::new("regular expression too long"));
            }
            let src = if flags.is_empty() {
                src
            } else {
                format!("(?{flags}){src}")
            };
            // Syntax only (cheap); the compiler builds the matcher.
            regex_syntax::Parser::new()
                .parse(&src)
                .map_err(|e| Problem::new(format!("invalid regular expression: {e}")))?;
            tests.push(ValueTest::Re(src));
        }
        return Ok(ItemSpec { tests, all, neq });
    }
    if let Some(m) = mods.iter().find(|m| matches!(m, M::ReI | M::ReM | M::ReS)) {
        return Err(Problem::new(format!("{m:?} is only valid after `re`")));
    }

    if has(M::Cidr) {
        let mut tests = Vec::new();
        for m in mods {
            if !matches!(m, M::Cidr | M::All | M::Neq) {
                return Err(Problem::new(format!(
                    "`cidr` cannot be combined with {m:?}"
                )));
            }
        }
        for v in &item.values {
            let Some(src) = text_of(v) else {
                return Err(Problem::new("`cidr` needs a network value"));
            };
            let net: IpNet = src
                .trim()
                .parse()
                .map_err(|_| Problem::new(format!("invalid CIDR network {src:?}")))?;
            tests.push(ValueTest::Cidr(net));
        }
        return Ok(ItemSpec { tests, all, neq });
    }

    if has(M::FieldRef) {
        for m in mods {
            if !matches!(m, M::FieldRef | M::All | M::Neq | M::Cased) {
                return Err(Problem::new(format!(
                    "`fieldref` cannot be combined with {m:?}"
                )));
            }
        }
        let mut tests = Vec::new();
        for v in &item.values {
            let Some(SigmaValue::Str(s)) = Some(v) else {
                return Err(Problem::new("`fieldref` needs a field name"));
            };
            tests.push(ValueTest::FieldRef {
                field: s.raw.clone(),
                cased,
            });
        }
        return Ok(ItemSpec { tests, all, neq });
    }

    let time = mods.iter().find_map(|m| match m {
        M::Minute => Some(TimePart::Minute),
        M::Hour => Some(TimePart::Hour),
        M::Day => Some(TimePart::Day),
        M::Week => Some(TimePart::Week),
        M::Month => Some(TimePart::Month),
        M::Year => Some(TimePart::Year),
        _ => None,
    });
    let cmp = mods.iter().find_map(|m| match m {
        M::Lt => Some(Cmp::Lt),
        M::Lte => Some(Cmp::Lte),
        M::Gt => Some(Cmp::Gt),
        M::Gte => Some(Cmp::Gte),
        _ => None,
    });
    if time.is_some() || cmp.is_some() {
        let mut n_time = 0;
        let mut n_cmp = 0;
        for m in mods {
            match m {
                M::Minute | M::Hour | M::Day | M::Week | M::Month | M::Year => n_time += 1,
                M::Lt | M::Lte | M::Gt | M::Gte => n_cmp += 1,
                M::All | M::Neq => {}
                other => {
                    return Err(Problem::new(format!(
                        "numeric modifiers cannot be combined with {other:?}"
                    )));
                }
            }
        }
        if n_time > 1 || n_cmp > 1 {
            return Err(Problem::new("more than one time part or comparison"));
        }
        let mut tests = Vec::new();
        for v in &item.values {
            let Some(n) = number_of(v) else {
                return Err(Problem::new(format!(
                    "numeric modifier needs a number, got {v:?}"
                )));
            };
            let op = cmp.unwrap_or(Cmp::Eq);
            tests.push(match time {
                Some(t) => ValueTest::Time(t, op, n),
                None => ValueTest::Num(op, n),
            });
        }
        return Ok(ItemSpec { tests, all, neq });
    }

    // String pipeline.
    let mut vals: Vec<V> = Vec::new();
    let expand = has(M::Expand);
    for v in &item.values {
        match v {
            SigmaValue::Str(s) if expand => {
                let expanded = match placeholders {
                    Some(ph) => expand_placeholders(&s.raw, ph)?,
                    None => vec![s.raw.clone()],
                };
                for e in expanded {
                    vals.push(V::S(string_parts(&SigmaString::parse(&e))));
                }
            }
            SigmaValue::Str(s) => vals.push(V::S(string_parts(s))),
            SigmaValue::Int(i) => vals.push(V::Num(*i as f64)),
            SigmaValue::Float(f) => vals.push(V::Num(*f)),
            SigmaValue::Bool(b) => vals.push(V::Bool(*b)),
            SigmaValue::Null => vals.push(V::Null),
        }
    }
    if vals.len() > MAX_VALUES {
        return Err(Problem::new("too many values after expansion"));
    }
    let mut encoded = false;
    for m in mods {
        if matches!(m, M::All | M::Neq | M::Cased | M::Expand) {
            continue;
        }
        // Every remaining modifier works on strings.
        for v in &mut vals {
            match v {
                V::Num(n) => {
                    *v = V::S(vec![Gp::Lit(fmt_num(*n).into_bytes())]);
                }
                V::Bool(b) => *v = V::S(vec![Gp::Lit(b.to_string().into_bytes())]),
                V::Null => return Err(Problem::new(format!("{m:?} cannot apply to null"))),
                V::S(_) => {}
            }
        }
        let mut next: Vec<V> = Vec::with_capacity(vals.len());
        for v in vals {
            let V::S(parts) = v else { continue };
            match m {
                M::Contains | M::StartsWith | M::EndsWith => {
                    let mut p = parts;
                    if matches!(m, M::Contains | M::EndsWith) && p.first() != Some(&Gp::Many) {
                        p.insert(0, Gp::Many);
                    }
                    if matches!(m, M::Contains | M::StartsWith) && p.last() != Some(&Gp::Many) {
                        p.push(Gp::Many);
                    }
                    next.push(V::S(p));
                }
                M::Windash => {
                    if encoded {
                        return Err(Problem::new("`windash` after an encoding modifier"));
                    }
                    next.extend(windash(&parts)?.into_iter().map(V::S));
                }
                M::Base64 => {
                    let b = plain_bytes(&parts, "base64")?;
                    let e = base64::engine::general_purpose::STANDARD.encode(b);
                    next.push(V::S(vec![Gp::Lit(e.into_bytes())]));
                    encoded = true;
                }
                M::Base64Offset => {
                    let b = plain_bytes(&parts, "base64offset")?;
                    for e in base64_offsets(&b) {
                        next.push(V::S(vec![Gp::Lit(e)]));
                    }
                    encoded = true;
                }
                M::Utf16le | M::Wide | M::Utf16be | M::Utf16 => {
                    let b = plain_bytes(&parts, "utf16")?;
                    let s = String::from_utf8_lossy(&b);
                    let mut out = Vec::new();
                    if *m == M::Utf16 {
                        out.extend_from_slice(&[0xFF, 0xFE]);
                    }
                    for u in s.encode_utf16() {
                        if *m == M::Utf16be {
                            out.extend_from_slice(&u.to_be_bytes());
                        } else {
                            out.extend_from_slice(&u.to_le_bytes());
                        }
                    }
                    next.push(V::S(vec![Gp::Lit(out)]));
                    encoded = true;
                }
                other => {
                    return Err(Problem::new(format!("modifier {other:?} not valid here")));
                }
            }
            if next.len() > MAX_VALUES {
                return Err(Problem::new("too many values after modifiers"));
            }
        }
        vals = next;
    }
    let tests = vals
        .into_iter()
        .map(|v| match v {
            V::S(parts) => ValueTest::Glob {
                parts: normalize(parts),
                cased: cased || encoded,
            },
            V::Num(n) => ValueTest::Num(Cmp::Eq, n),
            V::Bool(b) => ValueTest::Bool(b),
            V::Null => ValueTest::Null,
        })
        .collect::<Vec<_>>();
    if neq && tests.iter().any(|t| matches!(t, ValueTest::Null)) {
        return Err(Problem::new(
            "`neq` with null: use `not` on a selection instead",
        ));
    }
    Ok(ItemSpec { tests, all, neq })
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Merges adjacent literals and collapses runs of `*`.
fn normalize(parts: Vec<Gp>) -> Vec<Gp> {
    let mut out: Vec<Gp> = Vec::with_capacity(parts.len());
    for p in parts {
        match (out.last_mut(), p) {
            (Some(Gp::Lit(a)), Gp::Lit(b)) => a.extend_from_slice(&b),
            (Some(Gp::Many), Gp::Many) => {}
            (_, Gp::Lit(b)) if b.is_empty() => {}
            (_, p) => out.push(p),
        }
    }
    out
}

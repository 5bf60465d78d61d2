//! The STIX patterning lexer: longest match over the grammar's token rules,
//! ties to the rule listed first (ANTLR's semantics), so keywords win over
//! identifiers of the same length and `t'…'` is a timestamp only when the
//! whole literal is well formed.

use super::PatternError;

/// A token kind; the order is the grammar's rule order (tie-break).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tok {
    IntNeg,
    IntPos,
    FloatNeg,
    FloatPos,
    Hex,
    Binary,
    Str,
    Bool,
    Timestamp,
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    True,
    False,
    Within,
    Repeats,
    Times,
    IdentNoHyphen,
    IdentHyphen,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Quote,
    Colon,
    Dot,
    Comma,
    RParen,
    LParen,
    RBrack,
    LBrack,
    Plus,
    Hyphen,
    Power,
    Divide,
    Asterisk,
    Eof,
}

impl Tok {
    pub(crate) fn describe(self) -> &'static str {
        use Tok::*;
        match self {
            IntNeg | IntPos => "integer",
            FloatNeg | FloatPos => "float",
            Hex => "hex literal",
            Binary => "binary literal",
            Str => "string",
            Bool => "boolean",
            Timestamp => "timestamp",
            And => "AND",
            Or => "OR",
            Not => "NOT",
            FollowedBy => "FOLLOWEDBY",
            Like => "LIKE",
            Matches => "MATCHES",
            IsSuperset => "ISSUPERSET",
            IsSubset => "ISSUBSET",
            Exists => "EXISTS",
            Last => "LAST",
            In => "IN",
            Start => "START",
            Stop => "STOP",
            Seconds => "SECONDS",
            True => "TRUE",
            False => "FALSE",
            Within => "WITHIN",
            Repeats => "REPEATS",
            Times => "TIMES",
            IdentNoHyphen | IdentHyphen => "identifier",
            Eq => "'='",
            Neq => "'!='",
            Lt => "'<'",
            Le => "'<='",
            Gt => "'>'",
            Ge => "'>='",
            Quote => "unterminated string",
            Colon => "':'",
            Dot => "'.'",
            Comma => "','",
            RParen => "')'",
            LParen => "'('",
            RBrack => "']'",
            LBrack => "'['",
            Plus => "'+'",
            Hyphen => "'-'",
            Power => "'^'",
            Divide => "'/'",
            Asterisk => "'*'",
            Eof => "end of pattern",
        }
    }
}

/// A token with its byte span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

const KEYWORDS: &[(&str, Tok)] = &[
    ("AND", Tok::And),
    ("OR", Tok::Or),
    ("NOT", Tok::Not),
    ("FOLLOWEDBY", Tok::FollowedBy),
    ("LIKE", Tok::Like),
    ("MATCHES", Tok::Matches),
    ("ISSUPERSET", Tok::IsSuperset),
    ("ISSUBSET", Tok::IsSubset),
    ("EXISTS", Tok::Exists),
    ("LAST", Tok::Last),
    ("IN", Tok::In),
    ("START", Tok::Start),
    ("STOP", Tok::Stop),
    ("SECONDS", Tok::Seconds),
    ("TRUE", Tok::True),
    ("FALSE", Tok::False),
    ("WITHIN", Tok::Within),
    ("REPEATS", Tok::Repeats),
    ("TIMES", Tok::Times),
];

const PUNCT: &[(&str, Tok)] = &[
    ("==", Tok::Eq),
    ("=", Tok::Eq),
    ("!=", Tok::Neq),
    ("<>", Tok::Neq),
    ("<=", Tok::Le),
    ("<", Tok::Lt),
    (">=", Tok::Ge),
    (">", Tok::Gt),
    ("'", Tok::Quote),
    (":", Tok::Colon),
    (".", Tok::Dot),
    (",", Tok::Comma),
    (")", Tok::RParen),
    ("(", Tok::LParen),
    ("]", Tok::RBrack),
    ("[", Tok::LBrack),
    ("+", Tok::Plus),
    ("-", Tok::Hyphen),
    ("^", Tok::Power),
    ("/", Tok::Divide),
    ("*", Tok::Asterisk),
];

fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Splits `src` into tokens (whitespace and comments skipped), ending with
/// [`Tok::Eof`]. An unknown character is an error at its offset.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, PatternError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let Some(c) = src[i..].chars().next() else {
            break;
        };
        if is_ws(c) {
            i += c.len_utf8();
            continue;
        }
        if b[i..].starts_with(b"/*") {
            // an unterminated comment falls through: '/' then '*' tokens
            if let Some(j) = src[i + 2..].find("*/") {
                i += 2 + j + 2;
                continue;
            }
        } else if b[i..].starts_with(b"//") {
            let j = src[i..].find(['\r', '\n']).unwrap_or(src.len() - i);
            i += j;
            continue;
        }
        let mut best: Option<(usize, Tok)> = None;
        let mut offer = |len: Option<usize>, t: Tok| {
            if let Some(l) = len
                && l > 0
                && best.is_none_or(|(bl, bt)| l > bl || (l == bl && t < bt))
            {
                best = Some((l, t));
            }
        };
        let s = &b[i..];
        offer(int_neg(s), Tok::IntNeg);
        offer(int_pos(s), Tok::IntPos);
        offer(float(s, true), Tok::FloatNeg);
        offer(float(s, false), Tok::FloatPos);
        offer(hex(s), Tok::Hex);
        offer(binary(s), Tok::Binary);
        offer(string(s), Tok::Str);
        for w in ["true", "false"] {
            offer(s.starts_with(w.as_bytes()).then_some(w.len()), Tok::Bool);
        }
        offer(timestamp(s), Tok::Timestamp);
        for (w, t) in KEYWORDS {
            offer(s.starts_with(w.as_bytes()).then_some(w.len()), *t);
        }
        offer(ident(s, false), Tok::IdentNoHyphen);
        offer(ident(s, true), Tok::IdentHyphen);
        for (w, t) in PUNCT {
            offer(s.starts_with(w.as_bytes()).then_some(w.len()), *t);
        }
        let Some((len, kind)) = best else {
            return Err(PatternError::at(
                src,
                i,
                format!("unexpected character {c:?}"),
            ));
        };
        out.push(Token {
            kind,
            start: i,
            end: i + len,
        });
        i += len;
    }
    out.push(Token {
        kind: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    Ok(out)
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn unsigned_int(s: &[u8]) -> Option<usize> {
    match s.first()? {
        b'0' => Some(1),
        b'1'..=b'9' => Some(digits(s)),
        _ => None,
    }
}

fn int_neg(s: &[u8]) -> Option<usize> {
    if s.first()? != &b'-' {
        return None;
    }
    unsigned_int(&s[1..]).map(|n| n + 1)
}

fn int_pos(s: &[u8]) -> Option<usize> {
    let sign = usize::from(s.first() == Some(&b'+'));
    unsigned_int(&s[sign..]).map(|n| n + sign)
}

fn float(s: &[u8], neg: bool) -> Option<usize> {
    let sign = if neg {
        if s.first()? != &b'-' {
            return None;
        }
        1
    } else {
        usize::from(s.first() == Some(&b'+'))
    };
    let a = digits(&s[sign..]);
    let p = sign + a;
    if s.get(p) != Some(&b'.') {
        return None;
    }
    let f = digits(&s[p + 1..]);
    (f > 0).then_some(p + 1 + f)
}

fn hex(s: &[u8]) -> Option<usize> {
    if !s.starts_with(b"h'") {
        return None;
    }
    let n = s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let n = n - n % 2;
    (s.get(2 + n) == Some(&b'\'')).then_some(3 + n)
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

fn binary(s: &[u8]) -> Option<usize> {
    if !s.starts_with(b"b'") {
        return None;
    }
    let n = s[2..].iter().take_while(|c| is_b64(**c)).count();
    let body = &s[2..];
    // (B4)* then one of B4 | B3 '=' | B2 '=='
    let (len, ok) = match n % 4 {
        0 if n > 0 => (n, true),
        3 if body.get(n) == Some(&b'=') => (n + 1, true),
        2 if body.get(n..n + 2) == Some(b"==") => (n + 2, true),
        _ => (0, false),
    };
    (ok && body.get(len) == Some(&b'\'')).then_some(3 + len)
}

fn string(s: &[u8]) -> Option<usize> {
    if s.first()? != &b'\'' {
        return None;
    }
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\'' => return Some(i + 1),
            b'\\' => match s.get(i + 1) {
                Some(b'\'' | b'\\') => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
    None
}

fn timestamp(s: &[u8]) -> Option<usize> {
    if !s.starts_with(b"t'") {
        return None;
    }
    let t = &s[2..];
    let d = |i: usize| t.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| t.get(i) == Some(&c);
    let g = |i: usize| t.get(i).copied().unwrap_or(0);
    if !(d(0) && d(1) && d(2) && d(3) && at(4, b'-')) {
        return None;
    }
    let month_ok = (g(5) == b'0' && (b'1'..=b'9').contains(&g(6)))
        || (g(5) == b'1' && (b'0'..=b'2').contains(&g(6)));
    let day_ok = (g(8) == b'0' && (b'1'..=b'9').contains(&g(9)))
        || ((g(8) == b'1' || g(8) == b'2') && d(9))
        || (g(8) == b'3' && (g(9) == b'0' || g(9) == b'1'));
    let hour_ok = ((g(11) == b'0' || g(11) == b'1') && d(12))
        || (g(11) == b'2' && (b'0'..=b'3').contains(&g(12)));
    let min_ok = (b'0'..=b'5').contains(&g(14)) && d(15);
    let sec_ok = ((b'0'..=b'5').contains(&g(17)) && d(18)) || (g(17) == b'6' && g(18) == b'0');
    if !(month_ok
        && at(7, b'-')
        && day_ok
        && at(10, b'T')
        && hour_ok
        && at(13, b':')
        && min_ok
        && at(16, b':')
        && sec_ok)
    {
        return None;
    }
    let mut i = 19;
    if at(i, b'.') {
        let f = digits(&t[i + 1..]);
        if f == 0 {
            return None;
        }
        i += 1 + f;
    }
    (at(i, b'Z') && at(i + 1, b'\'')).then_some(2 + i + 2)
}

fn ident(s: &[u8], hyphen: bool) -> Option<usize> {
    let f = *s.first()?;
    if !(f.is_ascii_alphabetic() || f == b'_') {
        return None;
    }
    Some(
        1 + s[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || (hyphen && **c == b'-'))
            .count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn longest_match() {
        use Tok::*;
        assert_eq!(kinds("ANDx AND"), [IdentNoHyphen, And, Eof]);
        assert_eq!(
            kinds("ipv4-addr:value"),
            [IdentHyphen, Colon, IdentNoHyphen, Eof]
        );
        assert_eq!(
            kinds("t'2016-01-01T00:00:00Z' t'x'"),
            [Timestamp, IdentNoHyphen, Str, Eof]
        );
        assert_eq!(
            kinds("-1 +2 .5 -.5 007"),
            [
                IntNeg, IntPos, FloatPos, FloatNeg, IntPos, IntPos, IntPos, Eof
            ]
        );
        assert_eq!(
            kinds("h'ab' h'abc' b'QQ==' true"),
            [Hex, IdentNoHyphen, Str, Binary, Bool, Eof]
        );
        assert_eq!(kinds("'a\\'b' /* c */ // d"), [Str, Eof]);
        assert!(lex("#").is_err());
    }
}

//! Recursive-descent parser over the lexer's tokens. Precedence, loosest
//! first: FOLLOWEDBY, OR, AND between observations; qualifiers bind to the
//! observation before them; OR, AND inside `[ ]`. After parsing, the 2.1
//! validator's semantic checks run: no qualifier type twice directly on one
//! `[ ]`, and hash literals under `hashes` fit their algorithm.

use super::lexer::{Tok, Token, lex};
use super::{
    Comparison, Literal, ObjectPath, Observation, Op, PathStep, Pattern, PatternError, PropTest,
    Qualifier, Version,
};

/// Deepest nesting of parentheses and brackets accepted.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    version: Version,
    depth: usize,
}

pub(crate) fn parse(src: &str, version: Version) -> Result<Pattern, PatternError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        version,
        depth: 0,
    };
    if p.peek() != Tok::LBrack && p.peek() != Tok::LParen {
        return Err(p.err("a pattern starts with '[' or '('"));
    }
    let expr = p.observations()?;
    p.expect(Tok::Eof)?;
    Ok(Pattern { expr })
}

impl Parser<'_> {
    fn tok(&self) -> Token {
        self.toks.get(self.pos).copied().unwrap_or(Token {
            kind: Tok::Eof,
            start: self.src.len(),
            end: self.src.len(),
        })
    }

    fn peek(&self) -> Tok {
        self.tok().kind
    }

    fn text(&self, t: Token) -> &str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    fn bump(&mut self) -> Token {
        let t = self.tok();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, k: Tok) -> bool {
        if self.peek() == k {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn err(&self, what: &str) -> PatternError {
        let t = self.tok();
        let found = if t.kind == Tok::Eof {
            "end of pattern".to_string()
        } else {
            format!("{} {:?}", t.kind.describe(), self.text(t))
        };
        PatternError::at(self.src, t.start, format!("{what}, found {found}"))
    }

    fn expect(&mut self, k: Tok) -> Result<Token, PatternError> {
        if self.peek() == k {
            Ok(self.bump())
        } else {
            Err(self.err(&format!("expected {}", k.describe())))
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        Ok(())
    }

    fn observations(&mut self) -> Result<Observation, PatternError> {
        let mut v = vec![self.obs_or()?];
        while self.eat(Tok::FollowedBy) {
            v.push(self.obs_or()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Observation::FollowedBy(v)
        })
    }

    fn obs_or(&mut self) -> Result<Observation, PatternError> {
        let mut v = vec![self.obs_and()?];
        while self.eat(Tok::Or) {
            v.push(self.obs_and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Observation::Or(v)
        })
    }

    fn obs_and(&mut self) -> Result<Observation, PatternError> {
        let mut v = vec![self.obs_qualified()?];
        while self.eat(Tok::And) {
            v.push(self.obs_qualified()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Observation::And(v)
        })
    }

    fn obs_qualified(&mut self) -> Result<Observation, PatternError> {
        let simple = self.peek() == Tok::LBrack;
        let mut o = match self.peek() {
            Tok::LBrack => {
                self.bump();
                self.enter()?;
                let c = self.comparison()?;
                self.expect(Tok::RBrack)?;
                self.depth -= 1;
                Observation::Comparison(c)
            }
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let o = self.observations()?;
                self.expect(Tok::RParen)?;
                self.depth -= 1;
                Observation::Group(Box::new(o))
            }
            _ => return Err(self.err("expected '[' or '('")),
        };
        let mut seen = [false; 3];
        loop {
            let at = self.tok();
            let (q, slot) = match self.peek() {
                Tok::Within => {
                    self.bump();
                    let t = self.bump();
                    if !matches!(t.kind, Tok::IntPos | Tok::FloatPos) {
                        self.pos -= 1;
                        return Err(self.err("expected a positive number after WITHIN"));
                    }
                    let n: f64 = self.text(t).parse().unwrap_or(f64::MAX);
                    self.expect(Tok::Seconds)?;
                    (Qualifier::Within(n), 0)
                }
                Tok::Repeats => {
                    self.bump();
                    let t = self.expect(Tok::IntPos)?;
                    let n = self
                        .text(t)
                        .trim_start_matches('+')
                        .parse()
                        .unwrap_or(u64::MAX);
                    self.expect(Tok::Times)?;
                    (Qualifier::Repeats(n), 1)
                }
                Tok::Start => {
                    self.bump();
                    let a = self.timestamp_for_qualifier()?;
                    self.expect(Tok::Stop)?;
                    let b = self.timestamp_for_qualifier()?;
                    (Qualifier::StartStop(a, b), 2)
                }
                _ => break,
            };
            if simple && seen[slot] {
                return Err(PatternError::at(
                    self.src,
                    at.start,
                    "duplicate qualifier type on one observation".to_string(),
                ));
            }
            seen[slot] = true;
            o = Observation::Qualified(Box::new(o), q);
        }
        Ok(o)
    }

    fn timestamp_for_qualifier(&mut self) -> Result<String, PatternError> {
        let t = self.tok();
        match t.kind {
            Tok::Timestamp => {
                self.bump();
                Ok(self
                    .text(t)
                    .get(2..t.end - t.start - 1)
                    .unwrap_or("")
                    .to_string())
            }
            Tok::Str if self.version == Version::V20 => {
                self.bump();
                Ok(unquote(self.text(t)))
            }
            _ => Err(self.err("expected a timestamp t'…'")),
        }
    }

    fn comparison(&mut self) -> Result<Comparison, PatternError> {
        let mut v = vec![self.cmp_and()?];
        while self.eat(Tok::Or) {
            v.push(self.cmp_and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Comparison::Or(v)
        })
    }

    fn cmp_and(&mut self) -> Result<Comparison, PatternError> {
        let mut v = vec![self.prop_test()?];
        while self.eat(Tok::And) {
            v.push(self.prop_test()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Comparison::And(v)
        })
    }

    fn prop_test(&mut self) -> Result<Comparison, PatternError> {
        if self.eat(Tok::LParen) {
            self.enter()?;
            let c = self.comparison()?;
            self.expect(Tok::RParen)?;
            self.depth -= 1;
            return Ok(c);
        }
        if matches!(self.peek(), Tok::Not | Tok::Exists) {
            let negated = self.eat(Tok::Not);
            self.expect(Tok::Exists)?;
            let path = self.object_path()?;
            return Ok(Comparison::Test(PropTest {
                path,
                negated,
                op: Op::Exists,
                value: Literal::None,
            }));
        }
        let path = self.object_path()?;
        let negated = self.eat(Tok::Not);
        let op_tok = self.tok();
        let op = match op_tok.kind {
            Tok::Eq => Op::Eq,
            Tok::Neq => Op::Neq,
            Tok::Lt => Op::Lt,
            Tok::Le => Op::Le,
            Tok::Gt => Op::Gt,
            Tok::Ge => Op::Ge,
            Tok::In => Op::In,
            Tok::Like => Op::Like,
            Tok::Matches => Op::Matches,
            Tok::IsSubset => Op::IsSubset,
            Tok::IsSuperset => Op::IsSuperset,
            _ => return Err(self.err("expected a comparison operator")),
        };
        self.bump();
        let lit_start = self.tok().start;
        let value = match op {
            Op::Eq | Op::Neq => self.literal(true)?,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => self.literal(false)?,
            Op::In => self.set()?,
            _ => {
                let t = self.expect(Tok::Str)?;
                Literal::Str(unquote(self.text(t)))
            }
        };
        let lit_end = self
            .toks
            .get(self.pos.saturating_sub(1))
            .map_or(lit_start, |t| t.end);
        if self.version == Version::V21 {
            self.check_hash(&path, lit_start, lit_end)?;
        }
        Ok(Comparison::Test(PropTest {
            path,
            negated,
            op,
            value,
        }))
    }

    /// The 2.1 validator's hash check: under a `hashes` key, a known
    /// algorithm's literal (source text, quotes removed) must fit it.
    fn check_hash(&self, path: &ObjectPath, start: usize, end: usize) -> Result<(), PatternError> {
        if !path
            .steps
            .iter()
            .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"))
        {
            return Ok(());
        }
        let Some(PathStep::Key(alg)) = path.steps.last() else {
            return Ok(());
        };
        let alg = alg.to_uppercase().replace('-', "");
        // source text of the literal with whitespace between tokens dropped
        let mut text = String::new();
        for t in self
            .toks
            .iter()
            .filter(|t| t.start >= start && t.end <= end)
        {
            text.push_str(self.text(*t));
        }
        let v = text.replace('\'', "");
        let v = v.strip_suffix('\n').unwrap_or(&v);
        let hex = |n: usize| v.len() == n && v.bytes().all(|c| c.is_ascii_hexdigit());
        let ok = match alg.as_str() {
            "MD5" => hex(32),
            "SHA1" | "RIPEMD160" => hex(40),
            "SHA224" | "SHA3224" => hex(56),
            "SHA256" | "SHA3256" => hex(64),
            "SHA384" | "SHA3384" => hex(96),
            "SHA512" | "SHA3512" | "WHIRLPOOL" => hex(128),
            "SSDEEP" => {
                (1..=128).contains(&v.len())
                    && v.bytes().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b':' | b'.')
                    })
            }
            "MD6" => {
                let lead = v.bytes().take_while(u8::is_ascii_hexdigit).count();
                lead >= 32
                    || v.strip_prefix("    ")
                        .is_some_and(|r| r.bytes().take_while(u8::is_ascii_hexdigit).count() >= 64)
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(PatternError::at(
                self.src,
                start,
                format!("{v:?} is not a valid {alg} hash"),
            ))
        }
    }

    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let t = self.tok();
        if !matches!(t.kind, Tok::IdentNoHyphen | Tok::IdentHyphen) {
            return Err(self.err("expected an object type"));
        }
        self.bump();
        let object_type = self.text(t).to_string();
        self.expect(Tok::Colon)?;
        let mut steps = Vec::new();
        let f = self.tok();
        match f.kind {
            Tok::IdentNoHyphen => steps.push(PathStep::Key(self.text(f).to_string())),
            Tok::Str => steps.push(PathStep::Key(unquote(self.text(f)))),
            _ => return Err(self.err("expected a property name")),
        }
        self.bump();
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    let k = self.tok();
                    match k.kind {
                        Tok::IdentNoHyphen => steps.push(PathStep::Key(self.text(k).to_string())),
                        Tok::Str => steps.push(PathStep::Key(unquote(self.text(k)))),
                        _ => return Err(self.err("expected a property name after '.'")),
                    }
                    self.bump();
                }
                Tok::LBrack => {
                    self.bump();
                    let i = self.tok();
                    match i.kind {
                        Tok::Asterisk => steps.push(PathStep::Any),
                        Tok::IntPos | Tok::IntNeg => steps.push(PathStep::Index(
                            self.text(i)
                                .trim_start_matches('+')
                                .parse()
                                .unwrap_or(i64::MAX),
                        )),
                        _ => return Err(self.err("expected an index or '*'")),
                    }
                    self.bump();
                    self.expect(Tok::RBrack)?;
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn literal(&mut self, allow_bool: bool) -> Result<Literal, PatternError> {
        let t = self.tok();
        let s = self.text(t);
        let lit = match t.kind {
            Tok::IntPos | Tok::IntNeg => Literal::Int(s.trim_start_matches('+').parse().unwrap_or(
                if s.starts_with('-') {
                    i64::MIN
                } else {
                    i64::MAX
                },
            )),
            Tok::FloatPos | Tok::FloatNeg => Literal::Float(s.parse().unwrap_or(f64::NAN)),
            Tok::Str => Literal::Str(unquote(s)),
            Tok::Binary => Literal::Binary(s.get(2..s.len() - 1).unwrap_or("").to_string()),
            Tok::Hex => Literal::Hex(s.get(2..s.len() - 1).unwrap_or("").to_string()),
            Tok::Timestamp => Literal::Timestamp(s.get(2..s.len() - 1).unwrap_or("").to_string()),
            Tok::Bool if allow_bool => Literal::Bool(s == "true"),
            _ => {
                return Err(self.err(if allow_bool {
                    "expected a literal"
                } else {
                    "expected an orderable literal"
                }));
            }
        };
        self.bump();
        Ok(lit)
    }

    fn set(&mut self) -> Result<Literal, PatternError> {
        self.expect(Tok::LParen)?;
        let mut items = Vec::new();
        if self.eat(Tok::RParen) {
            return Ok(Literal::Set(items));
        }
        loop {
            items.push(self.literal(true)?);
            if self.eat(Tok::RParen) {
                return Ok(Literal::Set(items));
            }
            self.expect(Tok::Comma)?;
        }
    }
}

/// `'a\'b'` → `a'b`.
fn unquote(s: &str) -> String {
    let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

//! PEP 440 versions (PyPI): normalisation (case, separators, spellings such as
//! `alpha`/`c`/`rev`, implicit numbers), epochs, pre-, post- and
//! development releases and local versions, ordered as PEP 440 specifies.

use std::cmp::Ordering;
use std::fmt;

use super::digits::parse_u64;
use crate::error::{Error, Result};

const SCHEME: &str = "pep440";

/// A local version segment: numbers sort after strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Local {
    Str(String),
    Num(u64),
}

/// A parsed PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440 {
    epoch: u64,
    release: Vec<u64>,
    /// `(0 = a, 1 = b, 2 = rc, number)`.
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<Local>,
}

/// Byte cursor over the lowercased input.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn sep(&mut self) -> bool {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn word(&mut self, w: &str) -> bool {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            true
        } else {
            false
        }
    }
    fn digits(&mut self) -> Option<&str> {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        if self.i == start {
            None
        } else {
            std::str::from_utf8(&self.s[start..self.i]).ok()
        }
    }
}

impl Pep440 {
    /// Parses and normalises a PEP 440 version.
    pub fn parse(input: &str) -> Result<Pep440> {
        let err = |r: &str| Error::version(SCHEME, input, r);
        let num = |d: &str| parse_u64(d).ok_or_else(|| err("number too large"));
        let lower = input.trim().to_ascii_lowercase();
        let mut c = Cursor {
            s: lower.as_bytes(),
            i: 0,
        };
        if c.peek() == Some(b'v') {
            c.i += 1;
        }
        let first = c
            .digits()
            .ok_or_else(|| err("release number expected"))?
            .to_owned();
        let mut epoch = 0;
        let mut release = Vec::new();
        if c.peek() == Some(b'!') {
            c.i += 1;
            epoch = num(&first)?;
            release.push(num(c
                .digits()
                .ok_or_else(|| err("release number expected"))?)?);
        } else {
            release.push(num(&first)?);
        }
        while c.peek() == Some(b'.') && matches!(c.s.get(c.i + 1), Some(b'0'..=b'9')) {
            c.i += 1;
            release.push(num(c.digits().unwrap_or_default())?);
        }
        // pre-release
        let mut pre = None;
        let save = c.i;
        c.sep();
        let label = [
            ("alpha", 0),
            ("a", 0),
            ("beta", 1),
            ("b", 1),
            ("preview", 2),
            ("pre", 2),
            ("c", 2),
            ("rc", 2),
        ]
        .into_iter()
        .find(|(w, _)| c.word(w));
        match label {
            Some((_, l)) => {
                let after = c.i;
                c.sep();
                match c.digits() {
                    Some(d) => pre = Some((l, num(d)?)),
                    None => {
                        // The trailing separator stays consumed, as in the
                        // reference regular expression.
                        let _ = after;
                        pre = Some((l, 0));
                    }
                }
            }
            None => c.i = save,
        }
        // post-release
        let mut post = None;
        let save = c.i;
        if c.peek() == Some(b'-') && matches!(c.s.get(c.i + 1), Some(b'0'..=b'9')) {
            c.i += 1;
            post = Some(num(c.digits().unwrap_or_default())?);
        } else {
            c.sep();
            if c.word("post") || c.word("rev") || c.word("r") {
                c.sep();
                post = Some(match c.digits() {
                    Some(d) => num(d)?,
                    None => 0,
                });
            } else {
                c.i = save;
            }
        }
        // dev release
        let mut dev = None;
        let save = c.i;
        c.sep();
        if c.word("dev") {
            c.sep();
            dev = Some(match c.digits() {
                Some(d) => num(d)?,
                None => 0,
            });
        } else {
            c.i = save;
        }
        // local version
        let mut local = Vec::new();
        if c.peek() == Some(b'+') {
            c.i += 1;
            let rest = std::str::from_utf8(&c.s[c.i..]).map_err(|_| err("not ASCII"))?;
            for seg in rest.split(['-', '_', '.']) {
                if seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(err("bad local version segment"));
                }
                local.push(match parse_u64(seg) {
                    Some(n) => Local::Num(n),
                    None if seg.bytes().all(|b| b.is_ascii_digit()) => {
                        return Err(err("number too large"));
                    }
                    None => Local::Str(seg.to_owned()),
                });
            }
            c.i = c.s.len();
        }
        if c.i != c.s.len() {
            return Err(err(&format!("unexpected text at offset {}", c.i)));
        }
        Ok(Pep440 {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// True for pre- and development releases.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    fn release_trimmed(&self) -> &[u64] {
        let mut n = self.release.len();
        while n > 0 && self.release[n - 1] == 0 {
            n -= 1;
        }
        &self.release[..n]
    }
}

/// Sort key of one optional part: `Min` < any value < `Max`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Bound<T> {
    Min,
    Val(T),
    Max,
}

impl Ord for Pep440 {
    fn cmp(&self, o: &Self) -> Ordering {
        fn pre(v: &Pep440) -> Bound<(u8, u64)> {
            match (v.pre, v.post, v.dev) {
                (None, None, Some(_)) => Bound::Min,
                (None, _, _) => Bound::Max,
                (Some(p), _, _) => Bound::Val(p),
            }
        }
        fn post(v: &Pep440) -> Bound<u64> {
            v.post.map_or(Bound::Min, Bound::Val)
        }
        fn dev(v: &Pep440) -> Bound<u64> {
            v.dev.map_or(Bound::Max, Bound::Val)
        }
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| self.release_trimmed().cmp(o.release_trimmed()))
            .then_with(|| pre(self).cmp(&pre(o)))
            .then_with(|| post(self).cmp(&post(o)))
            .then_with(|| dev(self).cmp(&dev(o)))
            .then_with(|| self.local.cmp(&o.local))
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Pep440 {
    /// The normalised form (`1.0rc1.post2.dev3+local.1`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        for (i, r) in self.release.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{r}")?;
        }
        if let Some((l, n)) = self.pre {
            write!(f, "{}{n}", ["a", "b", "rc"][usize::from(l.min(2))])?;
        }
        if let Some(p) = self.post {
            write!(f, ".post{p}")?;
        }
        if let Some(d) = self.dev {
            write!(f, ".dev{d}")?;
        }
        for (i, l) in self.local.iter().enumerate() {
            f.write_str(if i == 0 { "+" } else { "." })?;
            match l {
                Local::Num(n) => write!(f, "{n}")?,
                Local::Str(s) => f.write_str(s)?,
            }
        }
        Ok(())
    }
}

impl PartialEq for Pep440 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440 {}

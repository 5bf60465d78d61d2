//! Alpine (apk-tools 2.x) package versions: `1.2.3a_rc1_p2-r4`, compared token
//! by token like apk-tools' `version.c` — numbers (a leading-zero number
//! compares like a fraction: `1.001 < 1.01 < 1.1`), one lower-case letter, `_alpha < _beta < _pre <
//! _rc < (none) < _cvs < _svn < _git < _hg < _p` suffixes, then `-rN`.

use std::cmp::Ordering;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    Invalid = -1,
    DigitOrZero = 0,
    Digit = 1,
    Letter = 2,
    Suffix = 3,
    SuffixNo = 4,
    RevisionNo = 5,
    End = 6,
}

const PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Cursor with apk-tools' tokenizer state.
struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    t: Tok,
}

impl Lexer<'_> {
    fn next_token(&mut self) {
        let s = self.s;
        let n = if self.i >= s.len() {
            Tok::End
        } else if matches!(self.t, Tok::Digit | Tok::DigitOrZero) && s[self.i].is_ascii_lowercase()
        {
            Tok::Letter
        } else if self.t == Tok::Letter && s[self.i].is_ascii_digit() {
            Tok::Digit
        } else if self.t == Tok::Suffix && s[self.i].is_ascii_digit() {
            Tok::SuffixNo
        } else {
            let n = match s[self.i] {
                b'.' => Tok::DigitOrZero,
                b'_' => Tok::Suffix,
                b'-' if s.get(self.i + 1) == Some(&b'r') => {
                    self.i += 1;
                    Tok::RevisionNo
                }
                _ => Tok::Invalid,
            };
            self.i += 1;
            n
        };
        let allowed = n >= self.t
            || (n == Tok::DigitOrZero && self.t == Tok::Digit)
            || (n == Tok::Suffix && self.t == Tok::SuffixNo)
            || (n == Tok::Digit && self.t == Tok::Letter);
        self.t = if allowed { n } else { Tok::Invalid };
    }

    /// apk-tools' `get_token`: the value of the current token, advancing.
    fn get_token(&mut self) -> i64 {
        let s = self.s;
        if self.i >= s.len() {
            self.t = Tok::End;
            return 0;
        }
        let mut v: i64 = 0;
        let mut nt = Tok::Invalid;
        let start = self.i;
        let mut i = self.i;
        match self.t {
            Tok::DigitOrZero if s[i] == b'0' => {
                // all but the last zero count; the last is read as a number
                while i + 1 < s.len() && s[i + 1] == b'0' {
                    i += 1;
                }
                nt = Tok::Digit;
                v = -((i - start) as i64);
            }
            Tok::DigitOrZero | Tok::Digit | Tok::SuffixNo | Tok::RevisionNo => {
                while i < s.len() && s[i].is_ascii_digit() {
                    v = v.saturating_mul(10).saturating_add(i64::from(s[i] - b'0'));
                    i += 1;
                }
            }
            Tok::Letter => {
                v = i64::from(s[i]);
                i += 1;
            }
            Tok::Suffix => {
                let rest = &s[i..];
                if let Some(k) = PRE.iter().position(|p| rest.starts_with(p.as_bytes())) {
                    v = k as i64 - PRE.len() as i64;
                    i += PRE[k].len();
                } else if let Some(k) = POST.iter().position(|p| rest.starts_with(p.as_bytes())) {
                    v = k as i64;
                    i += POST[k].len();
                } else {
                    self.t = Tok::Invalid;
                    return -1;
                }
            }
            Tok::Invalid | Tok::End => {
                self.t = Tok::Invalid;
                return -1;
            }
        }
        self.i = i;
        if self.i >= s.len() {
            self.t = Tok::End;
        } else if nt != Tok::Invalid {
            self.t = nt;
        } else {
            self.next_token();
        }
        v
    }
}

/// An Alpine package version.
#[derive(Debug, Clone)]
pub struct Apk {
    raw: String,
}

impl Apk {
    /// Parses (validates) an apk version.
    pub fn parse(input: &str) -> Result<Apk> {
        let t = input.trim();
        let mut lx = Lexer {
            s: t.as_bytes(),
            i: 0,
            t: Tok::Digit,
        };
        if t.is_empty() || !t.as_bytes()[0].is_ascii_digit() {
            return Err(Error::version("apk", input, "must start with a digit"));
        }
        // apk_version_validate: tokens until the end, none invalid.
        let mut guard = 0;
        while lx.t != Tok::End && lx.t != Tok::Invalid && guard <= t.len() {
            lx.get_token();
            guard += 1;
        }
        if lx.t != Tok::End {
            return Err(Error::version("apk", input, "invalid token"));
        }
        Ok(Apk { raw: t.to_owned() })
    }
}

/// apk-tools' `apk_version_compare_blob`.
pub(crate) fn apk_compare(a: &str, b: &str) -> Ordering {
    let mut la = Lexer {
        s: a.as_bytes(),
        i: 0,
        t: Tok::Digit,
    };
    let mut lb = Lexer {
        s: b.as_bytes(),
        i: 0,
        t: Tok::Digit,
    };
    let (mut av, mut bv) = (0i64, 0i64);
    while la.t == lb.t && la.t != Tok::End && la.t != Tok::Invalid && av == bv {
        av = la.get_token();
        bv = lb.get_token();
    }
    if av != bv {
        return av.cmp(&bv);
    }
    if la.t == lb.t {
        return Ordering::Equal;
    }
    if la.t == Tok::Suffix {
        let mut t = Lexer {
            s: la.s,
            i: la.i,
            t: la.t,
        };
        if t.get_token() < 0 {
            return Ordering::Less;
        }
    }
    if lb.t == Tok::Suffix {
        let mut t = Lexer {
            s: lb.s,
            i: lb.i,
            t: lb.t,
        };
        if t.get_token() < 0 {
            return Ordering::Greater;
        }
    }
    lb.t.cmp(&la.t)
}

impl Ord for Apk {
    fn cmp(&self, o: &Self) -> Ordering {
        apk_compare(&self.raw, &o.raw)
    }
}

impl PartialOrd for Apk {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Apk {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Apk {}

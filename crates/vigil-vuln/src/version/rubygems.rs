//! RubyGems versions (`Gem::Version`): `-` means `.pre.`, segments are runs
//! of digits or letters, a letter makes a pre-release, trailing zeros of the
//! numeric and of the string part are dropped, strings sort before numbers.

use std::cmp::Ordering;

use super::digits::cmp_digits;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Digits without leading zeros.
    Num(String),
    Str(String),
}

/// A parsed RubyGems version.
#[derive(Debug, Clone)]
pub struct Gem {
    /// Canonical segments (trailing zeros removed per part).
    segs: Vec<Seg>,
}

impl Gem {
    /// Parses a RubyGems version (`Gem::Version.correct?` rules; blank is `0`).
    pub fn parse(input: &str) -> Result<Gem> {
        let err = |r: &str| Error::version("rubygems", input, r);
        let t = input.trim();
        let t = if t.is_empty() { "0" } else { t };
        // ANCHORED_VERSION_PATTERN: [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?
        let (main, pre) = match t.split_once('-') {
            Some((m, p)) => (m, Some(p)),
            None => (t, None),
        };
        let mut dots = main.split('.');
        let first = dots.next().unwrap_or_default();
        if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("must start with a number"));
        }
        if dots.any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(err("bad segment"));
        }
        if let Some(p) = pre
            && p.split('.')
                .any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(err("bad pre-release part"));
        }
        let full = t.replace('-', ".pre.");
        let mut raw = Vec::new();
        let b = full.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            if b[i].is_ascii_digit() {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let d = full[start..i].trim_start_matches('0');
                raw.push(Seg::Num(if d.is_empty() { "0".into() } else { d.into() }));
            } else if b[i].is_ascii_alphabetic() {
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                raw.push(Seg::Str(full[start..i].into()));
            } else {
                i += 1;
            }
        }
        let split = raw
            .iter()
            .position(|s| matches!(s, Seg::Str(_)))
            .unwrap_or(raw.len());
        let (mut nums, mut strs) = (raw[..split].to_vec(), raw[split..].to_vec());
        let zero = Seg::Num("0".into());
        while nums.last() == Some(&zero) {
            nums.pop();
        }
        while strs.last() == Some(&zero) {
            strs.pop();
        }
        nums.extend(strs);
        Ok(Gem { segs: nums })
    }

    /// True when the version contains a letter.
    pub fn is_prerelease(&self) -> bool {
        self.segs.iter().any(|s| matches!(s, Seg::Str(_)))
    }
}

impl Ord for Gem {
    fn cmp(&self, o: &Self) -> Ordering {
        let zero = Seg::Num("0".into());
        let n = self.segs.len().max(o.segs.len());
        for i in 0..n {
            let l = self.segs.get(i).unwrap_or(&zero);
            let r = o.segs.get(i).unwrap_or(&zero);
            let c = match (l, r) {
                (Seg::Num(a), Seg::Num(b)) => cmp_digits(a, b),
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
                (Seg::Str(a), Seg::Str(b)) => a.cmp(b),
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Gem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Gem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Gem {}

//! NuGet versions (`NuGetVersion`): one to four numeric parts (missing parts
//! are zero, leading zeros allowed), SemVer 2.0 pre-release labels compared
//! case-insensitively, build metadata ignored.

use std::cmp::Ordering;

use super::digits::{cmp_digits, parse_u64, trim_zeros};
use crate::error::{Error, Result};

/// A parsed NuGet version.
#[derive(Debug, Clone)]
pub struct NuGet {
    parts: [u64; 4],
    /// Lower-cased labels.
    pre: Vec<String>,
}

impl NuGet {
    /// Parses a NuGet version.
    pub fn parse(input: &str) -> Result<NuGet> {
        let err = |r: &str| Error::version("nuget", input, r);
        let t = input.trim();
        let t = t
            .split_once('+')
            .map_or(t, |(a, b)| if b.is_empty() { "" } else { a });
        if t.is_empty() {
            return Err(err("empty or bad metadata"));
        }
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (t, None),
        };
        let nums: Vec<&str> = core.split('.').collect();
        if nums.is_empty() || nums.len() > 4 {
            return Err(err("expected one to four numeric parts"));
        }
        let mut parts = [0u64; 4];
        for (i, p) in nums.iter().enumerate() {
            parts[i] = parse_u64(p)
                .filter(|n| *n <= i32::MAX as u64)
                .ok_or_else(|| err("bad numeric part"))?;
        }
        let mut labels = Vec::new();
        if let Some(pre) = pre {
            for l in pre.split('.') {
                if l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err(err("bad pre-release label"));
                }
                labels.push(l.to_ascii_lowercase());
            }
        }
        Ok(NuGet { parts, pre: labels })
    }
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    let an = a.bytes().all(|c| c.is_ascii_digit());
    let bn = b.bytes().all(|c| c.is_ascii_digit());
    match (an, bn) {
        (true, true) => cmp_digits(trim_zeros(a), trim_zeros(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl Ord for NuGet {
    fn cmp(&self, o: &Self) -> Ordering {
        self.parts
            .cmp(&o.parts)
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&o.pre) {
                        let c = cmp_label(a, b);
                        if c != Ordering::Equal {
                            return c;
                        }
                    }
                    self.pre.len().cmp(&o.pre.len())
                }
            })
    }
}

impl PartialOrd for NuGet {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGet {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGet {}

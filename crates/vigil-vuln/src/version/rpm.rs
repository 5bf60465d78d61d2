//! RPM versions (`[epoch:]version[-release]`) in rpm's order: epoch, then
//! `rpmvercmp` on version and release (alphanumeric runs, digits beat
//! letters, `~` sorts before everything, `^` after the base version only).

use std::cmp::Ordering;

use super::digits::{cmp_digits, parse_u64};
use crate::error::{Error, Result};

/// A parsed RPM EVR.
#[derive(Debug, Clone)]
pub struct Rpm {
    epoch: u64,
    version: String,
    release: Option<String>,
}

impl Rpm {
    /// Parses `[epoch:]version[-release]`.
    pub fn parse(input: &str) -> Result<Rpm> {
        let err = |r: &str| Error::version("rpm", input, r);
        let t = input.trim();
        if t.is_empty() || t.contains(char::is_whitespace) {
            return Err(err("empty or contains whitespace"));
        }
        let (epoch, rest) = match t.split_once(':') {
            Some((e, r)) => (parse_u64(e).ok_or_else(|| err("bad epoch"))?, r),
            None => (0, t),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_owned())),
            None => (rest, None),
        };
        if version.is_empty() || release.as_deref() == Some("") {
            return Err(err("empty version or release"));
        }
        if !t.is_ascii() {
            return Err(err("not ASCII"));
        }
        Ok(Rpm {
            epoch,
            version: version.into(),
            release,
        })
    }
}

/// rpm's `rpmvercmp`.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(x), Some(_)) = (ca, cb) else { break };
        let isnum = x.is_ascii_digit();
        let class = |c: u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (si, sj) = (i, j);
        while i < a.len() && class(a[i]) {
            i += 1;
        }
        while j < b.len() && class(b[j]) {
            j += 1;
        }
        if sj == j {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[si..i], &b[sj..j]);
        let c = if isnum {
            cmp_digits(
                std::str::from_utf8(sa).unwrap_or("0"),
                std::str::from_utf8(sb).unwrap_or("0"),
            )
        } else {
            sa.cmp(sb)
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

impl Ord for Rpm {
    fn cmp(&self, o: &Self) -> Ordering {
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| rpmvercmp(&self.version, &o.version))
            .then_with(|| match (&self.release, &o.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
            })
    }
}

impl PartialOrd for Rpm {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Rpm {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Rpm {}

//! Debian and Ubuntu package versions (`[epoch:]upstream[-revision]`) in
//! dpkg's order (`verrevcmp`): letters before other characters, `~` before
//! everything including the end of the string, digit runs numerically.

use std::cmp::Ordering;

use super::digits::{cmp_digits, parse_u64};
use crate::error::{Error, Result};

/// A parsed dpkg version.
#[derive(Debug, Clone)]
pub struct Dpkg {
    epoch: u64,
    upstream: String,
    revision: String,
}

impl Dpkg {
    /// Parses a dpkg version with the checks of dpkg's `parseversion`.
    pub fn parse(input: &str) -> Result<Dpkg> {
        let err = |r: &str| Error::version("dpkg", input, r);
        let t = input.trim();
        if t.is_empty() {
            return Err(err("empty"));
        }
        if t.contains(char::is_whitespace) {
            return Err(err("contains whitespace"));
        }
        let (epoch, rest) = match t.split_once(':') {
            Some((e, r)) => (
                parse_u64(e)
                    .filter(|n| *n <= i32::MAX as u64)
                    .ok_or_else(|| err("bad epoch"))?,
                r,
            ),
            None => (0, t),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => {
                if r.is_empty() {
                    return Err(err("empty revision"));
                }
                (u, r)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(err("empty upstream version"));
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err(err("upstream version does not start with a digit"));
        }
        if !upstream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~-:".contains(&b))
        {
            return Err(err("invalid character in upstream version"));
        }
        if !revision
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b))
        {
            return Err(err("invalid character in revision"));
        }
        Ok(Dpkg {
            epoch,
            upstream: upstream.into(),
            revision: revision.into(),
        })
    }
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
pub(crate) fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let da = std::str::from_utf8(&a[si.min(a.len())..i.max(si).min(a.len())]).unwrap_or("0");
        let db = std::str::from_utf8(&b[sj.min(b.len())..j.max(sj).min(b.len())]).unwrap_or("0");
        let c = cmp_digits(
            if da.is_empty() { "0" } else { da },
            if db.is_empty() { "0" } else { db },
        );
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

impl Ord for Dpkg {
    fn cmp(&self, o: &Self) -> Ordering {
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| verrevcmp(&self.upstream, &o.upstream))
            .then_with(|| verrevcmp(&self.revision, &o.revision))
    }
}

impl PartialOrd for Dpkg {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Dpkg {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Dpkg {}

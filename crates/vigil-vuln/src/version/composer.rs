//! Composer (Packagist) versions: `VersionParser::normalize` (optional `v`,
//! padding to four numbers, stability suffixes `alpha`/`a`, `beta`/`b`, `RC`,
//! `patch`/`pl`/`p`, `-dev`, build metadata dropped, date versions) and then
//! PHP's `version_compare` order (`dev < alpha < beta < RC < number < patch`).
//! Branch names (`dev-main`, `1.x-dev`) are not versions and are rejected.

use std::cmp::Ordering;

use super::digits::cmp_digits;
use crate::error::{Error, Result};

/// A parsed Composer version (its normalised form, split into PHP tokens).
#[derive(Debug, Clone)]
pub struct Composer {
    normalized: String,
    tokens: Vec<String>,
}

const STABILITIES: [&str; 9] = [
    "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p",
];

fn expand(stability: &str) -> &str {
    match stability {
        "a" => "alpha",
        "b" => "beta",
        "p" | "pl" => "patch",
        "rc" => "RC",
        other => other,
    }
}

impl Composer {
    /// Normalises and parses a Composer version.
    pub fn parse(input: &str) -> Result<Composer> {
        let err = |r: &str| Error::version("composer", input, r);
        let mut t = input.trim();
        if let Some((v, stab)) = t.rsplit_once('@')
            && ["stable", "rc", "beta", "alpha", "dev"]
                .contains(&stab.to_ascii_lowercase().as_str())
        {
            t = v.trim_end();
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("dev-") || lower.ends_with(".x-dev") || lower == "master" {
            return Err(err("branch names are not orderable versions"));
        }
        let t = match lower.split_once('+') {
            Some((v, b)) if !v.is_empty() && !b.is_empty() && !b.contains(char::is_whitespace) => v,
            Some(_) => return Err(err("bad build metadata")),
            None => lower.as_str(),
        };
        let body = t.strip_prefix('v').unwrap_or(t);
        let b = body.as_bytes();
        let mut i = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == 0 {
            return Err(err("must start with a number"));
        }
        let mut version;
        if i <= 5 {
            let mut nums = vec![&body[..i]];
            while nums.len() < 4 && i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                let s = i + 1;
                i = s;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                nums.push(&body[s..i]);
            }
            while nums.len() < 4 {
                nums.push("0");
            }
            version = nums.join(".");
        } else {
            // date versions: digits and [.:-] separators up to the modifier
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || (matches!(b[i], b'.' | b':' | b'-')
                        && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            version = body[..i]
                .chars()
                .map(|c| if c.is_ascii_digit() { c } else { '.' })
                .collect();
        }
        // modifier: [._-]?(?:(stability)((?:[.-]?\d+)*+)?)?([.-]?dev)?
        let rest = &body[i..];
        let mut r = rest.strip_prefix(['.', '_', '-']).unwrap_or(rest);
        let mut suffix = String::new();
        if let Some(stab) = STABILITIES.iter().find(|s| r.starts_with(**s)) {
            r = &r[stab.len()..];
            let mut nums = String::new();
            loop {
                let rb = r.as_bytes();
                let skip = usize::from(matches!(rb.first(), Some(b'.' | b'-')));
                let n = rb[skip..].iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    break;
                }
                nums.push_str(&r[..skip + n]);
                r = &r[skip + n..];
            }
            if *stab != "stable" {
                suffix = format!("-{}{}", expand(stab), nums.trim_start_matches(['.', '-']));
            }
        }
        let rr = r.strip_prefix(['.', '-']).unwrap_or(r);
        if rr == "dev" {
            suffix.push_str("-dev");
            r = "";
        }
        if !r.is_empty() {
            return Err(err("unrecognised suffix"));
        }
        version.push_str(&suffix);
        let tokens = canonical_tokens(&version);
        Ok(Composer {
            normalized: version,
            tokens,
        })
    }

    /// The normalised form (`1.2.0.0-beta1`).
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// PHP `php_canonicalize_version`, split at dots.
fn canonical_tokens(v: &str) -> Vec<String> {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in v.chars() {
        let special = matches!(c, '-' | '_' | '+');
        let last_dot = out.ends_with('.');
        if let Some(p) = prev {
            let pn = !p.is_ascii_digit() && p != '.';
            let cn = !c.is_ascii_digit() && c != '.';
            if special {
                if !last_dot {
                    out.push('.');
                }
            } else if (pn && c.is_ascii_digit()) || (p.is_ascii_digit() && cn) {
                if !last_dot {
                    out.push('.');
                }
                out.push(c);
            } else if !c.is_ascii_alphanumeric() {
                if !last_dot {
                    out.push('.');
                }
            } else {
                out.push(c);
            }
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out.split('.').map(str::to_owned).collect()
}

fn special_order(form: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(n, _)| form.starts_with(n))
        .map_or(-1, |(_, o)| *o)
}

fn is_digit_start(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// PHP `version_compare` over canonical tokens.
fn php_compare(a: &[&str], b: &[&str]) -> Ordering {
    let n = a.len().min(b.len());
    for i in 0..n {
        let (p, q) = (a[i], b[i]);
        let c = match (is_digit_start(p), is_digit_start(q)) {
            (true, true) => {
                let dp: String = p.chars().take_while(char::is_ascii_digit).collect();
                let dq: String = q.chars().take_while(char::is_ascii_digit).collect();
                cmp_digits(&dp, &dq)
            }
            (false, false) => special_order(p).cmp(&special_order(q)),
            (true, false) => 4.cmp(&special_order(q)),
            (false, true) => special_order(p).cmp(&4),
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    if a.len() > n {
        if is_digit_start(a[n]) {
            Ordering::Greater
        } else {
            php_compare(&a[n..], &["#N#"])
        }
    } else if b.len() > n {
        if is_digit_start(b[n]) {
            Ordering::Less
        } else {
            php_compare(&["#N#"], &b[n..])
        }
    } else {
        Ordering::Equal
    }
}

impl Ord for Composer {
    fn cmp(&self, o: &Self) -> Ordering {
        let a: Vec<&str> = self.tokens.iter().map(String::as_str).collect();
        let b: Vec<&str> = o.tokens.iter().map(String::as_str).collect();
        php_compare(&a, &b)
    }
}

impl PartialOrd for Composer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Composer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Composer {}

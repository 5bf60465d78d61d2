//! Maven versions, ordered like `org.apache.maven.artifact.versioning.
//! ComparableVersion` (Maven 3.x): items split at `.`, `-` and digit/letter
//! transitions, sub-lists after `-` and transitions, trailing null items
//! (`0`, `""`, `final`, `ga`, `release`) removed, and the qualifier order
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release
//! < sp < other qualifiers (alphabetical) < numbers`.

use std::cmp::Ordering;

use super::digits::{cmp_digits, trim_zeros};
use crate::error::{Error, Result};

/// One item of a parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Item {
    /// Digits without leading zeros (`"0"` for zero).
    Int(String),
    /// A qualifier after aliasing (lower case).
    Str(String),
    /// A sub-list started by `-` or a digit/letter transition.
    List(Vec<Item>),
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct Maven {
    items: Vec<Item>,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let v = if followed_by_digit && value.len() == 1 {
        match value {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        value
    };
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.to_owned())
}

fn parse_item(is_digit: bool, s: &str) -> Item {
    if is_digit {
        Item::Int(trim_zeros(s).to_owned())
    } else {
        string_item(s, false)
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(v) => v == "0",
        Item::Str(s) => s.is_empty(),
        Item::List(l) => l.is_empty(),
    }
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// `item.compareTo(null)`.
fn cmp_null(item: &Item) -> Ordering {
    match item {
        Item::Int(v) => {
            if v == "0" {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        Item::Str(s) => comparable_qualifier(s).as_str().cmp(RELEASE_INDEX),
        Item::List(l) => l.first().map_or(Ordering::Equal, cmp_null),
    }
}

fn cmp_item(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Int(x), Item::Int(y)) => cmp_digits(x, y),
        (Item::Int(_), _) => Ordering::Greater,
        (Item::Str(_), Item::Int(_)) => Ordering::Less,
        (Item::Str(x), Item::Str(y)) => comparable_qualifier(x).cmp(&comparable_qualifier(y)),
        (Item::Str(_), Item::List(_)) => Ordering::Less,
        (Item::List(_), Item::Int(_)) => Ordering::Less,
        (Item::List(_), Item::Str(_)) => Ordering::Greater,
        (Item::List(x), Item::List(y)) => cmp_lists(x, y),
    }
}

fn cmp_lists(x: &[Item], y: &[Item]) -> Ordering {
    let n = x.len().max(y.len());
    for i in 0..n {
        let r = match (x.get(i), y.get(i)) {
            (Some(l), Some(r)) => cmp_item(l, r),
            (Some(l), None) => cmp_null(l),
            (None, Some(r)) => cmp_null(r).reverse(),
            (None, None) => Ordering::Equal,
        };
        if r != Ordering::Equal {
            return r;
        }
    }
    Ordering::Equal
}

impl Maven {
    /// Parses a Maven version. Any non-empty string without blanks is a
    /// version for Maven; empty strings and whitespace are rejected.
    pub fn parse(input: &str) -> Result<Maven> {
        if input.is_empty() {
            return Err(Error::version("maven", input, "empty"));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(Error::version("maven", input, "contains whitespace"));
        }
        let v = input.to_lowercase();
        let bytes = v.as_bytes();
        // levels[k + 1] is the last element of levels[k].
        let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0;
        for (i, &c) in bytes.iter().enumerate() {
            let cur = levels.len() - 1;
            if c == b'.' || c == b'-' {
                if i == start {
                    levels[cur].push(Item::Int("0".into()));
                } else {
                    levels[cur].push(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
                if c == b'-' {
                    levels.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    levels[cur].push(string_item(&v[start..i], true));
                    start = i;
                    levels.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    levels[cur].push(parse_item(true, &v[start..i]));
                    start = i;
                    levels.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if v.len() > start {
            let cur = levels.len() - 1;
            levels[cur].push(parse_item(is_digit, &v[start..]));
        }
        let mut child: Option<Vec<Item>> = None;
        while let Some(mut list) = levels.pop() {
            if let Some(c) = child.take() {
                list.push(Item::List(c));
            }
            normalize(&mut list);
            child = Some(list);
        }
        Ok(Maven {
            items: child.unwrap_or_default(),
        })
    }
}

impl Ord for Maven {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

impl PartialOrd for Maven {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Maven {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Maven {}

//! The rule AST: what a Sigma detection rule says, parsed but not compiled.
//! Correlation and filter rules have their own types in `correlation` and
//! `filter`.

use std::fmt;
use std::str::FromStr;

use crate::condition::Condition;

/// A parsed Sigma detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Metadata shared by all rule kinds.
    pub meta: Meta,
    /// Where the events come from.
    pub logsource: LogSource,
    /// The detection: named selections and the condition.
    pub detection: Detection,
    /// Fields worth showing with a match (`fields`).
    pub fields: Vec<String>,
}

/// Metadata common to detection, correlation and filter rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    /// `title`.
    pub title: String,
    /// `id` (a UUID by convention, not enforced).
    pub id: Option<String>,
    /// `name`: a unique, human-readable handle correlations may use.
    pub name: Option<String>,
    /// `related`: other rules this one derives from, obsoletes, etc.
    pub related: Vec<Related>,
    /// `taxonomy` (default `sigma`).
    pub taxonomy: Option<String>,
    /// `status`.
    pub status: Option<Status>,
    /// `description`.
    pub description: Option<String>,
    /// `license`.
    pub license: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `date` (as written, `YYYY-MM-DD` or `YYYY/MM/DD`).
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `tags`, such as `attack.t1059.001`, `attack.execution`, `cve.2021-44228`.
    pub tags: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `level`.
    pub level: Option<Level>,
    /// `scope`.
    pub scope: Vec<String>,
}

/// One `related` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// The other rule's id.
    pub id: String,
    /// `derived`, `obsolete`, `merged`, `renamed` or `similar`.
    pub kind: String,
}

/// `status` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `stable`.
    Stable,
    /// `test`.
    Test,
    /// `experimental`.
    Experimental,
    /// `deprecated`.
    Deprecated,
    /// `unsupported` (rejected by the loader).
    Unsupported,
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "stable" => Status::Stable,
            "test" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => return Err(format!("unknown status {s:?}")),
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        })
    }
}

/// `level` of a rule, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return Err(format!("unknown level {s:?}")),
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        })
    }
}

/// `logsource`: which events a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct LogSource {
    /// `product` (e.g. `windows`, `linux`, `aws`).
    pub product: Option<String>,
    /// `category` (e.g. `process_creation`).
    pub category: Option<String>,
    /// `service` (e.g. `security`, `sshd`).
    pub service: Option<String>,
    /// `definition` (free text).
    pub definition: Option<String>,
}

/// The `detection` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Named selections in file order.
    pub selections: Vec<(String, Selection)>,
    /// The condition (several conditions in a list are OR-ed into one).
    pub condition: Condition,
}

/// A search identifier's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Maps OR-ed together; the items of one map are AND-ed. A plain map is
    /// a list of one map.
    Maps(Vec<Vec<FieldItem>>),
    /// Keyword search: values searched in every field of the event.
    Keywords(FieldItem),
}

/// `field|mod1|mod2: values` (the field is `None` for keywords).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldItem {
    /// The field name, `None` for keyword search.
    pub field: Option<String>,
    /// The modifiers in the order written.
    pub modifiers: Vec<Modifier>,
    /// The values (OR-ed, or AND-ed with `all`).
    pub values: Vec<SigmaValue>,
}

/// A value in a detection.
#[derive(Debug, Clone, PartialEq)]
pub enum SigmaValue {
    /// A string with wildcards parsed.
    Str(SigmaString),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `null`: the field is absent or null.
    Null,
}

/// A string value: literal text and wildcards (escapes already resolved).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigmaString {
    /// The parts in order.
    pub parts: Vec<Part>,
    /// The text as written in the rule (regexes, CIDRs and field references
    /// use it unprocessed).
    pub raw: String,
}

/// A piece of a [`SigmaString`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Plain text.
    Lit(String),
    /// `*`: any run of characters.
    AnyMany,
    /// `?`: exactly one character.
    AnyOne,
    /// `%name%` under the `expand` modifier.
    Placeholder(String),
}

impl SigmaString {
    /// Parses wildcards and `\` escapes: `\*`, `\?` and `\\` are literal;
    /// a `\` before anything else is a plain backslash.
    pub fn parse(raw: &str) -> Self {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut it = raw.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '\\' => match it.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        lit.push(n);
                        it.next();
                    }
                    _ => lit.push('\\'),
                },
                '*' | '?' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(if c == '*' {
                        Part::AnyMany
                    } else {
                        Part::AnyOne
                    });
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Self {
            parts,
            raw: raw.to_string(),
        }
    }

    /// A plain literal with no wildcards.
    pub fn literal(s: &str) -> Self {
        let parts = if s.is_empty() {
            vec![]
        } else {
            vec![Part::Lit(s.to_string())]
        };
        Self {
            parts,
            raw: s.to_string(),
        }
    }

    /// True when the string has wildcards or placeholders.
    pub fn has_special(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Lit(_)))
    }

    /// The literal text when there are no wildcards.
    pub fn as_literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }
}

/// A value modifier (`field|modifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Windash,
    Re,
    /// `i` after `re`: case-insensitive.
    ReI,
    /// `m` after `re`: multi-line.
    ReM,
    /// `s` after `re`: dot matches newline.
    ReS,
    Base64,
    Base64Offset,
    Utf16le,
    Utf16be,
    Utf16,
    /// Alias of `utf16le`.
    Wide,
    Lt,
    Lte,
    Gt,
    Gte,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Cidr,
    Expand,
    FieldRef,
}

impl Modifier {
    /// Parses a modifier name as written after `|`.
    pub fn parse(s: &str) -> Option<Self> {
        use Modifier::*;
        Some(match s {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "exists" => Exists,
            "cased" => Cased,
            "neq" => Neq,
            "windash" => Windash,
            "re" => Re,
            "i" => ReI,
            "m" => ReM,
            "s" => ReS,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" => Utf16le,
            "utf16be" => Utf16be,
            "utf16" => Utf16,
            "wide" => Wide,
            "lt" => Lt,
            "lte" => Lte,
            "gt" => Gt,
            "gte" => Gte,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            "cidr" => Cidr,
            "expand" => Expand,
            "fieldref" => FieldRef,
            _ => return None,
        })
    }
}

//! CSV and plain-text indicator lists with a column mapping (abuse.ch
//! style): `#` comment lines, optional header, quoted CSV fields, a value
//! column, and either a fixed indicator type, a type column, or types
//! guessed per value.

use serde::{Deserialize, Serialize};
use vigil_model::Timestamp;

use crate::indicator::{Indicator, IndicatorType};
use crate::normalize;
use crate::report::ImportReport;
use crate::stix::ImportOptions;
use crate::{Error, Result};

/// How to read a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFormat {
    /// Field separator. By default, `,`; `None` reads one value per line
    /// (plain text).
    #[serde(default = "default_delimiter")]
    pub delimiter: Option<char>,
    /// Lines starting with this are comments. By default, `#`.
    #[serde(default = "default_comment")]
    pub comment: String,
    /// Skip the first non-comment line. By default, false.
    #[serde(default)]
    pub header: bool,
    /// 0-based column of the value. By default, 0.
    #[serde(default)]
    pub value_column: usize,
    /// Fixed type of every value; when `None` and there is no
    /// `type_column`, the type is guessed per value. By default, none.
    #[serde(default)]
    pub kind: Option<IndicatorType>,
    /// Column holding the type (`ip`, `domain`, `sha256`, …). By default, none.
    #[serde(default)]
    pub type_column: Option<usize>,
    /// Column of the first-seen time (RFC 3339 or `YYYY-MM-DD hh:mm:ss`, UTC).
    /// By default, none.
    #[serde(default)]
    pub first_seen_column: Option<usize>,
    /// Column of tags / labels (separated by `,`, `;` or `|`). By default, none.
    #[serde(default)]
    pub tags_column: Option<usize>,
    /// Column of a malware / threat name (goes to `related`). By default, none.
    #[serde(default)]
    pub related_column: Option<usize>,
}

fn default_delimiter() -> Option<char> {
    Some(',')
}

fn default_comment() -> String {
    "#".to_string()
}

impl Default for ListFormat {
    fn default() -> Self {
        Self {
            delimiter: default_delimiter(),
            comment: default_comment(),
            header: false,
            value_column: 0,
            kind: None,
            type_column: None,
            first_seen_column: None,
            tags_column: None,
            related_column: None,
        }
    }
}

impl ListFormat {
    /// One value per line, type guessed (or fixed with `kind`).
    pub fn plain(kind: Option<IndicatorType>) -> Self {
        Self {
            delimiter: None,
            kind,
            ..Self::default()
        }
    }
}

impl ListFormat {
    /// A CSV format from an abuse.ch-style column mapping: comma-separated
    /// `key=N` (0-based column) pairs for `value`, `type`, `first_seen`,
    /// `tags` and `related`; `type=NAME` (not a number) fixes the type of
    /// every value (`type=ip`, `type=sha256`). Example (URLhaus CSV):
    /// `value=2,first_seen=1,tags=6,related=5`.
    pub fn from_columns(spec: &str) -> Result<Self> {
        let mut f = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(Error::Config(format!(
                    "column mapping {part:?}: expected key=column"
                )));
            };
            let (k, v) = (k.trim(), v.trim());
            let col = || {
                v.parse::<usize>().map_err(|_| {
                    Error::Config(format!(
                        "column mapping {part:?}: {v:?} is not a column number"
                    ))
                })
            };
            match k {
                "value" => f.value_column = col()?,
                "type" => match v.parse::<usize>() {
                    Ok(c) => f.type_column = Some(c),
                    Err(_) => f.kind = Some(v.parse()?),
                },
                "first_seen" => f.first_seen_column = Some(col()?),
                "tags" => f.tags_column = Some(col()?),
                "related" => f.related_column = Some(col()?),
                other => {
                    return Err(Error::Config(format!(
                        "column mapping: unknown key {other:?} (value, type, first_seen, tags, related)"
                    )));
                }
            }
        }
        Ok(f)
    }
}

/// Longest line accepted (bytes); longer lines are reported and skipped.
pub const MAX_LINE: usize = 64 * 1024;

/// Splits one CSV line (RFC 4180 quotes, `""` inside quotes).
fn split_csv(line: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && cur.trim().is_empty() {
            cur.clear();
            quoted = true;
        } else if c == delim {
            out.push(std::mem::take(&mut cur).trim().to_string());
        } else {
            cur.push(c);
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    Timestamp::parse_rfc3339(s)
        .or_else(|| Timestamp::parse_rfc3339(&format!("{}Z", s.replacen(' ', "T", 1))))
        .or_else(|| Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z")))
}

/// Reads a list (gzip or not). `source` names the feed; errors are reported
/// per line (`line N`).
pub fn parse_list(
    bytes: &[u8],
    source: &str,
    format: &ListFormat,
    opts: &ImportOptions,
) -> Result<(Vec<Indicator>, ImportReport)> {
    if format.delimiter.is_none() && (format.type_column.is_some() || format.value_column > 0) {
        return Err(Error::Config("plain-text lists have one column".into()));
    }
    let data = crate::decode_input(bytes, opts.max_bytes)?;
    let text = String::from_utf8_lossy(&data);
    let mut report = ImportReport::default();
    let mut out = Vec::new();
    let mut header_pending = format.header;
    for (i, line) in text.lines().enumerate() {
        let lineno = format!("line {}", i + 1);
        let t = line.trim();
        if t.is_empty() || (!format.comment.is_empty() && t.starts_with(&format.comment)) {
            continue;
        }
        if header_pending {
            header_pending = false;
            continue;
        }
        if t.len() > MAX_LINE {
            report.error(source, lineno, "line too long");
            continue;
        }
        report.count_object("list-line");
        let cols = match format.delimiter {
            Some(d) => split_csv(t, d),
            None => vec![t.to_string()],
        };
        let col = |c: Option<usize>| {
            c.and_then(|c| cols.get(c))
                .map(String::as_str)
                .filter(|s| !s.is_empty())
        };
        let Some(value) = col(Some(format.value_column)) else {
            report.error(
                source,
                lineno,
                format!("no value in column {}", format.value_column),
            );
            continue;
        };
        let kind = match (format.kind, col(format.type_column)) {
            (Some(k), _) => Some(k),
            (None, Some(t)) => t.parse().ok(),
            (None, None) => normalize::guess_type(value),
        };
        let Some(kind) = kind else {
            report.error(source, lineno, format!("cannot tell the type of {value:?}"));
            continue;
        };
        let mut ind = match Indicator::new(kind, value, source, Some(&lineno)) {
            Ok(i) => i,
            Err(e) => {
                report.error(source, lineno, e.to_string());
                continue;
            }
        };
        ind.confidence = opts.default_confidence;
        ind.tlp = opts.default_tlp;
        ind.first_seen = col(format.first_seen_column).and_then(parse_time);
        if let Some(tags) = col(format.tags_column) {
            ind.labels.extend(
                tags.split([',', ';', '|'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        if let Some(r) = col(format.related_column) {
            ind.related.insert(r.to_string());
        }
        report.count_indicator(ind.kind);
        out.push(ind);
    }
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    #[test]
    fn column_mapping() {
        let f = ListFormat::from_columns("value=1, type=ip, first_seen=0").expect("spec");
        assert_eq!(
            (f.value_column, f.kind, f.first_seen_column),
            (1, Some(IndicatorType::Ipv4), Some(0))
        );
        let f = ListFormat::from_columns("value=2,type=3,tags=6,related=5").expect("spec");
        assert_eq!(
            (f.type_column, f.tags_column, f.related_column),
            (Some(3), Some(6), Some(5))
        );
        let (inds, r) = parse_list(
            b"# first_seen,ip\n2024-05-01 10:00:00,198.51.100[.]7\nbad,not-an-ip\n",
            "feodo",
            &ListFormat::from_columns("value=1,type=ip,first_seen=0").expect("spec"),
            &ImportOptions::default(),
        )
        .expect("list");
        assert_eq!(inds.len(), 1);
        assert_eq!(inds[0].value, "198.51.100.7");
        assert_eq!(
            inds[0].first_seen,
            Timestamp::parse_rfc3339("2024-05-01T10:00:00Z")
        );
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].id, "line 3");
        for bad in ["value", "value=x", "colour=1", "type=bogus"] {
            assert!(ListFormat::from_columns(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn urlhaus_style_csv() {
        let csv = "# URLhaus\n# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n\
            \"1\",\"2024-05-01 10:00:00\",\"hxxp://evil[.]example/a.sh\",\"online\",\"\",\"malware_download\",\"elf,mirai\",\"x\",\"r\"\n\
            \"2\",\"2024-05-01 10:00:00\",\"\",\"online\",\"\",\"x\",\"\",\"x\",\"r\"\n";
        let fmt = ListFormat {
            value_column: 2,
            kind: Some(IndicatorType::Url),
            first_seen_column: Some(1),
            tags_column: Some(6),
            related_column: Some(5),
            ..ListFormat::default()
        };
        let (inds, r) =
            parse_list(csv.as_bytes(), "urlhaus", &fmt, &ImportOptions::default()).unwrap();
        assert_eq!(inds.len(), 1);
        assert_eq!(inds[0].value, "http://evil.example/a.sh");
        assert!(inds[0].labels.contains("mirai") && inds[0].related.contains("malware_download"));
        assert_eq!(
            inds[0].first_seen,
            Timestamp::parse_rfc3339("2024-05-01T10:00:00Z")
        );
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].id, "line 4");
    }

    #[test]
    fn plain_text_guessing() {
        let txt = "# blocklist\n198.51.100.1\n203.0.113.0/24\nevil[.]example\n0123456789abcdef0123456789abcdef\n???\n";
        let (inds, r) = parse_list(
            txt.as_bytes(),
            "bl",
            &ListFormat::plain(None),
            &ImportOptions::default(),
        )
        .unwrap();
        let kinds: Vec<_> = inds.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["ipv4", "ipv4-cidr", "domain", "md5"]);
        assert_eq!(r.errors[0].id, "line 6");
    }

    #[test]
    fn type_column() {
        let csv = "type,value\nip,198.51.100.1\nsha256,nothex\n";
        let fmt = ListFormat {
            header: true,
            value_column: 1,
            type_column: Some(0),
            ..ListFormat::default()
        };
        let (inds, r) = parse_list(csv.as_bytes(), "x", &fmt, &ImportOptions::default()).unwrap();
        assert_eq!((inds.len(), r.errors.len()), (1, 1));
    }
}

//! YAML text to rule documents: detection rules, correlation rules and
//! filters, with multi-document files (`action: global`/`reset`/`repeat`).

use yaml_serde::Value as Y;

use crate::condition::{Condition, parse_condition};
use crate::correlation::{CorrelationRule, parse_correlation};
use crate::error::{Error, Location, Problem};
use crate::filter::{FilterRule, parse_filter};
use crate::modifiers::item_spec;
use crate::rule::{
    Detection, FieldItem, Level, LogSource, Meta, Modifier, Related, Rule, Selection, SigmaString,
    SigmaValue, Status,
};

/// Largest rule file accepted, in bytes.
pub const MAX_FILE_SIZE: usize = 1 << 20;
/// Most documents accepted in one file.
const MAX_DOCUMENTS: usize = 256;

/// One document of a rule file.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Document {
    /// A detection rule.
    Rule(Rule),
    /// A correlation rule.
    Correlation(CorrelationRule),
    /// A filter rule.
    Filter(FilterRule),
}

/// [`parse_file`] for many files at once, on up to eight threads (one per
/// core); the results are in the order of `sources`.
pub fn parse_files<P, T>(sources: &[(P, T)]) -> Vec<Vec<Result<Document, Error>>>
where
    P: AsRef<str> + Sync,
    T: AsRef<str> + Sync,
{
    crate::par::map(sources, None, |(p, t)| parse_file(p.as_ref(), t.as_ref()))
}

/// Parses every document of a file. Each document is its own result, so a
/// bad document does not hide the good ones.
pub fn parse_file(path: &str, text: &str) -> Vec<Result<Document, Error>> {
    if text.len() > MAX_FILE_SIZE {
        return vec![Err(Error::Rule {
            path: path.into(),
            location: Location::default(),
            msg: format!("file larger than {MAX_FILE_SIZE} bytes"),
        })];
    }
    let starts = doc_start_lines(text);
    let mut out = Vec::new();
    let mut global: Option<Y> = None;
    let mut previous: Option<Y> = None;
    for (i, doc) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let offset = starts.get(i).copied().unwrap_or(0);
        if i >= MAX_DOCUMENTS {
            out.push(Err(Error::Rule {
                path: path.into(),
                location: Location {
                    line: offset + 1,
                    column: 0,
                },
                msg: format!("more than {MAX_DOCUMENTS} documents"),
            }));
            break;
        }
        let value = match <Y as serde::Deserialize>::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                let location = e
                    .location()
                    .map(|l| Location {
                        line: l.line(),
                        column: l.column(),
                    })
                    .unwrap_or_default();
                out.push(Err(Error::Rule {
                    path: path.into(),
                    location,
                    msg: yaml_msg(&e),
                }));
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let action = value.get("action").and_then(Y::as_str).map(str::to_string);
        let value = match action.as_deref() {
            Some("global") => {
                global = Some(strip_action(value));
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => match &previous {
                Some(p) => merge(p.clone(), strip_action(value)),
                None => {
                    out.push(Err(Problem::new(
                        "`action: repeat` without a previous document",
                    )
                    .at("action")
                    .into_error(path, text, offset)));
                    continue;
                }
            },
            Some(other) => {
                out.push(Err(Problem::new(format!("unknown action {other:?}"))
                    .at("action")
                    .into_error(path, text, offset)));
                continue;
            }
            None => match &global {
                Some(g) => merge(g.clone(), value),
                None => value,
            },
        };
        previous = Some(value.clone());
        out.push(parse_document(&value).map_err(|p| p.into_error(path, text, offset)));
    }
    if out.is_empty() {
        out.push(Err(Error::Rule {
            path: path.into(),
            location: Location::default(),
            msg: "no rule in file".into(),
        }));
    }
    out
}

fn yaml_msg(e: &yaml_serde::Error) -> String {
    let s = e.to_string();
    // The location is reported separately.
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn doc_start_lines(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut seen_content = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") {
            match starts.last_mut() {
                Some(last) if !seen_content => *last = i,
                _ => starts.push(i),
            }
            seen_content = false;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            if starts.is_empty() {
                starts.push(0);
            }
            seen_content = true;
        }
    }
    if starts.is_empty() {
        starts.push(0);
    }
    starts
}

fn strip_action(mut v: Y) -> Y {
    if let Some(m) = v.as_mapping_mut() {
        m.remove("action");
    }
    v
}

/// Deep-merges `over` into `base` (maps merge, anything else replaces).
fn merge(base: Y, over: Y) -> Y {
    match (base, over) {
        (Y::Mapping(mut b), Y::Mapping(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Y::Mapping(b)
        }
        (_, o) => o,
    }
}

/// Parses one YAML document already converted to a value.
pub(crate) fn parse_document(v: &Y) -> Result<Document, Problem> {
    if !v.is_mapping() {
        return Err(Problem::new("a rule must be a YAML mapping"));
    }
    if v.get("correlation").is_some() {
        return parse_correlation(v).map(Document::Correlation);
    }
    if v.get("filter").is_some() {
        return parse_filter(v).map(Document::Filter);
    }
    parse_rule(v).map(Document::Rule)
}

pub(crate) fn key_str(k: &Y) -> Option<String> {
    match k {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn opt_str(v: &Y, key: &str) -> Result<Option<String>, Problem> {
    match v.get(key) {
        None | Some(Y::Null) => Ok(None),
        Some(Y::String(s)) => Ok(Some(s.clone())),
        Some(Y::Number(n)) => Ok(Some(n.to_string())),
        Some(Y::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(Problem::new(format!("`{key}` must be a string")).at(key)),
    }
}

pub(crate) fn str_list(v: &Y, key: &str) -> Result<Vec<String>, Problem> {
    match v.get(key) {
        None | Some(Y::Null) => Ok(vec![]),
        Some(Y::Sequence(s)) => s
            .iter()
            .map(|x| {
                key_str(x).ok_or_else(|| {
                    Problem::new(format!("`{key}` must be a list of strings")).at(key)
                })
            })
            .collect(),
        Some(x) => key_str(x)
            .map(|s| vec![s])
            .ok_or_else(|| Problem::new(format!("`{key}` must be a list of strings")).at(key)),
    }
}

/// Parses the metadata shared by all rule kinds.
pub(crate) fn parse_meta(v: &Y) -> Result<Meta, Problem> {
    let Some(title) = opt_str(v, "title")? else {
        return Err(Problem::new("missing `title`"));
    };
    let status = match opt_str(v, "status")? {
        None => None,
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| Problem::new(e).at("status"))?,
        ),
    };
    if status == Some(Status::Unsupported) {
        return Err(Problem::unsupported(
            "`status: unsupported`: the rule needs features current tooling lacks",
        )
        .at("status"));
    }
    let level = match opt_str(v, "level")? {
        None => None,
        Some(s) => Some(
            s.parse::<Level>()
                .map_err(|e| Problem::new(e).at("level"))?,
        ),
    };
    let mut related = Vec::new();
    match v.get("related") {
        None | Some(Y::Null) => {}
        Some(Y::Sequence(items)) => {
            for it in items {
                let (Some(id), Some(kind)) = (opt_str(it, "id")?, opt_str(it, "type")?) else {
                    return Err(
                        Problem::new("`related` entries need `id` and `type`").at("related")
                    );
                };
                related.push(Related { id, kind });
            }
        }
        Some(_) => return Err(Problem::new("`related` must be a list").at("related")),
    }
    Ok(Meta {
        title,
        id: opt_str(v, "id")?,
        name: opt_str(v, "name")?,
        related,
        taxonomy: opt_str(v, "taxonomy")?,
        status,
        description: opt_str(v, "description")?,
        license: opt_str(v, "license")?,
        author: opt_str(v, "author")?,
        references: str_list(v, "references")?,
        date: opt_str(v, "date")?,
        modified: opt_str(v, "modified")?,
        tags: str_list(v, "tags")?,
        falsepositives: str_list(v, "falsepositives")?,
        level,
        scope: str_list(v, "scope")?,
    })
}

pub(crate) fn parse_logsource(v: &Y) -> Result<LogSource, Problem> {
    let Some(ls) = v.get("logsource") else {
        return Err(Problem::new("missing `logsource`"));
    };
    if !ls.is_mapping() {
        return Err(Problem::new("`logsource` must be a mapping").at("logsource"));
    }
    let get = |k: &str| opt_str(ls, k).map(|o| o.map(|s| s.to_ascii_lowercase()));
    Ok(LogSource {
        product: get("product")?,
        category: get("category")?,
        service: get("service")?,
        definition: opt_str(ls, "definition")?,
    })
}

fn parse_rule(v: &Y) -> Result<Rule, Problem> {
    let meta = parse_meta(v)?;
    let logsource = parse_logsource(v)?;
    let Some(det) = v.get("detection") else {
        return Err(Problem::new("missing `detection`"));
    };
    let detection = parse_detection(det)?;
    Ok(Rule {
        meta,
        logsource,
        detection,
        fields: str_list(v, "fields")?,
    })
}

/// Parses a `detection` mapping (also used by filters).
pub(crate) fn parse_detection(det: &Y) -> Result<Detection, Problem> {
    let Some(map) = det.as_mapping() else {
        return Err(Problem::new("`detection` must be a mapping").at("detection"));
    };
    let mut selections = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    for (k, val) in map {
        let Some(name) = key_str(k) else {
            return Err(Problem::new("detection keys must be strings").at("detection"));
        };
        match name.as_str() {
            "condition" => match val {
                Y::String(s) => conditions.push(s.clone()),
                Y::Sequence(items) => {
                    for it in items {
                        match it.as_str() {
                            Some(s) => conditions.push(s.to_string()),
                            None => {
                                return Err(Problem::new(
                                    "`condition` must be a string or list of strings",
                                )
                                .at("condition"));
                            }
                        }
                    }
                }
                _ => {
                    return Err(Problem::new("`condition` must be a string").at("condition"));
                }
            },
            "timeframe" => {
                return Err(Problem::unsupported(
                    "legacy `timeframe` in detection; express it as a correlation rule",
                )
                .at("timeframe"));
            }
            _ => {
                let sel = parse_selection(val).map_err(|p| p.at(&name))?;
                selections.push((name, sel));
            }
        }
    }
    if conditions.is_empty() {
        return Err(Problem::new("detection has no `condition`").at("detection"));
    }
    let mut parsed = Vec::new();
    for c in &conditions {
        parsed.push(parse_condition(c).map_err(|p| p.at("condition"))?);
    }
    let condition = if parsed.len() == 1 {
        parsed.remove(0)
    } else {
        Condition::Or(parsed)
    };
    check_idents(&condition, &selections).map_err(|p| p.at("condition"))?;
    Ok(Detection {
        selections,
        condition,
    })
}

fn check_idents(c: &Condition, sels: &[(String, Selection)]) -> Result<(), Problem> {
    use crate::condition::OfTarget;
    match c {
        Condition::Ident(n) => {
            if !sels.iter().any(|(s, _)| s == n) {
                return Err(Problem::new(format!(
                    "condition names unknown selection `{n}`"
                )));
            }
        }
        Condition::Not(x) => check_idents(x, sels)?,
        Condition::And(v) | Condition::Or(v) => {
            for x in v {
                check_idents(x, sels)?;
            }
        }
        Condition::Of {
            target: OfTarget::Pattern(p),
            ..
        } => {
            if !sels
                .iter()
                .any(|(s, _)| crate::condition::ident_matches(p, s))
            {
                return Err(Problem::new(format!("no selection matches `{p}`")));
            }
        }
        Condition::Of {
            target: OfTarget::Them,
            ..
        } => {
            if sels.is_empty() {
                return Err(Problem::new("`them` but no selections"));
            }
        }
    }
    Ok(())
}

fn parse_selection(v: &Y) -> Result<Selection, Problem> {
    match v {
        Y::Mapping(_) => Ok(Selection::Maps(vec![parse_map(v)?])),
        Y::Sequence(items) if items.is_empty() => Err(Problem::new("empty selection")),
        Y::Sequence(items) if items.iter().all(Y::is_mapping) => Ok(Selection::Maps(
            items.iter().map(parse_map).collect::<Result<_, _>>()?,
        )),
        Y::Sequence(items) => {
            if items.iter().any(|x| x.is_mapping() || x.is_sequence()) {
                return Err(Problem::new("a selection list mixes maps and plain values"));
            }
            let item = FieldItem {
                field: None,
                modifiers: vec![],
                values: items.iter().map(scalar).collect::<Result<_, _>>()?,
            };
            item_spec(&item, None)?;
            Ok(Selection::Keywords(item))
        }
        Y::Null => Err(Problem::new("empty selection")),
        other => {
            let item = FieldItem {
                field: None,
                modifiers: vec![],
                values: vec![scalar(other)?],
            };
            Ok(Selection::Keywords(item))
        }
    }
}

fn scalar(v: &Y) -> Result<SigmaValue, Problem> {
    Ok(match v {
        Y::Null => SigmaValue::Null,
        Y::Bool(b) => SigmaValue::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                SigmaValue::Int(i)
            } else if let Some(f) = n.as_f64() {
                SigmaValue::Float(f)
            } else {
                SigmaValue::Str(SigmaString::literal(&n.to_string()))
            }
        }
        Y::String(s) => SigmaValue::Str(SigmaString::parse(s)),
        Y::Tagged(t) => scalar(&t.value)?,
        Y::Sequence(_) | Y::Mapping(_) => {
            return Err(Problem::new("expected a plain value, found a list or map"));
        }
    })
}

fn parse_map(v: &Y) -> Result<Vec<FieldItem>, Problem> {
    let Some(map) = v.as_mapping() else {
        return Err(Problem::new("expected a map"));
    };
    let mut items = Vec::new();
    for (k, val) in map {
        let Some(key) = key_str(k) else {
            return Err(Problem::new("field names must be strings"));
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().to_string();
        let mut modifiers = Vec::new();
        for m in parts {
            match Modifier::parse(m) {
                Some(m) => modifiers.push(m),
                None => {
                    return Err(Problem::new(format!("unknown modifier `{m}` in `{key}`")).at(&key));
                }
            }
        }
        let values = match val {
            Y::Sequence(xs) => {
                if xs.is_empty() {
                    return Err(Problem::new(format!("`{key}`: empty value list")).at(&key));
                }
                let vals = xs
                    .iter()
                    .map(scalar)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|p| p.at(&key))?;
                if vals.len() > 1 && vals.contains(&SigmaValue::Null) {
                    return Err(Problem::new(format!(
                        "`{key}`: null cannot be part of a value list"
                    ))
                    .at(&key));
                }
                vals
            }
            other => vec![scalar(other).map_err(|p| p.at(&key))?],
        };
        let item = FieldItem {
            field: if field.is_empty() { None } else { Some(field) },
            modifiers,
            values,
        };
        item_spec(&item, None).map_err(|p| {
            Problem {
                msg: format!("`{key}`: {}", p.msg),
                ..p
            }
            .at(&key)
        })?;
        items.push(item);
    }
    if items.is_empty() {
        return Err(Problem::new("empty selection map"));
    }
    Ok(items)
}

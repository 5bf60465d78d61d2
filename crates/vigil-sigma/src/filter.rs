//! Filter rules (the Sigma filters specification): a selection and
//! condition that is AND-ed onto the condition of the rules it names.

use yaml_serde::Value as Y;

use crate::error::Problem;
use crate::parse::{parse_detection, parse_logsource, parse_meta, str_list};
use crate::rule::{Detection, LogSource, Meta};

/// A parsed filter rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterRule {
    /// Metadata.
    pub meta: Meta,
    /// The log source it applies to.
    pub logsource: LogSource,
    /// Ids or names of the rules it filters.
    pub rules: Vec<String>,
    /// The filter's selections and condition; a target rule matches only if
    /// its own condition and this condition both hold.
    pub detection: Detection,
}

pub(crate) fn parse_filter(v: &Y) -> Result<FilterRule, Problem> {
    let meta = parse_meta(v)?;
    let logsource = parse_logsource(v)?;
    let Some(f) = v.get("filter").filter(|f| f.is_mapping()) else {
        return Err(Problem::new("`filter` must be a mapping").at("filter"));
    };
    let rules = str_list(f, "rules")?;
    if rules.is_empty() {
        return Err(Problem::new("filter needs `rules`").at("rules"));
    }
    let mut det = f.clone();
    if let Some(m) = det.as_mapping_mut() {
        m.remove("rules");
    }
    let detection = parse_detection(&det)?;
    Ok(FilterRule {
        meta,
        logsource,
        rules,
        detection,
    })
}

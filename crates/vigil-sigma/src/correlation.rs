//! Correlation rules (the Sigma correlation specification): parsed into a
//! clean AST. Evaluation (windows, group state) is not done here.
//!
//! A correlation refers to detection rules (or other correlations) by `id`
//! or `name`; [`CorrelationRule::rules`] keeps the references as written.

use std::collections::BTreeMap;

use yaml_serde::Value as Y;

use crate::error::Problem;
use crate::parse::{key_str, opt_str, parse_meta, str_list};
use crate::rule::Meta;

/// A parsed correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationRule {
    /// Metadata (title, id, name, level, tags, …).
    pub meta: Meta,
    /// The correlation type.
    pub kind: CorrelationType,
    /// Referenced rules, by id or name, in the order written (the order
    /// matters for `temporal_ordered`).
    pub rules: Vec<String>,
    /// Fields grouping events into separate scopes (AND-ed); may name aliases.
    pub group_by: Vec<String>,
    /// The window length in seconds.
    pub timespan_secs: u64,
    /// When the correlation fires. `None` only for `temporal` and
    /// `temporal_ordered` without a condition (then: all rules seen).
    pub condition: Option<CorrelationCondition>,
    /// Field-name aliases: alias → (rule name or id → event field).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// `generate`: also emit the referenced rules' own matches. Default false.
    pub generate: bool,
}

/// The correlation types of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrelationType {
    /// Count of matching events per group.
    EventCount,
    /// Count of distinct values of `condition.field` per group.
    ValueCount,
    /// All referenced rules matched within the window (any order).
    Temporal,
    /// All referenced rules matched within the window, in the listed order.
    TemporalOrdered,
    /// Sum of `condition.field` per group.
    ValueSum,
    /// Average of `condition.field` per group.
    ValueAvg,
    /// Percentile of `condition.field` per group.
    ValuePercentile,
}

impl CorrelationType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "event_count" => Self::EventCount,
            "value_count" => Self::ValueCount,
            "temporal" => Self::Temporal,
            "temporal_ordered" => Self::TemporalOrdered,
            "value_sum" => Self::ValueSum,
            "value_avg" => Self::ValueAvg,
            "value_percentile" => Self::ValuePercentile,
            _ => return None,
        })
    }

    /// Whether the condition needs a `field`.
    pub fn needs_field(self) -> bool {
        matches!(
            self,
            Self::ValueCount | Self::ValueSum | Self::ValueAvg | Self::ValuePercentile
        )
    }
}

/// A comparison in a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `eq`.
    Eq,
    /// `neq`.
    Neq,
}

impl CmpOp {
    /// Does `value op threshold` hold?
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            CmpOp::Gt => value > threshold,
            CmpOp::Gte => value >= threshold,
            CmpOp::Lt => value < threshold,
            CmpOp::Lte => value <= threshold,
            CmpOp::Eq => value == threshold,
            CmpOp::Neq => value != threshold,
        }
    }
}

/// `condition:` of a correlation: comparisons AND-ed (a range uses two).
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationCondition {
    /// The comparisons, all of which must hold.
    pub ops: Vec<(CmpOp, f64)>,
    /// The aggregated field (value_count, value_sum, value_avg,
    /// value_percentile).
    pub field: Option<String>,
}

impl CorrelationCondition {
    /// Does the aggregate `value` satisfy every comparison?
    pub fn holds(&self, value: f64) -> bool {
        self.ops.iter().all(|(op, t)| op.holds(value, *t))
    }
}

/// Parses a timespan such as `30s`, `5m`, `1h`, `7d` (also `w`, `M`, `y`).
pub fn parse_timespan(s: &str) -> Option<u64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: u64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'M' => 30 * 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&v| v > 0)
}

pub(crate) fn parse_correlation(v: &Y) -> Result<CorrelationRule, Problem> {
    let meta = parse_meta(v)?;
    let Some(c) = v.get("correlation").filter(|c| c.is_mapping()) else {
        return Err(Problem::new("`correlation` must be a mapping").at("correlation"));
    };
    let Some(type_s) = opt_str(c, "type")? else {
        return Err(Problem::new("correlation needs `type`").at("correlation"));
    };
    let Some(kind) = CorrelationType::parse(&type_s) else {
        return Err(Problem::new(format!("unknown correlation type {type_s:?}")).at("type"));
    };
    let rules = str_list(c, "rules")?;
    if rules.is_empty() {
        return Err(Problem::new("correlation needs `rules`").at("rules"));
    }
    let group_by = str_list(c, "group-by")?;
    let Some(ts) = opt_str(c, "timespan")? else {
        return Err(Problem::new("correlation needs `timespan`").at("correlation"));
    };
    let Some(timespan_secs) = parse_timespan(&ts) else {
        return Err(
            Problem::new(format!("invalid timespan {ts:?} (number + s, m, h or d)")).at("timespan"),
        );
    };
    let condition = match c.get("condition") {
        None | Some(Y::Null) => None,
        Some(Y::Mapping(m)) => {
            let mut ops = Vec::new();
            let mut field = None;
            for (k, val) in m {
                let k = key_str(k).unwrap_or_default();
                if k == "field" {
                    field = val.as_str().map(str::to_string);
                    if field.is_none() {
                        return Err(Problem::new("condition `field` must be a string").at("field"));
                    }
                    continue;
                }
                let op = match k.as_str() {
                    "gt" => CmpOp::Gt,
                    "gte" => CmpOp::Gte,
                    "lt" => CmpOp::Lt,
                    "lte" => CmpOp::Lte,
                    "eq" => CmpOp::Eq,
                    "neq" => CmpOp::Neq,
                    other => {
                        return Err(
                            Problem::new(format!("unknown condition operator {other:?}"))
                                .at("condition"),
                        );
                    }
                };
                let Some(n) = val.as_f64() else {
                    return Err(
                        Problem::new(format!("condition `{k}` needs a number")).at("condition")
                    );
                };
                ops.push((op, n));
            }
            if ops.is_empty() {
                return Err(Problem::new("condition has no comparison").at("condition"));
            }
            Some(CorrelationCondition { ops, field })
        }
        Some(_) => {
            return Err(Problem::new("correlation `condition` must be a mapping").at("condition"));
        }
    };
    match (&condition, kind) {
        (None, CorrelationType::Temporal | CorrelationType::TemporalOrdered) => {}
        (None, _) => {
            return Err(Problem::new("this correlation type needs a `condition`").at("correlation"));
        }
        (Some(c), k) if k.needs_field() && c.field.is_none() => {
            return Err(
                Problem::new("this correlation type needs `condition.field`").at("condition"),
            );
        }
        _ => {}
    }
    let mut aliases = BTreeMap::new();
    if let Some(a) = c.get("aliases").and_then(Y::as_mapping) {
        for (alias, m) in a {
            let alias = key_str(alias).unwrap_or_default();
            let mut per_rule = BTreeMap::new();
            let Some(m) = m.as_mapping() else {
                return Err(Problem::new("each alias maps rule names to fields").at("aliases"));
            };
            for (r, f) in m {
                let (Some(r), Some(f)) = (key_str(r), key_str(f)) else {
                    return Err(Problem::new("alias entries must be strings").at("aliases"));
                };
                per_rule.insert(r, f);
            }
            aliases.insert(alias, per_rule);
        }
    }
    let generate = match c.get("generate").or_else(|| v.get("generate")) {
        None => false,
        Some(Y::Bool(b)) => *b,
        Some(_) => return Err(Problem::new("`generate` must be a boolean").at("generate")),
    };
    Ok(CorrelationRule {
        meta,
        kind,
        rules,
        group_by,
        timespan_secs,
        condition,
        aliases,
        generate,
    })
}

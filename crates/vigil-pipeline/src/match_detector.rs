//! A small built-in detector: field conditions from the configuration file
//! (`[[detect.rules]]`), one alert per matching event. Sigma rules arrive with
//! their own engine; this one serves simple site rules and tests.

use serde::{Deserialize, Serialize};
use vigil_model::{Alert, DetectCtx, Detector, Event, FieldId, FieldRegistry, Severity};

/// How a rule compares the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOp {
    /// The field is present.
    Exists,
    /// A value equals `value` (case-insensitive).
    Equals,
    /// A value contains `value` (case-insensitive).
    Contains,
    /// A value starts with `value` (case-insensitive).
    StartsWith,
    /// A value ends with `value` (case-insensitive).
    EndsWith,
}

/// One rule as written in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchRule {
    /// Rule id, unique within the detector.
    pub id: String,
    /// Alert title.
    pub title: String,
    /// Alert severity. By default, medium.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Dotted field name (`process.command_line`, `EventID`, …).
    pub field: String,
    /// Comparison. By default, `equals`.
    #[serde(default = "default_op")]
    pub op: MatchOp,
    /// The value to compare with; required except for `exists`.
    #[serde(default)]
    pub value: Option<String>,
    /// Tags copied into the alert.
    #[serde(default)]
    pub tags: Vec<String>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

fn default_op() -> MatchOp {
    MatchOp::Equals
}

struct Compiled {
    rule: MatchRule,
    field: FieldId,
    needle: String,
}

/// Evaluates [`MatchRule`]s; detector id `match`.
pub struct MatchDetector {
    rules: Vec<Compiled>,
}

impl std::fmt::Debug for MatchDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchDetector")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl MatchDetector {
    /// Compiles rules, resolving field names once.
    pub fn new(rules: Vec<MatchRule>, registry: &FieldRegistry) -> Result<Self, String> {
        let mut out = Vec::with_capacity(rules.len());
        let mut seen = std::collections::HashSet::new();
        for rule in rules {
            if !seen.insert(rule.id.clone()) {
                return Err(format!("detect rule {:?}: duplicate id", rule.id));
            }
            let needle = match (&rule.op, &rule.value) {
                (MatchOp::Exists, _) => String::new(),
                (_, Some(v)) => v.to_lowercase(),
                (_, None) => {
                    return Err(format!(
                        "detect rule {:?}: `value` is required for this op",
                        rule.id
                    ));
                }
            };
            let field = registry
                .intern(&rule.field)
                .ok_or_else(|| format!("detect rule {:?}: field registry is full", rule.id))?;
            out.push(Compiled {
                rule,
                field,
                needle,
            });
        }
        Ok(Self { rules: out })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn matches(c: &Compiled, ev: &Event) -> bool {
    if c.rule.op == MatchOp::Exists {
        return ev.get(c.field).is_some();
    }
    ev.get_all(c.field).any(|v| {
        let text = v.to_text();
        let hay = if text.bytes().any(|b| b.is_ascii_uppercase()) || !text.is_ascii() {
            std::borrow::Cow::Owned(text.to_lowercase())
        } else {
            text
        };
        match c.rule.op {
            MatchOp::Equals => *hay == *c.needle,
            MatchOp::Contains => hay.contains(c.needle.as_str()),
            MatchOp::StartsWith => hay.starts_with(c.needle.as_str()),
            MatchOp::EndsWith => hay.ends_with(c.needle.as_str()),
            MatchOp::Exists => true,
        }
    })
}

impl Detector for MatchDetector {
    fn id(&self) -> &str {
        "match"
    }

    fn on_event(&mut self, ev: &Event, ctx: &mut DetectCtx<'_>) {
        for c in &self.rules {
            if matches(c, ev) {
                let mut a = Alert::for_event(
                    ev,
                    ctx.registry,
                    "match",
                    &c.rule.id,
                    &c.rule.title,
                    c.rule.severity,
                    ctx.now,
                );
                a.tags = c.rule.tags.clone();
                a.details = serde_json::json!({ "field": c.rule.field, "op": format!("{:?}", c.rule.op).to_lowercase() });
                ctx.raise(a);
            }
        }
    }
}

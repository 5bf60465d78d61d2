//! Sigma detection for Vigil: an I/O-free library that parses Sigma rules
//! (detection, correlation and filter rules, per the Sigma specification),
//! compiles them against a [`vigil_model::FieldRegistry`] and evaluates
//! them over [`vigil_model::Event`]s.
//!
//! ```no_run
//! # use vigil_model::FieldRegistry;
//! # use vigil_sigma::{Config, RuleSet};
//! let registry = FieldRegistry::new();
//! let sources = vec![("rule.yml", "title: t\nlogsource: {product: windows}\n\
//!     detection: {sel: {EventID: 1}, condition: sel}\n")];
//! let (rules, errors) = RuleSet::load(sources, &registry, &Config::default());
//! # let event: vigil_model::Event = todo!();
//! for verdict in rules.evaluate(&event) {
//!     println!("{}", rules.rules()[verdict.rule].rule.meta.title);
//! }
//! ```
//!
//! # API
//!
//! - [`RuleSet::load`]`(sources, &registry, &config) -> (RuleSet, Vec<Error>)`:
//!   `(path, text)` pairs in, everything that compiled out, one error per
//!   rejected document (partial success is a value). [`parse_file`] and
//!   [`RuleSet::compile`] split the two steps.
//! - [`RuleSet::evaluate`]`(&event) -> Vec<Verdict>`; for many events an
//!   [`Evaluator`] (borrowing) or a [`Scratch`] with
//!   [`RuleSet::evaluate_with`] (owned, for a long-lived detector).
//! - [`RuleSet::rules`]: each [`LoadedRule`] with its path and [`Rule`]
//!   (metadata: id, title, level, tags, status…; logsource; detection).
//! - [`RuleSet::correlations`] / [`RuleSet::filters`]: the parsed
//!   [`CorrelationRule`]s (not evaluated here) and [`FilterRule`]s (already
//!   AND-ed onto the rules they name).
//! - [`Correlator`]: correlation state (windows, groups, chains) fed with
//!   verdicts, with [`CorrelationStats`] and a JSON snapshot; semantics in
//!   its module docs. [`SigmaDetector`]: rules + correlations as the
//!   pipeline's `vigil_model::Detector` (id `sigma`).
//! - [`Config`]: field [`Mapping`]s (built-ins: Windows evtx, ECS, Linux
//!   syslog; add files with [`Mapping::from_yaml`]) and `|expand`
//!   placeholders.
//! - [`evtx::event_from_evtx_json`]: an evtx-JSON record to an event with
//!   SigmaHQ field names; [`linux::enrich_syslog_event`]: sshd/sudo fields.
//!
//! # Semantics chosen where the specification leaves room
//!
//! - Matching is case-insensitive (Unicode-aware) unless `cased`.
//! - `null` matches an absent field or a JSON null; `''` only an empty
//!   string; `exists` ignores the value.
//! - A number matches integers, floats and numeric strings (`"4688"`); a
//!   string matches a number's decimal text.
//! - `neq` needs the field to exist (`F|neq: x` is false when F is absent).
//! - Keywords match anywhere in any field value (implicit `contains`).
//! - A field with several values (JSON arrays) matches if any value does.
//! - Log sources: an event belongs to at most one product (first mapping
//!   product whose marker field it has); a rule of a product without a
//!   classifier only sees unclassified events; a category or service with
//!   no mapping condition is constrained by its product alone.
//! - Legacy constructs (`| count() by`, `near`, `timeframe`,
//!   `status: unsupported`) are rejected as [`Error::Unsupported`].
//!
//! # Invariants
//!
//! - No I/O, no clock, no global state; bad input is an error, never a
//!   panic; sizes are bounded (file 1 MiB, YAML depth and aliases, 256
//!   documents, condition length and nesting, 4096 values per item after
//!   windash/expand/base64offset, regex program 16 MiB).
//! - Each field of an event is scanned once per evaluation by one
//!   Aho-Corasick automaton holding the literals of all rules for that
//!   field; only rules one of whose necessary literals hit (or that have
//!   none) are evaluated.

#![warn(missing_docs)]

mod compile;
mod condition;
mod correlate;
mod correlation;
mod detector;
mod error;
mod eval;
pub mod evtx;
mod filter;
mod gate;
pub mod linux;
mod mapping;
mod modifiers;
mod par;
mod parse;
mod rule;

#[cfg(test)]
mod tests;

pub use compile::{Config, LoadedRule, RuleSet, Stats};
pub use condition::{Condition, OfTarget, Quantifier};
pub use correlate::{
    Compiled as CompiledCorrelation, CorrelationConfig, CorrelationStats, Correlator, Firing,
};
pub use correlation::{
    CmpOp, CorrelationCondition, CorrelationRule, CorrelationType, parse_timespan,
};
pub use detector::{RuleOverride, SigmaDetector, StatsSink};
pub use error::{Error, Location, Result};
pub use eval::{Evaluator, Scratch, Verdict};
pub use filter::FilterRule;
pub use mapping::{LogSourceMapping, MapValue, Mapping, OneOrMany};
pub use modifiers::Placeholders;
pub use parse::{Document, MAX_FILE_SIZE, parse_file, parse_files};
pub use rule::{
    Detection, FieldItem, Level, LogSource, Meta, Modifier, Part, Related, Rule, Selection,
    SigmaString, SigmaValue, Status,
};

/// Parses a condition string (`sel and not 1 of filter_*`).
pub fn parse_condition(s: &str) -> Result<Condition> {
    condition::parse_condition(s).map_err(|p| Error::Rule {
        path: "<condition>".into(),
        location: Location::default(),
        msg: p.msg,
    })
}

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
//! Modules: `parse` (YAML to documents), `condition` (condition grammar),
//! `modifiers` (value modifiers to tests), `compile` (tests to matchers and
//! per-field automata), `eval` (the evaluator), `mapping` (log sources and
//! field names), `evtx` (evtx-JSON records to events), `correlation` and
//! `filter` (their rule types).
#![warn(missing_docs)]

mod compile;
mod condition;
mod correlation;
mod error;
mod eval;
pub mod evtx;
mod filter;
pub mod linux;
mod mapping;
mod modifiers;
mod parse;
mod rule;

#[cfg(test)]
mod tests;

pub use compile::{Config, LoadedRule, RuleSet};
pub use condition::{Condition, OfTarget, Quantifier};
pub use correlation::{
    CmpOp, CorrelationCondition, CorrelationRule, CorrelationType, parse_timespan,
};
pub use error::{Error, Location, Result};
pub use eval::{Evaluator, Scratch, Verdict};
pub use filter::FilterRule;
pub use mapping::{LogSourceMapping, MapValue, Mapping, OneOrMany};
pub use modifiers::Placeholders;
pub use parse::{Document, MAX_FILE_SIZE, parse_file};
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

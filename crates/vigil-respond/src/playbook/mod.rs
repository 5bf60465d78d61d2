//! Playbooks: the YAML document ([`model`]), loading and validation
//! ([`parse()`]), sandboxed templates ([`Templates`]), trigger matching
//! ([`matches_alert`] …) and durable runs ([`run`]).

pub mod cron;
pub mod model;
mod parse;
pub mod run;
mod template;
mod trigger;

pub use model::{Action, Playbook, Step, Trigger};
pub use parse::{BLOCKLIST_KINDS, MAX_BYTES, MAX_DEPTH, MAX_RETRIES, MAX_STEPS, parse};
pub use template::Templates;
pub use trigger::{matches_alert, matches_finding, matches_incident, matches_sighting};

#[cfg(test)]
mod run_tests;

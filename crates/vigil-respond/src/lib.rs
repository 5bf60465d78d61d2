//! Response engine, I/O-free: what Vigil does after a detection.
//!
//! - [`egress`]: the outbound-request guard (allowlist, address classes,
//!   checked after name resolution through an injected resolver).
//! - [`playbook`]: playbooks in YAML (parse, validate with positions,
//!   sandboxed templates) and the durable run state machine: the engine
//!   says which step comes next; the binary executes it and records the
//!   outcome before asking again, so a restart resumes where it stopped.
//! - [`incident`]: NIST SP 800-61 incident statuses and alert triage states.
//! - [`clocks`]: regulatory notification deadlines (GDPR, HIPAA, NIS2) from
//!   a rule table.
//! - [`mttx`]: MTTD / MTTA / MTTC / MTTR per severity and period.
#![warn(missing_docs)]

pub mod clocks;
pub mod egress;
mod error;
pub mod incident;
pub mod mttx;
pub mod playbook;

pub use error::{Error, Result};

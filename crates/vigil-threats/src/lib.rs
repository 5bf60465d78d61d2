//! The threat register engine, without I/O: who would attack this
//! organisation, how, what its detections would miss, and what to do first.
//!
//! ```text
//! Profile ──────────────┐
//! AttackKnowledge (ATT&CK + imported STIX intel) ─► actors::build ─► Vec<Actor>
//! MISP galaxy clusters ─┘                               │
//! RuleInfo (Sigma rules, enabled, level, status) ─► coverage::CoverageIndex
//! Observations (alert counts per technique) ─────────────┤
//! assets + open findings ─────────────────────────────► register::compute
//!                                                        ─► relevance, per-actor coverage,
//!                                                           scenarios (5×5), recommendations
//! coverage ─► navigator::layer (ATT&CK Navigator layer 4.5)
//! ```
//!
//! Every number the engine produces comes with the inputs that produced it
//! (`Factor`s); the model — weights, bands, the sub-technique rule — is
//! documented in `docs/threats.md` and pinned by the unit tests.
#![warn(missing_docs)]

mod error;

pub mod actors;
pub mod coverage;
pub mod dates;
pub mod galaxy;
pub mod model;
pub mod navigator;
pub mod profile;
pub mod region;
pub mod register;
pub mod sector;

pub use error::{Error, Result};
pub use model::{Factor, Level5, Score};
pub use profile::Profile;

#[cfg(test)]
mod testkit;

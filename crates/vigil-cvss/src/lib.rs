//! CVSS scoring and SSVC decisions, without I/O.
//!
//! - [`Vector`]: parse a CVSS v2, v3.0, v3.1 or v4.0 vector strictly (an
//!   unknown metric, a bad value, a duplicate, a missing base metric or —
//!   for v4.0 — a metric out of order is an [`Error`] naming the byte
//!   position) and compute every score the version defines: base, temporal
//!   and environmental for v2 and v3.x; CVSS-B, CVSS-BT, CVSS-BE and
//!   CVSS-BTE for v4.0. [`Score`]s are exact tenths; [`Severity`] ratings
//!   follow FIRST's scale (NVD's for v2).
//! - [`ssvc`]: CERT/CC's deployer decision (Defer … Immediate), CISA's
//!   coordinator levels (Track … Act) and the Human Impact derivation.
//!
//! Scores match the reference implementations exactly: v2 in exact decimal
//! arithmetic, v3.x with each minor version's Roundup, v4.0 with the
//! specification's MacroVector table in exact rational arithmetic (see the
//! version modules for the details that matter).
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod decimal;
mod error;
mod metrics;
mod score;
pub mod ssvc;
mod v2;
mod v3;
mod v4;
mod vector;

pub use error::{Error, Result};
pub use score::{Score, Severity};
pub use v2::{Cvss2, Scores2};
pub use v3::{Cvss3, Minor, Scores3};
pub use v4::{Cvss4, Nomenclature, Scores4};
pub use vector::{Scores, Vector, Version};

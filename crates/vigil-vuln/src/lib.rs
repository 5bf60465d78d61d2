//! Vulnerability engine for Vigil, without I/O.
//!
//! - [`purl`]: package URLs.
//! - [`version`]: version order per ecosystem ([`Scheme`], [`Version`]).
//! - [`osv`]: OSV records, range evaluation, alias merging and the matching
//!   index.
//! - [`sbom`]: CycloneDX (JSON, XML) and SPDX 2.3 (JSON, tag-value) to
//!   [`Component`]s.
//! - [`inventory`]: host inventory (os-release, dpkg, apk, rpm header blobs)
//!   and language lock files.
//! - [`scanners`]: Trivy, Grype, osv-scanner and SARIF reports to findings.
//!
//! Every parser takes text or bytes and returns values; the caller reads
//! files. Bad input gives an [`Error`] with its location, never a panic.
#![warn(missing_docs)]

mod component;
mod ecosystem;
mod error;
pub mod inventory;
pub mod osv;
pub mod purl;
pub mod sbom;
pub mod scanners;
pub mod version;

pub use component::Component;
pub use ecosystem::Ecosystem;
pub use error::{Error, Result};
pub use purl::Purl;
pub use version::{Scheme, Version, compare};

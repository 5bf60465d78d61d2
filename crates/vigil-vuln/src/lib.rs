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
//! files. Bad input gives an [`Error`] with its location, never a panic;
//! documents with some bad entries still give the good ones and list the
//! rest as problems. Every output type is serde-serialisable.
//!
//! ```
//! use vigil_vuln::osv::{OsvDatabase, parse_json};
//! use vigil_vuln::{Component, Scheme, compare};
//!
//! let records = parse_json(r#"{"id": "GHSA-x", "aliases": ["CVE-2024-1"],
//!   "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"},
//!     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}]}]}"#)?;
//! let db = OsvDatabase::new(records);
//! let sbom = vigil_vuln::sbom::parse(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
//!   "components": [{"name": "Jinja2", "version": "2.10", "purl": "pkg:pypi/Jinja2@2.10"}]}"#)?;
//! let findings = db.match_components(&sbom.components);
//! assert_eq!(findings[0].vulnerability, "CVE-2024-1");
//! assert_eq!(findings[0].fixed, ["2.10.1"]);
//! assert!(compare(Scheme::Dpkg, "1.0~rc1", "1.0")?.is_lt());
//! # let _ = Component::new(vigil_vuln::Ecosystem::Npm, "left-pad", Some("1.0.0"));
//! # Ok::<(), vigil_vuln::Error>(())
//! ```
#![warn(missing_docs)]

mod component;
mod ecosystem;
mod error;
pub mod inventory;
pub mod lifecycle;
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

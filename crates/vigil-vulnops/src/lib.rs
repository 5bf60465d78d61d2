//! Vulnerability-management operations, shared by the CLI (`vigil sbom
//! import`, `vigil scan host`, `vigil vulns import …`) and the server
//! (`POST /api/v1/assets/{id}/sbom`): load the reference data (OSV records,
//! CISA KEV, EPSS, intel about CVEs) from the store, match components,
//! reconcile findings through `vigil_vuln::lifecycle`, prioritise them
//! ([`priority`], formula in `docs/prioritisation.md`) and save them.
//!
//! The engines (`vigil-vuln`, `vigil-cvss`) stay I/O-free; this crate is
//! the glue that talks to the [`Store`]. The clock is the caller's: every
//! operation takes `now`.
#![warn(missing_docs)]

mod error;
pub mod priority;
mod reconcile;
mod reference;

pub use error::{Error, Result};
pub use reconcile::{
    Reconciled, SbomOutcome, all_findings, asset_or_create, import_sbom, reconcile, refresh_all,
    rescore, rescore_all, store_components,
};
pub use reference::{Hit, Reference, load_reference};

use serde::{Deserialize, Serialize};
use vigil_vuln::lifecycle::SlaPolicy;

/// `[vuln]` in the configuration file: the SLA policy and the thresholds
/// prioritisation uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `[vuln.sla]`: days to remediate by SSVC decision. Defaults:
    /// immediate 2, out_of_cycle 7, scheduled 30, defer 90, kev 14 (at most,
    /// for vulnerabilities in CISA KEV).
    pub sla: SlaPolicy,
    /// EPSS score from which Exploitation counts as "public PoC". Default:
    /// 0.1.
    pub epss_poc_threshold: f64,
    /// How often `vigil serve` links hosts seen in events to assets, in
    /// seconds; 0 turns it off. Default: 30.
    pub discovery_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sla: SlaPolicy::default(),
            epss_poc_threshold: 0.1,
            discovery_interval_secs: 30,
        }
    }
}

//! Vulnerability management commands: `vigil assets`, `sbom import`,
//! `scan host`, `vulns …`. The shared glue — matching stored components
//! against the stored OSV records, reconciling findings through
//! `vigil_vuln::lifecycle`, prioritising them — lives in `vigil-vulnops`,
//! which the server uses too; this module is the command-line edge.

pub mod args;
mod assets;
mod csv;
pub mod discovery;
mod findings;
mod imports;
mod scan;

use std::process::ExitCode;

use anyhow::{Context, Result};
use vigil_model::{TenantId, Timestamp};
use vigil_store::{AssetRecord, Store};

use crate::config::Config;

pub use args::{AssetsCommand, SbomCommand, ScanCommand, VulnsCommand};

/// `[vuln]` in the configuration file (shared with the server).
pub use vigil_vulnops::Settings as VulnSection;
/// `vigil assets …`.
pub async fn assets(cfg: Config, cmd: AssetsCommand) -> Result<ExitCode> {
    assets::run(cfg, cmd).await
}

/// `vigil sbom …`.
pub async fn sbom(cfg: Config, cmd: SbomCommand) -> Result<ExitCode> {
    imports::sbom(cfg, cmd).await
}

/// `vigil scan …`.
pub async fn scan(cfg: Config, cmd: ScanCommand) -> Result<ExitCode> {
    scan::run(cfg, cmd).await
}

/// `vigil vulns …`.
pub async fn vulns(cfg: Config, cmd: VulnsCommand) -> Result<ExitCode> {
    match cmd {
        VulnsCommand::Import(i) => imports::run(cfg, i).await,
        other => findings::run(cfg, other).await,
    }
}

const TENANT: TenantId = TenantId::DEFAULT;

/// The current time; `VIGIL_NOW` (RFC 3339) replaces the clock, for tests
/// of expiring acceptances and SLA dates.
pub(crate) fn now() -> Result<Timestamp> {
    crate::context::now()
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub(crate) fn parse_time(s: &str) -> Result<Timestamp> {
    let s = s.trim();
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    Timestamp::parse_rfc3339(&full)
        .with_context(|| format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// The asset by name or id, created as an internal host of criticality 3
/// when unknown (saying so on stderr).
pub(crate) async fn asset_or_create(
    store: &Store,
    name: &str,
    now: Timestamp,
) -> Result<AssetRecord> {
    let (a, created) = vigil_vulnops::asset_or_create(store, TENANT, name, now)
        .await
        .with_context(|| format!("cannot create asset {name:?}"))?;
    if created {
        eprintln!(
            "created asset {name:?} (host, criticality 3, internal); change it with `vigil assets add {name} …`"
        );
    }
    Ok(a)
}

//! Command-line arguments of the vulnerability-management subcommands
//! (`vigil assets`, `sbom`, `scan`, `vulns`), referenced from `cli.rs`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::OutputFormat;

/// `vigil assets …`.
#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// Add an asset, or update the one with the same name.
    Add(AssetAddArgs),
    /// List assets with their open findings.
    List(FormatArgs),
    /// One asset (by name or id): attributes, components, findings.
    Show {
        /// Asset name or id.
        asset: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Import assets from a CSV file with a header row: name, kind, ips,
    /// os, owner, criticality, exposure, data_classes, tags (lists separated
    /// by `;`). Only `name` is required; bad rows are reported with their
    /// line and skipped.
    ImportCsv {
        /// The CSV file.
        file: PathBuf,
    },
    /// Link the hosts named by stored events (`host.name`, `host.ip`) to
    /// assets, creating missing ones (source `seen_in_events`, host,
    /// criticality 3, internal); analyst-set fields are never changed. Reads
    /// the events after the last pass; `vigil serve` does this every
    /// `[vuln] discovery_interval_secs`.
    Discover,
}

/// Output format flag shared by listings.
#[derive(Debug, Clone, Copy, Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// `vigil assets add`.
#[derive(Debug, Args)]
pub struct AssetAddArgs {
    /// Unique name (host name, application name).
    pub name: String,
    /// host or application.
    #[arg(long, default_value = "host")]
    pub kind: String,
    /// IP address (repeat for several).
    #[arg(long = "ip")]
    pub ips: Vec<String>,
    /// Operating system.
    #[arg(long)]
    pub os: Option<String>,
    /// Owner (team or person).
    #[arg(long)]
    pub owner: Option<String>,
    /// Business criticality, 1 (low) to 5 (mission critical).
    #[arg(long, default_value_t = 3)]
    pub criticality: u8,
    /// internet-facing, internal or isolated.
    #[arg(long, default_value = "internal")]
    pub exposure: String,
    /// Data class handled: personal, health or payment (repeat).
    #[arg(long = "data")]
    pub data_classes: Vec<String>,
    /// Tag (repeat).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

/// `vigil sbom …`.
#[derive(Debug, Subcommand)]
pub enum SbomCommand {
    /// Import an SBOM (CycloneDX JSON/XML, SPDX 2.3 JSON/tag-value, gzip
    /// ok) as the asset's components, match them against the imported
    /// vulnerability data and reconcile the asset's findings: new ones
    /// open, missing ones fixed, returning ones reopened. The asset is
    /// created (host, criticality 3, internal) if unknown.
    Import(SbomImportArgs),
}

/// `vigil sbom import`.
#[derive(Debug, Args)]
pub struct SbomImportArgs {
    /// The SBOM file.
    pub file: PathBuf,
    /// Asset name (or id).
    #[arg(long)]
    pub asset: String,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// `vigil scan …`.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Inventory this host (or a mounted image with --root): os-release,
    /// the dpkg status database, the apk installed database, the RPM
    /// database (rpmdb.sqlite, as on Fedora 33+ and RHEL 9), plus the given
    /// lock files. Prints the components with their purls; with --asset
    /// also stores them and reconciles the asset's findings.
    Host(ScanHostArgs),
}

/// `vigil scan host`.
#[derive(Debug, Args)]
pub struct ScanHostArgs {
    /// Root directory of the file system to inventory.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Language lock file (Cargo.lock, package-lock.json, poetry.lock,
    /// requirements*.txt, go.sum); repeat for several.
    #[arg(long = "lockfile", value_name = "FILE")]
    pub lockfiles: Vec<PathBuf>,
    /// Store the components as this asset's (created if unknown).
    #[arg(long)]
    pub asset: Option<String>,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// `vigil vulns …`.
#[derive(Debug, Subcommand)]
pub enum VulnsCommand {
    /// Import vulnerability data or scanner reports.
    #[command(subcommand)]
    Import(VulnsImportCommand),
    /// List findings.
    List(VulnsListArgs),
    /// The most urgent open findings, with the reason for each rank.
    Top(VulnsTopArgs),
    /// A finding (by id) or a vulnerability (by OSV id or alias) with its
    /// findings.
    Show {
        /// Finding id, or vulnerability id (CVE-…, GHSA-…, GO-…).
        id: String,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Accept the risk of a finding until a date; it opens again then.
    Accept {
        /// Finding id.
        id: String,
        /// Expiry: YYYY-MM-DD (midnight UTC) or RFC 3339.
        #[arg(long)]
        until: String,
        /// Justification.
        #[arg(long)]
        reason: String,
    },
    /// Mark a finding as a false positive.
    Fp {
        /// Finding id.
        id: String,
        /// Why it does not apply.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// `vigil vulns import …`.
#[derive(Debug, Subcommand)]
pub enum VulnsImportCommand {
    /// OSV records: a directory (searched recursively for .json, .yaml,
    /// .yml; `schema` folders skipped) or an OSV per-ecosystem zip
    /// archive. Every asset's components are matched again afterwards.
    Osv {
        /// Directory or .zip file.
        path: PathBuf,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// The CISA KEV catalog (its JSON or CSV file).
    Kev {
        /// known_exploited_vulnerabilities.json or .csv.
        file: PathBuf,
    },
    /// EPSS scores (CSV with cve, epss and percentile columns; FIRST's
    /// daily file with its `#model_version` line works as is).
    Epss {
        /// The CSV file (gzip ok).
        file: PathBuf,
    },
    /// A scanner report (Trivy JSON, Grype JSON, osv-scanner JSON, SARIF
    /// 2.1.0) as the asset's findings from that scanner.
    Scan {
        /// The report file.
        file: PathBuf,
        /// Asset name or id (created if unknown).
        #[arg(long)]
        asset: String,
    },
}

/// `vigil vulns list`.
#[derive(Debug, Args)]
pub struct VulnsListArgs {
    /// Only this status: open, fixed, reopened, accepted, false_positive
    /// (repeat for several). Default: all.
    #[arg(long)]
    pub status: Vec<String>,
    /// Only this asset (name or id).
    #[arg(long)]
    pub asset: Option<String>,
    /// Only this SSVC decision: immediate, out-of-cycle, scheduled, defer.
    #[arg(long)]
    pub decision: Option<String>,
    /// Only findings past their SLA due date.
    #[arg(long)]
    pub overdue: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// `vigil vulns top`.
#[derive(Debug, Args)]
pub struct VulnsTopArgs {
    /// How many findings.
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub format: FormatArgs,
}

//! `vigil intel export`: the stored indicators as a STIX 2.1 bundle or CSV,
//! filtered by type, minimum confidence, TLP and validity (the export
//! API's logic, `vigil_server::intel`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use vigil_model::TenantId;
use vigil_server::intel::{ExportFilter, select, to_csv, to_stix};

use crate::config::Config;
use crate::context;

/// Export format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    /// A STIX 2.1 bundle of indicator objects (ids stable across exports).
    Stix,
    /// CSV: type, value, confidence, tlp, valid_from, valid_until, feeds,
    /// techniques, related, labels.
    Csv,
}

/// Indicator filters shared by export and the blocklists.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only these types (ipv4, domain, sha256, …); repeat or comma-separate.
    #[arg(long = "type", value_name = "TYPE")]
    pub kinds: Vec<String>,
    /// Only indicators with confidence at or above this (0–100).
    #[arg(long, default_value_t = 0)]
    pub min_confidence: u8,
    /// Only indicators shareable at this TLP level (clear, green, amber,
    /// amber+strict, red); indicators without a TLP count as clear. By
    /// default, every level.
    #[arg(long, value_name = "LEVEL")]
    pub tlp: Option<String>,
    /// Also indicators not valid now (expired or not yet valid).
    #[arg(long)]
    pub include_expired: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Stix)]
    pub format: ExportFormat,
    /// Write here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn run(cfg: Config, a: ExportArgs) -> Result<ExitCode> {
    let (_, clock) = context::runtime();
    let f = ExportFilter::parse(
        &a.filter.kinds,
        a.filter.min_confidence,
        a.filter.tlp.as_deref(),
        a.filter.include_expired,
        clock.now(),
    )?;
    let store = context::open_store(&cfg).await?;
    let rows = select(&store, TenantId::DEFAULT, &f).await?;
    let body = match a.format {
        ExportFormat::Stix => {
            let (b, skipped) = to_stix(&rows);
            if skipped > 0 {
                eprintln!("{skipped} indicators have no STIX pattern (CVE ids) and were left out");
            }
            serde_json::to_string_pretty(&b)? + "\n"
        }
        ExportFormat::Csv => to_csv(&rows),
    };
    match &a.output {
        Some(p) => {
            std::fs::write(p, body).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
        }
    }
    eprintln!("{} indicators exported", rows.len());
    Ok(ExitCode::SUCCESS)
}

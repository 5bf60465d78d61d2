//! `vigil intel blocklist add|remove|list|show`: manual blocklist entries
//! (a value blocked for a while, with a reason — the same entries response
//! playbooks add) and the plain-text lists the server publishes at
//! `/api/v1/blocklists/{list}.txt`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use vigil_intel::Tlp;
use vigil_intel::blocklist::BlocklistKind;
use vigil_model::{TenantId, Timestamp};
use vigil_server::intel::{
    NewManualEntry, add_manual_entry, blocklist_text, parse_ttl, remove_manual_entry,
};

use crate::cli::OutputFormat;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

/// Blocklist subcommands.
#[derive(Debug, Subcommand)]
pub enum BlocklistCommand {
    /// Block a value (IP, CIDR, domain, URL or hash) with a reason, for a
    /// while (`--ttl 24h`) or until removed. Adding it again renews it.
    Add(AddArgs),
    /// Remove a manual entry.
    Remove(RemoveArgs),
    /// The manual entries.
    List(ListArgs),
    /// Print a plain-text list (ips, cidrs, domains, urls, hashes) as the
    /// server serves it.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The value (defanged forms accepted).
    pub value: String,
    /// Why it is blocked.
    #[arg(long)]
    pub reason: String,
    /// How long: 30m, 24h, 7d, 2w. By default, until removed.
    #[arg(long)]
    pub ttl: Option<String>,
    /// The value's type. By default, guessed.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The value.
    pub value: String,
    /// The value's type. By default, guessed.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also expired entries.
    #[arg(long)]
    pub include_expired: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// ips, cidrs, domains, urls or hashes.
    pub list: String,
    /// Only indicators with confidence at or above this (0–100; manual
    /// entries always).
    #[arg(long, default_value_t = 0)]
    pub min_confidence: u8,
    /// Only indicators shareable at this TLP level (no TLP counts as clear).
    #[arg(long, value_name = "LEVEL")]
    pub tlp: Option<String>,
}

#[derive(Serialize)]
struct EntryRow {
    #[serde(rename = "type")]
    kind: String,
    value: String,
    reason: String,
    added_by: String,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
}

impl Row for EntryRow {
    fn headers() -> &'static [&'static str] {
        &["type", "value", "reason", "added by", "expires"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.clone(),
            self.value.clone(),
            self.reason.clone(),
            self.added_by.clone(),
            self.expires_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "never".into()),
        ]
    }
}

pub async fn run(cfg: Config, cmd: BlocklistCommand) -> Result<ExitCode> {
    let (_, clock) = context::runtime();
    let now = clock.now();
    let store = context::open_store(&cfg).await?;
    let tenant = TenantId::DEFAULT;
    match cmd {
        BlocklistCommand::Add(a) => {
            let ttl = a.ttl.as_deref().map(parse_ttl).transpose()?;
            let (e, new) = add_manual_entry(
                &store,
                tenant,
                &NewManualEntry {
                    value: &a.value,
                    kind: a.kind.as_deref(),
                    reason: &a.reason,
                    ttl_micros: ttl,
                },
                &context::cli_principal(),
                now,
            )
            .await?;
            println!(
                "{} {} {} (expires {})",
                if new { "blocked" } else { "renewed" },
                e.kind,
                e.value,
                e.expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into())
            );
            Ok(ExitCode::SUCCESS)
        }
        BlocklistCommand::Remove(a) => {
            if remove_manual_entry(&store, tenant, &a.value, a.kind.as_deref(), now).await? {
                println!("removed {}", a.value);
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no manual entry for {}", a.value);
                Ok(ExitCode::from(1))
            }
        }
        BlocklistCommand::List(a) => {
            let rows: Vec<EntryRow> = store
                .list_blocklist_entries(tenant, &[], now, a.include_expired)
                .await?
                .into_iter()
                .map(|e| EntryRow {
                    kind: e.kind,
                    value: e.value,
                    reason: e.reason,
                    added_by: e.added_by,
                    created_at: e.created_at,
                    expires_at: e.expires_at,
                })
                .collect();
            output::print(&rows, a.format)?;
            Ok(ExitCode::SUCCESS)
        }
        BlocklistCommand::Show(a) => {
            let list: BlocklistKind = a.list.parse()?;
            let tlp = a
                .tlp
                .as_deref()
                .map(|t| Tlp::parse(t).with_context(|| format!("--tlp: unknown level {t:?}")))
                .transpose()?;
            let (text, _) =
                blocklist_text(&store, tenant, list, a.min_confidence, tlp, now).await?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

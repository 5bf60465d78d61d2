//! `vigil intel lookup VALUE`: the value refanged and normalised, then
//! every stored indicator that would match it in an event (the exact value,
//! parent domains, CIDRs holding an address, a URL's host), with its
//! provenance and context: feeds, confidence, TLP, related actors and
//! malware, ATT&CK techniques, and the sightings Vigil recorded. The logic
//! is the lookup API's (`vigil_server::intel::lookup`).

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use vigil_model::TenantId;
use vigil_server::intel::{LookupHit, lookup};

use crate::cli::OutputFormat;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The value: an IP, CIDR, domain, URL, hash, email, … Defanged forms
    /// (`hxxp://`, `[.]`, `(dot)`) are accepted.
    pub value: String,
    /// The value's type (ipv4, domain, url, sha256, …). By default, guessed.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Output format (json/ndjson/csv: one row per matching indicator).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Serialize)]
#[serde(transparent)]
struct HitRow(LookupHit);

impl Row for HitRow {
    fn headers() -> &'static [&'static str] {
        &[
            "matched by",
            "type",
            "value",
            "conf",
            "tlp",
            "feeds",
            "related",
            "techniques",
            "sightings",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let i = &self.0.indicator;
        vec![
            self.0.matched_by.clone(),
            i.kind.clone(),
            i.value.clone(),
            i.confidence.to_string(),
            i.tlp.clone().unwrap_or_default(),
            i.feeds.join(" "),
            i.related.join(", "),
            i.techniques.join(" "),
            i.sightings.to_string(),
        ]
    }
}

/// Exit code 0 when something matched, 1 when nothing did (so scripts can
/// test a value).
pub async fn run(cfg: Config, a: LookupArgs) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let found = lookup(&store, TenantId::DEFAULT, &a.value, a.kind.as_deref())
        .await
        .with_context(|| format!("cannot look up {:?}", a.value))?;
    let empty = found.matches.is_empty();
    let rows: Vec<HitRow> = found.matches.into_iter().map(HitRow).collect();
    if a.format == OutputFormat::Table {
        println!("{} {}", found.kind, found.value);
        if empty {
            println!("no stored indicator matches");
        } else {
            output::print(&rows, a.format)?;
        }
    } else {
        output::print(&rows, a.format)?;
    }
    Ok(if empty {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

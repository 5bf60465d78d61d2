//! `vigil vulns list|top|show|accept|fp`.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Result, bail};
use serde::Serialize;
use vigil_store::{FindingQuery, FindingRecord, Store};
use vigil_vuln::lifecycle::Status;

use super::args::VulnsCommand;
use super::{TENANT, now, parse_time};
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};
use vigil_vulnops::priority::rank_of;

/// One finding as the CLI shows it.
#[derive(Serialize)]
pub struct FindingRow {
    id: String,
    asset: String,
    vulnerability: String,
    aliases: Vec<String>,
    package: String,
    version: String,
    ecosystem: String,
    component: String,
    fixed_versions: Vec<String>,
    severity: String,
    cvss: Option<String>,
    status: String,
    decision: String,
    risk: f64,
    sla_due: Option<String>,
    first_seen: String,
    fixed_at: Option<String>,
    accepted_until: Option<String>,
    reason: Option<String>,
    source: String,
    summary: Option<String>,
    why: String,
}

impl FindingRow {
    pub fn new(f: FindingRecord, asset: &str) -> Self {
        FindingRow {
            why: f
                .explanation
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_owned(),
            id: f.id,
            asset: asset.to_owned(),
            vulnerability: f.vulnerability,
            aliases: f.aliases,
            package: f.package,
            version: f.version,
            ecosystem: f.ecosystem,
            component: f.component,
            fixed_versions: f.fixed_versions,
            severity: f.severity,
            cvss: f.cvss_vector,
            status: f.status,
            decision: f.decision,
            risk: f.risk as f64 / 100.0,
            sla_due: f.sla_due.map(|t| t.to_rfc3339()),
            first_seen: f.first_seen.to_rfc3339(),
            fixed_at: f.fixed_at.map(|t| t.to_rfc3339()),
            accepted_until: f.accepted_until.map(|t| t.to_rfc3339()),
            reason: f.reason,
            source: f.source,
            summary: f.summary,
        }
    }
}

fn day(s: &Option<String>) -> String {
    s.as_deref()
        .map_or("-".into(), |t| t.chars().take(10).collect())
}

impl Row for FindingRow {
    fn headers() -> &'static [&'static str] {
        &[
            "vulnerability",
            "asset",
            "package",
            "version",
            "fixed",
            "severity",
            "status",
            "decision",
            "risk",
            "sla_due",
            "id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.vulnerability.clone(),
            self.asset.clone(),
            self.package.clone(),
            self.version.clone(),
            self.fixed_versions.join(" "),
            self.severity.clone(),
            self.status.clone(),
            self.decision.clone(),
            format!("{:.2}", self.risk),
            day(&self.sla_due),
            self.id.clone(),
        ]
    }
}

/// One row of `vulns top`.
#[derive(Serialize)]
struct TopRow {
    rank: usize,
    #[serde(flatten)]
    finding: FindingRow,
}

impl Row for TopRow {
    fn headers() -> &'static [&'static str] {
        &[
            "rank",
            "decision",
            "risk",
            "vulnerability",
            "asset",
            "package",
            "sla_due",
            "id",
            "why",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let f = &self.finding;
        vec![
            self.rank.to_string(),
            f.decision.clone(),
            format!("{:.2}", f.risk),
            f.vulnerability.clone(),
            f.asset.clone(),
            format!("{}@{}", f.package, f.version),
            day(&f.sla_due),
            f.id.clone(),
            f.why.clone(),
        ]
    }
}

async fn asset_names(store: &Store) -> Result<HashMap<String, String>> {
    Ok(store
        .list_assets(TENANT)
        .await?
        .into_iter()
        .map(|a| (a.id, a.asset.name))
        .collect())
}

pub async fn run(cfg: Config, cmd: VulnsCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let now = now()?;
    // Expired acceptances reopen and priorities follow new KEV/EPSS data.
    vigil_vulnops::rescore_all(&store, TENANT, &cfg.vuln, now).await?;
    let names = asset_names(&store).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    match cmd {
        VulnsCommand::List(a) => {
            let asset_id = match &a.asset {
                Some(n) => match store.get_asset(TENANT, n).await? {
                    Some(x) => Some(x.id),
                    None => bail!("no asset {n:?} (see `vigil assets list`)"),
                },
                None => None,
            };
            let q = FindingQuery {
                asset_id,
                statuses: a
                    .status
                    .iter()
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect(),
                decision: a.decision.map(|d| d.trim().to_ascii_lowercase()),
                ..FindingQuery::default()
            };
            let rows: Vec<FindingRow> = vigil_vulnops::all_findings(&store, TENANT, &q)
                .await?
                .into_iter()
                .filter(|f| !a.overdue || f.sla_due.is_some_and(|d| d < now))
                .map(|f| {
                    let n = name(&f.asset_id);
                    FindingRow::new(f, &n)
                })
                .collect();
            output::print(&rows, a.format.format)?;
        }
        VulnsCommand::Top(a) => {
            let q = FindingQuery {
                statuses: vec!["open".into(), "reopened".into()],
                ..FindingQuery::default()
            };
            let mut fs = vigil_vulnops::all_findings(&store, TENANT, &q).await?;
            fs.sort_by(|x, y| {
                rank_of(&y.decision)
                    .cmp(&rank_of(&x.decision))
                    .then(y.risk.cmp(&x.risk))
                    .then(x.sla_due.cmp(&y.sla_due))
                    .then(x.id.cmp(&y.id))
            });
            let rows: Vec<TopRow> = fs
                .into_iter()
                .take(a.limit)
                .enumerate()
                .map(|(i, f)| {
                    let n = name(&f.asset_id);
                    TopRow {
                        rank: i + 1,
                        finding: FindingRow::new(f, &n),
                    }
                })
                .collect();
            output::print(&rows, a.format.format)?;
        }
        VulnsCommand::Show { id, format } => {
            let finding = store.get_finding(TENANT, &id).await?;
            let vuln_id = finding
                .as_ref()
                .map_or(id.clone(), |f| f.vulnerability.clone());
            let records = store.get_vuln_records(&vuln_id).await?;
            let mut related: Vec<FindingRow> = Vec::new();
            if finding.is_none() {
                for f in
                    vigil_vulnops::all_findings(&store, TENANT, &FindingQuery::default()).await?
                {
                    if f.vulnerability == id || f.aliases.contains(&id) {
                        let n = name(&f.asset_id);
                        related.push(FindingRow::new(f, &n));
                    }
                }
                if records.is_empty() && related.is_empty() {
                    bail!("no finding or vulnerability {id:?} (ids come from `vigil vulns list`)");
                }
            }
            let explanation = finding.as_ref().map(|f| f.explanation.clone());
            let doc = serde_json::json!({
                "finding": finding.map(|f| { let n = name(&f.asset_id); FindingRow::new(f, &n) }),
                "explanation": explanation,
                "findings": related,
                "records": records.iter().map(|r| serde_json::from_str::<serde_json::Value>(&r.record)
                    .unwrap_or(serde_json::Value::Null)).collect::<Vec<_>>(),
            });
            match format.format {
                crate::cli::OutputFormat::Table => {
                    if let Some(f) = doc.get("finding").filter(|f| !f.is_null()) {
                        for (k, v) in f.as_object().into_iter().flatten() {
                            println!("{k:>16}: {}", plain(v));
                        }
                    }
                    for r in &records {
                        println!(
                            "{:>16}: {} ({}) {}",
                            "record",
                            r.id,
                            r.aliases.join(", "),
                            r.summary.as_deref().unwrap_or("")
                        );
                    }
                    if !related.is_empty() {
                        output::print(&related, format.format)?;
                    }
                }
                _ => println!("{}", serde_json::to_string_pretty(&doc)?),
            }
        }
        VulnsCommand::Accept { id, until, reason } => {
            let until = parse_time(&until)?;
            if until <= now {
                bail!("--until must be in the future");
            }
            if reason.trim().is_empty() {
                bail!("--reason must say why the risk is accepted");
            }
            triage(
                &store,
                &cfg,
                &id,
                Status::Accepted,
                Some(until),
                Some(reason),
                now,
            )
            .await?;
        }
        VulnsCommand::Fp { id, reason } => {
            triage(&store, &cfg, &id, Status::FalsePositive, None, reason, now).await?;
        }
        VulnsCommand::Import(_) => unreachable!("dispatched in vuln::vulns"),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

async fn triage(
    store: &Store,
    cfg: &Config,
    id: &str,
    status: Status,
    until: Option<vigil_model::Timestamp>,
    reason: Option<String>,
    now: vigil_model::Timestamp,
) -> Result<()> {
    let Some(mut f) = store.get_finding(TENANT, id).await? else {
        bail!("no finding {id:?} (ids come from `vigil vulns list`)");
    };
    if status == Status::Accepted && !matches!(f.status.as_str(), "open" | "reopened" | "accepted")
    {
        bail!(
            "finding {id} is {}; only open or reopened findings can be accepted",
            f.status
        );
    }
    f.status = status.as_str().to_owned();
    f.accepted_until = until;
    f.reason = reason;
    f.since = now;
    f.sla_due = None;
    let _ = cfg;
    let by = context::cli_principal();
    let Some(out) = store.triage_finding(TENANT, &f, &by, now).await? else {
        bail!("no finding {id:?}");
    };
    println!(
        "finding {} is now {}{}",
        out.id,
        out.status,
        out.accepted_until
            .map(|u| format!(" until {}", u.to_rfc3339()))
            .unwrap_or_default()
    );
    Ok(())
}

//! `vigil alerts list` and `vigil alerts related`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;
use vigil_model::{Alert, Severity};
use vigil_store::AlertQuery;

use crate::cli::{AlertsCommand, AlertsListArgs};
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

pub async fn run(cfg: Config, cmd: AlertsCommand) -> Result<ExitCode> {
    match cmd {
        AlertsCommand::List(a) => list(cfg, a).await,
        AlertsCommand::Ack(a) => super::respond::alerts_triage(cfg, "acknowledged", a).await,
        AlertsCommand::Escalate(a) => super::respond::alerts_triage(cfg, "escalated", a).await,
        AlertsCommand::Close(a) => super::respond::alerts_triage(cfg, "closed", a).await,
        AlertsCommand::Fp(a) => super::respond::alerts_triage(cfg, "false_positive", a).await,
        AlertsCommand::Suppress(a) => super::respond::suppress(cfg, a).await,
        AlertsCommand::Suppressions { format } => super::respond::suppressions(cfg, format).await,
        AlertsCommand::Unsuppress { id } => super::respond::unsuppress(cfg, &id).await,
        AlertsCommand::Related { id, limit, format } => related(cfg, &id, limit, format).await,
    }
}

/// One alert as the CLI shows it.
#[derive(Serialize)]
struct AlertRow {
    id: String,
    created_at: String,
    event_time: String,
    severity: Severity,
    detector: String,
    rule_id: String,
    title: String,
    host: Option<String>,
    user: Option<String>,
    source_ip: Option<String>,
    destination_ip: Option<String>,
    process: Option<String>,
    command_line: Option<String>,
    file_hash: Option<String>,
    domain: Option<String>,
    event_id: Option<String>,
    tags: Vec<String>,
    /// 1 + repeats folded in by aggregation.
    hits: i64,
    /// Last repeat (or the event time).
    last_seen: String,
    /// Triage state.
    state: String,
}

impl From<Alert> for AlertRow {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id.to_string(),
            created_at: a.created_at.to_rfc3339(),
            event_time: a.event_time.to_rfc3339(),
            severity: a.severity,
            detector: a.detector,
            rule_id: a.rule_id,
            title: a.title,
            host: a.entities.host,
            user: a.entities.user,
            source_ip: a.entities.source_ip,
            destination_ip: a.entities.destination_ip,
            process: a.entities.process,
            command_line: a.entities.command_line,
            file_hash: a.entities.file_hash,
            domain: a.entities.domain,
            event_id: a.event_id.map(|e| e.to_string()),
            last_seen: a.event_time.to_rfc3339(),
            tags: a.tags,
            hits: 1,
            state: "new".into(),
        }
    }
}

impl Row for AlertRow {
    fn headers() -> &'static [&'static str] {
        &[
            "time", "severity", "rule", "title", "host", "user", "hits", "state", "id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        vec![
            self.event_time.clone(),
            self.severity.to_string(),
            format!("{}/{}", self.detector, self.rule_id),
            self.title.clone(),
            o(&self.host),
            o(&self.user),
            self.hits.to_string(),
            self.state.clone(),
            self.id.clone(),
        ]
    }
}

async fn list(cfg: Config, a: AlertsListArgs) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let min_severity = a
        .min_severity
        .as_deref()
        .map(str::parse::<Severity>)
        .transpose()
        .context("--min-severity")?;
    let q = AlertQuery {
        min_severity,
        detector: a.detector,
        limit: a.limit.clamp(1, 1000),
        ..AlertQuery::default()
    };
    let alerts = store.list_alerts(&q).await?;
    let ids: Vec<_> = alerts.iter().map(|a| a.id).collect();
    let hits = store.alert_hits(&ids).await?;
    let triage = store
        .triage_of(vigil_model::TenantId::DEFAULT, &ids)
        .await?;
    let rows: Vec<AlertRow> = alerts
        .into_iter()
        .map(|a| {
            let id = a.id;
            let mut row = AlertRow::from(a);
            if let Some((n, last)) = hits.get(&id) {
                row.hits = *n;
                row.last_seen = last.to_rfc3339();
            }
            if let Some(t) = triage.get(&id) {
                row.state = t.state.clone();
            }
            row
        })
        .collect();
    output::print(&rows, a.format)?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// One related alert as the CLI shows it.
#[derive(Serialize)]
struct RelatedRow {
    #[serde(flatten)]
    alert: AlertRow,
    /// What it shares with the alert asked about (`kind=value`).
    shared: Vec<String>,
}

impl Row for RelatedRow {
    fn headers() -> &'static [&'static str] {
        &["time", "severity", "rule", "title", "shared", "id"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.alert.event_time.clone(),
            self.alert.severity.to_string(),
            format!("{}/{}", self.alert.detector, self.alert.rule_id),
            self.alert.title.clone(),
            self.shared.join(" "),
            self.alert.id.clone(),
        ]
    }
}

async fn related(
    cfg: Config,
    id: &str,
    limit: u32,
    format: crate::cli::OutputFormat,
) -> Result<ExitCode> {
    let alert_id: vigil_model::AlertId = id
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{id:?} is not an alert id"))?;
    let store = context::open_store(&cfg).await?;
    // The index follows the change feed; `vigil serve` keeps it current,
    // catch it up here in case no server runs.
    let (_, clock) = context::runtime();
    store.catch_up_alert_entities(clock.now()).await?;
    let found = store
        .related_alerts(
            vigil_model::TenantId::DEFAULT,
            alert_id,
            limit.clamp(1, 1000),
        )
        .await?;
    store.close().await;
    let Some(found) = found else {
        anyhow::bail!("no alert {id}");
    };
    let rows: Vec<RelatedRow> = found
        .into_iter()
        .map(|r| RelatedRow {
            shared: r.shared.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            alert: AlertRow::from(r.alert),
        })
        .collect();
    output::print(&rows, format)?;
    Ok(ExitCode::SUCCESS)
}

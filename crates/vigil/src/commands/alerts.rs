//! `vigil alerts list`.

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
    event_id: Option<String>,
    tags: Vec<String>,
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
            event_id: a.event_id.map(|e| e.to_string()),
            tags: a.tags,
        }
    }
}

impl Row for AlertRow {
    fn headers() -> &'static [&'static str] {
        &["time", "severity", "rule", "title", "host", "user", "id"]
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
    let rows: Vec<AlertRow> = alerts.into_iter().map(AlertRow::from).collect();
    output::print(&rows, a.format)?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

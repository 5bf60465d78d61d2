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
        AlertsCommand::Suppress(a) => super::respond::suppress(cfg, a).await,
        AlertsCommand::Suppressions { format } => super::respond::suppressions(cfg, format).await,
        AlertsCommand::Unsuppress { id } => super::respond::unsuppress(cfg, &id).await,
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

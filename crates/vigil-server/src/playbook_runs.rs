//! Starting playbook runs, shared by the binary's runner and CLI (`vigil
//! playbooks run|dry-run`) and the API (`POST
//! /api/v1/playbooks/{id}/runs`): the trigger object of a manual run (for
//! an alert, or none), the stored run record (queued past the playbook's
//! concurrency limit) and the side-effect-free dry run.
//!
//! A run created here is driven by `vigil serve`'s runner (a `running` run
//! without a wake time is due at once) or, from the CLI, inline.

use std::fmt;

use serde_json::json;
use vigil_model::{Alert, AlertId, Principal, TenantId, Timestamp};
use vigil_respond::playbook::run::{self, LogEntry, RunStatus};
use vigil_respond::playbook::{Playbook, Templates};
use vigil_store::{PlaybookRecord, RunLogRecord, RunRecord, Store};

/// Why a run could not be prepared or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The alert named as the trigger does not exist (or is not an id).
    NoAlert(String),
    /// The run state could not be serialised (a broken invariant).
    State(String),
    /// The store failed.
    Store(vigil_store::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAlert(id) => write!(f, "no alert {id}"),
            Self::State(e) => write!(f, "run state: {e}"),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<vigil_store::Error> for StartError {
    fn from(e: vigil_store::Error) -> Self {
        Self::Store(e)
    }
}

/// The alert as the template context sees it (`alert.*`).
pub fn alert_json(a: &Alert) -> serde_json::Value {
    json!({
        "id": a.id.to_string(),
        "detector": a.detector,
        "rule_id": a.rule_id,
        "title": a.title,
        "severity": a.severity.as_str(),
        "created_at": a.created_at.to_rfc3339(),
        "event_time": a.event_time.to_rfc3339(),
        "entities": a.entities,
        "tags": a.tags,
        "details": a.details,
    })
}

/// What a manual run is for: trigger kind, trigger id (unique per run) and
/// the trigger object.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualTrigger {
    /// `alert` or `manual`.
    pub kind: String,
    /// Unique per manual run (so the one-run-per-trigger rule never
    /// refuses a second manual run).
    pub trigger_id: String,
    /// The object under `alert` in the template context, or `{}`.
    pub trigger: serde_json::Value,
}

/// The trigger of a manual run: for alert `alert` (an id), or none.
pub async fn manual_trigger(
    store: &Store,
    tenant: TenantId,
    alert: Option<&str>,
) -> Result<ManualTrigger, StartError> {
    let manual_id = uuid::Uuid::now_v7().to_string();
    match alert.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => {
            let parsed: AlertId = id.parse().map_err(|_| StartError::NoAlert(id.into()))?;
            let a = store
                .get_alert(tenant, parsed)
                .await?
                .ok_or_else(|| StartError::NoAlert(id.into()))?;
            Ok(ManualTrigger {
                kind: "alert".into(),
                trigger_id: format!("{}:manual:{manual_id}", a.id),
                trigger: alert_json(&a),
            })
        }
        None => Ok(ManualTrigger {
            kind: "manual".into(),
            trigger_id: manual_id,
            trigger: json!({}),
        }),
    }
}

/// A stored new run.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    /// The run.
    pub record: RunRecord,
}

/// Stores a new run of `rec` (parsed as `pb`) for a trigger object unless
/// one exists for it (`None` then). Past the playbook's concurrency limit
/// the run waits as `queued`.
#[allow(clippy::too_many_arguments)]
pub async fn create_run(
    store: &Store,
    tenant: TenantId,
    rec: &PlaybookRecord,
    pb: &Playbook,
    kind: &str,
    trigger_id: &str,
    trigger: serde_json::Value,
    inputs: serde_json::Value,
    by: &Principal,
    now: Timestamp,
) -> Result<Option<Started>, StartError> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut st = run::start(pb, &id, kind, trigger, inputs, now);
    let active = store.count_active_runs(tenant, &rec.id).await?;
    let status = if active >= i64::from(pb.concurrency) {
        st.drain_log();
        st.log.push(LogEntry {
            at: now,
            step: String::new(),
            event: "queued".into(),
            message: format!("{active} runs active, the limit is {}", pb.concurrency),
        });
        "queued".to_string()
    } else {
        st.status.as_str().to_string()
    };
    let log: Vec<RunLogRecord> = st
        .drain_log()
        .into_iter()
        .map(|e| RunLogRecord {
            at: e.at,
            step: e.step,
            event: e.event,
            message: e.message,
        })
        .collect();
    let record = RunRecord {
        id: id.clone(),
        playbook_id: rec.id.clone(),
        version: rec.version,
        trigger_kind: kind.to_string(),
        trigger_id: trigger_id.to_string(),
        status,
        state: serde_json::to_value(&st).map_err(|e| StartError::State(e.to_string()))?,
        wake_at: None,
        rev: 0,
        created_at: now,
        updated_at: now,
    };
    Ok(store
        .create_run(tenant, &record, &log, by, now)
        .await?
        .then_some(Started { record }))
}

/// What a dry run would do: the final status and the log, without any
/// side effect.
pub fn dry_run(
    pb: &Playbook,
    kind: &str,
    trigger: serde_json::Value,
    inputs: serde_json::Value,
    now: Timestamp,
) -> Result<(RunStatus, Vec<LogEntry>), vigil_respond::Error> {
    let mut st = run::start(pb, "dry-run", kind, trigger, inputs, now);
    let log = run::dry_run(pb, &Templates::new(), &mut st, now)?;
    Ok((st.status, log))
}

//! Response state (block 6): alert triage, incidents (timeline, tasks,
//! linked alerts), playbooks with every uploaded version, and durable
//! playbook runs with their logs.
//!
//! The rules (which status may follow which, what a playbook step does) are
//! the caller's (`vigil-respond`); the store writes what it is given, and
//! every change by a person, token or playbook is audited with its
//! principal and lands in the change feed in the same transaction.
//! Incidents, timeline entries and tasks created by a playbook step carry
//! the step's idempotency key (`origin_key`): writing the same key twice
//! returns the first row instead of a second one, so a step replayed after
//! a crash has exactly one effect.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{AlertId, Principal, Severity, TenantId, Timestamp};

use crate::Store;
use crate::audit::{AuditOps, NewAudit};
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, corrupt, db};
use crate::migrations::{BLOCK_RESPOND, Migration, version};
use crate::row::RowExt;

/// The respond block's migrations (block 6).
pub const RESPOND_MIGRATIONS: &[Migration] = &[
    Migration {
        version: version(BLOCK_RESPOND, 1),
        name: "respond",
        sqlite: include_str!("../migrations/sqlite/60001_respond.sql"),
        postgres: include_str!("../migrations/postgres/60001_respond.sql"),
    },
    Migration {
        version: version(BLOCK_RESPOND, 10),
        name: "alert_entities",
        sqlite: include_str!("../migrations/sqlite/60010_alert_entities.sql"),
        postgres: include_str!("../migrations/postgres/60010_alert_entities.sql"),
    },
];

/// Alert triage states.
pub const TRIAGE_STATES: [&str; 5] = [
    "new",
    "acknowledged",
    "escalated",
    "false_positive",
    "closed",
];
/// Task statuses.
pub const TASK_STATUSES: [&str; 4] = ["open", "in_progress", "done", "cancelled"];

/// The triage record of an alert (absent = `new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageRecord {
    /// Alert.
    pub alert_id: AlertId,
    /// State.
    pub state: String,
    /// Assignee.
    pub assignee: Option<String>,
    /// Incident it was escalated into.
    pub incident_id: Option<String>,
    /// Why (false positive, closing note).
    pub reason: Option<String>,
    /// Last change.
    pub updated_at: Timestamp,
    /// By whom (principal label).
    pub updated_by: String,
    /// First time it left `new` (for MTTA).
    pub acked_at: Option<Timestamp>,
}

/// An incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    /// Id (UUID).
    pub id: String,
    /// Per-tenant number, from 1 (`INC-7`).
    pub number: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Severity.
    pub severity: Severity,
    /// NIST SP 800-61 status (`new`, `triage`, …, `closed`).
    pub status: String,
    /// Assignee.
    pub assignee: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Regulatory flags (`personal_data`, `health_data`, `nis2_entity`).
    pub flags: Vec<String>,
    /// Regulatory clocks marked done, with when.
    pub clocks_done: BTreeMap<String, Timestamp>,
    /// When the organisation became aware (clock start).
    pub aware_at: Timestamp,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// First move past containment.
    pub contained_at: Option<Timestamp>,
    /// Closed.
    pub closed_at: Option<Timestamp>,
    /// Merged into this incident.
    pub merged_into: Option<String>,
    /// Creator (principal label).
    pub created_by: String,
}

/// What an incident is created with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewIncident {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Severity; by default, the highest of the linked alerts (or medium).
    pub severity: Option<Severity>,
    /// Category.
    pub category: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Regulatory flags.
    pub flags: Vec<String>,
    /// Assignee.
    pub assignee: Option<String>,
    /// Alerts to link (they become `escalated`).
    pub alerts: Vec<AlertId>,
    /// Idempotency key of the playbook step that creates it.
    pub origin_key: Option<String>,
}

/// A timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// Position.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// `created`, `status`, `alert`, `note`, `task`, `playbook`, `merge`, …
    pub kind: String,
    /// Who (principal label).
    pub actor: String,
    /// Text.
    pub text: String,
    /// Details.
    pub details: serde_json::Value,
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// Id.
    pub id: String,
    /// Incident.
    pub incident_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// `open`, `in_progress`, `done`, `cancelled`.
    pub status: String,
    /// Assignee.
    pub assignee: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A stored playbook version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookRecord {
    /// Playbook id.
    pub id: String,
    /// Upload number, from 1.
    pub version: i64,
    /// The YAML as uploaded.
    pub source: String,
    /// Enabled.
    pub enabled: bool,
    /// Uploaded.
    pub created_at: Timestamp,
    /// By (principal label).
    pub created_by: String,
}

/// A playbook run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Playbook.
    pub playbook_id: String,
    /// Playbook version it runs.
    pub version: i64,
    /// `alert`, `incident`, `sighting`, `finding`, `schedule`, `manual`.
    pub trigger_kind: String,
    /// The triggering object's id (or the schedule slot).
    pub trigger_id: String,
    /// Status name.
    pub status: String,
    /// The engine's state (JSON).
    pub state: serde_json::Value,
    /// When the runner must look at it again (retry, approval deadline).
    pub wake_at: Option<Timestamp>,
    /// Revision, +1 per save: a save names the revision it read, so two
    /// processes driving one run cannot both hand out its next command.
    pub rev: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One stored run log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLogRecord {
    /// When.
    pub at: Timestamp,
    /// Step (empty for the run).
    pub step: String,
    /// Event.
    pub event: String,
    /// Message.
    pub message: String,
}

/// An audit entry to write with a run update.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAudit {
    /// Action (`playbook.step`, `run.approve`, …).
    pub action: String,
    /// Target (`run:<id>`).
    pub target: String,
    /// Details.
    pub details: serde_json::Value,
}

/// An observable attached to an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservableRecord {
    /// Kind (`ipv4`, `domain`, `sha256`, …).
    pub kind: String,
    /// Value.
    pub value: String,
    /// What the indicator store knew when it was added.
    pub intel: serde_json::Value,
    /// Added.
    pub added_at: Timestamp,
    /// By (principal label).
    pub added_by: String,
}

/// An evidence attachment (content stored once per SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    /// Id.
    pub id: String,
    /// Incident.
    pub incident_id: String,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// Added.
    pub added_at: Timestamp,
    /// By (principal label).
    pub added_by: String,
}

/// Largest evidence attachment, bytes.
pub const MAX_EVIDENCE_BYTES: usize = 64 << 20;

fn evidence_from_row(r: &impl RowExt) -> Result<EvidenceRecord> {
    const T: &str = "evidence";
    Ok(EvidenceRecord {
        id: r.text(T, "id")?,
        incident_id: r.text(T, "incident_id")?,
        sha256: r.text(T, "sha256")?,
        name: r.text(T, "name")?,
        media_type: r.text(T, "media_type")?,
        size: r.int(T, "size")?,
        added_at: r.ts(T, "added_at")?,
        added_by: r.text(T, "added_by")?,
    })
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

const INCIDENT_COLUMNS: &str = "id, number, title, description, severity, status, assignee, category, tags, flags, \
     clocks_done, aware_at, created_at, updated_at, contained_at, closed_at, merged_into, created_by";

fn strings(v: serde_json::Value, table: &'static str, col: &str) -> Result<Vec<String>> {
    serde_json::from_value(v).map_err(|e| corrupt(table, format!("column {col}: {e}")))
}

fn incident_from_row(r: &impl RowExt) -> Result<IncidentRecord> {
    const T: &str = "incidents";
    let rank = r.int(T, "severity")?;
    let clocks: BTreeMap<String, i64> = serde_json::from_value(r.json(T, "clocks_done")?)
        .map_err(|e| corrupt(T, format!("column clocks_done: {e}")))?;
    Ok(IncidentRecord {
        id: r.text(T, "id")?,
        number: r.int(T, "number")?,
        title: r.text(T, "title")?,
        description: r.text(T, "description")?,
        severity: Severity::from_rank(rank)
            .ok_or_else(|| corrupt(T, format!("severity rank {rank}")))?,
        status: r.text(T, "status")?,
        assignee: r.opt_text(T, "assignee")?,
        category: r.opt_text(T, "category")?,
        tags: strings(r.json(T, "tags")?, T, "tags")?,
        flags: strings(r.json(T, "flags")?, T, "flags")?,
        clocks_done: clocks
            .into_iter()
            .map(|(k, v)| (k, Timestamp::from_micros(v)))
            .collect(),
        aware_at: r.ts(T, "aware_at")?,
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
        contained_at: r.opt_ts(T, "contained_at")?,
        closed_at: r.opt_ts(T, "closed_at")?,
        merged_into: r.opt_text(T, "merged_into")?,
        created_by: r.text(T, "created_by")?,
    })
}

fn triage_from_row(r: &impl RowExt) -> Result<TriageRecord> {
    const T: &str = "alert_triage";
    Ok(TriageRecord {
        alert_id: r.parsed(T, "alert_id")?,
        state: r.text(T, "state")?,
        assignee: r.opt_text(T, "assignee")?,
        incident_id: r.opt_text(T, "incident_id")?,
        reason: r.opt_text(T, "reason")?,
        updated_at: r.ts(T, "updated_at")?,
        updated_by: r.text(T, "updated_by")?,
        acked_at: r.opt_ts(T, "acked_at")?,
    })
}

fn timeline_from_row(r: &impl RowExt) -> Result<TimelineEntry> {
    const T: &str = "incident_timeline";
    Ok(TimelineEntry {
        id: r.int(T, "id")?,
        at: r.ts(T, "at")?,
        kind: r.text(T, "kind")?,
        actor: r.text(T, "actor")?,
        text: r.text(T, "text")?,
        details: r.json(T, "details")?,
    })
}

fn task_from_row(r: &impl RowExt) -> Result<TaskRecord> {
    const T: &str = "incident_tasks";
    Ok(TaskRecord {
        id: r.text(T, "id")?,
        incident_id: r.text(T, "incident_id")?,
        title: r.text(T, "title")?,
        description: r.text(T, "description")?,
        status: r.text(T, "status")?,
        assignee: r.opt_text(T, "assignee")?,
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
    })
}

fn playbook_from_row(r: &impl RowExt) -> Result<PlaybookRecord> {
    const T: &str = "playbooks";
    Ok(PlaybookRecord {
        id: r.text(T, "id")?,
        version: r.int(T, "version")?,
        source: r.text(T, "source")?,
        enabled: r.int(T, "enabled")? != 0,
        created_at: r.ts(T, "created_at")?,
        created_by: r.text(T, "created_by")?,
    })
}

fn run_from_row(r: &impl RowExt) -> Result<RunRecord> {
    const T: &str = "playbook_runs";
    Ok(RunRecord {
        id: r.text(T, "id")?,
        playbook_id: r.text(T, "playbook_id")?,
        version: r.int(T, "version")?,
        trigger_kind: r.text(T, "trigger_kind")?,
        trigger_id: r.text(T, "trigger_id")?,
        status: r.text(T, "status")?,
        state: r.json(T, "state")?,
        wake_at: r.opt_ts(T, "wake_at")?,
        rev: r.int(T, "rev")?,
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
    })
}

const RUN_COLUMNS: &str = "id, playbook_id, version, trigger_kind, trigger_id, status, state, wake_at, rev, created_at, updated_at";

/// Statuses of runs the runner still drives.
pub const ACTIVE_RUN_STATUSES: [&str; 2] = ["running", "waiting_approval"];

fn check_text(field: &str, v: &str, max: usize) -> Result<()> {
    if v.len() > max {
        return Err(Error::Invalid(format!("{field}: longer than {max} bytes")));
    }
    Ok(())
}

impl Store {
    // ---- alert triage -------------------------------------------------

    /// Sets an alert's triage state, audited as `alert.update`. `None` if
    /// the tenant has no such alert.
    #[allow(clippy::too_many_arguments)]
    pub async fn triage_alert(
        &self,
        tenant: TenantId,
        alert: AlertId,
        state: &str,
        assignee: Option<&str>,
        reason: Option<&str>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<Option<TriageRecord>> {
        const OP: &str = "triage_alert";
        if !TRIAGE_STATES.contains(&state) {
            return Err(Error::Invalid(format!(
                "triage state {state:?}: expected one of {}",
                TRIAGE_STATES.join(", ")
            )));
        }
        check_text("reason", reason.unwrap_or(""), 4096)?;
        let Some(_) = self.get_alert(tenant, alert).await? else {
            return Ok(None);
        };
        let target = format!("alert:{alert}");
        let payload = json!({ "id": alert.to_string(), "state": state, "assignee": assignee, "reason": reason });
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let acked = (state != "new").then_some(now.as_micros());
            sqlx::query(
                "INSERT INTO alert_triage (tenant, alert_id, state, assignee, reason, updated_at, updated_by, acked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant, alert_id) DO UPDATE SET state = excluded.state, \
                 assignee = COALESCE(excluded.assignee, alert_triage.assignee), reason = excluded.reason, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by, \
                 acked_at = COALESCE(alert_triage.acked_at, excluded.acked_at)",
            )
            .bind(tenant.to_string())
            .bind(alert.to_string())
            .bind(state)
            .bind(assignee)
            .bind(reason)
            .bind(now.as_micros())
            .bind(by.label())
            .bind(acked)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let audit = NewAudit::new(tenant, by, "alert.update", &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "alert",
                object_id: &target[6..],
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.get_triage(tenant, alert).await
    }

    /// An alert's triage record (`None` = never triaged, i.e. `new`).
    pub async fn get_triage(
        &self,
        tenant: TenantId,
        alert: AlertId,
    ) -> Result<Option<TriageRecord>> {
        const OP: &str = "get_triage";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT alert_id, state, assignee, incident_id, reason, updated_at, updated_by, acked_at \
                 FROM alert_triage WHERE tenant = $1 AND alert_id = $2",
            )
            .bind(tenant.to_string())
            .bind(alert.to_string())
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref().map(triage_from_row).transpose()
        })
    }

    /// Triage records of many alerts (those never triaged are absent).
    pub async fn triage_of(
        &self,
        tenant: TenantId,
        alerts: &[AlertId],
    ) -> Result<BTreeMap<AlertId, TriageRecord>> {
        let mut out = BTreeMap::new();
        for chunk in alerts.chunks(500) {
            const OP: &str = "triage_of";
            let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT alert_id, state, assignee, incident_id, reason, updated_at, updated_by, acked_at \
                 FROM alert_triage WHERE tenant = $1 AND alert_id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<TriageRecord> = dispatch!(self, |pool, DB| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string());
                for id in &ids {
                    q = q.bind(id);
                }
                let rows = q.fetch_all(pool).await.map_err(db(OP))?;
                rows.iter().map(triage_from_row).collect::<Result<Vec<_>>>()
            })?;
            for r in rows {
                out.insert(r.alert_id, r);
            }
        }
        Ok(out)
    }

    // ---- incidents ----------------------------------------------------

    /// Creates an incident, links its alerts (they become `escalated`),
    /// writes the first timeline entries, audits `incident.create`. With an
    /// `origin_key` already used, returns that incident unchanged.
    pub async fn create_incident(
        &self,
        tenant: TenantId,
        new: &NewIncident,
        by: &Principal,
        now: Timestamp,
    ) -> Result<IncidentRecord> {
        const OP: &str = "create_incident";
        if new.title.trim().is_empty() {
            return Err(Error::Invalid("title: empty".into()));
        }
        check_text("title", &new.title, 512)?;
        check_text("description", &new.description, 64 * 1024)?;
        if let Some(key) = &new.origin_key
            && let Some(existing) = self.incident_by_origin(tenant, key).await?
        {
            return Ok(existing);
        }
        let mut severity = new.severity;
        let mut alert_rows = Vec::new();
        for a in &new.alerts {
            let alert = self
                .get_alert(tenant, *a)
                .await?
                .ok_or_else(|| Error::NotFound(format!("alert {a}")))?;
            alert_rows.push(alert);
        }
        if severity.is_none() {
            severity = alert_rows.iter().map(|a| a.severity).max();
        }
        let severity = severity.unwrap_or(Severity::Medium);
        let id = new_id();
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let number: i64 = {
                let row = sqlx::query(
                    "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM incidents WHERE tenant = $1",
                )
                .bind(tenant.to_string())
                .fetch_one(tx.conn())
                .await
                .map_err(db(OP))?;
                row.int("incidents", "n")?
            };
            sqlx::query(
                "INSERT INTO incidents (tenant, id, number, title, description, severity, status, assignee, category, \
                 tags, flags, clocks_done, aware_at, created_at, updated_at, created_by, origin_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8, $9, $10, $11, $12, $12, $12, $13, $14)",
            )
            .bind(tenant.to_string())
            .bind(&id)
            .bind(number)
            .bind(new.title.trim())
            .bind(&new.description)
            .bind(i64::from(severity.rank()))
            .bind(new.assignee.as_deref())
            .bind(new.category.as_deref())
            .bind(Json(&new.tags))
            .bind(Json(&new.flags))
            .bind(Json(json!({})))
            .bind(now.as_micros())
            .bind(&actor)
            .bind(new.origin_key.as_deref())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let mut entries = vec![(
                "created".to_string(),
                format!("Incident INC-{number} created: {}", new.title.trim()),
                json!({ "severity": severity.as_str() }),
            )];
            for a in &alert_rows {
                <DB as RespondOps>::link_alert(tx.conn(), tenant, &id, a.id, &actor, now).await?;
                entries.push((
                    "alert".into(),
                    format!("Alert linked: {}", a.title),
                    json!({ "alert_id": a.id.to_string(), "rule_id": a.rule_id }),
                ));
            }
            for (kind, text, details) in &entries {
                <DB as RespondOps>::insert_timeline(
                    tx.conn(),
                    tenant,
                    &id,
                    now,
                    kind,
                    &actor,
                    text,
                    details,
                    None,
                )
                .await?;
            }
            let payload = json!({ "id": id, "number": number, "title": new.title.trim(), "severity": severity.as_str(), "alerts": new.alerts.iter().map(ToString::to_string).collect::<Vec<_>>() });
            let target = format!("incident:{id}");
            let audit = NewAudit::new(tenant, by, "incident.create", &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "incident",
                object_id: &id,
                op: "create",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.get_incident(tenant, &id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("incident {id} after insert")))
    }

    async fn incident_by_origin(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<IncidentRecord>> {
        const OP: &str = "incident_by_origin";
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE tenant = $1 AND origin_key = $2"
        );
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(incident_from_row).transpose()
        })
    }

    /// One incident by id or by number (`7` or `INC-7`).
    pub async fn get_incident(
        &self,
        tenant: TenantId,
        id_or_number: &str,
    ) -> Result<Option<IncidentRecord>> {
        const OP: &str = "get_incident";
        let t = id_or_number.trim();
        let number: i64 = t
            .strip_prefix("INC-")
            .or_else(|| t.strip_prefix("inc-"))
            .unwrap_or(t)
            .parse()
            .unwrap_or(-1);
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE tenant = $1 AND (id = $2 OR number = $3)"
        );
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(t)
                .bind(number)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(incident_from_row).transpose()
        })
    }

    /// Incidents, newest first; `status` filters (`open` = not closed).
    pub async fn list_incidents(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        before_number: Option<i64>,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>> {
        const OP: &str = "list_incidents";
        let limit = i64::from(limit.clamp(1, 1000));
        let cond = match status {
            None => "",
            Some("open") => " AND status <> 'closed'",
            Some(_) => " AND status = $4",
        };
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE tenant = $1 AND number < $2{cond} \
             ORDER BY number DESC LIMIT $3"
        );
        dispatch!(self, |pool, DB| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(before_number.unwrap_or(i64::MAX))
                .bind(limit);
            if let Some(s) = status.filter(|s| *s != "open") {
                q = q.bind(s.to_string());
            }
            let rows = q.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter().map(incident_from_row).collect()
        })
    }

    /// Writes an incident the caller changed (status rules are the
    /// caller's), with timeline entries, audited as `action` (e.g.
    /// `incident.update`). `None` if there is no such incident.
    pub async fn save_incident(
        &self,
        tenant: TenantId,
        rec: &IncidentRecord,
        timeline: &[(String, String, serde_json::Value)],
        action: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<Option<IncidentRecord>> {
        const OP: &str = "save_incident";
        check_text("title", &rec.title, 512)?;
        check_text("description", &rec.description, 64 * 1024)?;
        let actor = by.label();
        let clocks: BTreeMap<&String, i64> = rec
            .clocks_done
            .iter()
            .map(|(k, v)| (k, v.as_micros()))
            .collect();
        let payload = json!({
            "id": rec.id, "number": rec.number, "status": rec.status, "severity": rec.severity.as_str(),
            "assignee": rec.assignee, "tags": rec.tags, "flags": rec.flags,
            "changes": timeline.iter().map(|(k, t, _)| json!({"kind": k, "text": t})).collect::<Vec<_>>(),
        });
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE incidents SET title = $1, description = $2, severity = $3, status = $4, assignee = $5, \
                 category = $6, tags = $7, flags = $8, clocks_done = $9, updated_at = $10, contained_at = $11, \
                 closed_at = $12, merged_into = $13, aware_at = $14 WHERE tenant = $15 AND id = $16",
            )
            .bind(&rec.title)
            .bind(&rec.description)
            .bind(i64::from(rec.severity.rank()))
            .bind(&rec.status)
            .bind(rec.assignee.as_deref())
            .bind(rec.category.as_deref())
            .bind(Json(&rec.tags))
            .bind(Json(&rec.flags))
            .bind(Json(&clocks))
            .bind(now.as_micros())
            .bind(rec.contained_at.map(Timestamp::as_micros))
            .bind(rec.closed_at.map(Timestamp::as_micros))
            .bind(rec.merged_into.as_deref())
            .bind(rec.aware_at.as_micros())
            .bind(tenant.to_string())
            .bind(&rec.id)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(None);
            }
            for (kind, text, details) in timeline {
                <DB as RespondOps>::insert_timeline(
                    tx.conn(),
                    tenant,
                    &rec.id,
                    now,
                    kind,
                    &actor,
                    text,
                    details,
                    None,
                )
                .await?;
            }
            let target = format!("incident:{}", rec.id);
            let audit = NewAudit::new(tenant, by, action, &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "incident",
                object_id: &rec.id,
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.get_incident(tenant, &rec.id).await
    }

    /// Links alerts to an incident (they become `escalated`), audited.
    pub async fn link_alerts(
        &self,
        tenant: TenantId,
        incident_id: &str,
        alerts: &[AlertId],
        by: &Principal,
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "link_alerts";
        let mut rows = Vec::new();
        for a in alerts {
            rows.push(
                self.get_alert(tenant, *a)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("alert {a}")))?,
            );
        }
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut n = 0;
            for a in &rows {
                if <DB as RespondOps>::link_alert(tx.conn(), tenant, incident_id, a.id, &actor, now)
                    .await?
                {
                    n += 1;
                    <DB as RespondOps>::insert_timeline(
                        tx.conn(),
                        tenant,
                        incident_id,
                        now,
                        "alert",
                        &actor,
                        &format!("Alert linked: {}", a.title),
                        &json!({ "alert_id": a.id.to_string(), "rule_id": a.rule_id }),
                        None,
                    )
                    .await?;
                }
            }
            let target = format!("incident:{incident_id}");
            let details =
                json!({ "alerts": alerts.iter().map(ToString::to_string).collect::<Vec<_>>() });
            let audit = NewAudit::new(tenant, by, "incident.link_alerts", &target, details, now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
            Ok::<usize, Error>(n)
        })
    }

    /// Merges `from` into `into`: alert links, tasks and triage records
    /// move to `into`; `from` is closed with `merged_into` set; both get a
    /// timeline entry; audited as `incident.merge`. One transaction.
    pub async fn merge_incidents(
        &self,
        tenant: TenantId,
        into: &str,
        from: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<()> {
        const OP: &str = "merge_incidents";
        if into == from {
            return Err(Error::Invalid(
                "cannot merge an incident into itself".into(),
            ));
        }
        let target = self
            .get_incident(tenant, into)
            .await?
            .ok_or_else(|| Error::NotFound(format!("incident {into}")))?;
        let source = self
            .get_incident(tenant, from)
            .await?
            .ok_or_else(|| Error::NotFound(format!("incident {from}")))?;
        if source.merged_into.is_some() {
            return Err(Error::Invalid(format!(
                "INC-{} is already merged",
                source.number
            )));
        }
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let t = tenant.to_string();
            for sql in [
                "INSERT INTO incident_alerts (tenant, incident_id, alert_id, added_at) \
                 SELECT tenant, $2, alert_id, added_at FROM incident_alerts WHERE tenant = $1 AND incident_id = $3 \
                 ON CONFLICT (tenant, incident_id, alert_id) DO NOTHING",
                "DELETE FROM incident_alerts WHERE tenant = $1 AND incident_id = $3 AND $2 <> ''",
                "UPDATE incident_tasks SET incident_id = $2 WHERE tenant = $1 AND incident_id = $3",
                "UPDATE alert_triage SET incident_id = $2 WHERE tenant = $1 AND incident_id = $3",
            ] {
                sqlx::query(sql)
                    .bind(&t)
                    .bind(&target.id)
                    .bind(&source.id)
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
            }
            sqlx::query("UPDATE incidents SET merged_into = $1, status = 'closed', closed_at = $2, updated_at = $2 WHERE tenant = $3 AND id = $4")
                .bind(&target.id)
                .bind(now.as_micros())
                .bind(&t)
                .bind(&source.id)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            let details = json!({ "into": target.id, "from": source.id });
            <DB as RespondOps>::insert_timeline(
                tx.conn(),
                tenant,
                &target.id,
                now,
                "merge",
                &actor,
                &format!("INC-{} merged into this incident", source.number),
                &details,
                None,
            )
            .await?;
            <DB as RespondOps>::insert_timeline(
                tx.conn(),
                tenant,
                &source.id,
                now,
                "merge",
                &actor,
                &format!("Merged into INC-{}", target.number),
                &details,
                None,
            )
            .await?;
            let target_label = format!("incident:{}", target.id);
            let audit = NewAudit::new(
                tenant,
                by,
                "incident.merge",
                &target_label,
                details.clone(),
                now,
            );
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "incident",
                object_id: &source.id,
                op: "update",
                payload: &details,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })
    }

    /// The alerts linked to an incident.
    pub async fn incident_alerts(
        &self,
        tenant: TenantId,
        incident_id: &str,
    ) -> Result<Vec<AlertId>> {
        const OP: &str = "incident_alerts";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query("SELECT alert_id FROM incident_alerts WHERE tenant = $1 AND incident_id = $2 ORDER BY added_at, alert_id")
                .bind(tenant.to_string())
                .bind(incident_id)
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| r.parsed("incident_alerts", "alert_id"))
                .collect()
        })
    }

    /// Adds a timeline entry (note, comment, playbook action). With an
    /// `origin_key` already used, nothing is added; returns whether it was.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_timeline(
        &self,
        tenant: TenantId,
        incident_id: &str,
        kind: &str,
        text: &str,
        details: &serde_json::Value,
        origin_key: Option<&str>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "add_timeline";
        check_text("text", text, 64 * 1024)?;
        if self.get_incident(tenant, incident_id).await?.is_none() {
            return Err(Error::NotFound(format!("incident {incident_id}")));
        }
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let added = <DB as RespondOps>::insert_timeline(
                tx.conn(),
                tenant,
                incident_id,
                now,
                kind,
                &actor,
                text,
                details,
                origin_key,
            )
            .await?;
            if added {
                let target = format!("incident:{incident_id}");
                let action = format!("incident.{kind}");
                let audit =
                    NewAudit::new(tenant, by, &action, &target, json!({ "text": text }), now);
                <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            }
            tx.commit(OP).await?;
            Ok::<bool, Error>(added)
        })
    }

    /// An incident's timeline, oldest first.
    pub async fn incident_timeline(
        &self,
        tenant: TenantId,
        incident_id: &str,
    ) -> Result<Vec<TimelineEntry>> {
        const OP: &str = "incident_timeline";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT id, at, kind, actor, text, details FROM incident_timeline \
                 WHERE tenant = $1 AND incident_id = $2 ORDER BY id",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(timeline_from_row).collect()
        })
    }

    /// Adds a task (idempotent by `origin_key`), with a timeline entry.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_task(
        &self,
        tenant: TenantId,
        incident_id: &str,
        title: &str,
        description: &str,
        origin_key: Option<&str>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<TaskRecord> {
        const OP: &str = "add_task";
        if title.trim().is_empty() {
            return Err(Error::Invalid("task title: empty".into()));
        }
        check_text("title", title, 512)?;
        check_text("description", description, 64 * 1024)?;
        if self.get_incident(tenant, incident_id).await?.is_none() {
            return Err(Error::NotFound(format!("incident {incident_id}")));
        }
        if let Some(key) = origin_key
            && let Some(t) = self.task_where(tenant, "origin_key", key).await?
        {
            return Ok(t);
        }
        let id = new_id();
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO incident_tasks (tenant, id, incident_id, title, description, status, created_at, updated_at, origin_key) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, $6, $7)",
            )
            .bind(tenant.to_string())
            .bind(&id)
            .bind(incident_id)
            .bind(title.trim())
            .bind(description)
            .bind(now.as_micros())
            .bind(origin_key)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            <DB as RespondOps>::insert_timeline(
                tx.conn(),
                tenant,
                incident_id,
                now,
                "task",
                &actor,
                &format!("Task added: {}", title.trim()),
                &json!({ "task_id": id }),
                None,
            )
            .await?;
            let target = format!("incident:{incident_id}");
            let audit = NewAudit::new(
                tenant,
                by,
                "incident.task",
                &target,
                json!({ "task_id": id, "title": title.trim() }),
                now,
            );
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.task_where(tenant, "id", &id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("task {id} after insert")))
    }

    async fn task_where(
        &self,
        tenant: TenantId,
        col: &'static str,
        v: &str,
    ) -> Result<Option<TaskRecord>> {
        const OP: &str = "get_task";
        let sql = format!(
            "SELECT id, incident_id, title, description, status, assignee, created_at, updated_at \
             FROM incident_tasks WHERE tenant = $1 AND {col} = $2"
        );
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(v)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(task_from_row).transpose()
        })
    }

    /// Changes a task's status and assignee, audited. `None` if no such task.
    pub async fn update_task(
        &self,
        tenant: TenantId,
        task_id: &str,
        status: &str,
        assignee: Option<&str>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<Option<TaskRecord>> {
        const OP: &str = "update_task";
        if !TASK_STATUSES.contains(&status) {
            return Err(Error::Invalid(format!(
                "task status {status:?}: expected one of {}",
                TASK_STATUSES.join(", ")
            )));
        }
        let Some(task) = self.task_where(tenant, "id", task_id).await? else {
            return Ok(None);
        };
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query("UPDATE incident_tasks SET status = $1, assignee = COALESCE($2, assignee), updated_at = $3 WHERE tenant = $4 AND id = $5")
                .bind(status)
                .bind(assignee)
                .bind(now.as_micros())
                .bind(tenant.to_string())
                .bind(task_id)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            <DB as RespondOps>::insert_timeline(
                tx.conn(),
                tenant,
                &task.incident_id,
                now,
                "task",
                &actor,
                &format!("Task {}: {}", status.replace('_', " "), task.title),
                &json!({ "task_id": task_id, "status": status }),
                None,
            )
            .await?;
            let target = format!("incident:{}", task.incident_id);
            let audit = NewAudit::new(
                tenant,
                by,
                "incident.task",
                &target,
                json!({ "task_id": task_id, "status": status }),
                now,
            );
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.task_where(tenant, "id", task_id).await
    }

    /// An incident's tasks, oldest first.
    pub async fn incident_tasks(
        &self,
        tenant: TenantId,
        incident_id: &str,
    ) -> Result<Vec<TaskRecord>> {
        const OP: &str = "incident_tasks";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT id, incident_id, title, description, status, assignee, created_at, updated_at \
                 FROM incident_tasks WHERE tenant = $1 AND incident_id = $2 ORDER BY created_at, id",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(task_from_row).collect()
        })
    }

    // ---- playbooks ------------------------------------------------------

    /// Stores a new version of a playbook (the caller validated it);
    /// returns it. Audited as `playbook.upload`.
    pub async fn put_playbook(
        &self,
        tenant: TenantId,
        id: &str,
        source: &str,
        enabled: bool,
        by: &Principal,
        now: Timestamp,
    ) -> Result<PlaybookRecord> {
        const OP: &str = "put_playbook";
        check_text("source", source, 1 << 20)?;
        let actor = by.label();
        let version = dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let row = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM playbooks WHERE tenant = $1 AND id = $2")
                .bind(tenant.to_string())
                .bind(id)
                .fetch_one(tx.conn())
                .await
                .map_err(db(OP))?;
            let version = row.int("playbooks", "v")?;
            sqlx::query("INSERT INTO playbooks (tenant, id, version, source, enabled, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(tenant.to_string())
                .bind(id)
                .bind(version)
                .bind(source)
                .bind(i64::from(enabled))
                .bind(now.as_micros())
                .bind(&actor)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            let target = format!("playbook:{id}");
            let details = json!({ "version": version, "enabled": enabled });
            let audit = NewAudit::new(tenant, by, "playbook.upload", &target, details.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "playbook",
                object_id: id,
                op: "update",
                payload: &details,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<i64, Error>(version)
        })?;
        self.get_playbook(tenant, id, Some(version))
            .await?
            .ok_or_else(|| Error::NotFound(format!("playbook {id} v{version} after insert")))
    }

    /// A playbook version (`None` = the latest).
    pub async fn get_playbook(
        &self,
        tenant: TenantId,
        id: &str,
        version: Option<i64>,
    ) -> Result<Option<PlaybookRecord>> {
        const OP: &str = "get_playbook";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT id, version, source, enabled, created_at, created_by FROM playbooks \
                 WHERE tenant = $1 AND id = $2 AND ($3 < 0 OR version = $3) ORDER BY version DESC LIMIT 1",
            )
            .bind(tenant.to_string())
            .bind(id)
            .bind(version.unwrap_or(-1))
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref().map(playbook_from_row).transpose()
        })
    }

    /// The latest version of every playbook, by id.
    pub async fn list_playbooks(&self, tenant: TenantId) -> Result<Vec<PlaybookRecord>> {
        const OP: &str = "list_playbooks";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT p.id, p.version, p.source, p.enabled, p.created_at, p.created_by FROM playbooks p \
                 WHERE p.tenant = $1 AND p.version = (SELECT MAX(q.version) FROM playbooks q WHERE q.tenant = p.tenant AND q.id = p.id) \
                 ORDER BY p.id",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(playbook_from_row).collect()
        })
    }

    // ---- observables, evidence, clock notices ----------------------------

    /// Attaches an observable (idempotent per kind and value) with what the
    /// indicator store knew; a timeline entry when new.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_observable(
        &self,
        tenant: TenantId,
        incident_id: &str,
        kind: &str,
        value: &str,
        intel: &serde_json::Value,
        by: &Principal,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "add_observable";
        check_text("kind", kind, 64)?;
        check_text("value", value, 4096)?;
        if value.trim().is_empty() {
            return Err(Error::Invalid("observable value: empty".into()));
        }
        let actor = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "INSERT INTO incident_observables (tenant, incident_id, kind, value, intel, added_at, added_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant, incident_id, kind, value) DO NOTHING",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .bind(kind)
            .bind(value.trim())
            .bind(Json(intel))
            .bind(now.as_micros())
            .bind(&actor)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let added = r.rows_affected() > 0;
            if added {
                let known = intel
                    .get("matches")
                    .and_then(|m| m.as_array())
                    .is_some_and(|m| !m.is_empty());
                let text = format!(
                    "Observable {kind} {}{}",
                    value.trim(),
                    if known {
                        " (known to threat intel)"
                    } else {
                        ""
                    }
                );
                <DB as RespondOps>::insert_timeline(
                    tx.conn(),
                    tenant,
                    incident_id,
                    now,
                    "observable",
                    &actor,
                    &text,
                    intel,
                    None,
                )
                .await?;
                let target = format!("incident:{incident_id}");
                let audit = NewAudit::new(
                    tenant,
                    by,
                    "incident.observable",
                    &target,
                    json!({ "kind": kind, "value": value.trim() }),
                    now,
                );
                <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            }
            tx.commit(OP).await?;
            Ok::<bool, Error>(added)
        })
    }

    /// An incident's observables.
    pub async fn incident_observables(
        &self,
        tenant: TenantId,
        incident_id: &str,
    ) -> Result<Vec<ObservableRecord>> {
        const OP: &str = "incident_observables";
        const T: &str = "incident_observables";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT kind, value, intel, added_at, added_by FROM incident_observables \
                 WHERE tenant = $1 AND incident_id = $2 ORDER BY added_at, kind, value",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(ObservableRecord {
                        kind: r.text(T, "kind")?,
                        value: r.text(T, "value")?,
                        intel: r.json(T, "intel")?,
                        added_at: r.ts(T, "added_at")?,
                        added_by: r.text(T, "added_by")?,
                    })
                })
                .collect()
        })
    }

    /// Stores an evidence attachment: content once per SHA-256 (at most
    /// [`MAX_EVIDENCE_BYTES`]), metadata per attachment, a timeline entry.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_evidence(
        &self,
        tenant: TenantId,
        incident_id: &str,
        name: &str,
        media_type: &str,
        data: &[u8],
        by: &Principal,
        now: Timestamp,
    ) -> Result<EvidenceRecord> {
        const OP: &str = "add_evidence";
        use sha2::{Digest, Sha256};
        if data.len() > MAX_EVIDENCE_BYTES {
            return Err(Error::Invalid(format!(
                "evidence is {} bytes, more than the {MAX_EVIDENCE_BYTES}-byte limit",
                data.len()
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 255 || name.contains(['/', '\\', '\0']) {
            return Err(Error::Invalid(format!(
                "evidence name {name:?}: 1-255 characters, no path separators"
            )));
        }
        check_text("media_type", media_type, 255)?;
        if self.get_incident(tenant, incident_id).await?.is_none() {
            return Err(Error::NotFound(format!("incident {incident_id}")));
        }
        let sha = hex::encode(Sha256::digest(data));
        let id = new_id();
        let actor = by.label();
        let size = data.len() as i64;
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query("INSERT INTO evidence_blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
                .bind(&sha)
                .bind(size)
                .bind(data)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            sqlx::query(
                "INSERT INTO evidence (tenant, id, incident_id, sha256, name, media_type, size, added_at, added_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant.to_string())
            .bind(&id)
            .bind(incident_id)
            .bind(&sha)
            .bind(name)
            .bind(media_type)
            .bind(size)
            .bind(now.as_micros())
            .bind(&actor)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let details = json!({ "evidence_id": id, "name": name, "sha256": sha, "size": size });
            <DB as RespondOps>::insert_timeline(
                tx.conn(),
                tenant,
                incident_id,
                now,
                "evidence",
                &actor,
                &format!("Evidence added: {name} ({size} bytes, sha256 {sha})"),
                &details,
                None,
            )
            .await?;
            let target = format!("incident:{incident_id}");
            let audit = NewAudit::new(tenant, by, "incident.evidence", &target, details, now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        Ok(EvidenceRecord {
            id,
            incident_id: incident_id.to_string(),
            sha256: sha,
            name: name.to_string(),
            media_type: media_type.to_string(),
            size,
            added_at: now,
            added_by: actor,
        })
    }

    /// An incident's evidence (metadata).
    pub async fn incident_evidence(
        &self,
        tenant: TenantId,
        incident_id: &str,
    ) -> Result<Vec<EvidenceRecord>> {
        const OP: &str = "incident_evidence";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT id, incident_id, sha256, name, media_type, size, added_at, added_by FROM evidence \
                 WHERE tenant = $1 AND incident_id = $2 ORDER BY added_at, id",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(evidence_from_row).collect()
        })
    }

    /// One attachment with its content; the content's hash is checked.
    pub async fn get_evidence(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Option<(EvidenceRecord, Vec<u8>)>> {
        const OP: &str = "get_evidence";
        use sha2::{Digest, Sha256};
        let found = dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT e.id, e.incident_id, e.sha256, e.name, e.media_type, e.size, e.added_at, e.added_by, b.data \
                 FROM evidence e JOIN evidence_blobs b ON b.sha256 = e.sha256 WHERE e.tenant = $1 AND e.id = $2",
            )
            .bind(tenant.to_string())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.map(|r| {
                Ok::<_, Error>((evidence_from_row(&r)?, r.bytes("evidence_blobs", "data")?))
            })
            .transpose()
        })?;
        if let Some((rec, data)) = &found
            && hex::encode(Sha256::digest(data)) != rec.sha256
        {
            return Err(corrupt(
                "evidence_blobs",
                format!("content of {} does not match its SHA-256", rec.id),
            ));
        }
        Ok(found)
    }

    /// Records that an incident's clock was notified as overdue; `false`
    /// when it already was (one notice per clock).
    pub async fn mark_clock_notified(
        &self,
        tenant: TenantId,
        incident_id: &str,
        clock: &str,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "mark_clock_notified";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "INSERT INTO clock_notices (tenant, incident_id, clock_id, notified_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant, incident_id, clock_id) DO NOTHING",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .bind(clock)
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok::<bool, Error>(r.rows_affected() > 0)
        })
    }

    // ---- change-feed consumers ------------------------------------------

    /// Moves `consumer`'s position in the change feed forward to `seq`
    /// (never back). Read it with [`Store::checkpoint`].
    pub async fn set_change_checkpoint(
        &self,
        consumer: &str,
        seq: i64,
        now: Timestamp,
    ) -> Result<()> {
        const OP: &str = "set_change_checkpoint";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO checkpoints (consumer, seq, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (consumer) DO UPDATE SET seq = CASE WHEN excluded.seq > checkpoints.seq \
                 THEN excluded.seq ELSE checkpoints.seq END, updated_at = excluded.updated_at",
            )
            .bind(consumer)
            .bind(seq)
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })
    }

    // ---- runs -----------------------------------------------------------

    /// Creates a run unless this playbook already has one for this trigger
    /// object (`false` then: a trigger seen twice starts one run).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_run(
        &self,
        tenant: TenantId,
        run: &RunRecord,
        log: &[RunLogRecord],
        by: &Principal,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "create_run";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "INSERT INTO playbook_runs (tenant, id, playbook_id, version, trigger_kind, trigger_id, status, state, wake_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
                 ON CONFLICT (tenant, playbook_id, trigger_kind, trigger_id) DO NOTHING",
            )
            .bind(tenant.to_string())
            .bind(&run.id)
            .bind(&run.playbook_id)
            .bind(run.version)
            .bind(&run.trigger_kind)
            .bind(&run.trigger_id)
            .bind(&run.status)
            .bind(Json(&run.state))
            .bind(run.wake_at.map(Timestamp::as_micros))
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            <DB as RespondOps>::insert_run_log(tx.conn(), tenant, &run.id, log).await?;
            let target = format!("run:{}", run.id);
            let details = json!({ "playbook": run.playbook_id, "version": run.version, "trigger": run.trigger_kind, "trigger_id": run.trigger_id });
            let audit = NewAudit::new(tenant, by, "run.start", &target, details.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "run",
                object_id: &run.id,
                op: "create",
                payload: &details,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<bool, Error>(true)
        })
    }

    /// Saves a run's new state with its new log lines and audit entries
    /// (playbook steps are audited with the playbook as principal; approvals
    /// with the person), in one transaction, if the run is still at
    /// revision `rev`; returns the new revision. [`Error::Conflict`] when
    /// another process saved it meanwhile (drop this copy and reload).
    #[allow(clippy::too_many_arguments)]
    pub async fn save_run(
        &self,
        tenant: TenantId,
        run_id: &str,
        rev: i64,
        status: &str,
        state: &serde_json::Value,
        wake_at: Option<Timestamp>,
        log: &[RunLogRecord],
        audits: &[(Principal, RunAudit)],
        now: Timestamp,
    ) -> Result<i64> {
        const OP: &str = "save_run";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE playbook_runs SET status = $1, state = $2, wake_at = $3, updated_at = $4, rev = rev + 1 \
                 WHERE tenant = $5 AND id = $6 AND rev = $7",
            )
            .bind(status)
            .bind(Json(state))
            .bind(wake_at.map(Timestamp::as_micros))
            .bind(now.as_micros())
            .bind(tenant.to_string())
            .bind(run_id)
            .bind(rev)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                let exists =
                    sqlx::query("SELECT rev FROM playbook_runs WHERE tenant = $1 AND id = $2")
                        .bind(tenant.to_string())
                        .bind(run_id)
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(db(OP))?;
                return Err(match exists {
                    None => Error::NotFound(format!("run {run_id}")),
                    Some(_) => Error::Conflict {
                        op: OP,
                        msg: format!("run {run_id} changed since revision {rev}"),
                    },
                });
            }
            <DB as RespondOps>::insert_run_log(tx.conn(), tenant, run_id, log).await?;
            for (p, a) in audits {
                let audit = NewAudit::new(tenant, p, &a.action, &a.target, a.details.clone(), now);
                <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            }
            let payload = json!({ "id": run_id, "status": status });
            let change = NewChange {
                tenant,
                object_type: "run",
                object_id: run_id,
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<i64, Error>(rev + 1)
        })
    }

    /// One run.
    pub async fn get_run(&self, tenant: TenantId, run_id: &str) -> Result<Option<RunRecord>> {
        const OP: &str = "get_run";
        let sql = format!("SELECT {RUN_COLUMNS} FROM playbook_runs WHERE tenant = $1 AND id = $2");
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(run_id)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(run_from_row).transpose()
        })
    }

    /// Runs, newest first, optionally of one status and/or playbook.
    pub async fn list_runs(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        playbook: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>> {
        const OP: &str = "list_runs";
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM playbook_runs WHERE tenant = $1 AND ($2 = '' OR status = $2) \
             AND ($3 = '' OR playbook_id = $3) ORDER BY created_at DESC, id DESC LIMIT $4"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(status.unwrap_or(""))
                .bind(playbook.unwrap_or(""))
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(run_from_row).collect()
        })
    }

    /// Active runs of every tenant the runner must look at by `now`
    /// (running without a wake time, or due), oldest first — what a
    /// restarted server resumes.
    pub async fn due_runs(&self, now: Timestamp, limit: u32) -> Result<Vec<(TenantId, RunRecord)>> {
        const OP: &str = "due_runs";
        let sql = format!(
            "SELECT tenant, {RUN_COLUMNS} FROM playbook_runs WHERE status IN ('running', 'waiting_approval') \
             AND (wake_at IS NULL OR wake_at <= $1) ORDER BY updated_at, id LIMIT $2"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now.as_micros())
                .bind(i64::from(limit.clamp(1, 10_000)))
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| Ok((r.tenant("playbook_runs", "tenant")?, run_from_row(r)?)))
                .collect()
        })
    }

    /// Queued runs of every tenant, oldest first (waiting for their
    /// playbook's concurrency limit).
    pub async fn queued_runs(&self, limit: u32) -> Result<Vec<(TenantId, RunRecord)>> {
        const OP: &str = "queued_runs";
        let sql = format!(
            "SELECT tenant, {RUN_COLUMNS} FROM playbook_runs WHERE status = 'queued' \
             ORDER BY created_at, id LIMIT $1"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(limit.clamp(1, 10_000)))
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| Ok((r.tenant("playbook_runs", "tenant")?, run_from_row(r)?)))
                .collect()
        })
    }

    /// Active runs of a playbook (for its concurrency limit).
    pub async fn count_active_runs(&self, tenant: TenantId, playbook: &str) -> Result<i64> {
        const OP: &str = "count_active_runs";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM playbook_runs WHERE tenant = $1 AND playbook_id = $2 \
                 AND status IN ('running', 'waiting_approval')",
            )
            .bind(tenant.to_string())
            .bind(playbook)
            .fetch_one(pool)
            .await
            .map_err(db(OP))?;
            row.int("playbook_runs", "n")
        })
    }

    /// A run's log, oldest first.
    pub async fn run_log(&self, tenant: TenantId, run_id: &str) -> Result<Vec<RunLogRecord>> {
        const OP: &str = "run_log";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query("SELECT at, step, event, message FROM run_log WHERE tenant = $1 AND run_id = $2 ORDER BY id")
                .bind(tenant.to_string())
                .bind(run_id)
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(RunLogRecord {
                        at: r.ts("run_log", "at")?,
                        step: r.text("run_log", "step")?,
                        event: r.text("run_log", "event")?,
                        message: r.text("run_log", "message")?,
                    })
                })
                .collect()
        })
    }
}

/// Writes shared by several operations, inside the caller's transaction.
pub(crate) trait RespondOps: crate::engine::Backend {
    /// Links an alert (it becomes `escalated`); `true` if the link is new.
    fn link_alert(
        conn: &mut Self::Connection,
        tenant: TenantId,
        incident_id: &str,
        alert: AlertId,
        actor: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Adds a timeline entry; `false` when `origin_key` was used before.
    #[allow(clippy::too_many_arguments)]
    fn insert_timeline(
        conn: &mut Self::Connection,
        tenant: TenantId,
        incident_id: &str,
        at: Timestamp,
        kind: &str,
        actor: &str,
        text: &str,
        details: &serde_json::Value,
        origin_key: Option<&str>,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Appends run log lines.
    fn insert_run_log(
        conn: &mut Self::Connection,
        tenant: TenantId,
        run_id: &str,
        log: &[RunLogRecord],
    ) -> impl Future<Output = Result<()>> + Send;
}

impl_both! {
    impl RespondOps {
        async fn link_alert(
            conn: &mut <Self as sqlx::Database>::Connection,
            tenant: TenantId,
            incident_id: &str,
            alert: AlertId,
            actor: &str,
            now: Timestamp,
        ) -> Result<bool> {
            const OP: &str = "link_alert";
            let r = sqlx::query(
                "INSERT INTO incident_alerts (tenant, incident_id, alert_id, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant, incident_id, alert_id) DO NOTHING",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .bind(alert.to_string())
            .bind(now.as_micros())
            .execute(&mut *conn)
            .await
            .map_err(db(OP))?;
            sqlx::query(
                "INSERT INTO alert_triage (tenant, alert_id, state, incident_id, updated_at, updated_by, acked_at) \
                 VALUES ($1, $2, 'escalated', $3, $4, $5, $4) \
                 ON CONFLICT (tenant, alert_id) DO UPDATE SET state = 'escalated', incident_id = excluded.incident_id, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by, \
                 acked_at = COALESCE(alert_triage.acked_at, excluded.acked_at)",
            )
            .bind(tenant.to_string())
            .bind(alert.to_string())
            .bind(incident_id)
            .bind(now.as_micros())
            .bind(actor)
            .execute(&mut *conn)
            .await
            .map_err(db(OP))?;
            Ok(r.rows_affected() > 0)
        }

        async fn insert_timeline(
            conn: &mut <Self as sqlx::Database>::Connection,
            tenant: TenantId,
            incident_id: &str,
            at: Timestamp,
            kind: &str,
            actor: &str,
            text: &str,
            details: &serde_json::Value,
            origin_key: Option<&str>,
        ) -> Result<bool> {
            const OP: &str = "insert_timeline";
            let r = sqlx::query(
                "INSERT INTO incident_timeline (tenant, incident_id, at, kind, actor, text, details, origin_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.to_string())
            .bind(incident_id)
            .bind(at.as_micros())
            .bind(kind)
            .bind(actor)
            .bind(text)
            .bind(Json(details))
            .bind(origin_key)
            .execute(&mut *conn)
            .await
            .map_err(db(OP))?;
            Ok(r.rows_affected() > 0)
        }

        async fn insert_run_log(
            conn: &mut <Self as sqlx::Database>::Connection,
            tenant: TenantId,
            run_id: &str,
            log: &[RunLogRecord],
        ) -> Result<()> {
            const OP: &str = "insert_run_log";
            for e in log {
                sqlx::query("INSERT INTO run_log (tenant, run_id, at, step, event, message) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(tenant.to_string())
                    .bind(run_id)
                    .bind(e.at.as_micros())
                    .bind(&e.step)
                    .bind(&e.event)
                    .bind(&e.message)
                    .execute(&mut *conn)
                    .await
                    .map_err(db(OP))?;
            }
            Ok(())
        }
    }
}

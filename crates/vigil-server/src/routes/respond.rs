//! Response routes: incidents (create, read with clocks/alerts/tasks/
//! timeline, change, notes, tasks), alert triage, suppressions, playbooks
//! (list, upload a YAML version, run now or dry-run) and runs (list, read
//! with the log, approve/deny, cancel). Runs are driven by `vigil serve`'s runner: a
//! decision here is recorded (with the run's revision, so it cannot race
//! the runner) and the runner carries the run on.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use vigil_model::{AlertId, Principal, Severity};
use vigil_respond::clocks::{self, Facts};
use vigil_respond::playbook::{self, run};
use vigil_store::{IncidentRecord, NewIncident, RunAudit, RunLogRecord, SuppressionMatch};

use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Problem};
use crate::incidents::{IncidentChange, check_flags};
use crate::routes::page_limit;
use crate::state::AppState;

fn parse_alert(s: &str) -> Result<AlertId, AppError> {
    s.trim()
        .parse()
        .map_err(|_| AppError::bad_request(format!("{s:?} is not an alert id")))
}

/// An incident.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IncidentDto {
    id: String,
    /// Per-tenant number (`INC-7` is 7).
    number: i64,
    title: String,
    description: String,
    severity: String,
    /// NIST SP 800-61 phase: new, triage, containment, eradication,
    /// recovery, post_incident_review, closed.
    status: String,
    assignee: Option<String>,
    category: Option<String>,
    tags: Vec<String>,
    /// Regulatory flags (personal_data, health_data, nis2_entity).
    flags: Vec<String>,
    created_at: String,
    updated_at: String,
    contained_at: Option<String>,
    closed_at: Option<String>,
    merged_into: Option<String>,
    created_by: String,
}

impl From<&IncidentRecord> for IncidentDto {
    fn from(i: &IncidentRecord) -> Self {
        Self {
            id: i.id.clone(),
            number: i.number,
            title: i.title.clone(),
            description: i.description.clone(),
            severity: i.severity.as_str().into(),
            status: i.status.clone(),
            assignee: i.assignee.clone(),
            category: i.category.clone(),
            tags: i.tags.clone(),
            flags: i.flags.clone(),
            created_at: i.created_at.to_rfc3339(),
            updated_at: i.updated_at.to_rfc3339(),
            contained_at: i.contained_at.map(|t| t.to_rfc3339()),
            closed_at: i.closed_at.map(|t| t.to_rfc3339()),
            merged_into: i.merged_into.clone(),
            created_by: i.created_by.clone(),
        }
    }
}

/// A page of incidents, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IncidentList {
    items: Vec<IncidentDto>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<i64>,
}

/// Incident list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentListQuery {
    /// A status, or `open` for every status but closed.
    status: Option<String>,
    /// Only incidents numbered below this (paging).
    before: Option<i64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

/// Lists incidents, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    params(IncidentListQuery),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_incidents(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<IncidentListQuery>,
) -> Result<Json<IncidentList>, AppError> {
    let limit = page_limit(q.limit)?;
    if let Some(s) = q.status.as_deref()
        && s != "open"
    {
        s.parse::<vigil_respond::incident::IncidentStatus>()
            .map_err(|e| AppError::bad_request(format!("status: {e}")))?;
    }
    let list = state
        .timed(
            "list_incidents",
            state
                .store
                .list_incidents(p.tenant, q.status.as_deref(), q.before, limit),
        )
        .await?;
    let next_before = (list.len() == limit as usize)
        .then(|| list.last().map(|i| i.number))
        .flatten();
    Ok(Json(IncidentList {
        items: list.iter().map(IncidentDto::from).collect(),
        next_before,
    }))
}

/// A new incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentInput {
    title: String,
    #[serde(default)]
    description: String,
    /// By default, the worst linked alert's severity (or medium).
    severity: Option<String>,
    category: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    /// Regulatory flags.
    #[serde(default)]
    flags: Vec<String>,
    assignee: Option<String>,
    /// Alert ids to link (they become escalated).
    #[serde(default)]
    alerts: Vec<String>,
}

/// Opens an incident, optionally from alerts.
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
    request_body = IncidentInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The new incident", body = IncidentDto),
        (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A linked alert does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_incident(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(i): ApiJson<IncidentInput>,
) -> Result<(StatusCode, Json<IncidentDto>), AppError> {
    let severity = i
        .severity
        .as_deref()
        .map(str::parse::<Severity>)
        .transpose()
        .map_err(|e| AppError::bad_request(format!("severity: {e}")))?;
    check_flags(&state.config.clock_rules, &i.flags).map_err(AppError::bad_request)?;
    let alerts = i
        .alerts
        .iter()
        .map(|a| parse_alert(a))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewIncident {
        title: i.title,
        description: i.description,
        severity,
        category: i.category,
        tags: i.tags,
        flags: i.flags,
        assignee: i.assignee,
        alerts,
        origin_key: None,
    };
    let now = state.clock.now();
    let inc = state
        .timed(
            "create_incident",
            state.store.create_incident(p.tenant, &new, &p, now),
        )
        .await?;
    crate::incidents::apply_task_templates(
        &state.store,
        p.tenant,
        &inc,
        &state.config.task_templates,
        &p,
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(IncidentDto::from(&inc))))
}

/// A regulatory clock of an incident.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClockDto {
    id: String,
    regime: String,
    name: String,
    started_at: String,
    due_at: String,
    completed_at: Option<String>,
    /// Seconds left (negative when overdue, 0 once done).
    remaining_secs: i64,
    /// running, overdue, met, met_late.
    status: String,
}

/// An incident with everything attached to it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IncidentDetail {
    incident: IncidentDto,
    clocks: Vec<ClockDto>,
    /// Linked alert ids.
    alerts: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    tasks: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    timeline: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    observables: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    evidence: Vec<serde_json::Value>,
}

async fn find_incident(
    state: &AppState,
    tenant: vigil_model::TenantId,
    id: &str,
) -> Result<IncidentRecord, AppError> {
    state
        .store
        .get_incident(tenant, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no incident {id}")))
}

/// One incident (by id or number) with clocks, alerts, tasks, timeline,
/// observables and evidence.
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "Incident id or number")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The incident", body = IncidentDetail),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_incident(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IncidentDetail>, AppError> {
    let inc = find_incident(&state, p.tenant, &id).await?;
    let s = &state.store;
    let facts = Facts {
        aware_at: inc.aware_at,
        flags: inc.flags.iter().cloned().collect(),
        completed: inc.clocks_done.clone(),
    };
    let clocks = clocks::evaluate(&state.config.clock_rules, &facts, state.clock.now())
        .into_iter()
        .map(|c| ClockDto {
            status: serde_json::to_value(c.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            id: c.id,
            regime: c.regime,
            name: c.name,
            started_at: c.started_at.to_rfc3339(),
            due_at: c.due_at.to_rfc3339(),
            completed_at: c.completed_at.map(|t| t.to_rfc3339()),
            remaining_secs: c.remaining_secs,
        })
        .collect();
    Ok(Json(IncidentDetail {
        clocks,
        alerts: s.incident_alerts(p.tenant, &inc.id).await?.iter().map(ToString::to_string).collect(),
        tasks: s
            .incident_tasks(p.tenant, &inc.id)
            .await?
            .into_iter()
            .map(|t| json!({"id": t.id, "title": t.title, "description": t.description, "status": t.status, "assignee": t.assignee, "created_at": t.created_at.to_rfc3339(), "updated_at": t.updated_at.to_rfc3339()}))
            .collect(),
        timeline: s
            .incident_timeline(p.tenant, &inc.id)
            .await?
            .into_iter()
            .map(|e| json!({"at": e.at.to_rfc3339(), "kind": e.kind, "actor": e.actor, "text": e.text, "details": e.details}))
            .collect(),
        observables: s
            .incident_observables(p.tenant, &inc.id)
            .await?
            .into_iter()
            .map(|o| json!({"kind": o.kind, "value": o.value, "intel": o.intel, "added_at": o.added_at.to_rfc3339(), "added_by": o.added_by}))
            .collect(),
        evidence: s
            .incident_evidence(p.tenant, &inc.id)
            .await?
            .into_iter()
            .map(|e| json!({"id": e.id, "name": e.name, "media_type": e.media_type, "size": e.size, "sha256": e.sha256, "added_at": e.added_at.to_rfc3339()}))
            .collect(),
        incident: IncidentDto::from(&inc),
    }))
}

/// A change to an incident; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentPatch {
    status: Option<String>,
    severity: Option<String>,
    assignee: Option<String>,
    title: Option<String>,
    description: Option<String>,
    category: Option<String>,
    #[serde(default)]
    add_tags: Vec<String>,
    #[serde(default)]
    flags: Vec<String>,
    /// Regulatory clocks done now (ids such as gdpr-art33).
    #[serde(default)]
    clocks_done: Vec<String>,
}

/// Changes an incident (status follows the NIST phases: forward any
/// number, back one at a time, closed reopens into triage).
#[utoipa::path(
    patch,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "Incident id or number")),
    request_body = IncidentPatch,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The changed incident", body = IncidentDto),
        (status = 400, description = "Refused change (the reason says why)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn patch_incident(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(c): ApiJson<IncidentPatch>,
) -> Result<Json<IncidentDto>, AppError> {
    let change = IncidentChange {
        status: c.status,
        severity: c.severity,
        assignee: c.assignee,
        title: c.title,
        description: c.description,
        category: c.category,
        add_tags: c.add_tags,
        flags: c.flags,
        clocks_done: c.clocks_done,
    };
    let saved = update_incident(&state, &p, &id, &change).await?;
    Ok(Json(IncidentDto::from(&saved)))
}

/// Applies a change to an incident (by id or number) and saves it with its
/// timeline lines (audited `incident.update`). The REST PATCH and the
/// console's incident form.
pub(crate) async fn update_incident(
    state: &AppState,
    p: &Principal,
    id: &str,
    change: &IncidentChange,
) -> Result<IncidentRecord, AppError> {
    let mut rec = find_incident(state, p.tenant, id).await?;
    let now = state.clock.now();
    let lines = crate::incidents::apply(&mut rec, change, &state.config.clock_rules, now)
        .map_err(AppError::bad_request)?;
    state
        .store
        .save_incident(p.tenant, &rec, &lines, "incident.update", p, now)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no incident {id}")))
}

/// Adds a note to an incident's timeline.
pub(crate) async fn add_incident_note(
    state: &AppState,
    p: &Principal,
    id: &str,
    text: &str,
) -> Result<(), AppError> {
    if text.trim().is_empty() {
        return Err(AppError::bad_request("text: empty"));
    }
    let inc = find_incident(state, p.tenant, id).await?;
    state
        .store
        .add_timeline(
            p.tenant,
            &inc.id,
            "note",
            text,
            &json!({}),
            None,
            p,
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Adds a task to an incident.
pub(crate) async fn add_incident_task(
    state: &AppState,
    p: &Principal,
    id: &str,
    title: &str,
    description: &str,
) -> Result<vigil_store::TaskRecord, AppError> {
    let inc = find_incident(state, p.tenant, id).await?;
    Ok(state
        .store
        .add_task(
            p.tenant,
            &inc.id,
            title,
            description,
            None,
            p,
            state.clock.now(),
        )
        .await?)
}

/// Changes a task's status (and assignee), or 404.
pub(crate) async fn change_task(
    state: &AppState,
    p: &Principal,
    id: &str,
    status: &str,
    assignee: Option<&str>,
) -> Result<vigil_store::TaskRecord, AppError> {
    state
        .store
        .update_task(p.tenant, id, status, assignee, p, state.clock.now())
        .await?
        .ok_or_else(|| AppError::not_found(format!("no task {id}")))
}

/// A note or a task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteInput {
    text: String,
}

/// Adds a note to an incident's timeline.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/notes",
    tag = "incidents",
    params(("id" = String, Path, description = "Incident id or number")),
    request_body = NoteInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 204, description = "Noted"),
        (status = 400, description = "Invalid note", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_note(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(n): ApiJson<NoteInput>,
) -> Result<StatusCode, AppError> {
    add_incident_note(&state, &p, &id, &n.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A task to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskInput {
    title: String,
    #[serde(default)]
    description: String,
}

/// A task.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TaskDto {
    id: String,
    incident_id: String,
    title: String,
    description: String,
    /// open, in_progress, done, cancelled.
    status: String,
    assignee: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<vigil_store::TaskRecord> for TaskDto {
    fn from(t: vigil_store::TaskRecord) -> Self {
        Self {
            id: t.id,
            incident_id: t.incident_id,
            title: t.title,
            description: t.description,
            status: t.status,
            assignee: t.assignee,
            created_at: t.created_at.to_rfc3339(),
            updated_at: t.updated_at.to_rfc3339(),
        }
    }
}

/// Adds a task to an incident.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/tasks",
    tag = "incidents",
    params(("id" = String, Path, description = "Incident id or number")),
    request_body = TaskInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The task", body = TaskDto),
        (status = 400, description = "Invalid task", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(t): ApiJson<TaskInput>,
) -> Result<(StatusCode, Json<TaskDto>), AppError> {
    let task = add_incident_task(&state, &p, &id, &t.title, &t.description).await?;
    Ok((StatusCode::CREATED, Json(TaskDto::from(task))))
}

/// A task change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskPatch {
    /// open, in_progress, done, cancelled.
    status: String,
    assignee: Option<String>,
}

/// Changes a task's status (and assignee).
#[utoipa::path(
    patch,
    path = "/api/v1/tasks/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "Task id")),
    request_body = TaskPatch,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The task", body = TaskDto),
        (status = 400, description = "Invalid status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn patch_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(t): ApiJson<TaskPatch>,
) -> Result<Json<TaskDto>, AppError> {
    let task = change_task(&state, &p, &id, &t.status, t.assignee.as_deref()).await?;
    Ok(Json(TaskDto::from(task)))
}

/// A triage decision on an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TriageInput {
    /// new, acknowledged, escalated, false_positive, closed.
    state: String,
    reason: Option<String>,
    assignee: Option<String>,
}

/// An alert's triage record.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TriageDto {
    alert_id: String,
    state: String,
    assignee: Option<String>,
    incident_id: Option<String>,
    reason: Option<String>,
    updated_at: String,
    updated_by: String,
}

/// Sets an alert's triage state (resolved alerts can only be reopened as
/// acknowledged).
#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/triage",
    tag = "alerts",
    params(("id" = String, Path, description = "Alert id")),
    request_body = TriageInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The triage record", body = TriageDto),
        (status = 400, description = "Invalid state or change", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn triage_alert(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(t): ApiJson<TriageInput>,
) -> Result<Json<TriageDto>, AppError> {
    let alert = parse_alert(&id)?;
    let r = apply_triage(
        &state,
        &p,
        alert,
        &t.state,
        t.assignee.as_deref(),
        t.reason.as_deref(),
    )
    .await?;
    Ok(Json(TriageDto {
        alert_id: r.alert_id.to_string(),
        state: r.state,
        assignee: r.assignee,
        incident_id: r.incident_id,
        reason: r.reason,
        updated_at: r.updated_at.to_rfc3339(),
        updated_by: r.updated_by,
    }))
}

/// Moves an alert to triage state `to` (checking the transition), as the
/// API and the console do. Not found is a 404.
pub(crate) async fn apply_triage(
    state: &AppState,
    p: &vigil_model::Principal,
    alert: AlertId,
    to: &str,
    assignee: Option<&str>,
    reason: Option<&str>,
) -> Result<vigil_store::TriageRecord, AppError> {
    use vigil_respond::incident::TriageState;
    let to: TriageState = to
        .parse()
        .map_err(|e: vigil_respond::Error| AppError::bad_request(e.to_string()))?;
    let from = match state.store.get_triage(p.tenant, alert).await? {
        Some(r) => r.state.parse::<TriageState>().unwrap_or(TriageState::New),
        None => TriageState::New,
    };
    if from != to {
        from.check_transition(to)
            .map_err(|e| AppError::bad_request(e.to_string()))?;
    }
    state
        .store
        .triage_alert(
            p.tenant,
            alert,
            to.as_str(),
            assignee,
            reason,
            p,
            state.clock.now(),
        )
        .await?
        .ok_or_else(|| AppError::not_found(format!("no alert {alert}")))
}

/// A suppression.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SuppressionDto {
    id: String,
    #[schema(value_type = Object)]
    matcher: serde_json::Value,
    reason: String,
    author: String,
    created_at: String,
    expires_at: Option<String>,
    hits: i64,
    last_hit: Option<String>,
}

/// The suppressions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SuppressionList {
    items: Vec<SuppressionDto>,
}

fn suppression_dto(s: vigil_store::SuppressionRecord) -> SuppressionDto {
    SuppressionDto {
        id: s.id,
        matcher: serde_json::to_value(&s.matcher).unwrap_or_default(),
        reason: s.reason,
        author: s.author,
        created_at: s.created_at.to_rfc3339(),
        expires_at: s.expires_at.map(|t| t.to_rfc3339()),
        hits: s.hits,
        last_hit: s.last_hit.map(|t| t.to_rfc3339()),
    }
}

/// Lists suppressions with their hit counts.
#[utoipa::path(
    get,
    path = "/api/v1/suppressions",
    tag = "alerts",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The suppressions", body = SuppressionList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_suppressions(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<SuppressionList>, AppError> {
    let items = state
        .store
        .list_suppressions(p.tenant)
        .await?
        .into_iter()
        .map(suppression_dto)
        .collect();
    Ok(Json(SuppressionList { items }))
}

/// A new suppression.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuppressionInput {
    /// What it matches: rule (glob), detector, host, user, source_ip,
    /// destination_ip (address or CIDR), max_severity.
    #[schema(value_type = Object)]
    matcher: serde_json::Value,
    reason: String,
    /// RFC 3339 expiry; by default, none.
    expires_at: Option<String>,
}

/// Adds a suppression: matching alerts are not opened from now on.
#[utoipa::path(
    post,
    path = "/api/v1/suppressions",
    tag = "alerts",
    request_body = SuppressionInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The suppression", body = SuppressionDto),
        (status = 400, description = "Invalid matcher, reason or expiry", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_suppression(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(s): ApiJson<SuppressionInput>,
) -> Result<(StatusCode, Json<SuppressionDto>), AppError> {
    let matcher: SuppressionMatch = serde_json::from_value(s.matcher)
        .map_err(|e| AppError::bad_request(format!("matcher: {e}")))?;
    let expires_at =
        match s.expires_at.as_deref() {
            Some(t) => Some(vigil_model::Timestamp::parse_rfc3339(t).ok_or_else(|| {
                AppError::bad_request(format!("expires_at: {t:?} is not RFC 3339"))
            })?),
            None => None,
        };
    let rec = state
        .store
        .add_suppression(
            p.tenant,
            &matcher,
            &s.reason,
            expires_at,
            &p,
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(suppression_dto(rec))))
}

/// Deletes a suppression.
#[utoipa::path(
    delete,
    path = "/api/v1/suppressions/{id}",
    tag = "alerts",
    params(("id" = String, Path, description = "Suppression id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such suppression", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_suppression(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    if state
        .store
        .delete_suppression(p.tenant, &id, &p, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found(format!("no suppression {id}")))
    }
}

/// A stored playbook version.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlaybookDto {
    id: String,
    version: i64,
    enabled: bool,
    name: String,
    /// alert, incident, sighting, finding, schedule, manual.
    trigger: String,
    steps: usize,
    created_at: String,
    created_by: String,
}

/// The playbooks (latest version of each).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlaybookList {
    items: Vec<PlaybookDto>,
}

fn playbook_dto(r: &vigil_store::PlaybookRecord) -> PlaybookDto {
    let parsed = playbook::parse(&r.id, &r.source).ok();
    PlaybookDto {
        id: r.id.clone(),
        version: r.version,
        enabled: r.enabled,
        name: parsed
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "(invalid)".into()),
        trigger: parsed
            .as_ref()
            .map(|p| p.trigger.kind().to_string())
            .unwrap_or_default(),
        steps: parsed.as_ref().map_or(0, |p| p.steps.len()),
        created_at: r.created_at.to_rfc3339(),
        created_by: r.created_by.clone(),
    }
}

/// Lists the playbooks.
#[utoipa::path(
    get,
    path = "/api/v1/playbooks",
    tag = "playbooks",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The playbooks", body = PlaybookList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_playbooks(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<PlaybookList>, AppError> {
    let items = state
        .store
        .list_playbooks(p.tenant)
        .await?
        .iter()
        .map(playbook_dto)
        .collect();
    Ok(Json(PlaybookList { items }))
}

/// Uploads a playbook (YAML); it is validated and stored as a new version.
#[utoipa::path(
    post,
    path = "/api/v1/playbooks",
    tag = "playbooks",
    request_body(content = String, description = "Playbook YAML", content_type = "application/yaml"),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The stored version", body = PlaybookDto),
        (status = 400, description = "The playbook is invalid (the reason names the line)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn upload_playbook(
    State(state): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<PlaybookDto>), AppError> {
    let text =
        std::str::from_utf8(&body).map_err(|_| AppError::bad_request("body: not UTF-8 text"))?;
    let pb = playbook::parse("<api>", text).map_err(|e| AppError::bad_request(e.to_string()))?;
    let rec = state
        .store
        .put_playbook(p.tenant, &pb.id, text, pb.enabled, &p, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(playbook_dto(&rec))))
}

/// A manual run of a playbook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunInput {
    /// The run's `inputs` (the names a manual trigger lists; any JSON).
    #[serde(default)]
    #[schema(value_type = Object)]
    inputs: serde_json::Map<String, serde_json::Value>,
    /// Run it for this alert (the template context's `alert`).
    #[serde(default)]
    alert: Option<String>,
    /// Only show what the run would do, without any side effect.
    #[serde(default)]
    dry_run: bool,
}

/// What a dry run would do.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DryRunDto {
    /// Always true.
    dry_run: bool,
    /// The status the run would end in (succeeded, failed, waiting_approval, …).
    status: String,
    /// Each step it would take: `{step, event, message}`.
    #[schema(value_type = Vec<Object>)]
    log: Vec<serde_json::Value>,
}

/// Starts a run of a playbook (latest version) now, with inputs and
/// optionally for an alert; `vigil serve`'s runner drives it (poll
/// `/api/v1/runs/{id}`). With `dry_run`, answers what the run would do,
/// without side effects and without storing a run.
#[utoipa::path(
    post,
    path = "/api/v1/playbooks/{id}/runs",
    tag = "playbooks",
    params(("id" = String, Path, description = "Playbook id")),
    request_body = RunInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The run, started (or queued past the playbook's concurrency limit)", body = RunDto),
        (status = 200, description = "The dry run", body = DryRunDto),
        (status = 400, description = "No such alert, or the playbook fails to render", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such playbook", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn run_playbook(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<RunInput>,
) -> Result<axum::response::Response, AppError> {
    use crate::playbook_runs::{StartError, create_run, dry_run, manual_trigger};
    use axum::response::IntoResponse;
    let rec = state
        .store
        .get_playbook(p.tenant, &id, None)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no playbook {id}")))?;
    let pb = playbook::parse(
        &format!("playbook {} v{}", rec.id, rec.version),
        &rec.source,
    )
    .map_err(|e| AppError::internal(format!("stored playbook {id} does not load: {e}")))?;
    let t = manual_trigger(&state.store, p.tenant, input.alert.as_deref())
        .await
        .map_err(|e| match e {
            StartError::Store(e) => e.into(),
            other => AppError::bad_request(other.to_string()),
        })?;
    let inputs = serde_json::Value::Object(input.inputs);
    let now = state.clock.now();
    if input.dry_run {
        let (status, log) = dry_run(&pb, &t.kind, t.trigger, inputs, now)
            .map_err(|e| AppError::bad_request(e.to_string()))?;
        let log = log
            .into_iter()
            .map(|e| json!({ "step": e.step, "event": e.event, "message": e.message }))
            .collect();
        return Ok(Json(DryRunDto {
            dry_run: true,
            status: status.as_str().to_string(),
            log,
        })
        .into_response());
    }
    let started = create_run(
        &state.store,
        p.tenant,
        &rec,
        &pb,
        &t.kind,
        &t.trigger_id,
        t.trigger,
        inputs,
        &p,
        now,
    )
    .await
    .map_err(|e| match e {
        StartError::Store(e) => e.into(),
        other => AppError::internal(other.to_string()),
    })?
    .ok_or_else(|| {
        AppError::new(
            crate::error::ErrorKind::Conflict,
            "a run for this trigger exists already",
        )
    })?;
    Ok((StatusCode::CREATED, Json(run_dto(&started.record))).into_response())
}

/// A run.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunDto {
    id: String,
    playbook: String,
    version: i64,
    trigger_kind: String,
    trigger_id: String,
    /// running, waiting_approval, succeeded, failed, stopped, cancelled.
    status: String,
    created_at: String,
    updated_at: String,
    /// The approval it waits for, if any.
    #[schema(value_type = Option<Object>)]
    waiting: Option<serde_json::Value>,
}

fn run_dto(r: &vigil_store::RunRecord) -> RunDto {
    RunDto {
        id: r.id.clone(),
        playbook: r.playbook_id.clone(),
        version: r.version,
        trigger_kind: r.trigger_kind.clone(),
        trigger_id: r.trigger_id.clone(),
        status: r.status.clone(),
        created_at: r.created_at.to_rfc3339(),
        updated_at: r.updated_at.to_rfc3339(),
        waiting: r.state.get("waiting").cloned(),
    }
}

/// Runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunList {
    items: Vec<RunDto>,
}

/// Run list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunListQuery {
    /// Only this status.
    status: Option<String>,
    /// Only this playbook.
    playbook: Option<String>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

/// Lists runs, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/runs",
    tag = "playbooks",
    params(RunListQuery),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The runs", body = RunList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_runs(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<RunListQuery>,
) -> Result<Json<RunList>, AppError> {
    let limit = page_limit(q.limit)?;
    let items = state
        .store
        .list_runs(p.tenant, q.status.as_deref(), q.playbook.as_deref(), limit)
        .await?
        .iter()
        .map(run_dto)
        .collect();
    Ok(Json(RunList { items }))
}

/// A run with its log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunDetail {
    run: RunDto,
    #[schema(value_type = Vec<Object>)]
    log: Vec<serde_json::Value>,
}

/// One run with its log.
#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}",
    tag = "playbooks",
    params(("id" = String, Path, description = "Run id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The run", body = RunDetail),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_run(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunDetail>, AppError> {
    let r = state
        .store
        .get_run(p.tenant, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no run {id}")))?;
    let log = state
        .store
        .run_log(p.tenant, &id)
        .await?
        .into_iter()
        .map(|e| json!({"at": e.at.to_rfc3339(), "step": e.step, "event": e.event, "message": e.message}))
        .collect();
    Ok(Json(RunDetail {
        run: run_dto(&r),
        log,
    }))
}

/// A decision on the approval a run waits for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionInput {
    approve: bool,
    #[serde(default)]
    comment: String,
}

/// Loads a run with its playbook, applies `change` to its state and saves
/// it at the revision read; the runner carries the run on.
async fn change_run(
    state: &AppState,
    p: &vigil_model::Principal,
    id: &str,
    action: &str,
    details: serde_json::Value,
    change: impl FnOnce(
        &playbook::Playbook,
        &mut run::RunState,
        vigil_model::Timestamp,
    ) -> Result<(), vigil_respond::Error>,
) -> Result<RunDto, AppError> {
    let rec = state
        .store
        .get_run(p.tenant, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no run {id}")))?;
    let pb_rec = state
        .store
        .get_playbook(p.tenant, &rec.playbook_id, Some(rec.version))
        .await?
        .ok_or_else(|| AppError::internal(format!("run {id}: its playbook version is gone")))?;
    let pb = playbook::parse(&pb_rec.id, &pb_rec.source).map_err(AppError::internal)?;
    let mut st: run::RunState =
        serde_json::from_value(rec.state.clone()).map_err(AppError::internal)?;
    let now = state.clock.now();
    change(&pb, &mut st, now).map_err(|e| AppError::bad_request(e.to_string()))?;
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
    let value = serde_json::to_value(&st).map_err(AppError::internal)?;
    let audit = RunAudit {
        action: action.into(),
        target: format!("run:{id}"),
        details,
    };
    state
        .store
        .save_run(
            p.tenant,
            id,
            rec.rev,
            st.status.as_str(),
            &value,
            None,
            &log,
            &[(p.clone(), audit)],
            now,
        )
        .await
        .map_err(|e| match e {
            vigil_store::Error::Conflict { .. } => AppError::new(
                crate::error::ErrorKind::Conflict,
                "the run moved on meanwhile; read it again",
            ),
            other => other.into(),
        })?;
    let saved = state
        .store
        .get_run(p.tenant, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no run {id}")))?;
    Ok(run_dto(&saved))
}

/// Approves or denies the approval a run waits for (by the roles its
/// playbook names; analyst and admin by default).
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/decision",
    tag = "playbooks",
    params(("id" = String, Path, description = "Run id")),
    request_body = DecisionInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The run after the decision", body = RunDto),
        (status = 400, description = "The run does not wait for an approval, or the role may not decide", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn decide_run(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<DecisionInput>,
) -> Result<Json<RunDto>, AppError> {
    let dto = decide(&state, &p, &id, d.approve, &d.comment).await?;
    Ok(Json(dto))
}

/// Approves or denies the approval run `id` waits for, as the API and the
/// console do.
pub(crate) async fn decide(
    state: &AppState,
    p: &vigil_model::Principal,
    id: &str,
    approve: bool,
    comment: &str,
) -> Result<RunDto, AppError> {
    let action = if approve { "run.approve" } else { "run.deny" };
    let decision = run::Decision {
        approve,
        by: p.label(),
        role: p.role,
        comment: comment.to_owned(),
    };
    change_run(
        state,
        p,
        id,
        action,
        json!({ "comment": comment }),
        |pb, st, now| run::decide(pb, st, &decision, now),
    )
    .await
}

/// Cancels a run.
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/cancel",
    tag = "playbooks",
    params(("id" = String, Path, description = "Run id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The cancelled run", body = RunDto),
        (status = 400, description = "The run is already over", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run changed meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn cancel_run(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunDto>, AppError> {
    let by = p.label();
    let dto = change_run(&state, &p, &id, "run.cancel", json!({}), |_, st, now| {
        run::cancel(st, &by, now)
    })
    .await?;
    Ok(Json(dto))
}

/// An observable to attach.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObservableInput {
    /// ipv4, ipv6, domain, url, email, md5, sha1, sha256, …
    kind: String,
    value: String,
}

/// An attached observable with what the indicator store knew.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ObservableDto {
    pub(crate) kind: String,
    pub(crate) value: String,
    /// `{"value": …, "matches": [indicators]}`.
    #[schema(value_type = Object)]
    pub(crate) intel: serde_json::Value,
    /// False when it was already attached.
    pub(crate) added: bool,
}

/// Attaches an observable to an incident; it is looked up in the
/// indicator store.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/observables",
    tag = "incidents",
    params(("id" = String, Path, description = "Incident id or number")),
    request_body = ObservableInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The observable and its intel context", body = ObservableDto),
        (status = 400, description = "Invalid observable", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_observable(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(o): ApiJson<ObservableInput>,
) -> Result<Json<ObservableDto>, AppError> {
    Ok(Json(
        attach_observable(&state, &p, &id, &o.kind, &o.value).await?,
    ))
}

/// Attaches an observable to an incident with what the indicator store
/// knows of it.
pub(crate) async fn attach_observable(
    state: &AppState,
    p: &Principal,
    id: &str,
    kind: &str,
    value: &str,
) -> Result<ObservableDto, AppError> {
    let kind = kind.trim().to_ascii_lowercase();
    if kind.is_empty() || kind.len() > 64 {
        return Err(AppError::bad_request("kind: 1-64 characters"));
    }
    let inc = find_incident(state, p.tenant, id).await?;
    let intel = crate::incidents::intel_context(&state.store, p.tenant, value).await?;
    let added = state
        .store
        .add_observable(
            p.tenant,
            &inc.id,
            &kind,
            value,
            &intel,
            p,
            state.clock.now(),
        )
        .await?;
    Ok(ObservableDto {
        kind,
        value: value.trim().to_string(),
        intel,
        added,
    })
}

/// Evidence upload parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceQuery {
    /// File name (no path separators).
    name: String,
}

/// A stored attachment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EvidenceDto {
    id: String,
    incident_id: String,
    name: String,
    media_type: String,
    size: i64,
    /// Hex SHA-256 of the content.
    sha256: String,
    added_at: String,
    added_by: String,
}

impl From<vigil_store::EvidenceRecord> for EvidenceDto {
    fn from(e: vigil_store::EvidenceRecord) -> Self {
        Self {
            id: e.id,
            incident_id: e.incident_id,
            name: e.name,
            media_type: e.media_type,
            size: e.size,
            sha256: e.sha256,
            added_at: e.added_at.to_rfc3339(),
            added_by: e.added_by,
        }
    }
}

/// Attaches a file as evidence (the raw body; its Content-Type is kept;
/// stored once per SHA-256, at most 64 MiB).
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/evidence",
    tag = "incidents",
    params(("id" = String, Path, description = "Incident id or number"), EvidenceQuery),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The stored attachment", body = EvidenceDto),
        (status = 400, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 64 MiB", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_evidence(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<EvidenceDto>), AppError> {
    let media_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let rec = attach_evidence(&state, &p, &id, &q.name, &media_type, &body).await?;
    Ok((StatusCode::CREATED, Json(EvidenceDto::from(rec))))
}

/// Stores an attachment for an incident (once per SHA-256).
pub(crate) async fn attach_evidence(
    state: &AppState,
    p: &Principal,
    id: &str,
    name: &str,
    media_type: &str,
    body: &[u8],
) -> Result<vigil_store::EvidenceRecord, AppError> {
    if body.len() > vigil_store::MAX_EVIDENCE_BYTES {
        return Err(AppError::new(
            crate::error::ErrorKind::PayloadTooLarge,
            "evidence is limited to 64 MiB",
        ));
    }
    let inc = find_incident(state, p.tenant, id).await?;
    Ok(state
        .store
        .add_evidence(
            p.tenant,
            &inc.id,
            name,
            media_type,
            body,
            p,
            state.clock.now(),
        )
        .await?)
}

/// Downloads an attachment (its SHA-256 is checked first).
#[utoipa::path(
    get,
    path = "/api/v1/evidence/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "Evidence id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The content", content_type = "application/octet-stream"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such evidence", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_evidence(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let (rec, data) = state
        .store
        .get_evidence(p.tenant, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no evidence {id}")))?;
    // Served as a download, never rendered: the stored type only names it.
    let disposition = format!(
        "attachment; filename=\"{}\"",
        rec.name.replace(['"', '\r', '\n'], "_")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (
                axum::http::HeaderName::from_static("x-content-sha256"),
                rec.sha256,
            ),
        ],
        data,
    )
        .into_response())
}

/// Metrics period.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsQuery {
    /// day, week (default), month or all.
    period: Option<String>,
}

/// MTTx rows.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MetricsList {
    /// Per metric (mttd, mtta, mttc, mttr), severity and period: count,
    /// open, mean/median/p90 seconds.
    #[schema(value_type = Vec<Object>)]
    items: Vec<serde_json::Value>,
}

/// Mean time to detect, acknowledge, contain and resolve, per severity and
/// period.
#[utoipa::path(
    get,
    path = "/api/v1/incident-metrics",
    tag = "incidents",
    params(MetricsQuery),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The metrics", body = MetricsList),
        (status = 400, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn incident_metrics(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> Result<Json<MetricsList>, AppError> {
    let period: vigil_respond::mttx::Period = q
        .period
        .as_deref()
        .unwrap_or("week")
        .parse()
        .map_err(|e: vigil_respond::Error| AppError::bad_request(e.to_string()))?;
    let rows = crate::incidents::response_metrics(&state.store, p.tenant, period).await?;
    let items = rows
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or_default())
        .collect();
    Ok(Json(MetricsList { items }))
}

//! The incident view's forms (analysts): change status, severity and
//! assignee, add a note, add a task and change a task's status, attach an
//! observable or text evidence. Each goes through the function the REST
//! route uses (`routes/respond.rs`: `update_incident`, `add_incident_note`,
//! `add_incident_task`, `change_task`, `attach_observable`,
//! `attach_evidence`) and answers with a 303 back to the incident.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use vigil_model::Principal;

use super::actions::{back, optional, with_notice};
use super::{Form, see_other};
use crate::error::AppError;
use crate::incidents::IncidentChange;
use crate::routes::respond;
use crate::state::AppState;

/// Largest text evidence pasted into the form, in bytes (the form itself
/// is bounded at 256 KiB).
const MAX_TEXT_EVIDENCE: usize = 200 * 1024;

fn incident_page(form: &Form, id: &str) -> String {
    let fallback = format!("/incidents/{id}");
    back(form, &fallback).to_owned()
}

/// `POST /incidents/{id}/update`: `status`, `severity`, `assignee` (each
/// optional; empty fields stay as they are).
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let change = IncidentChange {
        status: optional(&form, "status"),
        severity: optional(&form, "severity"),
        assignee: optional(&form, "assignee"),
        ..IncidentChange::default()
    };
    if change.status.is_none() && change.severity.is_none() && change.assignee.is_none() {
        return Err(AppError::bad_request("nothing to change"));
    }
    let inc = respond::update_incident(&state, &p, &id, &change).await?;
    Ok(see_other(&with_notice(
        &format!("/incidents/{}", inc.number),
        &format!(
            "INC-{} is {} ({})",
            inc.number,
            inc.status,
            inc.severity.as_str()
        ),
    )))
}

/// `POST /incidents/{id}/notes`: `text`.
pub(crate) async fn note(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    respond::add_incident_note(&state, &p, &id, form.get("text").unwrap_or("")).await?;
    Ok(see_other(&with_notice(
        &incident_page(&form, &id),
        "note added",
    )))
}

/// `POST /incidents/{id}/tasks`: `title`, optional `description`.
pub(crate) async fn add_task(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let title = optional(&form, "title").ok_or_else(|| AppError::bad_request("title: empty"))?;
    let description = optional(&form, "description").unwrap_or_default();
    let t = respond::add_incident_task(&state, &p, &id, &title, &description).await?;
    Ok(see_other(&with_notice(
        &incident_page(&form, &id),
        &format!("task {:?} added", t.title),
    )))
}

/// `POST /tasks/{id}/status`: `status` (open, in_progress, done,
/// cancelled), `back` (the incident page).
pub(crate) async fn task_status(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let status = form.get("status").unwrap_or("");
    let t = respond::change_task(&state, &p, &id, status, None).await?;
    let fallback = format!("/incidents/{}", t.incident_id);
    Ok(see_other(&with_notice(
        back(&form, &fallback),
        &format!("task {:?} is {}", t.title, t.status),
    )))
}

/// `POST /incidents/{id}/observables`: `kind`, `value`.
pub(crate) async fn observable(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let value = optional(&form, "value").ok_or_else(|| AppError::bad_request("value: empty"))?;
    let o =
        respond::attach_observable(&state, &p, &id, form.get("kind").unwrap_or(""), &value).await?;
    let word = if o.added { "added" } else { "already attached" };
    Ok(see_other(&with_notice(
        &incident_page(&form, &id),
        &format!("observable {} {word}", o.value),
    )))
}

/// `POST /incidents/{id}/evidence`: `name` (a file name), `content` (text,
/// stored as `text/plain; charset=utf-8`).
pub(crate) async fn evidence(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let name = optional(&form, "name").ok_or_else(|| AppError::bad_request("name: empty"))?;
    let content = form.get("content").unwrap_or("");
    if content.is_empty() {
        return Err(AppError::bad_request("content: empty"));
    }
    if content.len() > MAX_TEXT_EVIDENCE {
        return Err(AppError::bad_request(format!(
            "content: at most {MAX_TEXT_EVIDENCE} bytes here; upload files through the API"
        )));
    }
    let e = respond::attach_evidence(
        &state,
        &p,
        &id,
        &name,
        "text/plain; charset=utf-8",
        content.as_bytes(),
    )
    .await?;
    Ok(see_other(&with_notice(
        &incident_page(&form, &id),
        &format!("evidence {} stored ({} bytes)", e.name, e.size),
    )))
}

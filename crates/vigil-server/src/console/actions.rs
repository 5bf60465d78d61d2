//! The console's form posts: triage one alert or many, open an incident
//! from an alert, approve or deny a pending playbook step. The middleware
//! has already checked the session, the role and the CSRF token and left
//! the parsed [`Form`] in the request; each handler answers with a 303 back
//! to a page (post/redirect/get).

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use vigil_model::{AlertId, Principal};
use vigil_store::NewIncident;

use super::{Form, see_other};
use crate::error::AppError;
use crate::state::AppState;

/// A local page to go back to (the form's `back` field), or `fallback`.
pub(super) fn back<'a>(form: &'a Form, fallback: &'a str) -> &'a str {
    match form.get("back") {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b,
        _ => fallback,
    }
}

/// `url` with `notice=<text>` added (an older notice dropped).
pub(super) fn with_notice(url: &str, text: &str) -> String {
    let base = match url.find("notice=") {
        Some(i) => url[..i].trim_end_matches(['&', '?']),
        None => url,
    };
    let n: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", text)
        .finish();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{n}")
}

fn parse_alert(id: &str) -> Result<AlertId, AppError> {
    id.trim()
        .parse()
        .map_err(|_| AppError::not_found(format!("no alert {id}")))
}

pub(super) fn optional(form: &Form, key: &str) -> Option<String> {
    form.get(key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `POST /alerts/{id}/triage`: `state`, optional `reason`.
pub(crate) async fn triage(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let alert = parse_alert(&id)?;
    let to = form.get("state").unwrap_or("");
    let reason = optional(&form, "reason");
    let r = crate::routes::respond::apply_triage(&state, &p, alert, to, None, reason.as_deref())
        .await?;
    let fallback = format!("/alerts/{id}");
    Ok(see_other(&with_notice(
        back(&form, &fallback),
        &format!("alert marked {}", r.state),
    )))
}

/// `POST /alerts/triage`: `id` (repeated) and `state`; each alert is
/// triaged on its own, the notice counts successes and refusals.
pub(crate) async fn bulk_triage(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
) -> Result<Response, AppError> {
    let to = form.get("state").unwrap_or("");
    let ids = form.all("id");
    if ids.is_empty() {
        return Ok(see_other(&with_notice(
            back(&form, "/alerts"),
            "no alert selected",
        )));
    }
    if ids.len() > 500 {
        return Err(AppError::bad_request("at most 500 alerts at once"));
    }
    let (mut done, mut refused) = (0usize, 0usize);
    for id in ids {
        let Ok(alert) = parse_alert(id) else {
            refused += 1;
            continue;
        };
        match crate::routes::respond::apply_triage(&state, &p, alert, to, None, None).await {
            Ok(_) => done += 1,
            Err(e) => {
                tracing::debug!(alert = id, error = %e, "bulk triage refused");
                refused += 1;
            }
        }
    }
    let notice = if refused == 0 {
        format!("{done} alert(s) marked {to}")
    } else {
        format!("{done} alert(s) marked {to}, {refused} refused")
    };
    Ok(see_other(&with_notice(back(&form, "/alerts"), &notice)))
}

/// `POST /alerts/{id}/incident`: opens an incident from the alert (title
/// from the form or the alert), links it (the alert becomes escalated) and
/// goes to the incident.
pub(crate) async fn open_incident(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let alert_id = parse_alert(&id)?;
    let alert = state
        .store
        .get_alert(p.tenant, alert_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no alert {id}")))?;
    let title = optional(&form, "title").unwrap_or_else(|| alert.title.clone());
    if title.len() > 500 {
        return Err(AppError::bad_request("title: at most 500 bytes"));
    }
    let new = NewIncident {
        title,
        description: optional(&form, "description").unwrap_or_default(),
        severity: None,
        category: optional(&form, "category"),
        tags: Vec::new(),
        flags: Vec::new(),
        assignee: None,
        alerts: vec![alert_id],
        origin_key: None,
    };
    let now = state.clock.now();
    let inc = state.store.create_incident(p.tenant, &new, &p, now).await?;
    crate::incidents::apply_task_templates(
        &state.store,
        p.tenant,
        &inc,
        &state.config.task_templates,
        &p,
        now,
    )
    .await?;
    Ok(see_other(&with_notice(
        &format!("/incidents/{}", inc.number),
        &format!("incident INC-{} opened from the alert", inc.number),
    )))
}

/// `POST /runs/{id}/decision`: `decision` = approve | deny, optional
/// `comment`.
pub(crate) async fn decide(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let approve = match form.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return Err(AppError::bad_request("decision: approve or deny")),
    };
    let comment = optional(&form, "comment").unwrap_or_default();
    crate::routes::respond::decide(&state, &p, &id, approve, &comment).await?;
    let word = if approve { "approved" } else { "denied" };
    Ok(see_other(&with_notice(
        back(&form, "/incidents"),
        &format!("run {id}: step {word}"),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_replace_older_ones() {
        assert_eq!(with_notice("/alerts", "a b"), "/alerts?notice=a+b");
        assert_eq!(
            with_notice("/alerts?status=open", "x"),
            "/alerts?status=open&notice=x"
        );
        assert_eq!(
            with_notice("/alerts?status=open&notice=old", "x"),
            "/alerts?status=open&notice=x"
        );
        assert_eq!(with_notice("/a?notice=old", "x"), "/a?notice=x");
        let f = Form::parse(b"back=%2F%2Fevil");
        assert_eq!(back(&f, "/alerts"), "/alerts");
    }
}

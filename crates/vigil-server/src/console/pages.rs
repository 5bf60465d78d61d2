//! The console's pages (GET): dashboard, alert queue and detail, incidents
//! and incident view (settings live in `admin.rs`). Each reads the store through indexed,
//! bounded queries and renders one template.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use minijinja::Value;
use serde_json::{Value as Json, json};
use vigil_model::{Alert, Principal, Role, Severity, Timestamp};
use vigil_respond::clocks::{self, Facts};
use vigil_store::{IncidentRecord, QueueCursor, QueueQuery, QueueSort, RunRecord};

use super::session::ConsoleSession;
use super::{charts, render};
use crate::error::AppError;
use crate::state::AppState;

/// Page size of the alert queue.
const QUEUE_PAGE: u32 = 50;

/// `2026-11-27 10:00:00` (UTC).
pub(crate) fn when(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    s.get(..19).unwrap_or(&s).replace('T', " ")
}

/// Principal labels (`user:<id>`) shown as the user's name where known.
pub(super) async fn people(
    state: &AppState,
    tenant: vigil_model::TenantId,
) -> Result<HashMap<String, String>, AppError> {
    Ok(state
        .store
        .list_users(tenant)
        .await?
        .into_iter()
        .map(|u| (format!("user:{}", u.id), u.username))
        .collect())
}

pub(super) fn name_of(names: &HashMap<String, String>, label: &str) -> String {
    names
        .get(label)
        .cloned()
        .unwrap_or_else(|| label.to_owned())
}

/// What every page's frame needs: who is signed in and the CSRF token.
pub(super) fn frame(p: &Principal, s: &ConsoleSession, nav: &str) -> Json {
    json!({
        "user": p.name,
        "role": p.role.as_str(),
        "csrf": s.csrf,
        "nav": nav,
        "can_triage": matches!(p.role, Role::Admin | Role::Analyst),
        "is_admin": p.role == Role::Admin,
    })
}

pub(super) fn merge(mut base: Json, extra: Json) -> Json {
    if let (Some(b), Json::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

fn alert_row(a: &Alert, state: &str, incident: Option<&str>, hits: i64) -> Json {
    json!({
        "id": a.id.to_string(),
        "title": a.title,
        "severity": a.severity.as_str(),
        "rule_id": a.rule_id,
        "detector": a.detector,
        "created": when(a.created_at),
        "state": state,
        "incident": incident,
        "hits": hits,
        "host": a.entities.host,
        "user": a.entities.user,
        "source_ip": a.entities.source_ip,
    })
}

/// Clocks of an incident at `now` as template rows.
fn clock_rows(state: &AppState, inc: &IncidentRecord, now: Timestamp) -> Vec<Json> {
    let facts = Facts {
        aware_at: inc.aware_at,
        flags: inc.flags.iter().cloned().collect(),
        completed: inc.clocks_done.clone(),
    };
    clocks::evaluate(&state.config.clock_rules, &facts, now)
        .into_iter()
        .map(|c| {
            let status = serde_json::to_value(c.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            json!({
                "id": c.id,
                "regime": c.regime,
                "name": c.name,
                "due": when(c.due_at),
                "status": status,
                "remaining": human_secs(c.remaining_secs),
                "overdue": c.remaining_secs < 0,
            })
        })
        .collect()
}

/// `3d 4h`, `2h 5m`, `7m`, `-1h 2m` (overdue).
fn human_secs(s: i64) -> String {
    let sign = if s < 0 { "-" } else { "" };
    let s = s.unsigned_abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{sign}{d}d {h}h")
    } else if h > 0 {
        format!("{sign}{h}h {m}m")
    } else {
        format!("{sign}{m}m")
    }
}

fn incident_row(state: &AppState, i: &IncidentRecord, now: Timestamp) -> Json {
    json!({
        "id": i.id,
        "number": i.number,
        "title": i.title,
        "severity": i.severity.as_str(),
        "status": i.status,
        "assignee": i.assignee,
        "created": when(i.created_at),
        "updated": when(i.updated_at),
        "clocks": clock_rows(state, i, now),
    })
}

/// A run as a template row, with what it waits for.
fn run_row(r: &RunRecord) -> Json {
    let waiting = r.state.get("waiting").cloned().unwrap_or(Json::Null);
    let deadline = waiting
        .get("deadline")
        .and_then(Json::as_str)
        .and_then(Timestamp::parse_rfc3339)
        .map(when);
    json!({
        "id": r.id,
        "playbook": r.playbook_id,
        "version": r.version,
        "status": r.status,
        "trigger": format!("{}:{}", r.trigger_kind, r.trigger_id),
        "alert": (r.trigger_kind == "alert").then_some(&r.trigger_id),
        "created": when(r.created_at),
        "updated": when(r.updated_at),
        "waiting": r.status == "waiting_approval",
        "step": waiting.get("step").and_then(Json::as_str).unwrap_or(""),
        "message": waiting.get("message").and_then(Json::as_str).unwrap_or(""),
        "deadline": deadline,
    })
}

/// `GET /`: the dashboard.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let hour = super::hours::HOUR;
    let store = &state.store;
    // Events per 5 minutes over the last hour.
    let ev_since = now.add_micros(-hour);
    let events = store.event_histogram(ev_since, hour / 12).await?;
    let mut ev_buckets = [0i64; 12];
    for c in &events {
        let i = (c.bucket.as_micros() - ev_since.as_micros()) / (hour / 12);
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| ev_buckets.get_mut(i)) {
            *slot += c.count;
        }
    }
    let last_hour: i64 = ev_buckets.iter().sum();
    let per_min_now = ev_buckets[11] as f64 / 5.0;
    // Alerts per clock hour over the last 24 hours, by severity (complete
    // hours counted once, see `hours`).
    let by_hour = state
        .inner
        .alert_hours
        .last_day(store, p.tenant, now)
        .await?;
    let mut by_sev = [0i64; 5];
    for row in &by_hour {
        for (total, n) in by_sev.iter_mut().zip(row) {
            *total += n;
        }
    }
    let open = store
        .list_incidents(p.tenant, Some("open"), None, 10)
        .await?;
    let waiting = store
        .list_runs(p.tenant, Some("waiting_approval"), None, 20)
        .await?;
    let feeds = store.list_feed_infos(p.tenant).await?;
    // Top risks: the highest-risk open findings (the risk index of
    // migration 90001) and the threat scenarios' latest recorded scores.
    let top_findings = store
        .ranked_findings(
            p.tenant,
            &vigil_store::RankedFindingQuery {
                limit: 5,
                ..Default::default()
            },
        )
        .await?;
    let top_threats = store.top_scenario_scores(p.tenant, 5).await?;
    let ctx = merge(
        frame(&p, &s, "dashboard"),
        json!({
            "events_last_hour": last_hour,
            "events_per_min": format!("{per_min_now:.1}"),
            "alerts_24h": by_sev.iter().sum::<i64>(),
            "by_severity": Severity::ALL.iter().zip(by_sev).map(|(s, n)| json!({"severity": s.as_str(), "count": n})).collect::<Vec<_>>(),
            "incidents": open.iter().map(|i| incident_row(&state, i, now)).collect::<Vec<_>>(),
            "approvals": waiting.iter().map(run_row).collect::<Vec<_>>(),
            "top_findings": top_findings.iter().map(|f| super::vulns::finding_row(f, None, now)).collect::<Vec<_>>(),
            "top_threats": top_threats.iter().map(|(r, title)| json!({
                "id": r.scenario,
                "title": title,
                "risk": r.risk,
                "likelihood": format!("{:.2}", r.likelihood as f64 / 100.0),
                "impact": format!("{:.2}", r.impact as f64 / 100.0),
                "assessed": when(r.at),
            })).collect::<Vec<_>>(),
            "feeds": feeds.iter().map(|f| json!({
                "name": f.config.name,
                "status": f.status,
                "last_run": f.last_run.map(when),
                "last_success": f.last_success.map(when),
                "error": f.last_error,
                "added": f.added,
                "errors": f.errors,
            })).collect::<Vec<_>>(),
        }),
    );
    Ok(render(
        &state,
        "dashboard.html",
        minijinja::context! {
            events_chart => charts::bars(&ev_buckets, "events per 5 minutes, last hour"),
            alerts_chart => charts::stacked(&by_hour, "alerts per hour by severity, last 24 hours"),
            severity_chart => charts::severity_bars(&by_sev),
            ..Value::from(minijinja::value::Serde(&ctx))
        },
    ))
}

pub(super) fn render_json(state: &AppState, name: &str, ctx: Json) -> Response {
    render(state, name, Value::from(minijinja::value::Serde(&ctx)))
}

/// `GET /alerts`: the queue.
pub(crate) async fn alerts(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let status = get("status").unwrap_or_else(|| "open".into());
    if !["all", "open"].contains(&status.as_str())
        && !vigil_store::TRIAGE_STATES.contains(&status.as_str())
    {
        return Err(AppError::bad_request(format!("unknown status {status:?}")));
    }
    let severity = get("severity")
        .map(|v| v.parse::<Severity>())
        .transpose()
        .map_err(|e| AppError::bad_request(format!("severity: {e}")))?;
    let sort_name = get("sort").unwrap_or_else(|| "newest".into());
    let sort = match sort_name.as_str() {
        "newest" => QueueSort::Newest,
        "oldest" => QueueSort::Oldest,
        "severity" => QueueSort::Severity,
        other => return Err(AppError::bad_request(format!("unknown sort {other:?}"))),
    };
    let cursor = get("after").map(|c| QueueCursor::decode(&c)).transpose()?;
    let text = get("q");
    if text.as_ref().is_some_and(|t| t.len() > 200) {
        return Err(AppError::bad_request("search text: at most 200 bytes"));
    }
    let query = QueueQuery {
        tenant: p.tenant,
        status: Some(status.clone()),
        severity,
        rule_id: get("rule"),
        text: text.clone(),
        sort,
        cursor,
        limit: QUEUE_PAGE + 1,
    };
    let mut rows = state
        .timed("alert_queue", state.store.alert_queue(&query))
        .await?;
    let more = rows.len() > QUEUE_PAGE as usize;
    rows.truncate(QUEUE_PAGE as usize);
    let filters: Vec<(&str, String)> = [
        ("status", Some(status.clone())),
        ("severity", severity.map(|s| s.as_str().to_owned())),
        ("rule", get("rule")),
        ("q", text.clone()),
        ("sort", Some(sort_name.clone())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let encode = |extra: Option<(&str, String)>| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &filters {
            ser.append_pair(k, v);
        }
        if let Some((k, v)) = extra {
            ser.append_pair(k, &v);
        }
        ser.finish()
    };
    let next = more
        .then(|| rows.last().map(|r| QueueCursor::after(&r.alert).encode()))
        .flatten()
        .map(|c| format!("/alerts?{}", encode(Some(("after", c)))));
    let this_page = match get("after") {
        Some(a) => format!("/alerts?{}", encode(Some(("after", a)))),
        None => format!("/alerts?{}", encode(None)),
    };
    let ctx = merge(
        frame(&p, &s, "alerts"),
        json!({
            "alerts": rows.iter().map(|r| alert_row(&r.alert, &r.state, r.incident_id.as_deref(), r.hits)).collect::<Vec<_>>(),
            "status": status,
            "severity": severity.map(|s| s.as_str()),
            "rule": get("rule"),
            "q": text,
            "sort": sort_name,
            "next": next,
            "first": if get("after").is_some() { Some(format!("/alerts?{}", encode(None))) } else { None },
            "this_page": this_page,
            "notice": get("notice"),
            "statuses": ["open", "all", "new", "acknowledged", "escalated", "false_positive", "closed"],
            "severities": Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        }),
    );
    Ok(render_json(&state, "alerts.html", ctx))
}

/// `GET /alerts/{id}`: one alert.
pub(crate) async fn alert(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let alert_id = id
        .parse()
        .map_err(|_| AppError::not_found(format!("no alert {id}")))?;
    let a = state
        .store
        .get_alert(p.tenant, alert_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no alert {id}")))?;
    let triage = state.store.get_triage(p.tenant, alert_id).await?;
    let related = state
        .store
        .alert_queue(&QueueQuery {
            tenant: p.tenant,
            rule_id: Some(a.rule_id.clone()),
            limit: 11,
            ..QueueQuery::default()
        })
        .await?;
    let incident = match triage.as_ref().and_then(|t| t.incident_id.clone()) {
        Some(iid) => state.store.get_incident(p.tenant, &iid).await?,
        None => None,
    };
    // Alerts sharing an entity (host, user, address, process, hash, domain)
    // through the same index and query as `GET /api/v1/alerts/{id}/related`;
    // the index follows the change feed, so bring it up to date first.
    if let Err(e) = state.store.catch_up_alert_entities(state.clock.now()).await {
        tracing::warn!(error = %e, "alert entity index");
    }
    let linked = state
        .store
        .related_alerts(p.tenant, alert_id, 10)
        .await?
        .unwrap_or_default();
    let pretty = |v: &Json| serde_json::to_string_pretty(v).unwrap_or_default();
    // Sigma puts the fields it matched under `matched`; other detectors
    // keep their own shape, shown whole.
    let matched_src = match a.details.get("matched") {
        Some(m @ Json::Object(_)) => m,
        _ => &a.details,
    };
    let matched = matched_src
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| json!({"name": k, "value": match v { Json::String(s) => s.clone(), other => other.to_string() }}))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let state_name = triage
        .as_ref()
        .map_or_else(|| "new".to_owned(), |t| t.state.clone());
    let names = people(&state, p.tenant).await?;
    let ctx = merge(
        frame(&p, &s, "alerts"),
        json!({
            "alert": alert_row(&a, &state_name, triage.as_ref().and_then(|t| t.incident_id.as_deref()), 1),
            "event_time": when(a.event_time),
            "tags": a.tags,
            "entities": pretty(&serde_json::to_value(&a.entities).unwrap_or(Json::Null)),
            "matched": matched,
            "details": pretty(&a.details),
            "event": pretty(&a.event),
            "raw": a.event.get("event.original").or_else(|| a.event.get("event").and_then(|e| e.get("original"))).and_then(Json::as_str),
            "triage": triage.as_ref().map(|t| json!({"state": t.state, "reason": t.reason, "assignee": t.assignee, "updated": when(t.updated_at), "by": name_of(&names, &t.updated_by)})),
            "incident": incident.as_ref().map(|i| json!({"number": i.number, "title": i.title, "status": i.status})),
            "linked": linked.iter().map(|r| json!({
                "id": r.alert.id.to_string(),
                "title": r.alert.title,
                "severity": r.alert.severity.as_str(),
                "created": when(r.alert.created_at),
                "shared": r.shared.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "related": related.iter().filter(|r| r.alert.id != a.id).take(10).map(|r| alert_row(&r.alert, &r.state, r.incident_id.as_deref(), r.hits)).collect::<Vec<_>>(),
            "notice": q.get("notice"),
        }),
    );
    Ok(render_json(&state, "alert.html", ctx))
}

/// `GET /incidents`: incidents, newest first, and pending approvals.
pub(crate) async fn incidents(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let status = q
        .get("status")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("open");
    if status != "open" && status != "all" {
        status
            .parse::<vigil_respond::incident::IncidentStatus>()
            .map_err(|e| AppError::bad_request(format!("status: {e}")))?;
    }
    let before = q
        .get("before")
        .filter(|b| !b.is_empty())
        .map(|b| b.parse::<i64>())
        .transpose()
        .map_err(|_| AppError::bad_request("before: not a number"))?;
    let filter = (status != "all").then_some(status);
    let list = state
        .store
        .list_incidents(p.tenant, filter, before, 51)
        .await?;
    let more = list.len() > 50;
    let list = &list[..list.len().min(50)];
    let waiting = state
        .store
        .list_runs(p.tenant, Some("waiting_approval"), None, 50)
        .await?;
    let next = more
        .then(|| {
            list.last()
                .map(|i| format!("/incidents?status={status}&before={}", i.number))
        })
        .flatten();
    let ctx = merge(
        frame(&p, &s, "incidents"),
        json!({
            "incidents": list.iter().map(|i| incident_row(&state, i, now)).collect::<Vec<_>>(),
            "approvals": waiting.iter().map(run_row).collect::<Vec<_>>(),
            "status": status,
            "statuses": ["open", "all", "new", "triage", "containment", "eradication", "recovery", "post_incident_review", "closed"],
            "next": next,
        }),
    );
    Ok(render_json(&state, "incidents.html", ctx))
}

/// `GET /incidents/{id}`: one incident (by id or number) with everything
/// attached, its playbook runs and their pending approvals.
pub(crate) async fn incident(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let store = &state.store;
    let inc = store
        .get_incident(p.tenant, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no incident {id}")))?;
    let alert_ids = store.incident_alerts(p.tenant, &inc.id).await?;
    let mut alerts = Vec::new();
    for a in alert_ids.iter().take(50) {
        if let Some(al) = store.get_alert(p.tenant, *a).await? {
            alerts.push(alert_row(&al, "escalated", Some(&inc.id), 1));
        }
    }
    let tasks = store.incident_tasks(p.tenant, &inc.id).await?;
    let timeline = store.incident_timeline(p.tenant, &inc.id).await?;
    let observables = store.incident_observables(p.tenant, &inc.id).await?;
    let evidence = store.incident_evidence(p.tenant, &inc.id).await?;
    // Runs about this incident: triggered by it or by one of its alerts, or
    // that opened it (their context names it).
    let linked: std::collections::HashSet<String> = alert_ids
        .iter()
        .map(ToString::to_string)
        .chain([inc.id.clone()])
        .collect();
    let names = people(&state, p.tenant).await?;
    let mut runs: Vec<Json> = Vec::new();
    for r in store
        .list_runs(p.tenant, None, None, 500)
        .await?
        .iter()
        .filter(|r| {
            linked.contains(&r.trigger_id)
                || r.state
                    .pointer("/ctx/incident_id")
                    .and_then(Json::as_str)
                    .is_some_and(|i| i == inc.id)
        })
    {
        let log = store.run_log(p.tenant, &r.id).await?;
        let tail: Vec<Json> = log
            .iter()
            .rev()
            .take(6)
            .rev()
            .map(|l| json!({"at": when(l.at), "step": l.step, "event": l.event, "message": l.message}))
            .collect();
        runs.push(merge(run_row(r), json!({ "log": tail })));
    }
    let ctx = merge(
        frame(&p, &s, "incidents"),
        json!({
            "incident": merge(incident_row(&state, &inc, now), json!({
                "description": inc.description,
                "category": inc.category,
                "tags": inc.tags,
                "flags": inc.flags,
                "aware": when(inc.aware_at),
                "created_by": name_of(&names, &inc.created_by),
            })),
            "alerts": alerts,
            "tasks": tasks.iter().map(|t| json!({"id": t.id, "title": t.title, "status": t.status, "assignee": t.assignee, "updated": when(t.updated_at)})).collect::<Vec<_>>(),
            "timeline": timeline.iter().map(|e| json!({"at": when(e.at), "kind": e.kind, "actor": name_of(&names, &e.actor), "text": e.text})).collect::<Vec<_>>(),
            "observables": observables.iter().map(|o| json!({"kind": o.kind, "value": o.value, "known": !o.intel.is_null() && o.intel != json!([]) && o.intel != json!({}), "added": when(o.added_at)})).collect::<Vec<_>>(),
            "evidence": evidence.iter().map(|e| json!({"id": e.id, "name": e.name, "media_type": e.media_type, "size": e.size, "sha256": e.sha256, "added": when(e.added_at), "by": name_of(&names, &e.added_by)})).collect::<Vec<_>>(),
            "runs": runs,
            "this_page": format!("/incidents/{}", inc.number),
            "notice": q.get("notice"),
        }),
    );
    Ok(render_json(&state, "incident.html", ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_secs(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(human_secs(2 * 3600 + 5 * 60), "2h 5m");
        assert_eq!(human_secs(-(3600 + 120)), "-1h 2m");
        assert_eq!(
            when(Timestamp::from_secs(1_795_737_600)),
            "2026-11-27 00:00:00"
        );
    }
}

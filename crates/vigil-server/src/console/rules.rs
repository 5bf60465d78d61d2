//! The console's rules pages: the stored rules with their state, filtered
//! and paged (keyset on the id), the load errors of the last detector
//! build, one rule with its YAML, enabling and disabling (the store call of
//! `PATCH /api/v1/rules/{id}`), and "test a rule" (the code of
//! `POST /api/v1/rules/test`).

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::json;
use vigil_model::Principal;
use vigil_store::{RuleQuery, RuleRecord, RuleSource, RuleUpdate};

use super::actions::{back, optional, with_notice};
use super::pages::{frame, merge, render_json, when};
use super::session::ConsoleSession;
use super::{Form, see_other};
use crate::error::AppError;
use crate::state::AppState;

/// Rules per page.
const RULES_PAGE: u32 = 100;

fn rule_row(r: &RuleRecord) -> serde_json::Value {
    json!({
        "id": r.id,
        "href": format!("/rules/{}", encode_segment(&r.id)),
        "title": r.title,
        "source": r.source.to_string(),
        "source_label": match r.source {
            RuleSource::Builtin => "built-in pack",
            RuleSource::Dir => "rule directory",
            RuleSource::Api => "uploaded",
        },
        "path": r.path,
        "enabled": r.enabled,
        "level": r.effective_level(),
        "level_overridden": r.level_override.is_some(),
        "tags": r.effective_tags(),
        "updated": when(r.updated_at),
        "updated_by": r.updated_by,
    })
}

/// `GET /rules`: `q`, `level`, `state` (enabled | disabled), `source`,
/// `after` (the previous page's last id).
pub(crate) async fn rules(
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
    let text = get("q");
    if text.as_ref().is_some_and(|t| t.len() > 200) {
        return Err(AppError::bad_request("search text: at most 200 bytes"));
    }
    let level = get("level")
        .map(|l| {
            l.parse::<vigil_sigma::Level>()
                .map(|l| l.to_string())
                .map_err(|e| AppError::bad_request(format!("level: {e}")))
        })
        .transpose()?;
    let enabled = match get("state").as_deref() {
        None | Some("all") => None,
        Some("enabled") => Some(true),
        Some("disabled") => Some(false),
        Some(other) => return Err(AppError::bad_request(format!("unknown state {other:?}"))),
    };
    let source = match get("source").as_deref() {
        None | Some("all") => None,
        Some("builtin") => Some(RuleSource::Builtin),
        Some("dir") => Some(RuleSource::Dir),
        Some("api") => Some(RuleSource::Api),
        Some(other) => return Err(AppError::bad_request(format!("unknown source {other:?}"))),
    };
    let query = RuleQuery {
        text: text.clone(),
        level: level.clone(),
        enabled,
        source,
        after: get("after"),
        limit: RULES_PAGE + 1,
    };
    let mut rows = state
        .timed("rule_page", state.store.rule_page(p.tenant, &query))
        .await?;
    let more = rows.len() > RULES_PAGE as usize;
    rows.truncate(RULES_PAGE as usize);
    let filters: Vec<(&str, String)> = [
        ("q", text.clone()),
        ("level", level.clone()),
        ("state", get("state")),
        ("source", get("source")),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let encode = |after: Option<&str>| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &filters {
            ser.append_pair(k, v);
        }
        if let Some(a) = after {
            ser.append_pair("after", a);
        }
        format!("/rules?{}", ser.finish())
    };
    let next = more
        .then(|| rows.last().map(|r| encode(Some(&r.id))))
        .flatten();
    let this_page = encode(get("after").as_deref());
    let (errors, total_errors, built) = state.inner.rule_errors.snapshot();
    let ctx = merge(
        frame(&p, &s, "rules"),
        json!({
            "rules": rows.iter().map(rule_row).collect::<Vec<_>>(),
            "q": text,
            "level": level,
            "state": get("state").unwrap_or_else(|| "all".into()),
            "source": get("source").unwrap_or_else(|| "all".into()),
            "levels": ["informational", "low", "medium", "high", "critical"],
            "next": next,
            "first": get("after").map(|_| encode(None)),
            "this_page": this_page,
            "notice": get("notice"),
            "errors": errors.iter().map(|e| json!({
                "path": e.path,
                "line": e.line,
                "column": e.column,
                "reason": e.reason,
                "unsupported": e.unsupported,
            })).collect::<Vec<_>>(),
            "errors_total": total_errors,
            "errors_shown": errors.len(),
            "built": built.map(when),
        }),
    );
    Ok(render_json(&state, "rules.html", ctx))
}

/// `GET /rules/{id}`: one rule with its YAML.
pub(crate) async fn rule(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let r = state
        .store
        .get_rule(p.tenant, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no rule {id:?}")))?;
    let yaml = crate::rule_test::stored_text(&state, &r).await;
    let ctx = merge(
        frame(&p, &s, "rules"),
        json!({
            "rule": merge(rule_row(&r), json!({
                "rule_level": r.level,
                "rule_tags": r.tags,
                "level_override": r.level_override,
                "tags_override": r.tags_override,
                "created": when(r.created_at),
            })),
            "yaml": yaml,
            "this_page": format!("/rules/{}", encode_segment(&r.id)),
            "test_link": format!("/rules/test?rule={}", encode_query(&r.id)),
            "notice": q.get("notice"),
        }),
    );
    Ok(render_json(&state, "rule.html", ctx))
}

fn encode_query(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// A path segment: everything but unreserved characters percent-encoded.
fn encode_segment(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /rules/{id}/state`: `enabled` = true | false. The same store
/// call as `PATCH /api/v1/rules/{id}`, and the detectors reload.
pub(crate) async fn set_state(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let enabled = match form.get("enabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(AppError::bad_request("enabled: true or false")),
    };
    let update = RuleUpdate {
        enabled: Some(enabled),
        ..RuleUpdate::default()
    };
    let now = state.clock.now();
    state
        .timed(
            "update_rule",
            state.store.update_rule(p.tenant, &id, &update, &p, now),
        )
        .await?
        .ok_or_else(|| AppError::not_found(format!("no rule {id:?}")))?;
    state.inner.rules_changed.notify_one();
    let fallback = format!("/rules/{}", encode_segment(&id));
    let word = if enabled { "enabled" } else { "disabled" };
    Ok(see_other(&with_notice(
        back(&form, &fallback),
        &format!("rule {id} {word}"),
    )))
}

/// Stored rules offered by the test form (the first 500 by id).
async fn choices(state: &AppState, p: &Principal) -> Result<Vec<serde_json::Value>, AppError> {
    let q = RuleQuery {
        limit: 500,
        ..RuleQuery::default()
    };
    Ok(state
        .store
        .rule_page(p.tenant, &q)
        .await?
        .iter()
        .map(|r| json!({"id": r.id, "title": r.title}))
        .collect())
}

/// `GET /rules/test`: the form (`rule` pre-selects a stored rule).
pub(crate) async fn test_form(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let ctx = merge(
        frame(&p, &s, "rules"),
        json!({
            "rule_id": q.get("rule").map(|r| r.trim()).filter(|r| !r.is_empty()),
            "rule_yaml": "",
            "event": "",
            "outcome": null,
            "choices": choices(&state, &p).await?,
        }),
    );
    Ok(render_json(&state, "rule_test.html", ctx))
}

/// `POST /rules/test`: `rule_id` or `rule_yaml`, and `event`; renders the
/// outcome under the form (nothing is stored).
pub(crate) async fn test(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Extension(form): Extension<Form>,
) -> Result<Response, AppError> {
    let rule_id = optional(&form, "rule_id");
    let rule_yaml = form
        .get("rule_yaml")
        .filter(|y| !y.trim().is_empty())
        .map(str::to_owned);
    let event = form.get("event").unwrap_or("").to_owned();
    crate::rule_test::check_sizes(rule_yaml.as_deref().unwrap_or(""), &event)?;
    // Pasted YAML wins over a stored rule named in the same form.
    let (id_arg, yaml_arg) = match (&rule_id, &rule_yaml) {
        (_, Some(y)) => (None, Some(y.as_str())),
        (Some(i), None) => (Some(i.as_str()), None),
        (None, None) => (None, None),
    };
    let rule = crate::rule_test::resolve(&state, p.tenant, id_arg, yaml_arg).await?;
    let outcome = crate::rule_test::run_blocking(&state, rule, event.clone()).await?;
    let ctx = merge(
        frame(&p, &s, "rules"),
        json!({
            "rule_id": rule_id,
            "rule_yaml": rule_yaml.unwrap_or_default(),
            "event": event,
            "outcome": outcome,
            "choices": choices(&state, &p).await?,
            "pretty": outcome.matches.iter().map(|m| m.matched.iter().map(|(k, v)| json!({
                "name": k,
                "value": match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() },
                "field": m.fields.get(k),
            })).collect::<Vec<_>>()).collect::<Vec<_>>(),
        }),
    );
    Ok(render_json(&state, "rule_test.html", ctx))
}

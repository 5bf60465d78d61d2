//! The console's settings (admins): users (create, role, disable/enable,
//! password reset — the code of `/api/v1/users`, with the last-admin
//! guard), API tokens (create, showing the secret once; revoke — the code
//! of `/api/v1/tokens`), intel feeds (add, delete — the code of
//! `/api/v1/intel/feeds`), the event listeners with their counters, and the
//! tenants.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value as Json, json};
use vigil_model::{Principal, Role};
use vigil_store::{FeedConfig, UserAccess};

use super::actions::{optional, with_notice};
use super::pages::{frame, merge, render_json, when};
use super::session::ConsoleSession;
use super::{Form, see_other};
use crate::dto::{CreateToken, RoleDto};
use crate::error::AppError;
use crate::state::AppState;

/// `GET /settings`.
pub(crate) async fn settings(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    page(&state, &p, &s, json!({ "notice": q.get("notice") })).await
}

/// The settings page with `extra` in its context (a notice, a new token).
async fn page(
    state: &AppState,
    p: &Principal,
    s: &ConsoleSession,
    extra: Json,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let users = state.store.list_users(p.tenant).await?;
    let tokens = state.store.list_tokens(p.tenant).await?;
    let feeds = state.store.list_feed_infos(p.tenant).await?;
    let tenants = state.store.list_tenants().await?;
    let metrics = metrics_text(state);
    let ctx = merge(
        merge(frame(p, s, "settings"), extra),
        json!({
            "users": users.iter().map(|u| json!({
                "id": u.id,
                "username": u.username,
                "role": u.role.as_str(),
                "created": when(u.created_at),
                "last_login": u.last_login_at.map(when),
                "disabled": u.disabled_at.is_some(),
                "locked": u.is_locked(now),
                "me": u.id == p.id,
            })).collect::<Vec<_>>(),
            "roles": ["admin", "analyst", "viewer"],
            "token_roles": ["admin", "analyst", "viewer", "ingest", "feed"],
            "tokens": tokens.iter().map(|t| json!({
                "id": t.id.to_string(),
                "prefix": t.prefix,
                "name": t.name,
                "role": t.role.as_str(),
                "created": when(t.created_at),
                "expires": t.expires_at.map(when),
                "active": t.is_active(now),
            })).collect::<Vec<_>>(),
            "feeds": feeds.iter().map(|f| json!({
                "name": f.config.name,
                "format": f.config.format,
                "location": f.config.location,
                "enabled": f.config.enabled,
                "interval": f.config.interval_secs,
                "status": f.status,
                "last_success": f.last_success.map(when),
                "error": f.last_error,
            })).collect::<Vec<_>>(),
            "feed_formats": ["stix", "misp", "csv", "taxii"],
            "listeners": state.config.listeners.iter().map(|l| json!({
                "name": l.name,
                "protocol": l.protocol,
                "address": l.address,
                "tls": l.tls,
                "counters": if l.protocol == "hec" { hec_counters(&metrics) } else { listener_counters(&metrics, &l.name) },
            })).collect::<Vec<_>>(),
            "tenants": tenants.iter().map(|t| json!({
                "id": t.id.to_string(),
                "name": t.name,
                "created": when(t.created_at),
                "current": t.id == p.tenant,
            })).collect::<Vec<_>>(),
            "tenant": p.tenant.to_string(),
        }),
    );
    Ok(render_json(state, "settings.html", ctx))
}

/// The Prometheus text of `/metrics` (the listeners' counters are there).
fn metrics_text(state: &AppState) -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &state.inner.registry) {
        tracing::debug!(error = %e, "metrics not encoded for the settings page");
    }
    out
}

/// `vigil_listener_<name>_total{listener="NAME",…} N` → (name, N) for one
/// listener, in the order of the exposition.
fn listener_counters(metrics: &str, listener: &str) -> Vec<Json> {
    let label = format!("listener=\"{listener}\"");
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("vigil_listener_"))
        .filter(|l| l.contains(&label))
        .filter_map(|l| {
            let (name, rest) = l.split_once('{')?;
            let value = rest.rsplit_once(' ')?.1;
            let name = name.strip_suffix("_total").unwrap_or(name);
            Some(json!({ "name": name, "value": value }))
        })
        .collect()
}

/// The HEC routes' counters (`vigil_hec_*`), summed over endpoints and
/// codes: requests, events by outcome, bytes.
fn hec_counters(metrics: &str) -> Vec<Json> {
    let mut sums: Vec<(String, f64)> = Vec::new();
    for l in metrics.lines().filter(|l| l.starts_with("vigil_hec_")) {
        let Some((series, value)) = l.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        let name = name
            .trim_start_matches("vigil_hec_")
            .trim_end_matches("_total");
        let key = match labels
            .split(',')
            .find_map(|kv| kv.strip_prefix("outcome=\""))
            .map(|o| o.trim_end_matches(['"', '}']))
        {
            Some(outcome) => format!("{name} {outcome}"),
            None => name.to_owned(),
        };
        match sums.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += v,
            None => sums.push((key, v)),
        }
    }
    sums.into_iter()
        .map(|(name, v)| json!({ "name": name, "value": format!("{v}") }))
        .collect()
}

fn role(form: &Form, key: &str) -> Result<Role, AppError> {
    form.get(key)
        .unwrap_or("")
        .parse::<Role>()
        .map_err(|_| AppError::bad_request(format!("{key}: admin, analyst or viewer")))
}

/// `POST /settings/users`: `username`, `role`, `password`.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
) -> Result<Response, AppError> {
    let username = form.get("username").unwrap_or("");
    let u = crate::routes::users::create(
        &state,
        &p,
        username,
        role(&form, "role")?,
        form.get("password").unwrap_or(""),
    )
    .await?;
    Ok(see_other(&with_notice(
        "/settings",
        &format!("user {} created ({})", u.username, u.role),
    )))
}

/// `POST /settings/users/{id}`: `action` = role (with `role`) | disable |
/// enable | password (with `password`).
pub(crate) async fn change_user(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (access, password) = match form.get("action") {
        Some("role") => (
            UserAccess {
                role: Some(role(&form, "role")?),
                disabled: None,
            },
            None,
        ),
        Some("disable") => (
            UserAccess {
                role: None,
                disabled: Some(true),
            },
            None,
        ),
        Some("enable") => (
            UserAccess {
                role: None,
                disabled: Some(false),
            },
            None,
        ),
        Some("password") => (
            UserAccess::default(),
            Some(form.get("password").unwrap_or("")),
        ),
        _ => {
            return Err(AppError::bad_request(
                "action: role, disable, enable or password",
            ));
        }
    };
    let u = crate::routes::users::change(&state, &p, &id, access, password).await?;
    let what = match form.get("action") {
        Some("role") => format!("is now {}", u.role),
        Some("disable") => "disabled".into(),
        Some("enable") => "enabled".into(),
        _ => "has a new password".into(),
    };
    Ok(see_other(&with_notice(
        "/settings",
        &format!("user {} {what}", u.username),
    )))
}

/// `POST /settings/tokens`: `name`, `role`, optional `expires_at` (RFC
/// 3339). Answers with the settings page showing the secret once (never in
/// a URL).
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Extension(form): Extension<Form>,
) -> Result<Response, AppError> {
    let role: RoleDto = serde_json::from_value(json!(form.get("role").unwrap_or("")))
        .map_err(|_| AppError::bad_request("role: admin, analyst, viewer, ingest or feed"))?;
    let req = CreateToken {
        name: form.get("name").unwrap_or("").to_owned(),
        role,
        expires_at: optional(&form, "expires_at"),
    };
    let (record, secret) = crate::routes::tokens::create(&state, &p, &req).await?;
    page(
        &state,
        &p,
        &s,
        json!({
            "notice": format!("token {} created; copy it now, it is not shown again", record.name),
            "new_token": { "name": record.name, "secret": secret },
        }),
    )
    .await
}

/// `POST /settings/tokens/{id}/revoke`.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    crate::routes::tokens::revoke(&state, &p, &id).await?;
    Ok(see_other(&with_notice(
        "/settings",
        &format!("token {id} revoked"),
    )))
}

/// `POST /settings/feeds`: `name`, `format`, `location`, optional
/// `interval_secs` (default 3600), `enabled` (checkbox).
pub(crate) async fn add_feed(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(form): Extension<Form>,
) -> Result<Response, AppError> {
    let interval_secs = match optional(&form, "interval_secs") {
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| AppError::bad_request("interval_secs: a number of seconds"))?,
        None => 3600,
    };
    let f = FeedConfig {
        name: form.get("name").unwrap_or("").trim().to_owned(),
        format: form.get("format").unwrap_or("").trim().to_owned(),
        location: form.get("location").unwrap_or("").trim().to_owned(),
        enabled: form.get("enabled").is_some(),
        interval_secs,
        default_confidence: None,
        default_tlp: None,
        auth: "none".into(),
        secret: None,
        options: None,
    };
    let info = crate::routes::feeds::store_feed(&state, &p, &f).await?;
    Ok(see_other(&with_notice(
        "/settings",
        &format!("feed {} saved", info.config.name),
    )))
}

/// `POST /settings/feeds/{name}/delete`.
pub(crate) async fn delete_feed(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    crate::routes::feeds::remove_feed(&state, &p, &name).await?;
    Ok(see_other(&with_notice(
        "/settings",
        &format!("feed {name} deleted"),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_counters_are_read_from_the_exposition() {
        let text = "# HELP x\nvigil_listener_received_total{listener=\"sys\",protocol=\"udp\"} 7\n\
                    vigil_listener_received_total{listener=\"other\",protocol=\"tcp\"} 1\n\
                    vigil_listener_queue_depth{listener=\"sys\",protocol=\"udp\"} 0\n";
        let hec = "vigil_hec_events_total{endpoint=\"event\",outcome=\"accepted\"} 3\n\
                   vigil_hec_events_total{endpoint=\"raw\",outcome=\"accepted\"} 2\n\
                   vigil_hec_received_bytes_total{endpoint=\"raw\"} 10\n";
        assert_eq!(
            hec_counters(hec),
            vec![
                json!({"name": "events accepted", "value": "5"}),
                json!({"name": "received_bytes", "value": "10"})
            ]
        );
        let c = listener_counters(text, "sys");
        assert_eq!(
            c,
            vec![
                json!({"name": "received", "value": "7"}),
                json!({"name": "queue_depth", "value": "0"})
            ]
        );
    }
}

//! The console's intelligence pages: indicator search (keyset-paged),
//! one indicator, feeds with their health and a "sync now" form (admins),
//! and the import form (analysts), which goes through the API's import
//! code path and shows what it did.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use vigil_model::{Principal, Role, Timestamp};
use vigil_store::{IndicatorQuery, IndicatorRecord, feed_job_name};

use super::actions::with_notice;
use super::pages::{frame, merge, render_json, when};
use super::session::ConsoleSession;
use super::{Form, see_other};
use crate::error::AppError;
use crate::intel::{
    ExportFilter, ImportFormat, IndicatorView, feeds_of, indicator_page, parse_cursor,
};
use crate::state::AppState;

/// Page size of the indicator search.
const INDICATOR_PAGE: u32 = 50;

/// Feed name of documents pasted into the import form, by default.
const CONSOLE_FEED: &str = "console";

/// `s` as one URL path segment (everything but unreserved characters
/// percent-encoded).
pub(super) fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query string of the non-empty `pairs`.
pub(super) fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            ser.append_pair(k, v);
        }
    }
    ser.finish()
}

/// A trimmed, non-empty query parameter.
pub(super) fn param(q: &HashMap<String, String>, k: &str) -> Option<String> {
    q.get(k)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn indicator_href(kind: &str, value: &str) -> String {
    format!("/intel/indicators/{}", segment(&format!("{kind}:{value}")))
}

fn indicator_row(r: &IndicatorRecord, now: Timestamp) -> Json {
    json!({
        "href": indicator_href(&r.kind, &r.value),
        "kind": r.kind,
        "value": r.value,
        "confidence": r.confidence,
        "tlp": r.tlp,
        "valid_until": r.valid_until.map(when),
        "expired": r.valid_until.is_some_and(|t| t <= now),
        "feeds": feeds_of(r),
        "sightings": r.sightings,
    })
}

/// `GET /intel`: indicator search.
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let text = param(&q, "q");
    if text.as_ref().is_some_and(|t| t.len() > 200) {
        return Err(AppError::bad_request("search text: at most 200 bytes"));
    }
    let how = param(&q, "match").unwrap_or_else(|| "contains".into());
    if how != "contains" && how != "prefix" {
        return Err(AppError::bad_request(format!(
            "match: {how:?} is not contains or prefix"
        )));
    }
    let kind = param(&q, "type");
    let min_confidence = match param(&q, "min_confidence") {
        Some(c) => c
            .parse::<u8>()
            .map_err(|_| AppError::bad_request("min_confidence: 0 to 100"))?,
        None => 0,
    };
    let f = ExportFilter::parse(
        &kind.iter().cloned().collect::<Vec<_>>(),
        min_confidence,
        None,
        true,
        now,
    )?;
    let validity = param(&q, "state").unwrap_or_else(|| "active".into());
    let (valid_at, expired_at) = match validity.as_str() {
        "active" => (Some(now), None),
        "expired" => (None, Some(now)),
        "all" => (None, None),
        other => {
            return Err(AppError::bad_request(format!(
                "state: {other:?} is not active, expired or all"
            )));
        }
    };
    let feed = param(&q, "feed");
    let after = param(&q, "after");
    let query = IndicatorQuery {
        kinds: f.kinds.iter().map(|k| k.as_str().to_string()).collect(),
        min_confidence: f.min_confidence,
        valid_at,
        expired_at,
        contains: text.clone().filter(|_| how == "contains"),
        prefix: text.clone().filter(|_| how == "prefix"),
        feed: feed.clone(),
        after: after.as_deref().map(parse_cursor).transpose()?,
        limit: None,
    };
    let (rows, next) = state
        .timed(
            "console_indicators",
            indicator_page(&state.store, p.tenant, query, INDICATOR_PAGE),
        )
        .await?;
    let filters = [
        ("q", text.clone()),
        ("match", Some(how.clone())),
        ("type", kind.clone()),
        ("feed", feed.clone()),
        (
            "min_confidence",
            (min_confidence > 0).then(|| min_confidence.to_string()),
        ),
        ("state", Some(validity.clone())),
    ];
    let next = next.map(|c| {
        let mut pairs = filters.to_vec();
        pairs.push(("after", Some(c)));
        format!("/intel?{}", query_string(&pairs))
    });
    let first = after.map(|_| format!("/intel?{}", query_string(&filters)));
    let feeds: Vec<String> = state
        .store
        .list_feed_infos(p.tenant)
        .await?
        .into_iter()
        .map(|f| f.config.name)
        .collect();
    let ctx = merge(
        frame(&p, &s, "intel"),
        json!({
            "indicators": rows.iter().map(|r| indicator_row(r, now)).collect::<Vec<_>>(),
            "q": text,
            "how": how,
            "kind": kind,
            "feed": feed,
            "feeds": feeds,
            "min_confidence": min_confidence,
            "validity": validity,
            "kinds": vigil_intel::IndicatorType::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "next": next,
            "first": first,
            "can_import": matches!(p.role, Role::Admin | Role::Analyst),
        }),
    );
    Ok(render_json(&state, "intel.html", ctx))
}

/// `GET /intel/indicators/{id}`: one indicator (`type:value`).
pub(crate) async fn indicator(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let Some((kind, value)) = id.split_once(':') else {
        return Err(AppError::not_found(format!("no indicator {id:?}")));
    };
    let r = state
        .store
        .get_indicator(p.tenant, kind, value)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no indicator {id:?}")))?;
    let sightings = state
        .store
        .indicator_sightings(p.tenant, &r.kind, &r.value)
        .await?
        .unwrap_or_default();
    let now = state.clock.now();
    let v = IndicatorView::from(&r);
    let ts = |t: Option<Timestamp>| t.map(when);
    let ctx = merge(
        frame(&p, &s, "intel"),
        json!({
            "i": {
                "id": v.id,
                "kind": v.kind,
                "value": v.value,
                "confidence": v.confidence,
                "tlp": v.tlp,
                "valid_from": ts(v.valid_from),
                "valid_until": ts(v.valid_until),
                "expired": v.valid_until.is_some_and(|t| t <= now),
                "feeds": v.feeds,
                "provenance": v.provenance.as_array().map(|a| a.iter().map(|p| json!({
                    "feed": p["feed"].as_str().unwrap_or(""),
                    "object": p["object_id"].as_str().unwrap_or(""),
                })).collect::<Vec<_>>()).unwrap_or_default(),
                "techniques": v.techniques,
                "related": v.related,
                "labels": v.labels,
                "markings": r.markings,
                "kill_chain": v.kill_chain.as_array().map(|a| a.iter().map(|k| format!(
                    "{}: {}",
                    k["kill_chain_name"].as_str().unwrap_or(""),
                    k["phase_name"].as_str().unwrap_or("")
                )).collect::<Vec<_>>()).unwrap_or_default(),
                "first_seen": ts(v.first_seen),
                "last_seen": ts(v.last_seen),
                "feed_sightings": r.feed_sightings,
                "sightings": v.sightings,
                "first_sighting": ts(sightings.first),
                "last_sighting": ts(v.last_sighting),
                "created": when(r.created_at),
                "updated": when(r.updated_at),
            },
        }),
    );
    Ok(render_json(&state, "indicator.html", ctx))
}

/// `GET /intel/feeds`: feeds with their health and indicator counts.
pub(crate) async fn feeds(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let feeds = state
        .timed("list_feed_infos", state.store.list_feed_infos(p.tenant))
        .await?;
    let counts: HashMap<String, (i64, i64)> = state
        .timed(
            "indicator_feed_counts",
            state.store.indicator_feed_counts(p.tenant, now),
        )
        .await?
        .into_iter()
        .map(|(f, n, e)| (f, (n, e)))
        .collect();
    let jobs: HashMap<String, vigil_store::JobInfo> = state
        .store
        .list_jobs()
        .await?
        .into_iter()
        .filter(|j| j.tenant == p.tenant)
        .map(|j| (j.name.clone(), j))
        .collect();
    let rows: Vec<Json> = feeds
        .iter()
        .map(|f| {
            let c = &f.config;
            let (n, expired) = counts.get(&c.name).copied().unwrap_or((0, 0));
            let job = jobs.get(&feed_job_name(&c.name)).filter(|j| j.enabled);
            json!({
                "name": c.name,
                "href": format!("/intel?{}", query_string(&[("feed", Some(c.name.clone())), ("state", Some("all".into()))])),
                "sync": format!("/intel/feeds/{}/sync", segment(&c.name)),
                "format": c.format,
                "location": c.location,
                "enabled": c.enabled,
                "interval": c.interval_secs,
                "status": f.status,
                "last_run": f.last_run.map(when),
                "last_success": f.last_success.map(when),
                "error": f.last_error,
                "next_run": if c.enabled { job.map(|j| when(j.next_run)) } else { None },
                "added": f.added,
                "updated": f.updated,
                "rejected": f.errors,
                "indicators": n,
                "expired": expired,
            })
        })
        .collect();
    // Indicators from sources that are not configured feeds (imports).
    let others: Vec<Json> = {
        let mut o: Vec<(&String, &(i64, i64))> = counts
            .iter()
            .filter(|(name, _)| !feeds.iter().any(|f| &f.config.name == *name))
            .collect();
        o.sort();
        o.into_iter()
            .map(|(name, (n, e))| json!({"name": name, "indicators": n, "expired": e,
                "href": format!("/intel?{}", query_string(&[("feed", Some(name.clone())), ("state", Some("all".into()))]))}))
            .collect()
    };
    let ctx = merge(
        frame(&p, &s, "intel"),
        json!({
            "feeds": rows,
            "sources": others,
            "notice": param(&q, "notice"),
        }),
    );
    Ok(render_json(&state, "feeds.html", ctx))
}

/// `POST /intel/feeds/{name}/sync`: makes the feed's sync due now.
pub(crate) async fn sync(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let f = crate::routes::feeds::request_sync(&state, p.tenant, &name).await?;
    Ok(see_other(&with_notice(
        "/intel/feeds",
        &format!("feed {} will sync within seconds", f.config.name),
    )))
}

/// `GET /intel/import`: the import form.
pub(crate) async fn import_form(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
) -> Result<Response, AppError> {
    let ctx = merge(
        frame(&p, &s, "intel"),
        json!({"feed": CONSOLE_FEED, "format": "auto", "formats": FORMATS}),
    );
    Ok(render_json(&state, "import.html", ctx))
}

const FORMATS: [&str; 5] = ["auto", "stix", "misp", "csv", "plain"];

/// `POST /intel/import`: `document`, `format`, `feed`; imports through
/// the API's code path and shows the summary (or, when the document as a
/// whole is unreadable, the form again with the reason).
pub(crate) async fn import(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Extension(form): Extension<Form>,
) -> Result<Response, AppError> {
    let document = form.get("document").unwrap_or("");
    let feed = form
        .get("feed")
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or(CONSOLE_FEED)
        .to_owned();
    let format_name = form.get("format").unwrap_or("auto").to_owned();
    let base = merge(
        frame(&p, &s, "intel"),
        json!({"feed": feed, "format": format_name, "formats": FORMATS}),
    );
    let refuse = |msg: String| {
        let ctx = merge(base.clone(), json!({"error": msg, "document": document}));
        let mut res = render_json(&state, "import.html", ctx);
        *res.status_mut() = StatusCode::BAD_REQUEST;
        res
    };
    if feed.len() > 200 {
        return Ok(refuse("feed: 1 to 200 bytes".into()));
    }
    if document.trim().is_empty() {
        return Ok(refuse("paste a document to import".into()));
    }
    let format: ImportFormat = match format_name.parse() {
        Ok(f) => f,
        Err(e) => return Ok(refuse(e.to_string())),
    };
    let out =
        match crate::routes::intel::import_audited(&state, &p, document.as_bytes(), &feed, format)
            .await
        {
            Ok(o) => o,
            Err(e) if e.kind() == crate::error::ErrorKind::BadRequest => {
                return Ok(refuse(e.to_string()));
            }
            Err(e) => return Ok(e.into_response()),
        };
    let ctx = merge(
        base,
        json!({
            "outcome": {
                "format": out.format,
                "read": out.indicators.values().sum::<usize>(),
                "by_type": out.indicators.iter().map(|(k, v)| json!({"kind": k, "n": v})).collect::<Vec<_>>(),
                "added": out.indicators_added,
                "updated": out.indicators_updated,
                "unchanged": out.indicators_unchanged,
                "stix_added": out.stix_objects_added,
                "errors": out.errors.iter().map(|e| json!({"id": e.id, "reason": e.reason})).collect::<Vec<_>>(),
            },
            "search": format!("/intel?{}", query_string(&[("feed", Some(feed.clone())), ("state", Some("all".into()))])),
        }),
    );
    Ok(render_json(&state, "import.html", ctx))
}

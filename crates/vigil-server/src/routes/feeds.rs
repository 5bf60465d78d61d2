//! `/api/v1/intel/feeds`: configured intel feeds with their health (read
//! by admins, analysts and viewers), created, replaced, removed and synced
//! on demand by admins (changes audited as `feed.put`, `feed.delete`). Syncs run in the scheduler of `vigil serve` (job
//! `intel.feed:<name>`); `POST …/sync` makes the job due now.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::{FeedConfig, FeedInfo, feed_job_name};

use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, AppError, Problem};
use crate::state::AppState;

/// A feed: configuration and health.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FeedDto {
    /// Unique name.
    name: String,
    /// `stix`, `misp`, `csv` or `taxii`.
    format: String,
    /// URL or file path (TAXII: the collection's URL).
    location: String,
    /// Whether scheduled syncs run.
    enabled: bool,
    /// Seconds between syncs.
    interval_secs: i64,
    /// Confidence for indicators that carry none.
    default_confidence: Option<u8>,
    /// TLP for indicators that carry none.
    default_tlp: Option<String>,
    /// `none`, `basic` or `bearer`.
    auth: String,
    /// Name of the secret with the credentials (never its value).
    secret: Option<String>,
    /// csv: the column mapping.
    #[schema(value_type = Option<Object>)]
    csv_mapping: Option<serde_json::Value>,
    /// `new`, `ok`, `not-modified`, `partial` or `error`.
    status: String,
    /// Last run, RFC 3339.
    last_run: Option<String>,
    /// Last successful run, RFC 3339.
    last_success: Option<String>,
    /// The last error.
    last_error: Option<String>,
    /// Objects read in the last run.
    objects: i64,
    /// Indicators added in the last run.
    added: i64,
    /// Indicators updated in the last run.
    updated: i64,
    /// The feed's indicators past `valid_until` at the last run.
    expired: i64,
    /// Items rejected in the last run.
    errors: i64,
}

impl From<&FeedInfo> for FeedDto {
    fn from(f: &FeedInfo) -> Self {
        let c = &f.config;
        Self {
            name: c.name.clone(),
            format: c.format.clone(),
            location: c.location.clone(),
            enabled: c.enabled,
            interval_secs: c.interval_secs,
            default_confidence: c.default_confidence,
            default_tlp: c.default_tlp.clone(),
            auth: c.auth.clone(),
            secret: c.secret.clone(),
            csv_mapping: c.options.clone(),
            status: f.status.clone(),
            last_run: f.last_run.map(|t| t.to_rfc3339()),
            last_success: f.last_success.map(|t| t.to_rfc3339()),
            last_error: f.last_error.clone(),
            objects: f.objects,
            added: f.added,
            updated: f.updated,
            expired: f.expired,
            errors: f.errors,
        }
    }
}

/// The feeds.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FeedList {
    /// By name.
    items: Vec<FeedDto>,
}

/// A feed to create or replace (by name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedInput {
    /// Unique name (letters, digits, `-`, `_`, `.`).
    name: String,
    /// `stix`, `misp`, `csv` or `taxii`.
    format: String,
    /// An http(s) URL or a file path on the server; TAXII: the
    /// collection's URL.
    location: String,
    /// Default true.
    #[serde(default)]
    enabled: Option<bool>,
    /// Seconds between syncs (at least 60); default 3600.
    #[serde(default)]
    interval_secs: Option<i64>,
    /// 0–100.
    #[serde(default)]
    default_confidence: Option<u8>,
    /// `TLP:CLEAR` … `TLP:RED`.
    #[serde(default)]
    default_tlp: Option<String>,
    /// `none` (default), `basic` (secret `user:password`) or `bearer`.
    #[serde(default)]
    auth: Option<String>,
    /// The secret with the credentials (`vigil secret set NAME`).
    #[serde(default)]
    secret: Option<String>,
    /// csv: the column mapping, e.g. `{"delimiter": ",", "header": true,
    /// "value_column": 2, "kind": "url"}` (see `vigil intel feeds add
    /// --help`); checked when the feed syncs.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    csv_mapping: Option<serde_json::Value>,
}

/// Configured feeds with their health.
#[utoipa::path(
    get,
    path = "/api/v1/intel/feeds",
    tag = "feeds",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The feeds", body = FeedList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_feeds(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<FeedList>, AppError> {
    let feeds = state
        .timed("list_feed_infos", state.store.list_feed_infos(p.tenant))
        .await?;
    Ok(Json(FeedList {
        items: feeds.iter().map(FeedDto::from).collect(),
    }))
}

/// Creates or replaces a feed and schedules it (a new enabled feed syncs
/// within seconds).
#[utoipa::path(
    post,
    path = "/api/v1/intel/feeds",
    tag = "feeds",
    request_body = FeedInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The stored feed", body = FeedDto),
        (status = 400, description = "Invalid feed (the reason names the field)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_feed(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<FeedInput>,
) -> Result<(StatusCode, Json<FeedDto>), AppError> {
    let f = FeedConfig {
        name: input.name,
        format: input.format,
        location: input.location,
        enabled: input.enabled.unwrap_or(true),
        interval_secs: input.interval_secs.unwrap_or(3600),
        default_confidence: input.default_confidence,
        default_tlp: input.default_tlp,
        auth: input.auth.unwrap_or_else(|| "none".into()),
        secret: input.secret,
        options: input.csv_mapping,
    };
    let info = store_feed(&state, &p, &f).await?;
    Ok((StatusCode::CREATED, Json(FeedDto::from(&info))))
}

/// Validates, stores and schedules a feed (created or replaced by name);
/// the console's settings form calls this too.
pub(crate) async fn store_feed(
    state: &AppState,
    p: &vigil_model::Principal,
    f: &FeedConfig,
) -> Result<FeedInfo, AppError> {
    f.validate().map_err(AppError::bad_request)?;
    let tenant = p.tenant;
    let now = state.clock.now();
    state.store.put_feed(tenant, f, now).await?;
    state.store.schedule_feed(tenant, f, now).await?;
    state
        .store
        .audit(&vigil_store::NewAudit {
            tenant,
            principal: p,
            action: "feed.put",
            target: &format!("feed:{}", f.name),
            details: serde_json::json!({
                "format": f.format, "location": f.location, "enabled": f.enabled,
            }),
            at: now,
        })
        .await?;
    state
        .store
        .get_feed(tenant, &f.name)
        .await?
        .ok_or_else(|| AppError::internal("feed vanished after put"))
}

/// Removes a feed and turns its sync job off, or 404.
pub(crate) async fn remove_feed(
    state: &AppState,
    p: &vigil_model::Principal,
    name: &str,
) -> Result<(), AppError> {
    if !state.store.delete_feed(p.tenant, name).await? {
        return Err(AppError::not_found(format!("no feed {name:?}")));
    }
    let now = state.clock.now();
    state
        .store
        .set_job_enabled(&feed_job_name(name), false, now)
        .await?;
    state
        .store
        .audit(&vigil_store::NewAudit::new(
            p.tenant,
            p,
            "feed.delete",
            &format!("feed:{name}"),
            serde_json::json!({}),
            now,
        ))
        .await?;
    Ok(())
}

/// One feed.
#[utoipa::path(
    get,
    path = "/api/v1/intel/feeds/{name}",
    tag = "feeds",
    params(("name" = String, Path, description = "Feed name")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The feed", body = FeedDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_feed(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<FeedDto>, AppError> {
    let f = state
        .store
        .get_feed(p.tenant, &name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no feed {name:?}")))?;
    Ok(Json(FeedDto::from(&f)))
}

/// Removes a feed and its schedule; its indicators stay.
#[utoipa::path(
    delete,
    path = "/api/v1/intel/feeds/{name}",
    tag = "feeds",
    params(("name" = String, Path, description = "Feed name")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_feed(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    remove_feed(&state, &p, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes an enabled feed's sync due now; the scheduler runs it within
/// seconds and the feed's health shows the outcome.
#[utoipa::path(
    post,
    path = "/api/v1/intel/feeds/{name}/sync",
    tag = "feeds",
    params(("name" = String, Path, description = "Feed name")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 202, description = "The sync is due", body = FeedDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The feed is disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sync_feed(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(name): ApiPath<String>,
) -> Result<(StatusCode, Json<FeedDto>), AppError> {
    let f = request_sync(&state, p.tenant, &name).await?;
    Ok((StatusCode::ACCEPTED, Json(FeedDto::from(&f))))
}

/// Makes feed `name`'s sync due now (scheduling it first when it has no
/// job yet); shared by the API and the console's "sync now" form. 404 for
/// an unknown feed, 409 for a disabled one.
pub(crate) async fn request_sync(
    state: &AppState,
    tenant: vigil_model::TenantId,
    name: &str,
) -> Result<FeedInfo, AppError> {
    let f = state
        .store
        .get_feed(tenant, name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no feed {name:?}")))?;
    if !f.config.enabled {
        return Err(AppError::new(
            crate::error::ErrorKind::Conflict,
            format!("feed {name:?} is disabled"),
        ));
    }
    let now = state.clock.now();
    if !state.store.run_job_soon(&feed_job_name(name), now).await? {
        // A feed configured before it had a job (or by `intel import`).
        state.store.schedule_feed(tenant, &f.config, now).await?;
        state.store.run_job_soon(&feed_job_name(name), now).await?;
    }
    Ok(f)
}

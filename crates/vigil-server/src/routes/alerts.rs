//! `/api/v1/alerts`: list (filtered, cursor-paged) and fetch alerts of the
//! caller's tenant.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vigil_model::{AlertId, Timestamp};
use vigil_store::{AlertCursor, AlertQuery, SortOrder};

use crate::auth::Auth;
use crate::dto::{AlertDto, AlertPage, SeverityDto};
use crate::error::{ApiPath, ApiQuery, AppError, Problem};
use crate::routes::{MAX_LIMIT, page_limit};
use crate::state::AppState;

/// Sort order by creation time.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// Filters and paging for the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertParams {
    /// Page size, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only alerts at least this severe.
    min_severity: Option<SeverityDto>,
    /// Only alerts of this detector.
    detector: Option<String>,
    /// Only alerts of this rule.
    rule_id: Option<String>,
    /// Only alerts created at or after this time (RFC 3339).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Only alerts created before this time (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Sort order by creation time; by default, newest first.
    #[param(inline)]
    order: Option<Order>,
}

fn time_param(name: &str, v: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    v.map(|s| {
        Timestamp::parse_rfc3339(s)
            .ok_or_else(|| AppError::bad_request(format!("{name}: {s:?} is not an RFC 3339 time")))
    })
    .transpose()
}

/// How many rows to ask the store for: one more than the page, within the
/// store's maximum (the same as ours).
fn fetch_limit(limit: u32) -> u32 {
    (limit + 1).min(MAX_LIMIT)
}

impl AlertParams {
    /// The store query for the caller's tenant; asks for one extra row to
    /// know whether there is a next page.
    fn to_query(&self, auth: &Auth) -> Result<(AlertQuery, u32), AppError> {
        let limit = page_limit(self.limit)?;
        let cursor = match &self.cursor {
            Some(c) => Some(
                AlertCursor::decode(c)
                    .map_err(|_| AppError::bad_request("cursor: not a cursor from this API"))?,
            ),
            None => None,
        };
        let q = AlertQuery {
            tenant: auth.0.tenant,
            min_severity: self.min_severity.map(Into::into),
            detector: self.detector.clone(),
            rule_id: self.rule_id.clone(),
            since: time_param("since", self.since.as_deref())?,
            until: time_param("until", self.until.as_deref())?,
            limit: fetch_limit(limit),
            cursor,
            order: match self.order.unwrap_or_default() {
                Order::Asc => SortOrder::Asc,
                Order::Desc => SortOrder::Desc,
            },
        };
        Ok((q, limit))
    }
}

/// Alerts of the caller's tenant, filtered and paged.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "alerts",
    params(AlertParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of alerts", body = AlertPage),
        (status = 400, description = "A query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_alerts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<AlertParams>,
) -> Result<Json<AlertPage>, AppError> {
    let (query, limit) = params.to_query(&auth)?;
    let mut alerts = state
        .timed("list_alerts", state.store.list_alerts(&query))
        .await?;
    // One extra row tells whether a next page exists; at the maximum page
    // size the store returns no extra row, so a full page gets a cursor
    // (whose page may be empty).
    let more = alerts.len() > limit as usize
        || (fetch_limit(limit) == limit && alerts.len() == limit as usize);
    alerts.truncate(limit as usize);
    let next_cursor = match alerts.last() {
        Some(a) if more => Some(
            AlertCursor {
                created_at: a.created_at,
                id: a.id,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(Json(AlertPage {
        items: alerts.iter().map(AlertDto::from).collect(),
        next_cursor,
    }))
}

/// One alert of the caller's tenant.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/{id}",
    tag = "alerts",
    params(("id" = String, Path, description = "Alert id (UUID)")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The alert", body = AlertDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert in the caller's tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_alert(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AlertDto>, AppError> {
    let not_found = || AppError::not_found(format!("no alert {id:?}"));
    let alert_id: AlertId = id.parse().map_err(|_| not_found())?;
    match state
        .timed("get_alert", state.store.get_alert(p.tenant, alert_id))
        .await?
    {
        Some(a) => Ok(Json(AlertDto::from(&a))),
        None => Err(not_found()),
    }
}

/// An entity two alerts share.
#[derive(Debug, serde::Serialize, ToSchema)]
pub(crate) struct SharedEntity {
    /// host, user, source_ip, destination_ip, process, file_hash, domain.
    kind: String,
    value: String,
}

/// An alert sharing entities with the one asked about.
#[derive(Debug, serde::Serialize, ToSchema)]
pub(crate) struct RelatedAlertDto {
    alert: AlertDto,
    /// What it shares with the alert asked about.
    shared: Vec<SharedEntity>,
}

/// Alerts related to one alert, newest first.
#[derive(Debug, serde::Serialize, ToSchema)]
pub(crate) struct RelatedAlerts {
    items: Vec<RelatedAlertDto>,
}

/// Related-alert paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RelatedParams {
    /// At most this many, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Alerts that share an entity (host, user, source or destination IP,
/// process, file hash, domain) with one alert, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/{id}/related",
    tag = "alerts",
    params(("id" = String, Path, description = "Alert id (UUID)"), RelatedParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The related alerts", body = RelatedAlerts),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert in the caller's tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn related_alerts(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RelatedParams>,
) -> Result<Json<RelatedAlerts>, AppError> {
    let not_found = || AppError::not_found(format!("no alert {id:?}"));
    let alert_id: AlertId = id.parse().map_err(|_| not_found())?;
    let limit = page_limit(q.limit)?;
    // The index follows the change feed; bring it up to date first (the
    // server's runner does it every few seconds anyway).
    if let Err(e) = state.store.catch_up_alert_entities(state.clock.now()).await {
        tracing::warn!(error = %e, "alert entity index");
    }
    let related = state
        .timed(
            "related_alerts",
            state.store.related_alerts(p.tenant, alert_id, limit),
        )
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(RelatedAlerts {
        items: related
            .iter()
            .map(|r| RelatedAlertDto {
                alert: AlertDto::from(&r.alert),
                shared: r
                    .shared
                    .iter()
                    .map(|(kind, value)| SharedEntity {
                        kind: kind.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }))
}

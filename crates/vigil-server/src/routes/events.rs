//! `/api/v1/events`: recent stored events of the caller's tenant, newest
//! first.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::dto::{EventDto, EventPage};
use crate::error::{ApiQuery, AppError, Problem};
use crate::routes::page_limit;
use crate::state::AppState;

/// Paging for the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventParams {
    /// Page size, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only events older than this sequence number (the previous page's
    /// `next_before`).
    before: Option<i64>,
}

/// Recent events, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    params(EventParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "A query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(params): ApiQuery<EventParams>,
) -> Result<Json<EventPage>, AppError> {
    let limit = page_limit(params.limit)?;
    let mut events = state
        .timed(
            "list_events",
            state.store.list_events(p.tenant, limit + 1, params.before),
        )
        .await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_before = events.last().filter(|_| more).map(|e| e.seq);
    Ok(Json(EventPage {
        items: events.iter().map(EventDto::from).collect(),
        next_before,
    }))
}

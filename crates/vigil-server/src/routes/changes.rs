//! `/api/v1/changes`: the change feed of the caller's tenant, for
//! replication and UI refresh.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::dto::{ChangeDto, ChangePage};
use crate::error::{ApiQuery, AppError, Problem};
use crate::routes::page_limit;
use crate::state::AppState;

/// Paging for the change feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangeParams {
    /// Only changes after this sequence number; by default, from the start.
    after: Option<i64>,
    /// How many feed entries to read, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Changes after `after`, oldest first. The feed is shared by all tenants;
/// other tenants' entries are skipped but still advance `next_after`.
#[utoipa::path(
    get,
    path = "/api/v1/changes",
    tag = "changes",
    params(ChangeParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of changes", body = ChangePage),
        (status = 400, description = "A query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_changes(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(params): ApiQuery<ChangeParams>,
) -> Result<Json<ChangePage>, AppError> {
    let limit = page_limit(params.limit)?;
    let after = params.after.unwrap_or(0);
    let changes = state
        .timed("changes_after", state.store.changes_after(after, limit))
        .await?;
    let next_after = changes.last().map(|c| c.seq);
    let items = changes
        .iter()
        .filter(|c| c.tenant == p.tenant)
        .map(ChangeDto::from)
        .collect();
    Ok(Json(ChangePage { items, next_after }))
}

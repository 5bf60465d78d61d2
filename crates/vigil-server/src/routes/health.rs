//! Liveness and readiness probes; the only routes without authentication.

use axum::Json;
use axum::extract::State;

use crate::dto::HealthDto;
use crate::error::{AppError, Problem};
use crate::state::AppState;

/// Liveness: answers while the process runs. Touches nothing.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "The process is running", body = HealthDto))
)]
pub(crate) async fn healthz() -> Json<HealthDto> {
    Json(HealthDto {
        status: "ok".to_owned(),
    })
}

/// Readiness: answers 200 when the store answers a ping.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "The store is reachable", body = HealthDto),
        (status = 503, description = "The store is not reachable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<HealthDto>, AppError> {
    let ping = state.timed("ping", state.store.ping());
    match tokio::time::timeout(state.config.ready_timeout, ping).await {
        Ok(Ok(_)) => Ok(Json(HealthDto {
            status: "ok".to_owned(),
        })),
        Ok(Err(e)) => Err(AppError::unavailable("the store is not reachable").with_cause(e)),
        Err(_) => Err(AppError::unavailable("the store did not answer in time")),
    }
}

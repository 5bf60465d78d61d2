//! `/metrics`: the pipeline's and the server's metrics in OpenMetrics text.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, Problem};
use crate::state::AppState;

/// The OpenMetrics text media type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus scrape endpoint.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Metrics in OpenMetrics text format", body = String, content_type = "application/openmetrics-text"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let mut buf = String::with_capacity(16 * 1024);
    prometheus_client::encoding::text::encode(&mut buf, &state.inner.registry)
        .map_err(AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], buf).into_response())
}

//! `/api/v1/audit`: the tamper-evident audit log and its verification.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::dto::{AuditEntryDto, AuditPage, AuditVerificationDto};
use crate::error::{ApiQuery, AppError, Problem};
use crate::routes::page_limit;
use crate::state::AppState;

/// Paging for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Only entries after this sequence number; by default, from the start.
    after: Option<i64>,
    /// Page size, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Audit entries of the caller's tenant, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = AuditPage),
        (status = 400, description = "A query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, AppError> {
    let limit = page_limit(params.limit)?;
    let after = params.after.unwrap_or(0);
    let entries = state
        .timed("list_audit", state.store.list_audit(p.tenant, after, limit))
        .await?;
    let next_after = entries.last().map(|e| e.seq);
    Ok(Json(AuditPage {
        items: entries.iter().map(AuditEntryDto::from).collect(),
        next_after,
    }))
}

/// Re-checks the whole audit hash chain.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "audit",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The verification result", body = AuditVerificationDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
) -> Result<Json<AuditVerificationDto>, AppError> {
    let v = state
        .timed("verify_audit", state.store.verify_audit())
        .await?;
    Ok(Json(AuditVerificationDto::from(&v)))
}

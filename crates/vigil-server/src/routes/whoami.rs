//! `/api/v1/whoami`: the caller's principal.

use axum::Json;

use crate::auth::Auth;
use crate::dto::WhoamiDto;
use crate::error::Problem;

/// The principal behind the presented token.
#[utoipa::path(
    get,
    path = "/api/v1/whoami",
    tag = "auth",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The caller", body = WhoamiDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn whoami(Auth(p): Auth) -> Json<WhoamiDto> {
    Json(WhoamiDto::from(&p))
}

//! `/api/v1/attack/techniques/{id}`: an ATT&CK technique from the stored
//! ATT&CK objects (`vigil attack import`), with its tactics, the groups
//! and software that use it, its mitigations and data components, and the
//! Sigma rules in the store that detect it (by `attack.tNNNN` tags).

use axum::Json;
use axum::extract::State;

use crate::attack::{TechniqueDto, technique};
use crate::auth::Auth;
use crate::error::{ApiPath, AppError, Problem};
use crate::state::AppState;

/// A technique with its context.
#[utoipa::path(
    get,
    path = "/api/v1/attack/techniques/{id}",
    tag = "attack",
    params(("id" = String, Path, description = "Technique id (`T1059`, `T1059.001`) or STIX id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The technique (a revoked id answers with its replacement)", body = TechniqueDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such technique is stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_technique(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TechniqueDto>, AppError> {
    let rules = state
        .timed("list_rules", state.store.list_rules(p.tenant))
        .await?;
    let Some(t) = state
        .timed(
            "attack_technique",
            technique(&state.store, p.tenant, &id, &rules),
        )
        .await?
    else {
        return Err(AppError::not_found(format!(
            "no technique {id:?} is stored (load ATT&CK with `vigil attack import`)"
        )));
    };
    Ok(Json(t))
}

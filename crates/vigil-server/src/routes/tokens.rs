//! `/api/v1/tokens`: list, create and revoke API tokens of the caller's
//! tenant. The store writes the audit entries.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use vigil_model::{Principal, Timestamp};

use crate::auth::Auth;
use crate::dto::{CreateToken, CreatedToken, TokenDto, TokenList};
use crate::error::{ApiJson, ApiPath, AppError, Problem};
use crate::state::AppState;

/// The longest token name accepted, in characters.
const MAX_NAME_CHARS: usize = 100;

/// Tokens of the caller's tenant; never their secrets or hashes.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The tokens", body = TokenList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<TokenList>, AppError> {
    let tokens = state
        .timed("list_tokens", state.store.list_tokens(p.tenant))
        .await?;
    Ok(Json(TokenList {
        items: tokens.iter().map(TokenDto::from).collect(),
    }))
}

fn validate(req: &CreateToken, now: Timestamp) -> Result<(String, Option<Timestamp>), AppError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_request(format!(
            "name: must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "name: must not contain control characters",
        ));
    }
    let expires_at = match req.expires_at.as_deref() {
        None => None,
        Some(s) => {
            let t = Timestamp::parse_rfc3339(s).ok_or_else(|| {
                AppError::bad_request(format!("expires_at: {s:?} is not an RFC 3339 time"))
            })?;
            if t <= now {
                return Err(AppError::bad_request("expires_at: must be in the future"));
            }
            Some(t)
        }
    };
    Ok((name.to_owned(), expires_at))
}

/// Creates a token (audited by the store): its record and plaintext. The
/// console's settings form calls this too.
pub(crate) async fn create(
    state: &AppState,
    p: &Principal,
    req: &CreateToken,
) -> Result<(vigil_store::TokenRecord, String), AppError> {
    let now = state.clock.now();
    let (name, expires_at) = validate(req, now)?;
    Ok(state
        .timed(
            "create_token",
            state
                .store
                .create_token(p.tenant, &name, req.role.into(), expires_at, p, now),
        )
        .await?)
}

/// Revokes an active token of the caller's tenant (audited), or 404.
pub(crate) async fn revoke(state: &AppState, p: &Principal, id: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    if state
        .timed(
            "revoke_token",
            state.store.revoke_token(p.tenant, id, p, now),
        )
        .await?
    {
        Ok(())
    } else {
        Err(AppError::not_found(format!("no active token {id:?}")))
    }
}

/// Creates a token. Its plaintext is in the answer and never shown again.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    request_body = CreateToken,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The new token, with its plaintext", body = CreatedToken),
        (status = 400, description = "The request body is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A token with this name already exists", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<
    (
        StatusCode,
        [(HeaderName, &'static str); 1],
        Json<CreatedToken>,
    ),
    AppError,
> {
    let (record, token) = create(&state, &p, &req).await?;
    // The body holds a secret: no cache may keep it.
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(CreatedToken {
            token,
            record: TokenDto::from(&record),
        }),
    ))
}

/// Revokes a token of the caller's tenant; effective at once.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "Token id (16 hex digits)")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such active token in the caller's tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    revoke(&state, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::RoleDto;

    fn check(name: &str, expires_at: Option<&str>, expect_err: Option<&str>) {
        let req = CreateToken {
            name: name.to_owned(),
            role: RoleDto::Viewer,
            expires_at: expires_at.map(str::to_owned),
        };
        let got = validate(&req, Timestamp::from_secs(1_700_000_000))
            .err()
            .map(|e| e.to_string());
        match (got, expect_err) {
            (None, None) => {}
            (Some(g), Some(e)) => assert!(g.contains(e), "{g}"),
            (g, e) => panic!("{name:?}: got {g:?}, want {e:?}"),
        }
    }

    #[test]
    fn validates_name_and_expiry() {
        check("ci", None, None);
        check("ci", Some("2100-01-01T00:00:00Z"), None);
        check("  ", None, Some("name"));
        check(&"x".repeat(101), None, Some("name"));
        check("a\nb", None, Some("control"));
        check("ci", Some("yesterday"), Some("expires_at"));
        check("ci", Some("2000-01-01T00:00:00Z"), Some("future"));
    }
}

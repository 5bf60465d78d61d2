//! `/api/v1/users`: the people who sign in to the console — list, create
//! (role and initial password, argon2id in the store), change role,
//! disable or enable, reset the password. The store audits every change
//! (`user.create`, `user.role`, `user.disable`, `user.enable`,
//! `user.password`) and refuses to leave a tenant without an enabled
//! admin. The console's settings forms call the same [`create`] and
//! [`change`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_model::{Principal, Role};
use vigil_store::{UserAccess, UserRecord};

use crate::auth::Auth;
use crate::dto::RoleDto;
use crate::error::{ApiJson, ApiPath, AppError, ErrorKind, Problem};
use crate::state::AppState;

/// A console user (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserDto {
    /// Id (UUID).
    id: String,
    /// Sign-in name.
    username: String,
    /// admin, analyst or viewer.
    role: RoleDto,
    /// Created (RFC 3339).
    #[schema(format = DateTime)]
    created_at: String,
    /// Who created it.
    created_by: String,
    /// When the password was last set (RFC 3339).
    #[schema(format = DateTime)]
    password_set_at: String,
    /// Last successful sign-in (RFC 3339).
    #[schema(format = DateTime)]
    last_login_at: Option<String>,
    /// Disabled users cannot sign in.
    disabled: bool,
    /// When it was disabled (RFC 3339).
    #[schema(format = DateTime)]
    disabled_at: Option<String>,
    /// Locked out after failed sign-ins, until this time (RFC 3339).
    #[schema(format = DateTime)]
    locked_until: Option<String>,
}

impl From<&UserRecord> for UserDto {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            role: u.role.into(),
            created_at: u.created_at.to_rfc3339(),
            created_by: u.created_by.clone(),
            password_set_at: u.password_set_at.to_rfc3339(),
            last_login_at: u.last_login_at.map(|t| t.to_rfc3339()),
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at.map(|t| t.to_rfc3339()),
            locked_until: u.locked_until.map(|t| t.to_rfc3339()),
        }
    }
}

/// A list of users.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserList {
    /// The users, by name.
    items: Vec<UserDto>,
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    /// 1–64 letters, digits, `.`, `_`, `-`, `@`.
    username: String,
    /// admin, analyst or viewer (ingest and feed are for tokens).
    role: RoleDto,
    /// The initial password (12–1024 characters).
    password: String,
}

/// A change of a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatch {
    /// The new role (admin, analyst or viewer).
    #[serde(default)]
    role: Option<RoleDto>,
    /// Disable (`true`) or enable (`false`).
    #[serde(default)]
    disabled: Option<bool>,
    /// A new password (12–1024 characters); ends the user's sessions.
    #[serde(default)]
    password: Option<String>,
}

/// The store's refusals with their reasons (the last-admin guard is a
/// conflict that must say why).
fn store_error(e: vigil_store::Error) -> AppError {
    match e {
        vigil_store::Error::Conflict {
            msg,
            op: "change_user_access",
        } => AppError::new(ErrorKind::Conflict, msg),
        vigil_store::Error::Conflict { .. } => {
            AppError::new(ErrorKind::Conflict, "a user with this name already exists")
        }
        vigil_store::Error::NotFound(what) => AppError::not_found(format!("no {what}")),
        other => other.into(),
    }
}

/// Creates a user (audited `user.create`).
pub(crate) async fn create(
    state: &AppState,
    p: &Principal,
    username: &str,
    role: Role,
    password: &str,
) -> Result<UserRecord, AppError> {
    state
        .store
        .create_user(
            p.tenant,
            username.trim(),
            role,
            password,
            p,
            state.clock.now(),
        )
        .await
        .map_err(store_error)
}

/// Changes a user of the caller's tenant: role and disabled state (one
/// transaction with the last-admin guard), then the password.
pub(crate) async fn change(
    state: &AppState,
    p: &Principal,
    id: &str,
    access: UserAccess,
    password: Option<&str>,
) -> Result<UserRecord, AppError> {
    let now = state.clock.now();
    if let Some(pw) = password {
        vigil_store::check_password(pw).map_err(AppError::bad_request)?;
    }
    let mut user = state
        .store
        .change_user_access(p.tenant, id, &access, p, now)
        .await
        .map_err(store_error)?;
    if let Some(pw) = password {
        user = state
            .store
            .set_user_password(&user.username, pw, p, now)
            .await
            .map_err(store_error)?;
    }
    Ok(user)
}

/// The users of the caller's tenant, by name.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The users", body = UserList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<UserList>, AppError> {
    let users = state
        .timed("list_users", state.store.list_users(p.tenant))
        .await?;
    Ok(Json(UserList {
        items: users.iter().map(UserDto::from).collect(),
    }))
}

/// Creates a console user with a role and an initial password (argon2id).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The new user", body = UserDto),
        (status = 400, description = "Invalid name, machine role or short password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserDto>), AppError> {
    let u = create(&state, &p, &req.username, req.role.into(), &req.password).await?;
    Ok((StatusCode::CREATED, Json(UserDto::from(&u))))
}

/// Changes a user's role, disables or enables it, or resets its password
/// (each change ends the user's sessions and is audited). The last enabled
/// admin of a tenant can be neither demoted nor disabled.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = String, Path, description = "User id")),
    request_body = UserPatch,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The user after the change", body = UserDto),
        (status = 400, description = "Machine role or short password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The change would leave no enabled admin", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn patch_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UserPatch>,
) -> Result<Json<UserDto>, AppError> {
    let access = UserAccess {
        role: req.role.map(Into::into),
        disabled: req.disabled,
    };
    let u = change(&state, &p, &id, access, req.password.as_deref()).await?;
    Ok(Json(UserDto::from(&u)))
}

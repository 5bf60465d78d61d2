//! One error type for every handler, rendered as RFC 9457 problem details.
//!
//! [`AppError`] carries a [`ErrorKind`]; one table maps kinds to status
//! codes and titles. Internal causes travel in a response extension so the
//! [`finalize`] middleware logs them once, with the request path, and never
//! puts them in the body. The same middleware turns every other error
//! response (axum's own rejections, 404, 405, 413) into problem details and
//! fills in `instance`.

use std::fmt;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of problem details.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// The value of `WWW-Authenticate` on every 401.
pub(crate) const CHALLENGES: [&str; 2] = ["Bearer realm=\"vigil\"", "Basic realm=\"vigil\""];

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// What kind of failure an [`AppError`] is; decides the status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// The kind → (status, slug, title) table.
    const fn describe(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ErrorKind::BadRequest => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            ErrorKind::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid credentials",
            ),
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Role not allowed"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ErrorKind::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ErrorKind::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            ErrorKind::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ErrorKind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ErrorKind::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The kind for an error status produced outside our handlers.
    pub(crate) fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
            StatusCode::FORBIDDEN => ErrorKind::Forbidden,
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorKind::MethodNotAllowed,
            StatusCode::CONFLICT => ErrorKind::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => ErrorKind::Unavailable,
            s if s.is_server_error() => ErrorKind::Internal,
            _ => ErrorKind::BadRequest,
        }
    }

    pub(crate) const fn status(self) -> StatusCode {
        self.describe().0
    }
}

/// A failed request: a kind, a detail safe to show, and an internal cause
/// that is only logged.
#[derive(Debug)]
pub(crate) struct AppError {
    kind: ErrorKind,
    detail: Option<String>,
    internal: Option<String>,
}

impl AppError {
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: Some(detail.into()),
            internal: None,
        }
    }

    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, detail)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized, "a valid API token is required")
    }

    pub(crate) fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "the token's role may not call this route",
        )
    }

    pub(crate) fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, detail)
    }

    /// An internal failure: the cause is logged, the client sees a generic
    /// detail.
    pub(crate) fn internal(cause: impl fmt::Display) -> Self {
        Self {
            kind: ErrorKind::Internal,
            detail: None,
            internal: Some(cause.to_string()),
        }
    }

    /// Attaches an internal cause (logged, never shown) to any kind.
    pub(crate) fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.internal = Some(cause.to_string());
        self
    }

    pub(crate) fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (_, _, title) = self.kind.describe();
        match &self.detail {
            Some(d) => write!(f, "{title}: {d}"),
            None => f.write_str(title),
        }
    }
}

impl From<vigil_store::Error> for AppError {
    fn from(e: vigil_store::Error) -> Self {
        match e {
            vigil_store::Error::NotFound(_) => AppError::not_found("no such object"),
            vigil_store::Error::Invalid(msg) => AppError::bad_request(msg),
            vigil_store::Error::Conflict { .. } => {
                AppError::new(ErrorKind::Conflict, "the object already exists")
            }
            other => AppError::internal(other),
        }
    }
}

/// An internal cause carried from [`AppError`] to [`finalize`] for logging.
#[derive(Debug, Clone)]
struct InternalCause(String);

fn problem(kind: ErrorKind, detail: Option<String>) -> Problem {
    let (status, slug, title) = kind.describe();
    Problem {
        type_: format!("urn:vigil:problem:{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        instance: None,
    }
}

fn render(status: StatusCode, p: &Problem) -> Response {
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        for c in CHALLENGES {
            res.headers_mut()
                .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
    }
    res
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let detail = match (self.kind, self.detail) {
            (ErrorKind::Internal, _) => {
                Some("the server failed to handle the request; see its log".to_owned())
            }
            (_, d) => d,
        };
        let p = problem(self.kind, detail);
        let mut res = render(self.kind.status(), &p);
        res.extensions_mut().insert(p);
        if let Some(cause) = self.internal {
            res.extensions_mut().insert(InternalCause(cause));
        }
        res
    }
}

/// The outermost middleware: fills `instance` into problem details, turns
/// any other error response into problem details, and logs internal causes
/// once.
pub(crate) async fn finalize(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let status = res.status();
    let (mut parts, body) = res.into_parts();
    if let Some(InternalCause(cause)) = parts.extensions.remove::<InternalCause>() {
        tracing::error!(error = %cause, path, status = status.as_u16(), "request failed");
    }
    if parts
        .extensions
        .get::<crate::routes::hec::HecBody>()
        .is_some()
    {
        // Splunk HEC answers keep HEC's JSON shape.
        return Response::from_parts(parts, body);
    }
    if parts
        .extensions
        .get::<crate::routes::taxii::TaxiiBody>()
        .is_some()
        || parts
            .extensions
            .get::<crate::console::ConsoleBody>()
            .is_some()
    {
        return Response::from_parts(parts, body);
    }
    if path.starts_with(crate::routes::taxii::PREFIX)
        && (status.is_client_error() || status.is_server_error())
    {
        // TAXII clients get TAXII error messages, also for refusals by the
        // authorization layer and axum's own rejections.
        let (title, detail) = match parts.extensions.remove::<Problem>() {
            Some(p) => (p.title, p.detail),
            None => {
                let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
                let text = String::from_utf8_lossy(&text).trim().to_owned();
                let (_, _, title) = ErrorKind::from_status(status).describe();
                (title.to_owned(), (!text.is_empty()).then_some(text))
            }
        };
        let mut res = crate::routes::taxii::error_response(status, &title, detail);
        if let Some(allow) = parts.headers.get(header::ALLOW) {
            res.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return res;
    }
    if let Some(mut p) = parts.extensions.remove::<Problem>() {
        p.instance = Some(path);
        return rerender(parts, &p);
    }
    let is_problem = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Response::from_parts(parts, body);
    }
    // An error from axum or a tower layer: its text body (if any) names the
    // offending parameter, so keep it as the detail for client errors.
    let kind = ErrorKind::from_status(status);
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let detail = match kind {
        ErrorKind::Internal | ErrorKind::Unavailable => None,
        ErrorKind::NotFound if text.is_empty() => Some(format!("no route for {path}")),
        ErrorKind::MethodNotAllowed if text.is_empty() => {
            Some(format!("method not allowed on {path}"))
        }
        _ if text.is_empty() => None,
        _ => Some(text),
    };
    let mut p = problem(kind, detail);
    p.status = status.as_u16();
    p.instance = Some(path);
    rerender(parts, &p)
}

fn rerender(mut parts: axum::http::response::Parts, p: &Problem) -> Response {
    let body = serde_json::to_vec(p).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    if parts.status == StatusCode::UNAUTHORIZED
        && !parts.headers.contains_key(header::WWW_AUTHENTICATE)
    {
        for c in CHALLENGES {
            parts
                .headers
                .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
    }
    Response::from_parts(parts, Body::from(body))
}

/// The fallback for unknown routes.
pub(crate) async fn not_found(req: Request) -> AppError {
    AppError::not_found(format!("no route for {}", req.uri().path()))
}

/// `axum::Json` whose rejection is a problem-details 400/413/415.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => {
                let kind = ErrorKind::from_status(rej.status());
                Err(AppError::new(kind, rej.body_text()))
            }
        }
    }
}

/// `axum::extract::Query` whose rejection is a problem-details 400 naming
/// the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|rej| AppError::bad_request(rej.body_text()))
    }
}

/// `axum::extract::Path` whose rejection is a problem-details 400.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(rej) => {
                let kind = ErrorKind::from_status(rej.status());
                Err(AppError::new(kind, rej.body_text()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(err: AppError, status: u16, slug: &str, detail: Option<&str>) {
        let res = err.into_response();
        assert_eq!(res.status().as_u16(), status);
        assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let p = res
            .extensions()
            .get::<Problem>()
            .cloned()
            .unwrap_or_else(|| panic!("no problem"));
        assert_eq!(p.status, status);
        assert_eq!(p.type_, format!("urn:vigil:problem:{slug}"));
        assert_eq!(p.detail.as_deref(), detail);
    }

    #[test]
    fn kinds_map_to_statuses_and_hide_internals() {
        check(
            AppError::bad_request("limit: too big"),
            400,
            "bad-request",
            Some("limit: too big"),
        );
        check(
            AppError::not_found("no alert"),
            404,
            "not-found",
            Some("no alert"),
        );
        check(
            AppError::forbidden(),
            403,
            "forbidden",
            Some("the token's role may not call this route"),
        );
        let res = AppError::internal("db password is hunter2").into_response();
        let p = res.extensions().get::<Problem>().cloned();
        assert!(p.is_some_and(|p| !p.detail.unwrap_or_default().contains("hunter2")));
        assert!(res.extensions().get::<InternalCause>().is_some());
    }

    #[test]
    fn unauthorized_carries_both_challenges() {
        let res = AppError::unauthorized().into_response();
        let v: Vec<_> = res
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(v, CHALLENGES);
    }

    #[test]
    fn store_errors_map_to_kinds() {
        let not_found = vigil_store::Error::NotFound("get_alert".into());
        assert_eq!(AppError::from(not_found).kind(), ErrorKind::NotFound);
        let conflict = vigil_store::Error::Conflict {
            op: "create_token",
            msg: "UNIQUE".into(),
        };
        assert_eq!(AppError::from(conflict).kind(), ErrorKind::Conflict);
        assert_eq!(
            AppError::from(vigil_store::Error::Invalid("x".into())).kind(),
            ErrorKind::BadRequest
        );
    }
}

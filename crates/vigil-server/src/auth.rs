//! Authentication and authorization.
//!
//! Tokens look like `vgl_<16 hex id>_<secret>` and arrive as
//! `Authorization: Bearer <token>`, as HTTP Basic with the token as the
//! password (TAXII clients and firewall feed fetchers speak Basic), or as
//! `Authorization: Splunk <token>` (HEC routes only; see
//! [`crate::RouteRule::schemes`]).
//!
//! Every request looks the token up in the store, so revocation takes effect
//! at once. The secret is checked with argon2 (slow) only the first time: a
//! cache keyed by SHA-256 of id and secret remembers which stored hash the
//! pair was verified against, so a repeated request costs one SHA-256 and one
//! indexed lookup.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use vigil_model::{Principal, PrincipalKind};

use crate::error::{AppError, ErrorKind};
use crate::roles::{Access, ROUTES, rule_for};
use crate::state::AppState;

/// An `Authorization` scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `Bearer <token>`.
    Bearer,
    /// `Basic base64(user:token)`; the user name is ignored.
    Basic,
    /// `Splunk <token>` (Splunk HEC clients).
    Splunk,
}

/// A token as presented, with the scheme it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) scheme: Scheme,
    pub(crate) token: String,
}

/// Why a request was not authenticated; the label of the auth-failure
/// metric. The client always sees the same 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    Missing,
    Malformed,
    Scheme,
    UnknownToken,
    Inactive,
    BadSecret,
    Role,
}

impl AuthFailure {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Scheme => "scheme",
            AuthFailure::UnknownToken => "unknown_token",
            AuthFailure::Inactive => "inactive",
            AuthFailure::BadSecret => "bad_secret",
            AuthFailure::Role => "role",
        }
    }
}

/// Reads the credentials of a request from its `Authorization` header.
pub(crate) fn parse_authorization(headers: &HeaderMap) -> Result<Credentials, AuthFailure> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthFailure::Missing);
    };
    let value = value.to_str().map_err(|_| AuthFailure::Malformed)?.trim();
    let (scheme, rest) = value.split_once(' ').ok_or(AuthFailure::Malformed)?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(AuthFailure::Malformed);
    }
    let (scheme, token) = if scheme.eq_ignore_ascii_case("bearer") {
        (Scheme::Bearer, rest.to_owned())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| AuthFailure::Malformed)?;
        let decoded = String::from_utf8(decoded).map_err(|_| AuthFailure::Malformed)?;
        let (_user, password) = decoded.split_once(':').ok_or(AuthFailure::Malformed)?;
        (Scheme::Basic, password.to_owned())
    } else if scheme.eq_ignore_ascii_case("splunk") {
        (Scheme::Splunk, rest.to_owned())
    } else {
        return Err(AuthFailure::Scheme);
    };
    if token.is_empty() {
        return Err(AuthFailure::Malformed);
    }
    Ok(Credentials { scheme, token })
}

/// Remembers which (token id, secret) pairs argon2 already accepted, and
/// bounds how many argon2 checks run at once.
#[derive(Debug)]
pub(crate) struct TokenCache {
    verified: Mutex<HashMap<[u8; 32], Arc<str>>>,
    capacity: usize,
    permits: Semaphore,
}

impl TokenCache {
    /// A cache of at most `capacity` pairs (cleared when full) allowing
    /// `parallel` concurrent argon2 checks.
    pub(crate) fn new(capacity: usize, parallel: usize) -> Self {
        Self {
            verified: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            permits: Semaphore::new(parallel.max(1)),
        }
    }

    fn key(id: &str, secret: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(id.as_bytes());
        h.update([0u8]);
        h.update(secret.as_bytes());
        h.finalize().into()
    }

    /// True if this pair was verified against exactly `secret_hash`.
    fn is_verified(&self, key: &[u8; 32], secret_hash: &str) -> bool {
        self.verified
            .lock()
            .get(key)
            .is_some_and(|h| &**h == secret_hash)
    }

    fn remember(&self, key: [u8; 32], secret_hash: &str) {
        let mut m = self.verified.lock();
        if m.len() >= self.capacity && !m.contains_key(&key) {
            m.clear();
        }
        m.insert(key, Arc::from(secret_hash));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.verified.lock().len()
    }
}

/// Turns credentials into a principal. `Ok(Err(_))` is an authentication
/// failure (401); `Err(_)` is a server failure (store down, task panicked).
pub(crate) async fn authenticate(
    state: &AppState,
    creds: &Credentials,
) -> Result<Result<Principal, AuthFailure>, AppError> {
    let Some((id, secret)) = vigil_store::token::split(&creds.token) else {
        return Ok(Err(AuthFailure::Malformed));
    };
    let Some(record) = state.store.find_token(id).await? else {
        return Ok(Err(AuthFailure::UnknownToken));
    };
    if !record.is_active(state.clock.now()) {
        return Ok(Err(AuthFailure::Inactive));
    }
    let cache = &state.inner.tokens;
    let key = TokenCache::key(id, secret);
    if !cache.is_verified(&key, &record.secret_hash) {
        let _permit = cache.permits.acquire().await.map_err(AppError::internal)?;
        state.inner.http.token_verifications.inc();
        let (secret, hash) = (secret.to_owned(), record.secret_hash.clone());
        let ok =
            tokio::task::spawn_blocking(move || vigil_store::token::verify_secret(&secret, &hash))
                .await
                .map_err(AppError::internal)?;
        if !ok {
            return Ok(Err(AuthFailure::BadSecret));
        }
        cache.remember(key, &record.secret_hash);
    }
    Ok(Ok(Principal {
        kind: PrincipalKind::Token,
        id: record.id.to_string(),
        name: record.name.clone(),
        tenant: record.tenant,
        role: record.role,
    }))
}

fn reject(state: &AppState, failure: AuthFailure, path: &str) -> Response {
    state.inner.http.auth_failure(failure);
    tracing::info!(reason = failure.as_str(), path, "request refused");
    if path.starts_with(crate::routes::hec::PREFIX) {
        return crate::routes::hec::HecReply::auth(failure).into_response();
    }
    match failure {
        AuthFailure::Role => AppError::forbidden().into_response(),
        _ => AppError::unauthorized().into_response(),
    }
}

/// Route middleware: looks the matched route up in the route table,
/// authenticates, checks the role and hands the [`Principal`] to the handler
/// as a request extension. Routes missing from the table are refused.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        return AppError::internal("authorize ran without a matched path").into_response();
    };
    let Some(rule) = rule_for(req.method(), &path) else {
        // Axum runs route layers for unsupported methods too (its 405
        // fallback). A method without a row is refused before any handler
        // runs, so a handler added without a row is unreachable, not open.
        return method_not_allowed(&path);
    };
    let Access::Roles(_) = rule.access else {
        return next.run(req).await;
    };
    let creds = match parse_authorization(req.headers()) {
        Ok(c) if rule.schemes.contains(&c.scheme) => c,
        Ok(_) => return reject(&state, AuthFailure::Scheme, &path),
        Err(f) => return reject(&state, f, &path),
    };
    let principal = match authenticate(&state, &creds).await {
        Ok(Ok(p)) => p,
        Ok(Err(f)) => return reject(&state, f, &path),
        Err(e) => return e.into_response(),
    };
    if !rule.access.allows(principal.role) {
        return reject(&state, AuthFailure::Role, &path);
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// 405 with the `Allow` header listing the methods the table has for `path`.
fn method_not_allowed(path: &str) -> Response {
    let allow: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.method.as_str())
        .collect();
    let mut res = AppError::new(
        ErrorKind::MethodNotAllowed,
        format!("method not allowed on {path}"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// The authenticated principal of a request, put there by [`authorize`].
#[derive(Debug, Clone)]
pub(crate) struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Auth)
            .ok_or_else(AppError::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: Option<&str>, expect: Result<(Scheme, &str), AuthFailure>) {
        let mut h = HeaderMap::new();
        if let Some(v) = header {
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        let got = parse_authorization(&h);
        let want = expect.map(|(scheme, token)| Credentials {
            scheme,
            token: token.to_owned(),
        });
        assert_eq!(got, want, "{header:?}");
    }

    #[test]
    fn parses_the_three_schemes() {
        check(
            Some("Bearer vgl_0123456789abcdef_s3cr3t"),
            Ok((Scheme::Bearer, "vgl_0123456789abcdef_s3cr3t")),
        );
        check(Some("bearer   tok "), Ok((Scheme::Bearer, "tok")));
        // "feed:vgl_x_y" and ":tok" in base64: the user name is ignored.
        check(
            Some("Basic ZmVlZDp2Z2xfeF95"),
            Ok((Scheme::Basic, "vgl_x_y")),
        );
        check(Some("Basic OnRvaw=="), Ok((Scheme::Basic, "tok")));
        check(Some("Splunk abc"), Ok((Scheme::Splunk, "abc")));
    }

    #[test]
    fn rejects_missing_and_malformed() {
        check(None, Err(AuthFailure::Missing));
        check(Some("Bearer"), Err(AuthFailure::Malformed));
        check(Some("Bearer "), Err(AuthFailure::Malformed));
        check(Some("Basic !!!"), Err(AuthFailure::Malformed));
        // "user" without a colon.
        check(Some("Basic dXNlcg=="), Err(AuthFailure::Malformed));
        // "user:" with an empty password.
        check(Some("Basic dXNlcjo="), Err(AuthFailure::Malformed));
        check(Some("Digest x"), Err(AuthFailure::Scheme));
    }

    #[test]
    fn cache_is_keyed_by_pair_and_hash_and_bounded() {
        let c = TokenCache::new(2, 1);
        let k = TokenCache::key("id1", "s1");
        assert_ne!(k, TokenCache::key("id1s", "1"));
        assert!(!c.is_verified(&k, "h1"));
        c.remember(k, "h1");
        assert!(c.is_verified(&k, "h1"));
        assert!(
            !c.is_verified(&k, "h2"),
            "a re-hashed token must be verified again"
        );
        c.remember(TokenCache::key("id2", "s"), "h");
        c.remember(TokenCache::key("id3", "s"), "h");
        assert!(c.len() <= 2);
    }
}

//! Signing in and out, the session cookie, CSRF checks, and the per-address
//! and per-user lockouts.
//!
//! - The cookie holds 32 random bytes (base64url); the store keeps only
//!   their SHA-256. `HttpOnly; SameSite=Strict; Path=/`, plus `Secure` when
//!   [`crate::ConsoleConfig::secure_cookies`] is set (TLS in front).
//! - Sessions end after [`crate::ConsoleConfig::session_idle`] without a
//!   request and after [`crate::ConsoleConfig::session_lifetime`] in any
//!   case; disabling a user or changing its password ends its sessions.
//! - A user is locked for [`crate::ConsoleConfig::lockout`] after
//!   `max_user_failures` consecutive wrong passwords (in the store, so every
//!   server sees it); an address after `max_address_failures` failures
//!   within `failure_window` (in memory, per server). Both are audited
//!   (`user.lockout`, `console.lockout`), as are `user.login` and
//!   `user.logout`. Every failure answers the same 401, whether the user
//!   exists, is disabled or locked, so the page does not tell which names
//!   exist.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::json;
use vigil_model::{Principal, Timestamp};
use vigil_store::{FailedLogin, NewAudit, SessionRecord};

use super::{
    Form, SESSION_COOKIE, console_rule_for, error_page, matched_path, read_form, render, see_other,
};
use crate::error::AppError;
use crate::roles::Access;
use crate::state::AppState;

/// The signed-in session of a console request (beside its [`Principal`]).
#[derive(Debug, Clone)]
pub(crate) struct ConsoleSession {
    /// The CSRF token every form of the page must carry.
    pub(crate) csrf: String,
    /// The session as stored.
    pub(crate) record: SessionRecord,
}

/// Failed sign-ins per source address, in memory.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    by_source: Mutex<HashMap<String, Attempts>>,
    /// A PHC hash to verify against when the user does not exist, so such
    /// attempts take as long as real ones. Computed on first use.
    decoy: OnceLock<String>,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    window_start: Timestamp,
    locked_until: Option<Timestamp>,
}

/// Most addresses remembered; past it the map starts over.
const MAX_SOURCES: usize = 100_000;

impl LoginLimiter {
    /// Until when `source` is locked out, if it is.
    fn locked(&self, source: &str, now: Timestamp) -> Option<Timestamp> {
        self.by_source
            .lock()
            .get(source)
            .and_then(|a| a.locked_until)
            .filter(|t| now < *t)
    }

    /// Counts a failure; `Some(until)` when this one locked the address.
    fn fail(
        &self,
        source: &str,
        now: Timestamp,
        max: u32,
        window_micros: i64,
        lockout_micros: i64,
    ) -> Option<Timestamp> {
        let mut m = self.by_source.lock();
        if m.len() >= MAX_SOURCES && !m.contains_key(source) {
            m.retain(|_, a| a.locked_until.is_some_and(|t| now < t));
            if m.len() >= MAX_SOURCES {
                m.clear();
            }
        }
        let a = m.entry(source.to_owned()).or_insert(Attempts {
            failures: 0,
            window_start: now,
            locked_until: None,
        });
        if a.window_start.add_micros(window_micros) <= now {
            a.failures = 0;
            a.window_start = now;
        }
        a.failures += 1;
        if a.failures >= max.max(1) {
            let until = now.add_micros(lockout_micros);
            a.locked_until = Some(until);
            a.failures = 0;
            a.window_start = now;
            return Some(until);
        }
        None
    }
}

fn micros(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Where a request comes from (its peer address), for the limiter and the
/// audit log.
fn source(req_ext: &axum::http::Extensions) -> String {
    req_ext
        .get::<ConnectInfo<crate::tls::ClientAddr>>()
        .map_or_else(|| "local".to_owned(), |c| c.0.0.ip().to_string())
}

/// A safe place to go after signing in: a local path only.
fn local_target(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

/// Route middleware of the console: the route table, the session cookie,
/// the role, and the CSRF token of every POST.
pub(crate) async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = matched_path(&req) else {
        return AppError::internal("console authorize ran without a matched path").into_response();
    };
    let Some(rule) = console_rule_for(req.method(), &path) else {
        let mut res = error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "this page does not take that method",
        );
        let allow: Vec<&str> = super::CONSOLE_ROUTES
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.method.as_str())
            .collect();
        if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
            res.headers_mut().insert(header::ALLOW, v);
        }
        return res;
    };
    if rule.access == Access::Public {
        return next.run(req).await;
    }
    let now = state.clock.now();
    let cfg = &state.config.console;
    let found = match cookie(req.headers(), SESSION_COOKIE) {
        Some(id) if !id.is_empty() && id.len() <= 128 => {
            state
                .store
                .find_session(id, micros(cfg.session_idle), 60_000_000, now)
                .await
        }
        _ => Ok(None),
    };
    let record = match found {
        Ok(Some(s)) => s,
        Ok(None) => {
            if req.method() == Method::GET || req.method() == Method::HEAD {
                let target = req
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &target)
                    .finish();
                return see_other(&format!("/login?{q}"));
            }
            return error_page(
                StatusCode::UNAUTHORIZED,
                "Not signed in",
                "sign in again; your session ended",
            );
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    let principal = record.user.principal();
    if !rule.access.allows(principal.role) {
        state
            .inner
            .http
            .auth_failure(crate::auth::AuthFailure::Role);
        return error_page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("the {} role may not use this page", principal.role),
        );
    }
    let (mut parts, body) = req.into_parts();
    let body = if parts.method == Method::POST {
        let bytes = match read_form(body).await {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        };
        let form = Form::parse(&bytes);
        if !form
            .get("csrf")
            .is_some_and(|t| same_secret(t, &record.csrf))
        {
            tracing::info!(
                path,
                user = principal.name,
                "console form refused: bad csrf token"
            );
            return error_page(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "the form's CSRF token is missing or wrong; reload the page and try again",
            );
        }
        parts.extensions.insert(form);
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(ConsoleSession {
        csrf: record.csrf.clone(),
        record,
    });
    parts.extensions.insert(principal);
    next.run(Request::from_parts(parts, body)).await
}

/// The pre-session cookie of the sign-in form: the same random value is in
/// the cookie and in the form's `login_csrf` field, and `POST /login`
/// wants both (a cross-site form cannot send the SameSite=Strict cookie, so
/// nobody can be signed in to someone else's account behind their back).
const LOGIN_COOKIE: &str = "vigil_login";

/// The sign-in form with a pre-session token: the request's own if it has
/// one, else a new one set as a cookie.
fn login_form(state: &AppState, headers: &HeaderMap, next: &str, error: &str) -> Response {
    let existing = cookie(headers, LOGIN_COOKIE)
        .filter(|t| {
            t.len() == 43
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => match vigil_store::random_token() {
            Ok(t) => (t, true),
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    let mut res = render(
        state,
        "login.html",
        minijinja::context! { next, error, login_csrf => &token },
    );
    if fresh {
        let mut c =
            format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600");
        if state.config.console.secure_cookies {
            c.push_str("; Secure");
        }
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// `GET /login`: the sign-in form.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    login_form(
        &state,
        &headers,
        local_target(q.get("next").map(String::as_str)),
        "",
    )
}

fn login_failed(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    msg: &str,
) -> Response {
    let mut res = login_form(state, headers, next, msg);
    *res.status_mut() = status;
    res
}

const GENERIC_FAILURE: &str = "Wrong user name or password. After repeated failures an account \
                               is locked for a while.";

/// `POST /login`: checks the password, opens a session, sets the cookie.
pub(crate) async fn login(State(state): State<AppState>, req: Request) -> Response {
    let now = state.clock.now();
    let cfg = state.config.console.clone();
    let source = source(req.extensions());
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let body = match read_form(body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let form = Form::parse(&body);
    let next = local_target(form.get("next")).to_owned();
    let token_ok = match (cookie(&headers, LOGIN_COOKIE), form.get("login_csrf")) {
        (Some(c), Some(f)) => !c.is_empty() && same_secret(c, f),
        _ => false,
    };
    if !token_ok {
        return error_page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "the sign-in form is stale or was not sent from this site; reload the sign-in page and try again",
        );
    }
    let limiter = &state.inner.logins;
    if let Some(until) = limiter.locked(&source, now) {
        let mut res = login_failed(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            "Too many failed sign-ins from your address; try again later.",
        );
        let secs = (until.as_micros() - now.as_micros()) / 1_000_000 + 1;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let username = form.get("username").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let user = match state.store.find_user(&username).await {
        Ok(u) => u,
        Err(e) => return AppError::from(e).into_response(),
    };
    let ok = match &user {
        Some(u) if u.disabled_at.is_none() && !u.is_locked(now) => {
            vigil_store::verify_password(&password, &u.password_hash).await
        }
        _ => {
            // Take as long as a real check, so timing does not tell.
            let decoy = match limiter.decoy.get() {
                Some(d) => d.clone(),
                None => {
                    let d = tokio::task::spawn_blocking(|| {
                        vigil_store::token::hash_secret("decoy password").unwrap_or_default()
                    })
                    .await
                    .unwrap_or_default();
                    limiter.decoy.get_or_init(|| d).clone()
                }
            };
            let _ = vigil_store::verify_password(&password, &decoy).await;
            false
        }
    };
    if !ok {
        state
            .inner
            .http
            .auth_failure(crate::auth::AuthFailure::BadSecret);
        if let Some(u) = user
            .as_ref()
            .filter(|u| u.disabled_at.is_none() && !u.is_locked(now))
        {
            match state
                .store
                .record_failed_login(
                    u,
                    i64::from(cfg.max_user_failures),
                    micros(cfg.lockout),
                    &source,
                    now,
                )
                .await
            {
                Ok(FailedLogin::Locked(until)) => {
                    tracing::warn!(user = u.username, %source, until = %until.to_rfc3339(), "console user locked out");
                }
                Ok(FailedLogin::Counted(_)) => {}
                Err(e) => return AppError::from(e).into_response(),
            }
        }
        if let Some(until) = limiter.fail(
            &source,
            now,
            cfg.max_address_failures,
            micros(cfg.failure_window),
            micros(cfg.lockout),
        ) {
            tracing::warn!(%source, until = %until.to_rfc3339(), "console sign-in address locked out");
            let by = Principal::system("console");
            let audit = state
                .store
                .audit(&NewAudit::new(
                    vigil_model::TenantId::DEFAULT,
                    &by,
                    "console.lockout",
                    &format!("address:{source}"),
                    json!({ "until": until.to_rfc3339() }),
                    now,
                ))
                .await;
            if let Err(e) = audit {
                return AppError::from(e).into_response();
            }
        }
        return login_failed(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            GENERIC_FAILURE,
        );
    }
    let Some(user) = user else {
        return login_failed(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            GENERIC_FAILURE,
        );
    };
    let (id, _) = match state
        .store
        .create_session(&user, &source, micros(cfg.session_lifetime), now)
        .await
    {
        Ok(s) => s,
        Err(e) => return AppError::from(e).into_response(),
    };
    let mut res = see_other(&next);
    let mut c = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        cfg.session_lifetime.as_secs()
    );
    if cfg.secure_cookies {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// `POST /logout`: ends the session and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    axum::Extension(s): axum::Extension<ConsoleSession>,
) -> Result<Response, AppError> {
    state
        .store
        .end_session(&s.record, state.clock.now())
        .await?;
    let mut res = see_other("/login");
    let mut c = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if state.config.console.secure_cookies {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_targets_and_limiter() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; vigil_session=abc ; b=2"),
        );
        assert_eq!(cookie(&h, "vigil_session"), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(local_target(Some("/alerts?x=1")), "/alerts?x=1");
        assert_eq!(local_target(Some("//evil.example")), "/");
        assert_eq!(local_target(Some("https://evil.example")), "/");
        assert_eq!(local_target(Some("/\\evil")), "/");
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));

        let l = LoginLimiter::default();
        let t0 = Timestamp::from_secs(1000);
        assert_eq!(l.fail("ip", t0, 3, 60_000_000, 120_000_000), None);
        assert_eq!(l.fail("ip", t0, 3, 60_000_000, 120_000_000), None);
        let until = l.fail("ip", t0, 3, 60_000_000, 120_000_000);
        assert_eq!(until, Some(t0.add_micros(120_000_000)));
        assert!(l.locked("ip", t0).is_some());
        assert!(l.locked("other", t0).is_none());
        assert!(l.locked("ip", t0.add_micros(120_000_000)).is_none());
        // Failures outside the window start over.
        let l = LoginLimiter::default();
        assert_eq!(l.fail("ip", t0, 2, 1_000_000, 5), None);
        assert_eq!(
            l.fail("ip", t0.add_micros(2_000_000), 2, 1_000_000, 5),
            None
        );
    }
}

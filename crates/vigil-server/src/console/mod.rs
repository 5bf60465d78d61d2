//! The web console: server-rendered pages for people who sign in with a
//! user name and password.
//!
//! - Templates are compiled into the binary (`include_str!`) and rendered
//!   with minijinja, HTML auto-escaping on (every template ends in `.html`).
//!   No scripts at all; one embedded stylesheet; charts are SVG drawn on the
//!   server.
//! - Every console response carries a strict Content-Security-Policy
//!   ([`CSP`]), `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//!   no-referrer`, `X-Frame-Options: DENY` and `Cache-Control: no-store`.
//! - Routes are authenticated by the session cookie only (never by API
//!   tokens), and the API under `/api/v1` by tokens only (never by the
//!   cookie), so a browser's ambient cookie can never call the API and
//!   token holders cannot reach console forms.
//! - Roles come from [`CONSOLE_ROUTES`] exactly as the API's from
//!   [`crate::ROUTES`]: the middleware looks every matched route up and
//!   refuses routes it does not find.
//! - Every state-changing console route is a POST whose form carries the
//!   session's CSRF token (`csrf` field, synchronizer token); the middleware
//!   checks it before any handler runs and answers 403 when it is missing
//!   or wrong.

mod actions;
mod admin;
mod charts;
pub(crate) mod hours;
mod incident_forms;
mod pages;
mod rules;
pub(crate) mod session;
// Intelligence, vulnerabilities, threats and coverage pages (#9).
mod intel;
mod threats;
mod vulns;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use vigil_model::Role;

use crate::error::{AppError, Problem};
use crate::roles::Access;
use crate::state::AppState;

pub(crate) use session::LoginLimiter;

/// The Content-Security-Policy of every console response.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigil_session";

/// The largest console form accepted, in bytes.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// One row of the console's route table.
#[derive(Debug, Clone)]
pub struct ConsoleRoute {
    /// The HTTP method (`HEAD` is looked up as `GET`).
    pub method: Method,
    /// The axum path template.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

const READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Viewer];
const ANALYSTS: &[Role] = &[Role::Admin, Role::Analyst];
const ADMINS: &[Role] = &[Role::Admin];

const fn page(method: Method, path: &'static str, roles: &'static [Role]) -> ConsoleRoute {
    ConsoleRoute {
        method,
        path,
        access: Access::Roles(roles),
    }
}

const fn open(method: Method, path: &'static str) -> ConsoleRoute {
    ConsoleRoute {
        method,
        path,
        access: Access::Public,
    }
}

/// Every console route with the roles allowed to call it. Every POST row
/// is state-changing and CSRF-checked, except `POST /login` (no session
/// yet; SameSite=Strict and the per-user and per-address lockouts guard
/// it).
pub static CONSOLE_ROUTES: &[ConsoleRoute] = &[
    open(Method::GET, "/login"),
    open(Method::POST, "/login"),
    open(Method::GET, "/static/console.css"),
    page(Method::POST, "/logout", READERS),
    page(Method::GET, "/", READERS),
    page(Method::GET, "/alerts", READERS),
    page(Method::POST, "/alerts/triage", ANALYSTS),
    page(Method::GET, "/alerts/{id}", READERS),
    page(Method::POST, "/alerts/{id}/triage", ANALYSTS),
    page(Method::POST, "/alerts/{id}/incident", ANALYSTS),
    page(Method::GET, "/incidents", READERS),
    page(Method::GET, "/incidents/{id}", READERS),
    page(Method::POST, "/runs/{id}/decision", ANALYSTS),
    page(Method::GET, "/settings", ADMINS),
    // Rules, settings administration and incident editing.
    page(Method::GET, "/rules", READERS),
    page(Method::GET, "/rules/test", ANALYSTS),
    page(Method::POST, "/rules/test", ANALYSTS),
    page(Method::GET, "/rules/{id}", READERS),
    page(Method::POST, "/rules/{id}/state", ANALYSTS),
    page(Method::POST, "/settings/users", ADMINS),
    page(Method::POST, "/settings/users/{id}", ADMINS),
    page(Method::POST, "/settings/tokens", ADMINS),
    page(Method::POST, "/settings/tokens/{id}/revoke", ADMINS),
    page(Method::POST, "/settings/feeds", ADMINS),
    page(Method::POST, "/settings/feeds/{name}/delete", ADMINS),
    page(Method::POST, "/incidents/{id}/update", ANALYSTS),
    page(Method::POST, "/incidents/{id}/notes", ANALYSTS),
    page(Method::POST, "/incidents/{id}/tasks", ANALYSTS),
    page(Method::POST, "/incidents/{id}/observables", ANALYSTS),
    page(Method::POST, "/incidents/{id}/evidence", ANALYSTS),
    page(Method::POST, "/tasks/{id}/status", ANALYSTS),
    // Intelligence, vulnerabilities, threats, ATT&CK coverage.
    page(Method::GET, "/intel", READERS),
    page(Method::GET, "/intel/indicators/{id}", READERS),
    page(Method::GET, "/intel/feeds", READERS),
    page(Method::POST, "/intel/feeds/{name}/sync", ADMINS),
    page(Method::GET, "/intel/import", ANALYSTS),
    page(Method::POST, "/intel/import", ANALYSTS),
    page(Method::GET, "/vulns", READERS),
    page(Method::GET, "/assets/{id}", READERS),
    page(Method::GET, "/threats", READERS),
    page(Method::GET, "/threats/actors/{id}", READERS),
    page(Method::GET, "/coverage", READERS),
    page(Method::GET, "/coverage/navigator.json", READERS),
];

/// The console row for a matched route.
pub fn console_rule_for(method: &Method, path: &str) -> Option<&'static ConsoleRoute> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    CONSOLE_ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path)
}

/// The console's routes with their middleware; merged into the server's
/// router by `serve::router`.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/static/console.css", get(stylesheet))
        .route("/", get(pages::dashboard))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/triage", post(actions::bulk_triage))
        .route("/alerts/{id}", get(pages::alert))
        .route("/alerts/{id}/triage", post(actions::triage))
        .route("/alerts/{id}/incident", post(actions::open_incident))
        .route("/incidents", get(pages::incidents))
        .route("/incidents/{id}", get(pages::incident))
        .route("/runs/{id}/decision", post(actions::decide))
        .route("/settings", get(admin::settings))
        // Rules, settings administration and incident editing.
        .route("/rules", get(rules::rules))
        .route("/rules/test", get(rules::test_form).post(rules::test))
        .route("/rules/{id}", get(rules::rule))
        .route("/rules/{id}/state", post(rules::set_state))
        .route("/settings/users", post(admin::create_user))
        .route("/settings/users/{id}", post(admin::change_user))
        .route("/settings/tokens", post(admin::create_token))
        .route("/settings/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/settings/feeds", post(admin::add_feed))
        .route("/settings/feeds/{name}/delete", post(admin::delete_feed))
        .route("/incidents/{id}/update", post(incident_forms::update))
        .route("/incidents/{id}/notes", post(incident_forms::note))
        .route("/incidents/{id}/tasks", post(incident_forms::add_task))
        .route(
            "/incidents/{id}/observables",
            post(incident_forms::observable),
        )
        .route("/incidents/{id}/evidence", post(incident_forms::evidence))
        .route("/tasks/{id}/status", post(incident_forms::task_status))
        // Intelligence, vulnerabilities, threats, ATT&CK coverage.
        .route("/intel", get(intel::search))
        .route("/intel/indicators/{id}", get(intel::indicator))
        .route("/intel/feeds", get(intel::feeds))
        .route("/intel/feeds/{name}/sync", post(intel::sync))
        .route("/intel/import", get(intel::import_form).post(intel::import))
        .route("/vulns", get(vulns::findings))
        .route("/assets/{id}", get(vulns::asset))
        .route("/threats", get(threats::register))
        .route("/threats/actors/{id}", get(threats::actor))
        .route("/coverage", get(threats::matrix))
        .route("/coverage/navigator.json", get(threats::navigator))
        .route_layer(from_fn_with_state(state, session::authorize))
        .route_layer(from_fn(crate::telemetry::label_route))
        .layer(from_fn(secure_headers))
}

/// Marks a response as the console's own (HTML), so the problem-details
/// middleware leaves it alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConsoleBody;

/// The template environment, built once.
pub(crate) fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, src) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("dashboard.html", include_str!("templates/dashboard.html")),
        ("alerts.html", include_str!("templates/alerts.html")),
        ("alert.html", include_str!("templates/alert.html")),
        ("incidents.html", include_str!("templates/incidents.html")),
        ("incident.html", include_str!("templates/incident.html")),
        ("settings.html", include_str!("templates/settings.html")),
        ("rules.html", include_str!("templates/rules.html")),
        ("rule.html", include_str!("templates/rule.html")),
        ("rule_test.html", include_str!("templates/rule_test.html")),
        // Intelligence, vulnerabilities, threats, ATT&CK coverage.
        ("intel_nav.html", include_str!("templates/intel_nav.html")),
        ("intel.html", include_str!("templates/intel.html")),
        ("indicator.html", include_str!("templates/indicator.html")),
        ("feeds.html", include_str!("templates/feeds.html")),
        ("import.html", include_str!("templates/import.html")),
        (
            "finding_rows.html",
            include_str!("templates/finding_rows.html"),
        ),
        ("vulns.html", include_str!("templates/vulns.html")),
        ("asset.html", include_str!("templates/asset.html")),
        ("score.html", include_str!("templates/score.html")),
        ("threats.html", include_str!("templates/threats.html")),
        ("actor.html", include_str!("templates/actor.html")),
        ("coverage.html", include_str!("templates/coverage.html")),
    ] {
        if let Err(e) = env.add_template(name, src) {
            // The templates are part of the binary; a broken one is a bug
            // the template test catches.
            tracing::error!(template = name, error = %e, "console template does not compile");
        }
    }
    env
}

/// Renders `name` with `ctx` into an HTML response.
pub(crate) fn render(state: &AppState, name: &str, ctx: impl Into<minijinja::Value>) -> Response {
    let html = state
        .inner
        .templates
        .get_template(name)
        .and_then(|t| t.render(ctx));
    match html {
        Ok(html) => {
            let mut res = Html(html).into_response();
            res.extensions_mut().insert(ConsoleBody);
            res
        }
        Err(e) => AppError::internal(format!("template {name}: {e:#}")).into_response(),
    }
}

async fn stylesheet() -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/console.css"),
    )
        .into_response();
    res.extensions_mut().insert(ConsoleBody);
    res
}

/// An HTML error page with this status.
pub(crate) fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut res = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        error_html(title, detail, status.as_u16()),
    )
        .into_response();
    res.extensions_mut().insert(ConsoleBody);
    res
}

/// A 303 to `to` (after a form post, or to the sign-in page).
pub(crate) fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.extensions_mut().insert(ConsoleBody);
    res
}

/// Outer console middleware: the security headers on every response, and
/// problem details (a handler's `AppError`) turned into an HTML page.
async fn secure_headers(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let (mut parts, body) = res.into_parts();
    let res = match parts.extensions.remove::<Problem>() {
        Some(p) if parts.extensions.get::<ConsoleBody>().is_none() => {
            let html = error_html(&p.title, p.detail.as_deref().unwrap_or(""), p.status);
            parts.headers.remove(header::WWW_AUTHENTICATE);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.extensions.insert(ConsoleBody);
            Response::from_parts(parts, Body::from(html))
        }
        _ => {
            parts.extensions.insert(ConsoleBody);
            Response::from_parts(parts, body)
        }
    };
    with_headers(res)
}

/// A minimal error page (no template: also used where the state is not at
/// hand).
pub(crate) fn error_html(title: &str, detail: &str, status: u16) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {t} — Vigil</title>\
         <link rel=\"stylesheet\" href=\"/static/console.css\"></head><body><main class=\"narrow\">\
         <h1>{status} {t}</h1><p>{d}</p><p><a href=\"/\">Back to the dashboard</a></p></main></body></html>",
        t = esc(title),
        d = esc(detail)
    )
}

fn with_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The matched route of a request.
pub(crate) fn matched_path(req: &Request) -> Option<String> {
    req.extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
}

/// A parsed `application/x-www-form-urlencoded` body; fields may repeat.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form(pub Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Reads a form body up to [`MAX_FORM_BYTES`].
pub(crate) async fn read_form(body: Body) -> Result<Bytes, AppError> {
    axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::new(crate::error::ErrorKind::PayloadTooLarge, "form too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = templates();
        for name in [
            "base.html",
            "login.html",
            "dashboard.html",
            "alerts.html",
            "alert.html",
            "incidents.html",
            "incident.html",
            "settings.html",
            "rules.html",
            "rule.html",
            "rule_test.html",
            // Intelligence, vulnerabilities, threats, ATT&CK coverage.
            "intel_nav.html",
            "intel.html",
            "indicator.html",
            "feeds.html",
            "import.html",
            "finding_rows.html",
            "vulns.html",
            "asset.html",
            "score.html",
            "threats.html",
            "actor.html",
            "coverage.html",
        ] {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn table_rows_are_unique_and_posts_are_gated() {
        for (i, a) in CONSOLE_ROUTES.iter().enumerate() {
            assert!(
                !CONSOLE_ROUTES[i + 1..]
                    .iter()
                    .any(|b| a.method == b.method && a.path == b.path),
                "{a:?}"
            );
            if a.method == Method::POST && a.path != "/login" {
                assert_ne!(a.access, Access::Public, "{a:?}");
            }
        }
        assert!(console_rule_for(&Method::HEAD, "/alerts").is_some());
        assert!(console_rule_for(&Method::PUT, "/alerts").is_none());
    }

    #[test]
    fn forms_keep_repeated_fields() {
        let f = Form::parse(b"csrf=a%2Bb&id=1&id=2&q=x+y");
        assert_eq!(f.get("csrf"), Some("a+b"));
        assert_eq!(f.all("id"), vec!["1", "2"]);
        assert_eq!(f.get("q"), Some("x y"));
        assert!(error_html("<t>", "\"d\"", 403).contains("&lt;t&gt;"));
    }
}

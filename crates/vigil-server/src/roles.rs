//! The route table: which roles may call which route, and with which
//! `Authorization` schemes.
//!
//! This is the single source of truth for authorization. The middleware in
//! `auth` looks every matched route up here and refuses routes it does not
//! find; the tests compare this table with the OpenAPI document, so a route
//! added without a row fails them.

use axum::http::Method;
use vigil_model::Role;

use crate::auth::Scheme;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials (health probes).
    Public,
    /// A valid token whose role is in the list.
    Roles(&'static [Role]),
}

impl Access {
    /// Whether `role` may call a route with this access.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public => true,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
}

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteRule {
    /// The HTTP method (`HEAD` is looked up as `GET`).
    pub method: Method,
    /// The axum path template, e.g. `/api/v1/alerts/{id}`.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The `Authorization` schemes the route accepts (empty for public routes).
    pub schemes: &'static [Scheme],
}

/// The schemes every `/api/v1` route accepts: `Bearer` and `Basic` with the
/// token as password. `Splunk` is reserved for the HEC routes.
pub const API_SCHEMES: &[Scheme] = &[Scheme::Bearer, Scheme::Basic];

const READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Viewer];
const INGESTERS: &[Role] = &[Role::Admin, Role::Ingest];
const ADMINS: &[Role] = &[Role::Admin];
const ANALYSTS: &[Role] = &[Role::Admin, Role::Analyst];
const ANY_ROLE: &[Role] = &Role::ALL;
/// Readers plus machines that fetch blocklists and exports.
const FEED_READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Viewer, Role::Feed];
/// TAXII readers: the reading roles and `feed` (TAXII clients, fetchers) —
/// the same roles as [`FEED_READERS`].
const TAXII_READERS: &[Role] = FEED_READERS;

const fn public(method: Method, path: &'static str) -> RouteRule {
    RouteRule {
        method,
        path,
        access: Access::Public,
        schemes: &[],
    }
}

const fn api(method: Method, path: &'static str, roles: &'static [Role]) -> RouteRule {
    RouteRule {
        method,
        path,
        access: Access::Roles(roles),
        schemes: API_SCHEMES,
    }
}

/// The schemes of the Splunk HEC routes: `Splunk <token>` as HEC clients
/// send it, plus the API's own.
pub const HEC_SCHEMES: &[Scheme] = &[Scheme::Splunk, Scheme::Bearer, Scheme::Basic];

const fn hec(path: &'static str) -> RouteRule {
    RouteRule {
        method: Method::POST,
        path,
        access: Access::Roles(INGESTERS),
        schemes: HEC_SCHEMES,
    }
}

/// Every route of the server with the roles allowed to call it.
pub static ROUTES: &[RouteRule] = &[
    public(Method::GET, "/healthz"),
    public(Method::GET, "/readyz"),
    api(Method::GET, "/metrics", READERS),
    api(Method::POST, "/api/v1/ingest", INGESTERS),
    api(Method::POST, "/api/v1/ingest/evtx", INGESTERS),
    hec("/services/collector"),
    hec("/services/collector/event"),
    hec("/services/collector/event/1.0"),
    hec("/services/collector/raw"),
    hec("/services/collector/ack"),
    public(Method::GET, "/services/collector/health"),
    api(Method::GET, "/api/v1/alerts", READERS),
    api(Method::GET, "/api/v1/alerts/{id}", READERS),
    api(Method::GET, "/api/v1/alerts/{id}/related", READERS),
    api(Method::GET, "/api/v1/events", READERS),
    api(Method::GET, "/api/v1/tokens", ADMINS),
    api(Method::POST, "/api/v1/tokens", ADMINS),
    api(Method::DELETE, "/api/v1/tokens/{id}", ADMINS),
    api(Method::GET, "/api/v1/users", ADMINS),
    api(Method::POST, "/api/v1/users", ADMINS),
    api(Method::PATCH, "/api/v1/users/{id}", ADMINS),
    api(Method::GET, "/api/v1/audit", ADMINS),
    api(Method::GET, "/api/v1/audit/verify", ADMINS),
    api(Method::GET, "/api/v1/changes", ANALYSTS),
    api(Method::GET, "/api/v1/rules", READERS),
    api(Method::POST, "/api/v1/rules", ANALYSTS),
    api(Method::GET, "/api/v1/rules/{id}", READERS),
    api(Method::PATCH, "/api/v1/rules/{id}", ANALYSTS),
    api(Method::POST, "/api/v1/rules/test", ANALYSTS),
    api(Method::GET, "/api/v1/assets", READERS),
    api(Method::POST, "/api/v1/assets", ANALYSTS),
    api(Method::GET, "/api/v1/assets/{id}", READERS),
    api(Method::POST, "/api/v1/assets/{id}/sbom", ANALYSTS),
    api(Method::GET, "/api/v1/findings", READERS),
    api(Method::GET, "/api/v1/findings/{id}", READERS),
    api(Method::PATCH, "/api/v1/findings/{id}", ANALYSTS),
    api(Method::GET, "/api/v1/vulnerabilities/{id}", READERS),
    api(Method::GET, "/api/v1/intel/indicators", READERS),
    api(Method::GET, "/api/v1/intel/indicators/{id}", READERS),
    api(Method::GET, "/api/v1/intel/lookup", READERS),
    api(Method::GET, "/api/v1/intel/export", FEED_READERS),
    api(Method::POST, "/api/v1/intel/import", ANALYSTS),
    api(Method::GET, "/api/v1/blocklists/{list}", FEED_READERS),
    api(Method::GET, "/api/v1/blocklist-entries", READERS),
    api(Method::POST, "/api/v1/blocklist-entries", ANALYSTS),
    api(Method::DELETE, "/api/v1/blocklist-entries/{id}", ANALYSTS),
    api(Method::GET, "/api/v1/attack/techniques/{id}", READERS),
    api(Method::GET, "/api/v1/threats/profile", READERS),
    api(Method::PUT, "/api/v1/threats/profile", ANALYSTS),
    api(Method::GET, "/api/v1/threats/actors", READERS),
    api(Method::GET, "/api/v1/threats/actors/{id}", READERS),
    api(Method::GET, "/api/v1/threats/scenarios", READERS),
    api(Method::POST, "/api/v1/threats/scenarios", ANALYSTS),
    api(Method::PATCH, "/api/v1/threats/scenarios/{id}", ANALYSTS),
    api(
        Method::GET,
        "/api/v1/threats/scenarios/{id}/history",
        READERS,
    ),
    api(Method::GET, "/api/v1/threats/coverage", READERS),
    api(Method::GET, "/api/v1/threats/coverage/navigator", READERS),
    api(Method::GET, "/api/v1/intel/feeds", READERS),
    api(Method::POST, "/api/v1/intel/feeds", ADMINS),
    api(Method::GET, "/api/v1/intel/feeds/{name}", READERS),
    api(Method::DELETE, "/api/v1/intel/feeds/{name}", ADMINS),
    api(Method::POST, "/api/v1/intel/feeds/{name}/sync", ADMINS),
    api(Method::GET, "/api/v1/incidents", READERS),
    api(Method::POST, "/api/v1/incidents", ANALYSTS),
    api(Method::GET, "/api/v1/incidents/{id}", READERS),
    api(Method::PATCH, "/api/v1/incidents/{id}", ANALYSTS),
    api(Method::POST, "/api/v1/incidents/{id}/notes", ANALYSTS),
    api(Method::POST, "/api/v1/incidents/{id}/tasks", ANALYSTS),
    api(Method::POST, "/api/v1/incidents/{id}/observables", ANALYSTS),
    api(Method::POST, "/api/v1/incidents/{id}/evidence", ANALYSTS),
    api(Method::GET, "/api/v1/evidence/{id}", READERS),
    api(Method::GET, "/api/v1/incident-metrics", READERS),
    api(Method::PATCH, "/api/v1/tasks/{id}", ANALYSTS),
    api(Method::POST, "/api/v1/alerts/{id}/triage", ANALYSTS),
    api(Method::GET, "/api/v1/suppressions", READERS),
    api(Method::POST, "/api/v1/suppressions", ANALYSTS),
    api(Method::DELETE, "/api/v1/suppressions/{id}", ANALYSTS),
    api(Method::GET, "/api/v1/playbooks", READERS),
    api(Method::POST, "/api/v1/playbooks", ADMINS),
    api(Method::POST, "/api/v1/playbooks/{id}/runs", ANALYSTS),
    api(Method::GET, "/api/v1/runs", READERS),
    api(Method::GET, "/api/v1/runs/{id}", READERS),
    api(Method::POST, "/api/v1/runs/{id}/decision", ANALYSTS),
    api(Method::POST, "/api/v1/runs/{id}/cancel", ANALYSTS),
    api(Method::GET, "/api/v1/whoami", ANY_ROLE),
    api(Method::GET, "/api/v1/openapi.json", ANY_ROLE),
    api(Method::GET, "/taxii2/", TAXII_READERS),
    api(Method::GET, "/taxii2/vigil/", TAXII_READERS),
    api(Method::GET, "/taxii2/vigil/collections/", TAXII_READERS),
    api(
        Method::GET,
        "/taxii2/vigil/collections/{id}/",
        TAXII_READERS,
    ),
    api(
        Method::GET,
        "/taxii2/vigil/collections/{id}/objects/",
        TAXII_READERS,
    ),
    api(
        Method::POST,
        "/taxii2/vigil/collections/{id}/objects/",
        ANALYSTS,
    ),
    api(
        Method::GET,
        "/taxii2/vigil/collections/{id}/objects/{object_id}/",
        TAXII_READERS,
    ),
    api(
        Method::GET,
        "/taxii2/vigil/collections/{id}/objects/{object_id}/versions/",
        TAXII_READERS,
    ),
    api(
        Method::GET,
        "/taxii2/vigil/collections/{id}/manifest/",
        TAXII_READERS,
    ),
    api(
        Method::GET,
        "/taxii2/vigil/status/{status_id}/",
        TAXII_READERS,
    ),
];

/// The rule for a matched route, `None` if the table has no row for it.
pub fn rule_for(method: &Method, path: &str) -> Option<&'static RouteRule> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: Method, path: &str, role: Role, expect: bool) {
        let rule = rule_for(&method, path).unwrap_or_else(|| panic!("no rule for {method} {path}"));
        assert_eq!(
            rule.access.allows(role),
            expect,
            "{role} on {method} {path}"
        );
    }

    #[test]
    fn table_gates_roles() {
        check(Method::POST, "/api/v1/ingest", Role::Viewer, false);
        check(Method::POST, "/api/v1/ingest", Role::Ingest, true);
        check(Method::GET, "/api/v1/alerts", Role::Ingest, false);
        check(Method::HEAD, "/api/v1/alerts", Role::Viewer, true);
        check(Method::GET, "/api/v1/tokens", Role::Analyst, false);
        check(Method::GET, "/api/v1/changes", Role::Analyst, true);
        check(Method::GET, "/api/v1/changes", Role::Viewer, false);
        check(Method::GET, "/api/v1/whoami", Role::Feed, true);
        check(Method::GET, "/api/v1/blocklists/{list}", Role::Feed, true);
        check(Method::GET, "/api/v1/intel/indicators", Role::Feed, false);
        check(
            Method::POST,
            "/api/v1/blocklist-entries",
            Role::Viewer,
            false,
        );
        assert!(rule_for(&Method::PUT, "/api/v1/alerts").is_none());
    }

    #[test]
    fn rows_are_unique_and_public_rows_take_no_scheme() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(
                !ROUTES[i + 1..]
                    .iter()
                    .any(|b| a.method == b.method && a.path == b.path),
                "{a:?}"
            );
            assert_eq!(a.access == Access::Public, a.schemes.is_empty(), "{a:?}");
            assert_eq!(
                a.schemes.contains(&Scheme::Splunk),
                a.path.starts_with("/services/collector") && a.access != Access::Public,
                "only the HEC routes accept Splunk: {a:?}"
            );
        }
    }
}

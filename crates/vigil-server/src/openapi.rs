//! The OpenAPI document: generated from the handlers' `#[utoipa::path]`
//! attributes by the same router that serves them, plus the security
//! schemes and, per operation, the roles from the route table.

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, PathItem, path::Operation};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::roles::{Access, ROUTES};
use crate::routes::taxii::TaxiiError;
use crate::state::ServerConfig;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigil API",
        description = "Vigil's HTTP API. Authenticate with an API token (`vgl_<id>_<secret>`) as a Bearer token, \
                       or as the password of HTTP Basic. Errors are RFC 9457 problem details.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(Problem, TaxiiError)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "metrics", description = "Prometheus metrics"),
        (name = "ingest", description = "Sending events"),
        (name = "hec", description = "Splunk HTTP Event Collector compatible endpoints (HEC JSON answers, not problem details)"),
        (name = "alerts", description = "Alerts raised by detectors"),
        (name = "events", description = "Stored events"),
        (name = "tokens", description = "API tokens"),
        (name = "users", description = "People who sign in to the web console"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "changes", description = "The change feed"),
        (name = "rules", description = "Sigma rules: enabled state, overrides, uploads"),
        (name = "vulnerabilities", description = "Assets, findings and vulnerability records"),
        (name = "intel", description = "Threat intelligence: indicators, lookup, import, export, blocklists"),
        (name = "attack", description = "MITRE ATT&CK knowledge"),
        (name = "threats", description = "Threat register: profile, actors, scenarios, coverage"),
        (name = "feeds", description = "Configured threat-intelligence feeds and their health"),
        (name = "taxii", description = "TAXII 2.1 server (TAXII error messages, not problem details)"),
        (name = "auth", description = "The caller"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` and `basic` schemes the operations refer to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut OpenApiDoc) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vgl_<16 hex id>_<secret>")
                    .description(Some("An API token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("Any user name; the API token as the password"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "splunk",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Splunk <token>`: the API token after the word Splunk (HEC routes only)",
            ))),
        );
    }
}

/// The document the router starts from (info, tags, schemes).
pub(crate) fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

fn operation_mut<'a>(
    item: &'a mut PathItem,
    method: &axum::http::Method,
) -> Option<&'a mut Operation> {
    use axum::http::Method;
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        _ => None,
    }
}

/// Adds `x-vigil-roles` to each operation from the route table.
fn annotate_roles(api: &mut OpenApiDoc) {
    for rule in ROUTES {
        let Some(item) = api.paths.paths.get_mut(rule.path) else {
            continue;
        };
        let Some(op) = operation_mut(item, &rule.method) else {
            continue;
        };
        let Access::Roles(roles) = rule.access else {
            continue;
        };
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let ext = ExtensionsBuilder::new()
            .add("x-vigil-roles", serde_json::json!(roles))
            .build();
        match &mut op.extensions {
            Some(e) => e.merge(ext),
            None => op.extensions = Some(ext),
        }
    }
}

/// The OpenAPI 3 document of the whole API, generated from the code.
pub fn openapi() -> OpenApiDoc {
    let mut api = crate::routes::build(&ServerConfig::default()).into_openapi();
    annotate_roles(&mut api);
    api
}

//! Vigil's HTTP API: axum routes under `/api/v1`, token authentication,
//! per-route role enforcement, RFC 9457 problem details, Prometheus metrics
//! and an OpenAPI 3 document generated from the handlers.
//!
//! The binary builds an [`AppState`] from the store, the pipeline handle and
//! a clock, then calls [`serve`] (or mounts [`router`] itself). Which roles
//! may call which route is one table, [`ROUTES`], read by the authorization
//! middleware and by the tests.
#![warn(missing_docs)]

pub mod attack;
mod auth;
mod console;
mod dto;
mod error;
pub mod incidents;
pub mod intel;
mod openapi;
pub mod playbook_runs;
mod roles;
mod routes;
mod rule_errors;
mod rule_test;
mod serve;
mod state;
mod telemetry;
pub mod threats;
mod tls;

pub use auth::Scheme;
pub use console::{CONSOLE_ROUTES, CSP, ConsoleRoute, SESSION_COOKIE, console_rule_for};
pub use error::Problem;
pub use openapi::openapi;
pub use roles::{API_SCHEMES, Access, HEC_SCHEMES, ROUTES, RouteRule, rule_for};
pub use routes::taxii::{
    API_ROOT as TAXII_API_ROOT, INBOX_COLLECTION, INTEL_COLLECTION, IntelImport, IntelSink,
    TAXII_MEDIA,
};
pub use rule_errors::{RuleLoadError, RuleLoadErrors};
pub use serve::{router, serve, serve_tls};
pub use state::{AppState, ConsoleConfig, ListenerInfo, ServerConfig};
pub use tls::TlsConfig;

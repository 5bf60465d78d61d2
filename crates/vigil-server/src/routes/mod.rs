//! The handlers, one file per resource, and [`build`], which registers them
//! with their OpenAPI operations.

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::state::{AppState, ServerConfig};

pub(crate) mod alerts;
pub(crate) mod attack;
pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod events;
pub(crate) mod evtx;
pub(crate) mod feeds;
pub(crate) mod health;
pub(crate) mod hec;
pub(crate) mod ingest;
pub(crate) mod intel;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod respond;
pub(crate) mod rules;
pub(crate) mod taxii;
pub(crate) mod threats;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod vuln;
pub(crate) mod whoami;

/// Every route with its OpenAPI operation. Authorization is added by
/// `serve::router` from the route table.
pub(crate) fn build(config: &ServerConfig) -> OpenApiRouter<AppState> {
    let ingest = OpenApiRouter::default()
        .routes(routes!(ingest::ingest))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    let hec = OpenApiRouter::default()
        .routes(routes!(hec::event))
        .routes(routes!(hec::collector))
        .routes(routes!(hec::event_v1))
        .routes(routes!(hec::raw))
        .routes(routes!(hec::ack))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    let sbom = OpenApiRouter::default()
        .routes(routes!(vuln::upload_sbom))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    let evtx = OpenApiRouter::default()
        .routes(routes!(evtx::ingest_evtx))
        .layer(DefaultBodyLimit::max(config.max_evtx_bytes));
    let intel_import = OpenApiRouter::default()
        .routes(routes!(intel::import))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(alerts::get_alert))
        .routes(routes!(alerts::related_alerts))
        .routes(routes!(events::list_events))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::patch_user))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(changes::list_changes))
        .routes(routes!(rules::list_rules, rules::upload_rules))
        .routes(routes!(rules::get_rule, rules::patch_rule))
        .routes(routes!(rules::test_rule))
        .routes(routes!(vuln::list_assets, vuln::put_asset))
        .routes(routes!(vuln::get_asset))
        .routes(routes!(vuln::list_findings))
        .routes(routes!(vuln::get_finding, vuln::patch_finding))
        .routes(routes!(vuln::get_vulnerability))
        .routes(routes!(intel::list_indicators))
        .routes(routes!(intel::get_indicator))
        .routes(routes!(intel::lookup_value))
        .routes(routes!(intel::export))
        .merge(intel_import)
        .routes(routes!(intel::blocklist))
        .routes(routes!(intel::list_entries, intel::add_entry))
        .routes(routes!(intel::remove_entry))
        .routes(routes!(attack::get_technique))
        .routes(routes!(threats::get_profile, threats::put_profile))
        .routes(routes!(threats::list_actors))
        .routes(routes!(threats::get_actor))
        .routes(routes!(threats::list_scenarios, threats::create_scenario))
        .routes(routes!(threats::review_scenario))
        .routes(routes!(threats::scenario_history))
        .routes(routes!(threats::get_coverage))
        .routes(routes!(threats::get_navigator))
        .routes(routes!(feeds::list_feeds, feeds::put_feed))
        .routes(routes!(feeds::get_feed, feeds::delete_feed))
        .routes(routes!(feeds::sync_feed))
        .routes(routes!(respond::list_incidents, respond::create_incident))
        .routes(routes!(respond::get_incident, respond::patch_incident))
        .routes(routes!(respond::add_note))
        .routes(routes!(respond::add_task))
        .routes(routes!(respond::add_observable))
        .merge(
            OpenApiRouter::default()
                .routes(routes!(respond::add_evidence))
                .layer(DefaultBodyLimit::max(vigil_store::MAX_EVIDENCE_BYTES + 1)),
        )
        .routes(routes!(respond::get_evidence))
        .routes(routes!(respond::incident_metrics))
        .routes(routes!(respond::patch_task))
        .routes(routes!(respond::triage_alert))
        .routes(routes!(
            respond::list_suppressions,
            respond::add_suppression
        ))
        .routes(routes!(respond::delete_suppression))
        .routes(routes!(respond::list_playbooks, respond::upload_playbook))
        .routes(routes!(respond::run_playbook))
        .routes(routes!(respond::list_runs))
        .routes(routes!(respond::get_run))
        .routes(routes!(respond::decide_run))
        .routes(routes!(respond::cancel_run))
        .routes(routes!(whoami::whoami))
        .routes(routes!(openapi::openapi_json))
        .merge(ingest)
        .routes(routes!(hec::health))
        .merge(hec)
        .merge(evtx)
        .merge(taxii_routes(config))
        .merge(sbom)
}

/// The TAXII 2.1 routes (`routes/taxii.rs`); POST bodies up to the API
/// root's `max_content_length`.
fn taxii_routes(config: &ServerConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(taxii::discovery))
        .routes(routes!(taxii::api_root))
        .routes(routes!(taxii::collections))
        .routes(routes!(taxii::get_collection))
        .routes(routes!(taxii::get_objects, taxii::post_objects))
        .routes(routes!(taxii::get_object))
        .routes(routes!(taxii::get_versions))
        .routes(routes!(taxii::get_manifest))
        .routes(routes!(taxii::get_status))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
}

/// The largest page any list route returns.
pub(crate) const MAX_LIMIT: u32 = 1000;

/// The page size when the client names none.
pub(crate) const DEFAULT_LIMIT: u32 = 100;

/// Validates a `limit` query parameter (1..=1000, default 100).
pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32, AppError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(AppError::bad_request(format!(
            "limit: {n} is not between 1 and {MAX_LIMIT}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(page_limit(None).ok(), Some(100));
        assert_eq!(page_limit(Some(1000)).ok(), Some(1000));
        let e = page_limit(Some(0))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("limit"), "{e}");
        assert!(page_limit(Some(1001)).is_err());
    }
}

//! The Sigma detector as `vigil serve` (and `vigil ingest`) run it: the
//! built-in rule pack plus the configured rule files and directories
//! (`[detect.sigma]`, `serve --rules DIR`), compiled once per start or
//! reload. Bad rules are logged and skipped; a missing rule directory or
//! mapping file is an error, so a reload with one keeps the old detectors.

use std::sync::Arc;

use anyhow::{Result, bail};
use vigil_model::FieldRegistry;
use vigil_sigma::{CorrelationConfig, RuleSet, SigmaDetector};

use crate::builtin_rules::PACK;
use crate::commands::rules::{read_rule_files, sigma_config};
use crate::config::SigmaSection;

/// Builds the Sigma detector `sec` describes; `None` when disabled or when
/// there is no rule at all.
pub fn detector(sec: &SigmaSection, registry: &FieldRegistry) -> Result<Option<SigmaDetector>> {
    if !sec.enabled {
        return Ok(None);
    }
    let config = sigma_config(&sec.mappings)?;
    let mut sources: Vec<(String, String)> = Vec::new();
    if sec.builtin {
        sources.extend(
            PACK.iter()
                .map(|(p, t)| (format!("builtin/{p}"), (*t).to_owned())),
        );
    }
    if !sec.rules.is_empty() {
        let (files, errors) = read_rule_files(&sec.rules);
        for (path, reason) in &errors {
            if sec.rules.iter().any(|r| r.display().to_string() == *path) {
                bail!("sigma rules {path}: {reason}");
            }
            tracing::warn!(path, reason, "sigma rule file skipped");
        }
        sources.extend(files);
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let (set, errors) = RuleSet::load(sources, registry, &config);
    for e in &errors {
        tracing::warn!(error = %e, "sigma rule skipped");
    }
    let limits = CorrelationConfig {
        max_groups: sec.max_groups,
        max_entries: sec.max_group_events,
    };
    let (d, errors) = SigmaDetector::new(Arc::new(set), registry, &config, limits);
    for e in &errors {
        tracing::warn!(error = %e, "sigma correlation skipped");
    }
    tracing::info!(
        rules = d.rules().rules().len(),
        correlations = d.rules().correlations().count(),
        "sigma rules loaded"
    );
    Ok(Some(d))
}

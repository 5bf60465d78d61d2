//! The Sigma detector as `vigil serve` (and `vigil ingest`) run it: the
//! built-in rule pack, the configured rule files and directories
//! (`[detect.sigma]`, `serve --rules DIR`) and the rules uploaded through
//! the API, filtered and adjusted by the stored rule state (enabled flag,
//! level and tags overrides), compiled once per start or reload. Bad rules
//! are logged and skipped; a missing rule directory or mapping file is an
//! error, so a reload with one keeps the old detectors.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::{Result, bail};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use vigil_model::{Clock as _, FieldRegistry};
use vigil_server::RuleLoadError;
use vigil_sigma::{
    CorrelationConfig, CorrelationStats, Document, Level, RuleOverride, RuleSet, SigmaDetector,
    StatsSink, parse_files,
};
use vigil_store::{RuleRecord, RuleSource};

use crate::builtin_rules::PACK;
use crate::commands::rules::{read_rule_files, sigma_config};
use crate::config::SigmaSection;

/// What the Sigma detector takes from outside its configuration section:
/// the stored rule state and where its correlation counters go.
#[derive(Debug, Clone, Default)]
pub struct SigmaRuntime {
    /// The stored rules of the default tenant (state and uploads). Rules
    /// without a record are enabled and keep their own level and tags.
    pub state: Vec<RuleRecord>,
    /// Correlation counters for `/metrics`. By default, none.
    pub metrics: Option<SigmaMetrics>,
    /// Where each build records the rules it left out (the console's rules
    /// page). By default, none.
    pub errors: Option<vigil_server::RuleLoadErrors>,
}

/// Correlation-state metrics (`vigil_sigma_correlation_*`): open groups and
/// the counters of [`CorrelationStats`], summed across hot reloads.
#[derive(Debug, Clone, Default)]
pub struct SigmaMetrics {
    groups: Gauge,
    contributions: Counter,
    fired: Counter,
    evicted: Counter,
    truncated: Counter,
    late: Counter,
    ungrouped: Counter,
    expired: Counter,
}

impl SigmaMetrics {
    /// Registers the metrics under `vigil_sigma_correlation_`.
    pub fn register(&self, reg: &mut Registry) {
        let reg = reg.sub_registry_with_prefix("vigil_sigma_correlation");
        reg.register(
            "open_groups",
            "Open correlation groups (bounded by [detect.sigma] max_groups)",
            self.groups.clone(),
        );
        reg.register(
            "contributions",
            "Rule matches accepted into correlation groups",
            self.contributions.clone(),
        );
        reg.register(
            "fired",
            "Correlation firings (including hidden inner ones of chains)",
            self.fired.clone(),
        );
        reg.register(
            "evictions",
            "Correlation groups evicted because max_groups was reached (least recently active first)",
            self.evicted.clone(),
        );
        reg.register(
            "truncated",
            "Correlation contributions dropped because a group held max_group_events",
            self.truncated.clone(),
        );
        reg.register(
            "late",
            "Correlation contributions older than their group's window",
            self.late.clone(),
        );
        reg.register(
            "ungrouped",
            "Correlation contributions lacking a group-by field",
            self.ungrouped.clone(),
        );
        reg.register(
            "expired",
            "Correlation groups whose window closed without firing",
            self.expired.clone(),
        );
    }
}

impl StatsSink for SigmaMetrics {
    fn publish(&self, d: &CorrelationStats, groups: usize) {
        self.groups.set(i64::try_from(groups).unwrap_or(i64::MAX));
        for (c, n) in [
            (&self.contributions, d.contributions),
            (&self.fired, d.fired),
            (&self.evicted, d.evicted),
            (&self.truncated, d.truncated),
            (&self.late, d.late),
            (&self.ungrouped, d.ungrouped),
            (&self.expired, d.expired),
        ] {
            if n > 0 {
                c.inc_by(n);
            }
        }
    }
}

fn doc_meta(d: &Document) -> &vigil_sigma::Meta {
    match d {
        Document::Rule(r) => &r.meta,
        Document::Correlation(c) => &c.meta,
        Document::Filter(f) => &f.meta,
    }
}

/// The uploaded rule files to load: each stored text once, path
/// `api/<first id>`. A document of an upload is loaded only from the text
/// its record holds now (a later upload of the same id replaces it).
fn uploads(state: &[RuleRecord]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in state {
        if let (RuleSource::Api, Some(text)) = (r.source, &r.content)
            && !out.iter().any(|(_, t)| t == text)
        {
            out.push((format!("api/{}", r.id), text.clone()));
        }
    }
    out
}

/// Keeps the documents the detector needs: enabled ones, and disabled
/// rules or correlations that an enabled correlation reads (those raise no
/// alert of their own). Returns them with the ids to silence.
fn select(
    docs: Vec<(Arc<str>, Document)>,
    state: &HashMap<&str, &RuleRecord>,
) -> (Vec<(Arc<str>, Document)>, HashSet<String>) {
    let enabled = |m: &vigil_sigma::Meta| {
        m.id.as_deref()
            .and_then(|id| state.get(id))
            .is_none_or(|r| r.enabled)
    };
    // Names and ids read by enabled correlations, transitively.
    let mut needed: HashSet<&str> = HashSet::new();
    let mut todo: Vec<&vigil_sigma::CorrelationRule> = docs
        .iter()
        .filter_map(|(_, d)| match d {
            Document::Correlation(c) if enabled(&c.meta) => Some(c),
            _ => None,
        })
        .collect();
    while let Some(c) = todo.pop() {
        for r in &c.rules {
            if needed.insert(r.as_str()) {
                // A disabled correlation in the chain is needed too.
                todo.extend(docs.iter().filter_map(|(_, d)| match d {
                    Document::Correlation(x)
                        if !enabled(&x.meta)
                            && (x.meta.id.as_deref() == Some(r)
                                || x.meta.name.as_deref() == Some(r)) =>
                    {
                        Some(x)
                    }
                    _ => None,
                }));
            }
        }
    }
    let is_needed = |m: &vigil_sigma::Meta| {
        m.id.as_deref().is_some_and(|i| needed.contains(i))
            || m.name.as_deref().is_some_and(|n| needed.contains(n))
    };
    // 0 drop, 1 keep, 2 keep silent.
    let verdicts: Vec<u8> = docs
        .iter()
        .map(|(_, d)| {
            let m = doc_meta(d);
            if enabled(m) {
                1
            } else if !matches!(d, Document::Filter(_)) && is_needed(m) {
                2
            } else {
                0
            }
        })
        .collect();
    let mut silent = HashSet::new();
    let mut keep = Vec::with_capacity(docs.len());
    let mut dropped = 0usize;
    for ((p, d), v) in docs.into_iter().zip(verdicts) {
        match v {
            0 => dropped += 1,
            2 => {
                silent.insert(doc_meta(&d).id.clone().unwrap_or_default());
                keep.push((p, d));
            }
            _ => keep.push((p, d)),
        }
    }
    if dropped > 0 {
        tracing::info!(disabled = dropped, "disabled sigma rules left out");
    }
    (keep, silent)
}

/// Builds the Sigma detector `sec` and `rt` describe; `None` when disabled
/// or when there is no rule at all.
pub fn detector(
    sec: &SigmaSection,
    registry: &FieldRegistry,
    rt: &SigmaRuntime,
) -> Result<Option<SigmaDetector>> {
    let mut skipped: Vec<RuleLoadError> = Vec::new();
    let built = build(sec, registry, rt, &mut skipped);
    // A failed build keeps the previous detectors, and their report.
    if built.is_ok()
        && let Some(r) = &rt.errors
    {
        r.replace(skipped, vigil_model::SystemClock.now());
    }
    built
}

fn build(
    sec: &SigmaSection,
    registry: &FieldRegistry,
    rt: &SigmaRuntime,
    skipped: &mut Vec<RuleLoadError>,
) -> Result<Option<SigmaDetector>> {
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
            skipped.push(RuleLoadError::file(path.clone(), reason.clone()));
        }
        sources.extend(files);
    }
    let state: HashMap<&str, &RuleRecord> = rt.state.iter().map(|r| (r.id.as_str(), r)).collect();
    let n_files = sources.len();
    sources.extend(uploads(&rt.state));
    if sources.is_empty() {
        return Ok(None);
    }
    let mut docs = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, ((p, t), parsed)) in sources.iter().zip(parse_files(&sources)).enumerate() {
        let path: Arc<str> = Arc::from(p.as_str());
        for d in parsed {
            match d {
                Ok(d) => {
                    let id = doc_meta(&d).id.clone();
                    if i >= n_files {
                        // An upload's document counts only from its record's
                        // current text, and never shadows a file's rule.
                        let current = id.as_deref().and_then(|id| state.get(id)).is_some_and(|r| {
                            r.source == RuleSource::Api && r.content.as_ref() == Some(t)
                        });
                        if !current || id.as_ref().is_some_and(|id| seen.contains(id)) {
                            continue;
                        }
                    }
                    if let Some(id) = id {
                        seen.insert(id);
                    }
                    docs.push((path.clone(), d));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sigma rule skipped");
                    skipped.push(RuleLoadError::from_sigma(&e));
                }
            }
        }
    }
    let (docs, silent) = select(docs, &state);
    let (set, errors) = RuleSet::compile(docs, registry, &config);
    for e in &errors {
        tracing::warn!(error = %e, "sigma rule skipped");
        skipped.push(RuleLoadError::from_sigma(e));
    }
    let limits = CorrelationConfig {
        max_groups: sec.max_groups,
        max_entries: sec.max_group_events,
    };
    let (mut d, errors) = SigmaDetector::new(Arc::new(set), registry, &config, limits);
    for e in &errors {
        tracing::warn!(error = %e, "sigma correlation skipped");
        skipped.push(RuleLoadError::from_sigma(e));
    }
    d.set_overrides(|id| {
        let r = state.get(id);
        let o = RuleOverride {
            silent: silent.contains(id),
            level: r
                .and_then(|r| r.level_override.as_deref())
                .and_then(|l| l.parse::<Level>().ok()),
            tags: r.and_then(|r| r.tags_override.clone()),
        };
        (o != RuleOverride::default()).then_some(o)
    });
    if let Some(m) = &rt.metrics {
        d.set_stats_sink(Arc::new(m.clone()));
    }
    tracing::info!(
        rules = d.rules().rules().len(),
        correlations = d.rules().correlations().count(),
        "sigma rules loaded"
    );
    Ok(Some(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A build records the rules it left out, with file and line, for the
    /// console's rules page; a good rule still loads. See: #9
    #[test]
    fn builds_record_the_rules_they_skip() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("good.yml"),
            "title: good\nid: 00000000-0000-4000-8000-0000000000b1\nlogsource: {product: windows}\n\
             detection: {sel: {EventID: 1}, condition: sel}\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("broken.yml"),
            "title: broken\nlogsource: {product: windows}\ndetection:\n  sel:\n    EventID: 1\n  condition: nope\n",
        )
        .expect("write");
        let sec = SigmaSection {
            builtin: false,
            rules: vec![dir.path().to_path_buf()],
            ..SigmaSection::default()
        };
        let errors = vigil_server::RuleLoadErrors::default();
        let rt = SigmaRuntime {
            errors: Some(errors.clone()),
            ..SigmaRuntime::default()
        };
        let d = detector(&sec, &FieldRegistry::new(), &rt)
            .expect("build")
            .expect("a detector");
        assert_eq!(d.rules().rules().len(), 1);
        let (list, total, at) = errors.snapshot();
        assert_eq!(total, 1, "{list:?}");
        assert!(list[0].path.ends_with("broken.yml"), "{list:?}");
        assert!(list[0].line > 0, "{list:?}");
        assert!(at.is_some());
    }
}

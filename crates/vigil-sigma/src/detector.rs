//! [`SigmaDetector`]: a compiled [`RuleSet`] and its [`Correlator`] as a
//! pipeline [`Detector`] (id `sigma`). Per event: Linux auth messages are
//! parsed into fields ([`crate::linux`]), the rules are evaluated (log-source
//! routing included), each match raises an alert unless a correlation hides
//! it (`generate`), and matches feed the correlations, whose firings raise
//! alerts too. Windows close on the detector timer; the correlation state is
//! the detector snapshot, so restarts and hot reloads keep open windows.

use std::sync::Arc;

use serde_json::{Map, Value as J, json};
use vigil_model::{
    Alert, AlertId, DetectCtx, DetectError, Detector, Entities, Event, FieldId, FieldRegistry,
    Severity, TenantId, Timestamp,
};

use crate::compile::{Config, RuleSet};
use crate::correlate::{CorrelationConfig, CorrelationStats, Correlator, Firing};
use crate::error::Error;
use crate::eval::{Scratch, Verdict};
use crate::rule::{Level, Meta};

/// Streams events through Sigma rules and correlations; detector id
/// [`SigmaDetector::ID`].
#[derive(Debug)]
pub struct SigmaDetector {
    rules: Arc<RuleSet>,
    corr: Correlator,
    scratch: Scratch,
    verdicts: Vec<Verdict>,
    firings: Vec<Firing>,
    /// Per detection rule: its id and operator state.
    info: Vec<RuleInfo>,
    /// Per correlation: its operator state.
    corr_info: Vec<RuleInfo>,
    /// Where correlation counters go, with what was last published.
    stats_sink: Option<(Arc<dyn StatsSink>, CorrelationStats)>,
}

/// The operator's state of one rule or correlation (rule management):
/// whether it raises alerts and what replaces its level and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOverride {
    /// Raise no alert of its own; a disabled rule that an enabled
    /// correlation reads still feeds it. By default, false.
    pub silent: bool,
    /// Replaces the rule's level in its alerts. By default, none.
    pub level: Option<Level>,
    /// Replace the rule's tags in its alerts. By default, none.
    pub tags: Option<Vec<String>>,
}

/// Receives the correlation counters of a [`SigmaDetector`] (for metrics):
/// the counters' increase since the last call, and the open groups now.
/// Called after events that touched a correlation, on timers and after a
/// restore; one sink may outlive many detectors (hot reloads), so the
/// counters it adds up stay monotonic.
pub trait StatsSink: Send + Sync + std::fmt::Debug {
    /// `delta`: counter increases (its `groups` is 0); `groups`: open
    /// groups now.
    fn publish(&self, delta: &CorrelationStats, groups: usize);
}

#[derive(Debug, Clone)]
struct RuleInfo {
    id: String,
    severity: Severity,
    level: Option<Level>,
    tags: Option<Vec<String>>,
    silent: bool,
}

impl RuleInfo {
    fn new(m: &Meta, id: String) -> Self {
        Self {
            id,
            severity: severity(m.level),
            level: m.level,
            tags: None,
            silent: false,
        }
    }

    fn apply(&mut self, o: &RuleOverride) {
        if let Some(l) = o.level {
            self.level = Some(l);
            self.severity = severity(Some(l));
        }
        self.tags.clone_from(&o.tags);
        self.silent = o.silent;
    }
}

fn delta(now: &CorrelationStats, before: &CorrelationStats) -> CorrelationStats {
    CorrelationStats {
        groups: 0,
        contributions: now.contributions.saturating_sub(before.contributions),
        fired: now.fired.saturating_sub(before.fired),
        evicted: now.evicted.saturating_sub(before.evicted),
        truncated: now.truncated.saturating_sub(before.truncated),
        late: now.late.saturating_sub(before.late),
        ungrouped: now.ungrouped.saturating_sub(before.ungrouped),
        expired: now.expired.saturating_sub(before.expired),
    }
}

/// The alert's rule id: the rule's `id`, else its `name`, else its title.
fn rule_id(m: &Meta) -> String {
    m.id.clone()
        .or_else(|| m.name.clone())
        .unwrap_or_else(|| m.title.clone())
}

fn severity(l: Option<Level>) -> Severity {
    match l {
        Some(Level::Informational) => Severity::Informational,
        Some(Level::Low) => Severity::Low,
        None | Some(Level::Medium) => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

impl SigmaDetector {
    /// The detector id (snapshots and reloads are keyed by it).
    pub const ID: &'static str = "sigma";

    /// A detector over `rules`, with correlation state bounded by `cfg`.
    /// `config` must be the one `rules` were compiled with (its field
    /// mappings resolve group-by fields). Returns the correlation errors
    /// (unknown references, cycles); those correlations are left out.
    pub fn new(
        rules: Arc<RuleSet>,
        registry: &FieldRegistry,
        config: &Config,
        cfg: CorrelationConfig,
    ) -> (Self, Vec<Error>) {
        let (corr, errors) = Correlator::new(&rules, registry, config, cfg);
        let info = rules
            .rules()
            .iter()
            .map(|r| RuleInfo::new(&r.rule.meta, rule_id(&r.rule.meta)))
            .collect();
        let corr_info = corr
            .correlations()
            .iter()
            .map(|c| RuleInfo::new(&c.rule.meta, c.key.clone()))
            .collect();
        let scratch = rules.scratch();
        (
            Self {
                rules,
                corr,
                scratch,
                verdicts: Vec::new(),
                firings: Vec::new(),
                info,
                corr_info,
                stats_sink: None,
            },
            errors,
        )
    }

    /// Applies the operator's state to the rules and correlations:
    /// `state(id)` for each (its `id`, else `name`, else title; correlations
    /// by their state key). Rules it returns `None` for keep their own
    /// level and tags.
    pub fn set_overrides(&mut self, state: impl Fn(&str) -> Option<RuleOverride>) {
        for i in self.info.iter_mut().chain(self.corr_info.iter_mut()) {
            if let Some(o) = state(&i.id) {
                i.apply(&o);
            }
        }
    }

    /// Publishes the correlation counters to `sink` from now on (see
    /// [`StatsSink`]).
    pub fn set_stats_sink(&mut self, sink: Arc<dyn StatsSink>) {
        let now = self.corr.stats();
        sink.publish(&CorrelationStats::default(), now.groups);
        self.stats_sink = Some((sink, now));
    }

    fn publish_stats(&mut self) {
        if let Some((sink, last)) = &mut self.stats_sink {
            let now = self.corr.stats();
            sink.publish(&delta(&now, last), now.groups);
            *last = now;
        }
    }

    /// The compiled rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Correlation counters (open groups, evictions, late events, …).
    pub fn stats(&self) -> CorrelationStats {
        self.corr.stats()
    }

    fn rule_alert(&self, v: &Verdict, ev: &Event, ctx: &DetectCtx<'_>) -> Alert {
        let lr = &self.rules.rules()[v.rule];
        let info = &self.info[v.rule];
        let mut a = Alert::for_event(
            ev,
            ctx.registry,
            Self::ID,
            &info.id,
            &lr.rule.meta.title,
            info.severity,
            ctx.now,
        );
        a.tags = info
            .tags
            .clone()
            .unwrap_or_else(|| lr.rule.meta.tags.clone());
        let mut matched = Map::new();
        for (name, f) in &v.fields {
            let vals: Vec<J> = ev.get_all(*f).map(|x| x.to_json()).collect();
            let val = match vals.len() {
                1 => vals.into_iter().next().unwrap_or(J::Null),
                _ => J::Array(vals),
            };
            matched.insert(name.to_string(), val);
        }
        let ls = &lr.rule.logsource;
        a.details = json!({
            "engine": "sigma",
            "rule_path": &*lr.path,
            "level": info.level.map(|l| l.to_string()),
            "status": lr.rule.meta.status.map(|s| s.to_string()),
            "logsource": {
                "product": ls.product, "category": ls.category, "service": ls.service,
            },
            "selections": v.selections.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "matched": matched,
        });
        a
    }

    fn corr_alert(&self, f: &Firing, ev: Option<&Event>, ctx: &DetectCtx<'_>) -> Alert {
        let c = &self.corr.correlations()[f.correlation];
        let meta = &c.rule.meta;
        let info = &self.corr_info[f.correlation];
        let sev = info.severity;
        let group: Map<String, J> = f
            .group
            .iter()
            .map(|(k, v)| (k.clone(), J::String(v.clone())))
            .collect();
        let details = json!({
            "engine": "sigma",
            "correlation": format!("{:?}", c.rule.kind),
            "rule_path": &*c.path,
            "rules": c.rule.rules,
            "group": group,
            "value": f.value,
            "condition": c.rule.condition.as_ref().map(|cc| cc.ops.iter().map(|(op, n)| format!("{op:?} {n}")).collect::<Vec<_>>()),
            "window_start": Timestamp::from_micros(f.window_start).to_rfc3339(),
            "window_end": Timestamp::from_micros(f.time).to_rfc3339(),
            "events": f.events,
            "timespan_secs": c.rule.timespan_secs,
        });
        let mut a = match ev.filter(|_| !f.closed) {
            Some(ev) => Alert::for_event(
                ev,
                ctx.registry,
                Self::ID,
                &c.key,
                &meta.title,
                sev,
                ctx.now,
            ),
            None => {
                let gkey: Vec<&str> = f.group.iter().map(|(_, v)| v.as_str()).collect();
                let get = |names: &[&str]| {
                    f.group
                        .iter()
                        .find(|(k, _)| names.contains(&k.as_str()))
                        .map(|(_, v)| v.clone())
                };
                Alert {
                    id: AlertId::derive(
                        Self::ID,
                        &c.key,
                        &format!("{}|{}|{}", f.tenant, gkey.join("\u{1f}"), f.window_start),
                    ),
                    tenant: f.tenant.parse().unwrap_or(TenantId::DEFAULT),
                    detector: Self::ID.to_owned(),
                    rule_id: c.key.clone(),
                    title: meta.title.clone(),
                    severity: sev,
                    created_at: ctx.now,
                    event_time: Timestamp::from_micros(f.time),
                    event_id: None,
                    entities: Entities {
                        host: get(&["host.name", "Computer", "ComputerName", "Hostname"]),
                        user: get(&["user.name", "User", "TargetUserName", "SubjectUserName"]),
                        source_ip: get(&["source.ip", "IpAddress", "SourceIp", "src_ip"]),
                        destination_ip: get(&["destination.ip", "DestinationIp", "dst_ip"]),
                        process: get(&["process.executable", "Image", "process.name"]),
                        ..Entities::default()
                    },
                    tags: Vec::new(),
                    details: J::Null,
                    event: J::Object(Map::new()),
                }
            }
        };
        a.tags = info.tags.clone().unwrap_or_else(|| meta.tags.clone());
        a.details = details;
        a
    }

    fn raise_firings(&mut self, ev: Option<&Event>, ctx: &mut DetectCtx<'_>) {
        let firings = std::mem::take(&mut self.firings);
        for f in &firings {
            if f.emit && !self.corr_info[f.correlation].silent {
                let a = self.corr_alert(f, ev, ctx);
                ctx.raise(a);
            }
        }
        self.firings = firings;
        self.firings.clear();
    }
}

impl Detector for SigmaDetector {
    fn id(&self) -> &str {
        Self::ID
    }

    fn on_event(&mut self, event: &Event, ctx: &mut DetectCtx<'_>) {
        let enriched;
        let ev = match (
            event.get_str(FieldId::LOG_SYSLOG_APPNAME),
            event.get_str(FieldId::MESSAGE),
        ) {
            (Some(p), Some(m)) if crate::linux::parse_auth_message(p, m).is_some() => {
                enriched = crate::linux::enrich_syslog_event(event, ctx.registry);
                &enriched
            }
            _ => event,
        };
        let mut verdicts = std::mem::take(&mut self.verdicts);
        verdicts.clear();
        self.rules
            .evaluate_with(&mut self.scratch, ev, &mut verdicts);
        let wall = ctx.now.as_micros();
        let mut observed = false;
        for v in &verdicts {
            if self.corr.rule_emits(v.rule) && !self.info[v.rule].silent {
                let a = self.rule_alert(v, ev, ctx);
                ctx.raise(a);
            }
            if self.corr.is_referenced(v.rule) {
                self.corr.observe(v.rule, ev, wall, &mut self.firings);
                observed = true;
            }
        }
        self.verdicts = verdicts;
        if !self.firings.is_empty() {
            self.raise_firings(Some(ev), ctx);
        }
        if observed {
            self.publish_stats();
        }
    }

    fn next_deadline(&self) -> Option<Timestamp> {
        self.corr.next_deadline().map(Timestamp::from_micros)
    }

    fn on_timer(&mut self, now: Timestamp, ctx: &mut DetectCtx<'_>) {
        self.corr.on_timer(now.as_micros(), &mut self.firings);
        if !self.firings.is_empty() {
            self.raise_firings(None, ctx);
        }
        self.publish_stats();
    }

    fn snapshot(&self) -> Result<Option<Vec<u8>>, DetectError> {
        Ok(Some(self.corr.snapshot()))
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), DetectError> {
        self.corr
            .restore(state)
            .map_err(|reason| DetectError::Restore {
                detector: Self::ID.to_owned(),
                reason,
            })?;
        // The restored counters were published by the previous detector
        // (or a previous process): only the open groups are news.
        if let Some((sink, last)) = &mut self.stats_sink {
            *last = self.corr.stats();
            sink.publish(&CorrelationStats::default(), last.groups);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;

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
    /// Per detection rule: (rule id, severity).
    info: Vec<(String, Severity)>,
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
            .map(|r| (rule_id(&r.rule.meta), severity(r.rule.meta.level)))
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
            },
            errors,
        )
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
        let (id, sev) = &self.info[v.rule];
        let mut a = Alert::for_event(
            ev,
            ctx.registry,
            Self::ID,
            id,
            &lr.rule.meta.title,
            *sev,
            ctx.now,
        );
        a.tags = lr.rule.meta.tags.clone();
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
            "level": lr.rule.meta.level.map(|l| l.to_string()),
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
        let sev = severity(meta.level);
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
                    },
                    tags: Vec::new(),
                    details: J::Null,
                    event: J::Object(Map::new()),
                }
            }
        };
        a.tags = meta.tags.clone();
        a.details = details;
        a
    }

    fn raise_firings(&mut self, ev: Option<&Event>, ctx: &mut DetectCtx<'_>) {
        let firings = std::mem::take(&mut self.firings);
        for f in &firings {
            if f.emit {
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
        for v in &verdicts {
            if self.corr.rule_emits(v.rule) {
                let a = self.rule_alert(v, ev, ctx);
                ctx.raise(a);
            }
            if self.corr.is_referenced(v.rule) {
                self.corr.observe(v.rule, ev, wall, &mut self.firings);
            }
        }
        self.verdicts = verdicts;
        if !self.firings.is_empty() {
            self.raise_firings(Some(ev), ctx);
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
    }

    fn snapshot(&self) -> Result<Option<Vec<u8>>, DetectError> {
        Ok(Some(self.corr.snapshot()))
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), DetectError> {
        self.corr
            .restore(state)
            .map(|_| ())
            .map_err(|reason| DetectError::Restore {
                detector: Self::ID.to_owned(),
                reason,
            })
    }
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;

//! The intel [`Detector`]: matches every event against the [`MatchIndex`]
//! and raises one alert per active indicator hit, carrying the indicator's
//! context (type, value, feeds, confidence, TLP, related actors/malware,
//! ATT&CK techniques), plus an `intel.sighting` effect the store counts.
//!
//! It holds the match index and the compact [`Contexts`] only — full
//! records stay in the store; build it with [`IntelDetectorBuilder`] from
//! indicators streamed out of the store, one page at a time.

use std::sync::Arc;

use serde_json::json;
use vigil_model::{Alert, DetectCtx, Detector, Effect, Event, FieldRegistry, Severity, Timestamp};

use crate::context::{Context, Contexts, ContextsBuilder, Skipped};
use crate::decay::DecayModel;
use crate::index::MatchIndex;
use crate::indicator::{Indicator, IndicatorSet};
use crate::matcher::{Match, Matcher};

/// Matches events against indicators; stateless (sightings go out as
/// effects). Rebuild it (hot reload) when the indicators change; expiry and
/// decay need no rebuild (each hit checks the indicator's active window).
#[derive(Debug)]
pub struct IntelDetector {
    id: String,
    contexts: Arc<Contexts>,
    index: Arc<MatchIndex>,
    matcher: Matcher,
    buf: Vec<Match>,
}

/// What [`IntelDetectorBuilder`] took in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Indicators offered.
    pub offered: usize,
    /// Kept and indexed.
    pub indexed: usize,
    /// Left out: past `valid_until` or decayed at build time.
    pub inactive: usize,
    /// Left out: the value does not fit its type's index, or the tables
    /// are full.
    pub unindexable: usize,
}

/// Builds an [`IntelDetector`] one indicator at a time (the index and the
/// contexts share ids).
#[derive(Debug)]
pub struct IntelDetectorBuilder {
    contexts: ContextsBuilder,
    index: MatchIndex,
    stats: BuildStats,
}

impl IntelDetectorBuilder {
    /// Leaves out indicators inactive at `now`; with `decay`, decayed ones
    /// count as inactive (and the rest stop matching when they decay).
    pub fn new(now: Timestamp, decay: Option<DecayModel>) -> Self {
        Self {
            contexts: ContextsBuilder::new(now, decay),
            index: MatchIndex::new(),
            stats: BuildStats::default(),
        }
    }

    /// When each feed last synced (see [`ContextsBuilder::feed_assertions`]).
    pub fn feed_assertions(&mut self, asserted: impl IntoIterator<Item = (String, Timestamp)>) {
        self.contexts.feed_assertions(asserted);
    }

    /// Adds one indicator.
    pub fn add(&mut self, ind: &Indicator) {
        self.stats.offered += 1;
        if !self.index.accepts(ind.kind, &ind.value) {
            self.stats.unindexable += 1;
            return;
        }
        match self.contexts.push(ind) {
            Ok(id) => {
                self.index.insert(ind.kind, &ind.value, id);
                self.stats.indexed += 1;
            }
            Err(Skipped::Inactive) => self.stats.inactive += 1,
            Err(Skipped::Full) => self.stats.unindexable += 1,
        }
    }

    /// What was taken in so far.
    pub fn stats(&self) -> BuildStats {
        self.stats
    }

    /// The detector with id `id`; field names are resolved in `registry`.
    pub fn build(self, id: &str, registry: &FieldRegistry) -> IntelDetector {
        let mut index = self.index;
        index.shrink();
        IntelDetector {
            id: id.to_string(),
            contexts: Arc::new(self.contexts.finish()),
            index: Arc::new(index),
            matcher: Matcher::new(registry),
            buf: Vec::new(),
        }
    }
}

impl IntelDetector {
    /// A detector over every indicator of `set` active at `now` (see
    /// [`IntelDetectorBuilder`]).
    pub fn from_set(
        id: &str,
        registry: &FieldRegistry,
        set: &IndicatorSet,
        now: Timestamp,
        decay: Option<DecayModel>,
    ) -> Self {
        let mut b = IntelDetectorBuilder::new(now, decay);
        for (_, ind) in set.iter() {
            b.add(ind);
        }
        b.build(id, registry)
    }

    /// Indicators it matches (before expiry at match time).
    pub fn len(&self) -> usize {
        self.contexts.len()
    }

    /// True when it has no indicators.
    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }

    /// Heap bytes of the match index and the contexts.
    pub fn heap_bytes(&self) -> usize {
        self.index.heap_bytes() + self.contexts.heap_bytes()
    }

    /// Heap bytes of the match index alone.
    pub fn index_heap_bytes(&self) -> usize {
        self.index.heap_bytes()
    }
}

/// Alert severity from confidence: ≥ 85 high, ≥ 50 medium, else low.
fn severity(c: &Context<'_>) -> Severity {
    match c.confidence {
        85.. => Severity::High,
        50.. => Severity::Medium,
        _ => Severity::Low,
    }
}

impl Detector for IntelDetector {
    fn id(&self) -> &str {
        &self.id
    }

    fn on_event(&mut self, event: &Event, ctx: &mut DetectCtx<'_>) {
        self.buf.clear();
        self.matcher.match_event(&self.index, event, &mut self.buf);
        for m in &self.buf {
            let Some(ind) = self.contexts.get(m.indicator) else {
                continue;
            };
            if !ind.active_at(ctx.now) {
                continue;
            }
            let rule_id = format!("intel:{}:{}", ind.kind, ind.value);
            let title = format!("Threat intel match: {} {}", ind.kind, ind.value);
            let mut alert = Alert::for_event(
                event,
                ctx.registry,
                &self.id,
                &rule_id,
                &title,
                severity(&ind),
                ctx.now,
            );
            let p = ind.profile;
            alert.tags = p
                .techniques
                .iter()
                .map(|t| format!("attack.{}", t.to_ascii_lowercase()))
                .chain(p.labels.iter().map(|l| l.to_string()))
                .collect();
            let field = ctx.registry.name(m.field).map(|n| n.to_string());
            alert.details = json!({
                "indicator": {
                    "type": ind.kind.as_str(),
                    "value": ind.value,
                    "confidence": ind.confidence,
                    "tlp": ind.tlp.map(|t| t.as_str()),
                    "feeds": p.feeds.iter().map(|f| json!({"feed": &**f})).collect::<Vec<_>>(),
                    "related": &*p.related,
                    "techniques": &*p.techniques,
                    "valid_until": ind.valid_until,
                },
                "field": field,
                "observed": m.observed,
            });
            ctx.raise(alert);
            ctx.effect(Effect {
                kind: "intel.sighting".into(),
                key: format!("{}:{}", ind.kind, ind.value),
                payload: json!({
                    "type": ind.kind.as_str(),
                    "value": ind.value,
                    "tenant": event.tenant.to_string(),
                    "event_id": event.id.to_string(),
                    "at": event.time.unwrap_or(event.received_at),
                    "field": field,
                }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::{IndicatorType, Tlp};
    use vigil_model::{EventBuilder, EventFormat, TenantId, Timestamp, Value};

    #[test]
    fn raises_alert_with_context() {
        let mut set = IndicatorSet::new();
        let mut i = Indicator::new(
            IndicatorType::Domain,
            "evil.example",
            "unit42",
            Some("indicator--x"),
        )
        .unwrap();
        i.confidence = 90;
        i.tlp = Some(Tlp::Amber);
        i.techniques.insert("T1071.004".into());
        i.related.insert("BadRAT".into());
        set.insert(i);
        let reg = FieldRegistry::new();
        let mut d = IntelDetector::from_set("intel", &reg, &set, Timestamp::from_secs(0), None);
        let mut b = EventBuilder::new(
            TenantId::DEFAULT,
            Timestamp::from_secs(9),
            "t",
            EventFormat::Json,
            b"{}".to_vec(),
        );
        b.push(
            reg.intern("dns.question.name").unwrap(),
            Value::Str("a.evil.example".into()),
        );
        let ev = b.build();
        let mut ctx = DetectCtx::new(&reg, Timestamp::from_secs(10));
        d.on_event(&ev, &mut ctx);
        let (alerts, effects) = ctx.into_outputs();
        assert_eq!((alerts.len(), effects.len()), (1, 1));
        let a = &alerts[0];
        assert_eq!(a.severity, Severity::High);
        assert_eq!(a.rule_id, "intel:domain:evil.example");
        assert_eq!(a.tags, ["attack.t1071.004"]);
        assert_eq!(a.details["indicator"]["tlp"], "TLP:AMBER");
        assert_eq!(a.details["indicator"]["feeds"][0]["feed"], "unit42");
        assert_eq!(a.details["field"], "dns.question.name");
        assert_eq!(effects[0].kind, "intel.sighting");
        assert_eq!(effects[0].payload["type"], "domain");
        assert_eq!(effects[0].payload["value"], "evil.example");
        assert_eq!(effects[0].payload["at"], "1970-01-01T00:00:09.000000Z");
    }
}

//! The intel [`Detector`]: matches every event against the [`MatchIndex`]
//! and raises one alert per indicator hit, carrying the indicator's context
//! (type, value, feeds, confidence, TLP, related actors/malware, ATT&CK
//! techniques), plus an `intel.sighting` effect the store counts.

use std::sync::Arc;

use serde_json::json;
use vigil_model::{Alert, DetectCtx, Detector, Effect, Event, FieldRegistry, Severity};

use crate::index::MatchIndex;
use crate::indicator::{Indicator, IndicatorSet};
use crate::matcher::{Match, Matcher};

/// Matches events against indicators; stateless (sightings go out as
/// effects). Rebuild it (hot reload) when the indicators change.
#[derive(Debug)]
pub struct IntelDetector {
    id: String,
    set: Arc<IndicatorSet>,
    index: Arc<MatchIndex>,
    matcher: Matcher,
    buf: Vec<Match>,
}

impl IntelDetector {
    /// A detector with id `id` over `set` and its `index` (built from the
    /// same set, so ids agree). Field names are resolved in `registry`.
    pub fn new(
        id: &str,
        registry: &FieldRegistry,
        set: Arc<IndicatorSet>,
        index: Arc<MatchIndex>,
    ) -> Self {
        Self {
            id: id.to_string(),
            set,
            index,
            matcher: Matcher::new(registry),
            buf: Vec::new(),
        }
    }
}

/// Alert severity from confidence: ≥ 85 high, ≥ 50 medium, else low.
fn severity(ind: &Indicator) -> Severity {
    match ind.confidence {
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
            let Some(ind) = self.set.get(m.indicator) else {
                continue;
            };
            let rule_id = format!("intel:{}:{}", ind.kind, ind.value);
            let title = format!("Threat intel match: {} {}", ind.kind, ind.value);
            let mut alert = Alert::for_event(
                event,
                ctx.registry,
                &self.id,
                &rule_id,
                &title,
                severity(ind),
                ctx.now,
            );
            alert.tags = ind
                .techniques
                .iter()
                .map(|t| format!("attack.{}", t.to_ascii_lowercase()))
                .chain(ind.labels.iter().cloned())
                .collect();
            let field = ctx.registry.name(m.field).map(|n| n.to_string());
            alert.details = json!({
                "indicator": {
                    "type": ind.kind.as_str(),
                    "value": ind.value,
                    "confidence": ind.confidence,
                    "tlp": ind.tlp.map(|t| t.as_str()),
                    "feeds": ind.provenance.iter().map(|p| json!({"feed": p.feed, "object_id": p.object_id})).collect::<Vec<_>>(),
                    "related": ind.related,
                    "techniques": ind.techniques,
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
        let index = Arc::new(MatchIndex::build(&set));
        let reg = FieldRegistry::new();
        let mut d = IntelDetector::new("intel", &reg, Arc::new(set), index);
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

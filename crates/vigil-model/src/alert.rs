//! Alerts: what a detector raises, with a copy of the triggering event.

use serde::{Deserialize, Serialize};

use crate::{AlertId, Event, EventId, FieldId, FieldRegistry, Severity, TenantId, Timestamp};

/// The entity fields an alert is about, copied from the event's ECS fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    /// `host.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `user.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `source.ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `destination.ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_ip: Option<String>,
}

impl Entities {
    /// Reads the entity fields of an event (pre-resolved core ids, no lookup
    /// by name).
    pub fn from_event(ev: &Event) -> Self {
        let s = |f: FieldId| {
            ev.get(f)
                .map(|v| v.to_text().into_owned())
                .filter(|s| !s.is_empty())
        };
        Self {
            host: s(FieldId::HOST_NAME).or_else(|| ev.host.as_deref().map(str::to_owned)),
            user: s(FieldId::USER_NAME),
            source_ip: s(FieldId::SOURCE_IP),
            destination_ip: s(FieldId::DESTINATION_IP),
        }
    }
}

/// An alert raised by a detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Id; deterministic per (detector, rule, event) so re-evaluation after a
    /// crash cannot duplicate it.
    pub id: AlertId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// The detector that raised it (`sigma`, `intel`, `match`, …).
    pub detector: String,
    /// The rule within the detector.
    pub rule_id: String,
    /// Human-readable title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// When it was raised.
    pub created_at: Timestamp,
    /// When the triggering event happened (falls back to its receive time).
    pub event_time: Timestamp,
    /// The triggering event, while retention keeps it.
    pub event_id: Option<EventId>,
    /// Host, user and IPs involved.
    pub entities: Entities,
    /// Free-form tags (`attack.t1059.001`, …).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Detector-specific details (matched fields, counts, …).
    #[serde(default)]
    pub details: serde_json::Value,
    /// A copy of the triggering event (`fields` and `event.original`), kept
    /// even after retention deletes the event.
    #[serde(default)]
    pub event: serde_json::Value,
}

impl Alert {
    /// An alert for one event, with the id derived from (detector, rule,
    /// event id), entities and the event copy filled in.
    pub fn for_event(
        ev: &Event,
        registry: &FieldRegistry,
        detector: &str,
        rule_id: &str,
        title: &str,
        severity: Severity,
        now: Timestamp,
    ) -> Self {
        Self {
            id: AlertId::derive(detector, rule_id, &ev.id.to_string()),
            tenant: ev.tenant,
            detector: detector.to_owned(),
            rule_id: rule_id.to_owned(),
            title: title.to_owned(),
            severity,
            created_at: now,
            event_time: ev.time.unwrap_or(ev.received_at),
            event_id: Some(ev.id),
            entities: Entities::from_event(ev),
            tags: Vec::new(),
            details: serde_json::Value::Null,
            event: event_copy(ev, registry),
        }
    }
}

/// The copy of an event an alert keeps: its fields plus the original text.
pub fn event_copy(ev: &Event, registry: &FieldRegistry) -> serde_json::Value {
    let mut m = ev.fields_json(registry);
    m.insert(
        "event.original".into(),
        serde_json::Value::String(ev.raw_text().into_owned()),
    );
    m.insert(
        "vigil.source".into(),
        serde_json::Value::String(ev.source.to_string()),
    );
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventBuilder, EventFormat};

    #[test]
    fn alert_for_event_copies_entities_and_event() {
        let r = FieldRegistry::new();
        let mut b = EventBuilder::new(
            TenantId::DEFAULT,
            Timestamp::from_secs(5),
            "http",
            EventFormat::Json,
            *b"{\"a\":1}",
        );
        b.push(FieldId::USER_NAME, "alice".into());
        b.push(FieldId::SOURCE_IP, "10.0.0.1".into());
        let ev = b.build();
        let a = Alert::for_event(
            &ev,
            &r,
            "match",
            "r1",
            "T",
            Severity::High,
            Timestamp::from_secs(6),
        );
        assert_eq!(a.entities.user.as_deref(), Some("alice"));
        assert_eq!(a.entities.source_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(a.event_time, Timestamp::from_secs(5));
        assert_eq!(a.event["event.original"], "{\"a\":1}");
        assert_eq!(
            a.id,
            Alert::for_event(
                &ev,
                &r,
                "match",
                "r1",
                "T",
                Severity::High,
                Timestamp::from_secs(9)
            )
            .id
        );
    }
}

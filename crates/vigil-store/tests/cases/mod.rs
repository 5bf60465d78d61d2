//! The store cases, shared by both engines, and their fixtures.

mod alerts;
mod audit;
mod console;
mod console_admin;
mod console_reads;
mod detections;
mod events;
mod intel;
mod intel_ops;
mod jobs;
mod migrations;
mod related;
mod respond;
mod rules;
mod secrets;
mod taxii;
mod threats;
mod tokens;
mod vuln;
mod vuln_links;

pub use alerts::*;
pub use audit::*;
pub use console::*;
pub use console_admin::*;
pub use console_reads::*;
pub use detections::*;
pub use events::*;
pub use intel::*;
pub use intel_ops::*;
pub use jobs::*;
pub use migrations::*;
pub use related::*;
pub use respond::*;
pub use rules::*;
pub use secrets::*;
pub use taxii::*;
pub use threats::*;
pub use tokens::*;
pub use vuln::*;
pub use vuln_links::*;

use vigil_model::{
    Alert, AlertId, Entities, Event, EventBuilder, EventFormat, Principal, Severity, TenantId,
    Timestamp,
};

/// A second tenant, created by cases that need one.
pub const OTHER: TenantId = TenantId::from_uuid(uuid::Uuid::from_u128(2));

pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_secs(secs)
}

/// An event received at `secs` with ~300 bytes of raw JSON.
pub fn event(tenant: TenantId, secs: i64, n: usize) -> Event {
    let raw = format!(
        "{{\"n\":{n},\"host\":\"web-{}\",\"msg\":\"{}\"}}",
        n % 7,
        "x".repeat(260)
    );
    let mut b = EventBuilder::new(tenant, t(secs), "test", EventFormat::Json, raw.into_bytes());
    b.set_time(t(secs - 1));
    if n.is_multiple_of(2) {
        b.set_host(&format!("web-{}", n % 7));
    }
    b.build()
}

/// A fully populated alert.
pub fn alert(tenant: TenantId, n: usize, created: Timestamp, severity: Severity) -> Alert {
    Alert {
        id: AlertId::derive("test", &format!("rule-{}", n % 5), &n.to_string()),
        tenant,
        detector: if n.is_multiple_of(2) {
            "sigma"
        } else {
            "intel"
        }
        .to_owned(),
        rule_id: format!("rule-{}", n % 5),
        title: format!("Alert {n}"),
        severity,
        created_at: created,
        event_time: created.add_micros(-5),
        event_id: (!n.is_multiple_of(3)).then(|| vigil_model::EventId::new_at(created)),
        entities: Entities {
            host: Some(format!("host-{n}")),
            user: (n.is_multiple_of(2)).then(|| "alice".to_owned()),
            source_ip: Some("10.0.0.1".into()),
            destination_ip: None,
            ..Entities::default()
        },
        tags: vec!["attack.t1059".into(), format!("n{n}")],
        details: serde_json::json!({ "n": n, "matched": ["a", "b"], "ratio": 0.5 }),
        event: serde_json::json!({ "event.original": format!("raw {n}"), "host.name": "h" }),
    }
}

pub fn admin() -> Principal {
    Principal::system("test")
}

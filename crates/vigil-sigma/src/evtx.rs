//! Windows event records in the evtx-JSON layout (what the `evtx` crate's
//! `records_json_value` and `evtx_dump -o json` produce) flattened to the
//! SigmaHQ field names: `Event.System.*` become `EventID`, `Channel`,
//! `Computer`, `Provider_Name`, …; `Event.EventData.*` and the leaves of
//! `Event.UserData.*` keep their own names (`Image`, `CommandLine`, …).
//!
//! Attributes become `<element>_<attribute>` (`Provider_Name`,
//! `TimeCreated_SystemTime`, `Execution_ProcessID`, `Security_UserID`).

use serde_json::Value as J;
use vigil_model::{
    Event, EventBuilder, EventFormat, FieldId, FieldRegistry, TenantId, Timestamp, Value,
};

/// Deepest nesting flattened under `UserData`/`EventData`.
const MAX_DEPTH: usize = 16;

/// Turns one evtx-JSON record (`{"Event": {...}}`, or the inner object) into
/// an [`Event`] with SigmaHQ field names. `raw` becomes the event's raw
/// bytes (pass the JSON text if you keep it, or an empty slice).
pub fn event_from_evtx_json(
    record: &J,
    registry: &FieldRegistry,
    source: &str,
    raw: impl Into<Box<[u8]>>,
) -> Event {
    let root = record.get("Event").unwrap_or(record);
    let mut b = EventBuilder::new(
        TenantId::DEFAULT,
        Timestamp::from_micros(0),
        source,
        EventFormat::Json,
        raw,
    );
    let mut fields: Vec<(FieldId, Value)> = Vec::with_capacity(48);
    let mut push = |name: &str, v: Value| {
        if let Some(id) = registry.intern(name) {
            fields.push((id, v));
        }
    };
    let mut time = None;
    let mut host = None;
    if let Some(sys) = root.get("System").and_then(J::as_object) {
        for (k, v) in sys {
            match v {
                J::Object(o) => {
                    let text = o.get("#text");
                    if let Some(t) = text {
                        scalar_into(k, t, &mut push);
                    }
                    if let Some(J::Object(attrs)) = o.get("#attributes") {
                        for (a, av) in attrs {
                            let name = format!("{k}_{a}");
                            if k == "TimeCreated" && a == "SystemTime" {
                                time = av.as_str().and_then(Timestamp::parse_rfc3339);
                            }
                            scalar_into(&name, av, &mut push);
                        }
                    }
                    if text.is_none() && o.get("#attributes").is_none() {
                        flatten_leaves(v, &mut push, 0);
                    }
                }
                other => {
                    if k == "Computer" {
                        host = other.as_str().map(str::to_string);
                    }
                    scalar_into(k, other, &mut push);
                }
            }
        }
    }
    for section in ["EventData", "UserData"] {
        if let Some(d) = root.get(section) {
            flatten_leaves(d, &mut push, 0);
        }
    }
    b.extend_fields(fields);
    if let Some(t) = time {
        b.set_time(t);
    }
    if let Some(h) = host {
        b.set_host(&h);
    }
    b.build()
}

fn scalar_into(name: &str, v: &J, push: &mut impl FnMut(&str, Value)) {
    match v {
        J::Null => push(name, Value::Null),
        J::Bool(b) => push(name, Value::Bool(*b)),
        J::Number(n) => push(
            name,
            match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
        ),
        J::String(s) => push(name, Value::from(s.as_str())),
        J::Array(a) => {
            for x in a {
                if !x.is_array() && !x.is_object() {
                    scalar_into(name, x, push);
                }
            }
        }
        J::Object(o) => {
            if let Some(t) = o.get("#text") {
                scalar_into(name, t, push);
            }
        }
    }
}

/// Leaves of an object under their own key (`#attributes` skipped except
/// as `<key>_<attr>`; `#text` under the parent's key).
fn flatten_leaves(v: &J, push: &mut impl FnMut(&str, Value), depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let J::Object(o) = v else { return };
    for (k, v) in o {
        if k == "#attributes" {
            continue;
        }
        match v {
            J::Object(inner) => {
                if let Some(t) = inner.get("#text") {
                    scalar_into(k, t, push);
                    if let Some(J::Object(attrs)) = inner.get("#attributes") {
                        for (a, av) in attrs {
                            scalar_into(&format!("{k}_{a}"), av, push);
                        }
                    }
                } else {
                    flatten_leaves(v, push, depth + 1);
                }
            }
            J::Array(items) => {
                for it in items {
                    match it {
                        J::Object(_) => flatten_leaves(it, push, depth + 1),
                        other => scalar_into(k, other, push),
                    }
                }
            }
            other => scalar_into(k, other, push),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_system_and_eventdata() {
        let j: J = serde_json::from_str(
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},
            "EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Channel":"System","Computer":"pc1",
            "TimeCreated":{"#attributes":{"SystemTime":"2025-11-27T07:40:10.165324Z"}}},
            "EventData":{"Image":"C:\\x.exe","Hashes":null,"Data":{"#text":["a","b"]}},
            "UserData":{"LogFileCleared":{"#attributes":{"xmlns":"x"},"SubjectUserName":"bob"}}}}"##,
        )
        .unwrap();
        let r = FieldRegistry::new();
        let e = event_from_evtx_json(&j, &r, "t", Vec::new());
        let get = |n: &str| e.get(r.get(n).unwrap()).cloned();
        assert_eq!(get("EventID"), Some(Value::Int(7045)));
        assert_eq!(get("EventID_Qualifiers"), Some(Value::Int(16384)));
        assert_eq!(
            get("Provider_Name"),
            Some(Value::from("Microsoft-Windows-Sysmon"))
        );
        assert_eq!(get("Channel"), Some(Value::from("System")));
        assert_eq!(get("Image"), Some(Value::from("C:\\x.exe")));
        assert_eq!(get("Hashes"), Some(Value::Null));
        assert_eq!(get("SubjectUserName"), Some(Value::from("bob")));
        assert_eq!(e.get_all(r.get("Data").unwrap()).count(), 2);
        assert_eq!(e.host.as_deref(), Some("pc1"));
        assert!(e.time.is_some());
    }
}

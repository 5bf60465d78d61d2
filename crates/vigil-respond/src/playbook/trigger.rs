//! Which triggers fire for an alert, an incident change, a sighting or a
//! finding.

use vigil_model::{Alert, Severity};

use super::model::{AlertTrigger, FindingTrigger, IncidentEvent, IncidentTrigger, SightingTrigger};
use super::template::Templates;
use crate::Result;

/// `*` matches any run of characters; everything else literally,
/// case-insensitively. ASCII text is compared byte-wise without allocating
/// (this runs for every playbook on every alert).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        return glob_bytes(pattern.as_bytes(), text.as_bytes(), |a, b| {
            a.eq_ignore_ascii_case(b)
        });
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    glob_bytes(&p, &t, |a, b| a == b)
}

fn glob_bytes<T: Copy + PartialEq + From<u8>>(
    p: &[T],
    t: &[T],
    eq: impl Fn(&T, &T) -> bool,
) -> bool {
    let star = T::from(b'*');
    let (mut pi, mut ti) = (0, 0);
    let (mut back, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != star && eq(&p[pi], &t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star {
            back = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = back {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == star)
}

/// Whether an alert trigger fires for `alert`. The condition sees the
/// alert as `alert`.
pub fn matches_alert(t: &AlertTrigger, alert: &Alert, templates: &Templates) -> Result<bool> {
    if !t.rules.is_empty() && !t.rules.iter().any(|r| glob(r, &alert.rule_id)) {
        return Ok(false);
    }
    if !t.detectors.is_empty()
        && !t
            .detectors
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&alert.detector))
    {
        return Ok(false);
    }
    if t.min_level.is_some_and(|min| alert.severity < min) {
        return Ok(false);
    }
    if !t
        .tags
        .iter()
        .all(|want| alert.tags.iter().any(|tag| glob(want, tag)))
    {
        return Ok(false);
    }
    let e = &alert.entities;
    for want in &t.entities {
        let present = match want.as_str() {
            "host" => e.host.is_some(),
            "user" => e.user.is_some(),
            "source_ip" => e.source_ip.is_some(),
            "destination_ip" => e.destination_ip.is_some(),
            "process" => e.process.is_some(),
            "command_line" => e.command_line.is_some(),
            "file_hash" => e.file_hash.is_some(),
            "domain" => e.domain.is_some(),
            _ => false,
        };
        if !present {
            return Ok(false);
        }
    }
    match &t.condition {
        Some(c) => {
            let ctx = serde_json::json!({ "alert": alert });
            templates.truthy(c, &ctx)
        }
        None => Ok(true),
    }
}

/// Whether an incident trigger fires. `incident` is the incident as JSON
/// (with `severity` and `category`).
pub fn matches_incident(
    t: &IncidentTrigger,
    event: IncidentEvent,
    incident: &serde_json::Value,
    templates: &Templates,
) -> Result<bool> {
    if !t.on.is_empty() && !t.on.contains(&event) {
        return Ok(false);
    }
    if let Some(min) = t.min_severity {
        let sev = incident["severity"]
            .as_str()
            .and_then(|s| s.parse::<Severity>().ok());
        if sev.is_none_or(|s| s < min) {
            return Ok(false);
        }
    }
    if !t.categories.is_empty() {
        let cat = incident["category"].as_str().unwrap_or("");
        if !t.categories.iter().any(|c| c.eq_ignore_ascii_case(cat)) {
            return Ok(false);
        }
    }
    match &t.condition {
        Some(c) => templates.truthy(c, &serde_json::json!({ "incident": incident })),
        None => Ok(true),
    }
}

/// Whether a sighting trigger fires. `sighting` has `type`, `value` and
/// `confidence`.
pub fn matches_sighting(
    t: &SightingTrigger,
    sighting: &serde_json::Value,
    templates: &Templates,
) -> Result<bool> {
    let kind = sighting["type"].as_str().unwrap_or("");
    if !t.types.is_empty() && !t.types.iter().any(|x| x.eq_ignore_ascii_case(kind)) {
        return Ok(false);
    }
    if sighting["confidence"].as_u64().unwrap_or(0) < u64::from(t.min_confidence) {
        return Ok(false);
    }
    match &t.condition {
        Some(c) => templates.truthy(c, &serde_json::json!({ "sighting": sighting })),
        None => Ok(true),
    }
}

/// Whether a finding trigger fires. `finding` has `decision` (SSVC).
pub fn matches_finding(
    t: &FindingTrigger,
    finding: &serde_json::Value,
    templates: &Templates,
) -> Result<bool> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let decision = norm(finding["decision"].as_str().unwrap_or(""));
    if !t.decisions.iter().any(|d| norm(d) == decision) {
        return Ok(false);
    }
    match &t.condition {
        Some(c) => templates.truthy(c, &serde_json::json!({ "finding": finding })),
        None => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::{AlertId, Entities, TenantId, Timestamp};

    fn alert(rule: &str, sev: Severity, tags: &[&str], ip: Option<&str>) -> Alert {
        Alert {
            id: AlertId::derive("sigma", rule, "e1"),
            tenant: TenantId::DEFAULT,
            detector: "sigma".into(),
            rule_id: rule.into(),
            title: "t".into(),
            severity: sev,
            created_at: Timestamp::from_secs(1),
            event_time: Timestamp::from_secs(1),
            event_id: None,
            entities: Entities {
                source_ip: ip.map(str::to_string),
                ..Entities::default()
            },
            tags: tags.iter().map(|s| s.to_string()).collect(),
            details: serde_json::json!({"count": 12}),
            event: serde_json::Value::Null,
        }
    }

    #[test]
    fn globs() {
        assert!(glob("builtin-ssh-*", "builtin-ssh-bruteforce"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b", "aXXc"));
        assert!(glob("ATTACK.T1110*", "attack.t1110.001"));
    }

    #[test]
    fn alert_filters() {
        let t = Templates::new();
        let trig = AlertTrigger {
            rules: vec!["builtin-ssh-*".into()],
            min_level: Some(Severity::High),
            tags: vec!["attack.t1110*".into()],
            entities: vec!["source_ip".into()],
            condition: Some("alert.details.count >= 10".into()),
            ..AlertTrigger::default()
        };
        let good = alert(
            "builtin-ssh-bruteforce",
            Severity::High,
            &["attack.t1110.001"],
            Some("1.2.3.4"),
        );
        assert!(matches_alert(&trig, &good, &t).unwrap());
        let low = alert(
            "builtin-ssh-bruteforce",
            Severity::Medium,
            &["attack.t1110.001"],
            Some("1.2.3.4"),
        );
        assert!(!matches_alert(&trig, &low, &t).unwrap());
        let other = alert(
            "lsass",
            Severity::High,
            &["attack.t1110.001"],
            Some("1.2.3.4"),
        );
        assert!(!matches_alert(&trig, &other, &t).unwrap());
        let no_ip = alert(
            "builtin-ssh-bruteforce",
            Severity::High,
            &["attack.t1110.001"],
            None,
        );
        assert!(!matches_alert(&trig, &no_ip, &t).unwrap());
        let untagged = alert(
            "builtin-ssh-bruteforce",
            Severity::High,
            &[],
            Some("1.2.3.4"),
        );
        assert!(!matches_alert(&trig, &untagged, &t).unwrap());
        let mut few = good.clone();
        few.details = serde_json::json!({"count": 3});
        assert!(!matches_alert(&trig, &few, &t).unwrap());
        assert!(matches_alert(&AlertTrigger::default(), &few, &t).unwrap());
    }

    #[test]
    fn other_triggers() {
        let t = Templates::new();
        let it = IncidentTrigger {
            on: vec![IncidentEvent::Created],
            min_severity: Some(Severity::High),
            categories: vec!["ransomware".into()],
            condition: None,
        };
        let inc = serde_json::json!({"severity": "critical", "category": "Ransomware"});
        assert!(matches_incident(&it, IncidentEvent::Created, &inc, &t).unwrap());
        assert!(!matches_incident(&it, IncidentEvent::Updated, &inc, &t).unwrap());
        let st = SightingTrigger {
            types: vec!["ipv4".into()],
            min_confidence: 70,
            condition: None,
        };
        assert!(
            matches_sighting(
                &st,
                &serde_json::json!({"type": "ipv4", "confidence": 80}),
                &t
            )
            .unwrap()
        );
        assert!(
            !matches_sighting(
                &st,
                &serde_json::json!({"type": "ipv4", "confidence": 60}),
                &t
            )
            .unwrap()
        );
        let ft = FindingTrigger {
            decisions: vec!["immediate".into(), "out-of-cycle".into()],
            condition: None,
        };
        assert!(
            matches_finding(&ft, &serde_json::json!({"decision": "Out_of_Cycle"}), &t).unwrap()
        );
        assert!(!matches_finding(&ft, &serde_json::json!({"decision": "defer"}), &t).unwrap());
    }
}

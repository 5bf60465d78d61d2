//! Incident changes shared by the API and the CLI: one set of rules for
//! status phases (NIST SP 800-61 transitions), the containment and closing
//! times they imply, flags checked against the clock rules, and the
//! timeline lines each change writes.

use vigil_model::{Severity, Timestamp};
use vigil_respond::clocks::Rule;
use vigil_respond::incident::IncidentStatus;
use vigil_store::IncidentRecord;

/// A requested change; `None` / empty fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct IncidentChange {
    /// New status.
    pub status: Option<String>,
    /// New severity.
    pub severity: Option<String>,
    /// New assignee.
    pub assignee: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category.
    pub category: Option<String>,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// Regulatory flags to set.
    pub flags: Vec<String>,
    /// Regulatory clocks done now.
    pub clocks_done: Vec<String>,
}

/// One timeline line: kind, text, details.
pub type TimelineLine = (String, String, serde_json::Value);

/// Sets `to` and the containment/closing times it implies.
pub fn apply_status(rec: &mut IncidentRecord, to: IncidentStatus, now: Timestamp) {
    if to.is_contained() && rec.contained_at.is_none() {
        rec.contained_at = Some(now);
    }
    rec.closed_at = (to == IncidentStatus::Closed).then_some(now);
    rec.status = to.as_str().to_string();
}

/// Checks flags against the flags the clock rules know.
pub fn check_flags(rules: &[Rule], flags: &[String]) -> Result<(), String> {
    let mut known: Vec<&str> = rules.iter().map(|r| r.applies_when.as_str()).collect();
    known.sort_unstable();
    known.dedup();
    match flags.iter().find(|f| !known.contains(&f.as_str())) {
        Some(f) => Err(format!(
            "unknown flag {f:?}; the clock rules know {}",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// Applies a change to `rec`; the timeline lines to write, or why it is
/// refused. An empty change is refused.
pub fn apply(
    rec: &mut IncidentRecord,
    c: &IncidentChange,
    rules: &[Rule],
    now: Timestamp,
) -> Result<Vec<TimelineLine>, String> {
    use serde_json::json;
    let mut lines = Vec::new();
    if let Some(s) = c.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let to: IncidentStatus = s.parse().map_err(|e: vigil_respond::Error| e.to_string())?;
        let from: IncidentStatus = rec
            .status
            .parse()
            .map_err(|e: vigil_respond::Error| e.to_string())?;
        from.check_transition(to).map_err(|e| e.to_string())?;
        apply_status(rec, to, now);
        lines.push((
            "status".into(),
            format!("{from} → {to}"),
            json!({ "from": from.as_str(), "to": to.as_str() }),
        ));
    }
    if let Some(s) = c
        .severity
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let sev: Severity = s.parse().map_err(|e| format!("severity: {e}"))?;
        if sev != rec.severity {
            lines.push((
                "severity".into(),
                format!("{} → {sev}", rec.severity),
                json!({ "to": sev.as_str() }),
            ));
            rec.severity = sev;
        }
    }
    if let Some(a) = c
        .assignee
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        && rec.assignee.as_deref() != Some(a)
    {
        rec.assignee = Some(a.to_string());
        lines.push((
            "assignee".into(),
            format!("assigned to {a}"),
            json!({ "assignee": a }),
        ));
    }
    if let Some(t) = c.title.as_deref().map(str::trim).filter(|s| !s.is_empty())
        && t != rec.title
    {
        rec.title = t.to_string();
        lines.push(("title".into(), format!("title: {t}"), json!({ "title": t })));
    }
    if let Some(d) = &c.description
        && *d != rec.description
    {
        rec.description.clone_from(d);
        lines.push((
            "description".into(),
            "description changed".into(),
            json!({}),
        ));
    }
    if let Some(cat) = c
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        && rec.category.as_deref() != Some(cat)
    {
        rec.category = Some(cat.to_string());
        lines.push((
            "category".into(),
            format!("category: {cat}"),
            json!({ "category": cat }),
        ));
    }
    for t in &c.add_tags {
        let t = t.trim();
        if !t.is_empty() && !rec.tags.iter().any(|x| x == t) {
            rec.tags.push(t.to_string());
            lines.push(("tag".into(), format!("tagged {t}"), json!({ "tag": t })));
        }
    }
    check_flags(rules, &c.flags)?;
    for f in &c.flags {
        if !rec.flags.contains(f) {
            rec.flags.push(f.clone());
            lines.push(("flag".into(), format!("flagged {f}"), json!({ "flag": f })));
        }
    }
    for clock in &c.clocks_done {
        if !rules.iter().any(|r| &r.id == clock) {
            return Err(format!(
                "unknown clock {clock:?}; one of {}",
                rules
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !rec.clocks_done.contains_key(clock) {
            rec.clocks_done.insert(clock.clone(), now);
            lines.push((
                "clock".into(),
                format!("{clock} done"),
                json!({ "clock": clock }),
            ));
        }
    }
    if lines.is_empty() && c.status.is_none() {
        return Err("nothing to change".into());
    }
    Ok(lines)
}

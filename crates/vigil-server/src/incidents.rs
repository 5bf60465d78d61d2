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

/// What the indicator store holds for `value` (exact, case-insensitive):
/// `{"value": …, "matches": [{type, value, confidence, tlp, labels, related}]}`.
pub async fn intel_context(
    store: &vigil_store::Store,
    tenant: vigil_model::TenantId,
    value: &str,
) -> Result<serde_json::Value, vigil_store::Error> {
    let v = value.trim();
    let matches: Vec<_> = store
        .search_indicators(tenant, v, 50)
        .await?
        .into_iter()
        .filter(|i| i.value.eq_ignore_ascii_case(v))
        .map(|i| {
            serde_json::json!({ "type": i.kind, "value": i.value, "confidence": i.confidence,
                "tlp": i.tlp, "labels": i.labels, "related": i.related })
        })
        .collect();
    Ok(serde_json::json!({ "value": v, "matches": matches }))
}

/// Adds the template tasks of the incident's category (idempotent: each
/// carries a key derived from the incident). Returns how many.
pub async fn apply_task_templates(
    store: &vigil_store::Store,
    tenant: vigil_model::TenantId,
    inc: &IncidentRecord,
    templates: &std::collections::HashMap<String, Vec<String>>,
    by: &vigil_model::Principal,
    now: Timestamp,
) -> Result<usize, vigil_store::Error> {
    let Some(tasks) = inc
        .category
        .as_deref()
        .and_then(|c| templates.iter().find(|(k, _)| k.eq_ignore_ascii_case(c)))
        .map(|(_, v)| v)
    else {
        return Ok(0);
    };
    for (i, title) in tasks.iter().enumerate() {
        let key = format!("{}:template:{i}", inc.id);
        store
            .add_task(tenant, &inc.id, title, "", Some(&key), by, now)
            .await?;
    }
    Ok(tasks.len())
}

/// MTTD and MTTA over every alert, MTTC and MTTR over every incident not
/// merged away, per severity and `period`.
pub async fn response_metrics(
    store: &vigil_store::Store,
    tenant: vigil_model::TenantId,
    period: vigil_respond::mttx::Period,
) -> Result<Vec<vigil_respond::mttx::Row>, vigil_store::Error> {
    use vigil_respond::mttx::{Metric, Sample};
    use vigil_store::{AlertCursor, AlertQuery, SortOrder};
    let mut samples = Vec::new();
    let mut cursor: Option<AlertCursor> = None;
    loop {
        let q = AlertQuery {
            tenant,
            limit: 1000,
            cursor,
            order: SortOrder::Asc,
            ..AlertQuery::default()
        };
        let page = store.list_alerts(&q).await?;
        let Some(last) = page.last() else { break };
        cursor = Some(AlertCursor::after(last));
        let ids: Vec<_> = page.iter().map(|a| a.id).collect();
        let triage = store.triage_of(tenant, &ids).await?;
        for a in &page {
            let sev = a.severity.as_str().to_string();
            samples.push(Sample {
                metric: Metric::Detect,
                severity: sev.clone(),
                start: a.event_time,
                end: Some(a.created_at),
            });
            samples.push(Sample {
                metric: Metric::Acknowledge,
                severity: sev,
                start: a.created_at,
                end: triage.get(&a.id).and_then(|t| t.acked_at),
            });
        }
        if page.len() < 1000 {
            break;
        }
    }
    let mut before = None;
    loop {
        let page = store.list_incidents(tenant, None, before, 1000).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.number);
        for i in page.iter().filter(|i| i.merged_into.is_none()) {
            let sev = i.severity.as_str().to_string();
            samples.push(Sample {
                metric: Metric::Contain,
                severity: sev.clone(),
                start: i.created_at,
                end: i.contained_at,
            });
            samples.push(Sample {
                metric: Metric::Resolve,
                severity: sev,
                start: i.created_at,
                end: i.closed_at,
            });
        }
        if page.len() < 1000 {
            break;
        }
    }
    Ok(vigil_respond::mttx::report(&samples, period))
}

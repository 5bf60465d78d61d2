//! "Test a rule": one pasted event against one Sigma rule (stored or
//! pasted), compiled and evaluated as the live detector does — the same
//! field mappings ([`crate::AppState::with_sigma_config`]), the same event
//! parsing as ingest (JSON through the ECS normaliser; evtx-JSON records as
//! the EVTX upload builds them) and the same Linux auth enrichment. Shared
//! by `POST /api/v1/rules/test` and the console's `/rules/test`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;
use vigil_model::{Event, FieldId, FieldRegistry, TenantId, Timestamp};
use vigil_sigma::{Config, RuleSet};
use vigil_store::{RuleRecord, RuleSource};

use crate::error::AppError;
use crate::state::AppState;

/// Largest rule text accepted, in bytes (Sigma's own file bound).
pub(crate) const MAX_RULE_BYTES: usize = vigil_sigma::MAX_FILE_SIZE;
/// Largest event accepted, in bytes.
pub(crate) const MAX_EVENT_BYTES: usize = 256 * 1024;

/// A problem with the rule or the event.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub(crate) struct TestProblem {
    /// `rule` (breaks the Sigma specification), `unsupported` (a
    /// construct Vigil does not evaluate) or `event` (the event is not a
    /// JSON object).
    pub(crate) kind: String,
    /// The rule's source name.
    pub(crate) path: String,
    /// 1-based line in the rule text, 0 when unknown.
    pub(crate) line: usize,
    /// 1-based column, 0 when unknown.
    pub(crate) column: usize,
    /// What is wrong.
    pub(crate) message: String,
}

/// A rule that matched the event.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub(crate) struct RuleMatch {
    /// The rule's `id`, if it has one.
    pub(crate) id: Option<String>,
    /// `title`.
    pub(crate) title: String,
    /// The selections that held.
    pub(crate) selections: Vec<String>,
    /// Sigma field name → the event's value(s), as in the alert's
    /// `details.matched`.
    #[schema(value_type = Object)]
    pub(crate) matched: BTreeMap<String, Json>,
    /// Sigma field name → the event field actually read (after mapping).
    pub(crate) fields: BTreeMap<String, String>,
}

/// The outcome of a test.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub(crate) struct TestOutcome {
    /// True when at least one rule matched.
    pub(crate) matched: bool,
    /// The rules that matched, with their matched fields.
    pub(crate) matches: Vec<RuleMatch>,
    /// How many detection rules compiled and were evaluated.
    pub(crate) evaluated: usize,
    /// Parse and compile errors of the rule, and a bad event.
    pub(crate) errors: Vec<TestProblem>,
    /// Remarks (correlations are not evaluated against one event, …).
    pub(crate) notes: Vec<String>,
}

/// A rule text to test, with the source name errors are reported under.
#[derive(Debug, Clone)]
pub(crate) struct RuleText {
    /// Source name (`pasted.yml`, the pack file, the path, `api/<id>`).
    pub(crate) path: String,
    /// The YAML.
    pub(crate) text: String,
    /// Only this rule of the text counts (a stored rule of a file with
    /// several documents).
    pub(crate) only: Option<String>,
}

/// The YAML of a stored rule: the upload's text, the built-in pack's file
/// or the rule directory's file (read now, bounded). `None` when it cannot
/// be had (a file since removed).
pub(crate) async fn stored_text(state: &AppState, r: &RuleRecord) -> Option<String> {
    match r.source {
        RuleSource::Api => r.content.clone(),
        RuleSource::Builtin => state
            .config
            .builtin_rules
            .iter()
            .find(|(p, _)| *p == r.path)
            .map(|(_, t)| (*t).to_owned()),
        RuleSource::Dir => {
            let meta = tokio::fs::metadata(&r.path).await.ok()?;
            if meta.len() > MAX_RULE_BYTES as u64 {
                return None;
            }
            tokio::fs::read_to_string(&r.path).await.ok()
        }
    }
}

/// The text to test for `rule_id` in the caller's tenant, or 404.
pub(crate) async fn stored_rule(
    state: &AppState,
    tenant: TenantId,
    rule_id: &str,
) -> Result<RuleText, AppError> {
    let r = state
        .store
        .get_rule(tenant, rule_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no rule {rule_id:?}")))?;
    let text = stored_text(state, &r).await.ok_or_else(|| {
        AppError::not_found(format!(
            "the text of rule {rule_id:?} ({}) is not available",
            r.path
        ))
    })?;
    let path = match r.source {
        RuleSource::Builtin => format!("builtin/{}", r.path),
        RuleSource::Dir => r.path.clone(),
        RuleSource::Api => format!("api/{}", r.id),
    };
    Ok(RuleText {
        path,
        text,
        only: Some(r.id),
    })
}

/// The rule to test: a stored rule by id or pasted YAML (exactly one).
pub(crate) async fn resolve(
    state: &AppState,
    tenant: TenantId,
    rule_id: Option<&str>,
    rule_yaml: Option<&str>,
) -> Result<RuleText, AppError> {
    match (rule_id, rule_yaml) {
        (Some(id), None) => stored_rule(state, tenant, id).await,
        (None, Some(text)) => Ok(RuleText {
            path: "pasted.yml".into(),
            text: text.to_owned(),
            only: None,
        }),
        _ => Err(AppError::bad_request(
            "give either rule_id (a stored rule) or rule_yaml (Sigma YAML), not both",
        )),
    }
}

/// Bounds and checks the inputs before any work.
pub(crate) fn check_sizes(rule: &str, event: &str) -> Result<(), AppError> {
    if rule.len() > MAX_RULE_BYTES {
        return Err(AppError::bad_request(format!(
            "rule_yaml: at most {MAX_RULE_BYTES} bytes"
        )));
    }
    if event.len() > MAX_EVENT_BYTES {
        return Err(AppError::bad_request(format!(
            "event: at most {MAX_EVENT_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Runs the test off the async threads (compiling is CPU work).
pub(crate) async fn run_blocking(
    state: &AppState,
    rule: RuleText,
    event: String,
) -> Result<TestOutcome, AppError> {
    let config = state.sigma_config();
    let now = state.clock.now();
    tokio::task::spawn_blocking(move || run(&config, &rule, &event, now))
        .await
        .map_err(AppError::internal)
}

/// The event as the pipeline would hold it: evtx-JSON records built as the
/// EVTX upload builds them, other JSON through the ingest normaliser.
fn parse_event(text: &str, registry: &FieldRegistry, now: Timestamp) -> Result<Event, String> {
    let v: Json = serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("the event must be a JSON object".into());
    }
    let evtx = v.get("Event").is_some_and(|e| e.get("System").is_some())
        || (v.get("System").is_some()
            && (v.get("EventData").is_some() || v.get("UserData").is_some()));
    if evtx {
        return Ok(vigil_sigma::evtx::event_from_evtx_json(
            &v,
            registry,
            "rule-test",
            text.as_bytes().to_vec(),
        ));
    }
    let opts = vigil_ingest::ParseOptions::new(TenantId::DEFAULT, "rule-test", now)
        .with_max_event_bytes(MAX_EVENT_BYTES + 1);
    let line = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
    vigil_ingest::parse_json_record(&line, registry, &opts)
}

/// Compiles `rule` with `config` and evaluates it against `event`.
pub(crate) fn run(config: &Config, rule: &RuleText, event: &str, now: Timestamp) -> TestOutcome {
    let registry = FieldRegistry::new();
    let mut out = TestOutcome {
        matched: false,
        matches: Vec::new(),
        evaluated: 0,
        errors: Vec::new(),
        notes: Vec::new(),
    };
    let (set, errors) = RuleSet::load(
        [(rule.path.as_str(), rule.text.as_str())],
        &registry,
        config,
    );
    for e in &errors {
        let l = crate::RuleLoadError::from_sigma(e);
        out.errors.push(TestProblem {
            kind: if l.unsupported { "unsupported" } else { "rule" }.into(),
            path: l.path,
            line: l.line,
            column: l.column,
            message: l.reason,
        });
    }
    let keep = |m: &vigil_sigma::Meta| rule.only.as_ref().is_none_or(|o| m.id.as_ref() == Some(o));
    out.evaluated = set.rules().iter().filter(|r| keep(&r.rule.meta)).count();
    if set.correlations().next().is_some() {
        out.notes.push(
            "correlation rules count matches over several events; only their base rules are \
             evaluated here"
                .into(),
        );
    }
    if out.evaluated == 0 && errors.is_empty() {
        out.notes.push("no detection rule to evaluate".into());
    }
    let ev = match parse_event(event, &registry, now) {
        Ok(ev) => ev,
        Err(message) => {
            out.errors.push(TestProblem {
                kind: "event".into(),
                path: "event".into(),
                line: 0,
                column: 0,
                message,
            });
            return out;
        }
    };
    // The live detector enriches sshd/sudo syslog messages first.
    let ev = match (
        ev.get_str(FieldId::LOG_SYSLOG_APPNAME),
        ev.get_str(FieldId::MESSAGE),
    ) {
        (Some(p), Some(m)) if vigil_sigma::linux::parse_auth_message(p, m).is_some() => {
            vigil_sigma::linux::enrich_syslog_event(&ev, &registry)
        }
        _ => ev,
    };
    for v in set.evaluate(&ev) {
        let Some(lr) = set.rules().get(v.rule) else {
            continue;
        };
        if !keep(&lr.rule.meta) {
            continue;
        }
        let mut matched = BTreeMap::new();
        let mut fields = BTreeMap::new();
        for (name, f) in &v.fields {
            let vals: Vec<Json> = ev.get_all(*f).map(|x| x.to_json()).collect();
            let val = match vals.len() {
                1 => vals.into_iter().next().unwrap_or(Json::Null),
                _ => Json::Array(vals),
            };
            matched.insert(name.to_string(), val);
            if let Some(n) = registry.name(*f) {
                fields.insert(name.to_string(), n.to_string());
            }
        }
        out.matches.push(RuleMatch {
            id: lr.rule.meta.id.clone(),
            title: lr.rule.meta.title.clone(),
            selections: v.selections.iter().map(ToString::to_string).collect(),
            matched,
            fields,
        });
    }
    out.matched = !out.matches.is_empty();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rule: &str, event: &str) -> TestOutcome {
        let text = RuleText {
            path: "pasted.yml".into(),
            text: rule.into(),
            only: None,
        };
        run(&Config::default(), &text, event, Timestamp::from_secs(1))
    }

    const RULE: &str = "title: Whoami\nid: 00000000-0000-4000-8000-0000000000a1\n\
        logsource: {category: process_creation, product: windows}\n\
        detection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\nlevel: low\n";

    #[test]
    fn matches_reports_fields_and_errors() {
        let ev = r##"{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe"}}}"##;
        let o = check(RULE, ev);
        assert!(o.errors.is_empty(), "{o:?}");
        assert!(o.matched, "{o:?}");
        assert_eq!(
            o.matches[0].matched.get("Image"),
            Some(&Json::String("C:\\Windows\\System32\\whoami.exe".into()))
        );
        let other = ev.replace("whoami", "notepad");
        assert!(!check(RULE, &other).matched);

        let bad = check("title: t\ndetection: [\n", ev);
        assert!(!bad.matched);
        assert_eq!(bad.errors[0].kind, "rule");
        assert!(bad.errors[0].line > 0, "{bad:?}");

        let o = check(RULE, "[1]");
        assert_eq!(o.errors[0].kind, "event");
    }
}

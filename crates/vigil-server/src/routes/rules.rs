//! `/api/v1/rules`: the Sigma rules Vigil knows (built-in pack, configured
//! directories, uploads) with their enabled state and overrides; uploads of
//! new rules as YAML, validated by compiling them. The store audits state
//! changes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use vigil_model::FieldRegistry;
use vigil_sigma::{Document, Level, RuleSet, parse_file};
use vigil_store::{NewRule, RuleRecord, RuleSource, RuleUpdate};

use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, AppError, Problem};
use crate::state::AppState;

/// Most tags an override may hold.
const MAX_TAGS: usize = 100;
/// Longest tag, in characters.
const MAX_TAG_CHARS: usize = 200;

/// A Sigma rule and its state.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RuleDto {
    /// The rule's `id`.
    id: String,
    /// `title`.
    title: String,
    /// `builtin`, `dir` or `api`.
    source: String,
    /// File path, pack file name or upload name.
    path: String,
    /// Detectors use only enabled rules.
    enabled: bool,
    /// The level in effect (the override, else the rule's own).
    level: Option<String>,
    /// The tags in effect (the override, else the rule's own).
    tags: Vec<String>,
    /// The rule's own level.
    rule_level: Option<String>,
    /// The rule's own tags.
    rule_tags: Vec<String>,
    /// The level override, if any.
    level_override: Option<String>,
    /// The tags override, if any.
    tags_override: Option<Vec<String>>,
    /// Last change, RFC 3339.
    updated_at: String,
    /// Who made the last change.
    updated_by: String,
}

impl From<&RuleRecord> for RuleDto {
    fn from(r: &RuleRecord) -> Self {
        Self {
            id: r.id.clone(),
            title: r.title.clone(),
            source: r.source.to_string(),
            path: r.path.clone(),
            enabled: r.enabled,
            level: r.effective_level().map(str::to_owned),
            tags: r.effective_tags().to_vec(),
            rule_level: r.level.clone(),
            rule_tags: r.tags.clone(),
            level_override: r.level_override.clone(),
            tags_override: r.tags_override.clone(),
            updated_at: r.updated_at.to_rfc3339(),
            updated_by: r.updated_by.clone(),
        }
    }
}

/// A list of rules.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RuleList {
    /// The rules, by id.
    items: Vec<RuleDto>,
}

/// A change of a rule's state; absent fields stay as they are, `null`
/// removes an override.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulePatch {
    /// Enable or disable the rule.
    #[serde(default)]
    enabled: Option<bool>,
    /// Level override (informational, low, medium, high, critical); `null`
    /// removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    level: Option<Option<String>>,
    /// Tags override; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    tags: Option<Option<Vec<String>>>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

fn validate(p: &RulePatch) -> Result<RuleUpdate, AppError> {
    let level_override = match &p.level {
        None => None,
        Some(None) => Some(None),
        Some(Some(l)) => {
            let l: Level = l
                .parse()
                .map_err(|e: String| AppError::bad_request(format!("level: {e}")))?;
            Some(Some(l.to_string()))
        }
    };
    if let Some(Some(tags)) = &p.tags {
        if tags.len() > MAX_TAGS {
            return Err(AppError::bad_request(format!(
                "tags: at most {MAX_TAGS} tags"
            )));
        }
        if tags.iter().any(|t| {
            t.trim().is_empty()
                || t.chars().count() > MAX_TAG_CHARS
                || t.chars().any(char::is_control)
        }) {
            return Err(AppError::bad_request(format!(
                "tags: each tag must be 1 to {MAX_TAG_CHARS} characters without control characters"
            )));
        }
    }
    Ok(RuleUpdate {
        enabled: p.enabled,
        level_override,
        tags_override: p.tags.clone(),
    })
}

/// The rules of the caller's tenant, by id.
#[utoipa::path(
    get,
    path = "/api/v1/rules",
    tag = "rules",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The rules", body = RuleList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<RuleList>, AppError> {
    let rules = state
        .timed("list_rules", state.store.list_rules(p.tenant))
        .await?;
    Ok(Json(RuleList {
        items: rules.iter().map(RuleDto::from).collect(),
    }))
}

/// One rule.
#[utoipa::path(
    get,
    path = "/api/v1/rules/{id}",
    tag = "rules",
    params(("id" = String, Path, description = "Rule id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The rule", body = RuleDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule in the caller's tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_rule(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RuleDto>, AppError> {
    match state
        .timed("get_rule", state.store.get_rule(p.tenant, &id))
        .await?
    {
        Some(r) => Ok(Json(RuleDto::from(&r))),
        None => Err(AppError::not_found(format!("no rule {id:?}"))),
    }
}

/// Enables or disables a rule, or changes its level or tags overrides.
#[utoipa::path(
    patch,
    path = "/api/v1/rules/{id}",
    tag = "rules",
    params(("id" = String, Path, description = "Rule id")),
    request_body = RulePatch,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The rule after the change", body = RuleDto),
        (status = 400, description = "The request body is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn patch_rule(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<RulePatch>,
) -> Result<Json<RuleDto>, AppError> {
    let update = validate(&patch)?;
    let now = state.clock.now();
    match state
        .timed(
            "update_rule",
            state.store.update_rule(p.tenant, &id, &update, &p, now),
        )
        .await?
    {
        Some(r) => {
            state.inner.rules_changed.notify_one();
            Ok(Json(RuleDto::from(&r)))
        }
        None => Err(AppError::not_found(format!("no rule {id:?}"))),
    }
}

/// The definitions in an upload, or why it is refused: every document must
/// parse and compile and carry an `id`.
fn check_upload(text: &str) -> Result<Vec<NewRule>, String> {
    const NAME: &str = "upload.yml";
    let registry = FieldRegistry::new();
    let (_, errors) = RuleSet::load([(NAME, text)], &registry, &vigil_sigma::Config::default());
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "));
    }
    let mut out: Vec<NewRule> = Vec::new();
    for d in parse_file(NAME, text).into_iter().flatten() {
        let meta = match &d {
            Document::Rule(r) => &r.meta,
            Document::Correlation(c) => &c.meta,
            Document::Filter(f) => &f.meta,
        };
        let Some(id) = meta.id.clone() else {
            return Err(format!("rule {:?} has no id", meta.title));
        };
        if out.iter().any(|r| r.id == id) {
            return Err(format!("id {id} appears twice"));
        }
        out.push(NewRule {
            id,
            title: meta.title.clone(),
            source: RuleSource::Api,
            path: NAME.to_owned(),
            level: meta.level.map(|l| l.to_string()),
            tags: meta.tags.clone(),
            content: Some(text.to_owned()),
        });
    }
    if out.is_empty() {
        return Err("no rule in the body".into());
    }
    Ok(out)
}

/// Uploads Sigma rules (one YAML file, several documents allowed). Every
/// document must parse and compile and have an `id`; otherwise nothing is
/// stored. New rules are enabled; an id that exists is replaced by the
/// upload (its state is kept). The running detectors reload with the
/// upload, as they do after a PATCH.
#[utoipa::path(
    post,
    path = "/api/v1/rules",
    tag = "rules",
    request_body(content = String, description = "Sigma rule YAML", content_type = "application/yaml"),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The stored rules", body = RuleList),
        (status = 400, description = "The YAML is not a valid Sigma rule (the reason names the document and line)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An id belongs to a built-in or directory rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn upload_rules(
    State(state): State<AppState>,
    Auth(p): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<RuleList>), AppError> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| AppError::bad_request("body: not UTF-8 text"))?;
    let defs = tokio::task::spawn_blocking(move || check_upload(&text))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::bad_request)?;
    for d in &defs {
        if let Some(old) = state
            .timed("get_rule", state.store.get_rule(p.tenant, &d.id))
            .await?
            && old.source != RuleSource::Api
        {
            return Err(AppError::new(
                crate::error::ErrorKind::Conflict,
                format!(
                    "rule {} is a {} rule; upload it under another id",
                    d.id, old.source
                ),
            ));
        }
    }
    let now = state.clock.now();
    state
        .timed(
            "register_rules",
            state.store.register_rules(p.tenant, &defs, &p, now),
        )
        .await?;
    state.inner.rules_changed.notify_one();
    let mut items = Vec::with_capacity(defs.len());
    for d in &defs {
        if let Some(r) = state
            .timed("get_rule", state.store.get_rule(p.tenant, &d.id))
            .await?
        {
            items.push(RuleDto::from(&r));
        }
    }
    Ok((StatusCode::CREATED, Json(RuleList { items })))
}

/// A rule test: one event against a stored rule or pasted Sigma YAML.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleTestInput {
    /// A stored rule's id (give this or `rule_yaml`).
    #[serde(default)]
    rule_id: Option<String>,
    /// Sigma YAML, one or more documents (at most 1 MiB).
    #[serde(default)]
    rule_yaml: Option<String>,
    /// The event: a JSON object (ECS, flat JSON or an evtx-JSON record; at
    /// most 256 KiB).
    #[schema(value_type = Object)]
    event: serde_json::Value,
}

/// Compiles a rule (stored, by id, or pasted YAML) with the live
/// detector's field mappings and evaluates it against one event: whether
/// it matches, the matched fields, and parse or compile errors with their
/// line and column. Nothing is stored.
#[utoipa::path(
    post,
    path = "/api/v1/rules/test",
    tag = "rules",
    request_body = RuleTestInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The outcome (errors in the rule or the event are reported in the body)", body = crate::rule_test::TestOutcome),
        (status = 400, description = "Neither or both of rule_id and rule_yaml, or input too large", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule, or its text is not available", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn test_rule(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(input): ApiJson<RuleTestInput>,
) -> Result<Json<crate::rule_test::TestOutcome>, AppError> {
    let event = serde_json::to_string(&input.event).map_err(AppError::internal)?;
    crate::rule_test::check_sizes(input.rule_yaml.as_deref().unwrap_or(""), &event)?;
    let rule = crate::rule_test::resolve(
        &state,
        p.tenant,
        input.rule_id.as_deref(),
        input.rule_yaml.as_deref(),
    )
    .await?;
    Ok(Json(
        crate::rule_test::run_blocking(&state, rule, event).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_and_uploads_are_validated() {
        let p: RulePatch =
            serde_json::from_str(r#"{"level":null,"tags":["a"]}"#).unwrap_or_default();
        let u = validate(&p).ok();
        assert_eq!(
            u.as_ref().map(|u| u.level_override.clone()),
            Some(Some(None))
        );
        assert_eq!(
            u.map(|u| u.tags_override),
            Some(Some(Some(vec!["a".into()])))
        );
        let p: RulePatch = serde_json::from_str(r#"{"level":"severe"}"#).unwrap_or_default();
        assert!(validate(&p).is_err());
        assert!(serde_json::from_str::<RulePatch>(r#"{"bogus":1}"#).is_err());

        let ok = "title: t\nid: 00000000-0000-4000-8000-000000000009\nlogsource: {product: windows}\n\
                  detection: {sel: {EventID: 1}, condition: sel}\nlevel: low\n";
        assert_eq!(check_upload(ok).map(|d| d.len()), Ok(1));
        let no_id = "title: t\nlogsource: {product: windows}\ndetection: {sel: {EventID: 1}, condition: sel}\n";
        assert!(check_upload(no_id).is_err_and(|e| e.contains("no id")));
        let bad = "title: t\nid: x\nlogsource: {product: windows}\ndetection: {sel: {EventID: 1}, condition: nope}\n";
        assert!(check_upload(bad).is_err_and(|e| e.contains("upload.yml")));
        assert!(check_upload("").is_err());
    }
}

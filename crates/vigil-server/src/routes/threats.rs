//! `/api/v1/threats/…`: the threat register over HTTP — the organisation
//! profile, actors ranked by relevance (with the factors behind each
//! score), one actor with its technique coverage, CVEs and scenario,
//! stored scenarios with their scores, review updates (which record the
//! score history), and ATT&CK coverage (rows or a Navigator 4.5 layer).
//! The logic is the engine's (`vigil-threats`) through
//! `crate::threats`; the model is in `docs/threats.md`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vigil_model::{Principal, Timestamp};
use vigil_store::{NewScenario, ScenarioRecord, ScenarioReview};
use vigil_threats::coverage::{self, TechniqueCoverage};
use vigil_threats::navigator::{self, LayerSpec};
use vigil_threats::register::{ActorAssessment, ScenarioAssessment, ScenarioSpec};
use vigil_threats::{Factor, Profile, Score};

use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Problem};
use crate::state::AppState;
use crate::threats::{self as glue, RegisterData};

/// The organisation profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileDto {
    /// Format version (1).
    #[serde(default = "one")]
    version: u32,
    /// Name.
    #[serde(default)]
    name: String,
    /// Sectors (`financial`, `government`, …).
    #[serde(default)]
    sectors: Vec<String>,
    /// Countries (ISO codes or names).
    #[serde(default)]
    countries: Vec<String>,
    /// Regions (`europe`, …).
    #[serde(default)]
    regions: Vec<String>,
    /// Technologies.
    #[serde(default)]
    technologies: Vec<String>,
    /// Crown-jewel asset names.
    #[serde(default)]
    crown_jewels: Vec<String>,
    /// Data classes.
    #[serde(default)]
    data_classes: Vec<String>,
    /// Activity window in days (default 730).
    #[serde(default = "window")]
    activity_window_days: u32,
    /// Read only: technologies of the asset inventory (component names and
    /// operating systems, with asset counts); ignored on input.
    #[serde(default)]
    derived_technologies: Vec<String>,
}

fn one() -> u32 {
    1
}

fn window() -> u32 {
    730
}

impl From<ProfileDto> for Profile {
    fn from(d: ProfileDto) -> Self {
        Profile {
            version: d.version,
            name: d.name,
            sectors: d.sectors,
            countries: d.countries,
            regions: d.regions,
            technologies: d.technologies,
            crown_jewels: d.crown_jewels,
            data_classes: d.data_classes,
            activity_window_days: d.activity_window_days,
        }
    }
}

impl From<Profile> for ProfileDto {
    fn from(p: Profile) -> Self {
        ProfileDto {
            version: p.version,
            name: p.name,
            sectors: p.sectors,
            countries: p.countries,
            regions: p.regions,
            technologies: p.technologies,
            crown_jewels: p.crown_jewels,
            data_classes: p.data_classes,
            activity_window_days: p.activity_window_days,
            derived_technologies: Vec::new(),
        }
    }
}

/// One input of a score: `points = value × weight`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FactorDto {
    /// `sector`, `region`, `recency`, `observed`, `threat`, `exposure`,
    /// `gaps`, `criticality`, `data`.
    name: String,
    /// 0–1.
    value: f64,
    /// Points at value 1.
    weight: f64,
    /// Its contribution.
    points: f64,
    /// The evidence.
    reason: String,
}

impl From<&Factor> for FactorDto {
    fn from(f: &Factor) -> Self {
        FactorDto {
            name: f.name.clone(),
            value: f.value,
            weight: f.weight,
            points: f.points,
            reason: f.reason.clone(),
        }
    }
}

/// A 0–100 score with its 5-level band.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoreDto {
    /// 0–100.
    value: f64,
    /// `very-low` … `very-high`.
    level: String,
    /// 1–5.
    rank: u8,
    /// Its inputs.
    factors: Vec<FactorDto>,
}

impl From<&Score> for ScoreDto {
    fn from(s: &Score) -> Self {
        ScoreDto {
            value: s.value,
            level: s.level.label().replace(' ', "-"),
            rank: s.rank,
            factors: s.factors.iter().map(FactorDto::from).collect(),
        }
    }
}

/// An actor ranked by relevance.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActorDto {
    /// `G0007`, `misp:<uuid>` or a STIX id.
    key: String,
    /// Name.
    name: String,
    /// Aliases.
    aliases: Vec<String>,
    /// Sources (`attack:G0007`, `misp-galaxy:threat-actor:<uuid>`, …).
    sources: Vec<String>,
    /// Relevance to the profile.
    relevance: ScoreDto,
    /// Why it ranks where it does.
    explanation: String,
    /// Its techniques covered.
    covered: usize,
    /// Partially covered.
    partial: usize,
    /// Gaps.
    gaps: usize,
}

impl From<&ActorAssessment> for ActorDto {
    fn from(a: &ActorAssessment) -> Self {
        ActorDto {
            key: a.actor.key.clone(),
            name: a.actor.name.clone(),
            aliases: a.actor.aliases.clone(),
            sources: a.actor.sources.clone(),
            relevance: ScoreDto::from(&a.relevance),
            explanation: a.explanation.clone(),
            covered: a.covered,
            partial: a.partial,
            gaps: a.gaps,
        }
    }
}

/// Ranked actors.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActorList {
    /// Most relevant first.
    items: Vec<ActorDto>,
}

/// The coverage of one technique.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TechniqueCoverageDto {
    /// Technique id.
    technique: String,
    /// `covered`, `partial`, `gap`.
    state: String,
    /// 0–1.
    score: f64,
    /// Alerts in the window.
    alerts: u64,
    /// Enabled covering rules.
    rules: Vec<String>,
    /// Disabled rules that would cover it.
    disabled_rules: Vec<String>,
}

impl From<&TechniqueCoverage> for TechniqueCoverageDto {
    fn from(c: &TechniqueCoverage) -> Self {
        TechniqueCoverageDto {
            technique: c.technique.clone(),
            state: c.state.as_str().into(),
            score: c.score,
            alerts: c.alerts,
            rules: c.rules.iter().map(|r| r.id.clone()).collect(),
            disabled_rules: c.disabled.iter().map(|r| r.id.clone()).collect(),
        }
    }
}

/// A CVE an actor exploits.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActorCveDto {
    /// CVE id.
    cve: String,
    /// Where that is said.
    source: String,
    /// In KEV with known ransomware use.
    kev_ransomware: bool,
    /// Open findings for it: `finding id on asset (exposure)`.
    findings: Vec<String>,
}

/// A recommended action.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecommendationDto {
    /// `fix-finding`, `enable-rules`, `write-detection`,
    /// `improve-detection`, `apply-mitigation`.
    kind: String,
    /// What to do.
    action: String,
    /// Finding, rule, technique or mitigation ids.
    targets: Vec<String>,
    /// Likelihood points it removes.
    reduction: f64,
    /// Likelihood after it.
    likelihood_after: f64,
}

/// A scenario scored (likelihood × impact).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScenarioScoreDto {
    /// The actor it resolved to.
    actor: Option<String>,
    /// Likelihood.
    likelihood: ScoreDto,
    /// Impact.
    impact: ScoreDto,
    /// Likelihood rank × impact rank, 1–25.
    risk: u8,
    /// `low`, `medium`, `high`, `critical`.
    risk_level: String,
    /// Coverage of its techniques.
    techniques: Vec<TechniqueCoverageDto>,
    /// Ranked recommendations.
    recommendations: Vec<RecommendationDto>,
}

impl From<&ScenarioAssessment> for ScenarioScoreDto {
    fn from(s: &ScenarioAssessment) -> Self {
        ScenarioScoreDto {
            actor: s.actor.clone(),
            likelihood: ScoreDto::from(&s.likelihood),
            impact: ScoreDto::from(&s.impact),
            risk: s.risk,
            risk_level: s.risk_level.clone(),
            techniques: s
                .techniques
                .iter()
                .map(TechniqueCoverageDto::from)
                .collect(),
            recommendations: s
                .recommendations
                .iter()
                .map(|r| RecommendationDto {
                    kind: r.kind.clone(),
                    action: r.action.clone(),
                    targets: r.targets.clone(),
                    reduction: r.reduction,
                    likelihood_after: r.likelihood_after,
                })
                .collect(),
        }
    }
}

/// One actor in full.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActorDetail {
    /// The actor and its relevance.
    actor: ActorDto,
    /// Victim countries or regions.
    victims: Vec<String>,
    /// Target sectors.
    sectors: Vec<String>,
    /// Software (`S0002 Mimikatz`).
    software: Vec<String>,
    /// Coverage of its techniques.
    techniques: Vec<TechniqueCoverageDto>,
    /// CVEs it exploits.
    cves: Vec<ActorCveDto>,
    /// Loaded indicators related to it or its software.
    indicators: u64,
    /// Its scenario.
    scenario: ScenarioScoreDto,
}

/// A stored scenario with its current score.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScenarioDto {
    /// Id.
    id: String,
    /// Title.
    title: String,
    /// Owner.
    owner: Option<String>,
    /// `open`, `treated`, `accepted`, `transferred`.
    status: String,
    /// Next review (RFC 3339).
    next_review: Option<String>,
    /// The next review is past.
    overdue: bool,
    /// Actor (key, name or alias).
    actor_ref: Option<String>,
    /// Techniques named by the scenario.
    technique_refs: Vec<String>,
    /// The score now.
    score: ScenarioScoreDto,
}

fn scenario_dto(rec: &ScenarioRecord, a: &ScenarioAssessment, now: Timestamp) -> ScenarioDto {
    ScenarioDto {
        id: rec.scenario.id.clone(),
        title: rec.scenario.title.clone(),
        owner: rec.scenario.owner.clone(),
        status: rec.scenario.status.clone(),
        next_review: rec.scenario.next_review.map(Timestamp::to_rfc3339),
        overdue: rec.scenario.next_review.is_some_and(|t| t < now),
        actor_ref: a.spec.actor.clone(),
        technique_refs: a.spec.techniques.clone(),
        score: ScenarioScoreDto::from(a),
    }
}

/// Stored scenarios.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScenarioList {
    /// By id.
    items: Vec<ScenarioDto>,
}

/// A scenario to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioInput {
    /// Id (A-Z a-z 0-9 . _ -).
    id: String,
    /// Title.
    title: String,
    /// Actor (ATT&CK id, name or alias).
    #[serde(default)]
    actor: Option<String>,
    /// Techniques.
    #[serde(default)]
    techniques: Vec<String>,
    /// Assets in reach (names or ids).
    #[serde(default)]
    assets: Vec<String>,
    /// ATT&CK mitigations already applied.
    #[serde(default)]
    mitigations_applied: Vec<String>,
    /// Owner.
    #[serde(default)]
    owner: Option<String>,
    /// Status (default `open`).
    #[serde(default)]
    status: Option<String>,
    /// Next review (RFC 3339 or YYYY-MM-DD); default 90 days from now.
    #[serde(default)]
    next_review: Option<String>,
}

/// A review: owner, status, next review (`null` clears owner and date).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewInput {
    /// New owner.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    owner: Option<Option<String>>,
    /// New status.
    #[serde(default)]
    status: Option<String>,
    /// New next review (RFC 3339 or YYYY-MM-DD).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    next_review: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// One recorded score.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoreEntry {
    /// When (RFC 3339).
    at: String,
    /// Likelihood 0–100.
    likelihood: f64,
    /// Impact 0–100.
    impact: f64,
    /// 1–25.
    risk: i64,
}

/// A scenario's score history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoreHistory {
    /// Oldest first.
    items: Vec<ScoreEntry>,
}

/// Actor list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActorParams {
    /// How many (default 25; 0 for all).
    limit: Option<usize>,
}

/// Coverage parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CoverageParams {
    /// Comma-separated techniques; default every technique of the domain.
    technique: Option<String>,
    /// ATT&CK domain (default `enterprise-attack`).
    domain: Option<String>,
}

/// Technique coverage rows.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CoverageList {
    /// By technique id.
    items: Vec<TechniqueCoverageDto>,
    /// Counts per tactic.
    tactics: Vec<TacticDto>,
}

/// Coverage counts of one tactic.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TacticDto {
    /// `TA0002`.
    id: String,
    /// Name.
    name: String,
    /// Techniques and sub-techniques.
    techniques: usize,
    /// Covered.
    covered: usize,
    /// Partial.
    partial: usize,
    /// Gaps.
    gaps: usize,
}

fn parse_time(s: &str) -> Result<Timestamp, AppError> {
    Timestamp::parse_rfc3339(s)
        .or_else(|| {
            vigil_threats::dates::parse_day(s).map(|d| Timestamp::from_micros(d * 86_400_000_000))
        })
        .ok_or_else(|| {
            AppError::bad_request(format!("invalid time {s:?} (RFC 3339 or YYYY-MM-DD)"))
        })
}

/// The register's inputs for the caller's tenant (shared with the console).
pub(crate) async fn data(state: &AppState, p: &Principal) -> Result<RegisterData, AppError> {
    let records = state
        .timed("list_rules", state.store.list_rules(p.tenant))
        .await?;
    let rules = glue::rule_infos(&records, &state.config.rule_status);
    Ok(state
        .timed(
            "threats_load",
            glue::load(
                &state.store,
                p.tenant,
                rules,
                state.clock.now(),
                Some(&state.inner.attack_cache),
            ),
        )
        .await?)
}

/// The organisation profile.
#[utoipa::path(
    get,
    path = "/api/v1/threats/profile",
    tag = "threats",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The stored profile", body = ProfileDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No profile is stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_profile(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<ProfileDto>, AppError> {
    let Some(rec) = state
        .timed(
            "get_threat_profile",
            state.store.get_threat_profile(p.tenant),
        )
        .await?
    else {
        return Err(AppError::not_found("no profile is stored"));
    };
    let prof: Profile = serde_json::from_value(rec.body)
        .map_err(|e| AppError::bad_request(format!("stored profile: {e}")))?;
    let mut dto = ProfileDto::from(prof);
    dto.derived_technologies = state
        .timed(
            "inventory_technologies",
            state.store.inventory_technologies(p.tenant),
        )
        .await?
        .into_iter()
        .take(100)
        .map(|(n, c)| format!("{n} ({c} assets)"))
        .collect();
    Ok(Json(dto))
}

/// Validates and stores the organisation profile.
#[utoipa::path(
    put,
    path = "/api/v1/threats/profile",
    tag = "threats",
    request_body = ProfileDto,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The stored profile (trimmed, de-duplicated)", body = ProfileDto),
        (status = 400, description = "Invalid profile (unknown region or country, version, window)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_profile(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<ProfileDto>,
) -> Result<Json<ProfileDto>, AppError> {
    let stored = state
        .timed(
            "put_threat_profile",
            glue::put_profile(&state.store, p.tenant, body.into(), &p, state.clock.now()),
        )
        .await?;
    Ok(Json(stored.into()))
}

/// Actors ranked by relevance, with the factors and an explanation each.
#[utoipa::path(
    get,
    path = "/api/v1/threats/actors",
    tag = "threats",
    params(ActorParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Most relevant first", body = ActorList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_actors(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ActorParams>,
) -> Result<Json<ActorList>, AppError> {
    let d = data(&state, &p).await?;
    let ranked = d.inputs().assess_actors();
    let n = match q.limit {
        None => 25,
        Some(0) => ranked.len(),
        Some(n) => n,
    };
    Ok(Json(ActorList {
        items: ranked.iter().take(n).map(ActorDto::from).collect(),
    }))
}

/// One actor: relevance, technique coverage, CVEs against open findings,
/// software, and its scenario with recommendations.
#[utoipa::path(
    get,
    path = "/api/v1/threats/actors/{id}",
    tag = "threats",
    params(("id" = String, Path, description = "ATT&CK group id, name or alias")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The actor", body = ActorDetail),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such actor", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_actor(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ActorDetail>, AppError> {
    let d = data(&state, &p).await?;
    actor_detail(&d, &id)
        .map(Json)
        .ok_or_else(|| AppError::not_found(format!("no actor {id:?}")))
}

/// One actor (ATT&CK id, name or alias) in full; shared with the console.
pub(crate) fn actor_detail(d: &RegisterData, id: &str) -> Option<ActorDetail> {
    let k = vigil_threats::actors::name_key(id);
    let actor = d.actors.iter().find(|x| {
        x.key.eq_ignore_ascii_case(id)
            || vigil_threats::actors::name_key(&x.name) == k
            || x.aliases
                .iter()
                .any(|y| vigil_threats::actors::name_key(y) == k)
    })?;
    let inputs = d.inputs();
    let a = inputs.assess_actor(actor);
    let s = inputs.assess_scenario(&ScenarioSpec {
        id: format!("actor-{}", actor.key),
        title: actor.name.clone(),
        actor: Some(actor.key.clone()),
        ..ScenarioSpec::default()
    });
    Some(ActorDetail {
        actor: ActorDto::from(&a),
        victims: actor.victims.clone(),
        sectors: actor.sectors.clone(),
        software: actor
            .software
            .iter()
            .map(|(i, n)| format!("{i} {n}"))
            .collect(),
        techniques: a
            .techniques
            .iter()
            .map(TechniqueCoverageDto::from)
            .collect(),
        cves: a
            .cves
            .iter()
            .map(|c| ActorCveDto {
                cve: c.cve.clone(),
                source: c.source.clone(),
                kev_ransomware: c.kev_ransomware,
                findings: c
                    .findings
                    .iter()
                    .map(|e| format!("{} on {} ({})", e.finding, e.asset, e.exposure))
                    .collect(),
            })
            .collect(),
        indicators: a.indicators,
        scenario: ScenarioScoreDto::from(&s),
    })
}

/// `recs` scored now (not recorded); shared with the console.
pub(crate) fn scenario_dtos(
    d: &RegisterData,
    recs: &[ScenarioRecord],
    now: Timestamp,
) -> Vec<ScenarioDto> {
    let inputs = d.inputs();
    recs.iter()
        .map(|r| scenario_dto(r, &inputs.assess_scenario(&glue::spec_of(r)), now))
        .collect()
}

/// Stored scenarios with their current scores (not recorded; a review
/// records them).
#[utoipa::path(
    get,
    path = "/api/v1/threats/scenarios",
    tag = "threats",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "By id", body = ScenarioList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_scenarios(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<ScenarioList>, AppError> {
    let recs = state
        .timed("list_scenarios", state.store.list_scenarios(p.tenant))
        .await?;
    let items = if recs.is_empty() {
        Vec::new()
    } else {
        let d = data(&state, &p).await?;
        scenario_dtos(&d, &recs, state.clock.now())
    };
    Ok(Json(ScenarioList { items }))
}

async fn scored(state: &AppState, p: &Principal, id: &str) -> Result<ScenarioDto, AppError> {
    let d = data(state, p).await?;
    let now = state.clock.now();
    let all = state
        .timed(
            "score_scenarios",
            glue::score_scenarios(&state.store, p.tenant, &d, now),
        )
        .await?;
    all.iter()
        .find(|(r, _)| r.scenario.id == id)
        .map(|(r, a)| scenario_dto(r, a, now))
        .ok_or_else(|| AppError::not_found(format!("no scenario {id:?}")))
}

/// Creates or replaces a scenario, and records its first score.
#[utoipa::path(
    post,
    path = "/api/v1/threats/scenarios",
    tag = "threats",
    request_body = ScenarioInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The stored scenario, scored", body = ScenarioDto),
        (status = 400, description = "Invalid scenario (id, title, status, date)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_scenario(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(s): ApiJson<ScenarioInput>,
) -> Result<(StatusCode, Json<ScenarioDto>), AppError> {
    let now = state.clock.now();
    let next_review = match &s.next_review {
        Some(t) => Some(parse_time(t)?),
        None => Some(Timestamp::from_micros(
            now.as_micros() + 90 * 86_400_000_000,
        )),
    };
    let spec = ScenarioSpec {
        id: s.id.clone(),
        title: s.title.clone(),
        actor: s.actor,
        techniques: s.techniques,
        assets: s.assets,
        mitigations_applied: s.mitigations_applied,
    };
    let new = NewScenario {
        id: s.id.clone(),
        title: s.title,
        spec: serde_json::to_value(&spec).map_err(|e| AppError::bad_request(e.to_string()))?,
        owner: s.owner,
        status: s.status.unwrap_or_else(|| "open".into()),
        next_review,
    };
    state
        .timed(
            "upsert_scenario",
            state.store.upsert_scenario(p.tenant, &new, &p, now),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(scored(&state, &p, &s.id).await?)))
}

/// Reviews a scenario (owner, status, next review) and records the scores.
#[utoipa::path(
    patch,
    path = "/api/v1/threats/scenarios/{id}",
    tag = "threats",
    params(("id" = String, Path, description = "Scenario id")),
    request_body = ReviewInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The reviewed scenario, scored", body = ScenarioDto),
        (status = 400, description = "Invalid status or date", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scenario", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn review_scenario(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ReviewInput>,
) -> Result<Json<ScenarioDto>, AppError> {
    let next_review = match r.next_review {
        None => None,
        Some(None) => Some(None),
        Some(Some(t)) => Some(Some(parse_time(&t)?)),
    };
    let review = ScenarioReview {
        owner: r.owner,
        status: r.status,
        next_review,
    };
    let found = state
        .timed(
            "review_scenario",
            state
                .store
                .review_scenario(p.tenant, &id, &review, &p, state.clock.now()),
        )
        .await?;
    if found.is_none() {
        return Err(AppError::not_found(format!("no scenario {id:?}")));
    }
    Ok(Json(scored(&state, &p, &id).await?))
}

/// A scenario's recorded scores.
#[utoipa::path(
    get,
    path = "/api/v1/threats/scenarios/{id}/history",
    tag = "threats",
    params(("id" = String, Path, description = "Scenario id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Oldest first", body = ScoreHistory),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scenario", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn scenario_history(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScoreHistory>, AppError> {
    if state
        .timed("get_scenario", state.store.get_scenario(p.tenant, &id))
        .await?
        .is_none()
    {
        return Err(AppError::not_found(format!("no scenario {id:?}")));
    }
    let h = state
        .timed(
            "scenario_scores",
            state.store.scenario_scores(p.tenant, &id),
        )
        .await?;
    Ok(Json(ScoreHistory {
        items: h
            .iter()
            .map(|s| ScoreEntry {
                at: s.at.to_rfc3339(),
                likelihood: s.likelihood as f64 / 100.0,
                impact: s.impact as f64 / 100.0,
                risk: s.risk,
            })
            .collect(),
    }))
}

pub(crate) fn coverage_of(
    d: &RegisterData,
    q: &CoverageParams,
) -> (Vec<TechniqueCoverage>, Vec<TacticDto>) {
    let domain = q.domain.as_deref().unwrap_or("enterprise-attack");
    let (mut cov, tactics) = coverage::matrix(
        &d.attack,
        domain,
        &d.coverage,
        &d.observations.technique_alerts,
    );
    if let Some(t) = &q.technique {
        cov = t
            .split(',')
            .filter_map(vigil_intel::attack::technique_from_tag)
            .map(|t| {
                let n = d
                    .observations
                    .technique_alerts
                    .get(&t)
                    .copied()
                    .unwrap_or(0);
                d.coverage.assess(&t, n)
            })
            .collect();
    }
    let tactics = tactics
        .into_iter()
        .map(|t| TacticDto {
            id: t.id,
            name: t.name,
            techniques: t.techniques,
            covered: t.covered,
            partial: t.partial,
            gaps: t.gaps,
        })
        .collect();
    (cov, tactics)
}

/// ATT&CK coverage by technique and tactic from the rule state.
#[utoipa::path(
    get,
    path = "/api/v1/threats/coverage",
    tag = "threats",
    params(CoverageParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Coverage rows and tactic counts", body = CoverageList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_coverage(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> Result<Json<CoverageList>, AppError> {
    let d = data(&state, &p).await?;
    let (cov, tactics) = coverage_of(&d, &q);
    Ok(Json(CoverageList {
        items: cov.iter().map(TechniqueCoverageDto::from).collect(),
        tactics,
    }))
}

/// ATT&CK coverage as an ATT&CK Navigator layer (format 4.5).
#[utoipa::path(
    get,
    path = "/api/v1/threats/coverage/navigator",
    tag = "threats",
    params(CoverageParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "An ATT&CK Navigator layer, format 4.5", body = Object),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_navigator(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let d = data(&state, &p).await?;
    Ok(Json(navigator_layer(&d, &q)))
}

/// The coverage Navigator layer (format 4.5); shared with the console's
/// export.
pub(crate) fn navigator_layer(d: &RegisterData, q: &CoverageParams) -> serde_json::Value {
    let (cov, _) = coverage_of(d, q);
    let domain = q
        .domain
        .clone()
        .unwrap_or_else(|| "enterprise-attack".into());
    let mut platforms: Vec<String> = d
        .attack
        .list(vigil_intel::attack::AttackKind::Technique)
        .filter(|t| t.domains.contains(&domain))
        .flat_map(|t| t.platforms.iter().cloned())
        .collect();
    platforms.sort();
    platforms.dedup();
    navigator::layer(
        &LayerSpec {
            name: "Vigil detection coverage".into(),
            description: format!(
                "Sigma rule coverage of ATT&CK techniques ({} rules; sub-techniques roll up into their parent)",
                d.coverage.rules().len()
            ),
            domain,
            attack_version: d.attack_version.clone(),
            platforms,
        },
        &cov,
    )
}

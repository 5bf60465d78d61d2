//! The console's threat pages: the threat register (scenarios ranked by
//! likelihood × impact with their factors, reviews due, the actors most
//! relevant to the profile, recommendations ranked by how much likelihood
//! they remove), one actor, and the ATT&CK coverage matrix with its
//! Navigator layer export. Everything comes from the register's engine
//! through the API's own functions (`crate::routes::threats`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use vigil_intel::attack::AttackKind;
use vigil_model::{Principal, Timestamp};
use vigil_threats::coverage::{self, TechniqueCoverage};

use super::ConsoleBody;
use super::intel::segment;
use super::pages::{frame, merge, render_json};
use super::session::ConsoleSession;
use crate::error::AppError;
use crate::routes::threats::{CoverageParams, actor_detail, data, navigator_layer, scenario_dtos};
use crate::state::AppState;
use crate::threats::RegisterData;

/// Actors listed on the register page.
const ACTORS_SHOWN: usize = 15;

/// How many of the most relevant actors count as the profile's.
const PROFILED_ACTORS: usize = 10;

/// Recommendations listed on the register page.
const RECOMMENDATIONS_SHOWN: usize = 25;

/// The window of the alert counts that shade the matrix, in days.
const MATRIX_ALERT_DAYS: i64 = 30;

/// The ATT&CK domain of the matrix.
const DOMAIN: &str = "enterprise-attack";

/// Enterprise tactics in matrix order (by shortname).
const TACTIC_ORDER: [&str; 14] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

fn actor_href(key: &str) -> String {
    format!("/threats/actors/{}", segment(key))
}

/// `2026-11-27` of an RFC 3339 time.
fn day(t: &Json) -> Json {
    t.as_str()
        .map(|s| Json::from(s.get(..10).unwrap_or(s)))
        .unwrap_or(Json::Null)
}

fn to_json(v: impl serde::Serialize) -> Result<Json, AppError> {
    serde_json::to_value(v).map_err(AppError::internal)
}

/// The actors whose gaps the matrix highlights: the most relevant to the
/// profile (relevance above zero) and every scenario's actor, by key.
fn profiled_actors(d: &RegisterData, scenario_actors: &BTreeSet<String>) -> BTreeSet<String> {
    let ranked = d.inputs().assess_actors();
    ranked
        .iter()
        .filter(|a| a.relevance.value > 0.0)
        .take(PROFILED_ACTORS)
        .map(|a| a.actor.key.clone())
        .chain(scenario_actors.iter().cloned())
        .collect()
}

/// `GET /threats`: the register.
pub(crate) async fn register(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let d = data(&state, &p).await?;
    let recs = state.store.list_scenarios(p.tenant).await?;
    let mut scenarios: Vec<Json> = scenario_dtos(&d, &recs, now)
        .into_iter()
        .map(to_json)
        .collect::<Result<_, _>>()?;
    let product = |s: &Json| {
        s["score"]["likelihood"]["value"].as_f64().unwrap_or(0.0)
            * s["score"]["impact"]["value"].as_f64().unwrap_or(0.0)
    };
    scenarios.sort_by(|a, b| {
        b["score"]["risk"]
            .as_u64()
            .cmp(&a["score"]["risk"].as_u64())
            .then(product(b).total_cmp(&product(a)))
            .then(a["id"].as_str().cmp(&b["id"].as_str()))
    });
    let mut recommendations: Vec<Json> = Vec::new();
    for sc in &mut scenarios {
        if let Some(o) = sc.as_object_mut() {
            let due = day(&o["next_review"]);
            o.insert("next_review_day".into(), due);
            let href = o
                .get("score")
                .and_then(|x| x["actor"].as_str())
                .map(actor_href);
            o.insert("actor_href".into(), href.into());
        }
        for r in sc["score"]["recommendations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            recommendations.push(merge(
                r.clone(),
                json!({"scenario": sc["title"], "scenario_id": sc["id"]}),
            ));
        }
    }
    recommendations.sort_by(|a, b| {
        b["reduction"]
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&a["reduction"].as_f64().unwrap_or(0.0))
            .then(a["action"].as_str().cmp(&b["action"].as_str()))
    });
    recommendations.truncate(RECOMMENDATIONS_SHOWN);
    let ranked = d.inputs().assess_actors();
    let actors: Vec<Json> = ranked
        .iter()
        .take(ACTORS_SHOWN)
        .map(|a| {
            to_json(crate::routes::threats::ActorDto::from(a))
                .map(|j| merge(j, json!({"href": actor_href(&a.actor.key)})))
        })
        .collect::<Result<_, _>>()?;
    let reviews_due = scenarios
        .iter()
        .filter(|s| s["overdue"].as_bool().unwrap_or(false))
        .count();
    let ctx = merge(
        frame(&p, &s, "threats"),
        json!({
            "has_profile": d.has_profile,
            "profile": {
                "name": d.profile.name,
                "sectors": d.profile.sectors,
                "countries": d.profile.countries,
                "regions": d.profile.regions,
            },
            "scenarios": scenarios,
            "reviews_due": reviews_due,
            "actors": actors,
            "actor_count": d.actors.len(),
            "recommendations": recommendations,
        }),
    );
    Ok(render_json(&state, "threats.html", ctx))
}

/// `GET /threats/actors/{id}`: one actor (ATT&CK id, name or alias).
pub(crate) async fn actor(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let d = data(&state, &p).await?;
    let a = actor_detail(&d, &id).ok_or_else(|| AppError::not_found(format!("no actor {id:?}")))?;
    let mut a = to_json(a)?;
    // Technique names from ATT&CK, where stored.
    if let Some(ts) = a["techniques"].as_array_mut() {
        for t in ts {
            let name = t["technique"]
                .as_str()
                .and_then(|id| d.attack.get(id))
                .map(|o| o.name.clone());
            if let Some(o) = t.as_object_mut() {
                o.insert("name".into(), name.into());
            }
        }
    }
    let ctx = merge(frame(&p, &s, "threats"), json!({ "a": a }));
    Ok(render_json(&state, "actor.html", ctx))
}

/// A matrix cell: a technique (sub-techniques rolled up into it).
fn cell(
    t: &vigil_intel::attack::AttackObject,
    cov: &HashMap<&str, &TechniqueCoverage>,
    subs: &[&vigil_intel::attack::AttackObject],
    gaps: &BTreeMap<String, BTreeSet<String>>,
) -> Json {
    let c = cov.get(t.id.as_str());
    let alerts = c.map_or(0, |c| c.alerts);
    let heat = match alerts {
        0 => 0,
        1..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        _ => 4,
    };
    let covered_subs = subs
        .iter()
        .filter(|s| {
            cov.get(s.id.as_str())
                .is_some_and(|c| c.state != coverage::State::Gap)
        })
        .count();
    let actors: BTreeSet<&String> = gaps
        .iter()
        .filter(|(g, _)| **g == t.id || g.starts_with(&format!("{}.", t.id)))
        .flat_map(|(_, a)| a)
        .collect();
    json!({
        "id": t.id,
        "name": t.name,
        "state": c.map_or("gap", |c| c.state.as_str()),
        "rules": c.map_or(0, |c| c.rules.len()),
        "rule_ids": c.map(|c| c.rules.iter().take(5).map(|r| r.id.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "alerts": alerts,
        "heat": heat,
        "subs": subs.len(),
        "covered_subs": covered_subs,
        "actor_gap": !actors.is_empty(),
        "actors": actors,
    })
}

/// `GET /coverage`: the ATT&CK matrix.
pub(crate) async fn matrix(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let d = data(&state, &p).await?;
    let frame_ctx = frame(&p, &s, "coverage");
    let techniques: Vec<_> = d
        .attack
        .list(AttackKind::Technique)
        .filter(|t| t.domains.iter().any(|x| x == DOMAIN))
        .collect();
    if techniques.is_empty() {
        let ctx = merge(frame_ctx, json!({"empty": true}));
        return Ok(render_json(&state, "coverage.html", ctx));
    }
    let since = Timestamp::from_micros(
        now.as_micros()
            .saturating_sub(MATRIX_ALERT_DAYS * 86_400_000_000),
    );
    let alerts = state
        .timed(
            "technique_alerts",
            crate::threats::technique_alerts(&state.store, p.tenant, since),
        )
        .await?;
    let (cov, _) = coverage::matrix(&d.attack, DOMAIN, &d.coverage, &alerts);
    let by_id: HashMap<&str, &TechniqueCoverage> =
        cov.iter().map(|c| (c.technique.as_str(), c)).collect();
    // Gaps of the profiled actors: technique → actor names.
    let scenario_actors: BTreeSet<String> = state
        .store
        .list_scenarios(p.tenant)
        .await?
        .iter()
        .filter_map(|r| {
            let spec = crate::threats::spec_of(r);
            let k = spec.actor?;
            d.actors
                .iter()
                .find(|a| {
                    a.key.eq_ignore_ascii_case(&k)
                        || vigil_threats::actors::name_key(&a.name)
                            == vigil_threats::actors::name_key(&k)
                })
                .map(|a| a.key.clone())
        })
        .collect();
    let profiled = profiled_actors(&d, &scenario_actors);
    let mut gaps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in d.actors.iter().filter(|a| profiled.contains(&a.key)) {
        for t in &a.techniques {
            let state = by_id
                .get(t.as_str())
                .map_or(coverage::State::Gap, |c| c.state);
            if state == coverage::State::Gap {
                gaps.entry(t.clone()).or_default().insert(a.name.clone());
            }
        }
    }
    // Columns: tactics in matrix order, then any others by name.
    let tactic_names: HashMap<String, String> = d
        .attack
        .list(AttackKind::Tactic)
        .filter(|t| t.domains.iter().any(|x| x == DOMAIN))
        .filter_map(|t| t.tactics.first().map(|s| (s.clone(), t.name.clone())))
        .collect();
    let mut shortnames: Vec<String> = techniques
        .iter()
        .flat_map(|t| t.tactics.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    shortnames.sort_by_key(|s| {
        (
            TACTIC_ORDER
                .iter()
                .position(|o| o == s)
                .unwrap_or(TACTIC_ORDER.len()),
            s.clone(),
        )
    });
    let mut subs_of: HashMap<&str, Vec<&vigil_intel::attack::AttackObject>> = HashMap::new();
    for t in techniques.iter().copied().filter(|t| t.is_subtechnique) {
        if let Some((parent, _)) = t.id.split_once('.') {
            subs_of.entry(parent).or_default().push(t);
        }
    }
    let columns: Vec<Json> = shortnames
        .iter()
        .map(|sn| {
            let mut parents: Vec<_> = techniques
                .iter()
                .filter(|t| !t.is_subtechnique && t.tactics.contains(sn))
                .collect();
            parents.sort_by(|a, b| a.name.cmp(&b.name));
            let cells: Vec<Json> = parents
                .iter()
                .map(|t| {
                    let subs = subs_of.get(t.id.as_str()).map_or(&[][..], Vec::as_slice);
                    cell(t, &by_id, subs, &gaps)
                })
                .collect();
            let count = |st: &str| cells.iter().filter(|c| c["state"] == st).count();
            let name = tactic_names.get(sn).cloned().unwrap_or_else(|| {
                sn.split('-')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            json!({
                "shortname": sn,
                "name": name,
                "covered": count("covered"),
                "partial": count("partial"),
                "gaps": count("gap"),
                "cells": cells,
            })
        })
        .collect();
    let gap_rows: Vec<Json> = gaps
        .iter()
        .map(|(t, actors)| {
            json!({
                "id": t,
                "name": d.attack.get(t).map(|o| o.name.clone()),
                "actors": actors,
            })
        })
        .collect();
    let parents = techniques.iter().filter(|t| !t.is_subtechnique);
    let (mut covered, mut partial, mut total) = (0, 0, 0);
    for t in parents {
        total += 1;
        match by_id.get(t.id.as_str()).map(|c| c.state) {
            Some(coverage::State::Covered) => covered += 1,
            Some(coverage::State::Partial) => partial += 1,
            _ => {}
        }
    }
    let ctx = merge(
        frame_ctx,
        json!({
            "empty": false,
            "columns": columns,
            "gaps": gap_rows,
            "profiled": d.actors.iter().filter(|a| profiled.contains(&a.key)).map(|a| json!({"name": a.name, "href": actor_href(&a.key)})).collect::<Vec<_>>(),
            "total": total,
            "covered": covered,
            "partial": partial,
            "rules": d.coverage.rules().iter().filter(|r| r.enabled).count(),
            "days": MATRIX_ALERT_DAYS,
            "attack_version": d.attack_version,
        }),
    );
    Ok(render_json(&state, "coverage.html", ctx))
}

/// `GET /coverage/navigator.json`: the API's Navigator layer, as a
/// download.
pub(crate) async fn navigator(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, AppError> {
    let d = data(&state, &p).await?;
    let layer = navigator_layer(&d, &CoverageParams::default());
    let body = serde_json::to_string_pretty(&layer).map_err(AppError::internal)?;
    let mut res = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"vigil-coverage-layer.json\""),
            ),
        ],
        body,
    )
        .into_response();
    res.extensions_mut().insert(ConsoleBody);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_days_and_hrefs() {
        assert_eq!(day(&json!("2026-11-27T10:00:00Z")), json!("2026-11-27"));
        assert_eq!(day(&Json::Null), Json::Null);
        assert_eq!(actor_href("misp:a b"), "/threats/actors/misp%3Aa%20b");
    }
}

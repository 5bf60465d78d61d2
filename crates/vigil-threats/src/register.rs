//! The register: actors assessed against the organisation (relevance,
//! technique coverage, exploited CVEs against open findings), threat
//! scenarios scored on the 5 × 5 likelihood × impact scale, and
//! recommendations ranked by how much each would lower the likelihood.
//!
//! # Likelihood (0–100, banded 1–5)
//!
//! | factor | weight | value |
//! |---|---|---|
//! | threat | 35 | the actor's relevance / 100 (technique scenarios: the highest relevance among the actors using the techniques; custom: 0.5) |
//! | exposure | 25 | highest exposure of an open finding for a CVE the actor exploits: internet-facing 1, internal 0.5, isolated 0.1 |
//! | gaps | 25 | mean gap weight of the scenario's techniques: gap 1, partial 0.5, covered 0 (a technique with an ATT&CK mitigation marked applied counts half) |
//! | observed | 15 | 1 when alerts for its techniques (or sightings of the actor) occurred in the window |
//!
//! # Impact (0–100, banded 1–5)
//!
//! | factor | weight | value |
//! |---|---|---|
//! | criticality | 60 | highest asset criticality in reach / 5 |
//! | data | 40 | most sensitive data class in reach: payment, health, credentials, secret 1; personal 0.75; any other 0.5; none 0 |
//!
//! Assets in reach: those carrying the matched findings, the profile's
//! crown jewels and the scenario's named assets; with none of those, the
//! internet-facing assets; with no assets at all, criticality 3/5 and the
//! profile's data classes are assumed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vigil_intel::attack::AttackKnowledge;

use crate::actors::{self, Actor, Observations};
use crate::coverage::{CoverageIndex, State, TechniqueCoverage};
use crate::model::{Factor, Score, risk_level, round2};
use crate::profile::Profile;
use crate::region::Geo;

/// Likelihood weights.
pub const W_THREAT: f64 = 35.0;
/// Exposure weight.
pub const W_EXPOSURE: f64 = 25.0;
/// Gaps weight.
pub const W_GAPS: f64 = 25.0;
/// Observed weight.
pub const W_SEEN: f64 = 15.0;
/// Impact weights.
pub const W_CRITICALITY: f64 = 60.0;
/// Data-class weight.
pub const W_DATA: f64 = 40.0;

/// An asset as the register sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// 1–5.
    pub criticality: u8,
    /// `internet-facing`, `internal`, `isolated`.
    pub exposure: String,
    /// Data classes handled.
    pub data_classes: Vec<String>,
}

/// An open finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Finding id.
    pub id: String,
    /// Asset id.
    pub asset_id: String,
    /// Every id of the vulnerability (CVE and aliases).
    pub ids: Vec<String>,
}

/// Exposure value of an asset exposure.
pub fn exposure_value(exposure: &str) -> f64 {
    match exposure {
        "internet-facing" => 1.0,
        "internal" => 0.5,
        "isolated" => 0.1,
        _ => 0.5,
    }
}

/// Sensitivity of a data class.
pub fn data_value(class: &str) -> f64 {
    match class.to_ascii_lowercase().as_str() {
        "payment" | "health" | "credentials" | "secret" | "financial" => 1.0,
        "personal" | "pii" => 0.75,
        "" => 0.0,
        _ => 0.5,
    }
}

/// Everything the register reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// Countries and regions.
    pub geo: &'a Geo,
    /// Merged actors.
    pub actors: &'a [Actor],
    /// ATT&CK (technique names, mitigations).
    pub attack: &'a AttackKnowledge,
    /// Rules by technique.
    pub coverage: &'a CoverageIndex,
    /// Alerts and sightings in the window.
    pub observations: &'a Observations,
    /// Assets.
    pub assets: &'a [Asset],
    /// Open findings.
    pub findings: &'a [Finding],
    /// CVEs in KEV with known ransomware use.
    pub kev_ransomware: &'a BTreeSet<String>,
    /// Today, days since the epoch.
    pub today: i64,
}

/// An open finding for a CVE the actor exploits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    /// The CVE.
    pub cve: String,
    /// Finding id.
    pub finding: String,
    /// Asset id.
    pub asset_id: String,
    /// Asset name.
    pub asset: String,
    /// Its exposure.
    pub exposure: String,
    /// Exposure value.
    pub value: f64,
}

/// A CVE an actor exploits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorCve {
    /// CVE id.
    pub cve: String,
    /// Where that is said.
    pub source: String,
    /// In KEV with known ransomware use.
    pub kev_ransomware: bool,
    /// Open findings for it.
    pub findings: Vec<Exposure>,
}

/// An actor assessed against the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorAssessment {
    /// The actor.
    pub actor: Actor,
    /// Relevance.
    pub relevance: Score,
    /// One line: why it ranks where it does.
    pub explanation: String,
    /// Coverage of its techniques.
    pub techniques: Vec<TechniqueCoverage>,
    /// Covered, partial, gap counts.
    pub covered: usize,
    /// Partial.
    pub partial: usize,
    /// Gaps.
    pub gaps: usize,
    /// CVEs it exploits.
    pub cves: Vec<ActorCve>,
    /// Loaded indicators related to it or its software.
    pub indicators: u64,
}

fn explain(rel: &Score, covered: usize, partial: usize, gaps: usize, cves: &[ActorCve]) -> String {
    let mut parts: Vec<String> = rel
        .factors
        .iter()
        .filter(|f| f.points > 0.0)
        .map(|f| format!("{} +{} ({})", f.name, f.points, f.reason))
        .collect();
    if parts.is_empty() {
        parts.push("no sector, region, recent or observed match".into());
    }
    let exposed: Vec<String> = cves
        .iter()
        .flat_map(|c| c.findings.iter())
        .map(|e| format!("{} on {}", e.cve, e.asset))
        .collect();
    let mut s = format!(
        "{}; techniques: {covered} covered, {partial} partial, {gaps} gaps",
        parts.join("; ")
    );
    if !exposed.is_empty() {
        s.push_str(&format!("; open findings: {}", exposed.join(", ")));
    }
    s
}

impl<'a> Inputs<'a> {
    fn asset(&self, id: &str) -> Option<&'a Asset> {
        self.assets.iter().find(|a| a.id == id)
    }

    /// Open findings for `cve` with their assets.
    fn exposures_of(&self, cve: &str) -> Vec<Exposure> {
        let mut out: Vec<Exposure> = self
            .findings
            .iter()
            .filter(|f| f.ids.iter().any(|i| i.eq_ignore_ascii_case(cve)))
            .filter_map(|f| {
                let a = self.asset(&f.asset_id)?;
                Some(Exposure {
                    cve: cve.to_string(),
                    finding: f.id.clone(),
                    asset_id: a.id.clone(),
                    asset: a.name.clone(),
                    exposure: a.exposure.clone(),
                    value: exposure_value(&a.exposure),
                })
            })
            .collect();
        out.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.finding.cmp(&b.finding)));
        out
    }

    /// One actor assessed.
    pub fn assess_actor(&self, a: &Actor) -> ActorAssessment {
        let relevance = actors::relevance(a, self.profile, self.geo, self.observations, self.today);
        let techniques: Vec<TechniqueCoverage> = a
            .techniques
            .iter()
            .map(|t| {
                let n = self
                    .observations
                    .technique_alerts
                    .get(t)
                    .copied()
                    .unwrap_or(0);
                self.coverage.assess(t, n)
            })
            .collect();
        let count = |s: State| techniques.iter().filter(|t| t.state == s).count();
        let (covered, partial, gaps) = (
            count(State::Covered),
            count(State::Partial),
            count(State::Gap),
        );
        let cves: Vec<ActorCve> = a
            .cves
            .iter()
            .map(|(c, src)| ActorCve {
                cve: c.clone(),
                source: src.clone(),
                kev_ransomware: self.kev_ransomware.contains(c),
                findings: self.exposures_of(c),
            })
            .collect();
        ActorAssessment {
            explanation: explain(&relevance, covered, partial, gaps, &cves),
            actor: a.clone(),
            relevance,
            techniques,
            covered,
            partial,
            gaps,
            cves,
            indicators: self
                .observations
                .actor_indicators
                .get(&a.key)
                .copied()
                .unwrap_or(0),
        }
    }

    /// Every actor assessed, most relevant first (ties: more techniques
    /// known, then key).
    pub fn assess_actors(&self) -> Vec<ActorAssessment> {
        let mut out: Vec<ActorAssessment> =
            self.actors.iter().map(|a| self.assess_actor(a)).collect();
        out.sort_by(|x, y| {
            y.relevance
                .value
                .total_cmp(&x.relevance.value)
                .then(y.actor.techniques.len().cmp(&x.actor.techniques.len()))
                .then(x.actor.key.cmp(&y.actor.key))
        });
        out
    }
}

/// What a scenario is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSpec {
    /// Scenario id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The actor (key, name or alias), for actor scenarios.
    #[serde(default)]
    pub actor: Option<String>,
    /// Techniques (technique scenarios; actor scenarios use the actor's).
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Assets (names or ids) in reach beyond the defaults.
    #[serde(default)]
    pub assets: Vec<String>,
    /// ATT&CK mitigations marked as applied (`M1038`).
    #[serde(default)]
    pub mitigations_applied: Vec<String>,
}

/// A recommended action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// `fix-finding`, `enable-rules`, `write-detection`,
    /// `improve-detection`, `apply-mitigation`.
    pub kind: String,
    /// What to do.
    pub action: String,
    /// The objects it names (finding ids, rule ids, technique, mitigation).
    pub targets: Vec<String>,
    /// Likelihood points it would remove.
    pub reduction: f64,
    /// The likelihood after it.
    pub likelihood_after: f64,
}

/// A scenario scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioAssessment {
    /// The scenario.
    pub spec: ScenarioSpec,
    /// The actor it resolved to.
    pub actor: Option<String>,
    /// Likelihood.
    pub likelihood: Score,
    /// Impact.
    pub impact: Score,
    /// Likelihood rank × impact rank, 1–25.
    pub risk: u8,
    /// `low`, `medium`, `high`, `critical`.
    pub risk_level: String,
    /// Open findings for the actor's CVEs.
    pub exposures: Vec<Exposure>,
    /// Coverage of the scenario's techniques.
    pub techniques: Vec<TechniqueCoverage>,
    /// Ranked recommendations.
    pub recommendations: Vec<Recommendation>,
}

/// The mutable part of the likelihood, so recommendations can recompute.
#[derive(Debug, Clone)]
struct LState {
    threat: (f64, String),
    exposures: Vec<Exposure>,
    /// technique → (state, score, mitigated)
    techs: BTreeMap<String, (State, f64, bool)>,
    observed: (bool, String),
}

fn gap_weight(state: State, mitigated: bool) -> f64 {
    let w = match state {
        State::Gap => 1.0,
        State::Partial => 0.5,
        State::Covered => 0.0,
    };
    if mitigated { w / 2.0 } else { w }
}

fn likelihood(st: &LState) -> Score {
    let threat = Factor::new("threat", st.threat.0, W_THREAT, st.threat.1.clone());
    let exposure = match st.exposures.first() {
        Some(e) => {
            let more = st.exposures.len() - 1;
            let extra = if more > 0 {
                format!(" (+{more} more open findings)")
            } else {
                String::new()
            };
            Factor::new(
                "exposure",
                e.value,
                W_EXPOSURE,
                format!(
                    "open finding {} for {} on {} asset {}{extra}",
                    e.finding, e.cve, e.exposure, e.asset
                ),
            )
        }
        None => Factor::new(
            "exposure",
            0.0,
            W_EXPOSURE,
            "no open finding for a CVE it exploits",
        ),
    };
    let n = st.techs.len();
    let gaps = if n == 0 {
        Factor::new("gaps", 0.0, W_GAPS, "no techniques known")
    } else {
        let sum: f64 = st.techs.values().map(|(s, _, m)| gap_weight(*s, *m)).sum();
        let g = st
            .techs
            .values()
            .filter(|(s, _, _)| *s == State::Gap)
            .count();
        let p = st
            .techs
            .values()
            .filter(|(s, _, _)| *s == State::Partial)
            .count();
        let m = st.techs.values().filter(|(_, _, m)| *m).count();
        let mut why = format!("{g} gaps and {p} partial of {n} techniques");
        if m > 0 {
            why.push_str(&format!(", {m} mitigated"));
        }
        Factor::new("gaps", sum / n as f64, W_GAPS, why)
    };
    let seen = Factor::new(
        "observed",
        if st.observed.0 { 1.0 } else { 0.0 },
        W_SEEN,
        st.observed.1.clone(),
    );
    Score::of(vec![threat, exposure, gaps, seen])
}

impl Inputs<'_> {
    fn find_actor(&self, key: &str) -> Option<&Actor> {
        let k = actors::name_key(key);
        self.actors
            .iter()
            .find(|a| a.key.eq_ignore_ascii_case(key))
            .or_else(|| {
                self.actors.iter().find(|a| {
                    actors::name_key(&a.name) == k
                        || a.aliases.iter().any(|x| actors::name_key(x) == k)
                })
            })
    }

    fn impact(&self, reach: &[&Asset]) -> Score {
        if reach.is_empty() {
            let best = self
                .profile
                .data_classes
                .iter()
                .map(|c| (data_value(c), c.as_str()))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            return Score::of(vec![
                Factor::new(
                    "criticality",
                    0.6,
                    W_CRITICALITY,
                    "no assets in reach: criticality 3/5 assumed",
                ),
                match best {
                    Some((v, c)) => {
                        Factor::new("data", v, W_DATA, format!("profile data class {c}"))
                    }
                    None => Factor::new("data", 0.0, W_DATA, "no data classes known"),
                },
            ]);
        }
        let top = reach
            .iter()
            .max_by(|a, b| a.criticality.cmp(&b.criticality).then(b.name.cmp(&a.name)));
        let crit = match top {
            Some(a) => Factor::new(
                "criticality",
                f64::from(a.criticality.min(5)) / 5.0,
                W_CRITICALITY,
                format!("{} (criticality {}/5)", a.name, a.criticality),
            ),
            None => Factor::new("criticality", 0.0, W_CRITICALITY, "no assets"),
        };
        let mut best: Option<(f64, &str, &str)> = None;
        for a in reach {
            for c in &a.data_classes {
                let v = data_value(c);
                if best.is_none_or(|(b, _, _)| v > b) {
                    best = Some((v, c.as_str(), a.name.as_str()));
                }
            }
        }
        let data = match best {
            Some((v, c, n)) => Factor::new("data", v, W_DATA, format!("{c} data on {n}")),
            None => Factor::new(
                "data",
                0.0,
                W_DATA,
                "no data classes on the assets in reach",
            ),
        };
        Score::of(vec![crit, data])
    }

    /// Scores one scenario with its recommendations.
    pub fn assess_scenario(&self, spec: &ScenarioSpec) -> ScenarioAssessment {
        let actor = spec.actor.as_deref().and_then(|k| self.find_actor(k));
        let mut techniques: BTreeSet<String> = spec
            .techniques
            .iter()
            .filter_map(|t| vigil_intel::attack::technique_from_tag(t))
            .collect();
        if let Some(a) = actor {
            techniques.extend(a.techniques.iter().cloned());
        }
        let threat = match actor {
            Some(a) => {
                let r = actors::relevance(a, self.profile, self.geo, self.observations, self.today);
                (r.value / 100.0, format!("{} relevance {}", a.name, r.value))
            }
            None if !techniques.is_empty() => {
                let best = self
                    .actors
                    .iter()
                    .filter(|a| a.techniques.iter().any(|t| techniques.contains(t)))
                    .map(|a| {
                        let r = actors::relevance(
                            a,
                            self.profile,
                            self.geo,
                            self.observations,
                            self.today,
                        );
                        (r.value, a.name.clone())
                    })
                    .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)));
                match best {
                    Some((v, n)) => (
                        v / 100.0,
                        format!("most relevant actor using it: {n} ({v})"),
                    ),
                    None => (0.5, "no known actor uses it: 0.5 assumed".into()),
                }
            }
            None => (0.5, "custom scenario: 0.5 assumed".into()),
        };
        let mut exposures: Vec<Exposure> = actor
            .map(|a| a.cves.keys().flat_map(|c| self.exposures_of(c)).collect())
            .unwrap_or_default();
        exposures.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.finding.cmp(&b.finding)));
        let covs: Vec<TechniqueCoverage> = techniques
            .iter()
            .map(|t| {
                let n = self
                    .observations
                    .technique_alerts
                    .get(t)
                    .copied()
                    .unwrap_or(0);
                self.coverage.assess(t, n)
            })
            .collect();
        let applied: BTreeSet<&str> = spec
            .mitigations_applied
            .iter()
            .map(String::as_str)
            .collect();
        let mitigated_by = |t: &str| -> Vec<String> {
            self.attack
                .technique(t)
                .map(|v| v.mitigations.iter().map(|m| m.id.clone()).collect())
                .unwrap_or_default()
        };
        let techs: BTreeMap<String, (State, f64, bool)> = covs
            .iter()
            .map(|c| {
                let m = mitigated_by(&c.technique)
                    .iter()
                    .any(|m| applied.contains(m.as_str()));
                (c.technique.clone(), (c.state, c.score, m))
            })
            .collect();
        let seen_alerts: Vec<String> = covs
            .iter()
            .filter(|c| c.alerts > 0)
            .map(|c| format!("{} ({} alerts)", c.technique, c.alerts))
            .collect();
        let sightings = actor
            .and_then(|a| self.observations.actor_sightings.get(&a.key))
            .copied()
            .unwrap_or(0);
        let observed = if seen_alerts.is_empty() && sightings == 0 {
            (
                false,
                "no alerts for its techniques in the window".to_string(),
            )
        } else {
            let mut s = seen_alerts;
            if sightings > 0 {
                s.push(format!("{sightings} indicator sightings"));
            }
            (true, format!("seen: {}", s.join(", ")))
        };
        let st = LState {
            threat,
            exposures: exposures.clone(),
            techs,
            observed,
        };
        let l = likelihood(&st);
        // assets in reach
        let mut reach: Vec<&Asset> = Vec::new();
        fn add<'x>(a: &'x Asset, reach: &mut Vec<&'x Asset>) {
            if !reach.iter().any(|x| x.id == a.id) {
                reach.push(a);
            }
        }
        for e in &exposures {
            if let Some(a) = self.asset(&e.asset_id) {
                add(a, &mut reach);
            }
        }
        for n in self.profile.crown_jewels.iter().chain(spec.assets.iter()) {
            if let Some(a) = self.assets.iter().find(|a| a.name == *n || a.id == *n) {
                add(a, &mut reach);
            }
        }
        if reach.is_empty() {
            for a in self
                .assets
                .iter()
                .filter(|a| a.exposure == "internet-facing")
            {
                add(a, &mut reach);
            }
        }
        let i = self.impact(&reach);
        let recommendations = self.recommend(&st, &l, &covs, &applied);
        let risk = l.rank * i.rank;
        ScenarioAssessment {
            spec: spec.clone(),
            actor: actor.map(|a| a.key.clone()),
            risk,
            risk_level: risk_level(risk).to_string(),
            likelihood: l,
            impact: i,
            exposures,
            techniques: covs,
            recommendations,
        }
    }

    fn recommend(
        &self,
        st: &LState,
        before: &Score,
        covs: &[TechniqueCoverage],
        applied: &BTreeSet<&str>,
    ) -> Vec<Recommendation> {
        let mut out = Vec::new();
        let mut push = |kind: &str, action: String, targets: Vec<String>, after: Score| {
            let reduction = round2(before.value - after.value);
            if reduction > 0.0 {
                out.push(Recommendation {
                    kind: kind.to_string(),
                    action,
                    targets,
                    reduction,
                    likelihood_after: after.value,
                });
            }
        };
        // fix findings: one CVE on one asset at a time
        let mut seen = BTreeSet::new();
        for e in &st.exposures {
            if !seen.insert((e.cve.clone(), e.asset_id.clone())) {
                continue;
            }
            let mut s = st.clone();
            s.exposures
                .retain(|x| !(x.cve == e.cve && x.asset_id == e.asset_id));
            let fixed: Vec<String> = st
                .exposures
                .iter()
                .filter(|x| x.cve == e.cve && x.asset_id == e.asset_id)
                .map(|x| x.finding.clone())
                .collect();
            push(
                "fix-finding",
                format!("fix {} on {} ({} asset)", e.cve, e.asset, e.exposure),
                fixed,
                likelihood(&s),
            );
        }
        // detections
        for c in covs.iter().filter(|c| c.state != State::Covered) {
            let mut s = st.clone();
            if let Some(t) = s.techs.get_mut(&c.technique) {
                t.0 = State::Covered;
            }
            let after = likelihood(&s);
            if c.state == State::Gap && !c.disabled.is_empty() {
                let ids: Vec<String> = c.disabled.iter().map(|r| r.id.clone()).collect();
                let names: Vec<String> = c
                    .disabled
                    .iter()
                    .take(3)
                    .map(|r| format!("{:?} ({})", r.title, r.id))
                    .collect();
                let more = if ids.len() > 3 {
                    format!(" and {} more", ids.len() - 3)
                } else {
                    String::new()
                };
                push(
                    "enable-rules",
                    format!(
                        "enable rules for gap technique {}: {}{more} (present but disabled)",
                        c.technique,
                        names.join(", ")
                    ),
                    ids,
                    after,
                );
            } else if c.state == State::Gap {
                push(
                    "write-detection",
                    format!(
                        "write a detection for gap technique {} (no rule in the loaded rule directories)",
                        c.technique
                    ),
                    vec![c.technique.clone()],
                    after,
                );
            } else {
                push(
                    "improve-detection",
                    format!(
                        "add or raise detections for partially covered {} (score {})",
                        c.technique, c.score
                    ),
                    vec![c.technique.clone()],
                    after,
                );
            }
        }
        // mitigations
        let mut by_mit: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for c in covs.iter().filter(|c| c.state != State::Covered) {
            if let Some(v) = self.attack.technique(&c.technique) {
                for m in v.mitigations {
                    if applied.contains(m.id.as_str()) {
                        continue;
                    }
                    by_mit
                        .entry(m.id.clone())
                        .or_insert_with(|| (m.name.clone(), Vec::new()))
                        .1
                        .push(c.technique.clone());
                }
            }
        }
        for (mid, (name, techs)) in by_mit {
            let mut s = st.clone();
            for t in &techs {
                if let Some(x) = s.techs.get_mut(t) {
                    x.2 = true;
                }
            }
            push(
                "apply-mitigation",
                format!(
                    "apply ATT&CK mitigation {mid} {name} (mitigates {})",
                    techs.join(", ")
                ),
                vec![mid],
                likelihood(&s),
            );
        }
        let order = |k: &str| match k {
            "fix-finding" => 0,
            "enable-rules" => 1,
            "write-detection" => 2,
            "improve-detection" => 3,
            _ => 4,
        };
        out.sort_by(|a, b| {
            b.reduction
                .total_cmp(&a.reduction)
                .then(order(&a.kind).cmp(&order(&b.kind)))
                .then(a.targets.cmp(&b.targets))
        });
        out
    }
}

#[cfg(test)]
mod tests;

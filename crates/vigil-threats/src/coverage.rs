//! Detection coverage of ATT&CK techniques by Sigma rules.
//!
//! A rule covers the techniques its `attack.tNNNN[.NNN]` tags name.
//! **Sub-technique rule**: a parent technique (`T1059`) is covered by the
//! rules tagged with it *or with any of its sub-techniques* (`T1059.001`,
//! …) — the roll-up; a sub-technique is covered only by the rules tagged
//! with exactly it (a rule tagged with the parent alone does not claim the
//! sub-technique). Only enabled rules count; disabled ones are listed as
//! candidates to enable.
//!
//! Each enabled rule weighs `level weight × status weight` (critical and
//! high 1.0, medium 0.75, low 0.5, informational 0.25, none 0.5; stable
//! 1.0, test 0.8, experimental 0.6, deprecated 0.25, unsupported 0, none
//! 0.8). A technique's coverage score is the sum of its rules' weights,
//! plus 0.25 when alerts for it were observed in the window (the detection
//! demonstrably sees data), capped at 1. **Covered** at 1, **partial**
//! above 0, **gap** at 0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_intel::attack::{AttackKind, AttackKnowledge, technique_from_tag};

use crate::model::round2;

/// A Sigma rule as the coverage model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Effective level.
    pub level: Option<String>,
    /// `status` (`stable`, `test`, …), when known.
    pub status: Option<String>,
    /// Whether detectors use it.
    pub enabled: bool,
    /// The technique ids its effective tags name.
    pub techniques: Vec<String>,
}

impl RuleInfo {
    /// A rule from its effective tags (non-ATT&CK tags ignored).
    pub fn new(
        id: &str,
        title: &str,
        level: Option<&str>,
        status: Option<&str>,
        enabled: bool,
        tags: &[String],
    ) -> RuleInfo {
        let mut techniques: Vec<String> =
            tags.iter().filter_map(|t| technique_from_tag(t)).collect();
        techniques.sort();
        techniques.dedup();
        RuleInfo {
            id: id.to_string(),
            title: title.to_string(),
            level: level.map(str::to_string),
            status: status.map(str::to_string),
            enabled,
            techniques,
        }
    }

    /// `level weight × status weight`.
    pub fn weight(&self) -> f64 {
        level_weight(self.level.as_deref()) * status_weight(self.status.as_deref())
    }
}

/// Weight of a rule level.
pub fn level_weight(level: Option<&str>) -> f64 {
    match level {
        Some("critical" | "high") => 1.0,
        Some("medium") => 0.75,
        Some("low") => 0.5,
        Some("informational") => 0.25,
        _ => 0.5,
    }
}

/// Weight of a rule status.
pub fn status_weight(status: Option<&str>) -> f64 {
    match status {
        Some("stable") => 1.0,
        Some("test") => 0.8,
        Some("experimental") => 0.6,
        Some("deprecated") => 0.25,
        Some("unsupported") => 0.0,
        _ => 0.8,
    }
}

/// Added to a technique's score when alerts for it were observed.
pub const ALERT_BONUS: f64 = 0.25;

/// Coverage state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Score 1.
    Covered,
    /// Score above 0, below 1.
    Partial,
    /// No enabled rule.
    Gap,
}

impl State {
    /// `covered`, `partial`, `gap`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Covered => "covered",
            State::Partial => "partial",
            State::Gap => "gap",
        }
    }
}

/// A rule in a coverage answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRef {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Level.
    pub level: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Its weight.
    pub weight: f64,
    /// The technique its tag names (the technique or a sub-technique).
    pub via: String,
}

/// The coverage of one technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueCoverage {
    /// Technique id.
    pub technique: String,
    /// Covered, partial or gap.
    pub state: State,
    /// 0–1.
    pub score: f64,
    /// Enabled covering rules, by id.
    pub rules: Vec<RuleRef>,
    /// Disabled rules that would cover it, by id.
    pub disabled: Vec<RuleRef>,
    /// Alerts observed for it in the window.
    pub alerts: u64,
}

/// Rules indexed by the techniques they name.
#[derive(Debug, Clone, Default)]
pub struct CoverageIndex {
    rules: Vec<RuleInfo>,
    by_tech: BTreeMap<String, Vec<usize>>,
}

impl CoverageIndex {
    /// Indexes `rules`.
    pub fn new(rules: Vec<RuleInfo>) -> CoverageIndex {
        let mut by_tech: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            for t in &r.techniques {
                by_tech.entry(t.clone()).or_default().push(i);
            }
        }
        CoverageIndex { rules, by_tech }
    }

    /// The rules.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// Every rule (enabled or not) that covers `technique` under the
    /// sub-technique rule, with the technique its tag names; each rule
    /// once (its first matching tag), sorted by rule id.
    pub fn candidates(&self, technique: &str) -> Vec<(&RuleInfo, &str)> {
        let mut out: Vec<(&RuleInfo, &str)> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let entries: Vec<(&String, &Vec<usize>)> = if technique.contains('.') {
            self.by_tech.get_key_value(technique).into_iter().collect()
        } else {
            let hi = format!("{technique}.999");
            self.by_tech.range(technique.to_string()..=hi).collect()
        };
        for (t, idx) in entries {
            for &i in idx {
                if seen.insert(i)
                    && let Some(r) = self.rules.get(i)
                {
                    out.push((r, t.as_str()));
                }
            }
        }
        out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        out
    }

    /// The coverage of `technique` with `alerts` observed.
    pub fn assess(&self, technique: &str, alerts: u64) -> TechniqueCoverage {
        let mut rules = Vec::new();
        let mut disabled = Vec::new();
        for (r, via) in self.candidates(technique) {
            let rr = RuleRef {
                id: r.id.clone(),
                title: r.title.clone(),
                level: r.level.clone(),
                status: r.status.clone(),
                weight: round2(r.weight()),
                via: via.to_string(),
            };
            if r.enabled {
                rules.push(rr);
            } else {
                disabled.push(rr);
            }
        }
        let w: f64 = rules.iter().map(|r| r.weight).sum();
        let score = if rules.is_empty() {
            0.0
        } else {
            let bonus = if alerts > 0 { ALERT_BONUS } else { 0.0 };
            (w + bonus).min(1.0)
        };
        let state = if rules.is_empty() || score <= 0.0 {
            State::Gap
        } else if score >= 1.0 {
            State::Covered
        } else {
            State::Partial
        };
        TechniqueCoverage {
            technique: technique.to_string(),
            state,
            score: round2(score),
            rules,
            disabled,
            alerts,
        }
    }
}

/// Coverage counts of one tactic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TacticCoverage {
    /// Tactic id (`TA0002`).
    pub id: String,
    /// Shortname (`execution`).
    pub shortname: String,
    /// Name.
    pub name: String,
    /// Techniques and sub-techniques in the tactic.
    pub techniques: usize,
    /// Covered.
    pub covered: usize,
    /// Partially covered.
    pub partial: usize,
    /// Gaps.
    pub gaps: usize,
}

/// The coverage of every current technique of `domain` (e.g.
/// `enterprise-attack`; empty: all), with the per-tactic counts.
pub fn matrix(
    attack: &AttackKnowledge,
    domain: &str,
    index: &CoverageIndex,
    alerts: &BTreeMap<String, u64>,
) -> (Vec<TechniqueCoverage>, Vec<TacticCoverage>) {
    let in_domain = |d: &[String]| domain.is_empty() || d.iter().any(|x| x == domain);
    let techs: Vec<_> = attack
        .list(AttackKind::Technique)
        .filter(|t| in_domain(&t.domains))
        .collect();
    let cov: Vec<TechniqueCoverage> = techs
        .iter()
        .map(|t| index.assess(&t.id, alerts.get(&t.id).copied().unwrap_or(0)))
        .collect();
    let mut tactics: Vec<TacticCoverage> = attack
        .list(AttackKind::Tactic)
        .filter(|t| in_domain(&t.domains))
        .map(|t| TacticCoverage {
            id: t.id.clone(),
            shortname: t.tactics.first().cloned().unwrap_or_default(),
            name: t.name.clone(),
            ..TacticCoverage::default()
        })
        .collect();
    for (t, c) in techs.iter().zip(&cov) {
        for ta in tactics
            .iter_mut()
            .filter(|ta| t.tactics.contains(&ta.shortname))
        {
            ta.techniques += 1;
            match c.state {
                State::Covered => ta.covered += 1,
                State::Partial => ta.partial += 1,
                State::Gap => ta.gaps += 1,
            }
        }
    }
    (cov, tactics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, level: &str, status: &str, enabled: bool, tags: &[&str]) -> RuleInfo {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_string()).collect();
        RuleInfo::new(id, id, Some(level), Some(status), enabled, &tags)
    }

    #[test]
    fn sub_technique_rule_and_weights() {
        let idx = CoverageIndex::new(vec![
            // weight 1.0 × 1.0 = 1.0
            rule(
                "r1",
                "high",
                "stable",
                true,
                &["attack.execution", "attack.t1059.001"],
            ),
            // 0.75 × 0.6 = 0.45
            rule("r2", "medium", "experimental", true, &["attack.t1059"]),
            // disabled
            rule("r3", "high", "test", false, &["attack.t1059.003"]),
            // 0.5 × 0.8 = 0.4
            rule("r4", "low", "test", true, &["attack.t1003.001"]),
            // T10590 must not roll up into T1059 (not a valid id anyway)
            rule("r5", "high", "stable", true, &["attack.t1105"]),
        ]);
        // Parent T1059: r1 (via .001), r2 (itself), r3 disabled (via .003).
        let c = idx.assess("T1059", 0);
        let ids: Vec<&str> = c.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["r1", "r2"]);
        assert_eq!(
            c.disabled
                .iter()
                .map(|r| r.via.as_str())
                .collect::<Vec<_>>(),
            ["T1059.003"]
        );
        // 1.0 + 0.45 = 1.45 → capped 1 → covered
        assert_eq!((c.state, c.score), (State::Covered, 1.0));
        // Sub-technique T1059.001: only r1 (r2's parent tag does not count).
        let c = idx.assess("T1059.001", 0);
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.state, State::Covered);
        // T1059.003: only the disabled r3 → gap
        let c = idx.assess("T1059.003", 0);
        assert_eq!((c.state, c.score, c.disabled.len()), (State::Gap, 0.0, 1));
        // T1003: r4 via .001, 0.4 → partial; with alerts 0.4 + 0.25 = 0.65
        assert_eq!(idx.assess("T1003", 0).score, 0.4);
        let c = idx.assess("T1003", 3);
        assert_eq!((c.state, c.score), (State::Partial, 0.65));
        assert_eq!(idx.assess("T1566", 0).state, State::Gap);
    }
}

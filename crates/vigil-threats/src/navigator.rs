//! ATT&CK Navigator layers (layer format 4.5) from technique coverage:
//! one entry per technique with its score (coverage × 100), a colour per
//! state (covered green, partial yellow, gap red), a comment naming the
//! covering rules, and the rules as metadata.

use serde_json::{Value, json};

use crate::coverage::{State, TechniqueCoverage};

/// Layer format version.
pub const LAYER_VERSION: &str = "4.5";
/// Navigator version written into layers.
pub const NAVIGATOR_VERSION: &str = "5.2.0";
/// Colour of covered techniques.
pub const COLOR_COVERED: &str = "#8ec843";
/// Colour of partially covered techniques.
pub const COLOR_PARTIAL: &str = "#ffe766";
/// Colour of gaps.
pub const COLOR_GAP: &str = "#ff6666";
/// Most rules named in a comment (all are in the metadata).
const COMMENT_RULES: usize = 20;

/// What a layer is about.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Layer name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `enterprise-attack`, `mobile-attack`, `ics-attack`.
    pub domain: String,
    /// ATT&CK major version (`18`).
    pub attack_version: String,
    /// Platforms shown (the `filters.platforms`); empty: no filter
    /// object.
    pub platforms: Vec<String>,
}

fn color(s: State) -> &'static str {
    match s {
        State::Covered => COLOR_COVERED,
        State::Partial => COLOR_PARTIAL,
        State::Gap => COLOR_GAP,
    }
}

fn comment(c: &TechniqueCoverage) -> String {
    let mut s = match c.state {
        State::Gap if c.disabled.is_empty() => {
            "gap: no rule in the loaded rule directories".to_string()
        }
        State::Gap => format!("gap: {} rules present but disabled", c.disabled.len()),
        st => format!(
            "{}: score {} from {} enabled rules",
            st.as_str(),
            c.score,
            c.rules.len()
        ),
    };
    if !c.rules.is_empty() {
        let names: Vec<String> = c
            .rules
            .iter()
            .take(COMMENT_RULES)
            .map(|r| format!("{} ({})", r.title, r.id))
            .collect();
        s.push_str(": ");
        s.push_str(&names.join("; "));
        if c.rules.len() > COMMENT_RULES {
            s.push_str(&format!("; and {} more", c.rules.len() - COMMENT_RULES));
        }
    }
    if c.alerts > 0 {
        s.push_str(&format!(" — {} alerts observed", c.alerts));
    }
    s
}

/// The layer for `coverage` (techniques sorted by id).
pub fn layer(spec: &LayerSpec, coverage: &[TechniqueCoverage]) -> Value {
    let mut techs: Vec<&TechniqueCoverage> = coverage.iter().collect();
    techs.sort_by(|a, b| a.technique.cmp(&b.technique));
    let techniques: Vec<Value> = techs
        .iter()
        .map(|c| {
            let mut metadata: Vec<Value> = c
                .rules
                .iter()
                .map(|r| json!({"name": "rule", "value": format!("{} {}", r.id, r.title)}))
                .collect();
            if !c.disabled.is_empty() {
                metadata.extend(c.disabled.iter().map(
                    |r| json!({"name": "disabled rule", "value": format!("{} {}", r.id, r.title)}),
                ));
            }
            json!({
                "techniqueID": c.technique,
                "score": (c.score * 100.0).round() as i64,
                "color": color(c.state),
                "comment": comment(c),
                "enabled": true,
                "metadata": metadata,
                "links": [],
                "showSubtechniques": false,
            })
        })
        .collect();
    let count = |s: State| coverage.iter().filter(|c| c.state == s).count();
    let mut layer = json!({
        "name": spec.name,
        "versions": {
            "attack": spec.attack_version,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": spec.domain,
        "description": spec.description,
        "sorting": 0,
        "layout": {
            "layout": "side",
            "aggregateFunction": "average",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false,
            "expandedSubtechniques": "none",
        },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {
            "colors": [COLOR_GAP, COLOR_PARTIAL, COLOR_COVERED],
            "minValue": 0,
            "maxValue": 100,
        },
        "legendItems": [
            {"label": format!("covered ({})", count(State::Covered)), "color": COLOR_COVERED},
            {"label": format!("partially covered ({})", count(State::Partial)), "color": COLOR_PARTIAL},
            {"label": format!("gap ({})", count(State::Gap)), "color": COLOR_GAP},
        ],
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
        "metadata": [
            {"name": "generator", "value": "vigil coverage"},
            {"name": "covered", "value": count(State::Covered).to_string()},
            {"name": "partial", "value": count(State::Partial).to_string()},
            {"name": "gaps", "value": count(State::Gap).to_string()},
        ],
        "links": [],
    });
    if !spec.platforms.is_empty()
        && let Some(o) = layer.as_object_mut()
    {
        o.insert("filters".into(), json!({ "platforms": spec.platforms }));
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{CoverageIndex, RuleInfo};

    #[test]
    fn layer_fields() {
        let tags = vec!["attack.t1059.001".to_string()];
        let idx = CoverageIndex::new(vec![RuleInfo::new(
            "r1",
            "Encoded PowerShell",
            Some("high"),
            Some("stable"),
            true,
            &tags,
        )]);
        let cov = vec![idx.assess("T1059.001", 0), idx.assess("T1566", 0)];
        let l = layer(
            &LayerSpec {
                name: "x".into(),
                description: String::new(),
                domain: "enterprise-attack".into(),
                attack_version: "18".into(),
                platforms: vec!["Windows".into()],
            },
            &cov,
        );
        assert_eq!(l["versions"]["layer"], "4.5");
        let t = &l["techniques"][0];
        assert_eq!(t["techniqueID"], "T1059.001");
        assert_eq!(t["score"], 100);
        assert_eq!(t["color"], COLOR_COVERED);
        assert_eq!(
            t["comment"],
            "covered: score 1 from 1 enabled rules: Encoded PowerShell (r1)"
        );
        assert_eq!(l["techniques"][1]["score"], 0);
        assert_eq!(l["legendItems"][2]["label"], "gap (1)");
        assert_eq!(l["filters"]["platforms"][0], "Windows");
    }
}

//! Prioritisation of a finding: the SSVC deployer decision from decision
//! points derived from data, and the numeric risk score (impact ×
//! likelihood). The formula is documented in `docs/prioritisation.md`;
//! keep the two in step.

use serde::Serialize;
use vigil_cvss::Vector;
use vigil_cvss::ssvc::{
    Automatable, DeployerPriority, Exploitation, HumanImpact, MissionImpact, SafetyImpact,
    SystemExposure, deployer_priority, human_impact,
};
use vigil_store::{EpssScore, VulnIntel};

use crate::reference::is_exploit_ref;

/// What intel (issue 5's STIX knowledge graph and indicators) says about a
/// vulnerability, reduced to evidence for the SSVC decision points. Each
/// entry is a short sentence shown in the explanation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntelEvidence {
    /// Exploitation is active: malware, an intrusion set, a threat actor or
    /// a campaign `exploits` / `targets` the vulnerability, or valid `cve`
    /// indicators name it.
    pub active: Vec<String>,
    /// A public exploit exists: a tool, attack pattern or infrastructure
    /// `exploits` / `targets` it, or the STIX vulnerability object has an
    /// exploit reference.
    pub poc: Vec<String>,
    /// Exploitation is automatable: a worm, bot or exploit kit, or a tool of
    /// type `exploitation`, `exploits` / `targets` it.
    pub automatable: Vec<String>,
}

impl IntelEvidence {
    /// Evidence from the store's intel about the vulnerability's ids.
    pub fn from_store(intel: &[(&str, &VulnIntel)]) -> IntelEvidence {
        let mut e = IntelEvidence::default();
        let push = |v: &mut Vec<String>, s: String| {
            if !v.contains(&s) {
                v.push(s);
            }
        };
        for (cve, i) in intel {
            for l in &i.links {
                if l.relationship != "exploits" && l.relationship != "targets" {
                    continue;
                }
                let what = format!(
                    "{} {:?} {} {cve}",
                    l.source_kind, l.source_name, l.relationship
                );
                match l.source_kind.as_str() {
                    "malware" | "intrusion-set" | "threat-actor" | "campaign" => {
                        push(&mut e.active, what.clone());
                    }
                    "tool" | "attack-pattern" | "infrastructure" => {
                        push(&mut e.poc, what.clone());
                    }
                    _ => {}
                }
                let auto = match l.source_kind.as_str() {
                    "malware" => l
                        .source_types
                        .iter()
                        .find(|t| matches!(t.as_str(), "worm" | "bot" | "exploit-kit")),
                    "tool" => l.source_types.iter().find(|t| *t == "exploitation"),
                    _ => None,
                };
                if let Some(t) = auto {
                    push(&mut e.automatable, format!("{t} {what}"));
                }
            }
            if i.indicators > 0 {
                push(
                    &mut e.active,
                    format!("{} intel indicator(s) name {cve}", i.indicators),
                );
            }
            if let Some(r) = i.references.iter().find(|r| {
                let url = r.rsplit(' ').next().unwrap_or(r);
                is_exploit_ref("", url) || r.to_ascii_lowercase().starts_with("exploit")
            }) {
                push(
                    &mut e.poc,
                    format!("intel exploit reference for {cve}: {r}"),
                );
            }
        }
        e
    }
}

/// What prioritisation looks at.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The vulnerability is in CISA KEV.
    pub in_kev: bool,
    /// Its EPSS score, if known.
    pub epss: Option<EpssScore>,
    /// The OSV record references an exploit.
    pub exploit_refs: bool,
    /// Intel evidence about the vulnerability.
    pub intel: IntelEvidence,
    /// The asset's exposure: internet-facing, internal, isolated.
    pub exposure: &'a str,
    /// The CVSS vector, if any.
    pub cvss: Option<&'a Vector>,
    /// Severity word when there is no vector (scanner reports).
    pub severity: &'a str,
    /// Asset criticality 1–5.
    pub criticality: u8,
    /// Asset data classes.
    pub data_classes: &'a [String],
}

/// The outcome with its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Priority {
    /// `immediate`, `out-of-cycle`, `scheduled`, `defer`.
    pub decision: String,
    /// 0 Defer … 3 Immediate.
    pub rank: usize,
    /// 0–100.
    pub risk: f64,
    /// The decision points, the factors and a one-line reason.
    pub explanation: serde_json::Value,
}

/// Mission impact from business criticality (1–2 Degraded, 3 MEF support
/// crippled, 4 MEF failure, 5 mission failure), one step higher when the
/// asset handles personal or payment data.
fn mission(criticality: u8, data: &[String]) -> MissionImpact {
    let mut step = match criticality {
        0..=2 => 0,
        3 => 1,
        4 => 2,
        _ => 3,
    };
    if data.iter().any(|d| d == "personal" || d == "payment") {
        step += 1;
    }
    match step {
        0 => MissionImpact::Degraded,
        1 => MissionImpact::MefSupportCrippled,
        2 => MissionImpact::MefFailure,
        _ => MissionImpact::MissionFailure,
    }
}

/// Safety impact: health data → critical, else negligible.
fn safety(data: &[String]) -> SafetyImpact {
    if data.iter().any(|d| d == "health") {
        SafetyImpact::Critical
    } else {
        SafetyImpact::Negligible
    }
}

fn severity_factor(cvss: Option<&Vector>, severity: &str) -> (f64, String) {
    if let Some(v) = cvss {
        let base = v.scores().base().value();
        return (base / 10.0, format!("CVSS base {base:.1}"));
    }
    let f = match severity {
        "critical" => 0.95,
        "high" => 0.8,
        "medium" => 0.55,
        "low" => 0.25,
        "none" | "negligible" => 0.05,
        _ => 0.5,
    };
    (f, format!("severity {severity} (no CVSS vector)"))
}

/// The SSVC deployer decision and the risk score.
pub fn prioritise(i: &Inputs<'_>, epss_poc_threshold: f64) -> Priority {
    let epss = i.epss.map(|e| e.score);
    let (exploitation, why_exp) = if i.in_kev {
        (Exploitation::Active, "in CISA KEV".to_owned())
    } else if let Some(w) = i.intel.active.first() {
        (Exploitation::Active, format!("intel: {w}"))
    } else if let Some(e) = epss.filter(|e| *e >= epss_poc_threshold) {
        (
            Exploitation::PublicPoc,
            format!("EPSS {e:.3} ≥ {epss_poc_threshold}"),
        )
    } else if i.exploit_refs {
        (
            Exploitation::PublicPoc,
            "exploit reference in the advisory".to_owned(),
        )
    } else if let Some(w) = i.intel.poc.first() {
        (Exploitation::PublicPoc, format!("intel: {w}"))
    } else {
        (
            Exploitation::None,
            "no KEV entry, no intel, EPSS below threshold, no exploit reference".to_owned(),
        )
    };
    let exposure = match i.exposure {
        "internet-facing" => SystemExposure::Open,
        "isolated" => SystemExposure::Small,
        _ => SystemExposure::Controlled,
    };
    let from_cvss = i.cvss.map_or(Automatable::No, Automatable::from_cvss);
    let (automatable, why_auto) = if from_cvss == Automatable::Yes {
        (Automatable::Yes, "CVSS vector".to_owned())
    } else if let Some(w) = i.intel.automatable.first() {
        (Automatable::Yes, format!("intel: {w}"))
    } else if i.cvss.is_some() {
        (Automatable::No, "CVSS vector".to_owned())
    } else {
        (Automatable::No, "no CVSS vector, no intel".to_owned())
    };
    let mission = mission(i.criticality, i.data_classes);
    let safety = safety(i.data_classes);
    let human: HumanImpact = human_impact(safety, mission);
    let decision: DeployerPriority = deployer_priority(exploitation, exposure, automatable, human);

    // Risk = 100 × impact × likelihood (docs/prioritisation.md).
    let (sev, why_sev) = severity_factor(i.cvss, i.severity);
    let health = i.data_classes.iter().any(|d| d == "health");
    let other_data = i
        .data_classes
        .iter()
        .filter(|d| *d == "personal" || *d == "payment")
        .count();
    let asset_factor = (f64::from(i.criticality.clamp(1, 5)) / 5.0
        + 0.1 * other_data as f64
        + if health { 0.2 } else { 0.0 })
    .min(1.0);
    let impact = sev * asset_factor;
    let exploit_factor = if exploitation == Exploitation::Active {
        1.0
    } else {
        let poc = i.exploit_refs || !i.intel.poc.is_empty();
        epss.unwrap_or(0.0)
            .max(if poc { 0.5 } else { 0.0 })
            .max(0.02)
    };
    let exposure_factor = match exposure {
        SystemExposure::Open => 1.0,
        SystemExposure::Controlled => 0.5,
        SystemExposure::Small => 0.2,
    };
    let automatable_factor = if automatable == Automatable::Yes {
        1.0
    } else {
        0.7
    };
    let likelihood = exploit_factor * exposure_factor * automatable_factor;
    let risk = (100.0 * impact * likelihood * 100.0).round() / 100.0;
    let reason = format!(
        "{}: exploitation {} ({why_exp}), exposure {} ({}), automatable {} ({why_auto}), \
         human impact {} (criticality {}{}); risk {risk:.2} = 100 × impact {impact:.2} × likelihood {likelihood:.2}",
        decision.name(),
        exploitation.name().to_lowercase(),
        exposure.name().to_lowercase(),
        i.exposure,
        automatable.name().to_lowercase(),
        human.name().to_lowercase(),
        i.criticality,
        if i.data_classes.is_empty() {
            String::new()
        } else {
            format!(", data {}", i.data_classes.join("+"))
        },
    );
    Priority {
        decision: decision.name().to_lowercase(),
        rank: decision.rank(),
        risk,
        explanation: serde_json::json!({
            "exploitation": exploitation.name(),
            "exploitation_evidence": why_exp,
            "in_kev": i.in_kev,
            "epss": epss,
            "exploit_refs": i.exploit_refs,
            "exposure": exposure.name(),
            "asset_exposure": i.exposure,
            "automatable": automatable.name(),
            "automatable_evidence": why_auto,
            "intel": {
                "active": i.intel.active,
                "poc": i.intel.poc,
                "automatable": i.intel.automatable,
            },
            "cvss": i.cvss.map(ToString::to_string),
            "mission_impact": mission.name(),
            "safety_impact": safety.name(),
            "human_impact": human.name(),
            "criticality": i.criticality,
            "data_classes": i.data_classes,
            "severity_factor": sev,
            "severity_basis": why_sev,
            "asset_factor": asset_factor,
            "impact": impact,
            "exploit_factor": exploit_factor,
            "exposure_factor": exposure_factor,
            "automatable_factor": automatable_factor,
            "likelihood": likelihood,
            "risk": risk,
            "decision": decision.name(),
            "reason": reason,
        }),
    }
}

/// Rank of a stored decision word (0 Defer … 3 Immediate).
pub fn rank_of(decision: &str) -> usize {
    match decision {
        "immediate" => 3,
        "out-of-cycle" => 2,
        "scheduled" => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        kev: bool,
        epss: Option<f64>,
        exposure: &str,
        vector: &str,
        crit: u8,
        data: &[&str],
        want: &str,
    ) {
        let v: Vector = vector.parse().unwrap();
        let data: Vec<String> = data.iter().map(|s| (*s).to_owned()).collect();
        let p = prioritise(
            &Inputs {
                in_kev: kev,
                epss: epss.map(|score| EpssScore {
                    score,
                    percentile: 0.5,
                }),
                exploit_refs: false,
                intel: IntelEvidence::default(),
                exposure,
                cvss: Some(&v),
                severity: "high",
                criticality: crit,
                data_classes: &data,
            },
            0.1,
        );
        assert_eq!(format!("{} {:.2}", p.decision, p.risk), want);
    }

    #[test]
    fn decisions_and_scores() {
        let net = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
        let local = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
        // Active, open, automatable, mission failure → immediate.
        check(
            true,
            None,
            "internet-facing",
            net,
            5,
            &["payment"],
            "immediate 98.00",
        );
        // Nothing known, isolated, not automatable, low criticality → defer.
        check(false, Some(0.001), "isolated", local, 1, &[], "defer 0.01");
        // PoC by EPSS on an internal asset.
        check(false, Some(0.5), "internal", net, 3, &[], "scheduled 14.70");
        assert_eq!(rank_of("out-of-cycle"), 2);
    }

    #[test]
    fn intel_drives_exploitation_and_automatable() {
        use vigil_store::VulnIntelLink;
        let link = |rel: &str, kind: &str, name: &str, types: &[&str]| VulnIntelLink {
            relationship: rel.into(),
            source_kind: kind.into(),
            source_name: name.into(),
            source_types: types.iter().map(|t| (*t).to_owned()).collect(),
        };
        let worm = VulnIntel {
            objects: vec!["vulnerability--1".into()],
            links: vec![
                link("exploits", "malware", "WannaCry", &["worm", "ransomware"]),
                link("related-to", "report", "ignored", &[]),
            ],
            references: vec![],
            indicators: 0,
        };
        let tool = VulnIntel {
            links: vec![link(
                "targets",
                "tool",
                "Scanner",
                &["vulnerability-scanning"],
            )],
            references: vec!["exploit-db https://www.exploit-db.com/exploits/1".into()],
            ..VulnIntel::default()
        };
        let ind = VulnIntel {
            indicators: 2,
            ..VulnIntel::default()
        };
        let e = IntelEvidence::from_store(&[("CVE-2017-0144", &worm)]);
        assert_eq!(e.active, ["malware \"WannaCry\" exploits CVE-2017-0144"]);
        assert_eq!(
            e.automatable,
            ["worm malware \"WannaCry\" exploits CVE-2017-0144"]
        );
        let e2 = IntelEvidence::from_store(&[("CVE-1", &tool)]);
        assert!(e2.active.is_empty() && e2.automatable.is_empty());
        assert_eq!(e2.poc.len(), 2, "{:?}", e2.poc);
        let e3 = IntelEvidence::from_store(&[("CVE-2", &ind)]);
        assert_eq!(e3.active, ["2 intel indicator(s) name CVE-2"]);

        // A local, user-interaction vector is not automatable by CVSS; the
        // worm makes it so, and exploitation active.
        let v: Vector = "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"
            .parse()
            .unwrap();
        let run = |intel: IntelEvidence| {
            prioritise(
                &Inputs {
                    in_kev: false,
                    epss: None,
                    exploit_refs: false,
                    intel,
                    exposure: "internet-facing",
                    cvss: Some(&v),
                    severity: "high",
                    criticality: 4,
                    data_classes: &[],
                },
                0.1,
            )
        };
        let without = run(IntelEvidence::default());
        assert_eq!(without.explanation["exploitation"], "None");
        assert_eq!(without.explanation["automatable"], "No");
        let with = run(e);
        assert_eq!(with.explanation["exploitation"], "Active");
        assert_eq!(with.explanation["automatable"], "Yes");
        assert!(
            with.rank > without.rank,
            "{} vs {}",
            with.decision,
            without.decision
        );
        let reason = with.explanation["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("intel: malware \"WannaCry\" exploits"),
            "{reason}"
        );
        assert!(reason.contains("automatable yes (intel: worm"), "{reason}");
        let poc = run(e2);
        assert_eq!(poc.explanation["exploitation"], "Public PoC");
    }
}

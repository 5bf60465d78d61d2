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
use vigil_store::EpssScore;

/// What prioritisation looks at.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The vulnerability is in CISA KEV.
    pub in_kev: bool,
    /// Its EPSS score, if known.
    pub epss: Option<EpssScore>,
    /// The OSV record references an exploit.
    pub exploit_refs: bool,
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
    } else {
        (
            Exploitation::None,
            "no KEV entry, EPSS below threshold, no exploit reference".to_owned(),
        )
    };
    let exposure = match i.exposure {
        "internet-facing" => SystemExposure::Open,
        "isolated" => SystemExposure::Small,
        _ => SystemExposure::Controlled,
    };
    let automatable = i.cvss.map_or(Automatable::No, Automatable::from_cvss);
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
    let exploit_factor = if i.in_kev {
        1.0
    } else {
        epss.unwrap_or(0.0)
            .max(if i.exploit_refs { 0.5 } else { 0.0 })
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
        "{}: exploitation {} ({why_exp}), exposure {} ({}), automatable {}, human impact {} \
         (criticality {}{}); risk {risk:.2} = 100 × impact {impact:.2} × likelihood {likelihood:.2}",
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
}

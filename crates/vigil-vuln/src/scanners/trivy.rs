//! Trivy JSON reports: `Results[].Vulnerabilities[]`.

use serde_json::Value;

use super::{ScanFinding, ScanFormat, ScanReport, ScanSeverity, array, owned, purl_of, str_at};

pub(crate) fn from_value(v: &Value) -> ScanReport {
    let mut r = ScanReport {
        format: ScanFormat::Trivy,
        findings: Vec::new(),
        problems: Vec::new(),
    };
    for (i, res) in array(v, "Results").iter().enumerate() {
        let target = owned(res, "Target");
        for (j, vuln) in array(res, "Vulnerabilities").iter().enumerate() {
            let at = format!("Results[{i}].Vulnerabilities[{j}]");
            let Some(id) = owned(vuln, "VulnerabilityID") else {
                r.problems.push(format!("{at}: no VulnerabilityID"));
                continue;
            };
            let purl_str = vuln.get("PkgIdentifier").and_then(|p| str_at(p, "PURL"));
            let purl = purl_of(purl_str, &mut r.problems, &at);
            let fixed = str_at(vuln, "FixedVersion")
                .map(|f| f.split(',').next().unwrap_or(f).trim().to_owned());
            r.findings.push(ScanFinding {
                vulnerability: id,
                aliases: Vec::new(),
                name: owned(vuln, "PkgName"),
                version: owned(vuln, "InstalledVersion"),
                purl,
                fixed_version: fixed,
                severity: str_at(vuln, "Severity")
                    .map_or(ScanSeverity::Unknown, ScanSeverity::from_word),
                source: "trivy".into(),
                target: target.clone(),
                title: owned(vuln, "Title"),
            });
        }
    }
    r
}

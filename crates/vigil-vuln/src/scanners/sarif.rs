//! SARIF 2.1.0: `runs[].results[]`, the rule id as vulnerability id,
//! severity from `security-severity` (a CVSS score) or the level, and the
//! package from `Package:` / `Installed Version:` / `Fixed Version:` lines
//! of the message where scanners (Trivy, Grype) put them.

use serde_json::Value;

use super::{ScanFinding, ScanFormat, ScanReport, ScanSeverity, array, owned, str_at};

fn line_value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_owned()))
        .filter(|v| !v.is_empty())
}

pub(crate) fn from_value(v: &Value) -> ScanReport {
    let mut r = ScanReport {
        format: ScanFormat::Sarif,
        findings: Vec::new(),
        problems: Vec::new(),
    };
    for (i, run) in array(v, "runs").iter().enumerate() {
        let driver = run
            .get("tool")
            .and_then(|t| t.get("driver"))
            .unwrap_or(&Value::Null);
        let tool = owned(driver, "name")
            .unwrap_or_else(|| "sarif".into())
            .to_ascii_lowercase();
        let rules = array(driver, "rules");
        for (j, res) in array(run, "results").iter().enumerate() {
            let at = format!("runs[{i}].results[{j}]");
            let rule_index = res
                .get("ruleIndex")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok());
            let rule_id =
                owned(res, "ruleId").or_else(|| res.get("rule").and_then(|x| owned(x, "id")));
            let rule = rule_index
                .and_then(|n| rules.get(n))
                .or_else(|| rules.iter().find(|x| str_at(x, "id") == rule_id.as_deref()));
            let Some(id) = rule_id.or_else(|| rule.and_then(|x| owned(x, "id"))) else {
                r.problems.push(format!("{at}: no ruleId"));
                continue;
            };
            let text = res
                .get("message")
                .and_then(|m| owned(m, "text"))
                .unwrap_or_default();
            let score = rule
                .and_then(|x| x.get("properties"))
                .and_then(|p| p.get("security-severity"))
                .and_then(|s| {
                    s.as_str()
                        .and_then(|s| s.parse::<f64>().ok())
                        .or_else(|| s.as_f64())
                });
            let level = str_at(res, "level").or_else(|| {
                rule.and_then(|x| x.get("defaultConfiguration"))
                    .and_then(|d| str_at(d, "level"))
            });
            let severity = match (score, level) {
                (Some(s), _) => ScanSeverity::from_score(s),
                (None, Some(l)) => ScanSeverity::from_word(l),
                (None, None) => ScanSeverity::Unknown,
            };
            let target = array(res, "locations")
                .first()
                .and_then(|l| l.get("physicalLocation"))
                .and_then(|p| p.get("artifactLocation"))
                .and_then(|a| owned(a, "uri"));
            r.findings.push(ScanFinding {
                vulnerability: id,
                aliases: Vec::new(),
                name: line_value(&text, "Package:"),
                version: line_value(&text, "Installed Version:"),
                purl: None,
                fixed_version: line_value(&text, "Fixed Version:"),
                severity,
                source: tool.clone(),
                target,
                title: rule
                    .and_then(|x| x.get("shortDescription"))
                    .and_then(|d| owned(d, "text"))
                    .or(Some(text)),
            });
        }
    }
    r
}

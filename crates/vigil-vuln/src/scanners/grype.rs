//! Grype JSON reports: `matches[]` with `vulnerability`, `artifact` and
//! `relatedVulnerabilities`.

use serde_json::Value;

use super::{ScanFinding, ScanFormat, ScanReport, ScanSeverity, array, owned, purl_of, str_at};

pub(crate) fn from_value(v: &Value) -> ScanReport {
    let mut r = ScanReport {
        format: ScanFormat::Grype,
        findings: Vec::new(),
        problems: Vec::new(),
    };
    let target = v.get("source").and_then(|s| s.get("target")).and_then(|t| {
        t.as_str()
            .map(str::to_owned)
            .or_else(|| owned(t, "userInput"))
    });
    for (i, m) in array(v, "matches").iter().enumerate() {
        let at = format!("matches[{i}]");
        let Some(vuln) = m.get("vulnerability") else {
            r.problems.push(format!("{at}: no vulnerability"));
            continue;
        };
        let Some(id) = owned(vuln, "id") else {
            r.problems.push(format!("{at}: no vulnerability.id"));
            continue;
        };
        let art = m.get("artifact").unwrap_or(&Value::Null);
        let purl = purl_of(str_at(art, "purl"), &mut r.problems, &at);
        let fixed = vuln
            .get("fix")
            .map(|f| array(f, "versions"))
            .and_then(|vs| vs.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
        let aliases = array(m, "relatedVulnerabilities")
            .iter()
            .filter_map(|rv| owned(rv, "id"))
            .filter(|a| *a != id)
            .collect();
        r.findings.push(ScanFinding {
            vulnerability: id,
            aliases,
            name: owned(art, "name"),
            version: owned(art, "version"),
            purl,
            fixed_version: fixed,
            severity: str_at(vuln, "severity")
                .map_or(ScanSeverity::Unknown, ScanSeverity::from_word),
            source: "grype".into(),
            target: target.clone(),
            title: owned(vuln, "description"),
        });
    }
    r
}

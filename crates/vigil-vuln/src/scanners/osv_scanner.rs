//! osv-scanner JSON reports: `results[].packages[]` with their OSV
//! `vulnerabilities` and alias `groups` (one finding per group).

use serde_json::Value;

use super::{ScanFinding, ScanFormat, ScanReport, ScanSeverity, array, owned, str_at};
use crate::ecosystem::Ecosystem;

pub(crate) fn from_value(v: &Value) -> ScanReport {
    let mut r = ScanReport {
        format: ScanFormat::OsvScanner,
        findings: Vec::new(),
        problems: Vec::new(),
    };
    for (i, res) in array(v, "results").iter().enumerate() {
        let target = res.get("source").and_then(|s| owned(s, "path"));
        for (j, p) in array(res, "packages").iter().enumerate() {
            let at = format!("results[{i}].packages[{j}]");
            let pkg = p.get("package").unwrap_or(&Value::Null);
            let name = owned(pkg, "name");
            let version = owned(pkg, "version");
            let eco = str_at(pkg, "ecosystem")
                .and_then(|e| Ecosystem::parse_osv(e).ok())
                .map(|(e, _)| e);
            let purl = match (eco, &name) {
                (Some(e), Some(n)) => e.purl(n, version.as_deref()).ok(),
                _ => None,
            };
            let vulns = array(p, "vulnerabilities");
            let fixed_of = |id: &str| -> Option<String> {
                let rec = vulns.iter().find(|x| str_at(x, "id") == Some(id))?;
                array(rec, "affected")
                    .iter()
                    .flat_map(|a| array(a, "ranges"))
                    .flat_map(|rg| array(rg, "events"))
                    .find_map(|e| owned(e, "fixed"))
            };
            let title_of = |id: &str| {
                vulns
                    .iter()
                    .find(|x| str_at(x, "id") == Some(id))
                    .and_then(|x| owned(x, "summary"))
            };
            let mut groups: Vec<(Vec<String>, Option<f64>)> = array(p, "groups")
                .iter()
                .map(|g| {
                    let ids = array(g, "ids")
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect();
                    let sev = str_at(g, "max_severity").and_then(|s| s.parse::<f64>().ok());
                    (ids, sev)
                })
                .collect();
            if groups.is_empty() {
                groups = vulns
                    .iter()
                    .filter_map(|x| owned(x, "id"))
                    .map(|id| (vec![id], None))
                    .collect();
            }
            for (ids, sev) in groups {
                let Some(first) = ids.first().cloned() else {
                    r.problems.push(format!("{at}: empty group"));
                    continue;
                };
                // report the CVE id where the group has one
                let id = ids
                    .iter()
                    .find(|x| x.starts_with("CVE-"))
                    .cloned()
                    .unwrap_or(first);
                let fixed = ids.iter().find_map(|x| fixed_of(x));
                let title = ids.iter().find_map(|x| title_of(x));
                r.findings.push(ScanFinding {
                    aliases: ids.iter().filter(|x| **x != id).cloned().collect(),
                    vulnerability: id,
                    name: name.clone(),
                    version: version.clone(),
                    purl: purl.clone(),
                    fixed_version: fixed,
                    severity: sev.map_or(ScanSeverity::Unknown, ScanSeverity::from_score),
                    source: "osv-scanner".into(),
                    target: target.clone(),
                    title,
                });
            }
        }
    }
    r
}

//! What the intel store (block 4) says about vulnerabilities, read for
//! prioritisation (block 5): STIX `vulnerability` objects with their CVE
//! ids and references, the relationships that point at them (malware,
//! intrusion sets, tools … that `exploits` / `targets` them) and indicators
//! of type `cve`. Read-only: this file never writes intel tables.

use std::collections::{BTreeMap, HashMap};

use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Result, db};
use crate::row::RowExt;

/// One relationship from an intel object to a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnIntelLink {
    /// `exploits`, `targets`, `uses`, …
    pub relationship: String,
    /// STIX type of the source (`malware`, `intrusion-set`, `tool`, …).
    pub source_kind: String,
    /// Its `name`, or its id when it has none (or is not stored).
    pub source_name: String,
    /// Its `malware_types` / `tool_types` / `labels` (lower case).
    pub source_types: Vec<String>,
}

/// Intel about one CVE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VulnIntel {
    /// STIX ids of the `vulnerability` objects naming the CVE.
    pub objects: Vec<String>,
    /// Relationships pointing at those objects.
    pub links: Vec<VulnIntelLink>,
    /// Reference URLs (and `source_name:external_id` pairs without a URL)
    /// of those objects, for exploit detection by the caller.
    pub references: Vec<String>,
    /// Valid indicators of type `cve` with this value.
    pub indicators: usize,
}

fn cve_ids(body: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        let s = s.trim();
        if s.len() > 4 && s[..4].eq_ignore_ascii_case("cve-") {
            let up = s.to_ascii_uppercase();
            if !out.contains(&up) {
                out.push(up);
            }
        }
    };
    if let Some(n) = body.get("name").and_then(|v| v.as_str()) {
        push(n);
    }
    for r in body
        .get("external_references")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(id) = r.get("external_id").and_then(|v| v.as_str()) {
            push(id);
        }
    }
    out
}

fn references(body: &serde_json::Value) -> Vec<String> {
    body.get("external_references")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let url = r.get("url").and_then(|v| v.as_str());
            let src = r.get("source_name").and_then(|v| v.as_str()).unwrap_or("");
            let ext = r.get("external_id").and_then(|v| v.as_str()).unwrap_or("");
            match url {
                Some(u) => Some(format!("{src} {u}").trim().to_owned()),
                None if !src.is_empty() && !src.eq_ignore_ascii_case("cve") => {
                    Some(format!("{src}:{ext}"))
                }
                None => None,
            }
        })
        .collect()
}

fn types_of(body: &serde_json::Value) -> Vec<String> {
    ["malware_types", "tool_types", "labels"]
        .iter()
        .filter_map(|k| body.get(*k).and_then(|v| v.as_array()))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
        .collect()
}

impl Store {
    /// Intel about vulnerabilities, keyed by CVE id (upper case): the
    /// latest version of each non-revoked `vulnerability` object, the
    /// relationships targeting it with their source objects' names and
    /// types, and the number of `cve` indicators valid at `now`.
    pub async fn vuln_intel(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<HashMap<String, VulnIntel>> {
        const OP: &str = "vuln_intel";
        const T: &str = "intel_objects";
        let t = tenant.to_string();
        let (objects, links, indicators) = dispatch!(self, |pool, DB| {
            let objects = sqlx::query(
                "SELECT id, modified, revoked, body FROM intel_objects \
                 WHERE tenant = $1 AND kind = 'vulnerability' ORDER BY id, modified",
            )
            .bind(&t)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut latest: BTreeMap<String, (bool, serde_json::Value)> = BTreeMap::new();
            for r in &objects {
                latest.insert(
                    r.text(T, "id")?,
                    (r.flag(T, "revoked")?, r.json(T, "body")?),
                );
            }
            let rels = sqlx::query(
                "SELECT r.relationship_type, r.source_ref, r.target_ref, \
                 (SELECT CAST(o.body AS TEXT) FROM intel_objects o WHERE o.tenant = r.tenant \
                  AND o.id = r.source_ref ORDER BY o.modified DESC LIMIT 1) AS source_body \
                 FROM intel_relationships r WHERE r.tenant = $1 \
                 AND r.target_ref LIKE 'vulnerability--%' ORDER BY r.id, r.modified",
            )
            .bind(&t)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut links = Vec::new();
            for r in &rels {
                const R: &str = "intel_relationships";
                let body = r
                    .opt_text(R, "source_body")?
                    .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
                    .unwrap_or(serde_json::Value::Null);
                links.push((
                    r.text(R, "relationship_type")?,
                    r.text(R, "source_ref")?,
                    r.text(R, "target_ref")?,
                    body,
                ));
            }
            let inds = sqlx::query(
                "SELECT value FROM intel_indicators WHERE tenant = $1 AND kind = 'cve' \
                 AND (valid_until IS NULL OR valid_until > $2) \
                 AND (valid_from IS NULL OR valid_from <= $2)",
            )
            .bind(&t)
            .bind(now.as_micros())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut indicators = Vec::new();
            for r in &inds {
                indicators.push(r.text("intel_indicators", "value")?);
            }
            Ok::<_, crate::Error>((latest, links, indicators))
        })?;
        let mut out: HashMap<String, VulnIntel> = HashMap::new();
        let mut cves_of: HashMap<&str, Vec<String>> = HashMap::new();
        for (id, (revoked, body)) in &objects {
            if *revoked {
                continue;
            }
            let cves = cve_ids(body);
            for c in &cves {
                let e = out.entry(c.clone()).or_default();
                e.objects.push(id.clone());
                e.references.extend(references(body));
            }
            cves_of.insert(id.as_str(), cves);
        }
        for (rel, src, dst, body) in links {
            let Some(cves) = cves_of.get(dst.as_str()) else {
                continue;
            };
            if body.get("revoked").and_then(|v| v.as_bool()) == Some(true) {
                continue;
            }
            let kind = src.split("--").next().unwrap_or("").to_owned();
            let name = body
                .get("name")
                .and_then(|v| v.as_str())
                .map_or_else(|| src.clone(), str::to_owned);
            let link = VulnIntelLink {
                relationship: rel.to_ascii_lowercase(),
                source_kind: kind,
                source_name: name,
                source_types: types_of(&body),
            };
            for c in cves {
                if let Some(e) = out.get_mut(c) {
                    e.links.push(link.clone());
                }
            }
        }
        for v in indicators {
            let up = v.trim().to_ascii_uppercase();
            if up.starts_with("CVE-") {
                out.entry(up).or_default().indicators += 1;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_references() {
        let body = serde_json::json!({
            "type": "vulnerability", "name": "Log4Shell",
            "external_references": [
                {"source_name": "cve", "external_id": "cve-2021-44228"},
                {"source_name": "exploit-db", "url": "https://www.exploit-db.com/exploits/50592"}
            ]
        });
        assert_eq!(cve_ids(&body), vec!["CVE-2021-44228".to_owned()]);
        assert_eq!(
            references(&body),
            vec!["exploit-db https://www.exploit-db.com/exploits/50592".to_owned()]
        );
        let m = serde_json::json!({"malware_types": ["Worm"], "labels": ["x"]});
        assert_eq!(types_of(&m), vec!["worm".to_owned(), "x".to_owned()]);
    }
}

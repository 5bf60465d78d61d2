//! Reference data for matching and prioritisation, loaded from the store:
//! the OSV index, per-record facts (exploit references, GHSA severity),
//! CISA KEV, EPSS and what intel says about each CVE.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_model::{TenantId, Timestamp};
use vigil_store::{EpssScore, KevEntry, Store, VulnIntel};
use vigil_vuln::Component;
use vigil_vuln::osv::{OsvDatabase, OsvRecord, OsvSeverity};

use crate::error::{Error, Result};

/// Reference data loaded for matching and prioritisation.
pub struct Reference {
    /// The OSV matching index.
    pub db: OsvDatabase,
    /// Per OSV record id: the advisory references an exploit.
    pub exploit_refs: HashMap<String, bool>,
    /// Per OSV record id: the severity word of a GitHub advisory's
    /// `database_specific.severity` (`low`, `medium`, `high`, `critical`).
    pub advisory_severity: HashMap<String, String>,
    /// CISA KEV by CVE.
    pub kev: HashMap<String, KevEntry>,
    /// EPSS by CVE.
    pub epss: HashMap<String, EpssScore>,
    /// Intel by CVE (STIX vulnerability objects, relationships, `cve`
    /// indicators).
    pub intel: HashMap<String, VulnIntel>,
}

/// An exploit reference: OSV `EVIDENCE` references, Exploit-DB, Packet
/// Storm, Metasploit, or a URL with an `/exploit` path segment.
pub(crate) fn is_exploit_ref(kind: &str, url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    kind.eq_ignore_ascii_case("EVIDENCE")
        || u.contains("exploit-db.com")
        || u.contains("exploitdb")
        || u.contains("packetstormsecurity")
        || u.contains("metasploit")
        || u.contains("/exploit")
}

fn has_exploit_ref(r: &OsvRecord) -> bool {
    r.references.iter().any(|x| is_exploit_ref(&x.kind, &x.url))
}

/// GitHub advisories (`GHSA-…`, also mirrored into other databases) carry
/// a severity word in `database_specific.severity`; `MODERATE` is GitHub's
/// name for medium.
fn advisory_severity(r: &OsvRecord) -> Option<String> {
    let s = r
        .database_specific
        .as_ref()?
        .get("severity")?
        .as_str()?
        .trim()
        .to_ascii_lowercase();
    match s.as_str() {
        "low" | "medium" | "high" | "critical" => Some(s),
        "moderate" => Some("medium".into()),
        _ => None,
    }
}

/// Loads the reference data of `tenant` (OSV, KEV and EPSS are shared by
/// every tenant; intel is the tenant's). Intel that cannot be read (e.g.
/// the intel tables are not migrated) is logged and left out.
pub async fn load_reference(store: &Store, tenant: TenantId, now: Timestamp) -> Result<Reference> {
    let mut records = Vec::new();
    for r in store.list_vuln_records().await? {
        match vigil_vuln::osv::parse_json(&r.record) {
            Ok(mut v) => records.append(&mut v),
            Err(e) => tracing::warn!(id = %r.id, error = %e, "stored OSV record does not parse"),
        }
    }
    let mut r = tokio::task::spawn_blocking(move || Reference::from_records(records))
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
    r.kev = store
        .list_kev()
        .await?
        .into_iter()
        .map(|k| (k.cve.clone(), k))
        .collect();
    r.epss = store.list_epss().await?.into_iter().collect();
    r.intel = match store.vuln_intel(tenant, now).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "intel about vulnerabilities not read; prioritising without it");
            HashMap::new()
        }
    };
    Ok(r)
}

/// A vulnerable component as a match or a scanner reported it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Component key (purl).
    pub component: String,
    /// Package name.
    pub package: String,
    /// Installed version.
    pub version: String,
    /// OSV ecosystem (or purl type for scanner reports).
    pub ecosystem: String,
    /// Canonical vulnerability id.
    pub vulnerability: String,
    /// Every id of the vulnerability.
    pub aliases: Vec<String>,
    /// Summary.
    pub summary: Option<String>,
    /// CVSS vector, if any.
    pub cvss_vector: Option<String>,
    /// Severity word, used when there is no vector.
    pub severity: String,
    /// Versions that fix it.
    pub fixed: Vec<String>,
    /// The advisory references an exploit.
    pub exploit_refs: bool,
}

/// The CVSS vector to use among OSV severity entries: v3.x, then v4.0,
/// then v2.
fn pick_vector(sev: &[OsvSeverity]) -> Option<String> {
    for want in ["CVSS_V3", "CVSS_V4", "CVSS_V2"] {
        for s in sev.iter().filter(|s| s.kind == want) {
            if s.score.parse::<vigil_cvss::Vector>().is_ok() {
                return Some(s.score.clone());
            }
        }
    }
    None
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

impl Reference {
    /// The index and per-record facts of these OSV records, without KEV,
    /// EPSS or intel (CPU work: builds the matching index).
    pub fn from_records(records: Vec<OsvRecord>) -> Reference {
        let exploit_refs = records
            .iter()
            .map(|r| (r.id.clone(), has_exploit_ref(r)))
            .collect();
        let advisory_severity = records
            .iter()
            .filter_map(|r| Some((r.id.clone(), advisory_severity(r)?)))
            .collect();
        Reference {
            db: OsvDatabase::new(records),
            exploit_refs,
            advisory_severity,
            kev: HashMap::new(),
            epss: HashMap::new(),
            intel: HashMap::new(),
        }
    }

    /// Matches components against the OSV index (CPU work: call it from a
    /// blocking context, or use [`Reference::match_blocking`]).
    pub fn match_components(&self, comps: &[Component]) -> Vec<Hit> {
        self.db
            .match_components(comps)
            .into_iter()
            .map(|f| {
                // The highest GitHub-advisory severity among the merged
                // records: the fallback when no record has a CVSS vector.
                let severity = f
                    .records
                    .iter()
                    .filter_map(|id| self.advisory_severity.get(id))
                    .max_by_key(|s| severity_rank(s))
                    .cloned()
                    .unwrap_or_else(|| "unknown".into());
                Hit {
                    cvss_vector: pick_vector(&f.severity),
                    severity,
                    exploit_refs: f
                        .records
                        .iter()
                        .any(|id| self.exploit_refs.get(id).copied().unwrap_or(false)),
                    component: f.component,
                    package: f.name,
                    version: f.version,
                    ecosystem: f.ecosystem,
                    vulnerability: f.vulnerability,
                    aliases: f.aliases,
                    summary: f.summary,
                    fixed: f.fixed,
                }
            })
            .collect()
    }

    /// [`Reference::match_components`] on the blocking thread pool.
    pub async fn match_blocking(self: &Arc<Self>, comps: Vec<Component>) -> Result<Vec<Hit>> {
        let r = Arc::clone(self);
        tokio::task::spawn_blocking(move || r.match_components(&comps))
            .await
            .map_err(|e| Error::Task(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: serde_json::Value) -> OsvRecord {
        vigil_vuln::osv::parse_json(&json.to_string())
            .unwrap()
            .remove(0)
    }

    /// Go advisories carry no CVSS vector (none of the 2,110 in the shared
    /// data has a `severity` entry); the GitHub advisory they alias does
    /// carry `database_specific.severity`, which becomes the severity.
    #[test]
    fn ghsa_severity_when_no_vector() {
        let go = record(serde_json::json!({
            "id": "GO-2099-0001", "aliases": ["GHSA-aaaa-bbbb-cccc"],
            "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]
        }));
        let ghsa = record(serde_json::json!({
            "id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2099-1"],
            "database_specific": {"severity": "MODERATE", "github_reviewed": true},
            "affected": [{"package": {"ecosystem": "Go", "name": "example.com/m"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]}]
        }));
        let only_go = Reference::from_records(vec![go.clone()]);
        let c: Component = "pkg:golang/example.com/m@v1.1.0"
            .parse::<vigil_vuln::Purl>()
            .map(Component::from_purl)
            .unwrap();
        let hits = only_go.match_components(std::slice::from_ref(&c));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, "unknown");
        let both = Reference::from_records(vec![go, ghsa]);
        let hits = both.match_components(std::slice::from_ref(&c));
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].severity, "medium");
        assert_eq!(hits[0].cvss_vector, None);
        let fixed: Component = "pkg:golang/example.com/m@v1.2.0"
            .parse::<vigil_vuln::Purl>()
            .map(Component::from_purl)
            .unwrap();
        assert!(both.match_components(&[fixed]).is_empty());
    }
}

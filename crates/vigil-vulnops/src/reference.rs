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
    let exploit_refs = records
        .iter()
        .map(|r| (r.id.clone(), has_exploit_ref(r)))
        .collect();
    let advisory_severity = records
        .iter()
        .filter_map(|r| Some((r.id.clone(), advisory_severity(r)?)))
        .collect();
    let db = tokio::task::spawn_blocking(move || OsvDatabase::new(records))
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
    let kev = store
        .list_kev()
        .await?
        .into_iter()
        .map(|k| (k.cve.clone(), k))
        .collect();
    let epss = store.list_epss().await?.into_iter().collect();
    let intel = match store.vuln_intel(tenant, now).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "intel about vulnerabilities not read; prioritising without it");
            HashMap::new()
        }
    };
    Ok(Reference {
        db,
        exploit_refs,
        advisory_severity,
        kev,
        epss,
        intel,
    })
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

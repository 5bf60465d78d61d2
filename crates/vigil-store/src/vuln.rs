//! Vulnerability management state (block 5): assets with their business
//! context, the components each asset runs (per source: an SBOM, a host
//! scan, a scanner report), findings with their lifecycle and priority, and
//! the reference data they are computed from (OSV records kept as JSON,
//! CISA KEV, EPSS).
//!
//! The store keeps rows; the lifecycle transitions and the prioritisation
//! are computed by the caller (`vigil_vuln::lifecycle`, the binary's glue)
//! and written back whole with [`Store::save_findings`]. Reference data is
//! shared by every tenant (public feeds); assets, components and findings
//! carry their tenant. Triage decisions (accept, false positive) are
//! audited as `finding.update` and land in the change feed.

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{Principal, TenantId, Timestamp};

use crate::Store;
use crate::audit::{AuditOps, NewAudit};
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, corrupt, db};
use crate::migrations::{BLOCK_VULN, Migration, version};
use crate::row::RowExt;

/// The vuln block's migrations (block 5). The binary lists them in its
/// migration set.
pub const VULN_MIGRATIONS: &[Migration] = &[
    Migration {
        version: version(BLOCK_VULN, 1),
        name: "vuln",
        sqlite: include_str!("../migrations/sqlite/50001_vuln.sql"),
        postgres: include_str!("../migrations/postgres/50001_vuln.sql"),
    },
    Migration {
        version: version(BLOCK_VULN, 10),
        name: "asset_discovery",
        sqlite: include_str!("../migrations/sqlite/50010_asset_discovery.sql"),
        postgres: include_str!("../migrations/postgres/50010_asset_discovery.sql"),
    },
    // The console's range (90001–90099): the findings ranking's index.
    Migration {
        version: 90_001,
        name: "findings_by_risk",
        sqlite: include_str!("../migrations/sqlite/90001_findings_by_risk.sql"),
        postgres: include_str!("../migrations/postgres/90001_findings_by_risk.sql"),
    },
];

/// Asset kinds accepted.
pub const ASSET_KINDS: [&str; 2] = ["host", "application"];
/// Exposures accepted.
pub const EXPOSURES: [&str; 3] = ["internet-facing", "internal", "isolated"];
/// Finding statuses accepted.
pub const FINDING_STATUSES: [&str; 5] = ["open", "fixed", "reopened", "accepted", "false_positive"];
/// Largest findings page.
pub const MAX_FINDINGS_PAGE: u32 = 10_000;

/// An asset as entered (CLI, API, CSV).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewAsset {
    /// Unique name per tenant (host name, application name).
    pub name: String,
    /// `host` or `application`.
    pub kind: String,
    /// IP addresses.
    pub ips: Vec<String>,
    /// Operating system (free text, e.g. `debian 12`).
    pub os: Option<String>,
    /// Owner (team or person).
    pub owner: Option<String>,
    /// Business criticality, 1 (low) to 5 (mission critical).
    pub criticality: u8,
    /// `internet-facing`, `internal` or `isolated`.
    pub exposure: String,
    /// Data classes handled: `personal`, `health`, `payment`.
    pub data_classes: Vec<String>,
    /// Free tags.
    pub tags: Vec<String>,
}

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRecord {
    /// Owning tenant.
    pub tenant: TenantId,
    /// Id (UUID).
    pub id: String,
    /// The asset's attributes.
    pub asset: NewAsset,
    /// How it came to exist: `manual` (CLI, API, CSV import, SBOM or scan
    /// import) or `seen_in_events` (created by event discovery).
    pub source: String,
    /// When events last named the host (event discovery), if ever.
    pub last_seen: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A component of an asset, keyed by purl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRecord {
    /// Where it was seen: `sbom`, `host`, `scan:<format>`.
    pub source: String,
    /// Canonical purl (or `name@version` without one).
    pub purl: String,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// OSV ecosystem name.
    pub ecosystem: Option<String>,
    /// First import that listed it.
    pub first_seen: Timestamp,
    /// Last import that listed it.
    pub last_seen: Timestamp,
}

/// A vulnerability record (OSV JSON kept as imported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnRecord {
    /// OSV id.
    pub id: String,
    /// Aliases (CVE, GHSA, …).
    pub aliases: Vec<String>,
    /// `modified` of the record.
    pub modified: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// The OSV JSON document.
    pub record: String,
}

/// One CISA KEV catalog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    /// CVE id.
    pub cve: String,
    /// Vendor or project.
    pub vendor: String,
    /// Product.
    pub product: String,
    /// Vulnerability name.
    pub name: String,
    /// Date added (YYYY-MM-DD).
    pub date_added: String,
    /// CISA's remediation due date (YYYY-MM-DD).
    pub due_date: Option<String>,
    /// Known ransomware campaign use (`Known`, `Unknown`).
    pub ransomware: String,
}

/// One EPSS score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpssScore {
    /// Probability of exploitation in the next 30 days, 0–1.
    pub score: f64,
    /// Percentile, 0–1.
    pub percentile: f64,
}

/// A finding: one vulnerability of one component of one asset, from one
/// source, with its lifecycle state and priority.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRecord {
    /// Id (UUID); kept by [`Store::save_findings`] for known findings.
    pub id: String,
    /// Asset id.
    pub asset_id: String,
    /// `sbom`, `host`, `scan:<format>`.
    pub source: String,
    /// Component key (purl).
    pub component: String,
    /// Package name.
    pub package: String,
    /// Installed version.
    pub version: String,
    /// OSV ecosystem name.
    pub ecosystem: String,
    /// Canonical vulnerability id (CVE where known).
    pub vulnerability: String,
    /// Every id of the vulnerability.
    pub aliases: Vec<String>,
    /// Summary.
    pub summary: Option<String>,
    /// `none`, `low`, `medium`, `high`, `critical`, `unknown`.
    pub severity: String,
    /// The CVSS vector used.
    pub cvss_vector: Option<String>,
    /// Its base score in tenths (98 = 9.8).
    pub cvss_score: Option<i64>,
    /// Versions that fix it.
    pub fixed_versions: Vec<String>,
    /// The record references an exploit.
    pub exploit_refs: bool,
    /// `open`, `fixed`, `reopened`, `accepted`, `false_positive`.
    pub status: String,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen present.
    pub last_seen: Timestamp,
    /// When it was found fixed.
    pub fixed_at: Option<Timestamp>,
    /// When the current status began (SLA clock start for open/reopened).
    pub since: Timestamp,
    /// Risk acceptance expiry.
    pub accepted_until: Option<Timestamp>,
    /// Justification of an acceptance or false-positive decision.
    pub reason: Option<String>,
    /// Who took that decision (principal label).
    pub decided_by: Option<String>,
    /// SSVC deployer decision (`defer`, `scheduled`, `out-of-cycle`,
    /// `immediate`).
    pub decision: String,
    /// Risk score in hundredths (0–10000).
    pub risk: i64,
    /// The prioritisation inputs and reasoning.
    pub explanation: serde_json::Value,
    /// SLA due date, for open and reopened findings.
    pub sla_due: Option<Timestamp>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Filters and paging of [`Store::list_findings`] (keyset by id).
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    /// Only this asset.
    pub asset_id: Option<String>,
    /// Only these statuses (any of them); empty: all.
    pub statuses: Vec<String>,
    /// Only this decision.
    pub decision: Option<String>,
    /// Only findings with an id after this one (the last id of a page).
    pub after: Option<String>,
    /// Page size; 0 means [`MAX_FINDINGS_PAGE`].
    pub limit: u32,
}

fn check_asset(a: &NewAsset) -> Result<()> {
    let bad = |m: String| Err(Error::Invalid(m));
    if a.name.trim().is_empty() || a.name.len() > 200 || a.name.chars().any(char::is_control) {
        return bad(format!(
            "asset name must be 1-200 bytes without control characters: {:?}",
            a.name
        ));
    }
    if !ASSET_KINDS.contains(&a.kind.as_str()) {
        return bad(format!(
            "asset kind {:?}: expected host or application",
            a.kind
        ));
    }
    if !(1..=5).contains(&a.criticality) {
        return bad(format!(
            "asset criticality {}: expected 1 (low) to 5 (mission critical)",
            a.criticality
        ));
    }
    if !EXPOSURES.contains(&a.exposure.as_str()) {
        return bad(format!(
            "asset exposure {:?}: expected internet-facing, internal or isolated",
            a.exposure
        ));
    }
    if let Some(d) = a
        .data_classes
        .iter()
        .find(|d| !["personal", "health", "payment"].contains(&d.as_str()))
    {
        return bad(format!(
            "data class {d:?}: expected personal, health or payment"
        ));
    }
    Ok(())
}

fn list_from(table: &'static str, col: &str, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| corrupt(table, format!("column {col}: {e}")))
}

const ASSET_COLUMNS: &str = "tenant, id, name, kind, CAST(ips AS TEXT) AS ips, os, owner, \
     criticality, exposure, CAST(data_classes AS TEXT) AS data_classes, \
     CAST(tags AS TEXT) AS tags, source, last_seen, created_at, updated_at";

fn asset_from_row(r: &impl RowExt) -> Result<AssetRecord> {
    const T: &str = "assets";
    let crit = r.int(T, "criticality")?;
    Ok(AssetRecord {
        tenant: r.tenant(T, "tenant")?,
        id: r.text(T, "id")?,
        asset: NewAsset {
            name: r.text(T, "name")?,
            kind: r.text(T, "kind")?,
            ips: list_from(T, "ips", &r.text(T, "ips")?)?,
            os: r.opt_text(T, "os")?,
            owner: r.opt_text(T, "owner")?,
            criticality: u8::try_from(crit)
                .map_err(|_| corrupt(T, format!("criticality {crit}")))?,
            exposure: r.text(T, "exposure")?,
            data_classes: list_from(T, "data_classes", &r.text(T, "data_classes")?)?,
            tags: list_from(T, "tags", &r.text(T, "tags")?)?,
        },
        source: r.text(T, "source")?,
        last_seen: r.opt_ts(T, "last_seen")?,
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
    })
}

pub(crate) const FINDING_COLUMNS: &str = "id, asset_id, source, component, package, version, ecosystem, \
     vulnerability, CAST(aliases AS TEXT) AS aliases, summary, severity, cvss_vector, \
     cvss_score, CAST(fixed_versions AS TEXT) AS fixed_versions, exploit_refs, status, \
     first_seen, last_seen, fixed_at, since, accepted_until, reason, decided_by, decision, \
     risk, CAST(explanation AS TEXT) AS explanation, sla_due, updated_at";

pub(crate) fn finding_from_row(r: &impl RowExt) -> Result<FindingRecord> {
    const T: &str = "findings";
    let explanation = serde_json::from_str(&r.text(T, "explanation")?)
        .map_err(|e| corrupt(T, format!("column explanation: {e}")))?;
    Ok(FindingRecord {
        id: r.text(T, "id")?,
        asset_id: r.text(T, "asset_id")?,
        source: r.text(T, "source")?,
        component: r.text(T, "component")?,
        package: r.text(T, "package")?,
        version: r.text(T, "version")?,
        ecosystem: r.text(T, "ecosystem")?,
        vulnerability: r.text(T, "vulnerability")?,
        aliases: list_from(T, "aliases", &r.text(T, "aliases")?)?,
        summary: r.opt_text(T, "summary")?,
        severity: r.text(T, "severity")?,
        cvss_vector: r.opt_text(T, "cvss_vector")?,
        cvss_score: r.opt_int(T, "cvss_score")?,
        fixed_versions: list_from(T, "fixed_versions", &r.text(T, "fixed_versions")?)?,
        exploit_refs: r.flag(T, "exploit_refs")?,
        status: r.text(T, "status")?,
        first_seen: r.ts(T, "first_seen")?,
        last_seen: r.ts(T, "last_seen")?,
        fixed_at: r.opt_ts(T, "fixed_at")?,
        since: r.ts(T, "since")?,
        accepted_until: r.opt_ts(T, "accepted_until")?,
        reason: r.opt_text(T, "reason")?,
        decided_by: r.opt_text(T, "decided_by")?,
        decision: r.text(T, "decision")?,
        risk: r.int(T, "risk")?,
        explanation,
        sla_due: r.opt_ts(T, "sla_due")?,
        updated_at: r.ts(T, "updated_at")?,
    })
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Store {
    /// Creates an asset, or updates the one with the same name. Returns the
    /// stored asset and whether it was new.
    pub async fn upsert_asset(
        &self,
        tenant: TenantId,
        asset: &NewAsset,
        now: Timestamp,
    ) -> Result<(AssetRecord, bool)> {
        const OP: &str = "upsert_asset";
        check_asset(asset)?;
        let existed = self.get_asset(tenant, &asset.name).await?;
        let id = existed.as_ref().map_or_else(new_id, |a| a.id.clone());
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO assets (tenant, id, name, kind, ips, os, owner, criticality, \
                 exposure, data_classes, tags, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
                 ON CONFLICT (tenant, name) DO UPDATE SET kind = excluded.kind, \
                 ips = excluded.ips, os = excluded.os, owner = excluded.owner, \
                 criticality = excluded.criticality, exposure = excluded.exposure, \
                 data_classes = excluded.data_classes, tags = excluded.tags, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.to_string())
            .bind(&id)
            .bind(asset.name.trim())
            .bind(&asset.kind)
            .bind(Json(&asset.ips))
            .bind(asset.os.as_deref())
            .bind(asset.owner.as_deref())
            .bind(i64::from(asset.criticality))
            .bind(&asset.exposure)
            .bind(Json(&asset.data_classes))
            .bind(Json(&asset.tags))
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let payload = json!({ "id": id, "name": asset.name.trim() });
            let change = NewChange {
                tenant,
                object_type: "asset",
                object_id: &id,
                op: if existed.is_some() {
                    "update"
                } else {
                    "create"
                },
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        let rec = self
            .get_asset(tenant, &id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("asset {id} after upsert")))?;
        Ok((rec, existed.is_none()))
    }

    /// A tenant's assets, by name.
    pub async fn list_assets(&self, tenant: TenantId) -> Result<Vec<AssetRecord>> {
        const OP: &str = "list_assets";
        let sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE tenant = $1 ORDER BY name");
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(asset_from_row).collect()
        })
    }

    /// One asset by id or by name.
    pub async fn get_asset(
        &self,
        tenant: TenantId,
        id_or_name: &str,
    ) -> Result<Option<AssetRecord>> {
        const OP: &str = "get_asset";
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE tenant = $1 AND (id = $2 OR name = $2) \
             ORDER BY (id = $2) DESC LIMIT 1"
        );
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(id_or_name.trim())
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(asset_from_row).transpose()
        })
    }

    /// Replaces the components an asset has from `source` (`sbom`, `host`,
    /// …): listed ones are inserted or refreshed (keeping `first_seen`),
    /// others from that source are removed. One transaction.
    pub async fn replace_components(
        &self,
        tenant: TenantId,
        asset_id: &str,
        source: &str,
        components: &[ComponentRecord],
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "replace_components";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            for c in components {
                sqlx::query(
                    "INSERT INTO asset_components (tenant, asset_id, source, purl, name, \
                     version, ecosystem, first_seen, last_seen) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                     ON CONFLICT (tenant, asset_id, source, purl) DO UPDATE SET \
                     name = excluded.name, version = excluded.version, \
                     ecosystem = excluded.ecosystem, last_seen = excluded.last_seen",
                )
                .bind(tenant.to_string())
                .bind(asset_id)
                .bind(source)
                .bind(&c.purl)
                .bind(&c.name)
                .bind(c.version.as_deref())
                .bind(c.ecosystem.as_deref())
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            sqlx::query(
                "DELETE FROM asset_components WHERE tenant = $1 AND asset_id = $2 \
                 AND source = $3 AND last_seen < $4",
            )
            .bind(tenant.to_string())
            .bind(asset_id)
            .bind(source)
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(components.len())
        })
    }

    /// An asset's components, by source and purl.
    pub async fn list_components(
        &self,
        tenant: TenantId,
        asset_id: &str,
    ) -> Result<Vec<ComponentRecord>> {
        const OP: &str = "list_components";
        const T: &str = "asset_components";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT source, purl, name, version, ecosystem, first_seen, last_seen \
                 FROM asset_components WHERE tenant = $1 AND asset_id = $2 \
                 ORDER BY source, purl",
            )
            .bind(tenant.to_string())
            .bind(asset_id)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(ComponentRecord {
                        source: r.text(T, "source")?,
                        purl: r.text(T, "purl")?,
                        name: r.text(T, "name")?,
                        version: r.opt_text(T, "version")?,
                        ecosystem: r.opt_text(T, "ecosystem")?,
                        first_seen: r.ts(T, "first_seen")?,
                        last_seen: r.ts(T, "last_seen")?,
                    })
                })
                .collect()
        })
    }

    /// Inserts or replaces vulnerability records (by OSV id). One
    /// transaction. Returns how many were written.
    pub async fn upsert_vuln_records(
        &self,
        records: &[VulnRecord],
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "upsert_vuln_records";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            for r in records {
                sqlx::query(
                    "INSERT INTO vuln_records (id, aliases, modified, summary, record, \
                     imported_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET aliases = excluded.aliases, \
                     modified = excluded.modified, summary = excluded.summary, \
                     record = excluded.record, imported_at = excluded.imported_at",
                )
                .bind(&r.id)
                .bind(Json(&r.aliases))
                .bind(r.modified.as_deref())
                .bind(r.summary.as_deref())
                .bind(&r.record)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            tx.commit(OP).await?;
            Ok(records.len())
        })
    }

    /// Every vulnerability record, by id (to build the matching index).
    pub async fn list_vuln_records(&self) -> Result<Vec<VulnRecord>> {
        self.query_vuln_records(None).await
    }

    /// The records whose id or one of whose aliases is `id`.
    pub async fn get_vuln_records(&self, id: &str) -> Result<Vec<VulnRecord>> {
        self.query_vuln_records(Some(id.trim())).await
    }

    async fn query_vuln_records(&self, id: Option<&str>) -> Result<Vec<VulnRecord>> {
        const OP: &str = "list_vuln_records";
        const T: &str = "vuln_records";
        let mut sql = "SELECT id, CAST(aliases AS TEXT) AS aliases, modified, summary, record \
                       FROM vuln_records"
            .to_owned();
        if id.is_some() {
            sql.push_str(" WHERE id = $1 OR CAST(aliases AS TEXT) LIKE $2");
        }
        sql.push_str(" ORDER BY id");
        let like = id.map(|i| format!("%\"{}\"%", i.replace(['%', '_', '\\'], "")));
        dispatch!(self, |pool, DB| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some(i) = id {
                q = q.bind(i).bind(like.clone());
            }
            let rows = q.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(VulnRecord {
                        id: r.text(T, "id")?,
                        aliases: list_from(T, "aliases", &r.text(T, "aliases")?)?,
                        modified: r.opt_text(T, "modified")?,
                        summary: r.opt_text(T, "summary")?,
                        record: r.text(T, "record")?,
                    })
                })
                .collect()
        })
    }

    /// Inserts or replaces KEV entries (by CVE). One transaction.
    pub async fn upsert_kev(&self, entries: &[KevEntry], now: Timestamp) -> Result<usize> {
        const OP: &str = "upsert_kev";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            for e in entries {
                sqlx::query(
                    "INSERT INTO vuln_kev (cve, vendor, product, name, date_added, due_date, \
                     ransomware, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (cve) DO UPDATE SET vendor = excluded.vendor, \
                     product = excluded.product, name = excluded.name, \
                     date_added = excluded.date_added, due_date = excluded.due_date, \
                     ransomware = excluded.ransomware, imported_at = excluded.imported_at",
                )
                .bind(&e.cve)
                .bind(&e.vendor)
                .bind(&e.product)
                .bind(&e.name)
                .bind(&e.date_added)
                .bind(e.due_date.as_deref())
                .bind(&e.ransomware)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            tx.commit(OP).await?;
            Ok(entries.len())
        })
    }

    /// The whole KEV catalog, by CVE.
    pub async fn list_kev(&self) -> Result<Vec<KevEntry>> {
        const OP: &str = "list_kev";
        const T: &str = "vuln_kev";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT cve, vendor, product, name, date_added, due_date, ransomware \
                 FROM vuln_kev ORDER BY cve",
            )
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(KevEntry {
                        cve: r.text(T, "cve")?,
                        vendor: r.text(T, "vendor")?,
                        product: r.text(T, "product")?,
                        name: r.text(T, "name")?,
                        date_added: r.text(T, "date_added")?,
                        due_date: r.opt_text(T, "due_date")?,
                        ransomware: r.text(T, "ransomware")?,
                    })
                })
                .collect()
        })
    }

    /// Inserts or replaces EPSS scores (by CVE; stored in millionths). One
    /// transaction.
    pub async fn upsert_epss(
        &self,
        scores: &[(String, EpssScore)],
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "upsert_epss";
        let ppm = |x: f64| (x.clamp(0.0, 1.0) * 1e6).round() as i64;
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            for (cve, s) in scores {
                sqlx::query(
                    "INSERT INTO vuln_epss (cve, score_ppm, percentile_ppm, imported_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (cve) DO UPDATE SET \
                     score_ppm = excluded.score_ppm, percentile_ppm = excluded.percentile_ppm, \
                     imported_at = excluded.imported_at",
                )
                .bind(cve)
                .bind(ppm(s.score))
                .bind(ppm(s.percentile))
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            tx.commit(OP).await?;
            Ok(scores.len())
        })
    }

    /// Every EPSS score, by CVE.
    pub async fn list_epss(&self) -> Result<Vec<(String, EpssScore)>> {
        const OP: &str = "list_epss";
        const T: &str = "vuln_epss";
        dispatch!(self, |pool, DB| {
            let rows =
                sqlx::query("SELECT cve, score_ppm, percentile_ppm FROM vuln_epss ORDER BY cve")
                    .fetch_all(pool)
                    .await
                    .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.text(T, "cve")?,
                        EpssScore {
                            score: r.int(T, "score_ppm")? as f64 / 1e6,
                            percentile: r.int(T, "percentile_ppm")? as f64 / 1e6,
                        },
                    ))
                })
                .collect()
        })
    }

    /// Writes findings whole: new ones (by asset, source, component,
    /// vulnerability) are inserted with their id, known ones keep their id
    /// and `first_seen` and get every other column. Changed findings land
    /// in the change feed. One transaction.
    pub async fn save_findings(
        &self,
        tenant: TenantId,
        findings: &[FindingRecord],
    ) -> Result<usize> {
        const OP: &str = "save_findings";
        for f in findings {
            if !FINDING_STATUSES.contains(&f.status.as_str()) {
                return Err(Error::Invalid(format!(
                    "finding status {:?}: expected one of {}",
                    f.status,
                    FINDING_STATUSES.join(", ")
                )));
            }
        }
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut payloads = Vec::new();
            for f in findings {
                sqlx::query(
                    "INSERT INTO findings (tenant, id, asset_id, source, component, package, \
                     version, ecosystem, vulnerability, aliases, summary, severity, cvss_vector, \
                     cvss_score, fixed_versions, exploit_refs, status, first_seen, last_seen, \
                     fixed_at, since, accepted_until, reason, decided_by, decision, risk, \
                     explanation, sla_due, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                     $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
                     $24, $25, $26, $27, $28, $29) \
                     ON CONFLICT (tenant, asset_id, source, component, vulnerability) DO UPDATE \
                     SET package = excluded.package, version = excluded.version, \
                     ecosystem = excluded.ecosystem, aliases = excluded.aliases, \
                     summary = excluded.summary, severity = excluded.severity, \
                     cvss_vector = excluded.cvss_vector, cvss_score = excluded.cvss_score, \
                     fixed_versions = excluded.fixed_versions, \
                     exploit_refs = excluded.exploit_refs, status = excluded.status, \
                     last_seen = excluded.last_seen, fixed_at = excluded.fixed_at, \
                     since = excluded.since, accepted_until = excluded.accepted_until, \
                     reason = excluded.reason, decided_by = excluded.decided_by, \
                     decision = excluded.decision, risk = excluded.risk, \
                     explanation = excluded.explanation, sla_due = excluded.sla_due, \
                     updated_at = excluded.updated_at",
                )
                .bind(tenant.to_string())
                .bind(&f.id)
                .bind(&f.asset_id)
                .bind(&f.source)
                .bind(&f.component)
                .bind(&f.package)
                .bind(&f.version)
                .bind(&f.ecosystem)
                .bind(&f.vulnerability)
                .bind(Json(&f.aliases))
                .bind(f.summary.as_deref())
                .bind(&f.severity)
                .bind(f.cvss_vector.as_deref())
                .bind(f.cvss_score)
                .bind(Json(&f.fixed_versions))
                .bind(f.exploit_refs)
                .bind(&f.status)
                .bind(f.first_seen.as_micros())
                .bind(f.last_seen.as_micros())
                .bind(f.fixed_at.map(Timestamp::as_micros))
                .bind(f.since.as_micros())
                .bind(f.accepted_until.map(Timestamp::as_micros))
                .bind(f.reason.as_deref())
                .bind(f.decided_by.as_deref())
                .bind(&f.decision)
                .bind(f.risk)
                .bind(Json(&f.explanation))
                .bind(f.sla_due.map(Timestamp::as_micros))
                .bind(f.updated_at.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                payloads.push((
                    f,
                    json!({ "id": f.id, "asset_id": f.asset_id, "vulnerability": f.vulnerability,
                            "component": f.component, "status": f.status,
                            "decision": f.decision }),
                ));
            }
            let changes: Vec<NewChange<'_>> = payloads
                .iter()
                .map(|(f, p)| NewChange {
                    tenant,
                    object_type: "finding",
                    object_id: &f.id,
                    op: "upsert",
                    payload: p,
                    at: f.updated_at,
                })
                .collect();
            if !changes.is_empty() {
                <DB as ChangeOps>::insert_changes(tx.conn(), &changes).await?;
            }
            tx.commit(OP).await?;
            Ok(findings.len())
        })
    }

    /// Findings by id (UUID v7, so roughly in creation order), filtered,
    /// one page.
    pub async fn list_findings(
        &self,
        tenant: TenantId,
        q: &FindingQuery,
    ) -> Result<Vec<FindingRecord>> {
        const OP: &str = "list_findings";
        for s in &q.statuses {
            if !FINDING_STATUSES.contains(&s.as_str()) {
                return Err(Error::Invalid(format!(
                    "finding status {s:?}: expected one of {}",
                    FINDING_STATUSES.join(", ")
                )));
            }
        }
        let limit = if q.limit == 0 {
            MAX_FINDINGS_PAGE
        } else {
            q.limit.min(MAX_FINDINGS_PAGE)
        };
        let mut sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = $1");
        let mut binds: Vec<String> = vec![tenant.to_string()];
        let mut push = |cond: &str, v: String, sql: &mut String| {
            binds.push(v);
            sql.push_str(&format!(" AND {cond} ${}", binds.len()));
        };
        if let Some(a) = &q.asset_id {
            push("asset_id =", a.clone(), &mut sql);
        }
        if let Some(d) = &q.decision {
            push("decision =", d.clone(), &mut sql);
        }
        if let Some(a) = &q.after {
            push("id >", a.clone(), &mut sql);
        }
        if !q.statuses.is_empty() {
            sql.push_str(" AND status IN (");
            for (i, s) in q.statuses.iter().enumerate() {
                binds.push(s.clone());
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", binds.len()));
            }
            sql.push(')');
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {limit}"));
        dispatch!(self, |pool, DB| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in &binds {
                query = query.bind(b.as_str());
            }
            let rows = query.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter().map(finding_from_row).collect()
        })
    }

    /// One finding by id.
    pub async fn get_finding(&self, tenant: TenantId, id: &str) -> Result<Option<FindingRecord>> {
        const OP: &str = "get_finding";
        let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = $1 AND id = $2");
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(id.trim())
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(finding_from_row).transpose()
        })
    }

    /// Records a triage decision on a finding already computed by the
    /// caller (status `accepted` with its expiry, `false_positive`, or back
    /// to `open`): writes it, audits it as `finding.update` and records the
    /// change, in one transaction. `None` if there is no such finding.
    pub async fn triage_finding(
        &self,
        tenant: TenantId,
        finding: &FindingRecord,
        by: &Principal,
        now: Timestamp,
    ) -> Result<Option<FindingRecord>> {
        const OP: &str = "triage_finding";
        if !FINDING_STATUSES.contains(&finding.status.as_str()) {
            return Err(Error::Invalid(format!(
                "finding status {:?}: expected one of {}",
                finding.status,
                FINDING_STATUSES.join(", ")
            )));
        }
        let target = format!("finding:{}", finding.id);
        let payload = json!({
            "id": finding.id,
            "status": finding.status,
            "accepted_until": finding.accepted_until.map(Timestamp::to_rfc3339),
            "reason": finding.reason,
        });
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE findings SET status = $1, accepted_until = $2, reason = $3, \
                 decided_by = $4, since = $5, sla_due = $6, updated_at = $7 \
                 WHERE tenant = $8 AND id = $9",
            )
            .bind(&finding.status)
            .bind(finding.accepted_until.map(Timestamp::as_micros))
            .bind(finding.reason.as_deref())
            .bind(by.label())
            .bind(finding.since.as_micros())
            .bind(finding.sla_due.map(Timestamp::as_micros))
            .bind(now.as_micros())
            .bind(tenant.to_string())
            .bind(&finding.id)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(None);
            }
            let audit = NewAudit::new(tenant, by, "finding.update", &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "finding",
                object_id: &finding.id,
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.get_finding(tenant, &finding.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_checks() {
        let ok = NewAsset {
            name: "web1".into(),
            kind: "host".into(),
            criticality: 3,
            exposure: "internal".into(),
            ..NewAsset::default()
        };
        assert!(check_asset(&ok).is_ok());
        let bad = NewAsset {
            criticality: 6,
            ..ok.clone()
        };
        assert!(check_asset(&bad).is_err());
        let bad = NewAsset {
            exposure: "dmz".into(),
            ..ok.clone()
        };
        assert!(check_asset(&bad).is_err());
        let bad = NewAsset {
            data_classes: vec!["secret".into()],
            ..ok
        };
        assert!(check_asset(&bad).is_err());
        assert_eq!(version(BLOCK_VULN, 1), 50001);
    }
}

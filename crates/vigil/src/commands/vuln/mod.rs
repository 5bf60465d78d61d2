//! Vulnerability management commands: `vigil assets`, `sbom import`,
//! `scan host`, `vulns …`, and their shared glue — matching stored
//! components against the stored OSV records, reconciling findings through
//! `vigil_vuln::lifecycle`, and prioritising them (`priority`).

pub mod args;
mod assets;
mod csv;
mod findings;
mod imports;
pub mod priority;
mod scan;

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use vigil_model::{Clock, SystemClock, TenantId, Timestamp};
use vigil_store::{
    AssetRecord, ComponentRecord, EpssScore, FindingQuery, FindingRecord, KevEntry, NewAsset, Store,
};
use vigil_vuln::lifecycle::{self, SlaPolicy, State, Status};
use vigil_vuln::osv::{OsvDatabase, OsvRecord};

use crate::config::Config;

pub use args::{AssetsCommand, SbomCommand, ScanCommand, VulnsCommand};

/// `[vuln]` in the configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VulnSection {
    /// `[vuln.sla]`: days to remediate by SSVC decision. Defaults:
    /// immediate 2, out_of_cycle 7, scheduled 30, defer 90, kev 14 (at most,
    /// for vulnerabilities in CISA KEV).
    pub sla: SlaPolicy,
    /// EPSS score from which Exploitation counts as "public PoC". Default:
    /// 0.1.
    pub epss_poc_threshold: f64,
}

impl Default for VulnSection {
    fn default() -> Self {
        VulnSection {
            sla: SlaPolicy::default(),
            epss_poc_threshold: 0.1,
        }
    }
}

/// `vigil assets …`.
pub async fn assets(cfg: Config, cmd: AssetsCommand) -> Result<ExitCode> {
    assets::run(cfg, cmd).await
}

/// `vigil sbom …`.
pub async fn sbom(cfg: Config, cmd: SbomCommand) -> Result<ExitCode> {
    imports::sbom(cfg, cmd).await
}

/// `vigil scan …`.
pub async fn scan(cfg: Config, cmd: ScanCommand) -> Result<ExitCode> {
    scan::run(cfg, cmd).await
}

/// `vigil vulns …`.
pub async fn vulns(cfg: Config, cmd: VulnsCommand) -> Result<ExitCode> {
    match cmd {
        VulnsCommand::Import(i) => imports::run(cfg, i).await,
        other => findings::run(cfg, other).await,
    }
}

const TENANT: TenantId = TenantId::DEFAULT;

/// The current time; `VIGIL_NOW` (RFC 3339) replaces the clock, for tests
/// of expiring acceptances and SLA dates.
pub(crate) fn now() -> Result<Timestamp> {
    match std::env::var("VIGIL_NOW") {
        Ok(s) if !s.trim().is_empty() => parse_time(&s).context("VIGIL_NOW"),
        _ => Ok(SystemClock.now()),
    }
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub(crate) fn parse_time(s: &str) -> Result<Timestamp> {
    let s = s.trim();
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    Timestamp::parse_rfc3339(&full)
        .with_context(|| format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// The asset by name or id, created as an internal host of criticality 3
/// when unknown.
pub(crate) async fn asset_or_create(
    store: &Store,
    name: &str,
    now: Timestamp,
) -> Result<AssetRecord> {
    if let Some(a) = store.get_asset(TENANT, name).await? {
        return Ok(a);
    }
    let (a, _) = store
        .upsert_asset(
            TENANT,
            &NewAsset {
                name: name.to_owned(),
                kind: "host".into(),
                criticality: 3,
                exposure: "internal".into(),
                ..NewAsset::default()
            },
            now,
        )
        .await
        .with_context(|| format!("cannot create asset {name:?}"))?;
    eprintln!(
        "created asset {name:?} (host, criticality 3, internal); change it with `vigil assets add {name} …`"
    );
    Ok(a)
}

/// Reference data loaded for matching and prioritisation.
pub(crate) struct Reference {
    pub db: OsvDatabase,
    /// Per OSV record id: references an exploit.
    pub exploit_refs: HashMap<String, bool>,
    pub kev: HashMap<String, KevEntry>,
    pub epss: HashMap<String, EpssScore>,
}

fn has_exploit_ref(r: &OsvRecord) -> bool {
    r.references.iter().any(|x| {
        let u = x.url.to_ascii_lowercase();
        x.kind.eq_ignore_ascii_case("EVIDENCE")
            || u.contains("exploit-db.com")
            || u.contains("packetstormsecurity")
            || u.contains("/exploit")
    })
}

pub(crate) async fn load_reference(store: &Store) -> Result<Reference> {
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
    let db = tokio::task::spawn_blocking(move || OsvDatabase::new(records)).await?;
    let kev = store
        .list_kev()
        .await?
        .into_iter()
        .map(|k| (k.cve.clone(), k))
        .collect();
    let epss = store.list_epss().await?.into_iter().collect();
    Ok(Reference {
        db,
        exploit_refs,
        kev,
        epss,
    })
}

/// A vulnerable component as a match or a scanner reported it.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub component: String,
    pub package: String,
    pub version: String,
    pub ecosystem: String,
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub cvss_vector: Option<String>,
    pub severity: String,
    pub fixed: Vec<String>,
    pub exploit_refs: bool,
}

/// The CVSS vector to use among OSV severity entries: v3.x, then v4.0,
/// then v2.
fn pick_vector(sev: &[vigil_vuln::osv::OsvSeverity]) -> Option<String> {
    for want in ["CVSS_V3", "CVSS_V4", "CVSS_V2"] {
        for s in sev.iter().filter(|s| s.kind == want) {
            if s.score.parse::<vigil_cvss::Vector>().is_ok() {
                return Some(s.score.clone());
            }
        }
    }
    None
}

/// Matches components against the database.
pub(crate) fn match_components(r: &Reference, comps: &[vigil_vuln::Component]) -> Vec<Hit> {
    r.db.match_components(comps)
        .into_iter()
        .map(|f| Hit {
            cvss_vector: pick_vector(&f.severity),
            severity: "unknown".into(),
            exploit_refs: f
                .records
                .iter()
                .any(|id| r.exploit_refs.get(id).copied().unwrap_or(false)),
            component: f.component,
            package: f.name,
            version: f.version,
            ecosystem: f.ecosystem,
            vulnerability: f.vulnerability,
            aliases: f.aliases,
            summary: f.summary,
            fixed: f.fixed,
        })
        .collect()
}

fn state_of(f: &FindingRecord) -> State {
    State {
        status: Status::parse(&f.status).unwrap_or(Status::Open),
        first_seen: f.first_seen.as_micros(),
        last_seen: f.last_seen.as_micros(),
        fixed_at: f.fixed_at.map(Timestamp::as_micros),
        since: f.since.as_micros(),
        accepted_until: f.accepted_until.map(Timestamp::as_micros),
    }
}

fn apply_state(f: &mut FindingRecord, s: &State) {
    f.status = s.status.as_str().to_owned();
    f.first_seen = Timestamp::from_micros(s.first_seen);
    f.last_seen = Timestamp::from_micros(s.last_seen);
    f.fixed_at = s.fixed_at.map(Timestamp::from_micros);
    f.since = Timestamp::from_micros(s.since);
    f.accepted_until = s.accepted_until.map(Timestamp::from_micros);
}

/// Recomputes a finding's decision, risk, explanation and SLA due date.
pub(crate) fn prioritise(
    f: &mut FindingRecord,
    asset: &AssetRecord,
    r: &Reference,
    cfg: &VulnSection,
) {
    let ids: Vec<&String> = std::iter::once(&f.vulnerability)
        .chain(&f.aliases)
        .collect();
    let kev = ids.iter().find_map(|id| r.kev.get(id.as_str()));
    let epss = ids.iter().find_map(|id| r.epss.get(id.as_str())).copied();
    let vector = f
        .cvss_vector
        .as_deref()
        .and_then(|v| v.parse::<vigil_cvss::Vector>().ok());
    if let Some(v) = &vector {
        let s = v.scores();
        f.cvss_score = Some(i64::from(s.base().tenths()));
        f.severity = s.severity().as_str().to_ascii_lowercase();
    }
    let p = priority::prioritise(
        &priority::Inputs {
            in_kev: kev.is_some(),
            epss,
            exploit_refs: f.exploit_refs,
            exposure: &asset.asset.exposure,
            cvss: vector.as_ref(),
            severity: &f.severity,
            criticality: asset.asset.criticality,
            data_classes: &asset.asset.data_classes,
        },
        cfg.epss_poc_threshold,
    );
    f.decision = p.decision;
    f.risk = (p.risk * 100.0).round() as i64;
    let kev_due = kev
        .and_then(|k| k.due_date.as_deref())
        .and_then(|d| parse_time(d).ok())
        .map(Timestamp::as_micros);
    f.sla_due = cfg
        .sla
        .due(&state_of(f), p.rank, kev.is_some(), kev_due)
        .map(Timestamp::from_micros);
    f.explanation = p.explanation;
}

/// What a refresh did.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(crate) struct Reconciled {
    pub opened: usize,
    pub fixed: usize,
    pub reopened: usize,
    pub unchanged: usize,
}

/// Reconciles one asset's findings from one source with the hits of the
/// latest import of that source, prioritises them and saves them.
pub(crate) async fn reconcile(
    store: &Store,
    cfg: &VulnSection,
    r: &Reference,
    asset: &AssetRecord,
    source: &str,
    hits: Vec<Hit>,
    now: Timestamp,
) -> Result<Reconciled> {
    let existing = store
        .list_findings(
            TENANT,
            &FindingQuery {
                asset_id: Some(asset.id.clone()),
                ..FindingQuery::default()
            },
        )
        .await?;
    let mut by_key: HashMap<(String, String), FindingRecord> = existing
        .into_iter()
        .filter(|f| f.source == source)
        .map(|f| ((f.component.clone(), f.vulnerability.clone()), f))
        .collect();
    let mut out = Vec::new();
    let mut stats = Reconciled::default();
    let mut seen = HashSet::new();
    let t = now.as_micros();
    for h in hits {
        let key = (h.component.clone(), h.vulnerability.clone());
        if !seen.insert(key.clone()) {
            continue;
        }
        let prev = by_key.remove(&key);
        let before = prev.as_ref().map(|f| state_of(f).status);
        let Some(state) = lifecycle::observe(prev.as_ref().map(state_of), true, t) else {
            continue;
        };
        match (before, state.status) {
            (None, _) => stats.opened += 1,
            (Some(Status::Fixed), Status::Reopened) => stats.reopened += 1,
            _ => stats.unchanged += 1,
        }
        let mut f = prev.unwrap_or_else(|| FindingRecord {
            id: uuid_v7(),
            asset_id: asset.id.clone(),
            source: source.to_owned(),
            component: h.component.clone(),
            package: String::new(),
            version: String::new(),
            ecosystem: String::new(),
            vulnerability: h.vulnerability.clone(),
            aliases: Vec::new(),
            summary: None,
            severity: "unknown".into(),
            cvss_vector: None,
            cvss_score: None,
            fixed_versions: Vec::new(),
            exploit_refs: false,
            status: "open".into(),
            first_seen: now,
            last_seen: now,
            fixed_at: None,
            since: now,
            accepted_until: None,
            reason: None,
            decided_by: None,
            decision: "defer".into(),
            risk: 0,
            explanation: serde_json::Value::Null,
            sla_due: None,
            updated_at: now,
        });
        f.package = h.package;
        f.version = h.version;
        f.ecosystem = h.ecosystem;
        f.aliases = h.aliases;
        f.summary = h.summary;
        f.severity = h.severity;
        f.cvss_vector = h.cvss_vector;
        f.cvss_score = None;
        f.fixed_versions = h.fixed;
        f.exploit_refs = h.exploit_refs;
        apply_state(&mut f, &state);
        f.updated_at = now;
        prioritise(&mut f, asset, r, cfg);
        out.push(f);
    }
    for (_, mut f) in by_key {
        let before = state_of(&f);
        if let Some(state) = lifecycle::observe(Some(before), false, t)
            && state != before
        {
            if state.status == Status::Fixed {
                stats.fixed += 1;
            }
            apply_state(&mut f, &state);
            f.updated_at = now;
            prioritise(&mut f, asset, r, cfg);
            out.push(f);
        }
    }
    store.save_findings(TENANT, &out).await?;
    Ok(stats)
}

fn uuid_v7() -> String {
    // Findings get their id here because the lifecycle runs before the
    // write; v7 keeps list order close to creation order.
    uuid::Uuid::now_v7().to_string()
}

/// Components of an asset from one stored source, as library components.
fn components_of(rows: &[ComponentRecord]) -> Vec<vigil_vuln::Component> {
    rows.iter()
        .filter_map(|c| c.purl.parse::<vigil_vuln::Purl>().ok())
        .map(vigil_vuln::Component::from_purl)
        .collect()
}

/// Re-matches every asset's stored components (sources `sbom`, `host`)
/// against the reference data and reconciles; then re-prioritises every
/// other finding (scanner sources) and applies expired acceptances.
pub(crate) async fn refresh_all(
    store: &Store,
    cfg: &VulnSection,
    now: Timestamp,
) -> Result<Reconciled> {
    let r = load_reference(store).await?;
    let mut total = Reconciled::default();
    for asset in store.list_assets(TENANT).await? {
        let comps = store.list_components(TENANT, &asset.id).await?;
        let mut sources: Vec<&str> = comps.iter().map(|c| c.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        for src in sources {
            let rows: Vec<ComponentRecord> =
                comps.iter().filter(|c| c.source == src).cloned().collect();
            let hits = match_components(&r, &components_of(&rows));
            let s = reconcile(store, cfg, &r, &asset, src, hits, now).await?;
            total.opened += s.opened;
            total.fixed += s.fixed;
            total.reopened += s.reopened;
            total.unchanged += s.unchanged;
        }
    }
    rescore(store, cfg, &r, now, |f| f.source.starts_with("scan:")).await?;
    Ok(total)
}

/// Applies expired acceptances and recomputes priorities of the findings
/// `which` selects, saving those that changed.
pub(crate) async fn rescore(
    store: &Store,
    cfg: &VulnSection,
    r: &Reference,
    now: Timestamp,
    which: impl Fn(&FindingRecord) -> bool,
) -> Result<usize> {
    let assets: HashMap<String, AssetRecord> = store
        .list_assets(TENANT)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let mut changed = Vec::new();
    for mut f in store
        .list_findings(TENANT, &FindingQuery::default())
        .await?
    {
        if !which(&f) {
            continue;
        }
        let Some(asset) = assets.get(&f.asset_id) else {
            continue;
        };
        let before = f.clone();
        let s = lifecycle::expire(state_of(&f), now.as_micros());
        apply_state(&mut f, &s);
        prioritise(&mut f, asset, r, cfg);
        if f != before {
            f.updated_at = now;
            changed.push(f);
        }
    }
    store.save_findings(TENANT, &changed).await?;
    Ok(changed.len())
}

/// Expired acceptances back to open, and priorities current (KEV and EPSS
/// may have changed), for every finding.
pub(crate) async fn rescore_all(store: &Store, cfg: &VulnSection, now: Timestamp) -> Result<usize> {
    let r = load_reference(store).await?;
    rescore(store, cfg, &r, now, |_| true).await
}

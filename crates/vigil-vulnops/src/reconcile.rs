//! Findings from hits: the lifecycle (new → open, missing → fixed,
//! returning → reopened, expired acceptance → open), prioritisation and the
//! SLA due date, saved in one store call per asset and source.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use vigil_model::{TenantId, Timestamp};
use vigil_store::{AssetRecord, ComponentRecord, FindingQuery, FindingRecord, NewAsset, Store};
use vigil_vuln::Component;
use vigil_vuln::lifecycle::{self, State, Status};

use crate::Settings;
use crate::error::Result;
use crate::priority;
use crate::reference::{Hit, Reference, load_reference};

/// Every finding `q` selects, read page by page (one `list_findings` call
/// returns at most `MAX_FINDINGS_PAGE`); `q.after` and `q.limit` are
/// ignored.
pub async fn all_findings(
    store: &Store,
    tenant: TenantId,
    q: &FindingQuery,
) -> Result<Vec<FindingRecord>> {
    findings_paged(store, tenant, q, vigil_store::MAX_FINDINGS_PAGE).await
}

async fn findings_paged(
    store: &Store,
    tenant: TenantId,
    q: &FindingQuery,
    page: u32,
) -> Result<Vec<FindingRecord>> {
    let mut q = q.clone();
    q.after = None;
    q.limit = page;
    let mut out = Vec::new();
    loop {
        let page = store.list_findings(tenant, &q).await?;
        let full = page.len() == q.limit as usize;
        q.after = page.last().map(|f| f.id.clone());
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// The asset by name or id, created as an internal host of criticality 3
/// when unknown; the flag says whether it was created.
pub async fn asset_or_create(
    store: &Store,
    tenant: TenantId,
    name: &str,
    now: Timestamp,
) -> Result<(AssetRecord, bool)> {
    if let Some(a) = store.get_asset(tenant, name).await? {
        return Ok((a, false));
    }
    let (a, _) = store
        .upsert_asset(
            tenant,
            &NewAsset {
                name: name.to_owned(),
                kind: "host".into(),
                criticality: 3,
                exposure: "internal".into(),
                ..NewAsset::default()
            },
            now,
        )
        .await?;
    Ok((a, true))
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

/// `YYYY-MM-DD` (KEV due dates) as midnight UTC.
fn parse_day(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.len() == 10 {
        Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z"))
    } else {
        Timestamp::parse_rfc3339(s)
    }
}

/// Recomputes a finding's decision, risk, explanation and SLA due date.
pub(crate) fn prioritise(
    f: &mut FindingRecord,
    asset: &AssetRecord,
    r: &Reference,
    cfg: &Settings,
) {
    let ids: Vec<&String> = std::iter::once(&f.vulnerability)
        .chain(&f.aliases)
        .collect();
    let kev = ids.iter().find_map(|id| r.kev.get(id.as_str()));
    let epss = ids.iter().find_map(|id| r.epss.get(id.as_str())).copied();
    let intel: Vec<(&str, &vigil_store::VulnIntel)> = ids
        .iter()
        .filter_map(|id| r.intel.get(id.as_str()).map(|i| (id.as_str(), i)))
        .collect();
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
            intel: priority::IntelEvidence::from_store(&intel),
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
        .and_then(parse_day)
        .map(Timestamp::as_micros);
    f.sla_due = cfg
        .sla
        .due(&state_of(f), p.rank, kev.is_some(), kev_due)
        .map(Timestamp::from_micros);
    f.explanation = p.explanation;
}

/// What a reconciliation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    /// New findings.
    pub opened: usize,
    /// Findings no longer present, now fixed.
    pub fixed: usize,
    /// Fixed findings present again.
    pub reopened: usize,
    /// Findings still present.
    pub unchanged: usize,
}

impl Reconciled {
    fn add(&mut self, o: Reconciled) {
        self.opened += o.opened;
        self.fixed += o.fixed;
        self.reopened += o.reopened;
        self.unchanged += o.unchanged;
    }
}

fn new_finding(asset: &AssetRecord, source: &str, h: &Hit, now: Timestamp) -> FindingRecord {
    FindingRecord {
        // v7 keeps list order close to creation order; the id is made here
        // because the lifecycle runs before the write.
        id: uuid::Uuid::now_v7().to_string(),
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
    }
}

/// Reconciles one asset's findings from one source with the hits of the
/// latest import of that source, prioritises them and saves them.
#[allow(clippy::too_many_arguments)]
pub async fn reconcile(
    store: &Store,
    tenant: TenantId,
    cfg: &Settings,
    r: &Reference,
    asset: &AssetRecord,
    source: &str,
    hits: Vec<Hit>,
    now: Timestamp,
) -> Result<Reconciled> {
    let existing = all_findings(
        store,
        tenant,
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
        let mut f = prev.unwrap_or_else(|| new_finding(asset, source, &h, now));
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
    store.save_findings(tenant, &out).await?;
    Ok(stats)
}

/// Stores components (deduplicated by key) as the asset's from `source`,
/// replacing that source's previous list.
pub async fn store_components(
    store: &Store,
    tenant: TenantId,
    asset_id: &str,
    source: &str,
    comps: &[Component],
    now: Timestamp,
) -> Result<usize> {
    let mut rows: Vec<ComponentRecord> = comps
        .iter()
        .map(|c| ComponentRecord {
            source: source.to_owned(),
            purl: c.key(),
            name: c.name.clone(),
            version: c.version.clone(),
            ecosystem: c.ecosystem.map(|e| e.osv_name().to_owned()),
            first_seen: now,
            last_seen: now,
        })
        .collect();
    rows.sort_by(|a, b| a.purl.cmp(&b.purl));
    rows.dedup_by(|a, b| a.purl == b.purl);
    Ok(store
        .replace_components(tenant, asset_id, source, &rows, now)
        .await?)
}

/// What [`import_sbom`] did.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SbomOutcome {
    /// Distinct components stored.
    pub components: usize,
    /// Findings opened, fixed, reopened, unchanged.
    pub findings: Reconciled,
}

/// Stores an SBOM's (or a host inventory's) components as the asset's from
/// `source` (`sbom`, `host`), matches them against the stored OSV records
/// and reconciles the asset's findings from that source: new ones open,
/// missing ones fixed, returning ones reopened.
pub async fn import_sbom(
    store: &Store,
    tenant: TenantId,
    cfg: &Settings,
    asset: &AssetRecord,
    source: &str,
    components: Vec<Component>,
    now: Timestamp,
) -> Result<SbomOutcome> {
    let n = store_components(store, tenant, &asset.id, source, &components, now).await?;
    let r = Arc::new(load_reference(store, tenant, now).await?);
    let hits = r.match_blocking(components).await?;
    let findings = reconcile(store, tenant, cfg, &r, asset, source, hits, now).await?;
    Ok(SbomOutcome {
        components: n,
        findings,
    })
}

/// Components of an asset from one stored source, as library components.
fn components_of(rows: &[ComponentRecord]) -> Vec<Component> {
    rows.iter()
        .filter_map(|c| c.purl.parse::<vigil_vuln::Purl>().ok())
        .map(Component::from_purl)
        .collect()
}

/// Re-matches every asset's stored components (sources `sbom`, `host`)
/// against the reference data and reconciles; then re-prioritises every
/// other finding (scanner sources) and applies expired acceptances.
pub async fn refresh_all(
    store: &Store,
    tenant: TenantId,
    cfg: &Settings,
    now: Timestamp,
) -> Result<Reconciled> {
    let r = Arc::new(load_reference(store, tenant, now).await?);
    let mut total = Reconciled::default();
    for asset in store.list_assets(tenant).await? {
        let comps = store.list_components(tenant, &asset.id).await?;
        let mut sources: Vec<&str> = comps.iter().map(|c| c.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        for src in sources {
            let rows: Vec<ComponentRecord> =
                comps.iter().filter(|c| c.source == src).cloned().collect();
            let hits = r.match_blocking(components_of(&rows)).await?;
            let s = reconcile(store, tenant, cfg, &r, &asset, src, hits, now).await?;
            total.add(s);
        }
    }
    rescore(store, tenant, cfg, &r, now, |f| {
        f.source.starts_with("scan:")
    })
    .await?;
    Ok(total)
}

/// Applies expired acceptances and recomputes priorities of the findings
/// `which` selects, saving those that changed; returns how many.
pub async fn rescore(
    store: &Store,
    tenant: TenantId,
    cfg: &Settings,
    r: &Reference,
    now: Timestamp,
    which: impl Fn(&FindingRecord) -> bool,
) -> Result<usize> {
    let assets: HashMap<String, AssetRecord> = store
        .list_assets(tenant)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let mut changed = Vec::new();
    for mut f in all_findings(store, tenant, &FindingQuery::default()).await? {
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
    store.save_findings(tenant, &changed).await?;
    Ok(changed.len())
}

/// Expired acceptances back to open, and priorities current (KEV, EPSS and
/// intel may have changed), for every finding.
pub async fn rescore_all(
    store: &Store,
    tenant: TenantId,
    cfg: &Settings,
    now: Timestamp,
) -> Result<usize> {
    let r = load_reference(store, tenant, now).await?;
    rescore(store, tenant, cfg, &r, now, |_| true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(i: usize) -> Hit {
        Hit {
            component: format!("pkg:pypi/p{i}@1.0"),
            package: format!("p{i}"),
            version: "1.0".into(),
            ecosystem: "PyPI".into(),
            vulnerability: format!("CVE-2099-{i}"),
            aliases: vec![format!("CVE-2099-{i}")],
            summary: None,
            cvss_vector: None,
            severity: "high".into(),
            fixed: vec!["2.0".into()],
            exploit_refs: false,
        }
    }

    /// Listing stops at a page (10,000 rows); the lifecycle and the
    /// listings must see every finding, or a second import of a big SBOM
    /// counts the findings past the first page as new. See: #6
    #[tokio::test]
    async fn every_page_of_findings_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("v.db")).await.unwrap();
        store.migrate(vigil_store::VULN_MIGRATIONS).await.unwrap();
        let t = TenantId::DEFAULT;
        let now = Timestamp::from_secs(1_800_000_000);
        let (asset, _) = asset_or_create(&store, t, "a1", now).await.unwrap();
        let r = Reference::from_records(Vec::new());
        let cfg = Settings::default();
        let hits: Vec<Hit> = (0..7).map(hit).collect();
        let s = reconcile(&store, t, &cfg, &r, &asset, "sbom", hits.clone(), now)
            .await
            .unwrap();
        assert_eq!(s.opened, 7);
        let q = FindingQuery::default();
        let got = findings_paged(&store, t, &q, 2).await.unwrap();
        assert_eq!(got.len(), 7);
        let mut ids: Vec<&str> = got.iter().map(|f| f.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 7);
        let s = reconcile(&store, t, &cfg, &r, &asset, "sbom", hits[..5].to_vec(), now)
            .await
            .unwrap();
        assert_eq!((s.opened, s.unchanged, s.fixed), (0, 5, 2));
    }
}

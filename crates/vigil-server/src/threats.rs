//! Threat register glue shared by `vigil threats|coverage` and the
//! `/api/v1/threats` routes: read the inputs from the store (the profile,
//! ATT&CK and imported STIX intel, MISP galaxy clusters, alert counts in
//! the activity window, assets, open findings, KEV) and hand them to the
//! `vigil-threats` engine; store galaxy imports, scenarios and score
//! history.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use vigil_intel::attack::{AttackKnowledge, technique_from_tag};
use vigil_model::{Principal, TenantId, Timestamp};
use vigil_store::{FindingQuery, GalaxyClusterRow, RuleRecord, ScoreRecord, Store};
use vigil_threats::actors::{self, Actor, Observations};
use vigil_threats::coverage::{CoverageIndex, RuleInfo};
use vigil_threats::galaxy::{self, Cluster};
use vigil_threats::region::Geo;
use vigil_threats::register::{Asset, Finding, Inputs, ScenarioAssessment, ScenarioSpec};
use vigil_threats::{Profile, dates};

use crate::intel::IntelError;

type Result<T> = std::result::Result<T, IntelError>;

/// STIX types the register reads.
const KINDS: &[&str] = &[
    "attack-pattern",
    "intrusion-set",
    "threat-actor",
    "campaign",
    "malware",
    "tool",
    "course-of-action",
    "x-mitre-tactic",
    "x-mitre-collection",
    "relationship",
    "vulnerability",
    "report",
    "identity",
    "location",
    "sighting",
];

/// The ATT&CK version written into Navigator layers when the stored
/// ATT&CK carries no collection object.
pub const DEFAULT_ATTACK_VERSION: &str = "18";

/// Everything the engine needs, read once.
#[derive(Debug)]
pub struct RegisterData {
    /// The validated profile (default when none is stored).
    pub profile: Profile,
    /// Whether a profile is stored.
    pub has_profile: bool,
    /// Countries and regions (built-in plus the `country` galaxy).
    pub geo: Geo,
    /// ATT&CK and the imported STIX intel (shared with the server's
    /// [`AttackCache`] while the stored objects are unchanged).
    pub attack: Arc<AttackKnowledge>,
    /// ATT&CK major version.
    pub attack_version: String,
    /// Merged actors.
    pub actors: Vec<Actor>,
    /// Rules by technique.
    pub coverage: CoverageIndex,
    /// Alerts per technique in the window.
    pub observations: Observations,
    /// Assets.
    pub assets: Vec<Asset>,
    /// Open findings.
    pub findings: Vec<Finding>,
    /// KEV CVEs with known ransomware use.
    pub kev_ransomware: BTreeSet<String>,
    /// Today (days since the epoch).
    pub today: i64,
    /// Technologies of the asset inventory (component names, operating
    /// systems) with their asset counts, most widespread first.
    pub inventory_technologies: Vec<(String, i64)>,
}

impl RegisterData {
    /// The engine's inputs.
    pub fn inputs(&self) -> Inputs<'_> {
        Inputs {
            profile: &self.profile,
            geo: &self.geo,
            actors: &self.actors,
            attack: &self.attack,
            coverage: &self.coverage,
            observations: &self.observations,
            assets: &self.assets,
            findings: &self.findings,
            kev_ransomware: &self.kev_ransomware,
            today: self.today,
        }
    }
}

/// The rule model's view of stored rules; `status` gives a rule's
/// `status` by id where the caller knows it (rule files).
pub fn rule_infos(records: &[RuleRecord], status: &BTreeMap<String, String>) -> Vec<RuleInfo> {
    records
        .iter()
        .map(|r| {
            let st = status.get(&r.id).cloned().or_else(|| {
                r.content
                    .as_deref()
                    .and_then(|c| statuses_in(c).remove(&r.id))
            });
            RuleInfo::new(
                &r.id,
                &r.title,
                r.effective_level(),
                st.as_deref(),
                r.enabled,
                r.effective_tags(),
            )
        })
        .collect()
}

/// `id → status` of the Sigma documents of a rule file, by a line scan of
/// its top-level `id:` and `status:` keys (documents split at `---`).
pub fn statuses_in(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut id: Option<String> = None;
    let mut status: Option<String> = None;
    let mut flush = |id: &mut Option<String>, status: &mut Option<String>| {
        if let (Some(i), Some(s)) = (id.take(), status.take()) {
            out.insert(i, s);
        }
    };
    for line in text.lines() {
        if line.starts_with("---") {
            flush(&mut id, &mut status);
            continue;
        }
        let val = |k: &str| {
            line.strip_prefix(k)
                .map(|v| v.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
        };
        if let Some(v) = val("id:") {
            id = Some(v);
        } else if let Some(v) = val("status:") {
            status = Some(v);
        }
    }
    flush(&mut id, &mut status);
    out
}

/// The galaxies the register reads.
pub const GALAXIES: &[&str] = &["threat-actor", "mitre-intrusion-set", "country"];

/// Parses a galaxy cluster file and stores its clusters when the galaxy is
/// one the register reads ([`GALAXIES`]); returns `(galaxy, clusters
/// stored, entries skipped)`; clusters of other galaxies are not stored.
pub async fn import_galaxy(
    store: &Store,
    tenant: TenantId,
    bytes: &[u8],
    source: &str,
    now: Timestamp,
) -> Result<(String, usize, usize)> {
    let (clusters, skipped) =
        galaxy::parse_clusters(bytes, source).map_err(|e| IntelError::Invalid(e.to_string()))?;
    let kind = clusters
        .first()
        .map(|c| c.galaxy.clone())
        .unwrap_or_default();
    if !GALAXIES.contains(&kind.as_str()) {
        return Ok((kind, 0, skipped));
    }
    let rows: Vec<GalaxyClusterRow> = clusters
        .iter()
        .map(|c| {
            Ok(GalaxyClusterRow {
                galaxy: c.galaxy.clone(),
                uuid: c.uuid.clone(),
                value: c.value.clone(),
                body: serde_json::to_value(c).map_err(|e| IntelError::Invalid(e.to_string()))?,
            })
        })
        .collect::<Result<_>>()?;
    let n = store
        .upsert_galaxy_clusters(tenant, &rows, source, now)
        .await?;
    Ok((kind, n.min(rows.len()), skipped))
}

/// Validates and stores a profile.
pub async fn put_profile(
    store: &Store,
    tenant: TenantId,
    profile: Profile,
    by: &Principal,
    now: Timestamp,
) -> Result<Profile> {
    let mut geo = Geo::builtin();
    geo.extend_from_galaxy(&clusters(store, tenant).await?);
    let p = profile
        .validate(&geo)
        .map_err(|e| IntelError::Invalid(e.to_string()))?;
    let body = serde_json::to_value(&p).map_err(|e| IntelError::Invalid(e.to_string()))?;
    store.put_threat_profile(tenant, &body, by, now).await?;
    Ok(p)
}

async fn clusters(store: &Store, tenant: TenantId) -> Result<Vec<Cluster>> {
    Ok(store
        .list_galaxy_clusters(tenant)
        .await?
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// What the server keeps of the stored STIX objects per tenant: the
/// ATT&CK knowledge built from them (the register's costliest input —
/// every object read, parsed and linked) and its version, with the
/// fingerprint of the objects it was built from.
#[derive(Default)]
pub struct AttackCache {
    cells: Mutex<HashMap<TenantId, CachedAttack>>,
}

/// A cached build: the objects' fingerprint, the knowledge, the version.
type CachedAttack = ((i64, i64, i64), Arc<AttackKnowledge>, String);

impl std::fmt::Debug for AttackCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttackCache").finish_non_exhaustive()
    }
}

/// The ATT&CK knowledge of the stored STIX objects and its major version;
/// from `cache` when the objects have not changed since it was built.
async fn attack_knowledge(
    store: &Store,
    tenant: TenantId,
    cache: Option<&AttackCache>,
) -> Result<(Arc<AttackKnowledge>, String)> {
    let fingerprint = match cache {
        Some(c) => {
            let fp = store.stix_fingerprint(tenant, KINDS).await?;
            let cells = c.cells.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((f, attack, version)) = cells.get(&tenant)
                && *f == fp
            {
                return Ok((attack.clone(), version.clone()));
            }
            Some(fp)
        }
        None => None,
    };
    let objects = store.latest_stix_objects_of_kinds(tenant, KINDS).await?;
    let attack_version = objects
        .iter()
        .filter(|o| o["type"] == "x-mitre-collection")
        .filter_map(|o| o["x_mitre_version"].as_str())
        .filter_map(|v| v.split('.').next())
        .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
        .unwrap_or(DEFAULT_ATTACK_VERSION)
        .to_string();
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000000",
        "objects": objects,
    });
    let bytes = serde_json::to_vec(&bundle).map_err(|e| IntelError::Invalid(e.to_string()))?;
    let mut attack = AttackKnowledge::new();
    if !objects_empty(&bundle) {
        attack
            .load(&bytes, "store")
            .map_err(|e| IntelError::Invalid(e.to_string()))?;
    }
    let attack = Arc::new(attack);
    if let (Some(c), Some(fp)) = (cache, fingerprint) {
        let mut cells = c.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.insert(tenant, (fp, attack.clone(), attack_version.clone()));
    }
    Ok((attack, attack_version))
}

/// Reads every input of the register; the ATT&CK knowledge from `cache`
/// when given and still current.
pub async fn load(
    store: &Store,
    tenant: TenantId,
    rules: Vec<RuleInfo>,
    now: Timestamp,
    cache: Option<&AttackCache>,
) -> Result<RegisterData> {
    let clusters = clusters(store, tenant).await?;
    let mut geo = Geo::builtin();
    geo.extend_from_galaxy(
        &clusters
            .iter()
            .filter(|c| c.galaxy == "country")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let stored = store.get_threat_profile(tenant).await?;
    let has_profile = stored.is_some();
    let profile = match stored {
        Some(p) => serde_json::from_value::<Profile>(p.body)
            .map_err(|e| IntelError::Invalid(format!("stored profile: {e}")))?,
        None => Profile::default(),
    };
    let (attack, attack_version) = attack_knowledge(store, tenant, cache).await?;
    let actors = actors::build(attack.graph(), &clusters);
    let today = dates::day_of_micros(now.as_micros());
    let window = i64::from(profile.activity_window_days);
    let since = Timestamp::from_micros(
        now.as_micros()
            .saturating_sub(window.saturating_mul(86_400_000_000)),
    );
    let mut observations = Observations {
        technique_alerts: technique_alerts(store, tenant, since).await?,
        ..Observations::default()
    };
    // Indicators naming an actor or its software, and their sightings in
    // the window.
    let links: Vec<actors::IndicatorLink> = store
        .related_indicator_links(tenant)
        .await?
        .into_iter()
        .map(|(related, sightings, last)| actors::IndicatorLink {
            sightings: if last.is_some_and(|t| t >= since) {
                u64::try_from(sightings).unwrap_or(0)
            } else {
                0
            },
            related,
        })
        .collect();
    actors::link_indicators(&actors, &links, &mut observations);
    let assets: Vec<Asset> = store
        .list_assets(tenant)
        .await?
        .into_iter()
        .map(|a| Asset {
            id: a.id,
            name: a.asset.name,
            criticality: a.asset.criticality,
            exposure: a.asset.exposure,
            data_classes: a.asset.data_classes,
        })
        .collect();
    let mut findings = Vec::new();
    let mut q = FindingQuery {
        statuses: vec!["open".into(), "reopened".into()],
        ..FindingQuery::default()
    };
    loop {
        let page = store.list_findings(tenant, &q).await?;
        let Some(last) = page.last().map(|f| f.id.clone()) else {
            break;
        };
        for f in page {
            let mut ids = f.aliases;
            ids.push(f.vulnerability);
            findings.push(Finding {
                id: f.id,
                asset_id: f.asset_id,
                ids,
            });
        }
        q.after = Some(last);
    }
    let kev_ransomware = store
        .list_kev()
        .await?
        .into_iter()
        .filter(|k| k.ransomware.eq_ignore_ascii_case("known"))
        .map(|k| k.cve)
        .collect();
    let inventory_technologies = store.inventory_technologies(tenant).await?;
    Ok(RegisterData {
        inventory_technologies,
        profile,
        has_profile,
        geo,
        attack,
        attack_version,
        actors,
        coverage: CoverageIndex::new(rules),
        observations,
        assets,
        findings,
        kev_ransomware,
        today,
    })
}

/// Alerts created at or after `since` per ATT&CK technique (from their
/// `attack.tNNNN` tags); a sub-technique's alerts count for its parent
/// too, once per alert.
pub async fn technique_alerts(
    store: &Store,
    tenant: TenantId,
    since: Timestamp,
) -> Result<BTreeMap<String, u64>> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for (_, tags, n) in store.alert_tag_counts(tenant, since).await? {
        let n = u64::try_from(n).unwrap_or(0);
        let techs: BTreeSet<String> = tags.iter().filter_map(|t| technique_from_tag(t)).collect();
        let mut hit = BTreeSet::new();
        for t in techs {
            if let Some((parent, _)) = t.split_once('.') {
                hit.insert(parent.to_string());
            }
            hit.insert(t);
        }
        for t in hit {
            *out.entry(t).or_default() += n;
        }
    }
    Ok(out)
}

fn objects_empty(b: &serde_json::Value) -> bool {
    b["objects"].as_array().is_none_or(Vec::is_empty)
}

/// The spec of a stored scenario.
pub fn spec_of(rec: &vigil_store::ScenarioRecord) -> ScenarioSpec {
    let mut spec: ScenarioSpec =
        serde_json::from_value(rec.scenario.spec.clone()).unwrap_or_default();
    spec.id.clone_from(&rec.scenario.id);
    spec.title.clone_from(&rec.scenario.title);
    spec
}

/// Scores every stored scenario and records the scores at `now`.
pub async fn score_scenarios(
    store: &Store,
    tenant: TenantId,
    data: &RegisterData,
    now: Timestamp,
) -> Result<Vec<(vigil_store::ScenarioRecord, ScenarioAssessment)>> {
    let inputs = data.inputs();
    let mut out = Vec::new();
    let mut scores = Vec::new();
    for rec in store.list_scenarios(tenant).await? {
        let a = inputs.assess_scenario(&spec_of(&rec));
        scores.push(ScoreRecord {
            scenario: rec.scenario.id.clone(),
            at: now,
            likelihood: (a.likelihood.value * 100.0).round() as i64,
            impact: (a.impact.value * 100.0).round() as i64,
            risk: i64::from(a.risk),
            inputs: serde_json::json!({
                "likelihood": a.likelihood.factors,
                "impact": a.impact.factors,
            }),
        });
        out.push((rec, a));
    }
    store.record_scenario_scores(tenant, &scores).await?;
    Ok(out)
}

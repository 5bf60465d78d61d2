//! ATT&CK glue shared by `vigil attack import|show` and the technique
//! route: an ATT&CK STIX bundle (2.0 or 2.1, gzip or not) is stored in the
//! STIX graph (objects by version, relationships) with each object's
//! ATT&CK id; a technique is shown from its stored neighbourhood — tactics,
//! parent and sub-techniques, the groups and software that use it, its
//! mitigations and data components (revoked and deprecated objects left
//! out, a revoked technique followed to its replacement) — plus the Sigma
//! rules whose `attack.tNNNN` tags name it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;
use vigil_intel::attack::{AttackKind, AttackKnowledge, AttackObject, technique_from_tag};
use vigil_model::{TenantId, Timestamp};
use vigil_store::{RuleRecord, Store};

use crate::intel::{ImportItemError, IntelError, stix_record_of};

type Result<T> = std::result::Result<T, IntelError>;

/// `technique`, `group`, … as stored.
fn kind_name(k: AttackKind) -> &'static str {
    match k {
        AttackKind::Tactic => "tactic",
        AttackKind::Technique => "technique",
        AttackKind::Group => "group",
        AttackKind::Software => "software",
        AttackKind::Mitigation => "mitigation",
        AttackKind::Campaign => "campaign",
        AttackKind::Detection => "detection",
    }
}

/// Counts of one ATT&CK kind in an import.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct KindCount {
    /// Current objects.
    pub active: usize,
    /// Revoked or deprecated objects (stored, never shown as current).
    pub revoked_or_deprecated: usize,
}

/// What an ATT&CK import did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct AttackImport {
    /// Objects read per STIX type.
    pub objects: BTreeMap<String, usize>,
    /// ATT&CK objects per kind (tactic, technique, group, software,
    /// mitigation, campaign, detection: data components, detection
    /// strategies and analytics).
    pub attack: BTreeMap<String, KindCount>,
    /// Sub-techniques among the current techniques.
    pub subtechniques: usize,
    /// New STIX object versions stored.
    pub stix_objects_added: usize,
    /// Versions already stored.
    pub stix_objects_unchanged: usize,
    /// Rejected objects; the rest was imported.
    pub errors: Vec<ImportItemError>,
}

/// Imports an ATT&CK bundle (idempotent).
pub async fn import_attack(
    store: &Store,
    tenant: TenantId,
    bytes: &[u8],
    source: &str,
    now: Timestamp,
) -> Result<AttackImport> {
    let mut kb = AttackKnowledge::new();
    let report = kb
        .load(bytes, source)
        .map_err(|e| IntelError::Invalid(e.to_string()))?;
    let mut attack: BTreeMap<String, KindCount> = BTreeMap::new();
    for (k, (a, r)) in kb.counts() {
        attack.insert(
            kind_name(k).into(),
            KindCount {
                active: a,
                revoked_or_deprecated: r,
            },
        );
    }
    let subtechniques = kb
        .list(AttackKind::Technique)
        .filter(|t| t.is_subtechnique)
        .count();
    let objects: Vec<_> = kb
        .graph()
        .objects()
        .map(|o| stix_record_of(o, source))
        .collect();
    let mut ids = Vec::new();
    for o in kb.graph().objects() {
        if let Some(a) = kb.get(&o.id)
            && a.id != o.id
        {
            ids.push((o.id.clone(), a.id.clone(), kind_name(a.kind).to_string()));
        }
    }
    let st = store.upsert_stix_objects(tenant, &objects, now).await?;
    store.upsert_attack_ids(tenant, &ids).await?;
    Ok(AttackImport {
        objects: report.objects,
        attack,
        subtechniques,
        stix_objects_added: st.added,
        stix_objects_unchanged: st.unchanged,
        errors: report
            .errors
            .into_iter()
            .map(|e| ImportItemError {
                source: e.source,
                id: e.id,
                reason: e.reason,
            })
            .collect(),
    })
}

/// An ATT&CK object in a technique view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttackRef {
    /// ATT&CK id (`G0016`, `S0002`, `M1038`, `TA0002`, …).
    pub id: String,
    /// Name.
    pub name: String,
    /// STIX id.
    pub stix_id: String,
    /// For software: `malware` or `tool`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_type: Option<String>,
}

impl From<&AttackObject> for AttackRef {
    fn from(o: &AttackObject) -> Self {
        AttackRef {
            id: o.id.clone(),
            name: o.name.clone(),
            stix_id: o.stix_id.clone(),
            software_type: o.software_type.clone(),
        }
    }
}

/// A Sigma rule that detects a technique (by its `attack.tNNNN` tags).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectingRule {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Effective level.
    pub level: Option<String>,
    /// `builtin`, `dir` or `api`.
    pub source: String,
    /// Whether detectors use it.
    pub enabled: bool,
    /// The technique its tag names (the technique or one of its
    /// sub-techniques).
    pub technique: String,
}

/// A technique with its context.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TechniqueDto {
    /// ATT&CK id (`T1059` or `T1059.001`).
    pub id: String,
    /// Name.
    pub name: String,
    /// STIX id.
    pub stix_id: String,
    /// The id asked for when it was revoked and replaced by this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// True for a sub-technique.
    pub is_subtechnique: bool,
    /// The parent technique of a sub-technique.
    pub parent: Option<AttackRef>,
    /// Sub-techniques.
    pub subtechniques: Vec<AttackRef>,
    /// ATT&CK domains (`enterprise-attack`, …).
    pub domains: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Tactics.
    pub tactics: Vec<AttackRef>,
    /// Groups (and campaigns) that use it.
    pub groups: Vec<AttackRef>,
    /// Software that uses it.
    pub software: Vec<AttackRef>,
    /// Mitigations.
    pub mitigations: Vec<AttackRef>,
    /// Data components (and detection strategies) that detect it.
    pub data_components: Vec<AttackRef>,
    /// Loaded Sigma rules tagged with it or one of its sub-techniques.
    pub rules: Vec<DetectingRule>,
}

/// Reads the neighbourhood of `stix_ids` (relationships touching them, the
/// objects at their other ends) into `objects`; returns the relationship
/// targets of `revoked-by` edges out of `stix_ids`.
async fn neighbourhood(
    store: &Store,
    tenant: TenantId,
    stix_ids: &[String],
    objects: &mut BTreeMap<String, serde_json::Value>,
) -> Result<Vec<String>> {
    let rels = store.stix_relationships_touching(tenant, stix_ids).await?;
    let rel_objs = store.latest_stix_objects(tenant, &rels).await?;
    let mut ends = BTreeSet::new();
    let mut replaced_by = Vec::new();
    for r in &rel_objs {
        let (Some(s), Some(t)) = (r["source_ref"].as_str(), r["target_ref"].as_str()) else {
            continue;
        };
        ends.insert(s.to_string());
        ends.insert(t.to_string());
        if r["relationship_type"] == "revoked-by" && stix_ids.iter().any(|i| i == s) {
            replaced_by.push(t.to_string());
        }
    }
    for r in rel_objs {
        if let Some(id) = r["id"].as_str() {
            objects.insert(id.to_string(), r.clone());
        }
    }
    ends.extend(stix_ids.iter().cloned());
    let missing: Vec<String> = ends
        .into_iter()
        .filter(|e| !objects.contains_key(e))
        .collect();
    for o in store.latest_stix_objects(tenant, &missing).await? {
        if let Some(id) = o["id"].as_str() {
            objects.insert(id.to_string(), o.clone());
        }
    }
    Ok(replaced_by)
}

/// The technique `id` (`T1059`, `t1059.001`, or a STIX id) from the stored
/// ATT&CK objects, with the rules of `rules` that detect it; `None` when no
/// such technique is stored.
pub async fn technique(
    store: &Store,
    tenant: TenantId,
    id: &str,
    rules: &[RuleRecord],
) -> Result<Option<TechniqueDto>> {
    let want = technique_from_tag(id).unwrap_or_else(|| id.trim().to_string());
    let mut stix_ids = store.attack_stix_ids(tenant, &want).await?;
    if stix_ids.is_empty() && want.starts_with("attack-pattern--") {
        stix_ids.push(want.clone());
    }
    if stix_ids.is_empty() {
        return Ok(None);
    }
    let mut objects = BTreeMap::new();
    let replaced = neighbourhood(store, tenant, &stix_ids, &mut objects).await?;
    if !replaced.is_empty() {
        neighbourhood(store, tenant, &replaced, &mut objects).await?;
    }
    // The parent's and sub-techniques' names come with the edges; tactics
    // are few, read them all.
    let tactics = store.stix_ids_of_kind(tenant, "x-mitre-tactic").await?;
    for o in store.latest_stix_objects(tenant, &tactics).await? {
        if let Some(id) = o["id"].as_str() {
            objects.insert(id.to_string(), o.clone());
        }
    }
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000000",
        "objects": objects.into_values().collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&bundle).map_err(|e| IntelError::Invalid(e.to_string()))?;
    let mut kb = AttackKnowledge::new();
    kb.load(&bytes, "store")
        .map_err(|e| IntelError::Invalid(e.to_string()))?;
    let Some(v) = kb
        .technique(&want)
        .or_else(|| stix_ids.iter().find_map(|s| kb.technique(s)))
    else {
        return Ok(None);
    };
    let t = v.technique;
    let refs = |xs: &[&AttackObject]| -> Vec<AttackRef> {
        let mut out: Vec<AttackRef> = xs.iter().map(|o| AttackRef::from(*o)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.dedup_by(|a, b| a.id == b.id);
        out
    };
    let mut detecting: Vec<DetectingRule> = Vec::new();
    for r in rules {
        let hit = r.effective_tags().iter().find_map(|tag| {
            let tech = technique_from_tag(tag)?;
            (tech == t.id || tech.starts_with(&format!("{}.", t.id))).then_some(tech)
        });
        if let Some(tech) = hit {
            detecting.push(DetectingRule {
                id: r.id.clone(),
                title: r.title.clone(),
                level: r.effective_level().map(str::to_string),
                source: r.source.as_str().to_string(),
                enabled: r.enabled,
                technique: tech,
            });
        }
    }
    detecting.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Some(TechniqueDto {
        id: t.id.clone(),
        name: t.name.clone(),
        stix_id: t.stix_id.clone(),
        replaces: (t.id != want && !want.starts_with("attack-pattern--")).then(|| want.clone()),
        is_subtechnique: t.is_subtechnique,
        parent: v.parent.map(AttackRef::from),
        subtechniques: refs(&v.subtechniques),
        domains: t.domains.clone(),
        platforms: t.platforms.clone(),
        tactics: refs(&v.tactics),
        groups: refs(&v.groups),
        software: refs(&v.software),
        mitigations: refs(&v.mitigations),
        data_components: refs(&v.detections),
        rules: detecting,
    }))
}

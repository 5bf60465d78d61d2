//! MITRE ATT&CK knowledge from its STIX bundles (enterprise and mobile as
//! STIX 2.0, ICS as 2.1, gzip or not): tactics, techniques and
//! sub-techniques, groups with aliases, software, mitigations, data
//! components / detection strategies, and the `uses`, `mitigates`,
//! `subtechnique-of`, `detects` and `revoked-by` relationships. Revoked and
//! deprecated objects are kept and flagged; lists leave them out and
//! [`AttackKnowledge::resolve`] follows `revoked-by`.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Result;
use crate::report::ImportReport;
use crate::stix::{self, ImportOptions, KnowledgeGraph, StixObject};

/// What kind of ATT&CK object an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    /// `x-mitre-tactic` (TA…).
    Tactic,
    /// `attack-pattern` (T…).
    Technique,
    /// `intrusion-set` (G…).
    Group,
    /// `malware` / `tool` (S…).
    Software,
    /// `course-of-action` (M…).
    Mitigation,
    /// `campaign` (C…).
    Campaign,
    /// `x-mitre-data-component`, `x-mitre-detection-strategy`, analytics.
    Detection,
}

/// One ATT&CK object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackObject {
    /// ATT&CK id (`T1059.001`, `G0007`, `S0154`, `M1038`, `TA0002`), or the
    /// STIX id when the object has none.
    pub id: String,
    /// STIX id.
    pub stix_id: String,
    /// What it is.
    pub kind: AttackKind,
    /// Name.
    pub name: String,
    /// Aliases (groups, software).
    pub aliases: Vec<String>,
    /// `enterprise-attack`, `mobile-attack`, `ics-attack`.
    pub domains: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Tactic shortnames (techniques), or the shortname (tactics).
    pub tactics: Vec<String>,
    /// Sub-technique flag.
    pub is_subtechnique: bool,
    /// `malware` or `tool` for software.
    pub software_type: Option<String>,
    /// Revoked.
    pub revoked: bool,
    /// Deprecated.
    pub deprecated: bool,
}

impl AttackObject {
    /// Neither revoked nor deprecated.
    pub fn is_active(&self) -> bool {
        !self.revoked && !self.deprecated
    }
}

/// A technique with everything around it.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueView<'a> {
    /// The technique.
    pub technique: &'a AttackObject,
    /// Its parent, for a sub-technique.
    pub parent: Option<&'a AttackObject>,
    /// Its sub-techniques.
    pub subtechniques: Vec<&'a AttackObject>,
    /// Its tactics.
    pub tactics: Vec<&'a AttackObject>,
    /// Groups (and campaigns) that use it.
    pub groups: Vec<&'a AttackObject>,
    /// Software that uses it.
    pub software: Vec<&'a AttackObject>,
    /// Mitigations.
    pub mitigations: Vec<&'a AttackObject>,
    /// Data components / detection strategies that detect it.
    pub detections: Vec<&'a AttackObject>,
}

/// ATT&CK across the loaded domains.
#[derive(Debug, Default, Clone)]
pub struct AttackKnowledge {
    graph: KnowledgeGraph,
    objects: BTreeMap<String, AttackObject>,
    by_stix: FxHashMap<String, String>,
    /// (relationship type, source ATT&CK id) → target ids, and reverse.
    out_edges: FxHashMap<(String, String), BTreeSet<String>>,
    in_edges: FxHashMap<(String, String), BTreeSet<String>>,
}

fn strs(o: &Value, key: &str) -> Vec<String> {
    o.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn kind_of(t: &str) -> Option<AttackKind> {
    Some(match t {
        "x-mitre-tactic" => AttackKind::Tactic,
        "attack-pattern" => AttackKind::Technique,
        "intrusion-set" => AttackKind::Group,
        "malware" | "tool" => AttackKind::Software,
        "course-of-action" => AttackKind::Mitigation,
        "campaign" => AttackKind::Campaign,
        "x-mitre-data-component" | "x-mitre-detection-strategy" | "x-mitre-analytic" => {
            AttackKind::Detection
        }
        _ => return None,
    })
}

fn to_attack(o: &StixObject) -> Option<AttackObject> {
    let kind = kind_of(&o.kind)?;
    let j = &o.json;
    let id = o
        .external_id("mitre")
        .map_or_else(|| o.id.clone(), str::to_string);
    let mut aliases = strs(j, "aliases");
    aliases.extend(strs(j, "x_mitre_aliases"));
    aliases.retain(|a| Some(a.as_str()) != o.name.as_deref());
    let tactics = if kind == AttackKind::Tactic {
        o.str("x_mitre_shortname")
            .map(|s| vec![s.to_string()])
            .unwrap_or_default()
    } else {
        j.get("kill_chain_phases")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|p| {
                        p.get("kill_chain_name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.starts_with("mitre"))
                    })
                    .filter_map(|p| {
                        p.get("phase_name")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(AttackObject {
        id,
        stix_id: o.id.clone(),
        kind,
        name: o.name.clone().unwrap_or_default(),
        aliases,
        domains: strs(j, "x_mitre_domains"),
        platforms: strs(j, "x_mitre_platforms"),
        tactics,
        is_subtechnique: j
            .get("x_mitre_is_subtechnique")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        software_type: (kind == AttackKind::Software).then(|| o.kind.clone()),
        revoked: o.revoked,
        deprecated: o.deprecated,
    })
}

/// `attack.t1059.001` / `T1059` → `T1059.001` / `T1059` (Sigma tags).
pub fn technique_from_tag(tag: &str) -> Option<String> {
    let t = tag.trim();
    let t = t.strip_prefix("attack.").unwrap_or(t);
    let rest = t.strip_prefix(['t', 'T'])?;
    let (main, sub) = rest
        .split_once('.')
        .map_or((rest, None), |(a, b)| (a, Some(b)));
    if main.len() != 4 || !main.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match sub {
        None => Some(format!("T{main}")),
        Some(s) if s.len() == 3 && s.bytes().all(|c| c.is_ascii_digit()) => {
            Some(format!("T{main}.{s}"))
        }
        Some(_) => None,
    }
}

impl AttackKnowledge {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads one ATT&CK bundle (gzip or not) into the knowledge; loading the
    /// same bundle again changes nothing, a newer `modified` replaces.
    pub fn load(&mut self, bytes: &[u8], source: &str) -> Result<ImportReport> {
        let imp = stix::parse_bundle(bytes, source, &ImportOptions::default())?;
        let mut report = imp.report;
        // ATT&CK bundles carry no matchable indicators; keep counts clean.
        report.indicators.clear();
        self.graph.merge(imp.objects);
        self.rebuild();
        Ok(report)
    }

    /// The underlying STIX objects.
    pub fn graph(&self) -> &KnowledgeGraph {
        &self.graph
    }

    fn rebuild(&mut self) {
        self.objects.clear();
        self.by_stix.clear();
        self.out_edges.clear();
        self.in_edges.clear();
        for o in self.graph.objects() {
            if let Some(a) = to_attack(o) {
                self.by_stix.insert(a.stix_id.clone(), a.id.clone());
                // several STIX objects may share an ATT&CK id when one is
                // revoked: the active one wins
                match self.objects.get(&a.id) {
                    Some(cur) if cur.is_active() && !a.is_active() => {}
                    _ => {
                        self.objects.insert(a.id.clone(), a);
                    }
                }
            }
        }
        let mut edges = Vec::new();
        for (rt, s, t, _) in self.graph.relationships() {
            if let (Some(s), Some(t)) = (self.by_stix.get(s), self.by_stix.get(t)) {
                edges.push((rt.to_string(), s.clone(), t.clone()));
            }
        }
        for (rt, s, t) in edges {
            self.out_edges
                .entry((rt.clone(), s.clone()))
                .or_default()
                .insert(t.clone());
            self.in_edges.entry((rt, t)).or_default().insert(s);
        }
    }

    /// An object by ATT&CK id (or STIX id).
    pub fn get(&self, id: &str) -> Option<&AttackObject> {
        self.objects
            .get(id)
            .or_else(|| self.by_stix.get(id).and_then(|a| self.objects.get(a)))
    }

    /// Follows `revoked-by` (bounded) to the current object.
    pub fn resolve(&self, id: &str) -> Option<&AttackObject> {
        let mut cur = self.get(id)?;
        for _ in 0..8 {
            if !cur.revoked {
                break;
            }
            let Some(next) = self
                .out_edges
                .get(&("revoked-by".to_string(), cur.id.clone()))
                .and_then(|s| s.iter().next())
                .and_then(|n| self.objects.get(n))
            else {
                break;
            };
            cur = next;
        }
        Some(cur)
    }

    /// Active objects of one kind.
    pub fn list(&self, kind: AttackKind) -> impl Iterator<Item = &AttackObject> {
        self.objects
            .values()
            .filter(move |o| o.kind == kind && o.is_active())
    }

    /// Counts per kind: (active, revoked or deprecated).
    pub fn counts(&self) -> BTreeMap<AttackKind, (usize, usize)> {
        let mut m: BTreeMap<AttackKind, (usize, usize)> = BTreeMap::new();
        for o in self.objects.values() {
            let e = m.entry(o.kind).or_default();
            if o.is_active() {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        m
    }

    fn related(&self, rt: &str, id: &str, outgoing: bool) -> Vec<&AttackObject> {
        let edges = if outgoing {
            &self.out_edges
        } else {
            &self.in_edges
        };
        edges
            .get(&(rt.to_string(), id.to_string()))
            .into_iter()
            .flatten()
            .filter_map(|x| self.objects.get(x))
            .filter(|o| o.is_active())
            .collect()
    }

    /// A group by name or alias (case-insensitive).
    pub fn group_by_name(&self, name: &str) -> Option<&AttackObject> {
        self.list(AttackKind::Group).find(|g| {
            g.name.eq_ignore_ascii_case(name)
                || g.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// Techniques (and software) a group or software uses.
    pub fn uses(&self, id: &str) -> Vec<&AttackObject> {
        self.related("uses", id, true)
    }

    /// A technique with its tactics, users, mitigations and detections.
    pub fn technique(&self, id: &str) -> Option<TechniqueView<'_>> {
        let t = self.resolve(id)?;
        if t.kind != AttackKind::Technique {
            return None;
        }
        let domains: BTreeSet<&str> = t.domains.iter().map(String::as_str).collect();
        let tactics = self
            .list(AttackKind::Tactic)
            .filter(|ta| {
                ta.tactics.iter().any(|s| t.tactics.contains(s))
                    && (domains.is_empty()
                        || ta.domains.iter().any(|d| domains.contains(d.as_str())))
            })
            .collect();
        let users = self.related("uses", &t.id, false);
        Some(TechniqueView {
            technique: t,
            parent: self
                .related("subtechnique-of", &t.id, true)
                .into_iter()
                .next(),
            subtechniques: self.related("subtechnique-of", &t.id, false),
            tactics,
            groups: users
                .iter()
                .filter(|o| matches!(o.kind, AttackKind::Group | AttackKind::Campaign))
                .copied()
                .collect(),
            software: users
                .iter()
                .filter(|o| o.kind == AttackKind::Software)
                .copied()
                .collect(),
            mitigations: self.related("mitigates", &t.id, false),
            detections: self.related("detects", &t.id, false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","spec_version":"2.0","objects":[
     {"type":"x-mitre-tactic","id":"x-mitre-tactic--00000000-0000-4000-8000-000000000001","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"Execution","x_mitre_shortname":"execution","x_mitre_domains":["enterprise-attack"],
      "external_references":[{"source_name":"mitre-attack","external_id":"TA0002"}]},
     {"type":"attack-pattern","id":"attack-pattern--00000000-0000-4000-8000-000000000002","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"Command and Scripting Interpreter","x_mitre_domains":["enterprise-attack"],
      "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],
      "external_references":[{"source_name":"mitre-attack","external_id":"T1059"}]},
     {"type":"attack-pattern","id":"attack-pattern--00000000-0000-4000-8000-000000000003","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"PowerShell","x_mitre_is_subtechnique":true,"x_mitre_domains":["enterprise-attack"],
      "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],
      "external_references":[{"source_name":"mitre-attack","external_id":"T1059.001"}]},
     {"type":"attack-pattern","id":"attack-pattern--00000000-0000-4000-8000-000000000004","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"Old","revoked":true,"external_references":[{"source_name":"mitre-attack","external_id":"T1086"}]},
     {"type":"intrusion-set","id":"intrusion-set--00000000-0000-4000-8000-000000000005","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"APT28","aliases":["APT28","Sofacy"],"external_references":[{"source_name":"mitre-attack","external_id":"G0007"}]},
     {"type":"course-of-action","id":"course-of-action--00000000-0000-4000-8000-000000000006","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"Execution Prevention","external_references":[{"source_name":"mitre-attack","external_id":"M1038"}]},
     {"type":"tool","id":"tool--00000000-0000-4000-8000-000000000007","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "name":"PsExec","x_mitre_deprecated":true,"external_references":[{"source_name":"mitre-attack","external_id":"S0029"}]},
     {"type":"relationship","id":"relationship--00000000-0000-4000-8000-000000000010","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "relationship_type":"subtechnique-of","source_ref":"attack-pattern--00000000-0000-4000-8000-000000000003","target_ref":"attack-pattern--00000000-0000-4000-8000-000000000002"},
     {"type":"relationship","id":"relationship--00000000-0000-4000-8000-000000000011","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "relationship_type":"uses","source_ref":"intrusion-set--00000000-0000-4000-8000-000000000005","target_ref":"attack-pattern--00000000-0000-4000-8000-000000000003"},
     {"type":"relationship","id":"relationship--00000000-0000-4000-8000-000000000012","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "relationship_type":"mitigates","source_ref":"course-of-action--00000000-0000-4000-8000-000000000006","target_ref":"attack-pattern--00000000-0000-4000-8000-000000000003"},
     {"type":"relationship","id":"relationship--00000000-0000-4000-8000-000000000013","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z",
      "relationship_type":"revoked-by","source_ref":"attack-pattern--00000000-0000-4000-8000-000000000004","target_ref":"attack-pattern--00000000-0000-4000-8000-000000000003"}
    ]}"#;

    #[test]
    fn technique_view() {
        let mut k = AttackKnowledge::new();
        let r = k.load(BUNDLE.as_bytes(), "test").unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let v = k.technique("T1059.001").unwrap();
        let names = |v: &[&AttackObject]| v.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
        assert_eq!(v.parent.map(|p| p.id.as_str()), Some("T1059"));
        assert_eq!(names(&v.tactics), ["TA0002"]);
        assert_eq!(names(&v.groups), ["G0007"]);
        assert_eq!(names(&v.mitigations), ["M1038"]);
        assert_eq!(
            names(&k.technique("T1059").unwrap().subtechniques),
            ["T1059.001"]
        );
        // revoked T1086 resolves to its replacement
        assert_eq!(k.technique("T1086").unwrap().technique.id, "T1059.001");
        assert_eq!(
            k.group_by_name("sofacy").map(|g| g.id.as_str()),
            Some("G0007")
        );
        assert_eq!(k.counts().get(&AttackKind::Software), Some(&(0, 1)));
        let before = k.counts();
        k.load(BUNDLE.as_bytes(), "test").unwrap();
        assert_eq!(k.counts(), before);
        assert_eq!(
            technique_from_tag("attack.t1059.001").as_deref(),
            Some("T1059.001")
        );
        assert_eq!(technique_from_tag("attack.execution"), None);
    }
}

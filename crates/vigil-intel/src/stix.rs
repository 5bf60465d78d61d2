//! STIX 2.0 and 2.1 bundles: every object kept in a [`KnowledgeGraph`]
//! (versions by `modified`, re-import idempotent), and indicator objects
//! whose pattern reduces to single observables turned into [`Indicator`]s
//! with their context (confidence, TLP, labels, kill chain, ATT&CK
//! techniques and related actors/malware through `indicates` relationships,
//! reports and sightings).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_model::Timestamp;

use crate::indicator::{Indicator, KillChainPhase, Tlp};
use crate::pattern::{self, Version};
use crate::report::ImportReport;
use crate::{Error, Result};

/// Options shared by the importers.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Confidence for indicators whose source gives none. By default, 50.
    pub default_confidence: u8,
    /// TLP for indicators whose source gives none. By default, none.
    pub default_tlp: Option<Tlp>,
    /// Bound on the (decompressed) input. By default,
    /// [`crate::DEFAULT_MAX_DECOMPRESSED`].
    pub max_bytes: usize,
    /// MISP: also import attributes without `to_ids`. By default, false.
    pub include_non_ids: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            default_confidence: 50,
            default_tlp: None,
            max_bytes: crate::DEFAULT_MAX_DECOMPRESSED,
            include_non_ids: false,
        }
    }
}

/// One STIX object (SDO, SRO, SCO, marking, extension, custom `x-…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StixObject {
    /// `type--uuid`.
    pub id: String,
    /// The object type.
    pub kind: String,
    /// `2.0` or `2.1`.
    pub spec_version: String,
    /// `created`.
    pub created: Option<Timestamp>,
    /// `modified` (the version).
    pub modified: Option<Timestamp>,
    /// `revoked`.
    pub revoked: bool,
    /// `x_mitre_deprecated`.
    pub deprecated: bool,
    /// `name`, where present.
    pub name: Option<String>,
    /// The whole object as read.
    pub json: Value,
}

impl StixObject {
    /// The version key: `modified`, else `created`.
    pub fn version(&self) -> Option<Timestamp> {
        self.modified.or(self.created)
    }

    /// A string property.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }

    /// The first `external_references[].external_id` whose source is
    /// `source` (`mitre-attack`, `cve`, …).
    pub fn external_id(&self, source: &str) -> Option<&str> {
        external_id(&self.json, source)
    }
}

fn external_id<'a>(o: &'a Value, source: &str) -> Option<&'a str> {
    o.get("external_references")?
        .as_array()?
        .iter()
        .filter(|r| {
            r.get("source_name")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with(source))
        })
        .find_map(|r| r.get("external_id").and_then(Value::as_str))
}

/// What merging objects into a graph did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GraphStats {
    /// New objects.
    pub added: usize,
    /// Newer versions that replaced older ones.
    pub updated: usize,
    /// Same version already present.
    pub unchanged: usize,
    /// Older versions than the one present (ignored).
    pub stale: usize,
}

/// STIX objects by id, latest version kept; relationships are objects too.
#[derive(Debug, Default, Clone)]
pub struct KnowledgeGraph {
    objects: BTreeMap<String, StixObject>,
}

impl KnowledgeGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Adds objects; a newer `modified` replaces, the same or older is kept.
    pub fn merge(&mut self, objs: impl IntoIterator<Item = StixObject>) -> GraphStats {
        let mut st = GraphStats::default();
        for o in objs {
            match self.objects.get_mut(&o.id) {
                None => {
                    st.added += 1;
                    self.objects.insert(o.id.clone(), o);
                }
                Some(cur) => match o.version().cmp(&cur.version()) {
                    std::cmp::Ordering::Greater => {
                        st.updated += 1;
                        *cur = o;
                    }
                    std::cmp::Ordering::Equal => st.unchanged += 1,
                    std::cmp::Ordering::Less => st.stale += 1,
                },
            }
        }
        st
    }

    /// The object with `id`.
    pub fn get(&self, id: &str) -> Option<&StixObject> {
        self.objects.get(id)
    }

    /// All objects, by id.
    pub fn objects(&self) -> impl Iterator<Item = &StixObject> {
        self.objects.values()
    }

    /// Objects of one type.
    pub fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a StixObject> + 'a {
        self.objects.values().filter(move |o| o.kind == kind)
    }

    /// Relationships as `(relationship_type, source_ref, target_ref, object)`.
    pub fn relationships(&self) -> impl Iterator<Item = (&str, &str, &str, &StixObject)> {
        self.of_type("relationship").filter_map(|o| {
            Some((
                o.str("relationship_type")?,
                o.str("source_ref")?,
                o.str("target_ref")?,
                o,
            ))
        })
    }

    /// Counts per type.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for o in self.objects.values() {
            *m.entry(o.kind.clone()).or_default() += 1;
        }
        m
    }
}

/// What [`parse_bundle`] read.
#[derive(Debug, Default)]
pub struct StixImport {
    /// Every well-formed object.
    pub objects: Vec<StixObject>,
    /// Indicators from matchable patterns.
    pub indicators: Vec<Indicator>,
    /// Counts and rejected objects.
    pub report: ImportReport,
}

/// Most objects accepted in one bundle.
pub const MAX_OBJECTS: usize = 2_000_000;

/// Reads a STIX 2.0/2.1 bundle (or a bare array of objects, or a single
/// object) from bytes, gzip or not. `source` names it in provenance and
/// errors. Fails only when the document as a whole is unreadable; a bad
/// object is reported with its id and reason and the rest are imported.
pub fn parse_bundle(bytes: &[u8], source: &str, opts: &ImportOptions) -> Result<StixImport> {
    let data = crate::decode_input(bytes, opts.max_bytes)?;
    let doc: Value = serde_json::from_slice(&data).map_err(|e| Error::json("STIX bundle", &e))?;
    let (bundle_version, items): (Option<String>, Vec<Value>) = match doc {
        Value::Array(a) => {
            if !a
                .iter()
                .any(|o| o.get("type").and_then(Value::as_str).is_some() && o.get("id").is_some())
            {
                return Err(Error::shape("STIX bundle", "an array without STIX objects"));
            }
            (None, a)
        }
        Value::Object(mut m) => match m.get("type").and_then(Value::as_str) {
            Some("bundle") => {
                let v = m
                    .get("spec_version")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match m.remove("objects") {
                    Some(Value::Array(a)) => (v, a),
                    None => (v, Vec::new()),
                    Some(_) => {
                        return Err(Error::shape("STIX bundle", "`objects` is not an array"));
                    }
                }
            }
            Some(_) if m.contains_key("id") => (None, vec![Value::Object(m)]),
            Some(_) => return Err(Error::shape("STIX bundle", "not a bundle or a STIX object")),
            // a TAXII 2.1 envelope: {"more": …, "objects": [...]}
            None => match m.remove("objects") {
                Some(Value::Array(a)) => (None, a),
                _ => return Err(Error::shape("STIX bundle", "no `type`")),
            },
        },
        _ => return Err(Error::shape("STIX bundle", "not an object or array")),
    };
    if items.len() > MAX_OBJECTS {
        return Err(Error::shape(
            "STIX bundle",
            format!("more than {MAX_OBJECTS} objects"),
        ));
    }
    let mut out = StixImport::default();
    for (i, item) in items.into_iter().enumerate() {
        match read_object(item, bundle_version.as_deref()) {
            Ok(o) => {
                out.report.count_object(&o.kind);
                out.objects.push(o);
            }
            Err((id, reason)) => {
                out.report.count_object("invalid");
                out.report.error(
                    source,
                    id.unwrap_or_else(|| format!("objects[{i}]")),
                    reason,
                );
            }
        }
    }
    extract_indicators(&mut out, source, opts);
    Ok(out)
}

fn read_object(
    v: Value,
    bundle_version: Option<&str>,
) -> std::result::Result<StixObject, (Option<String>, String)> {
    let Value::Object(m) = v else {
        return Err((None, "not a JSON object".into()));
    };
    let id = m.get("id").and_then(Value::as_str).map(str::to_string);
    let fail = |r: &str| (id.clone(), r.to_string());
    let Some(kind) = m.get("type").and_then(Value::as_str) else {
        return Err(fail("no `type`"));
    };
    let Some(idv) = id.as_deref() else {
        return Err(fail("no `id`"));
    };
    let Some((prefix, uuid)) = idv.split_once("--") else {
        return Err(fail("`id` is not `type--uuid`"));
    };
    if prefix != kind {
        return Err(fail("`id` prefix differs from `type`"));
    }
    if uuid.len() != 36 || !uuid.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') {
        return Err(fail("`id` does not end in a UUID"));
    }
    let ts = |key: &str| -> std::result::Result<Option<Timestamp>, (Option<String>, String)> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Timestamp::parse_rfc3339(s).map(Some).ok_or_else(|| {
                (
                    id.clone(),
                    format!("`{key}` is not an RFC 3339 timestamp: {s:?}"),
                )
            }),
            Some(_) => Err((id.clone(), format!("`{key}` is not a string"))),
        }
    };
    let created = ts("created")?;
    let modified = ts("modified")?;
    if kind == "indicator" && !m.contains_key("pattern") {
        return Err(fail("indicator without `pattern`"));
    }
    if kind == "relationship"
        && (m.get("source_ref").and_then(Value::as_str).is_none()
            || m.get("target_ref").and_then(Value::as_str).is_none())
    {
        return Err(fail("relationship without `source_ref`/`target_ref`"));
    }
    let spec_version = m
        .get("spec_version")
        .and_then(Value::as_str)
        .or(bundle_version)
        .unwrap_or("2.1")
        .to_string();
    Ok(StixObject {
        id: idv.to_string(),
        kind: kind.to_string(),
        spec_version,
        created,
        modified,
        revoked: m.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        deprecated: m
            .get("x_mitre_deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        name: m.get("name").and_then(Value::as_str).map(str::to_string),
        json: Value::Object(m),
    })
}

fn strings(o: &Value, key: &str) -> Vec<String> {
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

#[derive(Default)]
struct Context {
    techniques: Vec<String>,
    related: Vec<String>,
    sightings: u64,
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
}

fn extract_indicators(out: &mut StixImport, source: &str, opts: &ImportOptions) {
    let by_id: FxHashMap<&str, &StixObject> =
        out.objects.iter().map(|o| (o.id.as_str(), o)).collect();
    // TLP of marking definitions in the bundle
    let mut tlp_of: FxHashMap<&str, Tlp> = FxHashMap::default();
    for o in out
        .objects
        .iter()
        .filter(|o| o.kind == "marking-definition")
    {
        let t = o
            .json
            .get("definition")
            .and_then(|d| d.get("tlp"))
            .and_then(Value::as_str)
            .and_then(Tlp::parse)
            .or_else(|| o.name.as_deref().and_then(Tlp::parse));
        if let Some(t) = t {
            tlp_of.insert(o.id.as_str(), t);
        }
    }
    let related_name = |id: &str| -> Option<(bool, String)> {
        let o = by_id.get(id)?;
        match o.kind.as_str() {
            "attack-pattern" => Some((true, o.external_id("mitre")?.to_string())),
            "malware" | "threat-actor" | "intrusion-set" | "campaign" | "tool" => {
                Some((false, o.name.clone()?))
            }
            _ => None,
        }
    };
    let mut ctx: FxHashMap<&str, Context> = FxHashMap::default();
    for o in &out.objects {
        match o.kind.as_str() {
            "relationship" => {
                let (Some(s), Some(t)) = (o.str("source_ref"), o.str("target_ref")) else {
                    continue;
                };
                if !s.starts_with("indicator--") {
                    continue;
                }
                if let Some((tech, name)) = related_name(t) {
                    let c = ctx.entry(s).or_default();
                    if tech {
                        c.techniques.push(name)
                    } else {
                        c.related.push(name)
                    }
                }
            }
            "report" | "grouping" => {
                let refs = o.json.get("object_refs").and_then(Value::as_array);
                let refs: Vec<&str> = refs
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let names: Vec<String> = refs
                    .iter()
                    .filter_map(|r| related_name(r))
                    .filter(|(tech, _)| !tech)
                    .map(|(_, n)| n)
                    .collect();
                if names.is_empty() {
                    continue;
                }
                for r in refs.iter().filter(|r| r.starts_with("indicator--")) {
                    ctx.entry(r)
                        .or_default()
                        .related
                        .extend(names.iter().cloned());
                }
            }
            "sighting" => {
                let Some(t) = o.str("sighting_of_ref") else {
                    continue;
                };
                let c = ctx.entry(t).or_default();
                c.sightings += o.json.get("count").and_then(Value::as_u64).unwrap_or(1);
                let f = o.str("first_seen").and_then(Timestamp::parse_rfc3339);
                let l = o.str("last_seen").and_then(Timestamp::parse_rfc3339);
                c.first_seen = match (c.first_seen, f) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                c.last_seen = c.last_seen.max(l);
            }
            _ => {}
        }
    }
    let mut indicators = Vec::new();
    for o in out.objects.iter().filter(|o| o.kind == "indicator") {
        let pt = o.str("pattern_type").unwrap_or("stix");
        if pt != "stix" {
            out.report.patterns_not_matchable += 1;
            continue;
        }
        let Some(src) = o.str("pattern") else {
            continue;
        };
        let version = if o.spec_version == "2.0" {
            Version::V20
        } else {
            Version::V21
        };
        let parsed = match pattern::parse_version(src, version) {
            Ok(p) => p,
            Err(e) => {
                out.report.error(source, &o.id, format!("pattern: {e}"));
                continue;
            }
        };
        let Some(obs) = parsed.observables() else {
            out.report.patterns_not_matchable += 1;
            continue;
        };
        out.report.patterns_matchable += 1;
        let c = ctx.get(o.id.as_str());
        for ob in obs {
            let mut ind = match Indicator::new(ob.kind, &ob.value, source, Some(&o.id)) {
                Ok(i) => i,
                Err(e) => {
                    out.report.error(source, &o.id, e.to_string());
                    continue;
                }
            };
            ind.confidence = o
                .json
                .get("confidence")
                .and_then(Value::as_u64)
                .map_or(opts.default_confidence, |c| c.min(100) as u8);
            ind.valid_from = o.str("valid_from").and_then(Timestamp::parse_rfc3339);
            ind.valid_until = o.str("valid_until").and_then(Timestamp::parse_rfc3339);
            ind.labels.extend(strings(&o.json, "labels"));
            ind.labels.extend(strings(&o.json, "indicator_types"));
            for m in strings(&o.json, "object_marking_refs") {
                match Tlp::from_marking_id(&m).or_else(|| tlp_of.get(m.as_str()).copied()) {
                    Some(t) => ind.tlp = Some(ind.tlp.map_or(t, |x| x.max(t))),
                    None => {
                        ind.markings.insert(m);
                    }
                }
            }
            if ind.tlp.is_none() {
                ind.tlp = opts.default_tlp;
            }
            if let Some(k) = o.json.get("kill_chain_phases").and_then(Value::as_array) {
                for p in k {
                    if let (Some(n), Some(ph)) = (
                        p.get("kill_chain_name").and_then(Value::as_str),
                        p.get("phase_name").and_then(Value::as_str),
                    ) {
                        ind.kill_chain.insert(KillChainPhase {
                            kill_chain_name: n.to_string(),
                            phase_name: ph.to_string(),
                        });
                    }
                }
            }
            if let Some(c) = c {
                ind.techniques.extend(c.techniques.iter().cloned());
                ind.related.extend(c.related.iter().cloned());
                ind.sightings = c.sightings;
                ind.first_seen = c.first_seen;
                ind.last_seen = c.last_seen;
            }
            out.report.count_indicator(ind.kind);
            indicators.push(ind);
        }
    }
    out.indicators = indicators;
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{"type":"bundle","id":"bundle--11111111-1111-4111-8111-111111111111","objects":[
      {"type":"indicator","spec_version":"2.1","id":"indicator--22222222-2222-4222-8222-222222222222",
       "created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix",
       "pattern":"[domain-name:value = 'Evil.com' OR ipv4-addr:value = '198.51.100.7']","valid_from":"2024-01-01T00:00:00Z",
       "confidence":85,"indicator_types":["malicious-activity"],
       "object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
      {"type":"indicator","spec_version":"2.1","id":"indicator--33333333-3333-4333-8333-333333333333",
       "created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix",
       "pattern":"[file:name = 'a' AND file:size > 3]","valid_from":"2024-01-01T00:00:00Z"},
      {"type":"indicator","spec_version":"2.1","id":"indicator--44444444-4444-4444-8444-444444444444",
       "created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[file:name = ","valid_from":"2024-01-01T00:00:00Z"},
      {"type":"malware","spec_version":"2.1","id":"malware--55555555-5555-4555-8555-555555555555","created":"2024-01-01T00:00:00Z",
       "modified":"2024-01-01T00:00:00Z","name":"BadRAT","is_family":true},
      {"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--66666666-6666-4666-8666-666666666666","created":"2024-01-01T00:00:00Z",
       "modified":"2024-01-01T00:00:00Z","name":"C2","external_references":[{"source_name":"mitre-attack","external_id":"T1071"}]},
      {"type":"relationship","spec_version":"2.1","id":"relationship--77777777-7777-4777-8777-777777777777","created":"2024-01-01T00:00:00Z",
       "modified":"2024-01-01T00:00:00Z","relationship_type":"indicates","source_ref":"indicator--22222222-2222-4222-8222-222222222222",
       "target_ref":"malware--55555555-5555-4555-8555-555555555555"},
      {"type":"relationship","spec_version":"2.1","id":"relationship--88888888-8888-4888-8888-888888888888","created":"2024-01-01T00:00:00Z",
       "modified":"2024-01-01T00:00:00Z","relationship_type":"indicates","source_ref":"indicator--22222222-2222-4222-8222-222222222222",
       "target_ref":"attack-pattern--66666666-6666-4666-8666-666666666666"},
      {"type":"sighting","spec_version":"2.1","id":"sighting--99999999-9999-4999-8999-999999999999","created":"2024-01-01T00:00:00Z",
       "modified":"2024-01-01T00:00:00Z","sighting_of_ref":"indicator--22222222-2222-4222-8222-222222222222","count":4},
      {"type":"tool","id":"bogus"},
      42
    ]}"#;

    #[test]
    fn bundle_to_graph_and_indicators() {
        let imp = parse_bundle(BUNDLE.as_bytes(), "test", &ImportOptions::default()).unwrap();
        let r = &imp.report;
        assert_eq!(r.objects.get("indicator"), Some(&3));
        assert_eq!(r.objects.get("invalid"), Some(&2));
        assert_eq!((r.patterns_matchable, r.patterns_not_matchable), (1, 1));
        let ids: Vec<&str> = r.errors.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "bogus",
                "objects[9]",
                "indicator--44444444-4444-4444-8444-444444444444"
            ]
        );
        assert!(
            r.errors[2].reason.contains("column 14"),
            "{}",
            r.errors[2].reason
        );
        assert_eq!(imp.indicators.len(), 2);
        let d = &imp.indicators[0];
        assert_eq!(d.value, "evil.com");
        assert_eq!(d.confidence, 85);
        assert_eq!(d.tlp, Some(Tlp::Amber));
        assert!(d.related.contains("BadRAT") && d.techniques.contains("T1071"));
        assert_eq!(d.sightings, 4);

        let mut g = KnowledgeGraph::new();
        let s1 = g.merge(imp.objects.clone());
        let s2 = g.merge(imp.objects);
        assert_eq!((s1.added, s2.added, s2.updated, s2.unchanged), (8, 0, 0, 8));
        assert_eq!(g.relationships().count(), 2);
    }

    #[test]
    fn taxii_envelope_and_gzip() {
        use std::io::Write;
        let env = format!(
            r#"{{"more":false,"objects":{}}}"#,
            &BUNDLE[BUNDLE.find('[').unwrap()..BUNDLE.rfind(']').unwrap() + 1]
        );
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(env.as_bytes()).unwrap();
        let imp = parse_bundle(&e.finish().unwrap(), "taxii", &ImportOptions::default()).unwrap();
        assert_eq!(imp.indicators.len(), 2);
        assert!(
            parse_bundle(
                br#"{"$schema":"x","type":"object"}"#,
                "s",
                &ImportOptions::default()
            )
            .is_err()
        );
        let tiny = ImportOptions {
            max_bytes: 10,
            ..ImportOptions::default()
        };
        assert!(matches!(
            parse_bundle(env.as_bytes(), "t", &tiny),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn newer_version_replaces() {
        let mk = |m: &str, name: &str| {
            format!(
                r#"{{"type":"malware","id":"malware--55555555-5555-4555-8555-555555555555","created":"2024-01-01T00:00:00Z","modified":"{m}","name":"{name}"}}"#
            )
        };
        let mut g = KnowledgeGraph::new();
        for (m, n) in [
            ("2024-01-02T00:00:00Z", "B"),
            ("2024-01-01T00:00:00Z", "A"),
            ("2024-01-03T00:00:00Z", "C"),
        ] {
            let imp = parse_bundle(mk(m, n).as_bytes(), "t", &ImportOptions::default()).unwrap();
            g.merge(imp.objects);
        }
        assert_eq!(
            g.get("malware--55555555-5555-4555-8555-555555555555")
                .and_then(|o| o.name.as_deref()),
            Some("C")
        );
    }
}

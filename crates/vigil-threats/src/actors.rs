//! Threat actors merged across sources, with aliases unified, and their
//! relevance to the organisation.
//!
//! Sources, in merge order:
//! 1. STIX `intrusion-set` / `threat-actor` objects of the knowledge graph
//!    — ATT&CK groups (keyed by their `G` id) and actors of imported intel
//!    (keyed by STIX id), with their `uses` (techniques, software),
//!    attributed campaigns (techniques, `last_seen`), `targets` (identities
//!    with sectors, locations, vulnerabilities), reports naming them
//!    (`published`) and sightings of them (`last_seen`);
//! 2. MISP galaxy clusters (`mitre-intrusion-set` first, then
//!    `threat-actor`): merged into an existing actor when the cluster's
//!    UUID is the actor's STIX UUID, it names the actor's ATT&CK id, it is
//!    `similar` to a cluster already merged, or its value or a synonym
//!    equals a name or alias of the actor (compared lowercase, letters and
//!    digits only); otherwise a new actor `misp:<uuid>`.
//!
//! CVEs an actor exploits come from intel `targets`/`exploits`
//! relationships to `vulnerability` objects and from CVE ids named in the
//! descriptions of the actor, its campaigns and its software.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vigil_intel::stix::{KnowledgeGraph, StixObject};

use crate::dates::{day_of_micros, format_day, parse_day};
use crate::galaxy::Cluster;
use crate::model::{Factor, Score};
use crate::profile::Profile;
use crate::region::Geo;
use crate::sector;

/// One merged threat actor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Stable key: the ATT&CK group id (`G0007`), else `misp:<uuid>` or the
    /// STIX id.
    pub key: String,
    /// Display name (ATT&CK's where known).
    pub name: String,
    /// Every other name, sorted.
    pub aliases: Vec<String>,
    /// Where it comes from: `attack:G0007`, `intel:<stix id>`,
    /// `misp-galaxy:threat-actor:<uuid>`.
    pub sources: Vec<String>,
    /// Its STIX ids.
    pub stix_ids: Vec<String>,
    /// Origin or sponsor country.
    pub origin: Option<String>,
    /// Victim countries or regions named by the sources.
    pub victims: Vec<String>,
    /// Target sectors named by the sources.
    pub sectors: Vec<String>,
    /// Motive or incident type.
    pub motive: Option<String>,
    /// ATT&CK technique ids it uses (directly or through attributed
    /// campaigns).
    pub techniques: BTreeSet<String>,
    /// Software it uses: `(ATT&CK id or STIX id, name)`.
    pub software: Vec<(String, String)>,
    /// CVEs it exploits → where that is said.
    pub cves: BTreeMap<String, String>,
    /// Latest dated activity: `(day number, evidence)`.
    pub last_activity: Option<(i64, String)>,
}

/// Lowercase letters and digits of a name (`APT 28` = `apt28`).
pub fn name_key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(char::to_lowercase)
        .collect()
}

fn attack_id(o: &StixObject) -> Option<&str> {
    o.external_id("mitre-attack")
}

fn is_current(o: &StixObject) -> bool {
    !o.revoked && !o.deprecated
}

/// CVE ids named in a text (`CVE-2017-11882`), upper-cased.
pub fn cves_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let up = text.to_ascii_uppercase();
    let b = up.as_bytes();
    let mut i = 0;
    while let Some(p) = up[i..].find("CVE-") {
        let s = i + p + 4;
        let year_ok = b
            .get(s..s + 4)
            .is_some_and(|y| y.iter().all(u8::is_ascii_digit));
        let mut e = s + 5;
        if year_ok && b.get(s + 4) == Some(&b'-') {
            while b.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            if e - (s + 5) >= 4 {
                out.push(up[s - 4..e].to_string());
            }
        }
        i = s;
    }
    out.sort();
    out.dedup();
    out
}

fn note_activity(a: &mut Actor, day: i64, evidence: String) {
    if a.last_activity.as_ref().is_none_or(|(d, _)| day > *d) {
        a.last_activity = Some((day, evidence));
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() && !v.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        v.push(s.to_string());
    }
}

struct Builder<'a> {
    graph: &'a KnowledgeGraph,
    actors: Vec<Actor>,
    by_name: BTreeMap<String, usize>,
    by_key: BTreeMap<String, usize>,
    by_uuid: BTreeMap<String, usize>,
}

impl Builder<'_> {
    fn index_names(&mut self, i: usize) {
        let a = &self.actors[i];
        let names: Vec<String> = std::iter::once(&a.name)
            .chain(a.aliases.iter())
            .map(|n| name_key(n))
            .filter(|k| k.len() >= 3)
            .collect();
        for k in names {
            self.by_name.entry(k).or_insert(i);
        }
    }

    fn add_alias(&mut self, i: usize, name: &str) {
        let a = &mut self.actors[i];
        if name_key(name) != name_key(&a.name) {
            push_unique(&mut a.aliases, name);
        }
    }

    fn tech_of(&self, id: &str) -> Option<String> {
        let o = self.graph.get(id)?;
        (o.kind == "attack-pattern" && is_current(o))
            .then(|| attack_id(o).map(str::to_string))
            .flatten()
    }

    fn stix_actors(&mut self) {
        for o in self.graph.objects() {
            if !matches!(o.kind.as_str(), "intrusion-set" | "threat-actor") || !is_current(o) {
                continue;
            }
            let (key, source) = match attack_id(o) {
                Some(g) => (g.to_string(), format!("attack:{g}")),
                None => (o.id.clone(), format!("intel:{}", o.id)),
            };
            let mut a = Actor {
                key: key.clone(),
                name: o.name.clone().unwrap_or_else(|| o.id.clone()),
                sources: vec![source],
                stix_ids: vec![o.id.clone()],
                ..Actor::default()
            };
            for k in ["aliases", "x_mitre_aliases"] {
                for al in o
                    .json
                    .get(k)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(s) = al.as_str()
                        && name_key(s) != name_key(&a.name)
                    {
                        push_unique(&mut a.aliases, s);
                    }
                }
            }
            if let Some(d) = o.str("description") {
                for c in cves_in(d) {
                    a.cves
                        .entry(c)
                        .or_insert_with(|| format!("{} description", a.name));
                }
            }
            if let Some(d) = o.str("last_seen").and_then(parse_day) {
                let why = format!("{} last seen", a.name);
                note_activity(&mut a, d, why);
            }
            if let Some(m) = o.str("primary_motivation") {
                a.motive = Some(m.to_string());
            }
            self.actors.push(a);
            let i = self.actors.len() - 1;
            self.by_key.insert(key, i);
            if let Some(u) = o.id.split_once("--").map(|(_, u)| u.to_string()) {
                self.by_uuid.insert(u, i);
            }
            self.by_key.insert(o.id.clone(), i);
            self.index_names(i);
        }
        // relationships
        let mut campaigns: BTreeMap<&str, usize> = BTreeMap::new();
        let rels: Vec<(&str, &str, &str)> = self
            .graph
            .relationships()
            .filter(|(_, _, _, o)| is_current(o))
            .map(|(rt, s, t, _)| (rt, s, t))
            .collect();
        for &(rt, s, t) in &rels {
            if rt == "attributed-to"
                && let Some(&i) = self.by_key.get(t)
                && self.graph.get(s).is_some_and(|c| c.kind == "campaign")
            {
                campaigns.insert(s, i);
            }
        }
        for (&cid, &i) in &campaigns {
            let Some(c) = self.graph.get(cid) else {
                continue;
            };
            let cname = c.name.clone().unwrap_or_else(|| cid.to_string());
            if let Some(d) = c.str("last_seen").and_then(parse_day) {
                note_activity(
                    &mut self.actors[i],
                    d,
                    format!("campaign {cname} last seen"),
                );
            }
            if let Some(d) = c.str("description") {
                for cve in cves_in(d) {
                    self.actors[i]
                        .cves
                        .entry(cve)
                        .or_insert_with(|| format!("campaign {cname}"));
                }
            }
        }
        for &(rt, s, t) in &rels {
            let owner = self
                .by_key
                .get(s)
                .copied()
                .or_else(|| campaigns.get(s).copied());
            let Some(i) = owner else { continue };
            match rt {
                "uses" => {
                    if let Some(tech) = self.tech_of(t) {
                        self.actors[i].techniques.insert(tech);
                    } else if let Some(sw) = self.graph.get(t)
                        && matches!(sw.kind.as_str(), "malware" | "tool")
                        && is_current(sw)
                        && !campaigns.contains_key(s)
                    {
                        let id = attack_id(sw).unwrap_or(&sw.id).to_string();
                        let name = sw.name.clone().unwrap_or_else(|| id.clone());
                        if let Some(d) = sw.str("description") {
                            for cve in cves_in(d) {
                                self.actors[i]
                                    .cves
                                    .entry(cve)
                                    .or_insert_with(|| format!("software {name}"));
                            }
                        }
                        if !self.actors[i].software.iter().any(|(x, _)| *x == id) {
                            self.actors[i].software.push((id, name));
                        }
                    }
                }
                "targets" | "exploits" => {
                    let Some(x) = self.graph.get(t) else { continue };
                    match x.kind.as_str() {
                        "vulnerability" => {
                            let cve = x
                                .external_id("cve")
                                .or(x.name.as_deref())
                                .map(str::to_ascii_uppercase);
                            if let Some(cve) = cve.filter(|c| c.starts_with("CVE-")) {
                                self.actors[i]
                                    .cves
                                    .entry(cve)
                                    .or_insert_with(|| "intel relationship".into());
                            }
                        }
                        "identity" => {
                            for sct in x
                                .json
                                .get("sectors")
                                .and_then(|v| v.as_array())
                                .into_iter()
                                .flatten()
                                .filter_map(|v| v.as_str())
                            {
                                push_unique(&mut self.actors[i].sectors, sct);
                            }
                        }
                        "location" => {
                            for k in ["country", "region", "name"] {
                                if let Some(v) = x.str(k) {
                                    push_unique(&mut self.actors[i].victims, v);
                                    break;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        // reports and sightings naming an actor
        for o in self.graph.objects() {
            match o.kind.as_str() {
                "report" => {
                    let Some(day) = o.str("published").and_then(parse_day) else {
                        continue;
                    };
                    for r in o
                        .json
                        .get("object_refs")
                        .and_then(|v| v.as_array())
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str())
                    {
                        if let Some(&i) = self.by_key.get(r) {
                            let n = o.name.clone().unwrap_or_default();
                            note_activity(&mut self.actors[i], day, format!("report {n:?}"));
                        }
                    }
                }
                "sighting" => {
                    let Some(&i) = o.str("sighting_of_ref").and_then(|r| self.by_key.get(r)) else {
                        continue;
                    };
                    let day = o
                        .str("last_seen")
                        .or(o.str("first_seen"))
                        .and_then(parse_day)
                        .or_else(|| o.modified.map(|m| day_of_micros(m.as_micros())));
                    if let Some(day) = day {
                        note_activity(&mut self.actors[i], day, "sighting".into());
                    }
                }
                _ => {}
            }
        }
    }

    fn find(&self, c: &Cluster) -> Option<usize> {
        if let Some(&i) = self.by_uuid.get(&c.uuid) {
            return Some(i);
        }
        for g in &c.attack_ids {
            if let Some(&i) = self.by_key.get(g) {
                return Some(i);
            }
        }
        for u in &c.similar {
            if let Some(&i) = self.by_uuid.get(u) {
                return Some(i);
            }
        }
        std::iter::once(&c.value)
            .chain(c.synonyms.iter())
            .find_map(|n| self.by_name.get(&name_key(n)).copied())
    }

    fn galaxy(&mut self, clusters: &[&Cluster]) {
        for c in clusters {
            let i = match self.find(c) {
                Some(i) => i,
                None => {
                    self.actors.push(Actor {
                        key: format!("misp:{}", c.uuid),
                        name: c.value.clone(),
                        ..Actor::default()
                    });
                    let i = self.actors.len() - 1;
                    self.by_key.insert(format!("misp:{}", c.uuid), i);
                    i
                }
            };
            self.by_uuid.insert(c.uuid.clone(), i);
            // mitre-intrusion-set values read `Wizard Spider - G0102`
            let value = match c.value.rsplit_once(" - ") {
                Some((n, g)) if c.attack_ids.iter().any(|x| x == g) => n,
                _ => c.value.as_str(),
            };
            self.add_alias(i, value);
            for s in &c.synonyms {
                if !s.starts_with('G') || s.len() != 5 {
                    self.add_alias(i, s);
                }
            }
            let a = &mut self.actors[i];
            a.sources
                .push(format!("misp-galaxy:{}:{}", c.galaxy, c.uuid));
            for v in &c.victims {
                push_unique(&mut a.victims, v);
            }
            for s in &c.sectors {
                push_unique(&mut a.sectors, s);
            }
            if a.origin.is_none() {
                a.origin.clone_from(&c.origin);
            }
            if a.motive.is_none() {
                a.motive.clone_from(&c.motive);
            }
            if let Some(d) = &c.description {
                for cve in cves_in(d) {
                    a.cves
                        .entry(cve)
                        .or_insert_with(|| format!("MISP galaxy cluster {}", c.value));
                }
            }
            self.index_names(i);
        }
    }
}

/// Builds the merged actor list (sorted by key).
pub fn build(graph: &KnowledgeGraph, clusters: &[Cluster]) -> Vec<Actor> {
    let mut b = Builder {
        graph,
        actors: Vec::new(),
        by_name: BTreeMap::new(),
        by_key: BTreeMap::new(),
        by_uuid: BTreeMap::new(),
    };
    b.stix_actors();
    let order = |g: &str| match g {
        "mitre-intrusion-set" => 0,
        "threat-actor" => 1,
        _ => 2,
    };
    let mut cl: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| matches!(c.galaxy.as_str(), "mitre-intrusion-set" | "threat-actor"))
        .collect();
    cl.sort_by_key(|c| order(&c.galaxy));
    b.galaxy(&cl);
    let mut out = b.actors;
    for a in &mut out {
        a.aliases.sort_by_key(|s| s.to_lowercase());
        a.software.sort();
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Relevance weights (points at full match); they sum to 100.
pub const W_SECTOR: f64 = 35.0;
/// Region weight.
pub const W_REGION: f64 = 30.0;
/// Recency weight.
pub const W_RECENCY: f64 = 15.0;
/// Observed-activity weight.
pub const W_OBSERVED: f64 = 20.0;

/// What the organisation has seen: alert counts per ATT&CK technique in
/// the activity window, and sightings per actor key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observations {
    /// Technique id → alerts tagged with it in the window.
    pub technique_alerts: BTreeMap<String, u64>,
    /// Actor key → sightings of its indicators in the window.
    pub actor_sightings: BTreeMap<String, u64>,
    /// Actor key → loaded indicators related to it or its software.
    pub actor_indicators: BTreeMap<String, u64>,
}

/// One loaded indicator as the register sees it: the names it is related
/// to (actors, malware, campaigns) and its own sightings in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorLink {
    /// Related names.
    pub related: Vec<String>,
    /// Sightings in this organisation within the window.
    pub sightings: u64,
}

/// Links indicators to actors: an indicator belongs to an actor when one
/// of its related names equals the actor's name, an alias, or the name of
/// its software (compared as [`name_key`]). Fills
/// `obs.actor_indicators` (loaded) and `obs.actor_sightings` (sightings in
/// the window).
pub fn link_indicators(actors: &[Actor], links: &[IndicatorLink], obs: &mut Observations) {
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, a) in actors.iter().enumerate() {
        let names = std::iter::once(&a.name)
            .chain(a.aliases.iter())
            .chain(a.software.iter().map(|(_, n)| n));
        let mut keys: Vec<String> = names
            .map(|n| name_key(n))
            .filter(|k| k.len() >= 3)
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            by_name.entry(k).or_default().push(i);
        }
    }
    for l in links {
        let mut hit: Vec<usize> = l
            .related
            .iter()
            .filter_map(|r| by_name.get(&name_key(r)))
            .flatten()
            .copied()
            .collect();
        hit.sort_unstable();
        hit.dedup();
        for i in hit {
            let key = &actors[i].key;
            *obs.actor_indicators.entry(key.clone()).or_default() += 1;
            if l.sightings > 0 {
                *obs.actor_sightings.entry(key.clone()).or_default() += l.sightings;
            }
        }
    }
}

/// Sector factor: 1 when a target sector maps to a profile sector, 0.5
/// when the actor targets the private sector at large and a profile sector
/// is commercial, else 0.
pub fn sector_factor(a: &Actor, p: &Profile) -> Factor {
    let mine = p.canonical_sectors();
    let direct: Vec<&String> = a
        .sectors
        .iter()
        .filter(|s| sector::canonical(s).is_some_and(|c| mine.contains(&c)))
        .collect();
    if !direct.is_empty() {
        let names: Vec<&str> = direct.iter().map(|s| s.as_str()).collect();
        return Factor::new(
            "sector",
            1.0,
            W_SECTOR,
            format!("targets {} ({})", names.join(", "), mine.join(", ")),
        );
    }
    if let Some(b) = a.sectors.iter().find(|s| sector::is_broad(s))
        && let Some(c) = mine.iter().find(|c| sector::is_commercial(c))
    {
        return Factor::new(
            "sector",
            0.5,
            W_SECTOR,
            format!("targets the {b} at large, which includes {c}"),
        );
    }
    let why = if a.sectors.is_empty() {
        "no target sectors known".to_string()
    } else {
        format!("targets {} only", a.sectors.join(", "))
    };
    Factor::new("sector", 0.0, W_SECTOR, why)
}

/// Region factor: 1 when a victim is a profile country; 0.75 when a victim
/// is a profile region or lies in one; 0.5 when a victim shares a continent
/// with a profile country; else 0.
pub fn region_factor(a: &Actor, p: &Profile, geo: &Geo) -> Factor {
    let countries: Vec<_> = p.countries.iter().filter_map(|c| geo.country(c)).collect();
    let regions: Vec<&str> = p
        .regions
        .iter()
        .filter_map(|r| geo.region_code(r))
        .collect();
    let mut best = (0.0, String::new());
    for v in &a.victims {
        let (val, why) = if let Some(vc) = geo.country(v) {
            if countries.iter().any(|c| c.iso == vc.iso) {
                (1.0, format!("targets {}", vc.name))
            } else if let Some(r) = regions.iter().find(|r| geo.in_region(vc, r)) {
                (
                    0.75,
                    format!("targets {} ({})", vc.name, Geo::region_name(r)),
                )
            } else if let Some(c) = countries.iter().find(|c| c.continent == vc.continent) {
                (0.5, format!("targets {}, near {}", vc.name, c.name))
            } else {
                continue;
            }
        } else if let Some(code) = geo.region_code(v) {
            if regions.contains(&code) {
                (0.75, format!("targets {}", Geo::region_name(code)))
            } else if countries.iter().any(|c| geo.in_region(c, code)) {
                (
                    0.75,
                    format!(
                        "targets {}, where the organisation operates",
                        Geo::region_name(code)
                    ),
                )
            } else {
                continue;
            }
        } else {
            continue;
        };
        if val > best.0 {
            best = (val, why);
        }
    }
    if best.0 == 0.0 {
        best.1 = if a.victims.is_empty() {
            "no victim countries known".into()
        } else {
            format!(
                "targets {} — outside the profile's countries and regions",
                a.victims
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
    }
    Factor::new("region", best.0, W_REGION, best.1)
}

/// Recency factor: `1 − age / window` for the latest dated activity within
/// the window (age in days), else 0.
pub fn recency_factor(a: &Actor, today: i64, window_days: u32) -> Factor {
    let w = f64::from(window_days.max(1));
    match &a.last_activity {
        Some((d, why)) => {
            let age = (today - d).max(0) as f64;
            let v = (1.0 - age / w).max(0.0);
            let reason = if v > 0.0 {
                format!("{why} on {} ({} days ago)", format_day(*d), today - d)
            } else {
                format!(
                    "latest activity {} ({why}), outside the {window_days}-day window",
                    format_day(*d)
                )
            };
            Factor::new("recency", v, W_RECENCY, reason)
        }
        None => Factor::new("recency", 0.0, W_RECENCY, "no dated activity known"),
    }
}

/// Observed factor: 1 when alerts for its techniques or sightings of its
/// indicators occurred in the window, else 0.
pub fn observed_factor(a: &Actor, obs: &Observations) -> Factor {
    let mut hits: Vec<(&String, u64)> = a
        .techniques
        .iter()
        .filter_map(|t| obs.technique_alerts.get(t).map(|n| (t, *n)))
        .filter(|(_, n)| *n > 0)
        .collect();
    hits.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    let sightings = obs.actor_sightings.get(&a.key).copied().unwrap_or(0);
    if hits.is_empty() && sightings == 0 {
        return Factor::new(
            "observed",
            0.0,
            W_OBSERVED,
            "none of its techniques or indicators seen in own alerts",
        );
    }
    let mut parts: Vec<String> = hits
        .iter()
        .take(3)
        .map(|(t, n)| format!("{t} ({n} alerts)"))
        .collect();
    if hits.len() > 3 {
        parts.push(format!("{} more techniques", hits.len() - 3));
    }
    if sightings > 0 {
        parts.push(format!("{sightings} indicator sightings"));
    }
    Factor::new(
        "observed",
        1.0,
        W_OBSERVED,
        format!("seen: {}", parts.join(", ")),
    )
}

/// The relevance score of an actor (0–100): sector 35, region 30,
/// recency 15, observed 20.
pub fn relevance(a: &Actor, p: &Profile, geo: &Geo, obs: &Observations, today: i64) -> Score {
    Score::of(vec![
        sector_factor(a, p),
        region_factor(a, p, geo),
        recency_factor(a, today, p.activity_window_days),
        observed_factor(a, obs),
    ])
}

#[cfg(test)]
mod tests;

//! The OSV database: records indexed by (ecosystem, normalised package name),
//! with ranges compiled once, alias groups, and component matching.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::alias::AliasGroups;
use super::range::CompiledRange;
use super::record::{OsvRecord, OsvSeverity};
use crate::component::Component;
use crate::ecosystem::Ecosystem;
use crate::version::{Scheme, Version};

/// A record or `affected` entry that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Record id.
    pub record_id: String,
    /// What was skipped and why.
    pub reason: String,
}

/// One compiled `affected` entry.
#[derive(Debug)]
struct Entry {
    record: u32,
    release: Option<String>,
    ranges: Vec<CompiledRange>,
    /// Sorted explicit versions.
    versions: Vec<String>,
}

/// One vulnerability affecting one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Canonical vulnerability id (CVE where known).
    pub vulnerability: String,
    /// Every id of the vulnerability (aliases merged), sorted.
    pub aliases: Vec<String>,
    /// The OSV records that matched, sorted.
    pub records: Vec<String>,
    /// The component's key (canonical purl).
    pub component: String,
    /// Component name.
    pub name: String,
    /// Component version.
    pub version: String,
    /// OSV ecosystem name.
    pub ecosystem: String,
    /// Versions that fix it (from the matching ranges), sorted, deduplicated.
    pub fixed: Vec<String>,
    /// Summary of the first matching record.
    pub summary: Option<String>,
    /// Severity entries of the matching records.
    pub severity: Vec<OsvSeverity>,
}

/// Import statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Records held.
    pub records: usize,
    /// Withdrawn records (kept, never matched).
    pub withdrawn: usize,
    /// Compiled `affected` entries.
    pub entries: usize,
    /// Distinct vulnerabilities after alias merging.
    pub vulnerabilities: usize,
}

/// OSV records ready for matching.
#[derive(Debug, Default)]
pub struct OsvDatabase {
    records: Vec<OsvRecord>,
    index: HashMap<(Ecosystem, String), Vec<Entry>>,
    aliases: AliasGroups,
    problems: Vec<Problem>,
    withdrawn: usize,
    entries: usize,
    /// Per record: index into `groups`.
    record_group: Vec<u32>,
    /// Per vulnerability: canonical id and sorted alias group.
    groups: Vec<(String, Vec<String>)>,
}

/// Does an OSV ecosystem release (`12`, `v3.18`, `22.04:LTS`,
/// `enterprise_linux:9::appstream`) cover the component's distro release
/// (`12`, `v3.18`, `22.04`, `9.2`)? Unknown on either side matches.
fn release_matches(entry: Option<&str>, component: Option<&str>) -> bool {
    let (Some(e), Some(c)) = (entry, component) else {
        return true;
    };
    let c = c.trim_start_matches('v');
    let major = c.split('.').next().unwrap_or(c);
    e.split(':')
        .map(|t| t.trim_start_matches('v'))
        .any(|t| t.eq_ignore_ascii_case(c) || t == major)
}

impl OsvDatabase {
    /// Builds the database. Records with unknown ecosystems or unparsable
    /// versions keep their other entries; what was skipped is in
    /// [`Self::problems`].
    pub fn new(records: Vec<OsvRecord>) -> OsvDatabase {
        let mut db = OsvDatabase {
            records,
            ..OsvDatabase::default()
        };
        for (ri, rec) in db.records.iter().enumerate() {
            db.aliases.add(&rec.id, &rec.aliases);
            if rec.withdrawn.is_some() {
                db.withdrawn += 1;
                continue;
            }
            for (ai, aff) in rec.affected.iter().enumerate() {
                let Some(pkg) = &aff.package else { continue };
                let (eco, release) = match Ecosystem::parse_osv(&pkg.ecosystem) {
                    Ok(x) => x,
                    Err(e) => {
                        db.problems.push(Problem {
                            record_id: rec.id.clone(),
                            reason: format!("affected[{ai}]: {e}"),
                        });
                        continue;
                    }
                };
                let mut ranges = Vec::new();
                for (gi, r) in aff.ranges.iter().enumerate() {
                    match CompiledRange::compile(r, eco.scheme()) {
                        Ok(Some(c)) => ranges.push(c),
                        Ok(None) => {}
                        Err(e) => db.problems.push(Problem {
                            record_id: rec.id.clone(),
                            reason: format!("affected[{ai}].ranges[{gi}]: {e}"),
                        }),
                    }
                }
                let mut versions = aff.versions.clone();
                versions.sort();
                let key = (eco, eco.normalize_name(&pkg.name));
                db.index.entry(key).or_default().push(Entry {
                    record: u32::try_from(ri).unwrap_or(u32::MAX),
                    release: release.map(str::to_owned),
                    ranges,
                    versions,
                });
                db.entries += 1;
            }
        }
        db.aliases.finish();
        let mut by_canon: HashMap<String, u32> = HashMap::new();
        let mut record_group = Vec::with_capacity(db.records.len());
        for r in &db.records {
            let canon = db.aliases.canonical(&r.id);
            let g = match by_canon.get(canon) {
                Some(&g) => g,
                None => {
                    let g = u32::try_from(db.groups.len()).unwrap_or(u32::MAX);
                    by_canon.insert(canon.to_owned(), g);
                    db.groups
                        .push((canon.to_owned(), db.aliases.members(&r.id)));
                    g
                }
            };
            record_group.push(g);
        }
        db.record_group = record_group;
        db
    }

    /// All records (including withdrawn ones).
    pub fn records(&self) -> &[OsvRecord] {
        &self.records
    }

    /// Entries that could not be compiled.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Import statistics.
    pub fn stats(&self) -> Stats {
        Stats {
            records: self.records.len(),
            withdrawn: self.withdrawn,
            entries: self.entries,
            vulnerabilities: self.aliases.group_count(),
        }
    }

    /// The canonical id of a record id or alias.
    pub fn canonical_id<'a>(&'a self, id: &'a str) -> &'a str {
        self.aliases.canonical(id)
    }

    /// All ids merged with `id`.
    pub fn alias_group(&self, id: &str) -> Vec<String> {
        self.aliases.members(id)
    }

    /// The vulnerabilities affecting one component, one finding per
    /// vulnerability (aliases merged), sorted by id.
    pub fn match_component(&self, c: &Component) -> Vec<Finding> {
        let (Some(eco), Some(version)) = (c.ecosystem, c.version.as_deref()) else {
            return Vec::new();
        };
        let mut parsed: Vec<(Scheme, Option<Version>)> = Vec::with_capacity(2);
        // (group, record, fixed versions) per matching entry
        let mut hits: Vec<(u32, u32, Vec<&str>)> = Vec::new();
        let mut names = vec![eco.normalize_name(&c.name)];
        if let Some(src) = &c.source_name {
            let s = eco.normalize_name(src);
            if s != names[0] {
                names.push(s);
            }
        }
        for name in names {
            let Some(entries) = self.index.get(&(eco, name)) else {
                continue;
            };
            for entry in entries {
                if !release_matches(entry.release.as_deref(), c.distro_release.as_deref()) {
                    continue;
                }
                let mut hit = entry
                    .versions
                    .binary_search_by(|v| v.as_str().cmp(version))
                    .is_ok();
                let mut fixed: Vec<&str> = Vec::new();
                for r in &entry.ranges {
                    let v = match parsed.iter().find(|(s, _)| *s == r.scheme) {
                        Some((_, v)) => v.as_ref(),
                        None => {
                            parsed.push((r.scheme, Version::parse(r.scheme, version).ok()));
                            parsed.last().and_then(|(_, v)| v.as_ref())
                        }
                    };
                    if let Some(v) = v
                        && r.contains(v)
                    {
                        hit = true;
                        fixed.extend(r.fixed.iter().map(String::as_str));
                    }
                }
                if hit && let Some(&g) = self.record_group.get(entry.record as usize) {
                    hits.push((g, entry.record, fixed));
                }
            }
        }
        if hits.is_empty() {
            return Vec::new();
        }
        hits.sort_unstable_by_key(|h| (h.0, h.1));
        let key = c.key();
        let mut out: Vec<Finding> = Vec::new();
        let mut last_group = None;
        for (g, ri, fixed) in hits {
            let (Some(rec), Some((canon, members))) =
                (self.records.get(ri as usize), self.groups.get(g as usize))
            else {
                continue;
            };
            if last_group != Some(g) {
                last_group = Some(g);
                out.push(Finding {
                    vulnerability: canon.clone(),
                    aliases: members.clone(),
                    records: Vec::new(),
                    component: key.clone(),
                    name: c.name.clone(),
                    version: version.to_owned(),
                    ecosystem: eco.osv_name().to_owned(),
                    fixed: Vec::new(),
                    summary: rec.summary.clone(),
                    severity: Vec::new(),
                });
            }
            let Some(f) = out.last_mut() else { continue };
            if f.records.last() != Some(&rec.id) {
                f.records.push(rec.id.clone());
                f.severity.extend(rec.severity.iter().cloned());
            }
            f.fixed.extend(fixed.into_iter().map(str::to_owned));
        }
        for f in &mut out {
            f.records.sort();
            f.fixed.sort();
            f.fixed.dedup();
            f.severity.dedup();
        }
        out.sort_by(|a, b| a.vulnerability.cmp(&b.vulnerability));
        out
    }

    /// Like [`Self::match_component`], but a version that the ecosystem's
    /// scheme cannot parse is an error when records name the package (its
    /// ranges could not be evaluated; only exact `versions` entries were
    /// checked).
    pub fn match_component_strict(&self, c: &Component) -> crate::error::Result<Vec<Finding>> {
        if let (Some(eco), Some(v)) = (c.ecosystem, c.version.as_deref())
            && self.index.contains_key(&(eco, eco.normalize_name(&c.name)))
        {
            Version::parse(eco.scheme(), v)?;
        }
        Ok(self.match_component(c))
    }

    /// Matches many components; findings in input order.
    pub fn match_components<'a>(
        &self,
        components: impl IntoIterator<Item = &'a Component>,
    ) -> Vec<Finding> {
        components
            .into_iter()
            .flat_map(|c| self.match_component(c))
            .collect()
    }
}

//! OSV records (schema 1.x) as serde types, and their JSON/YAML parsers.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest OSV document accepted (bytes).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// One OSV vulnerability record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvRecord {
    /// Record id (`GO-2020-0004`, `PYSEC-2018-104`, `GHSA-…`).
    pub id: String,
    /// Schema version the record claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Last modification (RFC 3339).
    #[serde(default)]
    pub modified: Option<String>,
    /// Publication time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn; such records never match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Ids of the same vulnerability in other databases.
    #[serde(default, deserialize_with = "null_vec")]
    pub aliases: Vec<String>,
    /// Ids of records that are related but not the same vulnerability.
    #[serde(default, deserialize_with = "null_vec")]
    pub related: Vec<String>,
    /// Upstream records this one derives from.
    #[serde(default, deserialize_with = "null_vec")]
    pub upstream: Vec<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Details (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity scores (CVSS vectors, Ubuntu priorities).
    #[serde(default, deserialize_with = "null_vec")]
    pub severity: Vec<OsvSeverity>,
    /// Affected packages.
    #[serde(default, deserialize_with = "null_vec")]
    pub affected: Vec<Affected>,
    /// References (advisories, fixes, reports).
    #[serde(default, deserialize_with = "null_vec")]
    pub references: Vec<Reference>,
    /// Free-form database data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

fn null_vec<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A severity entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvSeverity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or rating.
    pub score: String,
}

/// A reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `FIX`, `WEB`, `EVIDENCE`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// The package an `affected` entry names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// OSV ecosystem (`PyPI`, `Debian:12`).
    pub ecosystem: String,
    /// Package name in that ecosystem.
    pub name: String,
    /// Optional purl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// One `affected` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The package (absent for GIT-only entries).
    #[serde(default)]
    pub package: Option<Package>,
    /// Per-package severity.
    #[serde(default, deserialize_with = "null_vec")]
    pub severity: Vec<OsvSeverity>,
    /// Version ranges.
    #[serde(default, deserialize_with = "null_vec")]
    pub ranges: Vec<Range>,
    /// Explicitly affected versions.
    #[serde(default, deserialize_with = "null_vec")]
    pub versions: Vec<String>,
    /// Ecosystem data (Go symbols, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// Range type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeType {
    /// SemVer 2.0.0 versions.
    Semver,
    /// The ecosystem's own versions.
    Ecosystem,
    /// Git commits (not comparable without the repository).
    Git,
}

/// A version range: a sorted-by-meaning list of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Range type.
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// Repository URL for GIT ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Events.
    #[serde(default, deserialize_with = "null_vec")]
    pub events: Vec<Event>,
    /// Database data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// One range event: exactly one of its fields is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Event {
    /// Versions from here on are affected (`"0"`: from the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Versions from here on are fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last affected version (later ones are not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Upper limit of the range (`"*"`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl OsvRecord {
    /// Checks what serde cannot: a non-empty id and one field per event.
    pub fn validate(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::parse("osv", "id", "empty id"));
        }
        for (i, a) in self.affected.iter().enumerate() {
            for (j, r) in a.ranges.iter().enumerate() {
                for (k, e) in r.events.iter().enumerate() {
                    let n = [&e.introduced, &e.fixed, &e.last_affected, &e.limit]
                        .iter()
                        .filter(|x| x.is_some())
                        .count();
                    if n != 1 {
                        return Err(Error::parse(
                            "osv",
                            format!("{}: affected[{i}].ranges[{j}].events[{k}]", self.id),
                            "an event needs exactly one of introduced, fixed, last_affected, limit",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parses one OSV record, or an array of records, from JSON.
pub fn parse_json(text: &str) -> Result<Vec<OsvRecord>> {
    Error::check_size("OSV document", text.len(), MAX_RECORD_BYTES)?;
    let trimmed = text.trim_start();
    let records: Vec<OsvRecord> = if trimmed.starts_with('[') {
        serde_json::from_str(text)
            .map_err(|e| Error::parse("osv", format!("line {}", e.line()), e))?
    } else {
        vec![
            serde_json::from_str(text)
                .map_err(|e| Error::parse("osv", format!("line {}", e.line()), e))?,
        ]
    };
    for r in &records {
        r.validate()?;
    }
    Ok(records)
}

/// Parses one OSV record from YAML (as the PyPI advisory database stores them).
#[cfg(feature = "yaml")]
pub fn parse_yaml(text: &str) -> Result<OsvRecord> {
    Error::check_size("OSV document", text.len(), MAX_RECORD_BYTES)?;
    let r: OsvRecord = yaml_serde::from_str(text).map_err(|e| {
        let loc = e
            .location()
            .map_or_else(|| "document".to_owned(), |l| format!("line {}", l.line()));
        Error::parse("osv-yaml", loc, e)
    })?;
    r.validate()?;
    Ok(r)
}

/// Parses an OSV file by its name: `.yaml`/`.yml` as YAML (with the `yaml`
/// feature), anything else as JSON (one record or an array).
pub fn parse_file(name: &str, text: &str) -> Result<Vec<OsvRecord>> {
    #[cfg(feature = "yaml")]
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        return parse_yaml(text).map(|r| vec![r]);
    }
    let _ = name;
    parse_json(text)
}

//! Scanner report imports: Trivy JSON, Grype JSON, osv-scanner JSON and
//! SARIF 2.1.0, to [`ScanFinding`]s (vulnerability id, component, fixed
//! version, severity, source).

mod grype;
mod osv_scanner;
mod sarif;
mod trivy;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::purl::Purl;

/// Largest report accepted (bytes).
pub const MAX_REPORT_BYTES: usize = 512 << 20;

/// Which scanner wrote a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanFormat {
    /// Trivy JSON (`SchemaVersion` 2).
    Trivy,
    /// Grype JSON.
    Grype,
    /// osv-scanner JSON.
    OsvScanner,
    /// SARIF 2.1.0 (any tool).
    Sarif,
}

/// Normalised severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanSeverity {
    /// Not rated.
    Unknown,
    /// Negligible.
    Negligible,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl ScanSeverity {
    /// From a scanner's word (`HIGH`, `Moderate`, `error`, ...).
    pub fn from_word(s: &str) -> ScanSeverity {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => ScanSeverity::Critical,
            "high" | "important" | "error" => ScanSeverity::High,
            "medium" | "moderate" | "warning" => ScanSeverity::Medium,
            "low" | "note" => ScanSeverity::Low,
            "negligible" | "none" => ScanSeverity::Negligible,
            _ => ScanSeverity::Unknown,
        }
    }

    /// From a CVSS base score (`7.5` → high), per the CVSS v3 rating scale.
    pub fn from_score(score: f64) -> ScanSeverity {
        match score {
            s if s >= 9.0 => ScanSeverity::Critical,
            s if s >= 7.0 => ScanSeverity::High,
            s if s >= 4.0 => ScanSeverity::Medium,
            s if s > 0.0 => ScanSeverity::Low,
            _ => ScanSeverity::Negligible,
        }
    }
}

/// One finding reported by a scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFinding {
    /// Vulnerability id as reported (`CVE-…`, `GHSA-…`).
    pub vulnerability: String,
    /// Other ids the scanner gave for it.
    pub aliases: Vec<String>,
    /// Package name.
    pub name: Option<String>,
    /// Installed version.
    pub version: Option<String>,
    /// Package URL, when reported or derivable.
    pub purl: Option<Purl>,
    /// First fixed version, if any.
    pub fixed_version: Option<String>,
    /// Severity.
    pub severity: ScanSeverity,
    /// Tool name (`trivy`, `grype`, `osv-scanner`, SARIF driver name).
    pub source: String,
    /// Scanned target (image, file, lock file), if stated.
    pub target: Option<String>,
    /// Title or message.
    pub title: Option<String>,
}

/// A parsed scanner report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Format.
    pub format: ScanFormat,
    /// Findings in report order.
    pub findings: Vec<ScanFinding>,
    /// Entries that were skipped, with their JSON path.
    pub problems: Vec<String>,
}

pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub(crate) fn owned(v: &Value, key: &str) -> Option<String> {
    str_at(v, key).map(str::to_owned)
}

pub(crate) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub(crate) fn purl_of(s: Option<&str>, problems: &mut Vec<String>, at: &str) -> Option<Purl> {
    match s.map(str::parse::<Purl>) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            problems.push(format!("{at}: {e}"));
            None
        }
        None => None,
    }
}

/// Parses a scanner report, detecting the format from its structure.
pub fn parse_report(text: &str) -> Result<ScanReport> {
    Error::check_size("scanner report", text.len(), MAX_REPORT_BYTES)?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::parse("scanner-report", format!("line {}", e.line()), e))?;
    if v.get("runs").is_some()
        && v.get("version")
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with("2.1"))
    {
        return Ok(sarif::from_value(&v));
    }
    if v.get("SchemaVersion").is_some() || v.get("Results").is_some() {
        return Ok(trivy::from_value(&v));
    }
    if v.get("matches").is_some() {
        return Ok(grype::from_value(&v));
    }
    if v.get("results").is_some() {
        return Ok(osv_scanner::from_value(&v));
    }
    Err(Error::parse(
        "scanner-report",
        "root",
        "not a Trivy, Grype, osv-scanner or SARIF 2.1.0 report",
    ))
}

#[cfg(test)]
mod tests;

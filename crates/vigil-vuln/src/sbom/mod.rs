//! SBOM parsing: CycloneDX JSON and XML (spec 1.1–1.6, nested components)
//! and SPDX 2.x JSON and tag-value, to [`Component`]s keyed by purl.

mod cyclonedx_json;
mod cyclonedx_xml;
mod spdx_json;
mod spdx_tag;

use serde::{Deserialize, Serialize};

use crate::component::Component;
use crate::error::{Error, Result};
use crate::purl::Purl;

/// Largest SBOM accepted (bytes).
pub const MAX_SBOM_BYTES: usize = 256 << 20;
/// Deepest component nesting accepted.
pub(crate) const MAX_DEPTH: usize = 64;

/// SBOM format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SbomFormat {
    /// CycloneDX JSON.
    CyclonedxJson,
    /// CycloneDX XML.
    CyclonedxXml,
    /// SPDX 2.x JSON.
    SpdxJson,
    /// SPDX 2.x tag-value.
    SpdxTagValue,
}

/// A parsed SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sbom {
    /// Format.
    pub format: SbomFormat,
    /// Spec version (`1.4`, `SPDX-2.3`), if stated.
    pub spec_version: Option<String>,
    /// The component the SBOM describes (CycloneDX `metadata.component`).
    pub subject: Option<Component>,
    /// Components, deduplicated by key (canonical purl), in document order.
    pub components: Vec<Component>,
    /// Entries that were skipped (bad purl, missing name), with location.
    pub problems: Vec<String>,
}

impl Sbom {
    pub(crate) fn new(format: SbomFormat) -> Sbom {
        Sbom {
            format,
            spec_version: None,
            subject: None,
            components: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Adds a component from its parts; the purl wins where it parses.
    pub(crate) fn push(
        &mut self,
        location: &str,
        name: Option<&str>,
        group: Option<&str>,
        version: Option<&str>,
        purl: Option<&str>,
        bom_ref: Option<&str>,
    ) -> Option<Component> {
        let purl = purl.map(str::trim).filter(|p| !p.is_empty());
        let mut c = match purl.map(str::parse::<Purl>) {
            Some(Ok(p)) => Component::from_purl(p),
            Some(Err(e)) => {
                self.problems.push(format!("{location}: {e}"));
                return None;
            }
            None => {
                let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
                    self.problems
                        .push(format!("{location}: component without name or purl"));
                    return None;
                };
                let full = match group.filter(|g| !g.is_empty()) {
                    Some(g) => format!("{g}/{name}"),
                    None => name.to_owned(),
                };
                Component {
                    name: full,
                    version: version.map(str::to_owned).filter(|v| !v.is_empty()),
                    purl: None,
                    ecosystem: None,
                    distro_release: None,
                    source_name: None,
                    bom_ref: None,
                }
            }
        };
        if c.version.is_none() {
            c.version = version.map(str::to_owned).filter(|v| !v.is_empty());
        }
        c.bom_ref = bom_ref.map(str::to_owned);
        Some(c)
    }

    pub(crate) fn finish(mut self) -> Sbom {
        let mut seen = std::collections::HashSet::new();
        self.components.retain(|c| seen.insert(c.key()));
        self
    }
}

/// Parses an SBOM from bytes: gzip-compressed documents (`.json.gz`) are
/// inflated first, up to [`MAX_SBOM_BYTES`].
pub fn parse_bytes(bytes: &[u8]) -> Result<Sbom> {
    use std::io::Read;
    let mut inflated = Vec::new();
    let data = if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_SBOM_BYTES as u64 + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| Error::parse("sbom", "gzip", e))?;
        Error::check_size("SBOM (inflated)", inflated.len(), MAX_SBOM_BYTES)?;
        inflated.as_slice()
    } else {
        bytes
    };
    let text = std::str::from_utf8(data)
        .map_err(|e| Error::parse("sbom", format!("byte {}", e.valid_up_to()), "not UTF-8"))?;
    parse(text)
}

/// Parses an SBOM, detecting its format from the content.
pub fn parse(text: &str) -> Result<Sbom> {
    Error::check_size("SBOM", text.len(), MAX_SBOM_BYTES)?;
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return cyclonedx_xml::parse(text);
    }
    if t.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(t)
            .map_err(|e| Error::parse("sbom-json", format!("line {}", e.line()), e))?;
        if v.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
            return cyclonedx_json::from_value(&v);
        }
        if v.get("spdxVersion").is_some() {
            return spdx_json::from_value(&v);
        }
        if v.get("@context").is_some() {
            return Err(Error::parse(
                "sbom-json",
                "@context",
                "SPDX 3.0 JSON-LD is not supported",
            ));
        }
        return Err(Error::parse(
            "sbom-json",
            "root",
            "neither CycloneDX (bomFormat) nor SPDX (spdxVersion)",
        ));
    }
    if t.starts_with("SPDXVersion:") || t.lines().any(|l| l.starts_with("SPDXVersion:")) {
        return spdx_tag::parse(text);
    }
    Err(Error::parse("sbom", "start", "unrecognised SBOM format"))
}

pub use cyclonedx_json::parse as parse_cyclonedx_json;
pub use cyclonedx_xml::parse as parse_cyclonedx_xml;
pub use spdx_json::parse as parse_spdx_json;
pub use spdx_tag::parse as parse_spdx_tag_value;

#[cfg(test)]
mod tests;

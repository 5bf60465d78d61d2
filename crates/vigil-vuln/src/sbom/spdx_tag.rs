//! SPDX 2.x tag-value: `PackageName`, `SPDXID`, `PackageVersion` and
//! `ExternalRef: PACKAGE-MANAGER purl <purl>`; `<text>` blocks skipped.

use super::{Sbom, SbomFormat};
use crate::error::{Error, Result};

#[derive(Default)]
struct Pkg {
    line: usize,
    name: Option<String>,
    id: Option<String>,
    version: Option<String>,
    purl: Option<String>,
}

fn flush(sbom: &mut Sbom, p: Option<Pkg>) {
    if let Some(p) = p {
        let loc = format!("line {}", p.line);
        if let Some(c) = sbom.push(
            &loc,
            p.name.as_deref(),
            None,
            p.version.as_deref(),
            p.purl.as_deref(),
            p.id.as_deref(),
        ) {
            sbom.components.push(c);
        }
    }
}

/// Parses an SPDX 2.x tag-value document.
pub fn parse(text: &str) -> Result<Sbom> {
    Error::check_size("SBOM", text.len(), super::MAX_SBOM_BYTES)?;
    let mut sbom = Sbom::new(SbomFormat::SpdxTagValue);
    let mut cur: Option<Pkg> = None;
    let mut in_text = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if in_text {
            if line.contains("</text>") {
                in_text = false;
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(Error::parse(
                "spdx-tag-value",
                format!("line {}", i + 1),
                "expected 'Tag: value'",
            ));
        };
        let value = value.trim();
        if value.starts_with("<text>") && !value.contains("</text>") {
            in_text = true;
            continue;
        }
        match key.trim() {
            "SPDXVersion" => sbom.spec_version = Some(value.to_owned()),
            "PackageName" => {
                flush(&mut sbom, cur.take());
                cur = Some(Pkg {
                    line: i + 1,
                    name: Some(value.to_owned()),
                    ..Pkg::default()
                });
            }
            "FileName" | "SnippetSPDXID" | "LicenseID" => flush(&mut sbom, cur.take()),
            "SPDXID" => {
                if let Some(p) = &mut cur
                    && p.id.is_none()
                {
                    p.id = Some(value.to_owned());
                }
            }
            "PackageVersion" => {
                if let Some(p) = &mut cur {
                    p.version = Some(value.to_owned());
                }
            }
            "ExternalRef" => {
                let mut parts = value.split_whitespace();
                let (cat, ty, loc) = (parts.next(), parts.next(), parts.next());
                if let (Some(p), Some(cat), Some("purl"), Some(loc)) = (&mut cur, cat, ty, loc)
                    && matches!(cat, "PACKAGE-MANAGER" | "PACKAGE_MANAGER")
                    && p.purl.is_none()
                {
                    p.purl = Some(loc.to_owned());
                }
            }
            _ => {}
        }
    }
    flush(&mut sbom, cur.take());
    Ok(sbom.finish())
}

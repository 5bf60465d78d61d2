//! SPDX 2.x JSON: `packages` with `versionInfo` and `PACKAGE-MANAGER purl`
//! external references.

use serde_json::Value;

use super::{Sbom, SbomFormat};
use crate::error::{Error, Result};

/// Parses an SPDX 2.x JSON document.
pub fn parse(text: &str) -> Result<Sbom> {
    Error::check_size("SBOM", text.len(), super::MAX_SBOM_BYTES)?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::parse("spdx-json", format!("line {}", e.line()), e))?;
    from_value(&v)
}

pub(crate) fn from_value(v: &Value) -> Result<Sbom> {
    let Some(ver) = v.get("spdxVersion").and_then(Value::as_str) else {
        return Err(Error::parse("spdx-json", "spdxVersion", "missing"));
    };
    let mut sbom = Sbom::new(SbomFormat::SpdxJson);
    sbom.spec_version = Some(ver.to_owned());
    let packages = v
        .get("packages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, p) in packages.iter().enumerate() {
        let s = |k: &str| p.get(k).and_then(Value::as_str);
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter().find_map(|r| {
                    let cat = r
                        .get("referenceCategory")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let ty = r.get("referenceType").and_then(Value::as_str).unwrap_or("");
                    (ty == "purl" && matches!(cat, "PACKAGE-MANAGER" | "PACKAGE_MANAGER" | ""))
                        .then(|| r.get("referenceLocator").and_then(Value::as_str))
                        .flatten()
                })
            });
        let loc = format!("packages[{i}]");
        if let Some(c) = sbom.push(&loc, s("name"), None, s("versionInfo"), purl, s("SPDXID")) {
            sbom.components.push(c);
        }
    }
    Ok(sbom.finish())
}

//! CycloneDX JSON: `components` (recursively nested) and
//! `metadata.component`.

use serde_json::Value;

use super::{MAX_DEPTH, Sbom, SbomFormat};
use crate::error::{Error, Result};

/// Parses a CycloneDX JSON document.
pub fn parse(text: &str) -> Result<Sbom> {
    Error::check_size("SBOM", text.len(), super::MAX_SBOM_BYTES)?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::parse("cyclonedx-json", format!("line {}", e.line()), e))?;
    from_value(&v)
}

fn component(sbom: &mut Sbom, v: &Value, path: &str) -> Option<crate::component::Component> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    sbom.push(
        path,
        s("name"),
        s("group"),
        s("version"),
        s("purl"),
        s("bom-ref"),
    )
}

fn walk(sbom: &mut Sbom, list: &Value, path: &str, depth: usize) -> Result<()> {
    let Some(items) = list.as_array() else {
        return Ok(());
    };
    if depth > MAX_DEPTH {
        return Err(Error::parse(
            "cyclonedx-json",
            path,
            "components nested too deeply",
        ));
    }
    for (i, c) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(comp) = component(sbom, c, &p) {
            sbom.components.push(comp);
        }
        if let Some(children) = c.get("components") {
            walk(sbom, children, &format!("{p}.components"), depth + 1)?;
        }
    }
    Ok(())
}

pub(crate) fn from_value(v: &Value) -> Result<Sbom> {
    if v.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return Err(Error::parse(
            "cyclonedx-json",
            "bomFormat",
            "not a CycloneDX document",
        ));
    }
    let mut sbom = Sbom::new(SbomFormat::CyclonedxJson);
    sbom.spec_version = v
        .get("specVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(m) = v.get("metadata").and_then(|m| m.get("component")) {
        sbom.subject = component(&mut sbom, m, "metadata.component");
        if let Some(children) = m.get("components") {
            walk(&mut sbom, children, "metadata.component.components", 1)?;
        }
    }
    if let Some(list) = v.get("components") {
        walk(&mut sbom, list, "components", 0)?;
    }
    Ok(sbom.finish())
}

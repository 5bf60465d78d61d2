//! Language lock files: Cargo.lock, package-lock.json (v1–v3),
//! requirements.txt (pinned `==`), poetry.lock and go.sum.

use serde_json::Value;

use super::Inventory;
use crate::component::Component;
use crate::ecosystem::Ecosystem;
use crate::error::{Error, Result};

fn toml_doc(format: &'static str, text: &str) -> Result<toml::Table> {
    Error::check_size(format, text.len(), super::MAX_INVENTORY_BYTES)?;
    text.parse::<toml::Table>().map_err(|e| {
        let loc = e
            .span()
            .map_or_else(|| "document".to_owned(), |s| format!("byte {}", s.start));
        Error::parse(format, loc, e.message())
    })
}

fn toml_packages(
    format: &'static str,
    text: &str,
    eco: Ecosystem,
    registry_only: bool,
) -> Result<Inventory> {
    let doc = toml_doc(format, text)?;
    let mut inv = Inventory::default();
    let pkgs = doc
        .get("package")
        .and_then(|p| p.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, p) in pkgs.iter().enumerate() {
        let s = |k: &str| p.get(k).and_then(|v| v.as_str());
        let (Some(name), Some(version)) = (s("name"), s("version")) else {
            inv.problems
                .push(format!("package[{i}]: missing name or version"));
            continue;
        };
        if registry_only
            && !s("source")
                .is_some_and(|src| src.starts_with("registry+") || src.starts_with("sparse+"))
        {
            continue; // workspace members, path and git dependencies
        }
        inv.components
            .push(Component::new(eco, name, Some(version)));
    }
    Ok(inv)
}

/// Cargo.lock: registry packages (workspace, path and git ones are skipped).
pub fn parse_cargo_lock(text: &str) -> Result<Inventory> {
    toml_packages("Cargo.lock", text, Ecosystem::CratesIo, true)
}

/// poetry.lock: every `[[package]]`.
pub fn parse_poetry_lock(text: &str) -> Result<Inventory> {
    toml_packages("poetry.lock", text, Ecosystem::PyPI, false)
}

/// package-lock.json, lockfileVersion 1 (`dependencies`, nested) or 2/3
/// (`packages` keyed by `node_modules/...` paths). Linked and root entries
/// are skipped.
pub fn parse_package_lock(text: &str) -> Result<Inventory> {
    Error::check_size("package-lock.json", text.len(), super::MAX_INVENTORY_BYTES)?;
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| Error::parse("package-lock.json", format!("line {}", e.line()), e))?;
    let mut inv = Inventory::default();
    if let Some(pkgs) = doc.get("packages").and_then(Value::as_object) {
        for (path, p) in pkgs {
            let Some(idx) = path.rfind("node_modules/") else {
                continue;
            };
            if p.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = &path[idx + "node_modules/".len()..];
            match p.get("version").and_then(Value::as_str) {
                Some(v) => inv
                    .components
                    .push(Component::new(Ecosystem::Npm, name, Some(v))),
                None => inv.problems.push(format!("packages[{path:?}]: no version")),
            }
        }
    } else if let Some(deps) = doc.get("dependencies") {
        v1_deps(&mut inv, deps, "dependencies", 0);
    }
    let mut seen = std::collections::HashSet::new();
    inv.components.retain(|c| seen.insert(c.key()));
    // JSON object order is not ours to rely on (serde_json's
    // `preserve_order` is switched on by other crates in the workspace).
    inv.components.sort_by_cached_key(Component::key);
    Ok(inv)
}

fn v1_deps(inv: &mut Inventory, deps: &Value, path: &str, depth: usize) {
    let Some(map) = deps.as_object() else { return };
    if depth > 256 {
        inv.problems.push(format!("{path}: nested too deeply"));
        return;
    }
    for (name, d) in map {
        match d.get("version").and_then(Value::as_str) {
            Some(v) if !v.starts_with("file:") && !v.starts_with("link:") => {
                inv.components
                    .push(Component::new(Ecosystem::Npm, name, Some(v)));
            }
            Some(_) => {}
            None => inv.problems.push(format!("{path}.{name}: no version")),
        }
        if let Some(sub) = d.get("dependencies") {
            v1_deps(inv, sub, &format!("{path}.{name}.dependencies"), depth + 1);
        }
    }
}

/// requirements.txt: `name[extras]==version` lines (pins); options,
/// comments, markers and hashes are ignored; unpinned requirements are
/// reported as problems.
pub fn parse_requirements(text: &str) -> Result<Inventory> {
    Error::check_size("requirements.txt", text.len(), super::MAX_INVENTORY_BYTES)?;
    let mut inv = Inventory::default();
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    for (i, raw) in joined.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or(raw).trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let req = line.split(';').next().unwrap_or(line);
        let req = req.split(" --").next().unwrap_or(req).trim();
        let (name, version) = if let Some((n, v)) = req.split_once("===") {
            (n, v)
        } else if let Some((n, v)) = req.split_once("==") {
            (n, v)
        } else {
            inv.problems
                .push(format!("line {}: not pinned with ==: {req}", i + 1));
            continue;
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.trim();
        if name.is_empty() || version.is_empty() || version.contains([',', '*']) {
            inv.problems
                .push(format!("line {}: not an exact pin: {req}", i + 1));
            continue;
        }
        inv.components.push(Component::new(
            Ecosystem::PyPI,
            &Ecosystem::PyPI.normalize_name(name),
            Some(version),
        ));
    }
    Ok(inv)
}

/// go.sum: one component per module version (`/go.mod` lines fold into
/// their module).
pub fn parse_go_sum(text: &str) -> Result<Inventory> {
    Error::check_size("go.sum", text.len(), super::MAX_INVENTORY_BYTES)?;
    let mut inv = Inventory::default();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let mut f = line.split_whitespace();
        let (Some(module), Some(version), Some(_hash)) = (f.next(), f.next(), f.next()) else {
            if !line.trim().is_empty() {
                inv.problems
                    .push(format!("line {}: expected 'module version hash'", i + 1));
            }
            continue;
        };
        let version = version.strip_suffix("/go.mod").unwrap_or(version);
        if seen.insert((module.to_owned(), version.to_owned())) {
            inv.components
                .push(Component::new(Ecosystem::Go, module, Some(version)));
        }
    }
    Ok(inv)
}

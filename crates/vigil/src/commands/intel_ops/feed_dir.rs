//! MISP feed directories and CSV column mappings for `vigil intel import`.
//!
//! A directory holding `manifest.json` is a MISP feed: the manifest lists
//! the events, each in `<uuid>.json` beside it; `hashes.csv` (MD5s of
//! attribute values, for quick lookups) is checked and counted but adds no
//! indicators. An event the manifest lists but the directory lacks is
//! reported with its uuid; the others are imported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use vigil_intel::ItemError;
use vigil_intel::list::ListFormat;
use vigil_intel::misp;
use vigil_intel::stix::ImportOptions;

use crate::commands::intel::Parsed;

/// Licence and readme files that sit beside data in published folders.
pub fn is_legal_file(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    [
        "LICENSE", "LICENCE", "COPYING", "README", "NOTICE", "AUTHORS",
    ]
    .iter()
    .any(|p| up.starts_with(p))
}

/// The CSV format of `--columns`/`--header`/`--delimiter`; `None` when
/// none of them is given.
pub fn csv_format(
    columns: Option<&str>,
    header: bool,
    delimiter: Option<char>,
) -> Result<Option<ListFormat>> {
    if columns.is_none() && !header && delimiter.is_none() {
        return Ok(None);
    }
    let mut f = match columns {
        Some(c) => ListFormat::from_columns(c).context("--columns")?,
        None => ListFormat::default(),
    };
    f.header = header;
    if let Some(d) = delimiter {
        f.delimiter = Some(d);
    }
    Ok(Some(f))
}

/// `files` without the event files of MISP feed directories (those are
/// read through the feed's `manifest.json`).
pub fn without_feed_events(files: &[PathBuf]) -> Vec<PathBuf> {
    let feed_dirs: BTreeSet<&Path> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "manifest.json"))
        .filter_map(|f| f.parent())
        .collect();
    files
        .iter()
        .filter(|f| {
            let in_feed = f.parent().is_some_and(|p| feed_dirs.contains(p));
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !(in_feed && name != "manifest.json" && name != "hashes.csv")
        })
        .cloned()
        .collect()
}

/// Reads `manifest.json` (and the events it lists) or `hashes.csv` of a
/// MISP feed directory; `None` for any other file.
pub fn parse_feed_file(path: &Path, source: &str, opts: &ImportOptions) -> Result<Option<Parsed>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(dir) = path.parent() else {
        return Ok(None);
    };
    match name {
        "manifest.json" => {
            let bytes = std::fs::read(path).context("cannot read the manifest")?;
            let (entries, mut report) = misp::parse_manifest(&bytes)?;
            let mut inds = Vec::new();
            for e in &entries {
                let f = dir.join(e.file_name());
                let loc = f.display().to_string();
                let parsed = std::fs::read(&f)
                    .with_context(|| {
                        format!("cannot read {} listed in the manifest", e.file_name())
                    })
                    .and_then(|b| Ok(misp::parse_events(&b, source, opts)?));
                match parsed {
                    Ok(imp) => {
                        let mut r = imp.report;
                        for err in &mut r.errors {
                            err.source = loc.clone();
                        }
                        report.absorb(r);
                        inds.extend(imp.indicators);
                    }
                    Err(err) => report.errors.push(ItemError {
                        source: loc,
                        id: e.uuid.clone(),
                        reason: format!("{err:#}"),
                    }),
                }
            }
            Ok(Some((inds, Vec::new(), report)))
        }
        "hashes.csv" if dir.join("manifest.json").is_file() => {
            let bytes = std::fs::read(path).context("cannot read hashes.csv")?;
            let (_, report) = misp::parse_hashes_csv(&bytes)?;
            Ok(Some((Vec::new(), Vec::new(), report)))
        }
        _ => other_misp_file(path),
    }
}

/// Files published beside MISP data that hold no indicators: STIX 1.x XML
/// (one error for the file, not one per line), warninglists (use
/// `--warninglists`), galaxies and galaxy clusters, JSON schemas. Counted
/// and skipped; `None` for anything else.
fn other_misp_file(path: &Path) -> Result<Option<Parsed>> {
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let first = text.trim_start().chars().next();
    let mut report = vigil_intel::ImportReport::default();
    if first == Some('<') {
        report.errors.push(ItemError {
            source: path.display().to_string(),
            id: "file".into(),
            reason: "XML (STIX 1.x) is not supported; use STIX 2.x JSON".into(),
        });
        return Ok(Some((Vec::new(), Vec::new(), report)));
    }
    if first != Some('{') || path.extension().is_none_or(|e| e != "json") {
        return Ok(None);
    }
    let bytes = std::fs::read(path).context("cannot read the file")?;
    let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(&bytes)
    else {
        return Ok(None);
    };
    let kind = if m.contains_key("list") && m.contains_key("matching_attributes") {
        "misp-warninglist"
    } else if m.contains_key("values") && m.contains_key("authors") {
        "misp-galaxy-cluster"
    } else if m.contains_key("namespace") && m.contains_key("icon") && m.contains_key("uuid") {
        "misp-galaxy"
    } else if m.contains_key("$schema") || m.contains_key("definitions") {
        "json-schema"
    } else {
        return Ok(None);
    };
    report.objects.insert(kind.into(), 1);
    report.skipped += 1;
    Ok(Some((Vec::new(), Vec::new(), report)))
}

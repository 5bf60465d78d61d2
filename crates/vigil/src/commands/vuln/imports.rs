//! `vigil sbom import` and `vigil vulns import osv|kev|epss|scan`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_store::{EpssScore, KevEntry, VulnRecord};
use vigil_vuln::osv::OsvRecord;
use vigil_vulnops::Hit;

use super::args::{SbomCommand, VulnsImportCommand};
use super::{TENANT, asset_or_create, csv, now};
use crate::config::Config;
use crate::context;

/// Largest file read by an import (OSV zip archives of big ecosystems are a
/// few hundred MB).
const MAX_FILE_BYTES: u64 = 1 << 30;

fn read(path: &Path) -> Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{}: {} bytes is more than the {} accepted",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_FILE_BYTES)
            .read_to_end(&mut out)
            .with_context(|| format!("{}: bad gzip data", path.display()))?;
        return Ok(out);
    }
    Ok(bytes)
}

fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read(path)?).with_context(|| format!("{}: not UTF-8 text", path.display()))
}

pub(crate) fn bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(s) = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} {{per_sec}} eta {{eta}}"
    )) {
        pb.set_style(s);
    }
    pb
}

pub async fn sbom(cfg: Config, cmd: SbomCommand) -> Result<ExitCode> {
    let SbomCommand::Import(a) = cmd;
    let bytes = read(&a.file)?;
    let doc = vigil_vuln::sbom::parse_bytes(&bytes)
        .with_context(|| format!("{}: not a CycloneDX or SPDX document", a.file.display()))?;
    for p in &doc.problems {
        eprintln!("{}: {p}", a.file.display());
    }
    let store = context::open_store(&cfg).await?;
    let now = now()?;
    let asset = asset_or_create(&store, &a.asset, now).await?;
    let out = vigil_vulnops::import_sbom(
        &store,
        TENANT,
        &cfg.vuln,
        &asset,
        "sbom",
        doc.components,
        now,
    )
    .await?;
    let (n, stats) = (out.components, out.findings);
    println!(
        "asset {}: {n} components; findings: {} new, {} fixed, {} reopened, {} still present",
        asset.asset.name, stats.opened, stats.fixed, stats.reopened, stats.unchanged
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn run(cfg: Config, cmd: VulnsImportCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let now = now()?;
    let mut code = ExitCode::SUCCESS;
    match cmd {
        VulnsImportCommand::Osv { path, quiet } => {
            let (records, problems) = read_osv(&path, quiet)?;
            for p in problems.iter().take(20) {
                eprintln!("{p}");
            }
            if problems.len() > 20 {
                eprintln!("… and {} more problems", problems.len() - 20);
            }
            if !problems.is_empty() {
                code = ExitCode::from(1);
            }
            let rows: Vec<VulnRecord> = records
                .iter()
                .filter_map(|r| {
                    Some(VulnRecord {
                        id: r.id.clone(),
                        aliases: r.aliases.clone(),
                        modified: r.modified.clone(),
                        summary: r.summary.clone(),
                        record: serde_json::to_string(r).ok()?,
                    })
                })
                .collect();
            let pb = bar(rows.len() as u64, quiet, "storing");
            for chunk in rows.chunks(1000) {
                store.upsert_vuln_records(chunk, now).await?;
                pb.inc(chunk.len() as u64);
            }
            pb.finish_and_clear();
            let s = vigil_vulnops::refresh_all(&store, TENANT, &cfg.vuln, now).await?;
            println!(
                "osv: {} records imported, {} problems; findings: {} new, {} fixed, {} reopened",
                rows.len(),
                problems.len(),
                s.opened,
                s.fixed,
                s.reopened
            );
        }
        VulnsImportCommand::Kev { file } => {
            let text = read_text(&file)?;
            let (entries, bad) = parse_kev(&file, &text)?;
            store.upsert_kev(&entries, now).await?;
            vigil_vulnops::rescore_all(&store, TENANT, &cfg.vuln, now).await?;
            println!("kev: {} entries imported, {bad} rejected", entries.len());
            if bad > 0 {
                code = ExitCode::from(1);
            }
        }
        VulnsImportCommand::Epss { file } => {
            let text = read_text(&file)?;
            let (scores, bad) = parse_epss(&file, &text)?;
            store.upsert_epss(&scores, now).await?;
            vigil_vulnops::rescore_all(&store, TENANT, &cfg.vuln, now).await?;
            println!("epss: {} scores imported, {bad} rejected", scores.len());
            if bad > 0 {
                code = ExitCode::from(1);
            }
        }
        VulnsImportCommand::Scan { file, asset } => {
            let text = read_text(&file)?;
            let report = vigil_vuln::scanners::parse_report(&text).with_context(|| {
                format!(
                    "{}: not a Trivy, Grype, osv-scanner or SARIF report",
                    file.display()
                )
            })?;
            for p in &report.problems {
                eprintln!("{}: {p}", file.display());
            }
            let asset = asset_or_create(&store, &asset, now).await?;
            let source = format!(
                "scan:{}",
                serde_json::to_value(report.format)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "report".into())
            );
            let r = vigil_vulnops::load_reference(&store, TENANT, now).await?;
            let hits: Vec<Hit> = report
                .findings
                .into_iter()
                .map(|f| {
                    let canonical = std::iter::once(&f.vulnerability)
                        .chain(&f.aliases)
                        .find(|i| i.starts_with("CVE-"))
                        .cloned()
                        .unwrap_or_else(|| f.vulnerability.clone());
                    let mut aliases: Vec<String> = std::iter::once(f.vulnerability.clone())
                        .chain(f.aliases)
                        .collect();
                    aliases.sort();
                    aliases.dedup();
                    let component = f.purl.as_ref().map_or_else(
                        || {
                            format!(
                                "{}@{}",
                                f.name.as_deref().unwrap_or("?"),
                                f.version.as_deref().unwrap_or("")
                            )
                        },
                        ToString::to_string,
                    );
                    Hit {
                        component,
                        package: f.name.unwrap_or_default(),
                        version: f.version.unwrap_or_default(),
                        ecosystem: f
                            .purl
                            .as_ref()
                            .map(|p| p.ty().to_owned())
                            .unwrap_or_default(),
                        vulnerability: canonical,
                        aliases,
                        summary: f.title,
                        cvss_vector: None,
                        severity: serde_json::to_value(f.severity)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_else(|| "unknown".into()),
                        fixed: f.fixed_version.into_iter().collect(),
                        exploit_refs: false,
                    }
                })
                .collect();
            let n = hits.len();
            let s =
                vigil_vulnops::reconcile(&store, TENANT, &cfg.vuln, &r, &asset, &source, hits, now)
                    .await?;
            println!(
                "{source}: {n} findings reported for {}; {} new, {} fixed, {} reopened",
                asset.asset.name, s.opened, s.fixed, s.reopened
            );
        }
    }
    store.close().await;
    Ok(code)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            // OSV's JSON Schema and its ecosystem list live in `schema/`.
            if p.file_name().is_some_and(|n| n == "schema") {
                continue;
            }
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "yaml" | "yml")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads OSV records from a directory or a zip archive; problems carry the
/// file (and record) they come from.
fn read_osv(path: &Path, quiet: bool) -> Result<(Vec<OsvRecord>, Vec<String>)> {
    let mut problems = Vec::new();
    if path.is_file() {
        let bytes = read(path)?;
        let (records, probs) = vigil_vuln::osv::parse_zip(&bytes)
            .with_context(|| format!("{}: not an OSV zip archive", path.display()))?;
        problems.extend(
            probs
                .into_iter()
                .map(|p| format!("{}: {}: {}", path.display(), p.record_id, p.reason)),
        );
        return Ok((records, problems));
    }
    let mut files = Vec::new();
    walk(path, &mut files)?;
    let pb = bar(files.len() as u64, quiet, "reading");
    let mut records = Vec::new();
    for f in &files {
        pb.inc(1);
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".schema.json") {
            continue;
        }
        let text = match read_text(f) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        match vigil_vuln::osv::parse_file(name, &text) {
            Ok(mut v) => records.append(&mut v),
            Err(e) => problems.push(format!("{}: {e}", f.display())),
        }
    }
    pb.finish_and_clear();
    Ok((records, problems))
}

fn parse_kev(file: &Path, text: &str) -> Result<(Vec<KevEntry>, usize)> {
    let mut out = Vec::new();
    let mut bad = 0;
    if text.trim_start().starts_with('{') {
        let doc: serde_json::Value =
            serde_json::from_str(text).with_context(|| format!("{}: not JSON", file.display()))?;
        let Some(list) = doc.get("vulnerabilities").and_then(|v| v.as_array()) else {
            bail!(
                "{}: no `vulnerabilities` array (is this CISA's KEV catalog?)",
                file.display()
            );
        };
        for (i, v) in list.iter().enumerate() {
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
            match (s("cveID"), s("dateAdded")) {
                (Some(cve), Some(date_added)) => out.push(KevEntry {
                    cve,
                    vendor: s("vendorProject").unwrap_or_default(),
                    product: s("product").unwrap_or_default(),
                    name: s("vulnerabilityName").unwrap_or_default(),
                    date_added,
                    due_date: s("dueDate"),
                    ransomware: s("knownRansomwareCampaignUse").unwrap_or_else(|| "Unknown".into()),
                }),
                _ => {
                    eprintln!(
                        "{}: vulnerabilities[{i}]: no cveID or dateAdded; skipped",
                        file.display()
                    );
                    bad += 1;
                }
            }
        }
        return Ok((out, bad));
    }
    let recs = csv::records(text);
    let Some((h, rows)) = recs.split_first() else {
        bail!("{}: empty file", file.display());
    };
    let c = |n: &[&str]| csv::column(&h.fields, n);
    let (Some(cve), Some(added)) = (c(&["cveID"]), c(&["dateAdded"])) else {
        bail!(
            "{}:{}: expected KEV columns cveID and dateAdded",
            file.display(),
            h.line
        );
    };
    let (vendor, product, name, due, rw) = (
        c(&["vendorProject"]),
        c(&["product"]),
        c(&["vulnerabilityName"]),
        c(&["dueDate"]),
        c(&["knownRansomwareCampaignUse"]),
    );
    for r in rows {
        let g = |i: Option<usize>| i.and_then(|i| r.fields.get(i)).map(|s| s.trim().to_owned());
        match (
            g(Some(cve)).filter(|s| s.starts_with("CVE-")),
            g(Some(added)),
        ) {
            (Some(cve), Some(date_added)) => out.push(KevEntry {
                cve,
                vendor: g(vendor).unwrap_or_default(),
                product: g(product).unwrap_or_default(),
                name: g(name).unwrap_or_default(),
                date_added,
                due_date: g(due).filter(|s| !s.is_empty()),
                ransomware: g(rw).unwrap_or_else(|| "Unknown".into()),
            }),
            _ => {
                eprintln!(
                    "{}:{}: no CVE id or dateAdded; row skipped",
                    file.display(),
                    r.line
                );
                bad += 1;
            }
        }
    }
    Ok((out, bad))
}

fn parse_epss(file: &Path, text: &str) -> Result<(Vec<(String, EpssScore)>, usize)> {
    let recs = csv::records(text);
    let Some((h, rows)) = recs.split_first() else {
        bail!("{}: empty file", file.display());
    };
    let c = |n: &[&str]| csv::column(&h.fields, n);
    let (Some(cve), Some(score), Some(pct)) = (
        c(&["cve"]),
        c(&["epss"]),
        c(&["percentile", "epss percentile"]),
    ) else {
        bail!(
            "{}:{}: expected columns cve, epss and percentile in the header",
            file.display(),
            h.line
        );
    };
    let mut out = Vec::new();
    let mut bad = 0;
    for r in rows {
        let g = |i: usize| r.fields.get(i).map(|s| s.trim());
        let parsed = (|| {
            let id = g(cve).filter(|s| s.starts_with("CVE-"))?.to_owned();
            let s: f64 = g(score)?.parse().ok()?;
            let p: f64 = g(pct)?.parse().ok()?;
            ((0.0..=1.0).contains(&s) && (0.0..=1.0).contains(&p)).then_some((
                id,
                EpssScore {
                    score: s,
                    percentile: p,
                },
            ))
        })();
        match parsed {
            Some(x) => out.push(x),
            None => {
                eprintln!(
                    "{}:{}: expected a CVE id and scores between 0 and 1; row skipped",
                    file.display(),
                    r.line
                );
                bad += 1;
            }
        }
    }
    Ok((out, bad))
}

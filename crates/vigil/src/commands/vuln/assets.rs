//! `vigil assets add|list|show|import-csv`.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use vigil_store::{AssetRecord, FindingQuery, NewAsset};

use super::args::{AssetAddArgs, AssetsCommand};
use super::{TENANT, csv, now};
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

pub async fn run(cfg: Config, cmd: AssetsCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let code = match cmd {
        AssetsCommand::Add(a) => add(&store, a).await?,
        AssetsCommand::List(f) => list(&store, f.format).await?,
        AssetsCommand::Show { asset, format } => show(&store, &asset, format.format).await?,
        AssetsCommand::ImportCsv { file } => import_csv(&store, &file).await?,
        AssetsCommand::Discover => {
            let registry = std::sync::Arc::new(vigil_model::FieldRegistry::new());
            let d = super::discovery::discover_once(&store, &registry, now()?).await?;
            println!(
                "assets: {} created, {} linked, from {} events",
                d.created, d.linked, d.events
            );
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

async fn add(store: &vigil_store::Store, a: AssetAddArgs) -> Result<ExitCode> {
    let asset = NewAsset {
        name: a.name,
        kind: a.kind.trim().to_ascii_lowercase(),
        ips: a.ips,
        os: a.os,
        owner: a.owner,
        criticality: a.criticality,
        exposure: a.exposure.trim().to_ascii_lowercase(),
        data_classes: lower(a.data_classes),
        tags: a.tags,
    };
    let (rec, created) = store.upsert_asset(TENANT, &asset, now()?).await?;
    println!(
        "{} asset {} ({})",
        if created { "created" } else { "updated" },
        rec.asset.name,
        rec.id
    );
    Ok(ExitCode::SUCCESS)
}

/// One asset as listed.
#[derive(Serialize)]
struct AssetRow {
    id: String,
    name: String,
    kind: String,
    ips: Vec<String>,
    os: Option<String>,
    owner: Option<String>,
    criticality: u8,
    exposure: String,
    data_classes: Vec<String>,
    tags: Vec<String>,
    source: String,
    last_seen: Option<String>,
    open_findings: usize,
}

impl AssetRow {
    fn new(a: AssetRecord, open: usize) -> Self {
        let n = a.asset;
        AssetRow {
            id: a.id,
            name: n.name,
            kind: n.kind,
            ips: n.ips,
            os: n.os,
            owner: n.owner,
            criticality: n.criticality,
            exposure: n.exposure,
            data_classes: n.data_classes,
            tags: n.tags,
            source: a.source,
            last_seen: a.last_seen.map(|t| t.to_rfc3339()),
            open_findings: open,
        }
    }
}

impl Row for AssetRow {
    fn headers() -> &'static [&'static str] {
        &[
            "name",
            "kind",
            "criticality",
            "exposure",
            "data",
            "owner",
            "ips",
            "source",
            "last seen",
            "open",
            "id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.kind.clone(),
            self.criticality.to_string(),
            self.exposure.clone(),
            self.data_classes.join(";"),
            self.owner.clone().unwrap_or_else(|| "-".into()),
            self.ips.join(";"),
            self.source.clone(),
            self.last_seen.clone().unwrap_or_else(|| "-".into()),
            self.open_findings.to_string(),
            self.id.clone(),
        ]
    }
}

async fn open_counts(store: &vigil_store::Store) -> Result<HashMap<String, usize>> {
    let mut m = HashMap::new();
    let q = FindingQuery {
        statuses: vec!["open".into(), "reopened".into()],
        ..FindingQuery::default()
    };
    for f in vigil_vulnops::all_findings(store, TENANT, &q).await? {
        *m.entry(f.asset_id).or_insert(0) += 1;
    }
    Ok(m)
}

async fn list(store: &vigil_store::Store, format: OutputFormat) -> Result<ExitCode> {
    let counts = open_counts(store).await?;
    let rows: Vec<AssetRow> = store
        .list_assets(TENANT)
        .await?
        .into_iter()
        .map(|a| {
            let n = counts.get(&a.id).copied().unwrap_or(0);
            AssetRow::new(a, n)
        })
        .collect();
    output::print(&rows, format)?;
    Ok(ExitCode::SUCCESS)
}

async fn show(store: &vigil_store::Store, name: &str, format: OutputFormat) -> Result<ExitCode> {
    let Some(a) = store.get_asset(TENANT, name).await? else {
        bail!("no asset {name:?} (see `vigil assets list`)");
    };
    let comps = store.list_components(TENANT, &a.id).await?;
    let findings = vigil_vulnops::all_findings(
        store,
        TENANT,
        &FindingQuery {
            asset_id: Some(a.id.clone()),
            ..FindingQuery::default()
        },
    )
    .await?;
    let open = findings
        .iter()
        .filter(|f| f.status == "open" || f.status == "reopened")
        .count();
    let row = AssetRow::new(a, open);
    if format == OutputFormat::Table {
        output::print(std::slice::from_ref(&row), format)?;
        println!("\ncomponents: {}", comps.len());
        let rows: Vec<super::findings::FindingRow> = findings
            .into_iter()
            .map(|f| super::findings::FindingRow::new(f, &row.name))
            .collect();
        println!("findings: {}", rows.len());
        if !rows.is_empty() {
            output::print(&rows, format)?;
        }
    } else {
        let doc = serde_json::json!({
            "asset": row,
            "components": comps.iter().map(|c| serde_json::json!({
                "source": c.source, "purl": c.purl, "name": c.name, "version": c.version,
                "ecosystem": c.ecosystem,
            })).collect::<Vec<_>>(),
            "findings": findings.into_iter().map(|f| super::findings::FindingRow::new(f, &row.name)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn split_list(s: &str) -> Vec<String> {
    s.split([';', '|'])
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect()
}

async fn import_csv(store: &vigil_store::Store, file: &std::path::Path) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let recs = csv::records(&text);
    let Some((header, rows)) = recs.split_first() else {
        bail!(
            "{}: empty file (expected a header row: name,kind,ips,os,owner,criticality,exposure,data_classes,tags)",
            file.display()
        );
    };
    let col = |names: &[&str]| csv::column(&header.fields, names);
    let Some(name_col) = col(&["name", "asset", "hostname"]) else {
        bail!(
            "{}:{}: no `name` column in the header",
            file.display(),
            header.line
        );
    };
    let (kind, ips, os, owner, crit, exp, data, tags) = (
        col(&["kind", "type"]),
        col(&["ips", "ip"]),
        col(&["os"]),
        col(&["owner"]),
        col(&["criticality"]),
        col(&["exposure"]),
        col(&["data_classes", "data"]),
        col(&["tags"]),
    );
    let now = now()?;
    let (mut created, mut updated, mut bad) = (0, 0, 0);
    for r in rows {
        let get = |c: Option<usize>| {
            c.and_then(|i| r.fields.get(i))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let criticality = match get(crit).map(|c| c.parse::<u8>()) {
            None => 3,
            Some(Ok(c)) => c,
            Some(Err(_)) => {
                eprintln!(
                    "{}:{}: criticality must be 1 to 5; row skipped",
                    file.display(),
                    r.line
                );
                bad += 1;
                continue;
            }
        };
        let asset = NewAsset {
            name: get(Some(name_col)).unwrap_or_default(),
            kind: get(kind)
                .unwrap_or_else(|| "host".into())
                .to_ascii_lowercase(),
            ips: get(ips).map(|s| split_list(&s)).unwrap_or_default(),
            os: get(os),
            owner: get(owner),
            criticality,
            exposure: get(exp)
                .unwrap_or_else(|| "internal".into())
                .to_ascii_lowercase(),
            data_classes: lower(get(data).map(|s| split_list(&s)).unwrap_or_default()),
            tags: get(tags).map(|s| split_list(&s)).unwrap_or_default(),
        };
        match store.upsert_asset(TENANT, &asset, now).await {
            Ok((_, true)) => created += 1,
            Ok((_, false)) => updated += 1,
            Err(e) => {
                eprintln!("{}:{}: {e}; row skipped", file.display(), r.line);
                bad += 1;
            }
        }
    }
    println!("assets: {created} created, {updated} updated, {bad} rejected");
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

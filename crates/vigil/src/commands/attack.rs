//! `vigil attack import FILE…` and `vigil attack show TECHNIQUE`: ATT&CK
//! STIX bundles (enterprise, mobile, ICS; 2.0 or 2.1; gzip transparent)
//! stored in the STIX graph, and a technique with its tactics, the groups
//! and software that use it, its mitigations, data components, and the
//! loaded Sigma rules that detect it (by `attack.tNNNN` tags). The logic
//! is the API's (`vigil_server::attack`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vigil_model::{TenantId, Timestamp};
use vigil_server::attack::{AttackImport, TechniqueDto, import_attack, technique};
use vigil_store::{RuleRecord, RuleSource};

use crate::builtin_rules;
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

/// ATT&CK subcommands.
#[derive(Debug, Subcommand)]
pub enum AttackCommand {
    /// Load ATT&CK STIX bundles: tactics, techniques and sub-techniques,
    /// groups, software, mitigations, data components and their
    /// relationships (revoked and deprecated objects kept but never shown
    /// as current). Importing the same file twice changes nothing. Exit
    /// code 1 when any object was rejected.
    Import(ImportArgs),
    /// Show a technique (T1059, T1059.001): tactics, groups and software
    /// that use it, mitigations, data components, and the loaded Sigma
    /// rules that detect it.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// ATT&CK bundle files (`enterprise-attack.json`, `.json.gz`, …) or
    /// directories of them (`*.json`, `*.json.gz`; licence files and the
    /// ATT&CK collection `index.json` are skipped).
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Report format: table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Technique id (T1059, T1059.001, attack.t1059) or STIX id.
    pub technique: String,
    /// Output format: table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub async fn run(cfg: Config, cmd: AttackCommand) -> Result<ExitCode> {
    match cmd {
        AttackCommand::Import(a) => import(cfg, a).await,
        AttackCommand::Show(a) => show(cfg, a).await,
    }
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    files: usize,
    objects: BTreeMap<String, usize>,
    attack: BTreeMap<String, (usize, usize)>,
    subtechniques: usize,
    stix_objects_added: usize,
    stix_objects_unchanged: usize,
    /// ATT&CK collection indexes (`index.json`) skipped.
    skipped: usize,
    errors: Vec<(String, String, String)>,
}

/// The ATT&CK workbench collection index (`{"collections": […]}`), which
/// lists bundles but holds no objects.
fn is_collection_index(path: &std::path::Path) -> bool {
    if path.file_name().is_none_or(|n| n != "index.json") {
        return false;
    }
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("collections").is_some() && v.get("objects").is_none())
}

impl Summary {
    fn absorb(&mut self, file: &str, r: AttackImport) {
        self.files += 1;
        for (k, v) in r.objects {
            *self.objects.entry(k).or_default() += v;
        }
        for (k, c) in r.attack {
            let e = self.attack.entry(k).or_default();
            e.0 += c.active;
            e.1 += c.revoked_or_deprecated;
        }
        self.subtechniques += r.subtechniques;
        self.stix_objects_added += r.stix_objects_added;
        self.stix_objects_unchanged += r.stix_objects_unchanged;
        self.errors.extend(
            r.errors
                .into_iter()
                .map(|e| (file.to_string(), e.id, e.reason)),
        );
    }
}

#[derive(Serialize)]
struct CountRow {
    what: String,
    count: String,
}

impl Row for CountRow {
    fn headers() -> &'static [&'static str] {
        &["what", "count"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.what.clone(), self.count.clone()]
    }
}

async fn import(cfg: Config, a: ImportArgs) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let (_, clock) = context::runtime();
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(a.files.len() as u64);
        if let Ok(s) = ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} {wide_msg}") {
            b.set_style(s);
        }
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    };
    let mut sum = Summary::default();
    let mut files = Vec::new();
    for p in &a.files {
        if p.is_dir() {
            files.extend(
                crate::commands::intel::collect_files(std::slice::from_ref(p))?
                    .into_iter()
                    .filter(|f| {
                        let n = f.to_string_lossy();
                        n.ends_with(".json") || n.ends_with(".json.gz")
                    }),
            );
        } else {
            files.push(p.clone());
        }
    }
    bar.set_length(files.len() as u64);
    for f in &files {
        if is_collection_index(f) {
            sum.skipped += 1;
            bar.inc(1);
            continue;
        }
        let name = f.display().to_string();
        bar.set_message(name.clone());
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {name}"))?;
        let source = format!(
            "attack:{}",
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone())
        );
        match import_attack(&store, TenantId::DEFAULT, &bytes, &source, clock.now()).await {
            Ok(r) => sum.absorb(&name, r),
            Err(vigil_server::intel::IntelError::Invalid(e)) => {
                sum.errors.push((name.clone(), "file".into(), e));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot import {name}")),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if a.output != OutputFormat::Table {
        println!("{}", serde_json::to_string_pretty(&sum)?);
    } else {
        let mut rows: Vec<CountRow> = sum
            .attack
            .iter()
            .map(|(k, (act, old))| CountRow {
                what: k.clone(),
                count: format!("{act} (+{old} revoked/deprecated)"),
            })
            .collect();
        rows.push(CountRow {
            what: "sub-techniques".into(),
            count: sum.subtechniques.to_string(),
        });
        rows.extend(sum.objects.iter().map(|(k, v)| CountRow {
            what: format!("object {k}"),
            count: v.to_string(),
        }));
        for (w, n) in [
            ("stix objects added", sum.stix_objects_added),
            ("stix objects unchanged", sum.stix_objects_unchanged),
            ("skipped (collection index)", sum.skipped),
            ("errors", sum.errors.len()),
        ] {
            rows.push(CountRow {
                what: w.into(),
                count: n.to_string(),
            });
        }
        output::print(&rows, OutputFormat::Table)?;
        for (f, id, reason) in &sum.errors {
            println!("error {f}: {id}: {reason}");
        }
    }
    Ok(if sum.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The stored rules plus the built-in pack's (which `vigil serve`
/// registers; a fresh data directory has not seen it yet).
async fn rules(store: &vigil_store::Store) -> Result<Vec<RuleRecord>> {
    let mut rules = store.list_rules(TenantId::DEFAULT).await?;
    let pack: Vec<(String, String)> = builtin_rules::PACK
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    for d in builtin_rules::definitions(RuleSource::Builtin, &pack) {
        if rules.iter().any(|r| r.id == d.id) {
            continue;
        }
        rules.push(RuleRecord {
            tenant: TenantId::DEFAULT,
            id: d.id,
            title: d.title,
            source: d.source,
            path: d.path,
            level: d.level,
            tags: d.tags,
            content: None,
            enabled: true,
            level_override: None,
            tags_override: None,
            created_at: Timestamp::from_micros(0),
            updated_at: Timestamp::from_micros(0),
            updated_by: "builtin".into(),
        });
    }
    Ok(rules)
}

fn names(xs: &[vigil_server::attack::AttackRef]) -> String {
    xs.iter()
        .map(|x| format!("{} {}", x.id, x.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_technique(t: &TechniqueDto) {
    println!("{} {}", t.id, t.name);
    if let Some(r) = &t.replaces {
        println!("  (replaces revoked {r})");
    }
    let lines: [(&str, String); 9] = [
        (
            "parent",
            t.parent
                .as_ref()
                .map(|p| format!("{} {}", p.id, p.name))
                .unwrap_or_default(),
        ),
        ("sub-techniques", names(&t.subtechniques)),
        ("tactics", names(&t.tactics)),
        ("platforms", t.platforms.join(", ")),
        ("groups", names(&t.groups)),
        ("software", names(&t.software)),
        ("mitigations", names(&t.mitigations)),
        ("data components", names(&t.data_components)),
        (
            "sigma rules",
            t.rules
                .iter()
                .map(|r| format!("{} ({}, {})", r.title, r.id, r.technique))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    ];
    for (k, v) in lines {
        if !v.is_empty() {
            println!("  {k:<16} {v}");
        }
    }
}

async fn show(cfg: Config, a: ShowArgs) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let rules = rules(&store).await?;
    let Some(t) = technique(&store, TenantId::DEFAULT, &a.technique, &rules).await? else {
        eprintln!(
            "no technique {:?} is stored; load ATT&CK with `vigil attack import`",
            a.technique
        );
        return Ok(ExitCode::from(1));
    };
    if a.format == OutputFormat::Table {
        print_technique(&t);
    } else {
        println!("{}", serde_json::to_string_pretty(&t)?);
    }
    Ok(ExitCode::SUCCESS)
}

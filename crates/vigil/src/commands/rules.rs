//! `vigil rules check|list|enable|disable`: check Sigma rule files, and the
//! stored rule state (enabled flag, level and tag overrides).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use vigil_model::{FieldRegistry, SystemClock, TenantId};
use vigil_sigma::{Document, Error as SigmaError, Level, Mapping, RuleSet, parse_files};
use vigil_store::{RuleRecord, RuleSource, RuleUpdate};

use crate::cli::{OutputFormat, RulesCheckArgs, RulesCommand, RulesListArgs, RulesToggleArgs};
use crate::config::Config;
use crate::output::{self, Row};
use crate::{builtin_rules, context};

pub async fn run(cfg: Config, cmd: RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check(a) => tokio::task::spawn_blocking(move || check(&a))
            .await
            .context("rule check task failed")?,
        RulesCommand::List(a) => list(cfg, a).await,
        RulesCommand::Enable(a) => toggle(cfg, a, true).await,
        RulesCommand::Disable(a) => toggle(cfg, a, false).await,
    }
}

/// A file that could not be read, as `(path, reason)`.
pub type FileError = (String, String);

/// Every `.yml`/`.yaml` file under `paths` (files given directly are taken
/// whatever their extension), sorted per argument; unreadable directories
/// are reported.
pub fn rule_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
            continue;
        }
        let mut found = Vec::new();
        walk(
            p,
            &|f: &Path| {
                f.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml")
                })
            },
            &mut found,
            &mut errors,
        );
        found.sort();
        out.extend(found);
    }
    (out, errors)
}

/// Recursively collects the files under `dir` that `keep` accepts.
pub fn walk(
    dir: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
    errors: &mut Vec<FileError>,
) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push((dir.display().to_string(), format!("cannot read: {e}")));
            return;
        }
    };
    for e in rd {
        let Ok(e) = e else { continue };
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&p, keep, out, errors);
        } else if keep(&p) {
            out.push(p);
        }
    }
}

/// `(path, text)` of every rule file under `paths`, and the files that
/// could not be read (missing, not UTF-8).
pub fn read_rule_files(paths: &[PathBuf]) -> (Vec<(String, String)>, Vec<FileError>) {
    let (files, mut errors) = rule_paths(paths);
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        match std::fs::read(&f) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => out.push((f.display().to_string(), t)),
                Err(_) => errors.push((f.display().to_string(), "not UTF-8 text".into())),
            },
            Err(e) => errors.push((f.display().to_string(), format!("cannot read: {e}"))),
        }
    }
    for p in paths {
        if !p.exists() {
            errors.push((p.display().to_string(), "no such file or directory".into()));
        }
    }
    (out, errors)
}

/// The Sigma configuration: built-in mappings, then the given files.
pub fn sigma_config(mappings: &[PathBuf]) -> Result<vigil_sigma::Config> {
    let mut cfg = vigil_sigma::Config::default();
    for m in mappings {
        let text = std::fs::read_to_string(m)
            .with_context(|| format!("cannot read mapping file {}", m.display()))?;
        let mapping = Mapping::from_yaml(&m.display().to_string(), &text)
            .with_context(|| format!("invalid mapping file {}", m.display()))?;
        cfg.mappings.push(mapping);
    }
    Ok(cfg)
}

/// One problem found by `rules check`.
#[derive(Debug, Serialize)]
struct Problem {
    path: String,
    /// 1-based, 0 when unknown.
    line: usize,
    column: usize,
    /// `invalid` or `unsupported`.
    kind: &'static str,
    message: String,
}

impl From<&SigmaError> for Problem {
    fn from(e: &SigmaError) -> Self {
        let (line, column, message) = match e {
            SigmaError::Rule { location, msg, .. } => (location.line, location.column, msg.clone()),
            SigmaError::Unsupported {
                location, reason, ..
            } => (location.line, location.column, reason.clone()),
            other => (0, 0, other.to_string()),
        };
        Problem {
            path: e.path().to_owned(),
            line,
            column,
            kind: if e.is_unsupported() {
                "unsupported"
            } else {
                "invalid"
            },
            message,
        }
    }
}

/// The result of `rules check`.
#[derive(Debug, Serialize)]
struct CheckReport {
    files: usize,
    /// Detection rules that compiled.
    loaded: usize,
    correlations: usize,
    filters: usize,
    invalid: usize,
    unsupported: usize,
    /// Unsupported documents by reason.
    unsupported_reasons: BTreeMap<String, usize>,
    seconds: f64,
    errors: Vec<Problem>,
}

fn check(a: &RulesCheckArgs) -> Result<ExitCode> {
    let config = sigma_config(&a.mapping)?;
    let started = std::time::Instant::now();
    let (sources, file_errors) = read_rule_files(&a.paths);
    let registry = FieldRegistry::new();
    let mut docs = Vec::new();
    let mut errors: Vec<SigmaError> = Vec::new();
    for ((p, _), parsed) in sources.iter().zip(parse_files(&sources)) {
        let path: std::sync::Arc<str> = std::sync::Arc::from(p.as_str());
        for d in parsed {
            match d {
                Ok(d) => docs.push((path.clone(), d)),
                Err(e) => errors.push(e),
            }
        }
    }
    let correlations = docs
        .iter()
        .filter(|(_, d)| matches!(d, Document::Correlation(_)))
        .count();
    let filters = docs
        .iter()
        .filter(|(_, d)| matches!(d, Document::Filter(_)))
        .count();
    let (set, mut compile_errors) = RuleSet::compile(docs, &registry, &config);
    errors.append(&mut compile_errors);
    let mut problems: Vec<Problem> = file_errors
        .iter()
        .map(|(path, reason)| Problem {
            path: path.clone(),
            line: 0,
            column: 0,
            kind: "invalid",
            message: reason.clone(),
        })
        .collect();
    problems.extend(errors.iter().map(Problem::from));
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let mut unsupported_reasons = BTreeMap::new();
    for p in problems.iter().filter(|p| p.kind == "unsupported") {
        *unsupported_reasons.entry(p.message.clone()).or_insert(0) += 1;
    }
    let unsupported = problems.iter().filter(|p| p.kind == "unsupported").count();
    let report = CheckReport {
        files: sources.len(),
        loaded: set.rules().len(),
        correlations,
        filters,
        invalid: problems.len() - unsupported,
        unsupported,
        unsupported_reasons,
        seconds: started.elapsed().as_secs_f64(),
        errors: problems,
    };
    let mut out = std::io::stdout().lock();
    render_check(&mut out, &report, a.format)?;
    Ok(if report.invalid + report.unsupported > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render_check(w: &mut impl std::io::Write, r: &CheckReport, format: OutputFormat) -> Result<()> {
    match format {
        OutputFormat::Table => {
            let mut last = "";
            for p in &r.errors {
                if p.path != last {
                    writeln!(w, "{}", p.path)?;
                    last = &p.path;
                }
                let at = match (p.line, p.column) {
                    (0, _) => String::new(),
                    (l, 0) => format!("line {l}: "),
                    (l, c) => format!("line {l}:{c}: "),
                };
                writeln!(w, "  {}: {at}{}", p.kind, p.message)?;
            }
            if !r.errors.is_empty() {
                writeln!(w)?;
            }
            writeln!(w, "files:        {}", r.files)?;
            writeln!(w, "loaded:       {} rules", r.loaded)?;
            writeln!(w, "correlations: {}", r.correlations)?;
            writeln!(w, "filters:      {}", r.filters)?;
            writeln!(w, "invalid:      {}", r.invalid)?;
            writeln!(w, "unsupported:  {}", r.unsupported)?;
            for (reason, n) in &r.unsupported_reasons {
                writeln!(w, "  {n:>5}  {reason}")?;
            }
            writeln!(w, "time:         {:.3} s", r.seconds)?;
        }
        OutputFormat::Json | OutputFormat::Ndjson => {
            serde_json::to_writer_pretty(&mut *w, r)?;
            writeln!(w)?;
        }
        OutputFormat::Csv => bail!("--format csv is not available for rules check"),
    }
    Ok(())
}

/// A stored rule as the CLI shows it.
#[derive(Serialize)]
struct RuleRow {
    id: String,
    title: String,
    source: String,
    enabled: bool,
    level: Option<String>,
    tags: Vec<String>,
    level_override: Option<String>,
    tags_override: Option<Vec<String>>,
    path: String,
    updated_at: String,
    updated_by: String,
}

impl From<&RuleRecord> for RuleRow {
    fn from(r: &RuleRecord) -> Self {
        Self {
            id: r.id.clone(),
            title: r.title.clone(),
            source: r.source.to_string(),
            enabled: r.enabled,
            level: r.effective_level().map(str::to_owned),
            tags: r.effective_tags().to_vec(),
            level_override: r.level_override.clone(),
            tags_override: r.tags_override.clone(),
            path: r.path.clone(),
            updated_at: r.updated_at.to_rfc3339(),
            updated_by: r.updated_by.clone(),
        }
    }
}

impl Row for RuleRow {
    fn headers() -> &'static [&'static str] {
        &["id", "enabled", "level", "source", "title", "tags"]
    }
    fn cells(&self) -> Vec<String> {
        let mut level = self.level.clone().unwrap_or_else(|| "-".into());
        if self.level_override.is_some() {
            level.push('*');
        }
        let mut tags = self.tags.join(",");
        if self.tags_override.is_some() {
            tags.push('*');
        }
        vec![
            self.id.clone(),
            if self.enabled { "yes" } else { "no" }.into(),
            level,
            self.source.clone(),
            self.title.clone(),
            tags,
        ]
    }
}

async fn list(cfg: Config, a: RulesListArgs) -> Result<ExitCode> {
    let source = a
        .source
        .as_deref()
        .map(str::parse::<RuleSource>)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--source")?;
    let store = context::open_store(&cfg).await?;
    builtin_rules::register(&store, &[], &context::cli_principal(), &SystemClock).await?;
    let rules = store.list_rules(TenantId::DEFAULT).await?;
    let rows: Vec<RuleRow> = rules
        .iter()
        .filter(|r| source.is_none_or(|s| r.source == s))
        .map(RuleRow::from)
        .collect();
    output::print(&rows, a.format)?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The update `enable`/`disable` asks for.
fn update_of(a: &RulesToggleArgs, enabled: bool) -> Result<RuleUpdate> {
    let level_override = match a.level.as_deref() {
        None => None,
        Some("default") => Some(None),
        Some(l) => {
            let l: Level = l.parse().map_err(anyhow::Error::msg).context("--level")?;
            Some(Some(l.to_string()))
        }
    };
    let tags: Vec<String> = a
        .tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let tags_override = match (a.tags.is_empty(), tags.is_empty()) {
        (true, _) => None,
        (false, true) => Some(None),
        (false, false) => Some(Some(tags)),
    };
    Ok(RuleUpdate {
        enabled: Some(enabled),
        level_override,
        tags_override,
    })
}

async fn toggle(cfg: Config, a: RulesToggleArgs, enabled: bool) -> Result<ExitCode> {
    let update = update_of(&a, enabled)?;
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    builtin_rules::register(&store, &[], &by, &SystemClock).await?;
    let now = vigil_model::Clock::now(&SystemClock);
    let rec = store
        .update_rule(TenantId::DEFAULT, &a.id, &update, &by, now)
        .await?;
    store.close().await;
    match rec {
        Some(r) => {
            output::print(&[RuleRow::from(&r)], OutputFormat::Table)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("error: no rule with id {:?} (see `vigil rules list`)", a.id);
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(level: Option<&str>, tags: &[&str]) -> RulesToggleArgs {
        RulesToggleArgs {
            id: "x".into(),
            level: level.map(str::to_owned),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn toggle_updates() {
        let u = update_of(&args(None, &[]), false).unwrap_or_default();
        assert_eq!(u.enabled, Some(false));
        assert_eq!((u.level_override, u.tags_override), (None, None));
        let u = update_of(&args(Some("HIGH"), &["a", "b"]), true);
        assert!(u.is_err(), "levels are lowercase in Sigma");
        let u = update_of(&args(Some("high"), &["a", "b"]), true).unwrap_or_default();
        assert_eq!(u.level_override, Some(Some("high".into())));
        assert_eq!(u.tags_override, Some(Some(vec!["a".into(), "b".into()])));
        let u = update_of(&args(Some("default"), &[""]), true).unwrap_or_default();
        assert_eq!(
            (u.level_override, u.tags_override),
            (Some(None), Some(None))
        );
    }
}

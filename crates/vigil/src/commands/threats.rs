//! `vigil threats profile|import-galaxy|list|show|scenario|review|report`
//! and `vigil coverage`: the threat register over the stored ATT&CK and
//! intel, MISP galaxy clusters, Sigma rule state (built-in pack, the
//! configured rule directories plus `--rules DIR`), alerts, assets and
//! findings. The logic is the engine's (`vigil-threats`) through the glue
//! the API shares (`vigil_server::threats`); the model is documented in
//! `docs/threats.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use vigil_model::{SystemClock, TenantId, Timestamp};
use vigil_server::threats::{self as glue, RegisterData};
use vigil_store::{NewScenario, ScenarioReview, Store};
use vigil_threats::coverage::{self, RuleInfo, State};
use vigil_threats::navigator::{self, LayerSpec};
use vigil_threats::register::{ActorAssessment, ScenarioAssessment, ScenarioSpec};
use vigil_threats::{Profile, dates};

use crate::cli::OutputFormat;
use crate::config::Config;
use crate::output::{self, Row};
use crate::{builtin_rules, context};

/// Threat register subcommands.
#[derive(Debug, Subcommand)]
pub enum ThreatsCommand {
    /// The organisation profile: `set FILE` (TOML or JSON: sectors,
    /// countries, regions, technologies, crown_jewels, data_classes,
    /// activity_window_days) or `show`.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Import MISP galaxy cluster files (`threat-actor.json`,
    /// `mitre-intrusion-set.json`, `country.json`, …; gzip ok) or
    /// directories of them. Importing again replaces clusters by UUID.
    ImportGalaxy(ImportGalaxyArgs),
    /// Actors ranked by relevance to the profile, with the reason for each.
    List(ListArgs),
    /// One actor (ATT&CK id, name or alias): relevance inputs, technique
    /// coverage, exploited CVEs against open findings, its software, and
    /// its scenario's likelihood, impact and recommendations.
    Show(ShowArgs),
    /// Threat scenarios: `add` (from an actor, techniques, or written by
    /// hand) and `list`.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// The review cycle: scores every scenario (kept as history), lists
    /// overdue reviews; with `--scenario ID` sets its owner, status or next
    /// review first.
    Review(ReviewArgs),
    /// The register as a report: profile, top actors, scenarios with
    /// scores and recommendations, coverage by tactic.
    Report(ReportArgs),
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Validate and store a profile file (`.toml` or `.json`).
    Set {
        /// The profile file.
        file: PathBuf,
    },
    /// Print the stored profile (JSON).
    Show,
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Create or replace a scenario.
    Add(ScenarioAddArgs),
    /// The stored scenarios with their current scores.
    List(RuleDirs),
}

/// Rule directories beyond the configured ones.
#[derive(Debug, Clone, Args, Default)]
pub struct RuleDirs {
    /// Sigma rule directories to register and count, in addition to
    /// `[detect.sigma] rules`.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Output format: table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ImportGalaxyArgs {
    /// Cluster files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: RuleDirs,
    /// Show this many actors (0: all). Default: 25.
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// ATT&CK group id, name or alias.
    pub actor: String,
    #[command(flatten)]
    pub common: RuleDirs,
}

#[derive(Debug, Args)]
pub struct ScenarioAddArgs {
    /// Scenario id.
    #[arg(long)]
    pub id: String,
    /// Title.
    #[arg(long)]
    pub title: String,
    /// The actor (ATT&CK id, name or alias).
    #[arg(long)]
    pub actor: Option<String>,
    /// Techniques (repeatable).
    #[arg(long = "technique")]
    pub techniques: Vec<String>,
    /// Assets in reach (names or ids; repeatable).
    #[arg(long = "asset")]
    pub assets: Vec<String>,
    /// ATT&CK mitigations already applied (repeatable).
    #[arg(long = "mitigation")]
    pub mitigations: Vec<String>,
    /// Owner.
    #[arg(long)]
    pub owner: Option<String>,
    /// Status: open, treated, accepted, transferred. Default: open.
    #[arg(long, default_value = "open")]
    pub status: String,
    /// Next review (YYYY-MM-DD). Default: 90 days from now.
    #[arg(long)]
    pub next_review: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The scenario to update.
    #[arg(long)]
    pub scenario: Option<String>,
    /// New owner (`-` clears it).
    #[arg(long, requires = "scenario")]
    pub owner: Option<String>,
    /// New status.
    #[arg(long, requires = "scenario")]
    pub status: Option<String>,
    /// New next-review date (YYYY-MM-DD; `-` clears it).
    #[arg(long, requires = "scenario")]
    pub next_review: Option<String>,
    #[command(flatten)]
    pub common: RuleDirs,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
    /// JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Actors in the report. Default: 10.
    #[arg(long, default_value_t = 10)]
    pub actors: usize,
    /// Sigma rule directories beyond the configured ones.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

/// `vigil coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Write an ATT&CK Navigator layer (format 4.5) to FILE.
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    /// Only these techniques (repeatable); default: every technique.
    #[arg(long = "technique")]
    pub techniques: Vec<String>,
    /// ATT&CK domain. Default: enterprise-attack.
    #[arg(long, default_value = "enterprise-attack")]
    pub domain: String,
    #[command(flatten)]
    pub common: RuleDirs,
}

pub async fn run(cfg: Config, cmd: ThreatsCommand) -> Result<ExitCode> {
    match cmd {
        ThreatsCommand::Profile(p) => profile(cfg, p).await,
        ThreatsCommand::ImportGalaxy(a) => import_galaxy(cfg, a).await,
        ThreatsCommand::List(a) => list(cfg, a).await,
        ThreatsCommand::Show(a) => show(cfg, a).await,
        ThreatsCommand::Scenario(ScenarioCommand::Add(a)) => scenario_add(cfg, a).await,
        ThreatsCommand::Scenario(ScenarioCommand::List(a)) => {
            review(
                cfg,
                ReviewArgs {
                    scenario: None,
                    owner: None,
                    status: None,
                    next_review: None,
                    common: a,
                },
            )
            .await
        }
        ThreatsCommand::Review(a) => review(cfg, a).await,
        ThreatsCommand::Report(a) => report(cfg, a).await,
    }
}

/// The current time (`VIGIL_NOW` replaces the clock, as for `vigil vulns`).
fn now() -> Result<Timestamp> {
    crate::commands::vuln::now()
}

/// Registers the built-in pack and the rule directories, then reads the
/// rule state with each rule's `status` from its file.
async fn rule_inputs(cfg: &Config, store: &Store, extra: &[PathBuf]) -> Result<Vec<RuleInfo>> {
    let mut dirs: Vec<PathBuf> = cfg.detect.sigma.rules.clone();
    dirs.extend(extra.iter().cloned());
    for d in &dirs {
        if !d.exists() {
            bail!("rule directory {} does not exist", d.display());
        }
    }
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    builtin_rules::register(store, &refs, &context::cli_principal(), &SystemClock).await?;
    let records = store.list_rules(TenantId::DEFAULT).await?;
    let status = rule_statuses(&dirs);
    Ok(glue::rule_infos(&records, &status))
}

/// `rule id → status` of the built-in pack and the rule files under
/// `dirs` (what the server's register weighs coverage with, too).
pub fn rule_statuses(dirs: &[PathBuf]) -> BTreeMap<String, String> {
    let mut status = BTreeMap::new();
    for (_, text) in builtin_rules::PACK {
        status.extend(glue::statuses_in(text));
    }
    let (files, _) = crate::commands::rules::read_rule_files(dirs);
    for (_, text) in &files {
        status.extend(glue::statuses_in(text));
    }
    status
}

async fn load(cfg: &Config, extra: &[PathBuf]) -> Result<(Store, RegisterData)> {
    let store = context::open_store(cfg).await?;
    let rules = rule_inputs(cfg, &store, extra).await?;
    let data = glue::load(&store, TenantId::DEFAULT, rules, now()?, None).await?;
    Ok((store, data))
}

async fn profile(cfg: Config, cmd: ProfileCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    match cmd {
        ProfileCommand::Set { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let p: Profile = if file.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).with_context(|| format!("{}", file.display()))?
            } else {
                toml::from_str(&text).with_context(|| format!("{}", file.display()))?
            };
            let p = glue::put_profile(
                &store,
                TenantId::DEFAULT,
                p,
                &context::cli_principal(),
                now()?,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string_pretty(&p)?);
        }
        ProfileCommand::Show => match store.get_threat_profile(TenantId::DEFAULT).await? {
            Some(p) => {
                let mut body = p.body;
                let derived: Vec<String> = store
                    .inventory_technologies(TenantId::DEFAULT)
                    .await?
                    .into_iter()
                    .take(100)
                    .map(|(n, c)| format!("{n} ({c} assets)"))
                    .collect();
                if let Some(o) = body.as_object_mut() {
                    o.insert("derived_technologies".into(), serde_json::json!(derived));
                    o.insert(
                        "updated_at".into(),
                        serde_json::json!(p.updated_at.to_rfc3339()),
                    );
                    o.insert("updated_by".into(), serde_json::json!(p.updated_by));
                }
                println!("{}", serde_json::to_string_pretty(&body)?);
            }
            None => {
                eprintln!("no profile is stored; set one with `vigil threats profile set FILE`");
                return Ok(ExitCode::from(1));
            }
        },
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn import_galaxy(cfg: Config, a: ImportGalaxyArgs) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let mut files = Vec::new();
    for p in &a.paths {
        if p.is_dir() {
            let mut found = Vec::new();
            let mut errs = Vec::new();
            crate::commands::rules::walk(
                p,
                &|f: &Path| {
                    let n = f.to_string_lossy();
                    n.ends_with(".json") || n.ends_with(".json.gz")
                },
                &mut found,
                &mut errs,
            );
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
        let name = f.display().to_string();
        match glue::import_galaxy(&store, TenantId::DEFAULT, &bytes, &name, now()?).await {
            Ok((g, n, skipped)) if glue::GALAXIES.contains(&g.as_str()) => {
                println!("{name}: {n} clusters ({skipped} skipped)")
            }
            Ok((g, _, _)) => println!(
                "{name}: skipped (galaxy {g:?}; the register reads {})",
                glue::GALAXIES.join(", ")
            ),
            Err(vigil_server::intel::IntelError::Invalid(e)) => {
                // galaxy definitions and schemas are not cluster files
                println!("{name}: skipped ({e})");
            }
            Err(e) => return Err(e).with_context(|| format!("cannot import {name}")),
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ActorRow {
    rank: usize,
    key: String,
    name: String,
    relevance: f64,
    level: String,
    covered: usize,
    partial: usize,
    gaps: usize,
    explanation: String,
}

impl Row for ActorRow {
    fn headers() -> &'static [&'static str] {
        &[
            "rank",
            "actor",
            "name",
            "relevance",
            "level",
            "cov/part/gap",
            "why",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.key.clone(),
            self.name.clone(),
            format!("{:.2}", self.relevance),
            self.level.clone(),
            format!("{}/{}/{}", self.covered, self.partial, self.gaps),
            self.explanation.clone(),
        ]
    }
}

fn actor_row(i: usize, a: &ActorAssessment) -> ActorRow {
    ActorRow {
        rank: i + 1,
        key: a.actor.key.clone(),
        name: a.actor.name.clone(),
        relevance: a.relevance.value,
        level: a.relevance.level.label().to_string(),
        covered: a.covered,
        partial: a.partial,
        gaps: a.gaps,
        explanation: a.explanation.clone(),
    }
}

fn warn_empty(data: &RegisterData) {
    if !data.has_profile {
        eprintln!(
            "warning: no profile stored (`vigil threats profile set FILE`): sector and region do not count"
        );
    }
    if data.actors.is_empty() {
        eprintln!(
            "warning: no actors: import ATT&CK (`vigil attack import`) or a MISP galaxy (`vigil threats import-galaxy`)"
        );
    }
}

async fn list(cfg: Config, a: ListArgs) -> Result<ExitCode> {
    let (store, data) = load(&cfg, &a.common.rules).await?;
    warn_empty(&data);
    let ranked = data.inputs().assess_actors();
    let n = if a.limit == 0 { ranked.len() } else { a.limit };
    let rows: Vec<ActorRow> = ranked
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, x)| actor_row(i, x))
        .collect();
    output::print(&rows, a.common.format)?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ShowOut<'a> {
    assessment: &'a ActorAssessment,
    scenario: &'a ScenarioAssessment,
}

fn print_scenario(s: &ScenarioAssessment, out: &mut String) {
    let _ = writeln!(
        out,
        "  likelihood {} ({}, {}/5)  impact {} ({}, {}/5)  risk {} ({})",
        s.likelihood.value,
        s.likelihood.level.label(),
        s.likelihood.rank,
        s.impact.value,
        s.impact.level.label(),
        s.impact.rank,
        s.risk,
        s.risk_level
    );
    for f in s.likelihood.factors.iter().chain(s.impact.factors.iter()) {
        let _ = writeln!(
            out,
            "    {:<12} {:>6} = {} × {}  {}",
            f.name, f.points, f.value, f.weight, f.reason
        );
    }
    for (i, r) in s.recommendations.iter().take(10).enumerate() {
        let _ = writeln!(out, "  {}. [-{}] {}", i + 1, r.reduction, r.action);
    }
}

async fn show(cfg: Config, a: ShowArgs) -> Result<ExitCode> {
    let (store, data) = load(&cfg, &a.common.rules).await?;
    store.close().await;
    let inputs = data.inputs();
    let k = vigil_threats::actors::name_key(&a.actor);
    let Some(actor) = data.actors.iter().find(|x| {
        x.key.eq_ignore_ascii_case(&a.actor)
            || vigil_threats::actors::name_key(&x.name) == k
            || x.aliases
                .iter()
                .any(|y| vigil_threats::actors::name_key(y) == k)
    }) else {
        eprintln!("no actor {:?}", a.actor);
        return Ok(ExitCode::from(1));
    };
    let assessment = inputs.assess_actor(actor);
    let scenario = inputs.assess_scenario(&ScenarioSpec {
        id: format!("actor-{}", actor.key),
        title: format!("{} targets the organisation", actor.name),
        actor: Some(actor.key.clone()),
        ..ScenarioSpec::default()
    });
    if a.common.format != OutputFormat::Table {
        println!(
            "{}",
            serde_json::to_string_pretty(&ShowOut {
                assessment: &assessment,
                scenario: &scenario
            })?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = String::new();
    let x = &assessment.actor;
    let _ = writeln!(o, "{} {}", x.key, x.name);
    if !x.aliases.is_empty() {
        let _ = writeln!(o, "  aliases    {}", x.aliases.join(", "));
    }
    let _ = writeln!(o, "  sources    {}", x.sources.join(", "));
    let _ = writeln!(
        o,
        "  relevance  {} ({})",
        assessment.relevance.value,
        assessment.relevance.level.label()
    );
    for f in &assessment.relevance.factors {
        let _ = writeln!(o, "    {:<10} {:>6}  {}", f.name, f.points, f.reason);
    }
    let _ = writeln!(
        o,
        "  techniques {} covered, {} partial, {} gaps",
        assessment.covered, assessment.partial, assessment.gaps
    );
    for t in &assessment.techniques {
        let _ = writeln!(
            o,
            "    {:<10} {:<8} {:>4}  {} enabled, {} disabled rules",
            t.technique,
            t.state.as_str(),
            t.score,
            t.rules.len(),
            t.disabled.len()
        );
    }
    for c in &assessment.cves {
        let f: Vec<String> = c
            .findings
            .iter()
            .map(|e| format!("{} on {} ({})", e.finding, e.asset, e.exposure))
            .collect();
        let _ = writeln!(
            o,
            "  cve        {} ({}){}{}",
            c.cve,
            c.source,
            if c.kev_ransomware {
                " KEV ransomware"
            } else {
                ""
            },
            if f.is_empty() {
                String::new()
            } else {
                format!(": open {}", f.join(", "))
            }
        );
    }
    if assessment.indicators > 0 {
        let _ = writeln!(
            o,
            "  indicators {} loaded (related to it or its software)",
            assessment.indicators
        );
    }
    if !x.software.is_empty() {
        let sw: Vec<String> = x.software.iter().map(|(i, n)| format!("{i} {n}")).collect();
        let _ = writeln!(o, "  software   {}", sw.join(", "));
    }
    let _ = writeln!(o, "scenario: {}", scenario.spec.title);
    print_scenario(&scenario, &mut o);
    print!("{o}");
    Ok(ExitCode::SUCCESS)
}

fn parse_date(s: &str) -> Result<Timestamp> {
    let d = dates::parse_day(s).with_context(|| format!("invalid date {s:?} (YYYY-MM-DD)"))?;
    Ok(Timestamp::from_micros(d * 86_400_000_000))
}

async fn scenario_add(cfg: Config, a: ScenarioAddArgs) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let spec = ScenarioSpec {
        id: a.id.clone(),
        title: a.title.clone(),
        actor: a.actor,
        techniques: a.techniques,
        assets: a.assets,
        mitigations_applied: a.mitigations,
    };
    let next = match &a.next_review {
        Some(d) => Some(parse_date(d)?),
        None => Some(Timestamp::from_micros(
            now()?.as_micros() + 90 * 86_400_000_000,
        )),
    };
    let rec = store
        .upsert_scenario(
            TenantId::DEFAULT,
            &NewScenario {
                id: a.id,
                title: a.title,
                spec: serde_json::to_value(&spec)?,
                owner: a.owner,
                status: a.status,
                next_review: next,
            },
            &context::cli_principal(),
            now()?,
        )
        .await?;
    println!("scenario {} stored", rec.scenario.id);
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ScenarioRow {
    id: String,
    title: String,
    owner: Option<String>,
    status: String,
    next_review: Option<String>,
    overdue: bool,
    likelihood: f64,
    impact: f64,
    risk: u8,
    risk_level: String,
    trend: Vec<f64>,
    top_recommendation: Option<String>,
    assessment: ScenarioAssessment,
}

impl Row for ScenarioRow {
    fn headers() -> &'static [&'static str] {
        &[
            "id",
            "status",
            "owner",
            "next review",
            "L",
            "I",
            "risk",
            "trend (L)",
            "first action",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.status.clone(),
            self.owner.clone().unwrap_or_else(|| "-".into()),
            format!(
                "{}{}",
                self.next_review.clone().unwrap_or_else(|| "-".into()),
                if self.overdue { " OVERDUE" } else { "" }
            ),
            self.likelihood.to_string(),
            self.impact.to_string(),
            format!("{} {}", self.risk, self.risk_level),
            self.trend
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("→"),
            self.top_recommendation.clone().unwrap_or_default(),
        ]
    }
}

async fn scenario_rows(
    store: &Store,
    data: &RegisterData,
    at: Timestamp,
) -> Result<Vec<ScenarioRow>> {
    let scored = glue::score_scenarios(store, TenantId::DEFAULT, data, at).await?;
    let mut rows = Vec::new();
    for (rec, a) in scored {
        let hist = store
            .scenario_scores(TenantId::DEFAULT, &rec.scenario.id)
            .await?;
        let trend: Vec<f64> = hist
            .iter()
            .rev()
            .take(5)
            .rev()
            .map(|h| h.likelihood as f64 / 100.0)
            .collect();
        rows.push(ScenarioRow {
            id: rec.scenario.id.clone(),
            title: rec.scenario.title.clone(),
            owner: rec.scenario.owner.clone(),
            status: rec.scenario.status.clone(),
            next_review: rec
                .scenario
                .next_review
                .map(|t| dates::format_day(dates::day_of_micros(t.as_micros()))),
            overdue: rec.scenario.next_review.is_some_and(|t| t < at),
            likelihood: a.likelihood.value,
            impact: a.impact.value,
            risk: a.risk,
            risk_level: a.risk_level.clone(),
            trend,
            top_recommendation: a.recommendations.first().map(|r| r.action.clone()),
            assessment: a,
        });
    }
    Ok(rows)
}

async fn review(cfg: Config, a: ReviewArgs) -> Result<ExitCode> {
    let (store, data) = load(&cfg, &a.common.rules).await?;
    if let Some(id) = &a.scenario {
        let clear = |s: &Option<String>| s.as_deref().map(|v| (v != "-").then(|| v.to_string()));
        let next_review = match a.next_review.as_deref() {
            None => None,
            Some("-") => Some(None),
            Some(d) => Some(Some(parse_date(d)?)),
        };
        let review = ScenarioReview {
            owner: clear(&a.owner),
            status: a.status.clone(),
            next_review,
        };
        if store
            .review_scenario(
                TenantId::DEFAULT,
                id,
                &review,
                &context::cli_principal(),
                now()?,
            )
            .await?
            .is_none()
        {
            eprintln!("no scenario {id:?}");
            return Ok(ExitCode::from(1));
        }
    }
    let rows = scenario_rows(&store, &data, now()?).await?;
    output::print(&rows, a.common.format)?;
    let overdue = rows.iter().filter(|r| r.overdue).count();
    if overdue > 0 && a.common.format == OutputFormat::Table {
        println!("{overdue} scenario reviews overdue");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Report<'a> {
    generated: String,
    profile: &'a Profile,
    actors: Vec<ActorRow>,
    scenarios: Vec<ScenarioRow>,
    tactics: Vec<coverage::TacticCoverage>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn markdown(r: &Report<'_>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Threat register\n\nGenerated {}.\n", r.generated);
    let p = r.profile;
    let _ = writeln!(
        o,
        "**Profile**: sectors {}; countries {}; regions {}; crown jewels {}; data classes {}.\n",
        p.sectors.join(", "),
        p.countries.join(", "),
        p.regions.join(", "),
        p.crown_jewels.join(", "),
        p.data_classes.join(", ")
    );
    let _ = writeln!(
        o,
        "## Actors\n\n| # | actor | relevance | techniques cov/part/gap | why |\n|---|---|---|---|---|"
    );
    for a in &r.actors {
        let _ = writeln!(
            o,
            "| {} | {} {} | {} ({}) | {}/{}/{} | {} |",
            a.rank,
            a.key,
            a.name,
            a.relevance,
            a.level,
            a.covered,
            a.partial,
            a.gaps,
            a.explanation.replace('|', "\\|")
        );
    }
    let _ = writeln!(o, "\n## Scenarios\n");
    for s in &r.scenarios {
        let _ = writeln!(
            o,
            "### {} — {}\n\nStatus {}, owner {}, next review {}{}. Likelihood {} ({}), impact {} ({}), risk {} ({}).\n",
            s.id,
            s.title,
            s.status,
            s.owner.as_deref().unwrap_or("-"),
            s.next_review.as_deref().unwrap_or("-"),
            if s.overdue { " (overdue)" } else { "" },
            s.likelihood,
            s.assessment.likelihood.level.label(),
            s.impact,
            s.assessment.impact.level.label(),
            s.risk,
            s.risk_level
        );
        let _ = writeln!(
            o,
            "| input | points | value × weight | evidence |\n|---|---|---|---|"
        );
        for f in s
            .assessment
            .likelihood
            .factors
            .iter()
            .chain(s.assessment.impact.factors.iter())
        {
            let _ = writeln!(
                o,
                "| {} | {} | {} × {} | {} |",
                f.name,
                f.points,
                f.value,
                f.weight,
                f.reason.replace('|', "\\|")
            );
        }
        let _ = writeln!(o);
        for (i, x) in s.assessment.recommendations.iter().take(10).enumerate() {
            let _ = writeln!(o, "{}. {} (−{} likelihood)", i + 1, x.action, x.reduction);
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "## ATT&CK coverage by tactic\n\n| tactic | techniques | covered | partial | gaps |\n|---|---|---|---|---|"
    );
    for t in &r.tactics {
        let _ = writeln!(
            o,
            "| {} {} | {} | {} | {} | {} |",
            t.id, t.name, t.techniques, t.covered, t.partial, t.gaps
        );
    }
    o
}

fn html(r: &Report<'_>) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Threat register</title>\n<style>body{{font-family:sans-serif;margin:2em;max-width:80em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}}.critical{{background:#f8d0d0}}.high{{background:#fde4c8}}.medium{{background:#fff5c0}}.low{{background:#e3f3d6}}</style></head><body>"
    );
    let _ = writeln!(
        o,
        "<h1>Threat register</h1><p>Generated {}.</p>",
        esc(&r.generated)
    );
    let p = r.profile;
    let _ = writeln!(
        o,
        "<p><b>Profile</b>: sectors {}; countries {}; regions {}; crown jewels {}; data classes {}.</p>",
        esc(&p.sectors.join(", ")),
        esc(&p.countries.join(", ")),
        esc(&p.regions.join(", ")),
        esc(&p.crown_jewels.join(", ")),
        esc(&p.data_classes.join(", "))
    );
    let _ = writeln!(
        o,
        "<h2>Actors</h2><table><tr><th>#</th><th>actor</th><th>relevance</th><th>techniques cov/part/gap</th><th>why</th></tr>"
    );
    for a in &r.actors {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{} {}</td><td>{} ({})</td><td>{}/{}/{}</td><td>{}</td></tr>",
            a.rank,
            esc(&a.key),
            esc(&a.name),
            a.relevance,
            esc(&a.level),
            a.covered,
            a.partial,
            a.gaps,
            esc(&a.explanation)
        );
    }
    let _ = writeln!(o, "</table><h2>Scenarios</h2>");
    for s in &r.scenarios {
        let _ = writeln!(
            o,
            "<h3>{} — {}</h3><p class=\"{}\">Status {}, owner {}, next review {}{}. Likelihood {} ({}), impact {} ({}), risk {} ({}).</p>",
            esc(&s.id),
            esc(&s.title),
            esc(&s.risk_level),
            esc(&s.status),
            esc(s.owner.as_deref().unwrap_or("-")),
            esc(s.next_review.as_deref().unwrap_or("-")),
            if s.overdue { " (overdue)" } else { "" },
            s.likelihood,
            s.assessment.likelihood.level.label(),
            s.impact,
            s.assessment.impact.level.label(),
            s.risk,
            esc(&s.risk_level)
        );
        let _ = writeln!(
            o,
            "<table><tr><th>input</th><th>points</th><th>value × weight</th><th>evidence</th></tr>"
        );
        for f in s
            .assessment
            .likelihood
            .factors
            .iter()
            .chain(s.assessment.impact.factors.iter())
        {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{} × {}</td><td>{}</td></tr>",
                esc(&f.name),
                f.points,
                f.value,
                f.weight,
                esc(&f.reason)
            );
        }
        let _ = writeln!(o, "</table><ol>");
        for x in s.assessment.recommendations.iter().take(10) {
            let _ = writeln!(
                o,
                "<li>{} (−{} likelihood)</li>",
                esc(&x.action),
                x.reduction
            );
        }
        let _ = writeln!(o, "</ol>");
    }
    let _ = writeln!(
        o,
        "<h2>ATT&amp;CK coverage by tactic</h2><table><tr><th>tactic</th><th>techniques</th><th>covered</th><th>partial</th><th>gaps</th></tr>"
    );
    for t in &r.tactics {
        let _ = writeln!(
            o,
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.id),
            esc(&t.name),
            t.techniques,
            t.covered,
            t.partial,
            t.gaps
        );
    }
    let _ = writeln!(o, "</table></body></html>");
    o
}

async fn report(cfg: Config, a: ReportArgs) -> Result<ExitCode> {
    let (store, data) = load(&cfg, &a.rules).await?;
    let at = now()?;
    let ranked = data.inputs().assess_actors();
    let actors: Vec<ActorRow> = ranked
        .iter()
        .take(a.actors)
        .enumerate()
        .map(|(i, x)| actor_row(i, x))
        .collect();
    let scenarios = scenario_rows(&store, &data, at).await?;
    let (_, tactics) = coverage::matrix(
        &data.attack,
        "enterprise-attack",
        &data.coverage,
        &data.observations.technique_alerts,
    );
    let r = Report {
        generated: dates::format_day(dates::day_of_micros(at.as_micros())),
        profile: &data.profile,
        actors,
        scenarios,
        tactics,
    };
    match a.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        ReportFormat::Md => print!("{}", markdown(&r)),
        ReportFormat::Html => print!("{}", html(&r)),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct CoverageRow {
    technique: String,
    state: State,
    score: f64,
    alerts: u64,
    rules: Vec<String>,
    disabled_rules: Vec<String>,
}

impl Row for CoverageRow {
    fn headers() -> &'static [&'static str] {
        &["technique", "state", "score", "alerts", "rules", "disabled"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.technique.clone(),
            self.state.as_str().into(),
            self.score.to_string(),
            self.alerts.to_string(),
            self.rules.len().to_string(),
            self.disabled_rules.len().to_string(),
        ]
    }
}

/// `vigil coverage`.
pub async fn coverage_cmd(cfg: Config, a: CoverageArgs) -> Result<ExitCode> {
    let (store, data) = load(&cfg, &a.common.rules).await?;
    store.close().await;
    let (mut cov, tactics) = coverage::matrix(
        &data.attack,
        &a.domain,
        &data.coverage,
        &data.observations.technique_alerts,
    );
    if !a.techniques.is_empty() {
        let want: Vec<String> = a
            .techniques
            .iter()
            .filter_map(|t| vigil_intel::attack::technique_from_tag(t))
            .collect();
        cov = want
            .iter()
            .map(|t| {
                data.coverage.assess(
                    t,
                    data.observations
                        .technique_alerts
                        .get(t)
                        .copied()
                        .unwrap_or(0),
                )
            })
            .collect();
    }
    if let Some(path) = &a.navigator {
        let mut platforms: Vec<String> = data
            .attack
            .list(vigil_intel::attack::AttackKind::Technique)
            .filter(|t| t.domains.contains(&a.domain))
            .flat_map(|t| t.platforms.iter().cloned())
            .collect();
        platforms.sort();
        platforms.dedup();
        let layer = navigator::layer(
            &LayerSpec {
                name: "Vigil detection coverage".into(),
                description: format!(
                    "Sigma rule coverage of ATT&CK techniques ({} rules; sub-techniques roll up into their parent)",
                    data.coverage.rules().len()
                ),
                domain: a.domain.clone(),
                attack_version: data.attack_version.clone(),
                platforms,
            },
            &cov,
        );
        std::fs::write(path, serde_json::to_vec_pretty(&layer)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {} ({} techniques)", path.display(), cov.len());
    }
    let rows: Vec<CoverageRow> = cov
        .iter()
        .map(|c| CoverageRow {
            technique: c.technique.clone(),
            state: c.state,
            score: c.score,
            alerts: c.alerts,
            rules: c.rules.iter().map(|r| r.id.clone()).collect(),
            disabled_rules: c.disabled.iter().map(|r| r.id.clone()).collect(),
        })
        .collect();
    if a.common.format == OutputFormat::Table {
        #[derive(Serialize)]
        struct T<'a>(&'a coverage::TacticCoverage);
        impl Row for T<'_> {
            fn headers() -> &'static [&'static str] {
                &["tactic", "name", "techniques", "covered", "partial", "gaps"]
            }
            fn cells(&self) -> Vec<String> {
                vec![
                    self.0.id.clone(),
                    self.0.name.clone(),
                    self.0.techniques.to_string(),
                    self.0.covered.to_string(),
                    self.0.partial.to_string(),
                    self.0.gaps.to_string(),
                ]
            }
        }
        if a.techniques.is_empty() {
            let t: Vec<T<'_>> = tactics.iter().map(T).collect();
            output::print(&t, OutputFormat::Table)?;
        } else {
            output::print(&rows, OutputFormat::Table)?;
        }
    } else {
        output::print(&rows, a.common.format)?;
    }
    Ok(ExitCode::SUCCESS)
}

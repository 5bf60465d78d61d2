//! CLI handlers: `vigil incidents …`, `vigil playbooks …`, `vigil runs …`
//! and `vigil alerts ack|escalate|close|fp`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde_json::json;
use vigil_model::{AlertId, Principal, Severity, TenantId};
use vigil_respond::clocks::{self, Facts};
use vigil_respond::mttx::{self, Period};
use vigil_respond::playbook;
use vigil_store::{IncidentRecord, NewIncident, Store};

use super::runner::Runner;
use super::{IncidentsCommand, PlaybookRunArgs, PlaybooksCommand, RunsCommand};
use crate::cli::OutputFormat;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

const T: TenantId = TenantId::DEFAULT;

fn runner(cfg: &Config, store: Store) -> Result<Runner> {
    let (_, clock) = context::runtime();
    Runner::new(store, clock, &cfg.respond, context::secret_key(cfg)?)
}

fn now() -> vigil_model::Timestamp {
    let (_, clock) = context::runtime();
    clock.now()
}

fn parse_alert(s: &str) -> Result<AlertId> {
    s.trim()
        .parse()
        .map_err(|_| anyhow!("{s:?} is not an alert id (see `vigil alerts list`)"))
}

// ---- alerts ----------------------------------------------------------------

/// `vigil alerts ack|escalate|close|fp`: sets the triage state of alerts.
pub async fn alerts_triage(
    cfg: Config,
    state: &str,
    a: super::AlertTriageArgs,
) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    let mut failed = false;
    for id in &a.ids {
        let alert = parse_alert(id)?;
        match store
            .triage_alert(
                T,
                alert,
                state,
                a.assignee.as_deref(),
                a.reason.as_deref(),
                &by,
                now(),
            )
            .await?
        {
            Some(t) => println!("{} {}", t.alert_id, t.state),
            None => {
                eprintln!("no alert {id}");
                failed = true;
            }
        }
    }
    store.close().await;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Serialize)]
struct SuppressionRow {
    id: String,
    matcher: vigil_store::SuppressionMatch,
    reason: String,
    author: String,
    created_at: String,
    expires_at: Option<String>,
    hits: i64,
    last_hit: Option<String>,
}

impl Row for SuppressionRow {
    fn headers() -> &'static [&'static str] {
        &["id", "matches", "reason", "expires", "hits"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            serde_json::to_string(&self.matcher).unwrap_or_default(),
            self.reason.clone(),
            self.expires_at.clone().unwrap_or_else(|| "never".into()),
            self.hits.to_string(),
        ]
    }
}

/// `vigil alerts suppress`.
pub async fn suppress(cfg: Config, a: super::SuppressArgs) -> Result<ExitCode> {
    let t = now();
    let expires_at = match &a.expires {
        Some(e) => Some(
            match vigil_respond::clocks::Span::parse(e).map_err(|e| anyhow!("--expires: {e}"))? {
                vigil_respond::clocks::Span::Seconds(s) => {
                    t.add_micros(s.saturating_mul(1_000_000))
                }
                m => m.after(t),
            },
        ),
        None => None,
    };
    let matcher = vigil_store::SuppressionMatch {
        rule: a.rule,
        detector: a.detector,
        host: a.host,
        user: a.user,
        source_ip: a.source_ip,
        destination_ip: a.destination_ip,
        max_severity: a
            .max_severity
            .as_deref()
            .map(str::parse::<Severity>)
            .transpose()
            .context("--max-severity")?,
    };
    let store = context::open_store(&cfg).await?;
    let r = store
        .add_suppression(
            T,
            &matcher,
            &a.reason,
            expires_at,
            &context::cli_principal(),
            t,
        )
        .await;
    store.close().await;
    let rec = r?;
    println!("{}", rec.id);
    Ok(ExitCode::SUCCESS)
}

/// `vigil alerts suppressions`.
pub async fn suppressions(cfg: Config, format: OutputFormat) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let list = store.list_suppressions(T).await;
    store.close().await;
    let rows: Vec<SuppressionRow> = list?
        .into_iter()
        .map(|s| SuppressionRow {
            id: s.id,
            matcher: s.matcher,
            reason: s.reason,
            author: s.author,
            created_at: s.created_at.to_rfc3339(),
            expires_at: s.expires_at.map(|t| t.to_rfc3339()),
            hits: s.hits,
            last_hit: s.last_hit.map(|t| t.to_rfc3339()),
        })
        .collect();
    output::print(&rows, format)?;
    Ok(ExitCode::SUCCESS)
}

/// `vigil alerts unsuppress`.
pub async fn unsuppress(cfg: Config, id: &str) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let r = store
        .delete_suppression(T, id, &context::cli_principal(), now())
        .await;
    store.close().await;
    if r? {
        println!("suppression {id} deleted");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("no suppression {id} (see `vigil alerts suppressions`)");
        Ok(ExitCode::from(1))
    }
}

// ---- incidents -------------------------------------------------------------

#[derive(Serialize)]
struct IncidentRow {
    id: String,
    number: String,
    status: String,
    severity: Severity,
    title: String,
    assignee: Option<String>,
    category: Option<String>,
    tags: Vec<String>,
    flags: Vec<String>,
    created_at: String,
    updated_at: String,
    merged_into: Option<String>,
}

impl From<&IncidentRecord> for IncidentRow {
    fn from(i: &IncidentRecord) -> Self {
        Self {
            id: i.id.clone(),
            number: format!("INC-{}", i.number),
            status: i.status.clone(),
            severity: i.severity,
            title: i.title.clone(),
            assignee: i.assignee.clone(),
            category: i.category.clone(),
            tags: i.tags.clone(),
            flags: i.flags.clone(),
            created_at: i.created_at.to_rfc3339(),
            updated_at: i.updated_at.to_rfc3339(),
            merged_into: i.merged_into.clone(),
        }
    }
}

impl Row for IncidentRow {
    fn headers() -> &'static [&'static str] {
        &[
            "number", "status", "severity", "title", "assignee", "created",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.number.clone(),
            self.status.clone(),
            self.severity.to_string(),
            self.title.clone(),
            self.assignee.clone().unwrap_or_else(|| "-".into()),
            self.created_at.clone(),
        ]
    }
}

#[derive(Serialize)]
struct ClockRow {
    id: String,
    regime: String,
    name: String,
    due_at: String,
    status: String,
    remaining: String,
}

impl Row for ClockRow {
    fn headers() -> &'static [&'static str] {
        &["clock", "regime", "due", "status", "remaining"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.regime.clone(),
            self.due_at.clone(),
            self.status.clone(),
            self.remaining.clone(),
        ]
    }
}

fn human_secs(s: i64) -> String {
    let a = s.unsigned_abs();
    let text = if a >= 86_400 {
        format!("{}d {}h", a / 86_400, (a % 86_400) / 3600)
    } else if a >= 3600 {
        format!("{}h {}m", a / 3600, (a % 3600) / 60)
    } else {
        format!("{}m", a / 60)
    };
    if s < 0 {
        format!("overdue by {text}")
    } else {
        text
    }
}

fn clock_rows(cfg: &Config, inc: &IncidentRecord) -> Vec<ClockRow> {
    let facts = Facts {
        aware_at: inc.aware_at,
        flags: inc.flags.iter().cloned().collect(),
        completed: inc.clocks_done.clone(),
    };
    clocks::evaluate(&cfg.respond.clock_rules(), &facts, now())
        .into_iter()
        .map(|c| ClockRow {
            remaining: match c.completed_at {
                Some(t) => format!("done {}", t.to_rfc3339()),
                None => human_secs(c.remaining_secs),
            },
            status: serde_json::to_value(c.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            id: c.id,
            regime: c.regime,
            name: c.name,
            due_at: c.due_at.to_rfc3339(),
        })
        .collect()
}

async fn incident(store: &Store, id: &str) -> Result<IncidentRecord> {
    store
        .get_incident(T, id)
        .await?
        .ok_or_else(|| anyhow!("no incident {id} (see `vigil incidents list`)"))
}

/// `vigil incidents …`.
pub async fn incidents(cfg: Config, cmd: IncidentsCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    let code = incidents_inner(&cfg, &store, &by, cmd).await;
    store.close().await;
    code
}

async fn incidents_inner(
    cfg: &Config,
    store: &Store,
    by: &Principal,
    cmd: IncidentsCommand,
) -> Result<ExitCode> {
    match cmd {
        IncidentsCommand::Create(a) => {
            let severity = a
                .severity
                .as_deref()
                .map(str::parse::<Severity>)
                .transpose()
                .context("--severity")?;
            let alerts = a
                .alerts
                .iter()
                .map(|s| parse_alert(s))
                .collect::<Result<Vec<_>>>()?;
            check_flags(cfg, &a.flags)?;
            let inc = store
                .create_incident(
                    T,
                    &NewIncident {
                        title: a.title,
                        description: a.description,
                        severity,
                        category: a.category,
                        tags: a.tags,
                        flags: a.flags,
                        assignee: a.assignee,
                        alerts,
                        origin_key: None,
                    },
                    by,
                    now(),
                )
                .await?;
            apply_task_templates(cfg, store, &inc, by).await?;
            println!("INC-{} {}", inc.number, inc.id);
        }
        IncidentsCommand::List {
            status,
            limit,
            format,
        } => {
            let list = store
                .list_incidents(T, status.as_deref(), None, limit)
                .await?;
            let rows: Vec<IncidentRow> = list.iter().map(IncidentRow::from).collect();
            output::print(&rows, format)?;
        }
        IncidentsCommand::Show { id, format } => {
            let inc = incident(store, &id).await?;
            let alerts = store.incident_alerts(T, &inc.id).await?;
            let tasks = store.incident_tasks(T, &inc.id).await?;
            let timeline = store.incident_timeline(T, &inc.id).await?;
            let clocks = clock_rows(cfg, &inc);
            let observables = store.incident_observables(T, &inc.id).await?;
            let evidence = store.incident_evidence(T, &inc.id).await?;
            if format == OutputFormat::Table {
                println!(
                    "INC-{}  {}  [{} / {}]",
                    inc.number, inc.title, inc.status, inc.severity
                );
                println!(
                    "id {}  created {}  by {}",
                    inc.id,
                    inc.created_at.to_rfc3339(),
                    inc.created_by
                );
                if let Some(a) = &inc.assignee {
                    println!("assignee {a}");
                }
                if !inc.description.is_empty() {
                    println!("\n{}", inc.description);
                }
                if !clocks.is_empty() {
                    println!("\nRegulatory clocks:");
                    output::print(&clocks, OutputFormat::Table)?;
                }
                println!("\nAlerts ({}):", alerts.len());
                for a in &alerts {
                    println!("  {a}");
                }
                println!("\nObservables ({}):", observables.len());
                for o in &observables {
                    let n = o.intel["matches"].as_array().map_or(0, Vec::len);
                    println!(
                        "  {} {}{}",
                        o.kind,
                        o.value,
                        if n > 0 {
                            format!("  [{n} indicator(s)]")
                        } else {
                            String::new()
                        }
                    );
                }
                println!("\nEvidence ({}):", evidence.len());
                for e in &evidence {
                    println!(
                        "  {}  {} bytes  sha256 {}  ({})",
                        e.name, e.size, e.sha256, e.id
                    );
                }
                println!("\nTasks ({}):", tasks.len());
                for t in &tasks {
                    println!("  [{}] {}  ({})", t.status, t.title, t.id);
                }
                println!("\nTimeline:");
                for e in &timeline {
                    println!(
                        "  {}  {:<9} {}  — {}",
                        e.at.to_rfc3339(),
                        e.kind,
                        e.text,
                        e.actor
                    );
                }
            } else {
                let doc = json!({
                    "incident": IncidentRow::from(&inc),
                    "description": inc.description,
                    "clocks": clocks,
                    "alerts": alerts.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "observables": observables.iter().map(|o| json!({"kind": o.kind, "value": o.value, "intel": o.intel, "added_at": o.added_at.to_rfc3339()})).collect::<Vec<_>>(),
                    "evidence": evidence.iter().map(|e| json!({"id": e.id, "name": e.name, "media_type": e.media_type, "size": e.size, "sha256": e.sha256})).collect::<Vec<_>>(),
                    "tasks": tasks.iter().map(|t| json!({"id": t.id, "title": t.title, "status": t.status, "assignee": t.assignee})).collect::<Vec<_>>(),
                    "timeline": timeline.iter().map(|e| json!({"at": e.at.to_rfc3339(), "kind": e.kind, "actor": e.actor, "text": e.text, "details": e.details})).collect::<Vec<_>>(),
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
        }
        IncidentsCommand::Update(a) => {
            let mut rec = incident(store, &a.id).await?;
            let t = now();
            let change = vigil_server::incidents::IncidentChange {
                status: a.status,
                severity: a.severity,
                assignee: a.assignee,
                add_tags: a.tags,
                flags: a.flags,
                clocks_done: a.clocks_done,
                ..Default::default()
            };
            let timeline = vigil_server::incidents::apply(
                &mut rec,
                &change,
                &cfg.respond.clock_rules(),
                t,
            )
            .map_err(|e| {
                anyhow!("{e}; give --status, --severity, --assignee, --tag, --flag or --clock-done")
            })?;
            let saved = store
                .save_incident(T, &rec, &timeline, "incident.update", by, t)
                .await?
                .ok_or_else(|| anyhow!("incident disappeared"))?;
            println!("INC-{} {} {}", saved.number, saved.status, saved.severity);
        }
        IncidentsCommand::Note { id, text } => {
            let inc = incident(store, &id).await?;
            store
                .add_timeline(T, &inc.id, "note", &text, &json!({}), None, by, now())
                .await?;
            println!("noted on INC-{}", inc.number);
        }
        IncidentsCommand::Task {
            id,
            title,
            description,
        } => {
            let inc = incident(store, &id).await?;
            let t = store
                .add_task(T, &inc.id, &title, &description, None, by, now())
                .await?;
            println!("{}", t.id);
        }
        IncidentsCommand::TaskStatus { task, status } => {
            match store
                .update_task(T, &task, &status, None, by, now())
                .await?
            {
                Some(t) => println!("{} {}", t.id, t.status),
                None => bail!("no task {task}"),
            }
        }
        IncidentsCommand::Observable { id, kind, value } => {
            let inc = incident(store, &id).await?;
            let intel = intel_context(store, &value).await?;
            let known = intel["matches"].as_array().map_or(0, Vec::len);
            if store
                .add_observable(T, &inc.id, kind.trim(), &value, &intel, by, now())
                .await?
            {
                println!("added to INC-{}; {known} matching indicator(s)", inc.number);
            } else {
                println!("already on INC-{}", inc.number);
            }
        }
        IncidentsCommand::Evidence {
            id,
            file,
            media_type,
        } => {
            let inc = incident(store, &id).await?;
            let meta = std::fs::metadata(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            if meta.len() > vigil_store::MAX_EVIDENCE_BYTES as u64 {
                bail!(
                    "{} is {} bytes; evidence is limited to {} bytes",
                    file.display(),
                    meta.len(),
                    vigil_store::MAX_EVIDENCE_BYTES
                );
            }
            let data =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "evidence".into());
            let e = store
                .add_evidence(T, &inc.id, &name, &media_type, &data, by, now())
                .await?;
            println!("{} sha256:{} ({} bytes)", e.id, e.sha256, e.size);
        }
        IncidentsCommand::EvidenceGet { evidence, output } => {
            let (rec, data) = store
                .get_evidence(T, &evidence)
                .await?
                .ok_or_else(|| anyhow!("no evidence {evidence}"))?;
            std::fs::write(&output, &data)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!(
                "{} → {} ({} bytes, sha256 {} verified)",
                rec.name,
                output.display(),
                rec.size,
                rec.sha256
            );
        }
        IncidentsCommand::Link { id, alerts } => {
            let inc = incident(store, &id).await?;
            let ids = alerts
                .iter()
                .map(|s| parse_alert(s))
                .collect::<Result<Vec<_>>>()?;
            let n = store.link_alerts(T, &inc.id, &ids, by, now()).await?;
            println!("linked {n} alert(s) to INC-{}", inc.number);
        }
        IncidentsCommand::Merge { into, from } => {
            let target = incident(store, &into).await?;
            for f in from {
                let src = incident(store, &f).await?;
                store
                    .merge_incidents(T, &target.id, &src.id, by, now())
                    .await?;
                println!("INC-{} merged into INC-{}", src.number, target.number);
            }
        }
        IncidentsCommand::Metrics { period, format } => {
            let period: Period = period.parse().map_err(|e| anyhow!("{e}"))?;
            let rows = metrics(store, period).await?;
            output::print(&rows, format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The indicators the store holds for `value` (exact, case-insensitive).
pub async fn intel_context(store: &Store, value: &str) -> Result<serde_json::Value> {
    Ok(vigil_server::incidents::intel_context(store, T, value).await?)
}

/// Adds the category's template tasks to a new incident (idempotent).
pub async fn apply_task_templates(
    cfg: &Config,
    store: &Store,
    inc: &IncidentRecord,
    by: &Principal,
) -> Result<usize> {
    Ok(vigil_server::incidents::apply_task_templates(
        store,
        T,
        inc,
        &cfg.respond.task_templates,
        by,
        now(),
    )
    .await?)
}

fn check_flags(cfg: &Config, flags: &[String]) -> Result<()> {
    vigil_server::incidents::check_flags(&cfg.respond.clock_rules(), flags)
        .map_err(|e| anyhow!("{e}"))
}

#[derive(Serialize)]
struct MetricRow(mttx::Row);

impl Row for MetricRow {
    fn headers() -> &'static [&'static str] {
        &[
            "metric", "severity", "period", "count", "open", "mean", "median", "p90",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let r = &self.0;
        let d = |v: Option<i64>| v.map_or_else(|| "-".into(), human_secs);
        vec![
            r.metric.as_str().to_string(),
            r.severity.clone(),
            r.period.clone(),
            r.count.to_string(),
            r.open.to_string(),
            d(r.mean_secs),
            d(r.median_secs),
            d(r.p90_secs),
        ]
    }
}

/// MTTD/MTTA over every alert, MTTC/MTTR over every incident.
async fn metrics(store: &Store, period: Period) -> Result<Vec<MetricRow>> {
    Ok(vigil_server::incidents::response_metrics(store, T, period)
        .await?
        .into_iter()
        .map(MetricRow)
        .collect())
}

// ---- playbooks ---------------------------------------------------------------

#[derive(Serialize)]
struct PlaybookRow {
    id: String,
    version: i64,
    enabled: bool,
    name: String,
    trigger: String,
    steps: usize,
    uploaded: String,
    by: String,
}

impl Row for PlaybookRow {
    fn headers() -> &'static [&'static str] {
        &["id", "version", "enabled", "trigger", "steps", "name"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.version.to_string(),
            self.enabled.to_string(),
            self.trigger.clone(),
            self.steps.to_string(),
            self.name.clone(),
        ]
    }
}

fn read_playbook(path: &Path) -> Result<(String, playbook::Playbook)> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > playbook::MAX_BYTES as u64 {
        bail!(
            "{}: larger than {} bytes",
            path.display(),
            playbook::MAX_BYTES
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let pb = playbook::parse(&path.display().to_string(), &text).map_err(|e| anyhow!("{e}"))?;
    Ok((text, pb))
}

/// Loads the playbook files of `dirs` into the store: a file whose text
/// differs from the stored latest version becomes a new version.
pub async fn sync_playbook_dirs(
    store: &Store,
    dirs: &[std::path::PathBuf],
    by: &Principal,
) -> Result<usize> {
    let mut n = 0;
    for dir in dirs {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read playbook directory {}", dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
            .collect();
        paths.sort();
        for p in paths {
            match read_playbook(&p) {
                Ok((text, pb)) => {
                    let latest = store.get_playbook(T, &pb.id, None).await?;
                    if latest.as_ref().is_none_or(|l| l.source != text) {
                        store
                            .put_playbook(T, &pb.id, &text, true, by, now())
                            .await?;
                        n += 1;
                    }
                }
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "playbook not loaded"),
            }
        }
    }
    Ok(n)
}

/// `vigil playbooks …`.
pub async fn playbooks(cfg: Config, cmd: PlaybooksCommand) -> Result<ExitCode> {
    // Validation needs no database.
    if let PlaybooksCommand::Validate { files } = &cmd {
        return Ok(validate(files));
    }
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    let r = playbooks_inner(&cfg, &store, &by, cmd).await;
    store.close().await;
    r
}

async fn playbooks_inner(
    cfg: &Config,
    store: &Store,
    by: &Principal,
    cmd: PlaybooksCommand,
) -> Result<ExitCode> {
    match cmd {
        PlaybooksCommand::Validate { files } => return Ok(validate(&files)),
        PlaybooksCommand::List { format } => {
            let runner = runner(cfg, store.clone())?;
            let mut rows = Vec::new();
            for rec in store.list_playbooks(T).await? {
                let (name, trigger, steps) = match runner.playbook(T, &rec) {
                    Ok(pb) => (
                        pb.name.clone(),
                        pb.trigger.kind().to_string(),
                        pb.steps.len(),
                    ),
                    Err(e) => (format!("(invalid: {e})"), "-".into(), 0),
                };
                rows.push(PlaybookRow {
                    id: rec.id,
                    version: rec.version,
                    enabled: rec.enabled,
                    name,
                    trigger,
                    steps,
                    uploaded: rec.created_at.to_rfc3339(),
                    by: rec.created_by,
                });
            }
            output::print(&rows, format)?;
        }
        PlaybooksCommand::Upload { files, disabled } => {
            for f in files {
                let (text, pb) = read_playbook(&f)?;
                let rec = store
                    .put_playbook(T, &pb.id, &text, !disabled, by, now())
                    .await?;
                println!(
                    "{} v{} stored{}",
                    rec.id,
                    rec.version,
                    if disabled { " (disabled)" } else { "" }
                );
            }
        }
        PlaybooksCommand::Enable { id } => set_enabled(store, by, &id, true).await?,
        PlaybooksCommand::Disable { id } => set_enabled(store, by, &id, false).await?,
        PlaybooksCommand::Run(a) => {
            let runner = Arc::new(runner(cfg, store.clone())?);
            let (rec, pb, kind, trigger_id, trigger, inputs) = prepare(store, &runner, &a).await?;
            let id = runner
                .start(T, &rec, &pb, &kind, &trigger_id, trigger, inputs, by)
                .await?
                .ok_or_else(|| anyhow!("{} already ran for {kind} {trigger_id} (see `vigil runs list --playbook {}`)", rec.id, rec.id))?;
            let d = runner.drive(T, &id).await?;
            println!(
                "run {} {}{}",
                d.id,
                d.status,
                d.waiting_step
                    .map(|s| format!(" (step {s}: approve with `vigil runs approve {id}`)"))
                    .unwrap_or_default()
            );
            if d.status == "failed" {
                return Ok(ExitCode::from(1));
            }
        }
        PlaybooksCommand::DryRun(a) => {
            let runner = Arc::new(runner(cfg, store.clone())?);
            let (_, pb, kind, _, trigger, inputs) = prepare(store, &runner, &a).await?;
            let (status, log) =
                vigil_server::playbook_runs::dry_run(&pb, &kind, trigger, inputs, now())
                    .map_err(|e| anyhow!("{e}"))?;
            for e in log {
                println!(
                    "{:<14} {:<10} {}",
                    if e.step.is_empty() { "-" } else { &e.step },
                    e.event,
                    e.message
                );
            }
            println!("result: {}", status.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(files: &[std::path::PathBuf]) -> ExitCode {
    let mut bad = 0;
    for f in files {
        match read_playbook(f) {
            Ok((_, pb)) => println!(
                "{}: ok ({} v{}, {} trigger, {} steps)",
                f.display(),
                pb.id,
                pb.version,
                pb.trigger.kind(),
                pb.steps.len()
            ),
            Err(e) => {
                bad += 1;
                eprintln!("{e:#}");
            }
        }
    }
    println!("{} valid, {bad} invalid", files.len() - bad);
    if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

async fn set_enabled(store: &Store, by: &Principal, id: &str, enabled: bool) -> Result<()> {
    let latest = store
        .get_playbook(T, id, None)
        .await?
        .ok_or_else(|| anyhow!("no playbook {id} (see `vigil playbooks list`)"))?;
    let rec = store
        .put_playbook(T, id, &latest.source, enabled, by, now())
        .await?;
    println!(
        "{} v{} {}",
        rec.id,
        rec.version,
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

type Prepared = (
    vigil_store::PlaybookRecord,
    Arc<playbook::Playbook>,
    String,
    String,
    serde_json::Value,
    serde_json::Value,
);

async fn prepare(store: &Store, runner: &Runner, a: &PlaybookRunArgs) -> Result<Prepared> {
    let rec = store
        .get_playbook(T, &a.id, None)
        .await?
        .ok_or_else(|| anyhow!("no playbook {} (see `vigil playbooks list`)", a.id))?;
    let pb = runner.playbook(T, &rec)?;
    let mut inputs = serde_json::Map::new();
    for i in &a.inputs {
        let (k, v) = i
            .split_once('=')
            .ok_or_else(|| anyhow!("--input {i:?}: expected NAME=VALUE"))?;
        // JSON values (lists, numbers) are kept typed; anything else is a string.
        let v =
            serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
        inputs.insert(k.to_string(), v);
    }
    // The same trigger the API's manual runs use.
    let t = vigil_server::playbook_runs::manual_trigger(store, T, a.alert.as_deref()).await?;
    let (kind, trigger_id, trigger) = (t.kind, t.trigger_id, t.trigger);
    Ok((
        rec,
        pb,
        kind,
        trigger_id,
        trigger,
        serde_json::Value::Object(inputs),
    ))
}

// ---- runs --------------------------------------------------------------------

#[derive(Serialize)]
struct RunRow {
    id: String,
    playbook: String,
    version: i64,
    trigger: String,
    status: String,
    created_at: String,
    updated_at: String,
}

impl Row for RunRow {
    fn headers() -> &'static [&'static str] {
        &["id", "playbook", "trigger", "status", "updated"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            format!("{} v{}", self.playbook, self.version),
            self.trigger.clone(),
            self.status.clone(),
            self.updated_at.clone(),
        ]
    }
}

/// `vigil runs …`.
pub async fn runs(cfg: Config, cmd: RunsCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    let r = runs_inner(&cfg, &store, &by, cmd).await;
    store.close().await;
    r
}

async fn runs_inner(
    cfg: &Config,
    store: &Store,
    by: &Principal,
    cmd: RunsCommand,
) -> Result<ExitCode> {
    match cmd {
        RunsCommand::List {
            status,
            playbook,
            limit,
            format,
        } => {
            let rows: Vec<RunRow> = store
                .list_runs(T, status.as_deref(), playbook.as_deref(), limit)
                .await?
                .into_iter()
                .map(|r| RunRow {
                    id: r.id,
                    playbook: r.playbook_id,
                    version: r.version,
                    trigger: format!("{} {}", r.trigger_kind, r.trigger_id),
                    status: r.status,
                    created_at: r.created_at.to_rfc3339(),
                    updated_at: r.updated_at.to_rfc3339(),
                })
                .collect();
            output::print(&rows, format)?;
        }
        RunsCommand::Show { id, format } => {
            let r = store
                .get_run(T, &id)
                .await?
                .ok_or_else(|| anyhow!("no run {id} (see `vigil runs list`)"))?;
            let log = store.run_log(T, &id).await?;
            if format == OutputFormat::Table {
                println!(
                    "run {}  {} v{}  {}",
                    r.id, r.playbook_id, r.version, r.status
                );
                println!("trigger {} {}", r.trigger_kind, r.trigger_id);
                if let Some(w) = r.state.get("waiting") {
                    println!(
                        "waiting for approval of step {} until {}",
                        w["step"].as_str().unwrap_or("?"),
                        w["deadline"]
                    );
                }
                println!();
                for e in &log {
                    println!(
                        "{}  {:<14} {:<12} {}",
                        e.at.to_rfc3339(),
                        if e.step.is_empty() { "-" } else { &e.step },
                        e.event,
                        e.message
                    );
                }
            } else {
                let doc = json!({
                    "id": r.id, "playbook": r.playbook_id, "version": r.version, "status": r.status,
                    "trigger": {"kind": r.trigger_kind, "id": r.trigger_id},
                    "state": r.state,
                    "log": log.iter().map(|e| json!({"at": e.at.to_rfc3339(), "step": e.step, "event": e.event, "message": e.message})).collect::<Vec<_>>(),
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
        }
        RunsCommand::Approve { id, comment } => {
            let d = runner(cfg, store.clone())?
                .decide(T, &id, true, &comment, by)
                .await?;
            println!("run {} {}", d.id, d.status);
        }
        RunsCommand::Deny { id, comment } => {
            let d = runner(cfg, store.clone())?
                .decide(T, &id, false, &comment, by)
                .await?;
            println!("run {} {}", d.id, d.status);
        }
        RunsCommand::Cancel { id } => {
            runner(cfg, store.clone())?.cancel(T, &id, by).await?;
            println!("run {id} cancelled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

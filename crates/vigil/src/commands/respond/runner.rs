//! The playbook runner: turns triggers into runs and drives runs with the
//! `vigil-respond` state machine, persisting the state before every side
//! effect and after its outcome (see `vigil_respond::playbook::run`).
//!
//! Used by `vigil serve` (a background task: change-feed triggers and a
//! tick for due runs) and by the CLI (`vigil playbooks run`, `vigil runs
//! approve`), which drive a run inline until it waits.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use parking_lot::Mutex;
use serde_json::json;
use vigil_model::{Clock, Principal, PrincipalKind, Role, TenantId, Timestamp};
use vigil_respond::egress::Guard;
use vigil_respond::playbook::run::{self, Decision, Next, RunState, RunStatus};
use vigil_respond::playbook::{self, Playbook, Templates, Trigger};
use vigil_server::playbook_runs::alert_json;
use vigil_store::{Change, PlaybookRecord, RunAudit, RunLogRecord, RunRecord, SecretKey, Store};

use super::RespondSection;
use super::effects::{Effects, HostTable};

/// Change-feed consumer name of the trigger loop.
pub const CONSUMER: &str = "changes:respond";

/// The runner.
pub struct Runner {
    store: Store,
    clock: Arc<dyn Clock>,
    templates: Templates,
    effects: Effects,
    clock_rules: Vec<vigil_respond::clocks::Rule>,
    cache: Mutex<HashMap<(TenantId, String, i64), Arc<Playbook>>>,
}

/// A run state as loaded, with the revision it was read at.
struct Loaded {
    st: RunState,
    rev: i64,
}

/// What a drive left the run as.
#[derive(Debug, Clone, PartialEq)]
pub struct Driven {
    /// Run id.
    pub id: String,
    /// Status name.
    pub status: String,
    /// Waiting for an approval on this step.
    pub waiting_step: Option<String>,
}

fn principal_of(pb: &Playbook, tenant: TenantId) -> Principal {
    Principal {
        kind: PrincipalKind::Playbook,
        id: pb.id.clone(),
        name: pb.name.clone(),
        tenant,
        role: Role::Analyst,
    }
}

fn log_records(st: &mut RunState) -> Vec<RunLogRecord> {
    st.drain_log()
        .into_iter()
        .map(|e| RunLogRecord {
            at: e.at,
            step: e.step,
            event: e.event,
            message: e.message,
        })
        .collect()
}

impl Runner {
    /// A runner over `store` with the `[respond]` settings.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        cfg: &RespondSection,
        key: SecretKey,
    ) -> Result<Self> {
        let guard =
            Guard::new(&cfg.egress.guard()).context("invalid [respond.egress] allowlist")?;
        let hosts = HostTable::new(&cfg.egress.hosts).context("invalid [respond.egress.hosts]")?;
        Ok(Self {
            effects: Effects::new(
                store.clone(),
                guard,
                hosts,
                key,
                cfg.smtp.clone(),
                clock.clone(),
                cfg.task_templates.clone(),
            ),
            clock_rules: cfg.clock_rules(),
            store,
            clock,
            templates: Templates::new(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Parses (and caches) a stored playbook version.
    pub fn playbook(&self, tenant: TenantId, rec: &PlaybookRecord) -> Result<Arc<Playbook>> {
        let key = (tenant, rec.id.clone(), rec.version);
        if let Some(p) = self.cache.lock().get(&key) {
            return Ok(p.clone());
        }
        let pb = Arc::new(
            playbook::parse(
                &format!("playbook {} v{}", rec.id, rec.version),
                &rec.source,
            )
            .map_err(|e| anyhow!("{e}"))?,
        );
        self.cache.lock().insert(key, pb.clone());
        Ok(pb)
    }

    /// Enabled playbooks (latest version of each) whose trigger is `kind`.
    async fn enabled(
        &self,
        tenant: TenantId,
        kind: &str,
    ) -> Result<Vec<(PlaybookRecord, Arc<Playbook>)>> {
        let mut out = Vec::new();
        for rec in self.store.list_playbooks(tenant).await? {
            if !rec.enabled {
                continue;
            }
            match self.playbook(tenant, &rec) {
                Ok(pb) if pb.enabled && pb.trigger.kind() == kind => out.push((rec, pb)),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(playbook = %rec.id, error = %e, "stored playbook does not load")
                }
            }
        }
        Ok(out)
    }

    /// Starts a run of `rec` for a trigger object unless one exists for it;
    /// returns the new run's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        &self,
        tenant: TenantId,
        rec: &PlaybookRecord,
        pb: &Playbook,
        kind: &str,
        trigger_id: &str,
        trigger: serde_json::Value,
        inputs: serde_json::Value,
        by: &Principal,
    ) -> Result<Option<String>> {
        // The same record the API's manual runs store.
        Ok(vigil_server::playbook_runs::create_run(
            &self.store,
            tenant,
            rec,
            pb,
            kind,
            trigger_id,
            trigger,
            inputs,
            by,
            self.clock.now(),
        )
        .await?
        .map(|s| s.record.id))
    }

    /// Reads new changes and starts runs for the playbooks they trigger.
    /// Returns how many runs started.
    pub async fn consume_changes(&self) -> Result<usize> {
        let mut started = 0;
        loop {
            let after = self.store.checkpoint(CONSUMER).await?;
            let batch = self.store.changes_after(after, 500).await?;
            let Some(last) = batch.last().map(|c| c.seq) else {
                return Ok(started);
            };
            for c in &batch {
                started += self.on_change(c).await?;
            }
            self.store
                .set_change_checkpoint(CONSUMER, last, self.clock.now())
                .await?;
        }
    }

    async fn on_change(&self, c: &Change) -> Result<usize> {
        let system = Principal {
            tenant: c.tenant,
            ..Principal::system("respond")
        };
        let mut n = 0;
        match (c.object_type.as_str(), c.op.as_str()) {
            ("alert", "create") => {
                let id = c
                    .object_id
                    .parse()
                    .map_err(|_| anyhow!("alert id {:?} in the change feed", c.object_id))?;
                let Some(alert) = self.store.get_alert(c.tenant, id).await? else {
                    return Ok(0);
                };
                for (rec, pb) in self.enabled(c.tenant, "alert").await? {
                    let Trigger::Alert(t) = &pb.trigger else {
                        continue;
                    };
                    match playbook::matches_alert(t, &alert, &self.templates) {
                        Ok(true) => {
                            if self
                                .start(
                                    c.tenant,
                                    &rec,
                                    &pb,
                                    "alert",
                                    &c.object_id,
                                    alert_json(&alert),
                                    json!(null),
                                    &system,
                                )
                                .await?
                                .is_some()
                            {
                                n += 1;
                            }
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(playbook = %rec.id, error = %e, "trigger condition failed")
                        }
                    }
                }
            }
            ("incident", op @ ("create" | "update")) => {
                let Some(inc) = self.store.get_incident(c.tenant, &c.object_id).await? else {
                    return Ok(0);
                };
                let event = if op == "create" {
                    playbook::model::IncidentEvent::Created
                } else {
                    playbook::model::IncidentEvent::Updated
                };
                let obj = json!({
                    "id": inc.id, "number": inc.number, "title": inc.title, "severity": inc.severity.as_str(),
                    "status": inc.status, "category": inc.category, "tags": inc.tags, "flags": inc.flags,
                });
                for (rec, pb) in self.enabled(c.tenant, "incident").await? {
                    let Trigger::Incident(t) = &pb.trigger else {
                        continue;
                    };
                    // One run per incident creation, and per status an
                    // incident reaches: a playbook that updates its own
                    // incident cannot retrigger itself without end.
                    let key = match event {
                        playbook::model::IncidentEvent::Created => inc.id.clone(),
                        playbook::model::IncidentEvent::Updated => {
                            format!("{}:{}", inc.id, inc.status)
                        }
                    };
                    if playbook::matches_incident(t, event, &obj, &self.templates).unwrap_or(false)
                        && self
                            .start(
                                c.tenant,
                                &rec,
                                &pb,
                                "incident",
                                &key,
                                obj.clone(),
                                json!(null),
                                &system,
                            )
                            .await?
                            .is_some()
                    {
                        n += 1;
                    }
                }
            }
            ("intel.sighting", _) | ("sighting", _) => {
                for (rec, pb) in self.enabled(c.tenant, "sighting").await? {
                    let Trigger::Sighting(t) = &pb.trigger else {
                        continue;
                    };
                    if playbook::matches_sighting(t, &c.payload, &self.templates).unwrap_or(false)
                        && self
                            .start(
                                c.tenant,
                                &rec,
                                &pb,
                                "sighting",
                                &format!("{}@{}", c.object_id, c.seq),
                                c.payload.clone(),
                                json!(null),
                                &system,
                            )
                            .await?
                            .is_some()
                    {
                        n += 1;
                    }
                }
            }
            ("finding", _) => {
                let Some(f) = self.store.get_finding(c.tenant, &c.object_id).await? else {
                    return Ok(0);
                };
                let obj = json!({
                    "id": f.id, "asset_id": f.asset_id, "vulnerability": f.vulnerability, "package": f.package,
                    "version": f.version, "severity": f.severity, "decision": f.decision, "risk": f.risk,
                    "status": f.status,
                });
                for (rec, pb) in self.enabled(c.tenant, "finding").await? {
                    let Trigger::Finding(t) = &pb.trigger else {
                        continue;
                    };
                    // One run per finding reaching the decision.
                    if playbook::matches_finding(t, &obj, &self.templates).unwrap_or(false)
                        && self
                            .start(
                                c.tenant,
                                &rec,
                                &pb,
                                "finding",
                                &format!("{}:{}", f.id, f.decision),
                                obj.clone(),
                                json!(null),
                                &system,
                            )
                            .await?
                            .is_some()
                    {
                        n += 1;
                    }
                }
            }
            _ => {}
        }
        Ok(n)
    }

    /// Starts runs of schedule-triggered playbooks whose cron time passed
    /// since `since` (one run per slot).
    pub async fn schedule(&self, tenant: TenantId, since: Timestamp) -> Result<usize> {
        let now = self.clock.now();
        let mut n = 0;
        for (rec, pb) in self.enabled(tenant, "schedule").await? {
            let Trigger::Schedule(s) = &pb.trigger else {
                continue;
            };
            let Ok(cron) = playbook::cron::Cron::parse(&s.cron) else {
                continue;
            };
            if let Some(slot) = cron.next_after(since)
                && slot <= now
            {
                let by = Principal {
                    tenant,
                    ..Principal::system("scheduler")
                };
                if self
                    .start(
                        tenant,
                        &rec,
                        &pb,
                        "schedule",
                        &slot.to_rfc3339(),
                        json!({ "slot": slot.to_rfc3339() }),
                        json!(null),
                        &by,
                    )
                    .await?
                    .is_some()
                {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    async fn load(
        &self,
        tenant: TenantId,
        run_id: &str,
    ) -> Result<(RunRecord, Arc<Playbook>, Loaded)> {
        let rec = self
            .store
            .get_run(tenant, run_id)
            .await?
            .ok_or_else(|| anyhow!("no run {run_id}"))?;
        let pb_rec = self
            .store
            .get_playbook(tenant, &rec.playbook_id, Some(rec.version))
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "run {run_id}: playbook {} v{} is gone",
                    rec.playbook_id,
                    rec.version
                )
            })?;
        let pb = self.playbook(tenant, &pb_rec)?;
        let st: RunState = serde_json::from_value(rec.state.clone()).context("stored run state")?;
        let rev = rec.rev;
        Ok((rec, pb, Loaded { st, rev }))
    }

    /// Saves the run if nobody else did since it was loaded; a conflict
    /// (another process drives the run) is an error and this copy stops.
    async fn save(
        &self,
        tenant: TenantId,
        l: &mut Loaded,
        wake_at: Option<Timestamp>,
        audits: &[(Principal, RunAudit)],
    ) -> Result<()> {
        let log = log_records(&mut l.st);
        let state = serde_json::to_value(&l.st)?;
        l.rev = self
            .store
            .save_run(
                tenant,
                &l.st.id,
                l.rev,
                l.st.status.as_str(),
                &state,
                wake_at,
                &log,
                audits,
                self.clock.now(),
            )
            .await?;
        Ok(())
    }

    /// Drives a run until it waits (approval, back-off) or ends.
    pub async fn drive(&self, tenant: TenantId, run_id: &str) -> Result<Driven> {
        let (rec, pb, mut l) = self.load(tenant, run_id).await?;
        if rec.status == "queued" {
            // Its turn comes when `promote_queued` finds a free slot.
            return Ok(Driven {
                id: rec.id,
                status: rec.status,
                waiting_step: None,
            });
        }
        let who = principal_of(&pb, tenant);
        // Bounded so one run cannot hold the runner forever.
        for _ in 0..10_000 {
            let now = self.clock.now();
            let next = match run::next(&pb, &self.templates, &mut l.st, now) {
                Ok(n) => n,
                Err(e) => {
                    l.st.status = RunStatus::Failed {
                        error: e.to_string(),
                    };
                    l.st.stack.clear();
                    self.save(tenant, &mut l, None, &[]).await?;
                    return Ok(Driven {
                        id: l.st.id.clone(),
                        status: l.st.status.as_str().into(),
                        waiting_step: None,
                    });
                }
            };
            match next {
                Next::Execute(cmd) => {
                    // Record before: a crash from here on replays (or, for
                    // what cannot be deduplicated, refuses to repeat) this
                    // command.
                    self.save(tenant, &mut l, None, &[]).await?;
                    let outcome = self.effects.execute(tenant, &l.st, &cmd, &who).await;
                    let (ok, detail) = match &outcome {
                        run::Outcome::Ok(_) => (true, String::new()),
                        run::Outcome::Err { message, .. } => (false, message.clone()),
                    };
                    run::complete(&pb, &mut l.st, outcome, self.clock.now())
                        .map_err(|e| anyhow!("{e}"))?;
                    let kind = serde_json::to_value(&cmd.effect)
                        .ok()
                        .and_then(|v| v.get("effect").and_then(|k| k.as_str()).map(str::to_string))
                        .unwrap_or_default();
                    let audit = RunAudit {
                        action: "playbook.step".into(),
                        target: format!("run:{}", l.st.id),
                        details: json!({ "playbook": pb.id, "step": cmd.step, "effect": kind, "attempt": cmd.attempt, "ok": ok, "error": detail }),
                    };
                    self.save(tenant, &mut l, None, &[(who.clone(), audit)])
                        .await?;
                }
                Next::WaitApproval(w) => {
                    self.save(tenant, &mut l, Some(w.deadline), &[]).await?;
                    return Ok(Driven {
                        id: l.st.id.clone(),
                        status: l.st.status.as_str().into(),
                        waiting_step: Some(w.step),
                    });
                }
                Next::Sleep(until) => {
                    self.save(tenant, &mut l, Some(until), &[]).await?;
                    return Ok(Driven {
                        id: l.st.id.clone(),
                        status: l.st.status.as_str().into(),
                        waiting_step: None,
                    });
                }
                Next::Done(status) => {
                    self.save(tenant, &mut l, None, &[]).await?;
                    return Ok(Driven {
                        id: l.st.id.clone(),
                        status: status.as_str().into(),
                        waiting_step: None,
                    });
                }
            }
        }
        Err(anyhow!("run {run_id} did not settle"))
    }

    /// Starts queued runs whose playbook is below its concurrency limit.
    pub async fn promote_queued(&self) -> Result<usize> {
        let mut n = 0;
        for (tenant, rec) in self.store.queued_runs(500).await? {
            let (_, pb, mut l) = self.load(tenant, &rec.id).await?;
            if self
                .store
                .count_active_runs(tenant, &rec.playbook_id)
                .await?
                >= i64::from(pb.concurrency)
            {
                continue;
            }
            l.st.log.push(run::LogEntry {
                at: self.clock.now(),
                step: String::new(),
                event: "dequeued".into(),
                message: "a slot freed up".into(),
            });
            self.save(tenant, &mut l, None, &[]).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Drives every due run once (what a restarted server resumes first).
    pub async fn tick(&self) -> Result<usize> {
        if let Err(e) = self.promote_queued().await {
            tracing::warn!(error = %e, "queued playbook runs");
        }
        let due = self.store.due_runs(self.clock.now(), 200).await?;
        let n = due.len();
        for (tenant, rec) in due {
            if let Err(e) = self.drive(tenant, &rec.id).await {
                tracing::warn!(run = %rec.id, error = %e, "playbook run failed to advance");
            }
        }
        Ok(n)
    }

    /// Approves or denies the approval a run waits for, audited with the
    /// person as principal, then drives the run on.
    pub async fn decide(
        &self,
        tenant: TenantId,
        run_id: &str,
        approve: bool,
        comment: &str,
        by: &Principal,
    ) -> Result<Driven> {
        let (_, pb, mut l) = self.load(tenant, run_id).await?;
        let d = Decision {
            approve,
            by: by.label(),
            role: by.role,
            comment: comment.to_string(),
        };
        let step =
            l.st.waiting
                .as_ref()
                .map(|w| w.step.clone())
                .unwrap_or_default();
        run::decide(&pb, &mut l.st, &d, self.clock.now()).map_err(|e| anyhow!("{e}"))?;
        let audit = RunAudit {
            action: if approve { "run.approve" } else { "run.deny" }.into(),
            target: format!("run:{run_id}"),
            details: json!({ "playbook": pb.id, "step": step, "comment": comment }),
        };
        self.save(tenant, &mut l, None, &[(by.clone(), audit)])
            .await?;
        self.drive(tenant, run_id).await
    }

    /// Cancels a run, audited.
    pub async fn cancel(&self, tenant: TenantId, run_id: &str, by: &Principal) -> Result<()> {
        let (_, pb, mut l) = self.load(tenant, run_id).await?;
        run::cancel(&mut l.st, &by.label(), self.clock.now()).map_err(|e| anyhow!("{e}"))?;
        let audit = RunAudit {
            action: "run.cancel".into(),
            target: format!("run:{run_id}"),
            details: json!({ "playbook": pb.id }),
        };
        self.save(tenant, &mut l, None, &[(by.clone(), audit)])
            .await
    }

    /// Notes every regulatory clock of an open incident that is overdue and
    /// was not noted yet: a timeline entry, a `notification` change-feed
    /// row, a warning in the log. Returns how many.
    pub async fn notify_overdue(&self, tenant: TenantId) -> Result<usize> {
        let now = self.clock.now();
        let by = Principal {
            tenant,
            ..Principal::system("clocks")
        };
        let mut n = 0;
        let mut before = None;
        loop {
            let page = self
                .store
                .list_incidents(tenant, Some("open"), before, 500)
                .await?;
            let Some(last) = page.last() else { break };
            before = Some(last.number);
            for inc in page.iter().filter(|i| !i.flags.is_empty()) {
                let facts = vigil_respond::clocks::Facts {
                    aware_at: inc.aware_at,
                    flags: inc.flags.iter().cloned().collect(),
                    completed: inc.clocks_done.clone(),
                };
                for c in vigil_respond::clocks::evaluate(&self.clock_rules, &facts, now) {
                    if c.status != vigil_respond::clocks::ClockStatus::Overdue
                        || !self
                            .store
                            .mark_clock_notified(tenant, &inc.id, &c.id, now)
                            .await?
                    {
                        continue;
                    }
                    let text = format!(
                        "{} overdue: {} was due {}",
                        c.regime,
                        c.name,
                        c.due_at.to_rfc3339()
                    );
                    let details = json!({ "clock": c.id, "regime": c.regime, "due_at": c.due_at.to_rfc3339(), "incident": inc.id, "number": inc.number });
                    self.store
                        .add_timeline(tenant, &inc.id, "clock", &text, &details, None, &by, now)
                        .await?;
                    self.store
                        .record_change(
                            tenant,
                            "notification",
                            &format!("{}:{}", inc.id, c.id),
                            "create",
                            &details,
                            now,
                        )
                        .await?;
                    tracing::warn!(incident = inc.number, clock = %c.id, due = %c.due_at.to_rfc3339(), "regulatory clock overdue");
                    n += 1;
                }
            }
            if page.len() < 500 {
                break;
            }
        }
        Ok(n)
    }

    /// Background loop for `vigil serve`: the alert entity index and
    /// triggers from the change feed, schedules, and due runs, every `every` until `stop`.
    pub async fn run_forever(
        self: Arc<Self>,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut last_schedule = self.clock.now();
        let mut last_clocks: Option<std::time::Instant> = None;
        loop {
            if last_clocks.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(30)) {
                if let Err(e) = self.notify_overdue(TenantId::DEFAULT).await {
                    tracing::warn!(error = %e, "regulatory clocks");
                }
                last_clocks = Some(std::time::Instant::now());
            }
            if let Err(e) = self.store.catch_up_alert_entities(self.clock.now()).await {
                tracing::warn!(error = %e, "alert entity index");
            }
            if let Err(e) = self.consume_changes().await {
                tracing::warn!(error = %e, "playbook triggers");
            }
            let now = self.clock.now();
            if let Err(e) = self.schedule(TenantId::DEFAULT, last_schedule).await {
                tracing::warn!(error = %e, "scheduled playbooks");
            }
            last_schedule = now;
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "playbook runs");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

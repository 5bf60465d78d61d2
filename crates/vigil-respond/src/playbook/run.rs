//! Durable playbook runs: a state machine the caller persists.
//!
//! The protocol, which makes a crash at any point safe:
//!
//! 1. [`next`] moves the run forward through steps without side effects
//!    (`if`, `for_each`, `set`, skipped steps) and stops at the first step
//!    that needs the outside world, returning [`Next::Execute`] with the
//!    fully rendered [`Command`] — or [`Next::WaitApproval`],
//!    [`Next::Sleep`] (retry back-off) or [`Next::Done`].
//! 2. The caller **persists the state** (the command is recorded in it as
//!    `pending`, with its attempt number and idempotency key) and only then
//!    executes the command.
//! 3. The caller passes the outcome to [`complete`] and persists the state
//!    again — for effects inside Vigil (incident, task, blocklist) in the
//!    same transaction as the effect itself.
//!
//! After a crash between 2 and 3, [`next`] hands the same command out
//! again (same idempotency key, same body) when it is safe to repeat: HTTP
//! requests carry the `Idempotency-Key` so the receiver deduplicates, and
//! in-Vigil effects were either committed with the step's completion or not
//! at all. An e-mail cannot be deduplicated by its receiver, so an
//! interrupted e-mail step is not resent: it fails with "outcome unknown".
//!
//! Every transition appends to the run's log ([`RunState::log`]); the
//! caller drains it into the stored per-run log in the same transaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_model::{Role, Timestamp};

use super::model::{Action, AuthSpec, HmacSpec, NotifyChannel, OnError, Playbook, Step};
use super::template::Templates;
use crate::clocks::Span;
use crate::{Error, Result};

/// Most items a `for_each` iterates over.
pub const MAX_ITEMS: usize = 1000;
/// Most log entries kept in a state between drains.
const MAX_LOG: usize = 10_000;

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RunStatus {
    /// Working through steps.
    Running,
    /// Waiting for a person.
    WaitingApproval,
    /// Every step done.
    Succeeded,
    /// A step failed (and its `on_error` was `fail`).
    Failed {
        /// Why.
        error: String,
    },
    /// An approval was denied or timed out (after its branch, if any).
    Stopped {
        /// `denied` or `timeout`.
        reason: String,
    },
    /// Cancelled by a person.
    Cancelled {
        /// Who.
        by: String,
    },
}

impl RunStatus {
    /// Whether the run is over.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Running | Self::WaitingApproval)
    }

    /// `running`, `waiting_approval`, `succeeded`, `failed`, `stopped`,
    /// `cancelled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::WaitingApproval => "waiting_approval",
            Self::Succeeded => "succeeded",
            Self::Failed { .. } => "failed",
            Self::Stopped { .. } => "stopped",
            Self::Cancelled { .. } => "cancelled",
        }
    }
}

/// How a frame's step list hangs off its parent step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Branch {
    /// The playbook's `steps`.
    Root,
    /// `if.then`.
    Then,
    /// `if.else`.
    Else,
    /// `for_each.steps`.
    Body,
    /// `approval.on_deny`.
    OnDeny,
    /// `approval.on_timeout`.
    OnTimeout,
}

/// One level of the step stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// How this list is reached from the parent frame's current step.
    pub branch: Branch,
    /// Index of the current step in this list.
    pub index: usize,
    /// Loop state for a `for_each` body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<Each>,
}

/// `for_each` progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Each {
    /// The items, evaluated once when the loop started.
    pub items: Vec<serde_json::Value>,
    /// Current item.
    pub pos: usize,
    /// Loop variable.
    pub var: String,
}

/// A side effect the caller must carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    /// Look values up (no change anywhere).
    Enrich {
        /// Indicator value.
        intel: Option<String>,
        /// Host name or IP.
        asset: Option<String>,
        /// Technique id.
        attack: Option<String>,
    },
    /// Open an incident and attach the trigger's alert.
    CreateIncident {
        /// Title.
        title: String,
        /// Description.
        description: String,
        /// Severity name, if given.
        severity: Option<String>,
        /// Category.
        category: Option<String>,
        /// Tags.
        tags: Vec<String>,
        /// Regulatory flags.
        flags: Vec<String>,
    },
    /// Change an incident.
    UpdateIncident {
        /// Incident id (the run's when not given).
        incident: Option<String>,
        /// New status.
        status: Option<String>,
        /// New severity.
        severity: Option<String>,
        /// New assignee.
        assignee: Option<String>,
        /// Tags to add.
        add_tags: Vec<String>,
    },
    /// Add a task.
    AddTask {
        /// Incident id (the run's when not given).
        incident: Option<String>,
        /// Title.
        title: String,
        /// Description.
        description: String,
    },
    /// Add a note.
    AddNote {
        /// Incident id.
        incident: Option<String>,
        /// Text.
        text: String,
    },
    /// Add a blocklist entry.
    Blocklist {
        /// Kind (`ip`, …).
        kind: String,
        /// Value.
        value: String,
        /// Lifetime in seconds.
        ttl_secs: i64,
        /// Why.
        reason: String,
    },
    /// An HTTP request.
    Http(HttpRequest),
    /// An e-mail.
    Email {
        /// Recipients.
        to: Vec<String>,
        /// Subject.
        subject: String,
        /// Body.
        text: String,
    },
}

impl Effect {
    /// Whether handing the same command out again after an interruption
    /// cannot double its effect (see the module docs).
    pub fn replay_safe(&self) -> bool {
        !matches!(self, Self::Email { .. })
    }
}

/// A rendered HTTP request. Secrets are names; the caller resolves them at
/// send time so they never enter the state or the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// URL (checked by the egress guard before sending).
    pub url: String,
    /// Headers (the caller adds Content-Type, Idempotency-Key, the
    /// signature and User-Agent).
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// Credentials by secret name.
    pub auth: Option<AuthSpec>,
    /// Signing.
    pub hmac: Option<HmacSpec>,
    /// Per-attempt timeout in seconds.
    pub timeout_secs: i64,
}

impl HttpRequest {
    /// The exact body bytes to send (and sign).
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Some(b) => serde_json::to_vec(b).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `body`) — the signature header's
/// value (the GitHub webhook convention).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

/// Checks a signature in constant time.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::verify(&key, body, &sig).is_ok()
}

/// What the caller must do with a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Step id.
    pub step: String,
    /// 1-based attempt.
    pub attempt: u32,
    /// Stable across attempts and restarts of this step execution; sent as
    /// `Idempotency-Key`.
    pub idempotency_key: String,
    /// The effect.
    pub effect: Effect,
    /// Retries allowed after the first attempt.
    pub retries: u32,
    /// First back-off in seconds (doubled per attempt).
    pub backoff_secs: i64,
}

/// A command handed out and not completed yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The command.
    pub command: Command,
    /// Whether it was handed out (a restart finds `true` when the outcome
    /// was never recorded).
    pub started: bool,
    /// Retry not before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
}

/// An approval being waited for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    /// Step id.
    pub step: String,
    /// Who may decide.
    pub roles: Vec<Role>,
    /// What they are asked.
    pub message: String,
    /// When the wait times out.
    pub deadline: Timestamp,
}

/// One line of a run's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When.
    pub at: Timestamp,
    /// Step id (empty for run-level entries).
    pub step: String,
    /// `started`, `ok`, `error`, `retry`, `skipped`, `waiting`, `approved`,
    /// `denied`, `timeout`, `cancelled`, `done`, `dry_run`.
    pub event: String,
    /// Details.
    pub message: String,
}

/// A run's persisted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Run id.
    pub id: String,
    /// Status.
    pub status: RunStatus,
    /// The template context: the trigger object under its kind, `inputs`,
    /// `vars`, `steps` (outputs by step id), `run`, `playbook`,
    /// `incident_id`, loop variables.
    pub ctx: serde_json::Value,
    /// Step stack; empty once finished.
    pub stack: Vec<Frame>,
    /// Command handed out and not completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// Approval being waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// Log entries not drained yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogEntry>,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Persist the state, then carry this out and call [`complete`].
    Execute(Box<Command>),
    /// Waiting for [`decide`] (or the deadline; call [`next`] again then).
    WaitApproval(Waiting),
    /// Call [`next`] again at this time (retry back-off).
    Sleep(Timestamp),
    /// The run is over.
    Done(RunStatus),
}

/// The outcome of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done; the output becomes `steps.ID`.
    Ok(serde_json::Value),
    /// Failed. `retryable` failures (timeouts, connection errors, 5xx, 429)
    /// are retried while attempts remain.
    Err {
        /// Why.
        message: String,
        /// Whether another attempt may succeed.
        retryable: bool,
    },
}

/// Starts a run. `trigger` is the triggering object (alert, incident, …)
/// stored under `kind` in the context; `inputs` are manual-run inputs.
pub fn start(
    pb: &Playbook,
    id: &str,
    kind: &str,
    trigger: serde_json::Value,
    inputs: serde_json::Value,
    now: Timestamp,
) -> RunState {
    let mut ctx = serde_json::Map::new();
    ctx.insert(kind.to_string(), trigger);
    ctx.insert(
        "trigger".into(),
        serde_json::Value::String(kind.to_string()),
    );
    ctx.insert(
        "inputs".into(),
        if inputs.is_null() {
            serde_json::json!({})
        } else {
            inputs
        },
    );
    ctx.insert("vars".into(), serde_json::json!({}));
    ctx.insert("steps".into(), serde_json::json!({}));
    ctx.insert(
        "run".into(),
        serde_json::json!({ "id": id, "started_at": now.to_rfc3339() }),
    );
    ctx.insert(
        "playbook".into(),
        serde_json::json!({ "id": pb.id, "version": pb.version, "name": pb.name }),
    );
    let mut st = RunState {
        id: id.to_string(),
        status: RunStatus::Running,
        ctx: serde_json::Value::Object(ctx),
        stack: vec![Frame {
            branch: Branch::Root,
            index: 0,
            each: None,
        }],
        pending: None,
        waiting: None,
        log: Vec::new(),
    };
    st.push_log(
        now,
        "",
        "started",
        format!("playbook {} v{}", pb.id, pb.version),
    );
    st
}

impl RunState {
    fn push_log(&mut self, at: Timestamp, step: &str, event: &str, message: String) {
        if self.log.len() < MAX_LOG {
            self.log.push(LogEntry {
                at,
                step: step.to_string(),
                event: event.to_string(),
                message,
            });
        }
    }

    /// Takes the log entries recorded since the last call.
    pub fn drain_log(&mut self) -> Vec<LogEntry> {
        std::mem::take(&mut self.log)
    }

    /// The run's incident, once a step created or named one.
    pub fn incident_id(&self) -> Option<&str> {
        self.ctx.get("incident_id").and_then(|v| v.as_str())
    }

    fn ctx_map(&mut self) -> Result<&mut serde_json::Map<String, serde_json::Value>> {
        self.ctx
            .as_object_mut()
            .ok_or_else(|| Error::RunState("context is not an object".into()))
    }

    fn set_output(&mut self, step: &str, v: serde_json::Value) -> Result<()> {
        let steps = self
            .ctx_map()?
            .entry("steps")
            .or_insert_with(|| serde_json::json!({}));
        match steps.as_object_mut() {
            Some(m) => {
                m.insert(step.to_string(), v);
                Ok(())
            }
            None => Err(Error::RunState("`steps` is not an object".into())),
        }
    }

    /// Key of the current step execution: the run, the step and the loop
    /// positions around it.
    fn execution_key(&self, step: &str) -> String {
        let mut key = format!("{}:{step}", self.id);
        for f in &self.stack {
            if let Some(e) = &f.each {
                key.push(':');
                key.push_str(&e.pos.to_string());
            }
        }
        key
    }
}

/// The step list the top frame walks.
fn block<'p>(pb: &'p Playbook, stack: &[Frame]) -> Result<&'p [Step]> {
    let mut list: &[Step] = &pb.steps;
    for w in stack.windows(2) {
        let (parent, child) = (&w[0], &w[1]);
        let step = list
            .get(parent.index)
            .ok_or_else(|| Error::RunState(format!("step index {} out of range", parent.index)))?;
        list = match (&step.action, child.branch) {
            (Action::If(s), Branch::Then) => &s.then,
            (Action::If(s), Branch::Else) => &s.otherwise,
            (Action::ForEach(s), Branch::Body) => &s.steps,
            (Action::Approval(s), Branch::OnDeny) => &s.on_deny,
            (Action::Approval(s), Branch::OnTimeout) => &s.on_timeout,
            _ => {
                return Err(Error::RunState(format!(
                    "step {} has no {:?} branch (the playbook changed under the run)",
                    step.id, child.branch
                )));
            }
        };
    }
    Ok(list)
}

fn current_step<'p>(pb: &'p Playbook, st: &RunState) -> Result<&'p Step> {
    let list = block(pb, &st.stack)?;
    let top = st
        .stack
        .last()
        .ok_or_else(|| Error::RunState("empty step stack".into()))?;
    list.get(top.index)
        .ok_or_else(|| Error::RunState("no current step".into()))
}

fn advance(st: &mut RunState) {
    if let Some(top) = st.stack.last_mut() {
        top.index += 1;
    }
}

fn secs(span: &str) -> Result<i64> {
    match Span::parse(span)? {
        Span::Seconds(s) => Ok(s),
        Span::Months(m) => Ok(i64::from(m) * 30 * 86_400),
    }
}

fn render_opt(
    t: &Templates,
    s: &Option<String>,
    ctx: &serde_json::Value,
) -> Result<Option<String>> {
    s.as_ref().map(|x| t.render(x, ctx)).transpose()
}

fn render_effect(
    step: &Step,
    t: &Templates,
    ctx: &serde_json::Value,
) -> Result<(Effect, u32, i64)> {
    let r = |s: &str| t.render(s, ctx);
    let tags = |v: &[String]| v.iter().map(|x| r(x)).collect::<Result<Vec<_>>>();
    Ok(match &step.action {
        Action::Enrich(e) => (
            Effect::Enrich {
                intel: render_opt(t, &e.intel, ctx)?,
                asset: render_opt(t, &e.asset, ctx)?,
                attack: render_opt(t, &e.attack, ctx)?,
            },
            0,
            0,
        ),
        Action::CreateIncident(c) => (
            Effect::CreateIncident {
                title: r(&c.title)?,
                description: r(&c.description)?,
                severity: render_opt(t, &c.severity, ctx)?,
                category: render_opt(t, &c.category, ctx)?,
                tags: tags(&c.tags)?,
                flags: c.flags.clone(),
            },
            0,
            0,
        ),
        Action::UpdateIncident(u) => (
            Effect::UpdateIncident {
                incident: render_opt(t, &u.incident, ctx)?,
                status: render_opt(t, &u.status, ctx)?,
                severity: render_opt(t, &u.severity, ctx)?,
                assignee: render_opt(t, &u.assignee, ctx)?,
                add_tags: tags(&u.add_tags)?,
            },
            0,
            0,
        ),
        Action::AddTask(a) => (
            Effect::AddTask {
                incident: None,
                title: r(&a.title)?,
                description: r(&a.description)?,
            },
            0,
            0,
        ),
        Action::AddNote(n) => (
            Effect::AddNote {
                incident: None,
                text: r(&n.text)?,
            },
            0,
            0,
        ),
        Action::Blocklist(b) => (
            Effect::Blocklist {
                kind: b.kind.clone(),
                value: r(&b.value)?.trim().to_string(),
                ttl_secs: secs(&b.ttl)?,
                reason: r(&b.reason)?,
            },
            0,
            0,
        ),
        Action::Http(h) => (
            Effect::Http(HttpRequest {
                method: h.method.to_ascii_uppercase(),
                url: r(&h.url)?.trim().to_string(),
                headers: h
                    .headers
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), r(v)?)))
                    .collect::<Result<_>>()?,
                body: h.body.as_ref().map(|b| t.render_json(b, ctx)).transpose()?,
                auth: h.auth.clone(),
                hmac: h.hmac.clone(),
                timeout_secs: secs(&h.timeout)?,
            }),
            h.retries,
            secs(&h.backoff)?,
        ),
        Action::Notify(n) => {
            let text = r(&n.text)?;
            match n.channel {
                NotifyChannel::Email => (
                    Effect::Email {
                        to: n.to.iter().map(|x| r(x)).collect::<Result<_>>()?,
                        subject: match &n.subject {
                            Some(s) => r(s)?,
                            None => "Vigil notification".into(),
                        },
                        text,
                    },
                    0,
                    0,
                ),
                NotifyChannel::Slack | NotifyChannel::Webhook => {
                    let url = match &n.url {
                        Some(u) => r(u)?.trim().to_string(),
                        None => {
                            return Err(Error::RunState(format!(
                                "step {}: notify without url",
                                step.id
                            )));
                        }
                    };
                    let body = if n.channel == NotifyChannel::Slack {
                        serde_json::json!({ "text": text })
                    } else {
                        serde_json::json!({ "text": text, "subject": render_opt(t, &n.subject, ctx)?, "run": ctx.get("run"), "playbook": ctx.get("playbook") })
                    };
                    (
                        Effect::Http(HttpRequest {
                            method: "POST".into(),
                            url,
                            headers: Vec::new(),
                            body: Some(body),
                            auth: None,
                            hmac: None,
                            timeout_secs: 10,
                        }),
                        3,
                        2,
                    )
                }
            }
        }
        Action::If(_) | Action::ForEach(_) | Action::Set(_) | Action::Approval(_) => {
            return Err(Error::RunState(format!(
                "step {} has no external effect",
                step.id
            )));
        }
    })
}

/// Moves the run forward to the next thing the caller must do.
pub fn next(pb: &Playbook, t: &Templates, st: &mut RunState, now: Timestamp) -> Result<Next> {
    // Bounded: each iteration advances a step, a frame or a loop item.
    for _ in 0..(MAX_ITEMS * 64) {
        if st.status.is_terminal() {
            return Ok(Next::Done(st.status.clone()));
        }
        if st.status == RunStatus::WaitingApproval {
            let Some(w) = st.waiting.clone() else {
                return Err(Error::RunState("waiting without an approval".into()));
            };
            if now < w.deadline {
                return Ok(Next::WaitApproval(w));
            }
            st.push_log(
                now,
                &w.step,
                "timeout",
                "nobody decided before the deadline".into(),
            );
            resolve_approval(pb, st, false, "timeout", "", now)?;
            continue;
        }
        if let Some(p) = st.pending.as_mut() {
            if let Some(nb) = p.not_before
                && now < nb
            {
                return Ok(Next::Sleep(nb));
            }
            if p.started && !p.command.effect.replay_safe() {
                let step = p.command.step.clone();
                complete(
                    pb,
                    st,
                    Outcome::Err {
                        message: "outcome unknown after an interruption; not repeated because it cannot be deduplicated".into(),
                        retryable: false,
                    },
                    now,
                )?;
                st.push_log(now, &step, "interrupted", "not repeated".into());
                continue;
            }
            let replay = p.started;
            p.started = true;
            p.not_before = None;
            let cmd = p.command.clone();
            st.push_log(
                now,
                &cmd.step,
                "started",
                format!(
                    "attempt {}{}",
                    cmd.attempt,
                    if replay {
                        " (resumed after an interruption)"
                    } else {
                        ""
                    }
                ),
            );
            return Ok(Next::Execute(Box::new(cmd)));
        }
        let list = block(pb, &st.stack)?;
        let depth = st.stack.len();
        let Some(top) = st.stack.last_mut() else {
            return Err(Error::RunState("empty step stack".into()));
        };
        if top.index >= list.len() {
            // This list is done.
            if let Some(each) = top.each.as_mut()
                && each.pos + 1 < each.items.len()
            {
                each.pos += 1;
                top.index = 0;
                let (var, item) = (each.var.clone(), each.items[each.pos].clone());
                st.ctx_map()?.insert(var, item);
                continue;
            }
            if depth == 1 {
                st.stack.clear();
                st.status = RunStatus::Succeeded;
                st.push_log(now, "", "done", "succeeded".into());
                continue;
            }
            let finished = st.stack.pop().map(|f| (f.branch, f.each));
            if let Some((_, Some(each))) = &finished {
                st.ctx_map()?.remove(&each.var);
            }
            if let Some((branch @ (Branch::OnDeny | Branch::OnTimeout), _)) = finished {
                let reason = if branch == Branch::OnDeny {
                    "denied"
                } else {
                    "timeout"
                };
                st.stack.clear();
                st.status = RunStatus::Stopped {
                    reason: reason.into(),
                };
                st.push_log(now, "", "done", format!("stopped: approval {reason}"));
                continue;
            }
            advance(st);
            continue;
        }
        let step = &list[top.index];
        if let Some(w) = &step.when {
            let go = t
                .truthy(w, &st.ctx)
                .map_err(|e| Error::RunState(format!("step {}: when: {e}", step.id)));
            match go {
                Ok(true) => {}
                Ok(false) => {
                    st.set_output(&step.id, serde_json::json!({ "skipped": true }))?;
                    st.push_log(now, &step.id, "skipped", format!("when: {w}"));
                    advance(st);
                    continue;
                }
                Err(e) => {
                    fail_step(st, step, e.to_string(), now)?;
                    continue;
                }
            }
        }
        match &step.action {
            Action::If(spec) => match t.truthy(&spec.condition, &st.ctx) {
                Ok(v) => {
                    st.set_output(&step.id, serde_json::json!({ "result": v }))?;
                    st.push_log(now, &step.id, "ok", format!("condition is {v}"));
                    let (branch, list) = if v {
                        (Branch::Then, &spec.then)
                    } else {
                        (Branch::Else, &spec.otherwise)
                    };
                    if list.is_empty() {
                        advance(st);
                    } else {
                        st.stack.push(Frame {
                            branch,
                            index: 0,
                            each: None,
                        });
                    }
                }
                Err(e) => fail_step(st, step, e.to_string(), now)?,
            },
            Action::ForEach(spec) => match t.eval(&spec.items, &st.ctx) {
                Ok(serde_json::Value::Array(items)) if items.len() > MAX_ITEMS => {
                    fail_step(
                        st,
                        step,
                        format!(
                            "{} items, more than the {MAX_ITEMS}-item limit",
                            items.len()
                        ),
                        now,
                    )?;
                }
                Ok(v @ (serde_json::Value::Array(_) | serde_json::Value::Null)) => {
                    let items = match v {
                        serde_json::Value::Array(a) => a,
                        _ => Vec::new(),
                    };
                    st.set_output(&step.id, serde_json::json!({ "count": items.len() }))?;
                    st.push_log(now, &step.id, "ok", format!("{} items", items.len()));
                    if items.is_empty() {
                        advance(st);
                    } else {
                        let first = items[0].clone();
                        st.ctx_map()?.insert(spec.var.clone(), first);
                        st.stack.push(Frame {
                            branch: Branch::Body,
                            index: 0,
                            each: Some(Each {
                                items,
                                pos: 0,
                                var: spec.var.clone(),
                            }),
                        });
                    }
                }
                Ok(other) => fail_step(st, step, format!("items is not a list but {other}"), now)?,
                Err(e) => fail_step(st, step, e.to_string(), now)?,
            },
            Action::Set(vars) => {
                let mut rendered = serde_json::Map::new();
                let mut err = None;
                for (k, v) in vars {
                    match t.render_json(v, &st.ctx) {
                        Ok(x) => {
                            rendered.insert(k.clone(), x);
                        }
                        Err(e) => {
                            err = Some(format!("{k}: {e}"));
                            break;
                        }
                    }
                }
                match err {
                    Some(e) => fail_step(st, step, e, now)?,
                    None => {
                        let names: Vec<_> = rendered.keys().cloned().collect();
                        let ctx = st.ctx_map()?;
                        let vars_obj = ctx.entry("vars").or_insert_with(|| serde_json::json!({}));
                        if let Some(m) = vars_obj.as_object_mut() {
                            m.extend(rendered.clone());
                        }
                        st.set_output(&step.id, serde_json::Value::Object(rendered))?;
                        st.push_log(now, &step.id, "ok", format!("set {}", names.join(", ")));
                        advance(st);
                    }
                }
            }
            Action::Approval(spec) => {
                let roles = if spec.roles.is_empty() {
                    pb.approvers.clone()
                } else {
                    spec.roles.clone()
                };
                let message = match t.render(&spec.message, &st.ctx) {
                    Ok(m) => m,
                    Err(e) => {
                        fail_step(st, step, e.to_string(), now)?;
                        continue;
                    }
                };
                let deadline = Timestamp::from_micros(
                    now.as_micros()
                        .saturating_add(secs(&spec.timeout)?.saturating_mul(1_000_000)),
                );
                let w = Waiting {
                    step: step.id.clone(),
                    roles,
                    message,
                    deadline,
                };
                st.push_log(
                    now,
                    &step.id,
                    "waiting",
                    format!("approval until {}", deadline.to_rfc3339()),
                );
                st.waiting = Some(w.clone());
                st.status = RunStatus::WaitingApproval;
                return Ok(Next::WaitApproval(w));
            }
            _ => match render_effect(step, t, &st.ctx) {
                Ok((mut effect, retries, backoff_secs)) => {
                    let inc = st.incident_id().map(str::to_string);
                    match &mut effect {
                        Effect::AddTask { incident, .. }
                        | Effect::AddNote { incident, .. }
                        | Effect::UpdateIncident { incident, .. }
                            if incident.is_none() =>
                        {
                            *incident = inc;
                        }
                        _ => {}
                    }
                    let cmd = Command {
                        step: step.id.clone(),
                        attempt: 1,
                        idempotency_key: st.execution_key(&step.id),
                        effect,
                        retries,
                        backoff_secs,
                    };
                    st.pending = Some(Pending {
                        command: cmd,
                        started: false,
                        not_before: None,
                    });
                }
                Err(e) => fail_step(st, step, e.to_string(), now)?,
            },
        }
    }
    Err(Error::RunState(
        "the run did not settle (step budget exhausted)".into(),
    ))
}

fn fail_step(st: &mut RunState, step: &Step, message: String, now: Timestamp) -> Result<()> {
    st.push_log(now, &step.id, "error", message.clone());
    match step.on_error {
        OnError::Continue => {
            st.set_output(&step.id, serde_json::json!({ "error": message }))?;
            advance(st);
        }
        OnError::Fail => {
            st.status = RunStatus::Failed {
                error: format!("step {}: {message}", step.id),
            };
            st.stack.clear();
            st.push_log(now, "", "done", "failed".into());
        }
    }
    Ok(())
}

/// Records the outcome of the pending command.
pub fn complete(pb: &Playbook, st: &mut RunState, outcome: Outcome, now: Timestamp) -> Result<()> {
    let Some(mut p) = st.pending.take() else {
        return Err(Error::RunState("no command is pending".into()));
    };
    let step = current_step(pb, st)?.clone();
    if step.id != p.command.step {
        return Err(Error::RunState(format!(
            "pending command is for step {}, the run is at {}",
            p.command.step, step.id
        )));
    }
    if st.status.is_terminal() {
        // Cancelled while the command was out: record, go no further.
        st.push_log(now, &step.id, "ok", "completed after the run ended".into());
        return Ok(());
    }
    match outcome {
        Outcome::Ok(output) => {
            if let Effect::CreateIncident { .. } = p.command.effect
                && let Some(id) = output.get("id").and_then(|v| v.as_str())
            {
                let id = id.to_string();
                st.ctx_map()?
                    .insert("incident_id".into(), serde_json::Value::String(id));
            }
            st.push_log(
                now,
                &step.id,
                "ok",
                format!("attempt {}", p.command.attempt),
            );
            st.set_output(&step.id, output)?;
            advance(st);
        }
        Outcome::Err { message, retryable } => {
            if retryable && p.command.attempt <= p.command.retries {
                let shift = (p.command.attempt - 1).min(20);
                let delay = p
                    .command
                    .backoff_secs
                    .saturating_mul(1_i64 << shift)
                    .min(3600);
                let at = now.add_micros(delay.saturating_mul(1_000_000));
                st.push_log(
                    now,
                    &step.id,
                    "retry",
                    format!(
                        "attempt {} failed: {message}; next attempt at {}",
                        p.command.attempt,
                        at.to_rfc3339()
                    ),
                );
                p.command.attempt += 1;
                p.started = false;
                p.not_before = Some(at);
                st.pending = Some(p);
            } else {
                let msg = if p.command.attempt > 1 {
                    format!("attempt {} (last): {message}", p.command.attempt)
                } else {
                    message
                };
                fail_step(st, &step, msg, now)?;
            }
        }
    }
    Ok(())
}

/// A person's decision on the approval the run waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Approve or deny.
    pub approve: bool,
    /// Who (principal name).
    pub by: String,
    /// Their role.
    pub role: Role,
    /// Why.
    pub comment: String,
}

/// Applies a decision; refused when the run does not wait for one or the
/// role may not decide.
pub fn decide(pb: &Playbook, st: &mut RunState, d: &Decision, now: Timestamp) -> Result<()> {
    let Some(w) = st
        .waiting
        .clone()
        .filter(|_| st.status == RunStatus::WaitingApproval)
    else {
        return Err(Error::RunState(format!(
            "run {} is not waiting for an approval",
            st.id
        )));
    };
    if !w.roles.contains(&d.role) {
        return Err(Error::RunState(format!(
            "role {} may not decide step {}; allowed: {}",
            d.role,
            w.step,
            w.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let verb = if d.approve { "approved" } else { "denied" };
    let comment = if d.comment.is_empty() {
        String::new()
    } else {
        format!(": {}", d.comment)
    };
    st.push_log(now, &w.step, verb, format!("by {}{comment}", d.by));
    resolve_approval(pb, st, d.approve, verb, &d.by, now)
}

fn resolve_approval(
    pb: &Playbook,
    st: &mut RunState,
    approve: bool,
    outcome: &str,
    by: &str,
    now: Timestamp,
) -> Result<()> {
    let step = current_step(pb, st)?.clone();
    let Action::Approval(spec) = &step.action else {
        return Err(Error::RunState(format!(
            "step {} is not an approval",
            step.id
        )));
    };
    st.waiting = None;
    st.status = RunStatus::Running;
    st.set_output(
        &step.id,
        serde_json::json!({ "approved": approve, "outcome": outcome, "by": by, "at": now.to_rfc3339() }),
    )?;
    if approve {
        advance(st);
        return Ok(());
    }
    let (branch, steps) = if outcome == "timeout" {
        (Branch::OnTimeout, &spec.on_timeout)
    } else {
        (Branch::OnDeny, &spec.on_deny)
    };
    if steps.is_empty() {
        st.stack.clear();
        st.status = RunStatus::Stopped {
            reason: outcome.into(),
        };
        st.push_log(now, "", "done", format!("stopped: approval {outcome}"));
    } else {
        st.stack.push(Frame {
            branch,
            index: 0,
            each: None,
        });
    }
    Ok(())
}

/// Cancels a run. A command already handed out may still complete; its
/// outcome is recorded and nothing further runs.
pub fn cancel(st: &mut RunState, by: &str, now: Timestamp) -> Result<()> {
    if st.status.is_terminal() {
        return Err(Error::RunState(format!(
            "run {} is already {}",
            st.id,
            st.status.as_str()
        )));
    }
    st.status = RunStatus::Cancelled { by: by.to_string() };
    st.waiting = None;
    if st.pending.as_ref().is_some_and(|p| !p.started) {
        st.pending = None;
    }
    st.push_log(now, "", "cancelled", format!("by {by}"));
    Ok(())
}

/// What a run would do, without side effects: commands are logged instead
/// of executed (outputs are empty objects), approvals are assumed granted.
pub fn dry_run(
    pb: &Playbook,
    t: &Templates,
    st: &mut RunState,
    now: Timestamp,
) -> Result<Vec<LogEntry>> {
    let mut out = Vec::new();
    for _ in 0..(MAX_ITEMS * 16) {
        match next(pb, t, st, now)? {
            Next::Execute(cmd) => {
                let what = serde_json::to_string(&cmd.effect).unwrap_or_default();
                st.push_log(now, &cmd.step, "dry_run", format!("would execute {what}"));
                let out = match cmd.effect {
                    Effect::CreateIncident { .. } => {
                        serde_json::json!({ "id": "dry-run-incident", "dry_run": true })
                    }
                    _ => serde_json::json!({ "dry_run": true }),
                };
                complete(pb, st, Outcome::Ok(out), now)?;
            }
            Next::WaitApproval(w) => {
                let role = w.roles.first().copied().unwrap_or(Role::Admin);
                st.push_log(
                    now,
                    &w.step,
                    "dry_run",
                    "would wait for approval; assuming approved".into(),
                );
                decide(
                    pb,
                    st,
                    &Decision {
                        approve: true,
                        by: "dry-run".into(),
                        role,
                        comment: String::new(),
                    },
                    now,
                )?;
            }
            Next::Sleep(_) => {
                return Err(Error::RunState("dry run cannot sleep".into()));
            }
            Next::Done(_) => {
                out.extend(st.drain_log());
                return Ok(out);
            }
        }
        out.extend(st.drain_log());
    }
    Err(Error::RunState("dry run did not finish".into()))
}

/// Run-level counters for the log view.
pub fn summarize(log: &[LogEntry]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in log {
        *m.entry(e.event.clone()).or_insert(0) += 1;
    }
    m
}

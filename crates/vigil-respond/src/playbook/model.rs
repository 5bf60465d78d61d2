//! The playbook document: what a YAML playbook says, as typed values.
//!
//! ```yaml
//! id: contain-ssh-bruteforce
//! name: Contain SSH brute force
//! version: 2
//! trigger:
//!   alert:
//!     rules: ["builtin-ssh-*"]
//!     min_level: high
//! steps:
//!   - id: case
//!     create_incident:
//!       title: "SSH brute force from {{ alert.entities.source_ip }}"
//!       severity: high
//!   - id: tell-partner
//!     http:
//!       url: https://hooks.example.com/vigil
//!       body: { ip: "{{ alert.entities.source_ip }}", count: "{{ alert.details.count }}" }
//!       hmac: { secret: partner-hook-key }
//!       retries: 5
//!   - id: ok
//!     approval: { roles: [analyst], timeout: 4h }
//!   - id: block
//!     blocklist: { kind: ip, value: "{{ alert.entities.source_ip }}", ttl: 24h, reason: ssh brute force }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_model::{Role, Severity};

/// A playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Stable id (`[a-z0-9][a-z0-9_-]*`).
    pub id: String,
    /// Title.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Author-maintained version; the store also numbers each upload.
    #[serde(default = "one")]
    pub version: u32,
    /// By default, enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What starts a run.
    #[serde(deserialize_with = "one_key")]
    pub trigger: Trigger,
    /// Most runs of this playbook active at once; further triggers queue.
    /// By default, 10.
    #[serde(default = "ten")]
    pub concurrency: u32,
    /// Roles that may approve its approval steps unless a step names its
    /// own. By default, analyst and admin.
    #[serde(default = "default_approvers")]
    pub approvers: Vec<Role>,
    /// The steps, run in order.
    pub steps: Vec<Step>,
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn ten() -> u32 {
    10
}
pub(crate) fn default_approvers() -> Vec<Role> {
    vec![Role::Analyst, Role::Admin]
}

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// An alert was created.
    Alert(AlertTrigger),
    /// An incident was created or updated.
    Incident(IncidentTrigger),
    /// An indicator was sighted.
    Sighting(SightingTrigger),
    /// A vulnerability finding reached an SSVC decision.
    Finding(FindingTrigger),
    /// A cron schedule (UTC).
    Schedule(ScheduleTrigger),
    /// Only by hand (CLI, API).
    Manual(ManualTrigger),
}

impl Trigger {
    /// `alert`, `incident`, … (also the name the trigger object has in the
    /// template context).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Alert(_) => "alert",
            Self::Incident(_) => "incident",
            Self::Sighting(_) => "sighting",
            Self::Finding(_) => "finding",
            Self::Schedule(_) => "schedule",
            Self::Manual(_) => "manual",
        }
    }
}

/// Filters on new alerts; every given filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTrigger {
    /// Rule ids or `*` globs; empty = any rule.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Detectors (`sigma`, `intel`, …); empty = any.
    #[serde(default)]
    pub detectors: Vec<String>,
    /// Lowest severity.
    #[serde(default)]
    pub min_level: Option<Severity>,
    /// The alert must carry every one of these tags (`*` globs allowed).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The alert must name these entities (`host`, `user`, `source_ip`,
    /// `destination_ip`).
    #[serde(default)]
    pub entities: Vec<String>,
    /// Extra condition (an expression over `alert`).
    #[serde(default)]
    pub condition: Option<String>,
}

/// Filters on incident changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentTrigger {
    /// `created`, `updated`; empty = both.
    #[serde(default)]
    pub on: Vec<IncidentEvent>,
    /// Lowest severity.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Categories; empty = any.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Extra condition (an expression over `incident`).
    #[serde(default)]
    pub condition: Option<String>,
}

/// Which incident change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentEvent {
    /// Opened.
    Created,
    /// Any later change.
    Updated,
}

/// Filters on indicator sightings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SightingTrigger {
    /// Indicator types (`ipv4`, `domain`, …); empty = any.
    #[serde(default)]
    pub types: Vec<String>,
    /// Lowest indicator confidence (0–100).
    #[serde(default)]
    pub min_confidence: u8,
    /// Extra condition (an expression over `sighting`).
    #[serde(default)]
    pub condition: Option<String>,
}

/// Filters on findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingTrigger {
    /// SSVC decisions that start a run. By default, `immediate`.
    #[serde(default = "immediate")]
    pub decisions: Vec<String>,
    /// Extra condition (an expression over `finding`).
    #[serde(default)]
    pub condition: Option<String>,
}

fn immediate() -> Vec<String> {
    vec!["immediate".into()]
}

/// A cron schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    /// Five- or six-field cron expression, UTC.
    pub cron: String,
}

/// Manual runs only; `inputs` name the parameters a caller passes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualTrigger {
    /// Input names (available as `inputs.NAME`).
    #[serde(default)]
    pub inputs: Vec<String>,
}

/// What a failing step does to the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The run fails (default).
    #[default]
    Fail,
    /// Record the error as the step's output and go on.
    Continue,
}

/// One step: `id`, optional `when` and `on_error`, and exactly one action
/// key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Unique within the playbook; outputs are `steps.ID`.
    pub id: String,
    /// Run the step only when this expression is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// What a failure does.
    #[serde(default)]
    pub on_error: OnError,
    /// The action (serialised as its own key beside `id`).
    #[serde(flatten)]
    pub action: Action,
}

/// A step's action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Evaluate an expression into a true/false branch.
    If(IfSpec),
    /// Run `steps` once per item.
    ForEach(ForEachSpec),
    /// Set variables (`vars.NAME`), values are templates.
    Set(BTreeMap<String, serde_json::Value>),
    /// Look up context.
    Enrich(EnrichSpec),
    /// Open an incident (the trigger's alert is attached).
    CreateIncident(IncidentSpec),
    /// Change the run's incident (or the one named).
    UpdateIncident(IncidentUpdateSpec),
    /// Add a task to the run's incident.
    AddTask(TaskSpec),
    /// Add a note to the run's incident.
    AddNote(NoteSpec),
    /// Add a value to a blocklist.
    Blocklist(BlocklistSpec),
    /// Outbound HTTP request (webhook).
    Http(HttpSpec),
    /// Send a notification.
    Notify(NotifySpec),
    /// Wait for a person to approve or deny.
    Approval(ApprovalSpec),
}

impl Action {
    /// The action's key in YAML.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::If(_) => "if",
            Self::ForEach(_) => "for_each",
            Self::Set(_) => "set",
            Self::Enrich(_) => "enrich",
            Self::CreateIncident(_) => "create_incident",
            Self::UpdateIncident(_) => "update_incident",
            Self::AddTask(_) => "add_task",
            Self::AddNote(_) => "add_note",
            Self::Blocklist(_) => "blocklist",
            Self::Http(_) => "http",
            Self::Notify(_) => "notify",
            Self::Approval(_) => "approval",
        }
    }
}

/// `if`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IfSpec {
    /// Expression.
    pub condition: String,
    /// Steps when true.
    #[serde(default)]
    pub then: Vec<Step>,
    /// Steps when false.
    #[serde(default, rename = "else")]
    pub otherwise: Vec<Step>,
}

/// `for_each`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForEachSpec {
    /// Expression giving a list.
    pub items: String,
    /// Loop variable name. By default, `item`.
    #[serde(default = "item", rename = "as")]
    pub var: String,
    /// Steps per item.
    pub steps: Vec<Step>,
}

fn item() -> String {
    "item".into()
}

/// `enrich`: each given lookup runs; outputs are `steps.ID.intel` etc.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichSpec {
    /// Value to look up in the indicator store.
    #[serde(default)]
    pub intel: Option<String>,
    /// Host name or IP to look up in the asset inventory.
    #[serde(default)]
    pub asset: Option<String>,
    /// ATT&CK technique id.
    #[serde(default)]
    pub attack: Option<String>,
}

/// `create_incident`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentSpec {
    /// Title (template).
    pub title: String,
    /// Description (template).
    #[serde(default)]
    pub description: String,
    /// Severity (template giving a severity name). By default, the alert's.
    #[serde(default)]
    pub severity: Option<String>,
    /// Category (template).
    #[serde(default)]
    pub category: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Flags for regulatory clocks (`personal_data`, …).
    #[serde(default)]
    pub flags: Vec<String>,
}

/// `update_incident`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdateSpec {
    /// Incident id (template). By default, the run's incident.
    #[serde(default)]
    pub incident: Option<String>,
    /// New status.
    #[serde(default)]
    pub status: Option<String>,
    /// New severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// New assignee.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Tags to add.
    #[serde(default)]
    pub add_tags: Vec<String>,
}

/// `add_task`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Title (template).
    pub title: String,
    /// Description (template).
    #[serde(default)]
    pub description: String,
}

/// `add_note`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSpec {
    /// Text (template).
    pub text: String,
}

/// `blocklist`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlocklistSpec {
    /// `ip`, `cidr`, `domain`, `url`, `hash`.
    pub kind: String,
    /// Value (template).
    pub value: String,
    /// How long the entry stays (`24h`). Required: automation never
    /// blocks forever.
    pub ttl: String,
    /// Why (template).
    pub reason: String,
}

/// `http`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// URL (template); must pass the egress guard.
    pub url: String,
    /// Method. By default, POST.
    #[serde(default = "post")]
    pub method: String,
    /// Headers (values are templates). Credentials go in `auth`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body; string leaves are templates (`"{{ expr }}"` alone keeps
    /// the expression's type).
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Credentials from the secret store.
    #[serde(default, deserialize_with = "one_key_opt")]
    pub auth: Option<AuthSpec>,
    /// HMAC-SHA256 signature of the body.
    #[serde(default)]
    pub hmac: Option<HmacSpec>,
    /// Per-attempt timeout. By default, 10s.
    #[serde(default = "ten_s")]
    pub timeout: String,
    /// Further attempts after a failed one. By default, 3.
    #[serde(default = "three")]
    pub retries: u32,
    /// First retry delay, doubled each time. By default, 2s.
    #[serde(default = "two_s")]
    pub backoff: String,
}

fn post() -> String {
    "POST".into()
}
fn ten_s() -> String {
    "10s".into()
}
fn two_s() -> String {
    "2s".into()
}
fn three() -> u32 {
    3
}

/// Credentials by secret name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthSpec {
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// Secret name.
        secret: String,
    },
    /// HTTP Basic with the password from the secret store.
    Basic {
        /// User name.
        user: String,
        /// Secret name of the password.
        secret: String,
    },
}

/// HMAC signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmacSpec {
    /// Secret name.
    pub secret: String,
    /// Header carrying `sha256=<hex>`. By default, `X-Vigil-Signature`.
    #[serde(default = "sig_header")]
    pub header: String,
}

fn sig_header() -> String {
    "X-Vigil-Signature".into()
}

/// `notify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    /// Channel.
    pub channel: NotifyChannel,
    /// Webhook URL (slack, webhook).
    #[serde(default)]
    pub url: Option<String>,
    /// Recipients (email).
    #[serde(default)]
    pub to: Vec<String>,
    /// Subject (email; template).
    #[serde(default)]
    pub subject: Option<String>,
    /// Message text (template).
    pub text: String,
}

/// Notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    /// Slack-compatible incoming webhook (`{"text": …}`).
    Slack,
    /// Generic JSON webhook.
    Webhook,
    /// SMTP e-mail.
    Email,
}

/// `approval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSpec {
    /// What the approver is asked (template).
    #[serde(default)]
    pub message: String,
    /// Roles that may decide. By default, the playbook's approvers.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// How long to wait. By default, 24h.
    #[serde(default = "day")]
    pub timeout: String,
    /// Steps when denied; without them a denial ends the run.
    #[serde(default)]
    pub on_deny: Vec<Step>,
    /// Steps on timeout; without them a timeout ends the run.
    #[serde(default)]
    pub on_timeout: Vec<Step>,
}

fn day() -> String {
    "24h".into()
}

/// Turns a one-key map (`{alert: {...}}`) into the YAML tag form
/// (`!alert {...}`) that yaml_serde reads enums from, so playbooks use the
/// plain map form.
fn to_tagged(v: yaml_serde::Value) -> yaml_serde::Value {
    use yaml_serde::Value as Y;
    match v {
        Y::Mapping(m) if m.len() == 1 => {
            let mut it = m.into_iter();
            match it.next() {
                Some((Y::String(k), inner)) if !k.is_empty() => {
                    Y::Tagged(Box::new(yaml_serde::value::TaggedValue {
                        tag: yaml_serde::value::Tag::new(k),
                        value: inner,
                    }))
                }
                Some((k, inner)) => {
                    let mut m = yaml_serde::Mapping::new();
                    m.insert(k, inner);
                    Y::Mapping(m)
                }
                None => Y::Mapping(yaml_serde::Mapping::new()),
            }
        }
        other => other,
    }
}

fn one_key<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error as _;
    let v = yaml_serde::Value::deserialize(d)?;
    yaml_serde::from_value(to_tagged(v)).map_err(D::Error::custom)
}

fn one_key_opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error as _;
    match yaml_serde::Value::deserialize(d)? {
        yaml_serde::Value::Null => Ok(None),
        v => yaml_serde::from_value(to_tagged(v))
            .map(Some)
            .map_err(D::Error::custom),
    }
}

const ACTION_KEYS: [&str; 12] = [
    "if",
    "for_each",
    "set",
    "enrich",
    "create_incident",
    "update_incident",
    "add_task",
    "add_note",
    "blocklist",
    "http",
    "notify",
    "approval",
];

// By hand instead of `#[serde(flatten)]`: flatten would silently ignore a
// misspelt key or a second action in the same step.
impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        use yaml_serde::Value as Y;
        let map = yaml_serde::Mapping::deserialize(d)?;
        // The id first, so every later error can name its step (and the
        // loader can point at the step's line).
        let id = match map.get("id") {
            Some(Y::String(s)) => Some(s.clone()),
            Some(_) => return Err(D::Error::custom("step id must be a string")),
            None => None,
        };
        let label = match &id {
            Some(i) => format!("step `{i}`: "),
            None => String::new(),
        };
        let mut when = None;
        let mut on_error = OnError::default();
        let mut action: Option<(String, Y)> = None;
        for (k, v) in map {
            let Some(key) = k.as_str().map(str::to_string) else {
                return Err(D::Error::custom(format!(
                    "{label}step keys must be strings"
                )));
            };
            match key.as_str() {
                "id" => {}
                "when" => match v {
                    Y::String(s) => when = Some(s),
                    Y::Bool(b) => when = Some(b.to_string()),
                    _ => {
                        return Err(D::Error::custom(format!(
                            "{label}`when` must be an expression string"
                        )));
                    }
                },
                "on_error" => {
                    on_error = yaml_serde::from_value(v).map_err(|e| {
                        D::Error::custom(format!("{label}on_error: {e} (fail or continue)"))
                    })?;
                }
                k if ACTION_KEYS.contains(&k) => {
                    if let Some((first, _)) = &action {
                        return Err(D::Error::custom(format!(
                            "{label}a step has exactly one action; this one has `{first}` and `{k}`"
                        )));
                    }
                    action = Some((key, v));
                }
                other => {
                    return Err(D::Error::custom(format!(
                        "{label}unknown step key `{other}`; expected id, when, on_error or one action ({})",
                        ACTION_KEYS.join(", ")
                    )));
                }
            }
        }
        let id = id.ok_or_else(|| D::Error::custom("step without `id`"))?;
        let (kind, value) = action.ok_or_else(|| {
            D::Error::custom(format!(
                "step `{id}` has no action; add one of {}",
                ACTION_KEYS.join(", ")
            ))
        })?;
        let mut single = yaml_serde::Mapping::new();
        single.insert(Y::String(kind.clone()), value);
        let action: Action = yaml_serde::from_value(to_tagged(Y::Mapping(single)))
            .map_err(|e| D::Error::custom(format!("step `{id}`: {kind}: {e}")))?;
        Ok(Step {
            id,
            when,
            on_error,
            action,
        })
    }
}

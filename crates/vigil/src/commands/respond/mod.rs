//! Response: incidents, alert triage, playbooks and their runs —
//! configuration (`[respond]`), the CLI, and the runner `vigil serve`
//! starts.

mod cli;
pub mod effects;
mod mail;
pub mod runner;

use std::collections::HashMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use vigil_respond::egress::GuardConfig;

use crate::cli::OutputFormat;

pub use cli::{
    alerts_triage, incidents, playbooks, runs, suppress, suppressions, sync_playbook_dirs,
    unsuppress,
};

/// `[respond]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RespondSection {
    /// Directories of playbook YAML files (`*.yml`, `*.yaml`), loaded into
    /// the store when `vigil serve` starts (a changed file becomes a new
    /// version). By default, none.
    pub playbooks: Vec<PathBuf>,
    /// Seconds between the runner's passes over triggers and due runs.
    /// Default: 2.
    pub interval_secs: u64,
    /// Where playbooks may send HTTP requests.
    pub egress: EgressSection,
    /// SMTP relay for e-mail notifications. By default, none.
    pub smtp: Option<SmtpSection>,
    /// Regulatory clock rules; empty means the built-in table (GDPR Art.
    /// 33, HIPAA, NIS2 Art. 23).
    pub clocks: Vec<vigil_respond::clocks::Rule>,
    /// Task templates per incident category: the tasks a new incident of
    /// that category starts with (`[respond.task_templates] malware =
    /// ["Isolate the host", …]`). By default, none.
    pub task_templates: HashMap<String, Vec<String>>,
}

impl Default for RespondSection {
    fn default() -> Self {
        Self {
            playbooks: Vec::new(),
            interval_secs: 2,
            egress: EgressSection::default(),
            smtp: None,
            clocks: Vec::new(),
            task_templates: HashMap::new(),
        }
    }
}

impl RespondSection {
    /// The clock rules in force.
    pub fn clock_rules(&self) -> Vec<vigil_respond::clocks::Rule> {
        if self.clocks.is_empty() {
            vigil_respond::clocks::builtin_rules()
        } else {
            self.clocks.clone()
        }
    }
}

/// `[respond.egress]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EgressSection {
    /// Allowed destinations: host names, `*.domain`, addresses or CIDR
    /// ranges. Loopback, link-local (cloud metadata), private and other
    /// special ranges are refused unless an address range here covers
    /// them. By default, empty: no outbound request is allowed.
    pub allow: Vec<String>,
    /// Allow plain `http://`. By default, only `https://`.
    pub allow_http: bool,
    /// Static host → addresses table consulted before DNS.
    pub hosts: HashMap<String, Vec<String>>,
}

impl EgressSection {
    /// The guard's configuration.
    pub fn guard(&self) -> GuardConfig {
        GuardConfig {
            allow: self.allow.clone(),
            allow_http: self.allow_http,
        }
    }
}

/// `[respond.smtp]`: the relay `notify` steps with `channel: email` send
/// through. Its host must pass the egress allowlist like any webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSection {
    /// Relay host (name or address).
    pub host: String,
    /// Port. By default, 25 with `tls = "none"`, 587 with `starttls`, 465
    /// with `tls`.
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport security: `none` (plain text; only for a relay on a
    /// trusted network), `starttls` (upgrade required: a relay that does
    /// not offer it is refused) or `tls` (implicit TLS). By default,
    /// `starttls`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// User name for SMTP AUTH (PLAIN or LOGIN). By default, none: no
    /// authentication.
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the secret (`vigil secret set NAME`) holding the password;
    /// required with `username`.
    #[serde(default)]
    pub password_secret: Option<String>,
    /// Sender address (`MAIL FROM` and the `From:` header).
    pub from: String,
    /// PEM file of extra root certificates trusted for the relay (a
    /// private CA). By default, only the public web roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name sent in `EHLO`. By default, `localhost`.
    #[serde(default)]
    pub helo: Option<String>,
    /// Seconds to wait for the connection and each reply. By default, 30.
    #[serde(default = "smtp_timeout")]
    pub timeout_secs: u64,
}

impl SmtpSection {
    /// The port in force.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }
}

/// `[respond.smtp] tls`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text.
    None,
    /// `STARTTLS`, required.
    #[default]
    Starttls,
    /// Implicit TLS from the first byte.
    Tls,
}

fn smtp_timeout() -> u64 {
    30
}

/// `vigil incidents …`.
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Open an incident, optionally from alerts.
    Create(IncidentCreateArgs),
    /// List incidents, newest first.
    List {
        /// Only this status (`open` = every status but closed).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Show an incident: fields, regulatory clocks, alerts, tasks and the
    /// timeline.
    Show {
        /// Id or number (`7`, `INC-7`).
        id: String,
        /// Output format (table or json).
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Change status (NIST SP 800-61 phases), severity, assignee, tags,
    /// regulatory flags; mark a regulatory clock done.
    Update(IncidentUpdateArgs),
    /// Add a note to the timeline.
    Note {
        /// Incident id or number.
        id: String,
        /// Text.
        text: String,
    },
    /// Add a task.
    Task {
        /// Incident id or number.
        id: String,
        /// Title.
        title: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a task's status (open, in_progress, done, cancelled).
    TaskStatus {
        /// Task id.
        task: String,
        /// New status.
        status: String,
    },
    /// Attach an observable (ipv4, ipv6, domain, url, email, md5, sha1,
    /// sha256, …); it is looked up in the indicator store.
    Observable {
        /// Incident id or number.
        id: String,
        /// Kind.
        kind: String,
        /// Value.
        value: String,
    },
    /// Attach a file as evidence (stored by SHA-256; at most 64 MiB).
    Evidence {
        /// Incident id or number.
        id: String,
        /// File.
        file: PathBuf,
        /// Media type. Default: application/octet-stream.
        #[arg(long, default_value = "application/octet-stream")]
        media_type: String,
    },
    /// Write an evidence attachment's content to a file (its SHA-256 is
    /// checked).
    EvidenceGet {
        /// Evidence id.
        evidence: String,
        /// Output file.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Link alerts to an incident.
    Link {
        /// Incident id or number.
        id: String,
        /// Alert ids.
        #[arg(required = true)]
        alerts: Vec<String>,
    },
    /// Merge incidents into one: their alerts and tasks move to the target,
    /// which gets a timeline entry; the others are closed as merged.
    Merge {
        /// The incident that remains.
        into: String,
        /// Incidents merged into it.
        #[arg(required = true)]
        from: Vec<String>,
    },
    /// Mean time to detect, acknowledge, contain and resolve, per severity
    /// and period.
    Metrics {
        /// day, week, month or all.
        #[arg(long, default_value = "week")]
        period: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

/// `vigil incidents create`.
#[derive(Debug, Args)]
pub struct IncidentCreateArgs {
    /// Title.
    #[arg(long)]
    pub title: String,
    /// Description.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Severity; by default, the worst linked alert's (or medium).
    #[arg(long)]
    pub severity: Option<String>,
    /// Category (malware, phishing, …).
    #[arg(long)]
    pub category: Option<String>,
    /// Tags (repeat).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Regulatory flags (repeat): personal_data, health_data, nis2_entity.
    #[arg(long = "flag")]
    pub flags: Vec<String>,
    /// Alerts to link (repeat).
    #[arg(long = "alert")]
    pub alerts: Vec<String>,
    /// Assignee.
    #[arg(long)]
    pub assignee: Option<String>,
}

/// `vigil incidents update`.
#[derive(Debug, Args)]
pub struct IncidentUpdateArgs {
    /// Incident id or number.
    pub id: String,
    /// New status: new, triage, containment, eradication, recovery,
    /// post_incident_review, closed.
    #[arg(long)]
    pub status: Option<String>,
    /// New severity.
    #[arg(long)]
    pub severity: Option<String>,
    /// New assignee.
    #[arg(long)]
    pub assignee: Option<String>,
    /// Tags to add (repeat).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Regulatory flags to set (repeat).
    #[arg(long = "flag")]
    pub flags: Vec<String>,
    /// Mark a regulatory clock done now (repeat), e.g. gdpr-art33.
    #[arg(long = "clock-done")]
    pub clocks_done: Vec<String>,
}

/// `vigil playbooks …`.
#[derive(Debug, Subcommand)]
pub enum PlaybooksCommand {
    /// List stored playbooks (latest version of each).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Check playbook files; prints each error with its file and line.
    /// Exit code 1 when any is invalid.
    Validate {
        /// Files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Store playbook files (each upload is a new version).
    Upload {
        /// Files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Store them disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Enable a playbook (stores a new version).
    Enable {
        /// Playbook id.
        id: String,
    },
    /// Disable a playbook (stores a new version).
    Disable {
        /// Playbook id.
        id: String,
    },
    /// Run a playbook now and drive it until it finishes or waits.
    Run(PlaybookRunArgs),
    /// Show what a run would do, without any side effect.
    DryRun(PlaybookRunArgs),
}

/// `vigil playbooks run|dry-run`.
#[derive(Debug, Args)]
pub struct PlaybookRunArgs {
    /// Playbook id.
    pub id: String,
    /// Run it for this alert (the template context's `alert`).
    #[arg(long)]
    pub alert: Option<String>,
    /// Inputs `NAME=VALUE` (repeat), the context's `inputs`.
    #[arg(long = "input")]
    pub inputs: Vec<String>,
}

/// `vigil runs …`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List {
        /// Only this status (running, waiting_approval, succeeded, failed,
        /// stopped, cancelled).
        #[arg(long)]
        status: Option<String>,
        /// Only this playbook.
        #[arg(long)]
        playbook: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Show a run and its log.
    Show {
        /// Run id.
        id: String,
        /// Output format (table or json).
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Approve the step a run waits on, then drive it on.
    Approve {
        /// Run id.
        id: String,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Deny the step a run waits on.
    Deny {
        /// Run id.
        id: String,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Cancel a run.
    Cancel {
        /// Run id.
        id: String,
    },
}

/// `vigil alerts ack|escalate|close|fp`.
#[derive(Debug, Args)]
pub struct AlertTriageArgs {
    /// Alert ids.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Why (kept with the alert).
    #[arg(long)]
    pub reason: Option<String>,
    /// Assign to.
    #[arg(long)]
    pub assignee: Option<String>,
}

/// `vigil alerts suppress`.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// Why (required).
    #[arg(long)]
    pub reason: String,
    /// Rule id; `*` matches any run of characters.
    #[arg(long)]
    pub rule: Option<String>,
    /// Detector (sigma, intel, match, …).
    #[arg(long)]
    pub detector: Option<String>,
    /// Host name.
    #[arg(long)]
    pub host: Option<String>,
    /// User name.
    #[arg(long)]
    pub user: Option<String>,
    /// Source IP or CIDR range.
    #[arg(long)]
    pub source_ip: Option<String>,
    /// Destination IP or CIDR range.
    #[arg(long)]
    pub destination_ip: Option<String>,
    /// Only alerts at most this severe.
    #[arg(long)]
    pub max_severity: Option<String>,
    /// Expire after this long (`24h`, `7d`); by default, never.
    #[arg(long)]
    pub expires: Option<String>,
}

//! Command-line interface: global flags shared by every subcommand, then
//! the subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Vigil: threat management in one binary — ingest events, detect, alert,
/// respond.
///
/// Configuration comes from (later wins): built-in defaults, the TOML file
/// (`--config`, else `<data-dir>/vigil.toml` if present), `VIGIL_*`
/// environment variables, and flags. `vigil config show` prints the result.
#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand honours.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Data directory: the SQLite database, secret key, lock file. Default:
    /// ./vigil-data.
    #[arg(long, global = true, env = "VIGIL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Configuration file (TOML). Default: <data-dir>/vigil.toml when it
    /// exists.
    #[arg(long, global = true, env = "VIGIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database: empty for the embedded SQLite file in the data directory, or
    /// a PostgreSQL URL (postgres://user@host/db).
    #[arg(long, global = true, env = "VIGIL_DATABASE", value_name = "URL")]
    pub database: Option<String>,

    /// Log filter (error, warn, info, debug, trace, or a tracing directive
    /// such as `vigil=debug`). Default: info for serve, warn otherwise.
    #[arg(long, global = true, env = "VIGIL_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format for machines: json. Default: human-readable text.
    #[arg(long, global = true, env = "VIGIL_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Output format for listings.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: HTTP API, pipeline, detectors, scheduler.
    Serve(ServeArgs),
    /// Ingest a file (or - for stdin) offline through the same pipeline,
    /// detectors included. Refuses while a server uses the same SQLite data
    /// directory.
    Ingest(IngestArgs),
    /// Alerts.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Incidents: cases with NIST SP 800-61 phases, linked alerts, tasks, a
    /// timeline, regulatory clocks (GDPR, HIPAA, NIS2) and MTTx metrics.
    #[command(subcommand)]
    Incidents(crate::commands::respond::IncidentsCommand),
    /// SOAR playbooks (YAML): validate, upload, enable, run, dry-run.
    #[command(subcommand)]
    Playbooks(crate::commands::respond::PlaybooksCommand),
    /// Playbook runs: list, show with the log, approve, deny, cancel.
    #[command(subcommand)]
    Runs(crate::commands::respond::RunsCommand),
    /// API tokens (admin, analyst, viewer, ingest, feed).
    #[command(subcommand)]
    Token(TokenCommand),
    /// People who sign in to the web console (admin, analyst, viewer).
    /// Passwords are read from stdin (one line) or prompted for, never
    /// taken from arguments.
    #[command(subcommand)]
    Users(UsersCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Secrets encrypted at rest (feed, TAXII, SMTP and webhook credentials).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Network listeners (syslog) of `vigil serve`.
    #[command(subcommand)]
    Listeners(ListenersCommand),
    /// Score CVSS vectors (v2, v3.0, v3.1, v4.0).
    ///
    /// Vectors as arguments, or one per line on stdin when none are given.
    /// One result per vector, in input order; an invalid vector gets its
    /// error in its row and the exit code is 1. Columns: base, temporal and
    /// environmental scores for v2 and v3.x; for v4.0 the same columns hold
    /// CVSS-B, CVSS-BT and CVSS-BE, and `bte` holds CVSS-BTE. Severities on
    /// FIRST's scale (NVD's for v2).
    Cvss(CvssArgs),
    /// Assets (hosts, applications) with their business context.
    #[command(subcommand)]
    Assets(crate::commands::vuln::AssetsCommand),
    /// Software bills of materials.
    #[command(subcommand)]
    Sbom(crate::commands::vuln::SbomCommand),
    /// Host inventory (OS packages, lock files).
    #[command(subcommand)]
    Scan(crate::commands::vuln::ScanCommand),
    /// Vulnerability data, findings and their priorities.
    #[command(subcommand)]
    Vulns(crate::commands::vuln::VulnsCommand),
    /// Sigma rules: check files, list the stored rules, enable or disable
    /// them and override their level or tags.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Hunt through EVTX and JSON/NDJSON files with Sigma rules.
    ///
    /// Files are read recursively from each PATH: `.evtx` with the `evtx`
    /// crate; `.json`, `.jsonl`, `.ndjson` (one or several JSON documents
    /// back to back, or NDJSON lines) in the evtx-JSON layout
    /// (`{"Event":{"System":…,"EventData":…}}`) or flat/ECS JSON, detected
    /// per document. Files are processed in parallel. Unreadable files and
    /// records are reported on stderr and skipped. Exit code 0 whether or
    /// not anything was detected, 1 when a rule file or an input file could
    /// not be read.
    Hunt(HuntArgs),
    /// Threat intelligence: import STIX/MISP/CSV, list and search indicators.
    #[command(subcommand)]
    Intel(crate::commands::intel::IntelCommand),
    /// MITRE ATT&CK knowledge: import bundles, show techniques.
    #[command(subcommand)]
    Attack(crate::commands::attack::AttackCommand),
    /// The threat register: organisation profile, actors ranked by
    /// relevance, scenarios (likelihood × impact), recommendations,
    /// reviews and reports.
    #[command(subcommand)]
    Threats(crate::commands::threats::ThreatsCommand),
    /// ATT&CK detection coverage by tactic and technique from the Sigma
    /// rule state; `--navigator FILE` writes an ATT&CK Navigator layer.
    Coverage(crate::commands::threats::CoverageArgs),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load and compile rule files (`.yml`/`.yaml`, recursively): a list of
    /// errors per file and a summary (loaded, invalid, unsupported with
    /// their reasons). Exit code 1 when any rule is invalid or unsupported.
    Check(RulesCheckArgs),
    /// The rules known to the store (built-in pack, configured directories,
    /// uploads) with their enabled state and overrides.
    List(RulesListArgs),
    /// Enable a stored rule (by id), optionally overriding its level or
    /// tags.
    Enable(RulesToggleArgs),
    /// Disable a stored rule (by id): detectors skip it.
    Disable(RulesToggleArgs),
}

#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Rule files or directories (searched recursively for .yml/.yaml).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format: table (errors, then a summary) or json (one object
    /// with the summary and every error).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Extra field-mapping file (YAML), applied after the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub mapping: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Only rules from this source: builtin, dir or api.
    #[arg(long)]
    pub source: Option<String>,
}

#[derive(Debug, Args)]
pub struct RulesToggleArgs {
    /// Rule id (as `vigil rules list` shows it).
    pub id: String,
    /// Override the rule's level (informational, low, medium, high,
    /// critical); `default` removes the override.
    #[arg(long)]
    pub level: Option<String>,
    /// Override the rule's tags (repeat the flag for several); `--tag ''`
    /// alone removes the override.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// EVTX or JSON/NDJSON files, or directories (searched recursively).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Sigma rule files or directories (recursively, .yml/.yaml). Default:
    /// the built-in rule pack.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Only rules of this level and above (informational, low, medium,
    /// high, critical).
    #[arg(long)]
    pub min_level: Option<String>,
    /// Only events at or after this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only events before this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only rules with this tag (e.g. attack.t1059 also matches
    /// attack.t1059.001); repeat for several (any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only the rule with this id; repeat for several.
    #[arg(long = "rule-id", value_name = "ID")]
    pub rule_ids: Vec<String>,
    /// Extra field-mapping file (YAML), applied after the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub mapping: Vec<PathBuf>,
    /// Output format: a table and a summary for people, or json, ndjson,
    /// csv (one row per detection) for machines.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Worker threads. Default: the number of CPUs.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Default: 127.0.0.1:8080.
    #[arg(long, env = "VIGIL_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Sigma rule file or directory (recursive), besides the built-in pack
    /// and `[detect.sigma] rules`; repeatable. Re-read on SIGHUP.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<std::path::PathBuf>,
}

/// Input format of `vigil ingest`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum IngestFormat {
    /// One JSON object per line (NDJSON).
    Json,
    /// RFC 3164 / RFC 5424 syslog lines.
    Syslog,
    /// ArcSight CEF lines.
    Cef,
    /// QRadar LEEF 1.0 / 2.0 lines.
    Leef,
    /// Per line: JSON if it starts with `{`, CEF or LEEF by their prefix,
    /// else syslog (a CEF/LEEF payload inside syslog is parsed too).
    Auto,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// File to read (gzip-compressed files are decompressed), or - for stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Record format.
    #[arg(long, value_enum, default_value_t = IngestFormat::Auto)]
    pub format: IngestFormat,
    /// Source name stored with each event. Default: file:<path> or stdin.
    #[arg(long)]
    pub source: Option<String>,
    /// Lines per batch submitted to the pipeline.
    #[arg(long, default_value_t = 5000)]
    pub batch: usize,
    /// Print at most this many rejected records (all are counted).
    #[arg(long, default_value_t = 20)]
    pub show_errors: usize,
    /// Summary output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alerts, newest first.
    List(AlertsListArgs),
    /// Acknowledge alerts (someone is on them).
    Ack(crate::commands::respond::AlertTriageArgs),
    /// Escalate alerts (to an incident or a senior analyst).
    Escalate(crate::commands::respond::AlertTriageArgs),
    /// Close alerts.
    Close(crate::commands::respond::AlertTriageArgs),
    /// Mark alerts as false positives.
    Fp(crate::commands::respond::AlertTriageArgs),
    /// Suppress future alerts that match (rule glob, detector, host, user,
    /// source or destination IP or CIDR, maximum severity), with a reason
    /// and an optional expiry. Suppressed alerts are not opened; the
    /// suppression counts them.
    Suppress(crate::commands::respond::SuppressArgs),
    /// List suppressions with their hit counts.
    Suppressions {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Delete a suppression.
    Unsuppress {
        /// Suppression id.
        id: String,
    },
    /// Alerts sharing an entity (host, user, source or destination IP,
    /// process, file hash, domain) with an alert, newest first.
    Related {
        /// Alert id.
        id: String,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

#[derive(Debug, Args)]
pub struct AlertsListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// At most this many alerts.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only this severity and above (informational, low, medium, high,
    /// critical).
    #[arg(long)]
    pub min_severity: Option<String>,
    /// Only alerts of this detector (match, sigma, intel, …).
    #[arg(long)]
    pub detector: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Revoke a token by id (the part after `vgl_`, as `token list` shows).
    Revoke {
        /// Token id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password comes from stdin or a prompt.
    Add {
        /// Sign-in name.
        username: String,
        /// Role: admin, analyst or viewer.
        #[arg(long, default_value = "analyst")]
        role: String,
    },
    /// List users (never their passwords).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Set a user's password (stdin or prompt); ends its sessions and
    /// lifts a lockout.
    Passwd {
        /// Sign-in name.
        username: String,
    },
    /// Disable a user; ends its sessions.
    Disable {
        /// Sign-in name.
        username: String,
    },
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Role: admin, analyst, viewer, ingest or feed.
    #[arg(long)]
    pub role: String,
    /// A name to recognise it by.
    #[arg(long, default_value = "cli")]
    pub name: String,
    /// Expire after this many days. Default: never.
    #[arg(long)]
    pub expires_in_days: Option<u32>,
    /// Print only the token (for scripts).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; reports the first broken link. Exit code 1 if
    /// broken.
    Verify,
    /// Export the whole chain (every tenant) as JSON lines — seq, time,
    /// tenant, principal and its kind, action, target, details, previous
    /// hash and hash — for archiving; the head hash goes to stderr.
    Export {
        /// Write to this file instead of stdout (with a progress bar).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        /// Only entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
    /// List audit entries.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret read from stdin (not from the command line, which
    /// other users can see).
    Set {
        /// Secret name, e.g. taxii/acme.
        name: String,
    },
    /// List secret names.
    List,
    /// Delete a secret.
    Delete {
        /// Secret name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults, file, environment and
    /// flags merged).
    Show {
        /// toml or json.
        #[arg(long, default_value = "toml")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ListenersCommand {
    /// The configured listeners and, when a token is given and the server
    /// answers, their live counters (from its /metrics) and the kernel's
    /// UDP drop counts (on this host).
    Status(ListenersStatusArgs),
}

#[derive(Debug, Args)]
pub struct ListenersStatusArgs {
    /// API token (admin, analyst or viewer) to read the running server's
    /// counters. Without it only the configuration is shown.
    #[arg(long, env = "VIGIL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The server's base URL. Default: http://<server.listen>.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Arguments of `vigil cvss`.
#[derive(Debug, Args)]
pub struct CvssArgs {
    /// CVSS vectors, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.
    #[arg(value_name = "VECTOR")]
    pub vectors: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

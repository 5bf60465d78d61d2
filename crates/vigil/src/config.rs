//! Configuration: defaults, then the TOML file, then `VIGIL_*` environment
//! variables and flags. Every option documents its default.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use vigil_pipeline::MatchRule;

use crate::cli::GlobalArgs;

/// The configuration file's format version.
pub const CONFIG_VERSION: u32 = 1;

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Format version; 1.
    pub version: u32,
    /// Data directory. Default: `./vigil-data` (flag `--data-dir`, env
    /// `VIGIL_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Empty: SQLite at `<data_dir>/vigil.db`; or a PostgreSQL URL (flag
    /// `--database`, env `VIGIL_DATABASE`).
    pub database: String,
    /// File holding the base64 secret-store key. Default:
    /// `<data_dir>/secret.key`, created on first use (env `VIGIL_SECRET_KEY`
    /// gives the key itself and wins).
    pub secret_key_file: Option<PathBuf>,
    /// HTTP server.
    pub server: ServerSection,
    /// Pipeline sizing.
    pub pipeline: PipelineSection,
    /// Retention.
    pub retention: RetentionSection,
    /// Built-in detectors.
    pub detect: DetectSection,
    /// Network listeners (syslog). By default, none.
    pub listeners: ListenersSection,
    /// Vulnerability management: `[vuln]` (EPSS threshold) and `[vuln.sla]`
    /// (days per SSVC decision).
    pub vuln: crate::commands::vuln::VulnSection,
    /// Response: `[respond]` (playbook directories, runner interval),
    /// `[respond.egress]` (where playbooks may send requests),
    /// `[respond.smtp]`, and the regulatory clock rules.
    pub respond: crate::commands::respond::RespondSection,
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Listen address. Default: `127.0.0.1:8080` (flag `--listen`, env
    /// `VIGIL_LISTEN`).
    pub listen: String,
    /// Largest single event, bytes. Default: 1 MiB (1048576).
    pub max_event_bytes: usize,
    /// Largest request body as sent (possibly gzip), bytes. Default: 64 MiB.
    pub max_body_bytes: usize,
    /// Largest request body after gzip decompression, bytes. Default:
    /// 256 MiB.
    pub max_decompressed_bytes: usize,
    /// Largest EVTX upload (`POST /api/v1/ingest/evtx`), bytes. Default:
    /// 256 MiB.
    pub max_evtx_bytes: usize,
    /// Splunk HEC indexer acknowledgement (`ackId` for requests with a
    /// channel, `/services/collector/ack`). Default: true.
    pub hec_ack: bool,
    /// Mark the console's session cookie `Secure`; set it when the console
    /// is reached over HTTPS (a TLS proxy in front). Default: false.
    pub secure_cookies: bool,
    /// A console session ends after this many minutes without a request.
    /// Default: 30.
    pub session_idle_mins: u64,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs
    /// `tls_key`. The console's cookie is then always `Secure`. Default:
    /// none (plain HTTP).
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of `tls_cert`. Default: none.
    pub tls_key: Option<std::path::PathBuf>,
}

/// `[pipeline]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// Most events per event-log transaction. Default: 10000.
    pub write_max_events: usize,
    /// Submissions queued for the writer. Default: 256.
    pub write_queue: usize,
    /// Committed batches queued for detection. Default: 64.
    pub detect_queue: usize,
}

/// `[retention]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSection {
    /// Delete stored events older than this many days (alerts keep their
    /// copy). 0 keeps events forever. Default: 30.
    pub events_days: u32,
}

/// `[detect]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectSection {
    /// Run the diagnostic event counter (detector `count`). Default: false.
    pub count_events: bool,
    /// Simple field rules (`[[detect.rules]]`: id, title, severity, field,
    /// op = exists|equals|contains|starts_with|ends_with, value, tags).
    pub rules: Vec<MatchRule>,
    /// Sigma rules and correlations (`[detect.sigma]`).
    pub sigma: SigmaSection,
    /// Alert aggregation window in seconds: an alert of the same detector,
    /// rule and entities (host, user, source and destination IP) as one
    /// last seen within the window increments that alert's hit count and
    /// last-seen time instead of opening a new alert. Default: 0 (off).
    pub aggregate_secs: u64,
    /// The threat-intel matcher (`[detect.intel]`).
    pub intel: IntelSection,
}

/// `[detect.intel]`: matching events against the stored indicators.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntelSection {
    /// Indicators stop matching when their decay score (confidence falling
    /// with the time since last seen, per type — see docs/intel.md) drops
    /// below `decay_threshold`, as they do past `valid_until`. Default:
    /// true.
    pub decay: bool,
    /// Decay score (0–100) below which an indicator stops matching.
    /// Default: 20.
    pub decay_threshold: f64,
}

impl Default for IntelSection {
    fn default() -> Self {
        Self {
            decay: true,
            decay_threshold: 20.0,
        }
    }
}

impl IntelSection {
    /// The decay model matching uses (`None` when decay is off).
    pub fn decay_model(&self) -> Option<vigil_intel::DecayModel> {
        self.decay.then(|| vigil_intel::DecayModel {
            threshold: self.decay_threshold,
            ..Default::default()
        })
    }
}

/// `[detect.sigma]`: the Sigma detector of `vigil serve` and `vigil ingest`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigmaSection {
    /// Run the Sigma detector. Default: true.
    pub enabled: bool,
    /// Load the built-in rule pack. Default: true.
    pub builtin: bool,
    /// Rule files or directories (searched recursively for `.yml`/`.yaml`),
    /// added to by `vigil serve --rules DIR`. Default: none.
    pub rules: Vec<PathBuf>,
    /// Extra field-mapping files, after the built-in mappings. Default: none.
    pub mappings: Vec<PathBuf>,
    /// Most open correlation groups; the least recently active are evicted
    /// beyond it. Default: 100000.
    pub max_groups: usize,
    /// Most events kept per correlation group. Default: 10000.
    pub max_group_events: usize,
}

impl Default for SigmaSection {
    fn default() -> Self {
        Self {
            enabled: true,
            builtin: true,
            rules: Vec::new(),
            mappings: Vec::new(),
            max_groups: 100_000,
            max_group_events: 10_000,
        }
    }
}

/// `[listeners]`: network inputs started by `vigil serve`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenersSection {
    /// `[[listeners.syslog]]` entries: name, protocol = udp|tcp|tls, listen,
    /// framing = auto|octet-counting|newline, tls_cert, tls_key,
    /// max_connections (1000), max_event_bytes (1 MiB), queue (100000),
    /// batch_max_events (10000), batch_max_wait_ms (50), recv_buffer_bytes
    /// (8 MiB), enabled (true). Default: none, so nothing listens.
    pub syslog: Vec<vigil_listeners::SyslogListenerConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION,
            data_dir: PathBuf::from("vigil-data"),
            database: String::new(),
            secret_key_file: None,
            server: ServerSection::default(),
            pipeline: PipelineSection::default(),
            retention: RetentionSection::default(),
            detect: DetectSection::default(),
            listeners: ListenersSection::default(),
            vuln: crate::commands::vuln::VulnSection::default(),
            respond: crate::commands::respond::RespondSection::default(),
        }
    }
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_event_bytes: 1 << 20,
            max_body_bytes: 64 << 20,
            max_decompressed_bytes: 256 << 20,
            max_evtx_bytes: 256 << 20,
            hec_ack: true,
            secure_cookies: false,
            session_idle_mins: 30,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Default for PipelineSection {
    fn default() -> Self {
        let d = vigil_pipeline::PipelineConfig::default();
        Self {
            write_max_events: d.write_max_events,
            write_queue: d.write_queue,
            detect_queue: d.detect_queue,
        }
    }
}

impl Default for RetentionSection {
    fn default() -> Self {
        Self { events_days: 30 }
    }
}

impl Config {
    /// Loads the configuration for these global flags (flags and their
    /// environment variables win over the file).
    pub fn load(g: &GlobalArgs) -> Result<Self> {
        let data_dir_flag = g.data_dir.clone();
        let file = match &g.config {
            Some(p) => Some(p.clone()),
            None => {
                let dd = data_dir_flag
                    .clone()
                    .unwrap_or_else(|| Config::default().data_dir);
                let p = dd.join("vigil.toml");
                p.exists().then_some(p)
            }
        };
        let mut cfg = match &file {
            Some(p) => Self::from_file(p)?,
            None => Config::default(),
        };
        if let Some(d) = data_dir_flag {
            cfg.data_dir = d;
        }
        if let Some(db) = &g.database {
            cfg.database = db.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn from_file(p: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read config file {}", p.display()))?;
        let cfg: Config = toml::from_str(&text)
            .with_context(|| format!("invalid config file {}", p.display()))?;
        Ok(cfg)
    }

    /// Checks values; no I/O.
    pub fn validate(&self) -> Result<()> {
        if self.version != CONFIG_VERSION {
            bail!(
                "config version {} is not supported (expected {CONFIG_VERSION})",
                self.version
            );
        }
        if self.server.max_event_bytes == 0
            || self.server.max_event_bytes > self.server.max_decompressed_bytes
        {
            bail!("server.max_event_bytes must be between 1 and server.max_decompressed_bytes");
        }
        if self.pipeline.write_max_events == 0 {
            bail!("pipeline.write_max_events must be at least 1");
        }
        if self.detect.sigma.max_groups == 0 || self.detect.sigma.max_group_events == 0 {
            bail!("detect.sigma.max_groups and detect.sigma.max_group_events must be at least 1");
        }
        vigil_listeners::validate(&self.listeners.syslog)
            .context("invalid [[listeners.syslog]] in the configuration")?;
        if !self.database.is_empty() && !is_postgres_url(&self.database) {
            bail!(
                "database {:?} is not a PostgreSQL URL (postgres://…); leave it empty for the embedded SQLite database",
                self.database
            );
        }
        Ok(())
    }

    /// True when the store is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database.is_empty()
    }

    /// The SQLite database path.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("vigil.db")
    }

    /// What to pass to `Store::open`.
    pub fn store_location(&self) -> String {
        if self.is_sqlite() {
            self.sqlite_path().display().to_string()
        } else {
            self.database.clone()
        }
    }

    /// Pipeline configuration.
    pub fn pipeline_config(&self) -> vigil_pipeline::PipelineConfig {
        vigil_pipeline::PipelineConfig {
            write_max_events: self.pipeline.write_max_events,
            write_queue: self.pipeline.write_queue,
            detect_queue: self.pipeline.detect_queue,
            max_event_bytes: self.server.max_event_bytes,
            ..vigil_pipeline::PipelineConfig::default()
        }
    }

    /// Renders the effective configuration, hiding database passwords.
    pub fn show(&self, format: &str) -> Result<String> {
        let mut c = self.clone();
        c.database = redact_url(&c.database);
        match format {
            "toml" => Ok(toml::to_string_pretty(&c)?),
            "json" => Ok(serde_json::to_string_pretty(&c)?),
            other => bail!("unknown format {other:?}: use toml or json"),
        }
    }
}

fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> GlobalArgs {
        GlobalArgs {
            data_dir: None,
            config: None,
            database: None,
            log: None,
            log_format: None,
        }
    }

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "data_dir = \"/x\"\n[server]\nlisten = \"0.0.0.0:9\"\n[[detect.rules]]\nid = \"r\"\ntitle = \"t\"\nfield = \"user.name\"\nvalue = \"root\"\n",
        )
        .unwrap();
        let mut g = args();
        g.config = Some(p);
        let c = Config::load(&g).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/x"));
        assert_eq!(c.server.listen, "0.0.0.0:9");
        assert_eq!(c.server.max_event_bytes, 1 << 20, "defaults fill the rest");
        assert_eq!(c.detect.rules.len(), 1);
        g.data_dir = Some(dir.path().into());
        assert_eq!(Config::load(&g).unwrap().data_dir, dir.path());
    }

    #[test]
    fn unknown_keys_and_bad_database_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[server]\nlisen = \"x\"\n").unwrap();
        let mut g = args();
        g.config = Some(p);
        let e = format!("{:#}", Config::load(&g).unwrap_err());
        assert!(e.contains("lisen"), "{e}");
        let mut g = args();
        g.database = Some("mysql://x".into());
        assert!(Config::load(&g).is_err());
    }

    #[test]
    fn listeners_from_the_file_and_in_show() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[[listeners.syslog]]\nname = \"tcp\"\nprotocol = \"tcp\"\nlisten = \"127.0.0.1:5514\"\nframing = \"octet-counting\"\n\n[[listeners.syslog]]\nname = \"udp\"\nprotocol = \"udp\"\nlisten = \"127.0.0.1:5514\"\nenabled = false\n",
        )
        .unwrap();
        let mut g = args();
        g.config = Some(p.clone());
        let c = Config::load(&g).unwrap();
        let l = &c.listeners.syslog;
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].framing, vigil_listeners::Framing::OctetCounting);
        assert_eq!(l[0].max_connections, 1000, "defaults fill the rest");
        assert!(!l[1].enabled);
        let shown = c.show("toml").unwrap();
        assert!(shown.contains("[[listeners.syslog]]"), "{shown}");
        // What `config show` prints loads again.
        std::fs::write(&p, &shown).unwrap();
        assert_eq!(Config::load(&g).unwrap().listeners.syslog, *l);
        std::fs::write(
            &p,
            "[[listeners.syslog]]\nname = \"t\"\nprotocol = \"tls\"\nlisten = \"127.0.0.1:6514\"\n",
        )
        .unwrap();
        let e = format!("{:#}", Config::load(&g).unwrap_err());
        assert!(e.contains("needs tls_cert and tls_key"), "{e}");
    }

    #[test]
    fn show_redacts_passwords() {
        let c = Config {
            database: "postgres://u:pw@h/db".into(),
            ..Config::default()
        };
        let s = c.show("toml").unwrap();
        assert!(s.contains("postgres://u:***@h/db") && !s.contains("pw@"));
    }

    #[test]
    fn sigma_section_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[detect.sigma]\nrules = [\"/etc/vigil/rules\"]\nbuiltin = false\nmax_groups = 10\n",
        )
        .unwrap();
        let mut g = args();
        g.config = Some(p.clone());
        let c = Config::load(&g).unwrap();
        assert_eq!(c.detect.sigma.rules, [PathBuf::from("/etc/vigil/rules")]);
        assert!(c.detect.sigma.enabled && !c.detect.sigma.builtin);
        assert_eq!(c.detect.sigma.max_groups, 10);
        assert_eq!(
            c.detect.sigma.max_group_events, 10_000,
            "defaults fill the rest"
        );
        std::fs::write(&p, "[detect.sigma]\nrulez = []\n").unwrap();
        let e = format!("{:#}", Config::load(&g).unwrap_err());
        assert!(e.contains("rulez"), "{e}");
    }
}

//! The shared state every handler sees: store, pipeline, clock, config, and
//! the server's own internals (token cache, metrics registry).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use prometheus_client::registry::Registry;
use tokio::sync::{Notify, Semaphore};
use vigil_model::Clock;
use vigil_pipeline::PipelineHandle;
use vigil_store::Store;

use crate::auth::TokenCache;
use crate::telemetry::HttpMetrics;

/// Server limits and tunables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest single event (one NDJSON line) accepted, in bytes; longer
    /// lines are rejected with a line error. By default, 1 MiB.
    pub max_event_bytes: usize,
    /// Largest ingest request body as sent (before decompression), in bytes;
    /// larger bodies get 413. By default, 64 MiB.
    pub max_body_bytes: usize,
    /// Largest ingest body after gzip decompression, in bytes; larger ones
    /// get 413. By default, 256 MiB.
    pub max_decompressed_bytes: usize,
    /// How many ingest requests may buffer, decompress and parse their
    /// bodies at once; more wait their turn. By default, 8.
    pub max_concurrent_ingest: usize,
    /// How many verified tokens the authentication cache remembers before
    /// it starts over. By default, 10 000.
    pub token_cache_entries: usize,
    /// How long `/readyz` waits for the store to answer. By default, 2 s.
    pub ready_timeout: Duration,
    /// Largest EVTX upload (`/api/v1/ingest/evtx`, all files of a form
    /// together), in bytes; larger ones get 413. By default, 256 MiB.
    pub max_evtx_bytes: usize,
    /// HEC indexer acknowledgement: `ackId`s for requests with a channel
    /// and `/services/collector/ack`. By default, enabled.
    pub hec_ack: bool,
    /// How many HEC channels keep ack state; past it the least recently
    /// used is dropped (its ids then read false). By default, 10 000.
    pub hec_ack_channels: usize,
    /// Regulatory clock rules for incidents. By default, the built-in
    /// table (GDPR Art. 33, HIPAA, NIS2 Art. 23).
    pub clock_rules: Vec<vigil_respond::clocks::Rule>,
    /// Task templates per incident category. By default, none.
    pub task_templates: std::collections::HashMap<String, Vec<String>>,
    /// Sigma `status` per rule id, read from the rule files (the built-in
    /// pack and the rule directories) by the binary; the threat register
    /// weighs coverage with it. By default, none (uploads carry their own).
    pub rule_status: std::collections::BTreeMap<String, String>,
    /// Web console sign-in and sessions.
    pub console: ConsoleConfig,
    /// The built-in Sigma pack as `(file name, YAML)`, so the console can
    /// show and test built-in rules. By default, none.
    pub builtin_rules: &'static [(&'static str, &'static str)],
    /// The event listeners this process runs (syslog sockets, HEC), for
    /// the console's settings. By default, none.
    pub listeners: Vec<ListenerInfo>,
}

/// An event listener as the settings page shows it; its counters come
/// from `/metrics` (`vigil_listener_*{listener=NAME}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerInfo {
    /// The configured name.
    pub name: String,
    /// `udp`, `tcp`, `tls` or `hec`.
    pub protocol: String,
    /// The bound address.
    pub address: String,
    /// Whether the transport is TLS.
    pub tls: bool,
}

/// Web console sessions and sign-in limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// A session ends after this long without a request. By default, 30 min.
    pub session_idle: Duration,
    /// A session ends this long after sign-in in any case. By default, 12 h.
    pub session_lifetime: Duration,
    /// Consecutive wrong passwords that lock a user. By default, 5.
    pub max_user_failures: u32,
    /// Failed sign-ins from one address within `failure_window` that lock
    /// the address. By default, 20.
    pub max_address_failures: u32,
    /// The window of `max_address_failures`. By default, 15 min.
    pub failure_window: Duration,
    /// How long a lockout lasts. By default, 15 min.
    pub lockout: Duration,
    /// Mark the session cookie `Secure` (set it when the console is served
    /// over TLS, directly or behind a proxy). By default, disabled.
    pub secure_cookies: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            max_user_failures: 5,
            max_address_failures: 20,
            failure_window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            secure_cookies: false,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_event_bytes: 1 << 20,
            max_body_bytes: 64 << 20,
            max_decompressed_bytes: 256 << 20,
            max_concurrent_ingest: 8,
            token_cache_entries: 10_000,
            ready_timeout: Duration::from_secs(2),
            max_evtx_bytes: 256 << 20,
            hec_ack: true,
            hec_ack_channels: 10_000,
            clock_rules: vigil_respond::clocks::builtin_rules(),
            task_templates: std::collections::HashMap::new(),
            rule_status: std::collections::BTreeMap::new(),
            console: ConsoleConfig::default(),
            builtin_rules: &[],
            listeners: Vec::new(),
        }
    }
}

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Store,
    /// Where ingested events go.
    pub pipeline: PipelineHandle,
    /// The source of "now" (token expiry, receive times).
    pub clock: Arc<dyn Clock>,
    /// Limits and tunables.
    pub config: ServerConfig,
    /// Vulnerability-management settings (SLA policy, EPSS threshold),
    /// shared with the CLI's `[vuln]` section. By default, the defaults;
    /// set with [`AppState::with_vuln_settings`].
    pub vuln: Arc<vigil_vulnops::Settings>,
    pub(crate) inner: Arc<Internals>,
}

/// Server-owned parts of the state.
pub(crate) struct Internals {
    /// Which token secrets argon2 already accepted.
    pub(crate) tokens: TokenCache,
    /// Permits for concurrent ingest bodies.
    pub(crate) ingest_permits: Semaphore,
    /// HTTP request and auth metrics.
    pub(crate) http: HttpMetrics,
    /// Everything `/metrics` exposes: the pipeline's metrics and ours.
    pub(crate) registry: Registry,
    /// The OpenAPI document, serialized once.
    pub(crate) openapi_json: Bytes,
    /// HEC ack state and metrics.
    pub(crate) hec: crate::routes::hec::HecState,
    /// EVTX upload metrics.
    pub(crate) evtx: crate::routes::evtx::EvtxMetrics,
    /// Turns STIX objects posted over TAXII into indicators.
    pub(crate) intel_sink: Option<Arc<dyn crate::routes::taxii::IntelSink>>,
    /// Signalled when the stored rule state changes through the API.
    pub(crate) rules_changed: Arc<Notify>,
    /// The console's templates.
    pub(crate) templates: minijinja::Environment<'static>,
    /// Failed console sign-ins per address.
    pub(crate) logins: crate::console::LoginLimiter,
    /// The dashboard's alerts per complete hour.
    pub(crate) alert_hours: crate::console::hours::AlertHours,
    /// The threat register's ATT&CK knowledge per tenant.
    pub(crate) attack_cache: crate::threats::AttackCache,
    /// The Sigma options of the live detector (field mappings), for rule
    /// tests.
    pub(crate) sigma: Arc<vigil_sigma::Config>,
    /// What the last detector build left out.
    pub(crate) rule_errors: crate::RuleLoadErrors,
}

impl AppState {
    /// Builds the state and the metrics registry (the pipeline's metrics
    /// plus the server's own).
    pub fn new(
        store: Store,
        pipeline: PipelineHandle,
        clock: Arc<dyn Clock>,
        config: ServerConfig,
    ) -> Self {
        let mut registry = Registry::default();
        pipeline.metrics().register(&mut registry);
        let http = HttpMetrics::default();
        http.register(&mut registry);
        let hec = crate::routes::hec::HecState::new(config.hec_ack_channels);
        hec.metrics.register(&mut registry);
        let evtx = crate::routes::evtx::EvtxMetrics::default();
        evtx.register(&mut registry);
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let tokens = TokenCache::new(config.token_cache_entries, parallel);
        let ingest_permits = Semaphore::new(config.max_concurrent_ingest.max(1));
        let openapi_json = Bytes::from(crate::openapi::openapi().to_json().unwrap_or_default());
        Self {
            store,
            pipeline,
            clock,
            config,
            vuln: Arc::new(vigil_vulnops::Settings::default()),
            inner: Arc::new(Internals {
                tokens,
                ingest_permits,
                http,
                registry,
                openapi_json,
                hec,
                evtx,
                intel_sink: None,
                rules_changed: Arc::new(Notify::new()),
                templates: crate::console::templates(),
                logins: crate::console::LoginLimiter::default(),
                alert_hours: crate::console::hours::AlertHours::default(),
                attack_cache: crate::threats::AttackCache::default(),
                sigma: Arc::new(vigil_sigma::Config::default()),
                rule_errors: crate::RuleLoadErrors::default(),
            }),
        }
    }
}

impl AppState {
    /// Hands STIX objects posted over TAXII to the intel importer (see
    /// [`crate::IntelSink`]). Call it before cloning the state, like
    /// [`AppState::with_metrics`].
    pub fn with_intel_sink(mut self, sink: Arc<dyn crate::routes::taxii::IntelSink>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.intel_sink = Some(sink),
            None => tracing::warn!("intel sink not set: the server state is already shared"),
        }
        self
    }

    /// Uses these vulnerability-management settings (the `[vuln]` section).
    pub fn with_vuln_settings(mut self, settings: vigil_vulnops::Settings) -> Self {
        self.vuln = Arc::new(settings);
        self
    }

    /// Notified (`notify_one`, so changes made while nobody waits are not
    /// lost, and bursts coalesce) whenever a rule is enabled, disabled,
    /// overridden or uploaded through the API; the binary reloads its
    /// detectors on it.
    pub fn rules_changed(&self) -> Arc<Notify> {
        self.inner.rules_changed.clone()
    }

    /// Tests rules with these Sigma options (the live detector's field
    /// mappings). Call it before cloning the state. By default, the
    /// built-in mappings.
    pub fn with_sigma_config(mut self, config: vigil_sigma::Config) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.sigma = Arc::new(config),
            None => tracing::warn!("sigma config not set: the server state is already shared"),
        }
        self
    }

    /// Shows these rule load errors (the binary's detector builds record
    /// into the same handle). Call it before cloning the state.
    pub fn with_rule_errors(mut self, errors: crate::RuleLoadErrors) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.rule_errors = errors,
            None => tracing::warn!("rule errors not set: the server state is already shared"),
        }
        self
    }

    /// The rule load errors the console shows.
    pub fn rule_errors(&self) -> crate::RuleLoadErrors {
        self.inner.rule_errors.clone()
    }

    /// The Sigma options rule tests compile with.
    pub(crate) fn sigma_config(&self) -> Arc<vigil_sigma::Config> {
        self.inner.sigma.clone()
    }

    /// Adds metrics owned by other components (the listeners) to
    /// `/metrics`. Call it on the value [`AppState::new`] returned, before
    /// cloning it; on a state already shared the metrics are not added and
    /// a warning is logged.
    pub fn with_metrics(mut self, register: impl FnOnce(&mut Registry)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => register(&mut inner.registry),
            None => tracing::warn!("metrics not registered: the server state is already shared"),
        }
        self
    }
}

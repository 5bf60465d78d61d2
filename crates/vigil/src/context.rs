//! Wiring shared by the subcommands: open and migrate the store, build the
//! detectors, load the secret-store key.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use vigil_model::{Clock, Detector, FieldRegistry, Principal, SystemClock};
use vigil_pipeline::{CountDetector, MatchDetector};
use vigil_store::{Migration, SecretKey, Store};

use crate::config::Config;

/// Every crate's migrations beyond the store's core set. A crate that adds
/// tables appends its list here (see the numbering scheme in vigil-store).
pub fn migrations() -> Vec<Migration> {
    let mut out = Vec::new();
    out.extend_from_slice(vigil_store::SIGMA_MIGRATIONS);
    out.extend_from_slice(vigil_store::INTEL_MIGRATIONS);
    out.extend_from_slice(vigil_store::INTEL_OPS_MIGRATIONS);
    out.extend_from_slice(vigil_store::TAXII_MIGRATIONS);
    out.extend_from_slice(vigil_store::VULN_MIGRATIONS);
    out.extend_from_slice(vigil_store::RESPOND_MIGRATIONS);
    out.extend_from_slice(vigil_store::THREATS_MIGRATIONS);
    out.extend_from_slice(vigil_store::CONSOLE_MIGRATIONS);
    out
}

/// Opens the configured store and brings its schema up to date.
pub async fn open_store(cfg: &Config) -> Result<Store> {
    let loc = cfg.store_location();
    let store = if cfg.is_sqlite() {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
        Store::open_sqlite(&cfg.sqlite_path()).await
    } else {
        Store::open_postgres(&loc).await
    }
    .with_context(|| {
        if cfg.is_sqlite() {
            format!("cannot open the SQLite database {loc}")
        } else {
            "cannot connect to PostgreSQL (check --database / VIGIL_DATABASE and that the server is running)".to_owned()
        }
    })?;
    store
        .migrate(&migrations())
        .await
        .context("cannot migrate the database schema")?;
    let window = i64::try_from(cfg.detect.aggregate_secs)
        .unwrap_or(i64::MAX / 1_000_000)
        .saturating_mul(1_000_000);
    store.set_alert_aggregation(window);
    Ok(store)
}

/// The detectors the configuration enables; the Sigma detector follows the
/// stored rule state in `sigma`.
pub fn detectors(
    cfg: &Config,
    registry: &FieldRegistry,
    sigma: &crate::sigma::SigmaRuntime,
) -> Result<Vec<Box<dyn Detector>>> {
    let mut out: Vec<Box<dyn Detector>> = Vec::new();
    if !cfg.detect.rules.is_empty() {
        let m = MatchDetector::new(cfg.detect.rules.clone(), registry)
            .map_err(anyhow::Error::msg)
            .context("invalid [[detect.rules]] in the configuration")?;
        out.push(Box::new(m));
    }
    if cfg.detect.count_events {
        out.push(Box::new(CountDetector::default()));
    }
    if let Some(d) = crate::sigma::detector(&cfg.detect.sigma, registry, sigma)
        .context("cannot load the Sigma rules ([detect.sigma], --rules)")?
    {
        out.push(Box::new(d));
    }
    Ok(out)
}

/// The stored Sigma rule state (default tenant: the detectors serve every
/// tenant, and only the default tenant's rule state and uploads apply).
pub async fn sigma_state(store: &Store) -> Result<Vec<vigil_store::RuleRecord>> {
    store
        .list_rules(vigil_model::TenantId::DEFAULT)
        .await
        .context("cannot read the stored rule state")
}

/// The shared field registry and clock.
pub fn runtime() -> (Arc<FieldRegistry>, Arc<dyn Clock>) {
    (Arc::new(FieldRegistry::new()), Arc::new(SystemClock))
}

/// The operator running the CLI, as recorded in the audit log.
pub fn cli_principal() -> Principal {
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let mut p = Principal::system(&format!("cli:{user}"));
    p.name = format!("CLI ({user})");
    p
}

/// The secret-store key: `VIGIL_SECRET_KEY` (base64), else the key file,
/// created with a fresh random key (mode 0600) when missing.
pub fn secret_key(cfg: &Config) -> Result<SecretKey> {
    if let Ok(b64) = std::env::var("VIGIL_SECRET_KEY") {
        return SecretKey::from_base64(b64.trim())
            .map_err(|e| anyhow::anyhow!("VIGIL_SECRET_KEY: {e} (expected 32 bytes, base64)"));
    }
    let path: PathBuf = cfg
        .secret_key_file
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("secret.key"));
    match std::fs::read_to_string(&path) {
        Ok(text) => SecretKey::from_base64(text.trim()).map_err(|e| {
            anyhow::anyhow!(
                "secret key file {}: {e} (expected 32 bytes, base64)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate()
                .map_err(|e| anyhow::anyhow!("cannot generate a secret key: {e}"))?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            write_private(&path, key.to_base64().as_bytes())
                .with_context(|| format!("cannot write secret key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "created a new secret-store key");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read secret key file {}", path.display())),
    }
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The current time for CLI commands; `VIGIL_NOW` (RFC 3339 or
/// `YYYY-MM-DD`) replaces the clock, for tests of expiry, decay and SLA
/// dates.
pub(crate) fn now() -> anyhow::Result<vigil_model::Timestamp> {
    use anyhow::Context as _;
    use vigil_model::Clock as _;
    match std::env::var("VIGIL_NOW") {
        Ok(s) if !s.trim().is_empty() => crate::commands::vuln::parse_time(&s).context("VIGIL_NOW"),
        _ => Ok(vigil_model::SystemClock.now()),
    }
}

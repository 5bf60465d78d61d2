//! `vigil intel feeds add|list|remove|sync` and the scheduled feed job:
//! configured feeds (a file or an http(s) URL in STIX, MISP or CSV format,
//! or a remote TAXII 2.1 collection) fetched with `If-None-Match` /
//! `If-Modified-Since`, parsed with the feed's default confidence and TLP,
//! stored like `vigil intel import`, and the feed's health recorded (last
//! success, last error, counts added / updated / expired).
//!
//! Fetches are bounded: at most [`MAX_FEED_BYTES`] per answer and
//! [`FETCH_TIMEOUT`] per request. URLs are fetched as configured by an
//! admin; there is no SSRF filter, so configure only feeds you trust.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::Value;
use vigil_intel::list::ListFormat;
use vigil_intel::stix::ImportOptions;
use vigil_intel::{IndicatorSet, Tlp};
use vigil_model::{Clock, TenantId, Timestamp};
use vigil_store::{FeedConfig, FeedInfo, FeedSync, SecretKey, Store};

use crate::cli::OutputFormat;
use crate::commands::intel::{InputFormat, parse_bytes, store_parsed};
use crate::commands::taxii_client::{self, PollLimits};
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

/// Largest feed answer (or file) read, in bytes.
pub const MAX_FEED_BYTES: usize = 256 << 20;
/// Time limit of one HTTP request.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// `vigil intel feeds …`.
#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Configure a feed (or reconfigure one of the same name). `vigil
    /// serve` syncs enabled feeds on their interval.
    Add(AddArgs),
    /// Feeds with their configuration and health.
    List(ListArgs),
    /// Remove a feed (its indicators stay).
    Remove {
        /// Feed name.
        name: String,
    },
    /// Sync feeds now (all enabled feeds when no name is given). Exit code
    /// 1 when a feed failed or rejected items.
    Sync(SyncArgs),
}

/// Feed formats on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FeedFormat {
    /// STIX 2.0 / 2.1 bundles.
    Stix,
    /// MISP event JSON.
    Misp,
    /// CSV or plain-text lists.
    Csv,
    /// A TAXII 2.1 collection (LOCATION is the collection's URL).
    Taxii,
}

/// Credentials on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FeedAuth {
    /// No credentials.
    None,
    /// HTTP Basic; the secret holds `user:password`.
    Basic,
    /// `Authorization: Bearer`; the secret holds the token.
    Bearer,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Feed name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// An http(s) URL or a file path; for TAXII, the collection's URL
    /// (`https://host/api/collections/<id>/`).
    pub location: String,
    /// Format.
    #[arg(long, value_enum)]
    pub format: FeedFormat,
    /// Seconds between syncs. By default, 3600.
    #[arg(long, default_value_t = 3600)]
    pub interval: i64,
    /// Confidence (0–100) for indicators that carry none. By default, 50.
    #[arg(long)]
    pub confidence: Option<u8>,
    /// TLP for indicators that carry none (`TLP:GREEN`, `amber`, …).
    #[arg(long)]
    pub tlp: Option<String>,
    /// Credentials. By default, none.
    #[arg(long, value_enum, default_value_t = FeedAuth::None)]
    pub auth: FeedAuth,
    /// Secret holding the credentials (`vigil secret set NAME`).
    #[arg(long)]
    pub secret: Option<String>,
    /// Store the feed disabled (no scheduled syncs).
    #[arg(long)]
    pub disabled: bool,
    /// csv: the column mapping as JSON, e.g. `{"delimiter": ",", "header":
    /// true, "value_column": 2, "kind": "url", "first_seen_column": 0,
    /// "tags_column": 6}` (fields: delimiter — null for one value per
    /// line, comment, header, value_column, kind, type_column,
    /// first_seen_column, tags_column, related_column). By default, the
    /// value is the first column and its type is guessed.
    #[arg(long, value_name = "JSON")]
    pub csv_mapping: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Feed names. By default, every enabled feed.
    pub names: Vec<String>,
    /// Report format: table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// No progress spinner.
    #[arg(long, short)]
    pub quiet: bool,
}

pub async fn run(cfg: Config, cmd: FeedsCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let (_, clock) = context::runtime();
    let tenant = TenantId::DEFAULT;
    match cmd {
        FeedsCommand::Add(a) => {
            let f = FeedConfig {
                name: a.name,
                format: format!("{:?}", a.format).to_lowercase(),
                location: a.location,
                enabled: !a.disabled,
                interval_secs: a.interval,
                default_confidence: a.confidence,
                default_tlp: a.tlp,
                auth: format!("{:?}", a.auth).to_lowercase(),
                secret: a.secret,
                options: match &a.csv_mapping {
                    None => None,
                    Some(text) => {
                        let v: Value =
                            serde_json::from_str(text).context("--csv-mapping is not JSON")?;
                        serde_json::from_value::<ListFormat>(v.clone())
                            .context("--csv-mapping is not a column mapping")?;
                        Some(v)
                    }
                },
            };
            f.validate().map_err(|e| anyhow!("invalid feed: {e}"))?;
            let location =
                if f.location.starts_with("http://") || f.location.starts_with("https://") {
                    f.location.clone()
                } else {
                    // Scheduled syncs run elsewhere: store an absolute path.
                    std::path::absolute(&f.location)
                        .with_context(|| format!("cannot resolve {}", f.location))?
                        .display()
                        .to_string()
                };
            let f = FeedConfig { location, ..f };
            if let Some(s) = &f.secret {
                let key = context::secret_key(&cfg)?;
                if store.get_secret(&key, tenant, s).await?.is_none() {
                    eprintln!(
                        "warning: secret {s:?} does not exist yet; set it with `vigil secret set {s}`"
                    );
                }
            }
            let now = clock.now();
            store.put_feed(tenant, &f, now).await?;
            store.schedule_feed(tenant, &f, now).await?;
            println!(
                "Feed {} saved ({} {}, every {} s{}).",
                f.name,
                f.format,
                f.location,
                f.interval_secs,
                if f.enabled { "" } else { ", disabled" }
            );
            Ok(ExitCode::SUCCESS)
        }
        FeedsCommand::List(a) => {
            let feeds = store.list_feed_infos(tenant).await?;
            let rows: Vec<FeedRow> = feeds.iter().map(FeedRow::from).collect();
            output::print(&rows, a.format)?;
            Ok(ExitCode::SUCCESS)
        }
        FeedsCommand::Remove { name } => {
            if !store.delete_feed(tenant, &name).await? {
                bail!("no feed named {name:?}");
            }
            store
                .set_job_enabled(&vigil_store::feed_job_name(&name), false, clock.now())
                .await?;
            println!("Feed {name} removed (its indicators stay).");
            Ok(ExitCode::SUCCESS)
        }
        FeedsCommand::Sync(a) => sync_cmd(&cfg, &store, clock, a).await,
    }
}

async fn sync_cmd(
    cfg: &Config,
    store: &Store,
    clock: Arc<dyn Clock>,
    a: SyncArgs,
) -> Result<ExitCode> {
    let tenant = TenantId::DEFAULT;
    let names: Vec<String> = if a.names.is_empty() {
        store
            .list_feed_infos(tenant)
            .await?
            .into_iter()
            .filter(|f| f.configured && f.config.enabled)
            .map(|f| f.config.name)
            .collect()
    } else {
        a.names.clone()
    };
    if names.is_empty() {
        println!("No enabled feeds; add one with `vigil intel feeds add`.");
        return Ok(ExitCode::SUCCESS);
    }
    let key = context::secret_key(cfg).ok();
    let ctx = SyncContext {
        store: store.clone(),
        clock,
        key,
        http: http_client()?,
    };
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(names.len() as u64);
        if let Ok(s) = ProgressStyle::with_template("{spinner} {pos}/{len} feeds {wide_msg}") {
            b.set_style(s);
        }
        b.enable_steady_tick(Duration::from_millis(120));
        b
    };
    let mut rows = Vec::new();
    let mut failed = false;
    for name in &names {
        bar.set_message(name.clone());
        let (sync, err) = match sync_feed(&ctx, tenant, name).await {
            Ok(s) => (s, None),
            Err(e) => (FeedSync::default(), Some(format!("{e:#}"))),
        };
        failed |= err.is_some() || sync.status == "partial";
        rows.push(SyncRow {
            feed: name.clone(),
            status: if err.is_some() {
                "error".into()
            } else {
                sync.status.clone()
            },
            objects: sync.objects,
            added: sync.added,
            updated: sync.updated,
            expired: sync.expired,
            errors: sync.errors,
            error: err.or(sync.error),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    match a.output {
        OutputFormat::Table => output::print(&rows, OutputFormat::Table)?,
        _ => println!("{}", serde_json::to_string_pretty(&rows)?),
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The HTTP client of feed fetches: bounded time; TLS by rustls with the
/// ring provider and the Mozilla root certificates (`webpki-roots`).
pub fn http_client() -> Result<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot configure TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(15))
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")
}

/// What a feed sync needs.
#[derive(Clone)]
pub struct SyncContext {
    /// The store.
    pub store: Store,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The secret-store key (needed by feeds with credentials).
    pub key: Option<SecretKey>,
    /// The HTTP client.
    pub http: reqwest::Client,
}

/// Credentials of a request.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// None.
    None,
    /// HTTP Basic.
    Basic(String, String),
    /// Bearer token.
    Bearer(String),
}

impl Credentials {
    /// Adds the credentials to a request.
    pub fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Credentials::None => req,
            Credentials::Basic(u, p) => req.basic_auth(u, Some(p)),
            Credentials::Bearer(t) => req.bearer_auth(t),
        }
    }
}

async fn credentials(ctx: &SyncContext, tenant: TenantId, f: &FeedConfig) -> Result<Credentials> {
    if f.auth == "none" {
        return Ok(Credentials::None);
    }
    let name = f
        .secret
        .as_deref()
        .ok_or_else(|| anyhow!("feed {} uses {} auth but names no secret", f.name, f.auth))?;
    let key = ctx
        .key
        .as_ref()
        .ok_or_else(|| anyhow!("no secret-store key to read secret {name:?}"))?;
    let bytes = ctx
        .store
        .get_secret(key, tenant, name)
        .await?
        .ok_or_else(|| anyhow!("secret {name:?} does not exist (vigil secret set {name})"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("secret {name:?} is not UTF-8"))?;
    let text = text.trim_end_matches(['\r', '\n']).to_owned();
    Ok(match f.auth.as_str() {
        "basic" => {
            let (u, p) = text
                .split_once(':')
                .ok_or_else(|| anyhow!("secret {name:?} must be user:password for basic auth"))?;
            Credentials::Basic(u.to_owned(), p.to_owned())
        }
        _ => Credentials::Bearer(text),
    })
}

/// Reads a response body, refusing more than `max` bytes.
pub async fn read_bounded(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        bail!("the answer is larger than {max} bytes");
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.context("reading the answer failed")? {
        if out.len() + chunk.len() > max {
            bail!("the answer is larger than {max} bytes");
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Fetched content, or "not modified".
enum Fetched {
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
}

async fn fetch(ctx: &SyncContext, info: &FeedInfo, creds: &Credentials) -> Result<Fetched> {
    let loc = &info.config.location;
    if !(loc.starts_with("http://") || loc.starts_with("https://")) {
        let path = PathBuf::from(loc);
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {loc}"))?;
        if meta.len() > MAX_FEED_BYTES as u64 {
            bail!("{loc} is larger than {MAX_FEED_BYTES} bytes");
        }
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {loc}"))?;
        return Ok(Fetched::Body {
            bytes,
            etag: None,
            last_modified: None,
        });
    }
    let mut req = creds.apply(ctx.http.get(loc));
    if let Some(e) = &info.etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(m) = &info.last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot fetch {loc}"))?;
    if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !resp.status().is_success() {
        bail!("{loc} answered {}", resp.status());
    }
    let header = |h: reqwest::header::HeaderName| {
        resp.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let bytes = read_bounded(resp, MAX_FEED_BYTES).await?;
    Ok(Fetched::Body {
        bytes,
        etag,
        last_modified,
    })
}

fn options(f: &FeedConfig) -> ImportOptions {
    let mut o = ImportOptions::default();
    if let Some(c) = f.default_confidence {
        o.default_confidence = c;
    }
    o.default_tlp = f.default_tlp.as_deref().and_then(Tlp::parse);
    o
}

/// Syncs one feed now and records its health; the error (also recorded)
/// when the feed could not be fetched or parsed.
pub async fn sync_feed(ctx: &SyncContext, tenant: TenantId, name: &str) -> Result<FeedSync> {
    let info = ctx
        .store
        .get_feed(tenant, name)
        .await?
        .ok_or_else(|| anyhow!("no feed named {name:?}"))?;
    let result = sync_inner(ctx, tenant, &info).await;
    let now = ctx.clock.now();
    match result {
        Ok(s) => {
            ctx.store.record_feed_sync(tenant, name, &s, now).await?;
            tracing::info!(
                feed = name,
                status = s.status,
                added = s.added,
                updated = s.updated,
                expired = s.expired,
                errors = s.errors,
                "feed synced"
            );
            Ok(s)
        }
        Err(e) => {
            let s = FeedSync {
                status: "error".into(),
                error: Some(format!("{e:#}")),
                ..FeedSync::default()
            };
            ctx.store.record_feed_sync(tenant, name, &s, now).await?;
            tracing::warn!(feed = name, error = format!("{e:#}"), "feed sync failed");
            Err(e)
        }
    }
}

async fn sync_inner(ctx: &SyncContext, tenant: TenantId, info: &FeedInfo) -> Result<FeedSync> {
    let f = &info.config;
    let creds = credentials(ctx, tenant, f).await?;
    let opts = options(f);
    let mut sync = FeedSync::default();
    if f.format == "misp" && is_misp_feed_root(&f.location) {
        return sync_misp_feed(ctx, tenant, info, &creds, opts).await;
    }
    let (bytes, format) = if f.format == "taxii" {
        let poll = taxii_client::poll(
            &ctx.http,
            &f.location,
            &creds,
            info.cursor.as_deref(),
            PollLimits {
                max_page_bytes: MAX_FEED_BYTES,
                max_objects: 1_000_000,
                max_pages: 10_000,
            },
        )
        .await?;
        sync.cursor = poll.cursor;
        if poll.truncated {
            tracing::warn!(
                feed = f.name,
                "TAXII poll stopped at its limits; the rest follows next sync"
            );
        }
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": "bundle--00000000-0000-4000-8000-000000000000",
            "objects": poll.objects,
        });
        (serde_json::to_vec(&bundle)?, InputFormat::Stix)
    } else {
        match fetch(ctx, info, &creds).await? {
            Fetched::NotModified => {
                sync.status = "not-modified".into();
                sync.expired = expired(ctx, tenant, &f.name).await?;
                return Ok(sync);
            }
            Fetched::Body {
                bytes,
                etag,
                last_modified,
            } => {
                sync.etag = etag;
                sync.last_modified = last_modified;
                let format = match f.format.as_str() {
                    "stix" => InputFormat::Stix,
                    "misp" => InputFormat::Misp,
                    _ => InputFormat::Csv,
                };
                (bytes, format)
            }
        }
    };
    let source = f.name.clone();
    let mapping = match (&f.options, format) {
        (Some(o), InputFormat::Csv) => Some(
            serde_json::from_value::<ListFormat>(o.clone())
                .map_err(|e| anyhow!("feed {}: bad csv mapping: {e}", f.name))?,
        ),
        _ => None,
    };
    let (inds, objects, report) = tokio::task::spawn_blocking(move || match mapping {
        Some(m) => vigil_intel::list::parse_list(&bytes, &source, &m, &opts)
            .map(|(inds, r)| (inds, Vec::new(), r))
            .map_err(anyhow::Error::from),
        None => parse_bytes(&bytes, &source, format, &opts),
    })
    .await
    .context("feed parser failed")??;
    let mut set = IndicatorSet::new();
    set.merge(inds);
    let now = ctx.clock.now();
    let (ind, _obj) = store_parsed(&ctx.store, tenant, &set, &objects, now).await?;
    sync.objects = i64::try_from(report.objects.values().sum::<usize>()).unwrap_or(i64::MAX);
    sync.added = i64::try_from(ind.added).unwrap_or(i64::MAX);
    sync.updated = i64::try_from(ind.updated).unwrap_or(i64::MAX);
    sync.errors = i64::try_from(report.errors.len()).unwrap_or(i64::MAX);
    sync.error = report
        .errors
        .first()
        .map(|e| format!("{}: {}", e.id, e.reason));
    sync.status = if report.errors.is_empty() {
        "ok"
    } else {
        "partial"
    }
    .into();
    sync.expired = expired(ctx, tenant, &f.name).await?;
    Ok(sync)
}

/// Most events one MISP feed sync fetches; the rest follow next time.
const MAX_MISP_EVENTS: usize = 5_000;

/// A MISP feed in the feed layout: a directory (or URL) holding
/// `manifest.json` and `<uuid>.json` per event.
fn is_misp_feed_root(location: &str) -> bool {
    location.ends_with('/')
        || location.ends_with("manifest.json")
        || (!location.starts_with("http://")
            && !location.starts_with("https://")
            && std::path::Path::new(location).is_dir())
}

/// `location` without `manifest.json`, ending in `/`.
fn misp_root(location: &str) -> String {
    let root = location.strip_suffix("manifest.json").unwrap_or(location);
    if root.ends_with('/') {
        root.to_owned()
    } else {
        format!("{root}/")
    }
}

/// Reads `<root><name>` from disk or over HTTP (conditional when
/// validators are given).
async fn fetch_path(
    ctx: &SyncContext,
    root: &str,
    name: &str,
    creds: &Credentials,
    validators: Option<&FeedInfo>,
) -> Result<Fetched> {
    let loc = format!("{root}{name}");
    let info = FeedInfo {
        config: FeedConfig {
            location: loc,
            ..validators.map(|v| v.config.clone()).unwrap_or(FeedConfig {
                name: String::new(),
                format: "misp".into(),
                location: String::new(),
                enabled: true,
                interval_secs: 3600,
                default_confidence: None,
                default_tlp: None,
                auth: "none".into(),
                secret: None,
                options: None,
            })
        },
        configured: true,
        etag: validators.and_then(|v| v.etag.clone()),
        last_modified: validators.and_then(|v| v.last_modified.clone()),
        cursor: None,
        last_run: None,
        last_success: None,
        status: String::new(),
        last_error: None,
        objects: 0,
        added: 0,
        updated: 0,
        expired: 0,
        errors: 0,
    };
    fetch(ctx, &info, creds).await
}

/// Syncs a MISP feed: the manifest (conditional GET), then the events
/// whose manifest timestamp is newer than the one imported last time (the
/// cursor holds `{uuid: timestamp}`).
async fn sync_misp_feed(
    ctx: &SyncContext,
    tenant: TenantId,
    info: &FeedInfo,
    creds: &Credentials,
    opts: ImportOptions,
) -> Result<FeedSync> {
    let f = &info.config;
    let root = misp_root(&f.location);
    let mut sync = FeedSync::default();
    let manifest = match fetch_path(ctx, &root, "manifest.json", creds, Some(info)).await? {
        Fetched::NotModified => {
            sync.status = "not-modified".into();
            sync.expired = expired(ctx, tenant, &f.name).await?;
            return Ok(sync);
        }
        Fetched::Body {
            bytes,
            etag,
            last_modified,
        } => {
            sync.etag = etag;
            sync.last_modified = last_modified;
            bytes
        }
    };
    let (entries, manifest_report) = vigil_intel::misp::parse_manifest(&manifest)
        .map_err(|e| anyhow!("{root}manifest.json: {e}"))?;
    // Objects counts the events read, not the manifest's entries.
    let mut report = vigil_intel::ImportReport {
        errors: manifest_report.errors,
        ..vigil_intel::ImportReport::default()
    };
    let item = |file: String, id: &str, reason: String| vigil_intel::ItemError {
        source: file,
        id: id.to_owned(),
        reason,
    };
    let mut known: std::collections::BTreeMap<String, i64> = info
        .cursor
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let due = vigil_intel::misp::events_to_fetch(&entries, |u| known.get(u).copied());
    let mut set = IndicatorSet::new();
    for e in due.iter().take(MAX_MISP_EVENTS) {
        let bytes = match fetch_path(ctx, &root, &e.file_name(), creds, None).await {
            Ok(Fetched::Body { bytes, .. }) => bytes,
            Ok(Fetched::NotModified) => continue,
            Err(err) => {
                report
                    .errors
                    .push(item(e.file_name(), &e.uuid, format!("{err:#}")));
                continue;
            }
        };
        let (source, o) = (f.name.clone(), opts.clone());
        let parsed = tokio::task::spawn_blocking(move || {
            vigil_intel::misp::parse_events(&bytes, &source, &o)
        })
        .await
        .context("feed parser failed")?;
        match parsed {
            Ok(imp) => {
                report.absorb(imp.report);
                set.merge(imp.indicators);
                known.insert(e.uuid.clone(), e.timestamp.unwrap_or(0));
            }
            Err(err) => report
                .errors
                .push(item(e.file_name(), &e.uuid, err.to_string())),
        }
    }
    if due.len() > MAX_MISP_EVENTS {
        tracing::warn!(
            feed = f.name,
            due = due.len(),
            "MISP feed sync stopped at its event limit"
        );
    }
    let (ind, _) = store_parsed(&ctx.store, tenant, &set, &[], ctx.clock.now()).await?;
    sync.objects = i64::try_from(report.objects.values().sum::<usize>()).unwrap_or(i64::MAX);
    sync.added = i64::try_from(ind.added).unwrap_or(i64::MAX);
    sync.updated = i64::try_from(ind.updated).unwrap_or(i64::MAX);
    sync.errors = i64::try_from(report.errors.len()).unwrap_or(i64::MAX);
    sync.error = report
        .errors
        .first()
        .map(|e| format!("{}: {}", e.id, e.reason));
    sync.status = if report.errors.is_empty() {
        "ok"
    } else {
        "partial"
    }
    .into();
    sync.cursor = Some(serde_json::to_string(&known)?);
    sync.expired = expired(ctx, tenant, &f.name).await?;
    Ok(sync)
}

/// Indicators asserted by `feed` whose `valid_until` has passed.
async fn expired(ctx: &SyncContext, tenant: TenantId, feed: &str) -> Result<i64> {
    let now = ctx.clock.now();
    let n = ctx
        .store
        .list_expired_indicators(tenant, now)
        .await?
        .iter()
        .filter(|r| {
            r.provenance
                .as_array()
                .is_some_and(|a| a.iter().any(|p| p["feed"] == feed))
        })
        .count();
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The scheduled job: syncs the feed its payload names; a feed removed or
/// disabled since is skipped. Returns whether indicators changed.
pub async fn run_job(ctx: &SyncContext, tenant: TenantId, payload: &Value) -> Result<bool> {
    let name = payload
        .get("feed")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("feed job without a feed name"))?;
    match ctx.store.get_feed(tenant, name).await? {
        Some(f) if f.config.enabled => {}
        _ => return Ok(false),
    }
    let s = sync_feed(ctx, tenant, name).await?;
    Ok(s.added + s.updated > 0)
}

#[derive(Debug, Serialize)]
struct SyncRow {
    feed: String,
    status: String,
    objects: i64,
    added: i64,
    updated: i64,
    expired: i64,
    errors: i64,
    error: Option<String>,
}

impl Row for SyncRow {
    fn headers() -> &'static [&'static str] {
        &[
            "feed", "status", "objects", "added", "updated", "expired", "errors", "error",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.feed.clone(),
            self.status.clone(),
            self.objects.to_string(),
            self.added.to_string(),
            self.updated.to_string(),
            self.expired.to_string(),
            self.errors.to_string(),
            self.error.clone().unwrap_or_default(),
        ]
    }
}

#[derive(Debug, Serialize)]
struct FeedRow {
    name: String,
    format: String,
    location: String,
    enabled: bool,
    interval_secs: i64,
    default_confidence: Option<u8>,
    default_tlp: Option<String>,
    auth: String,
    secret: Option<String>,
    csv_mapping: Option<Value>,
    status: String,
    last_run: Option<Timestamp>,
    last_success: Option<Timestamp>,
    last_error: Option<String>,
    objects: i64,
    added: i64,
    updated: i64,
    expired: i64,
    errors: i64,
}

impl From<&FeedInfo> for FeedRow {
    fn from(f: &FeedInfo) -> Self {
        let c = &f.config;
        Self {
            name: c.name.clone(),
            format: c.format.clone(),
            location: c.location.clone(),
            enabled: c.enabled,
            interval_secs: c.interval_secs,
            default_confidence: c.default_confidence,
            default_tlp: c.default_tlp.clone(),
            auth: c.auth.clone(),
            secret: c.secret.clone(),
            csv_mapping: c.options.clone(),
            status: f.status.clone(),
            last_run: f.last_run,
            last_success: f.last_success,
            last_error: f.last_error.clone(),
            objects: f.objects,
            added: f.added,
            updated: f.updated,
            expired: f.expired,
            errors: f.errors,
        }
    }
}

impl Row for FeedRow {
    fn headers() -> &'static [&'static str] {
        &[
            "name",
            "format",
            "location",
            "enabled",
            "every",
            "status",
            "last success",
            "added",
            "updated",
            "expired",
            "errors",
            "last error",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.format.clone(),
            self.location.clone(),
            self.enabled.to_string(),
            format!("{}s", self.interval_secs),
            self.status.clone(),
            self.last_success
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            self.added.to_string(),
            self.updated.to_string(),
            self.expired.to_string(),
            self.errors.to_string(),
            self.last_error.clone().unwrap_or_default(),
        ]
    }
}

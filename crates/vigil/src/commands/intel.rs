//! `vigil intel import|list|search`: read STIX 2.x bundles, MISP events and
//! CSV/plain-text lists (files or directories, gzip transparent) into the
//! store, optionally suppressing MISP-warninglisted values; list and search
//! the stored indicators. Also builds the [`IntelDetector`] `vigil serve`
//! runs from the stored indicators.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vigil_intel::list::{self, ListFormat};
use vigil_intel::stix::{self, ImportOptions};
use vigil_intel::{
    ImportReport, Indicator, IndicatorSet, IndicatorType, IntelDetector, ItemError, Provenance,
    StixObject, Tlp, Warninglist, Warninglists, misp,
};
use vigil_model::{FieldRegistry, TenantId, Timestamp};
use vigil_store::{FeedRecord, IndicatorRecord, StixObjectRecord, Store, UpsertStats};

use crate::cli::OutputFormat;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

/// Threat intelligence subcommands.
#[derive(Debug, Subcommand)]
pub enum IntelCommand {
    /// Import STIX 2.x bundles, MISP events or CSV/plain-text lists from
    /// files or directories (recursively; gzip is read transparently).
    /// Bad objects are reported with their id and reason and the rest are
    /// imported; importing the same data twice changes nothing. Exit code 1
    /// when any item was rejected.
    Import(ImportArgs),
    /// List the stored indicators.
    List(ListArgs),
    /// Stored indicators whose value contains VALUE.
    Search(SearchArgs),
    /// Look one value up (refanged, normalised): the stored indicators that
    /// match it, with provenance, context and sightings. Exit code 1 when
    /// none matches.
    Lookup(crate::commands::intel_ops::lookup::LookupArgs),
    /// Retro-match log files (EVTX, evtx-JSON, NDJSON, syslog; gzip ok)
    /// against the stored indicators.
    Match(crate::commands::intel_ops::retro::MatchArgs),
    /// Export indicators as a STIX 2.1 bundle or CSV, filtered by type,
    /// minimum confidence and TLP.
    Export(crate::commands::intel_ops::export::ExportArgs),
    /// Manual blocklist entries and the plain-text blocklists.
    #[command(subcommand)]
    Blocklist(crate::commands::intel_ops::blocklist::BlocklistCommand),
    /// Configured feeds (files, URLs, TAXII collections) synced on a
    /// schedule by `vigil serve`.
    #[command(subcommand)]
    Feeds(crate::commands::feeds::FeedsCommand),
}

/// Input format of `vigil intel import`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum InputFormat {
    /// Detect per file: STIX bundles and MISP events by their JSON, lists
    /// otherwise.
    Auto,
    /// STIX 2.0 / 2.1 bundles.
    Stix,
    /// MISP event JSON.
    Misp,
    /// CSV or plain-text lists (value in the first column, type detected).
    Csv,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Feed name recorded as the indicators' source (and the feed's last
    /// run). By default, each file's name.
    #[arg(long)]
    pub feed: Option<String>,
    /// Input format. By default, detected per file.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub format: InputFormat,
    /// A directory of MISP warninglists (`list.json` files); matching
    /// indicators are not stored and are reported as suppressed.
    #[arg(long)]
    pub warninglists: Option<PathBuf>,
    /// CSV column mapping (abuse.ch style), 0-based: `value=N`, `type=N`
    /// or `type=NAME` (a fixed type: ip, domain, url, sha256, …),
    /// `first_seen=N`, `tags=N`, `related=N`; e.g. Feodo Tracker's
    /// `--columns value=1,type=ip,first_seen=0`. Implies `--format csv`.
    #[arg(long, value_name = "MAPPING")]
    pub columns: Option<String>,
    /// CSV: the first non-comment line is a header.
    #[arg(long)]
    pub header: bool,
    /// CSV field separator (a single character). By default `,`.
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// Report format: table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Part of a value (case-insensitive).
    pub value: String,
    /// At most this many rows.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub async fn run(cfg: Config, cmd: IntelCommand) -> Result<ExitCode> {
    match cmd {
        IntelCommand::Import(a) => import(cfg, a).await,
        IntelCommand::Lookup(a) => crate::commands::intel_ops::lookup::run(cfg, a).await,
        IntelCommand::Match(a) => crate::commands::intel_ops::retro::run(cfg, a).await,
        IntelCommand::Export(a) => crate::commands::intel_ops::export::run(cfg, a).await,
        IntelCommand::Blocklist(c) => crate::commands::intel_ops::blocklist::run(cfg, c).await,
        IntelCommand::Feeds(c) => crate::commands::feeds::run(cfg, c).await,
        IntelCommand::List(a) => {
            let store = context::open_store(&cfg).await?;
            let rows = store.list_indicators(TenantId::DEFAULT).await?;
            output::print(
                &rows.iter().map(IndicatorRow::from).collect::<Vec<_>>(),
                a.format,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        IntelCommand::Search(a) => {
            let store = context::open_store(&cfg).await?;
            let rows = store
                .search_indicators(TenantId::DEFAULT, &a.value, a.limit)
                .await?;
            output::print(
                &rows.iter().map(IndicatorRow::from).collect::<Vec<_>>(),
                a.format,
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What an import did, for the report.
#[derive(Debug, Default, Serialize)]
struct ImportSummary {
    files: usize,
    objects: BTreeMap<String, usize>,
    indicators: BTreeMap<String, usize>,
    patterns_matchable: usize,
    patterns_not_matchable: usize,
    skipped: usize,
    indicators_added: usize,
    indicators_updated: usize,
    indicators_unchanged: usize,
    stix_objects_added: usize,
    stix_objects_unchanged: usize,
    suppressed: Vec<SuppressedRow>,
    errors: Vec<ItemError>,
}

#[derive(Debug, Serialize)]
struct SuppressedRow {
    #[serde(rename = "type")]
    kind: String,
    value: String,
    list: String,
}

async fn import(cfg: Config, a: ImportArgs) -> Result<ExitCode> {
    let files = collect_files(&a.paths)?;
    let mut lists = Warninglists::new();
    let mut errors = Vec::new();
    if let Some(dir) = &a.warninglists {
        for f in collect_files(std::slice::from_ref(dir))? {
            if f.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let res = std::fs::read(&f)
                .map_err(anyhow::Error::from)
                .and_then(|b| Warninglist::parse(&b).map_err(anyhow::Error::from));
            match res {
                Ok(l) => lists.add(l),
                Err(e) => errors.push(ItemError {
                    source: f.display().to_string(),
                    id: "warninglist".into(),
                    reason: format!("{e:#}"),
                }),
            }
        }
    }
    // Parsing is CPU work: off the async runtime.
    let feed = a.feed.clone();
    let quiet = a.quiet;
    let csv = crate::commands::intel_ops::feed_dir::csv_format(
        a.columns.as_deref(),
        a.header,
        a.delimiter,
    )?;
    let format = if csv.is_some() {
        InputFormat::Csv
    } else {
        a.format
    };
    let (set, objects, mut report, files_read) = tokio::task::spawn_blocking(move || {
        parse_files(&files, feed.as_deref(), format, csv.as_ref(), quiet)
    })
    .await
    .context("import worker failed")?;
    report.errors.extend(errors);
    let mut set = set;
    let suppressed = lists.suppress(&mut set);

    let store = context::open_store(&cfg).await?;
    let now = context::now()?;
    let (ind_stats, obj_stats) =
        store_parsed(&store, TenantId::DEFAULT, &set, &objects, now).await?;

    let summary = ImportSummary {
        files: files_read,
        objects: report.objects.clone(),
        indicators: report.indicators.clone(),
        patterns_matchable: report.patterns_matchable,
        patterns_not_matchable: report.patterns_not_matchable,
        skipped: report.skipped,
        indicators_added: ind_stats.added,
        indicators_updated: ind_stats.updated,
        indicators_unchanged: ind_stats.unchanged,
        stix_objects_added: obj_stats.added,
        stix_objects_unchanged: obj_stats.unchanged,
        suppressed: suppressed
            .iter()
            .map(|s| SuppressedRow {
                kind: s.kind.as_str().into(),
                value: s.value.clone(),
                list: s.list.clone(),
            })
            .collect(),
        errors: report.errors.clone(),
    };
    if let Some(name) = &a.feed {
        record_feed(&store, name, &a, &summary, &ind_stats, now).await?;
    }
    print_summary(&summary, a.output)?;
    Ok(if summary.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Stores parsed indicators (merged with the stored ones, so every
/// provenance is kept) and STIX objects; returns what the indicator and
/// object upserts did.
pub async fn store_parsed(
    store: &Store,
    tenant: TenantId,
    set: &IndicatorSet,
    objects: &[StixObject],
    now: Timestamp,
) -> Result<(UpsertStats, UpsertStats)> {
    // Only the stored indicators this batch merges with, by key.
    let keys: Vec<(&str, &str)> = set
        .iter()
        .map(|(_, i)| (i.kind.as_str(), i.value.as_str()))
        .collect();
    let mut stored = IndicatorSet::new();
    for r in store.get_indicators_by_keys(tenant, &keys).await? {
        if let Some(i) = from_record(&r) {
            stored.insert(i);
        }
    }
    let mut records = Vec::with_capacity(set.len());
    for (_, ind) in set.iter() {
        let merged = match stored.find(ind.kind, &ind.value) {
            Some((_, old)) => {
                let mut m = old.clone();
                m.merge(ind);
                m
            }
            None => ind.clone(),
        };
        records.push(vigil_server::intel::record_of(&merged));
    }
    let ind_stats = store.upsert_indicators(tenant, &records, now).await?;
    let obj_records: Vec<StixObjectRecord> = objects.iter().map(object_record).collect();
    let obj_stats = store.upsert_stix_objects(tenant, &obj_records, now).await?;
    Ok((ind_stats, obj_stats))
}

async fn record_feed(
    store: &Store,
    name: &str,
    a: &ImportArgs,
    s: &ImportSummary,
    st: &UpsertStats,
    now: Timestamp,
) -> Result<()> {
    let ok = s.errors.is_empty();
    let feed = FeedRecord {
        name: name.to_string(),
        kind: format!("{:?}", a.format).to_lowercase(),
        location: a
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        enabled: true,
        last_run: Some(now),
        last_success: ok.then_some(now),
        status: if ok { "ok" } else { "partial" }.into(),
        last_error: s.errors.first().map(|e| format!("{}: {}", e.id, e.reason)),
        objects: i64::try_from(s.objects.values().sum::<usize>()).unwrap_or(i64::MAX),
        added: i64::try_from(st.added).unwrap_or(i64::MAX),
        updated: i64::try_from(st.updated).unwrap_or(i64::MAX),
        errors: i64::try_from(s.errors.len()).unwrap_or(i64::MAX),
    };
    store.record_feed_run(TenantId::DEFAULT, &feed, now).await?;
    Ok(())
}

/// Every file under `paths` (directories recursively, sorted; hidden files,
/// `*.md` and licence/readme files skipped there).
pub(crate) fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out).with_context(|| format!("cannot list {}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.')
            || name.ends_with(".md")
            || crate::commands::intel_ops::feed_dir::is_legal_file(name)
        {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn parse_files(
    files: &[PathBuf],
    feed: Option<&str>,
    format: InputFormat,
    csv: Option<&ListFormat>,
    quiet: bool,
) -> (IndicatorSet, Vec<StixObject>, ImportReport, usize) {
    // MISP feed directories: events are read through their manifest.
    let files = &crate::commands::intel_ops::feed_dir::without_feed_events(files);
    let bar = if quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(files.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {wide_msg}") {
            b.set_style(style);
        }
        b
    };
    let opts = ImportOptions::default();
    let mut set = IndicatorSet::new();
    let mut objects = Vec::new();
    let mut report = ImportReport::default();
    let mut files_read = 0;
    for f in files {
        let source = feed.map(str::to_string).unwrap_or_else(|| {
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| f.display().to_string())
        });
        bar.set_message(f.display().to_string());
        let loc = f.display().to_string();
        match parse_file(f, &source, format, csv, &opts) {
            Ok((inds, objs, mut r)) => {
                for e in &mut r.errors {
                    e.source = loc.clone();
                }
                files_read += 1;
                report.absorb(r);
                set.merge(inds);
                objects.extend(objs);
            }
            Err(e) => report.errors.push(ItemError {
                source: loc,
                id: "file".into(),
                reason: format!("{e:#}"),
            }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    (set, objects, report, files_read)
}

/// Indicators, STIX objects and the import report of one input.
pub type Parsed = (Vec<Indicator>, Vec<StixObject>, ImportReport);

fn parse_file(
    path: &Path,
    source: &str,
    format: InputFormat,
    csv: Option<&ListFormat>,
    opts: &ImportOptions,
) -> Result<Parsed> {
    if let Some(p) = crate::commands::intel_ops::feed_dir::parse_feed_file(path, source, opts)? {
        return Ok(p);
    }
    let bytes = std::fs::read(path).context("cannot read the file")?;
    if let (InputFormat::Csv, Some(fmt)) = (format, csv) {
        let (inds, r) = list::parse_list(&bytes, source, fmt, opts)?;
        return Ok((inds, Vec::new(), r));
    }
    parse_bytes(&bytes, source, format, opts)
}

/// Parses one input (gzip transparent) in `format` (`Auto` detects it).
pub fn parse_bytes(
    bytes: &[u8],
    source: &str,
    format: InputFormat,
    opts: &ImportOptions,
) -> Result<Parsed> {
    let format = match format {
        InputFormat::Auto => detect(bytes, opts)?,
        f => f,
    };
    Ok(match format {
        InputFormat::Stix | InputFormat::Auto => {
            let imp = stix::parse_bundle(bytes, source, opts)?;
            (imp.indicators, imp.objects, imp.report)
        }
        InputFormat::Misp => {
            let imp = misp::parse_events(bytes, source, opts)?;
            (imp.indicators, Vec::new(), imp.report)
        }
        InputFormat::Csv => {
            let fmt = if bytes.contains(&b',') {
                ListFormat {
                    delimiter: Some(','),
                    ..ListFormat::plain(None)
                }
            } else {
                ListFormat::plain(None)
            };
            let (inds, r) = list::parse_list(bytes, source, &fmt, opts)?;
            (inds, Vec::new(), r)
        }
    })
}

/// STIX when the JSON is a bundle (`"type": "bundle"` or `objects`), MISP
/// for other JSON, a list otherwise.
fn detect(bytes: &[u8], opts: &ImportOptions) -> Result<InputFormat> {
    let data = vigil_intel::decode_input(bytes, opts.max_bytes)?;
    let head = data.iter().position(|b| !b.is_ascii_whitespace());
    if head.is_none_or(|i| data[i] != b'{' && data[i] != b'[') {
        return Ok(InputFormat::Csv);
    }
    let start = head.unwrap_or(0);
    let window = &data[start..data.len().min(start + 4096)];
    let text = String::from_utf8_lossy(window);
    if text.contains("\"bundle\"") || text.contains("\"objects\"") {
        Ok(InputFormat::Stix)
    } else {
        Ok(InputFormat::Misp)
    }
}

/// The stored row as an indicator; `None` (logged) for a type this build
/// does not know.
pub(crate) fn from_record(r: &IndicatorRecord) -> Option<Indicator> {
    let kind: IndicatorType = match r.kind.parse() {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(error = %e, value = r.value, "stored indicator skipped");
            return None;
        }
    };
    let provenance: std::collections::BTreeSet<Provenance> =
        serde_json::from_value(r.provenance.clone()).unwrap_or_default();
    Some(Indicator {
        kind,
        value: r.value.clone(),
        confidence: r.confidence,
        tlp: r.tlp.as_deref().and_then(Tlp::parse),
        markings: r.markings.iter().cloned().collect(),
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        labels: r.labels.iter().cloned().collect(),
        kill_chain: serde_json::from_value(r.kill_chain.clone()).unwrap_or_default(),
        techniques: r.techniques.iter().cloned().collect(),
        related: r.related.iter().cloned().collect(),
        provenance,
        first_seen: r.first_seen,
        last_seen: r.last_seen.max(r.last_sighting),
        sightings: u64::try_from(r.feed_sightings.max(0)).unwrap_or(0),
    })
}

pub(crate) fn object_record(o: &StixObject) -> StixObjectRecord {
    let relationship = (o.kind == "relationship").then(|| {
        (
            o.str("relationship_type").unwrap_or("").to_string(),
            o.str("source_ref").unwrap_or("").to_string(),
            o.str("target_ref").unwrap_or("").to_string(),
        )
    });
    StixObjectRecord {
        id: o.id.clone(),
        kind: o.kind.clone(),
        modified: o.version().unwrap_or(Timestamp::from_micros(0)),
        spec_version: o.spec_version.clone(),
        name: o.name.clone(),
        revoked: o.revoked,
        source: String::new(),
        body: o.json.clone(),
        relationship,
    }
}

/// Stored indicators read per page while building the detector (so the
/// full records never sit in memory all at once).
const DETECTOR_PAGE: u32 = 20_000;

/// The intel detector over the stored indicators active at `now` (valid,
/// and with `decay`, not decayed below its threshold); `None` when there
/// are none. Reads the store a page at a time and keeps only the match
/// index and the compact contexts.
pub async fn detector(
    store: &Store,
    registry: &FieldRegistry,
    now: Timestamp,
    decay: Option<vigil_intel::DecayModel>,
) -> Result<Option<IntelDetector>> {
    let mut b = vigil_intel::detector::IntelDetectorBuilder::new(now, decay);
    // A feed still listing an indicator at its last successful sync
    // re-asserts it: decay counts from then.
    let feeds = store
        .list_feeds(TenantId::DEFAULT)
        .await
        .context("cannot read the feeds")?;
    b.feed_assertions(
        feeds
            .into_iter()
            .filter_map(|f| f.last_success.map(|t| (f.name, t))),
    );
    let mut q = vigil_store::IndicatorQuery {
        limit: Some(DETECTOR_PAGE),
        ..Default::default()
    };
    loop {
        let page = store
            .query_indicators(TenantId::DEFAULT, &q)
            .await
            .context("cannot load the intel indicators")?;
        for r in &page {
            if let Some(mut i) = from_record(r) {
                // Receiving (or changing) it is an assertion too: decay
                // counts from then at the earliest.
                i.last_seen = i.last_seen.max(Some(r.updated_at));
                b.add(&i);
            }
        }
        match page.last() {
            Some(last) if page.len() == DETECTOR_PAGE as usize => {
                q.after = Some((last.kind.clone(), last.value.clone()));
            }
            _ => break,
        }
    }
    let stats = b.stats();
    if stats.indexed == 0 {
        return Ok(None);
    }
    let d = b.build("intel", registry);
    tracing::info!(
        indicators = stats.offered,
        matchable = stats.indexed,
        inactive = stats.inactive,
        unindexable = stats.unindexable,
        heap_bytes = d.heap_bytes(),
        "intel detector built"
    );
    Ok(Some(d))
}

#[derive(Debug, Serialize)]
struct IndicatorRow {
    #[serde(rename = "type")]
    kind: String,
    value: String,
    confidence: u8,
    tlp: Option<String>,
    feeds: Vec<String>,
    techniques: Vec<String>,
    related: Vec<String>,
    valid_until: Option<Timestamp>,
    sightings: i64,
    last_sighting: Option<Timestamp>,
}

impl From<&IndicatorRecord> for IndicatorRow {
    fn from(r: &IndicatorRecord) -> Self {
        let feeds = r
            .provenance
            .as_array()
            .map(|a| {
                let mut f: Vec<String> = a
                    .iter()
                    .filter_map(|p| p["feed"].as_str().map(str::to_string))
                    .collect();
                f.dedup();
                f
            })
            .unwrap_or_default();
        Self {
            kind: r.kind.clone(),
            value: r.value.clone(),
            confidence: r.confidence,
            tlp: r.tlp.clone(),
            feeds,
            techniques: r.techniques.clone(),
            related: r.related.clone(),
            valid_until: r.valid_until,
            sightings: r.sightings,
            last_sighting: r.last_sighting,
        }
    }
}

impl Row for IndicatorRow {
    fn headers() -> &'static [&'static str] {
        &[
            "type",
            "value",
            "confidence",
            "tlp",
            "feeds",
            "techniques",
            "sightings",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.clone(),
            self.value.clone(),
            self.confidence.to_string(),
            self.tlp.clone().unwrap_or_default(),
            self.feeds.join(" "),
            self.techniques.join(" "),
            self.sightings.to_string(),
        ]
    }
}

#[derive(Serialize)]
struct CountRow {
    what: String,
    count: usize,
}

impl Row for CountRow {
    fn headers() -> &'static [&'static str] {
        &["what", "count"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.what.clone(), self.count.to_string()]
    }
}

fn print_summary(s: &ImportSummary, format: OutputFormat) -> Result<()> {
    if format != OutputFormat::Table {
        println!("{}", serde_json::to_string_pretty(s)?);
        return Ok(());
    }
    let mut rows: Vec<CountRow> = s
        .objects
        .iter()
        .map(|(k, v)| CountRow {
            what: format!("object {k}"),
            count: *v,
        })
        .collect();
    rows.extend(s.indicators.iter().map(|(k, v)| CountRow {
        what: format!("indicator {k}"),
        count: *v,
    }));
    for (what, count) in [
        ("patterns matchable", s.patterns_matchable),
        ("patterns not matchable", s.patterns_not_matchable),
        ("skipped", s.skipped),
        ("indicators added", s.indicators_added),
        ("indicators updated", s.indicators_updated),
        ("indicators unchanged", s.indicators_unchanged),
        ("stix objects added", s.stix_objects_added),
        ("stix objects unchanged", s.stix_objects_unchanged),
        ("suppressed", s.suppressed.len()),
        ("errors", s.errors.len()),
    ] {
        rows.push(CountRow {
            what: what.into(),
            count,
        });
    }
    output::print(&rows, OutputFormat::Table)?;
    for x in &s.suppressed {
        println!("suppressed {} {} (warninglist {})", x.kind, x.value, x.list);
    }
    for e in &s.errors {
        println!("error {}: {}: {}", e.source, e.id, e.reason);
    }
    Ok(())
}

//! `vigil intel match PATH…`: retro-matches log files against the stored
//! indicators — EVTX, evtx-JSON and ECS/NDJSON documents, and syslog text
//! (gzip read transparently) — with a progress bar, one row per hit with
//! the indicator's context. Nothing is written to the store: old logs are
//! searched, not re-alerted.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use vigil_intel::{IndicatorSet, MatchIndex, Matcher};
use vigil_model::{Event, FieldId, FieldRegistry, TenantId, Timestamp};
use vigil_sigma::evtx::event_from_evtx_json;
use vigil_sigma::linux::enrich_syslog_event;

use crate::cli::OutputFormat;
use crate::commands::intel::from_record;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

/// Largest decompressed `.gz` input.
const MAX_GUNZIP: u64 = 4 << 30;

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Log files or directories (recursively): .evtx, .json/.jsonl/.ndjson
    /// (evtx-JSON or ECS documents), anything else as syslog lines; .gz is
    /// decompressed.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Also indicators that are expired or not yet valid.
    #[arg(long)]
    pub include_expired: bool,
    /// Output format: table for people, json/ndjson/csv (one row per hit).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One indicator hit in one event.
#[derive(Debug, Serialize)]
struct Hit {
    file: String,
    /// Line (text files) or record number (EVTX, JSON arrays).
    record: u64,
    time: Option<Timestamp>,
    field: String,
    observed: String,
    #[serde(rename = "type")]
    kind: String,
    value: String,
    confidence: u8,
    tlp: Option<String>,
    feeds: Vec<String>,
    related: Vec<String>,
    techniques: Vec<String>,
}

impl Row for Hit {
    fn headers() -> &'static [&'static str] {
        &[
            "file", "record", "field", "observed", "type", "value", "conf", "tlp", "feeds",
            "related",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.file.clone(),
            self.record.to_string(),
            self.field.clone(),
            self.observed.clone(),
            self.kind.clone(),
            self.value.clone(),
            self.confidence.to_string(),
            self.tlp.clone().unwrap_or_default(),
            self.feeds.join(" "),
            self.related.join(", "),
        ]
    }
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    files: usize,
    events: u64,
    lookups: u64,
    hits: usize,
    errors: Vec<(String, String)>,
}

struct Ctx {
    registry: Arc<FieldRegistry>,
    set: IndicatorSet,
    index: MatchIndex,
    matcher: Matcher,
}

pub async fn run(cfg: Config, a: MatchArgs) -> Result<ExitCode> {
    let (registry, clock) = context::runtime();
    let store = context::open_store(&cfg).await?;
    let mut set = IndicatorSet::new();
    for r in store.list_indicators(TenantId::DEFAULT).await? {
        if let Some(i) = from_record(&r) {
            set.insert(i);
        }
    }
    let index = if a.include_expired {
        MatchIndex::build(&set)
    } else {
        MatchIndex::build_at(&set, clock.now())
    };
    let matcher = Matcher::new(&registry);
    let ctx = Ctx {
        registry,
        set,
        index,
        matcher,
    };
    let files = input_files(&a.paths)?;
    let quiet = a.quiet;
    let (hits, totals) = tokio::task::spawn_blocking(move || scan(&ctx, &files, quiet))
        .await
        .context("match worker failed")?;
    output::print(&hits, a.format)?;
    if a.format == OutputFormat::Table {
        println!(
            "{} hits in {} events from {} files ({} observable lookups)",
            totals.hits, totals.events, totals.files, totals.lookups
        );
    }
    for (f, e) in totals.errors.iter().take(20) {
        eprintln!("error {f}: {e}");
    }
    if totals.errors.len() > 20 {
        eprintln!("… and {} more errors", totals.errors.len() - 20);
    }
    Ok(if totals.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn input_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>> {
    let files = crate::commands::intel::collect_files(paths)?;
    Ok(files
        .into_iter()
        .map(|f| {
            let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            (f, len)
        })
        .collect())
}

fn progress(total: u64, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(total);
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

fn scan(ctx: &Ctx, files: &[(PathBuf, u64)], quiet: bool) -> (Vec<Hit>, Totals) {
    let bar = progress(files.iter().map(|(_, l)| l).sum(), quiet);
    let mut hits = Vec::new();
    let mut t = Totals::default();
    for (path, len) in files {
        let name = path.display().to_string();
        bar.set_message(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        match scan_file(ctx, path, &name, &mut hits, &mut t) {
            Ok(()) => t.files += 1,
            Err(e) => t.errors.push((name, e)),
        }
        bar.inc(*len);
    }
    bar.finish_and_clear();
    t.hits = hits.len();
    (hits, t)
}

fn read_all(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(MAX_GUNZIP + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("bad gzip: {e}"))?;
        if out.len() as u64 > MAX_GUNZIP {
            return Err(format!("decompresses to more than {MAX_GUNZIP} bytes"));
        }
        return Ok(out);
    }
    Ok(bytes)
}

fn scan_file(
    ctx: &Ctx,
    path: &Path,
    name: &str,
    hits: &mut Vec<Hit>,
    t: &mut Totals,
) -> Result<(), String> {
    let source = format!("file:{name}");
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut magic = [0u8; 8];
    let _ = std::fs::File::open(path).and_then(|mut f| f.read(&mut magic));
    if ext == "evtx" || &magic == b"ElfFile\0" {
        let parser =
            evtx::EvtxParser::from_path(path).map_err(|e| format!("not an EVTX file: {e}"))?;
        let mut parser =
            parser.with_configuration(evtx::ParserSettings::new().num_threads(1).indent(false));
        for (n, r) in parser.records_json_value().enumerate() {
            match r {
                Ok(rec) => {
                    let ev = event_from_evtx_json(&rec.data, &ctx.registry, &source, Vec::new());
                    check(ctx, &ev, name, rec.event_record_id, hits, t);
                }
                Err(e) => t
                    .errors
                    .push((name.to_string(), format!("record {}: {e}", n + 1))),
            }
        }
        return Ok(());
    }
    let data = read_all(path)?;
    let first = data.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let opts = vigil_ingest::ParseOptions::new(
        TenantId::DEFAULT,
        source.clone(),
        Timestamp::from_micros(0),
    );
    if first == Some(b'[') {
        let docs: Vec<serde_json::Value> =
            serde_json::from_slice(&data).map_err(|e| format!("invalid JSON array: {e}"))?;
        for (n, v) in docs.iter().enumerate() {
            json_doc(ctx, v, &opts, name, n as u64 + 1, hits, t);
        }
        return Ok(());
    }
    for (n, line) in data.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let no = n as u64 + 1;
        if line.first() == Some(&b'{') {
            match serde_json::from_slice::<serde_json::Value>(line) {
                Ok(v) => json_doc(ctx, &v, &opts, name, no, hits, t),
                Err(e) => t.errors.push((name.to_string(), format!("line {no}: {e}"))),
            }
        } else {
            match vigil_ingest::parse_syslog_record(line, &ctx.registry, &opts) {
                Ok(ev) => {
                    let ev = if ev.get(FieldId::LOG_SYSLOG_APPNAME).is_some() {
                        enrich_syslog_event(&ev, &ctx.registry)
                    } else {
                        ev
                    };
                    check(ctx, &ev, name, no, hits, t);
                }
                Err(e) => t.errors.push((name.to_string(), format!("line {no}: {e}"))),
            }
        }
    }
    Ok(())
}

fn is_evtx_json(v: &serde_json::Value) -> bool {
    v.get("Event").is_some_and(|e| e.get("System").is_some())
        || (v.get("System").is_some()
            && (v.get("EventData").is_some() || v.get("UserData").is_some()))
}

fn json_doc(
    ctx: &Ctx,
    v: &serde_json::Value,
    opts: &vigil_ingest::ParseOptions,
    name: &str,
    no: u64,
    hits: &mut Vec<Hit>,
    t: &mut Totals,
) {
    if is_evtx_json(v) {
        let ev = event_from_evtx_json(v, &ctx.registry, &opts.source, Vec::new());
        check(ctx, &ev, name, no, hits, t);
        return;
    }
    let text = v.to_string();
    match vigil_ingest::parse_json_record(text.as_bytes(), &ctx.registry, opts) {
        Ok(ev) => check(ctx, &ev, name, no, hits, t),
        Err(e) => t
            .errors
            .push((name.to_string(), format!("document {no}: {e}"))),
    }
}

fn check(ctx: &Ctx, ev: &Event, name: &str, no: u64, hits: &mut Vec<Hit>, t: &mut Totals) {
    let mut buf = Vec::new();
    t.events += 1;
    t.lookups += ctx.matcher.match_event(&ctx.index, ev, &mut buf) as u64;
    for m in buf {
        let Some(ind) = ctx.set.get(m.indicator) else {
            continue;
        };
        let mut feeds: Vec<String> = ind.provenance.iter().map(|p| p.feed.clone()).collect();
        feeds.dedup();
        hits.push(Hit {
            file: name.to_string(),
            record: no,
            time: ev.time,
            field: ctx
                .registry
                .name(m.field)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            observed: m.observed,
            kind: ind.kind.as_str().into(),
            value: ind.value.clone(),
            confidence: ind.confidence,
            tlp: ind.tlp.map(|t| t.as_str().to_string()),
            feeds,
            related: ind.related.iter().cloned().collect(),
            techniques: ind.techniques.iter().cloned().collect(),
        });
    }
}

//! `vigil hunt PATH… --rules DIR…`: Sigma rules over EVTX and JSON files,
//! offline. Files are spread over worker threads; each worker keeps one
//! reusable evaluator, so evaluation allocates only for matches.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::value::RawValue;
use vigil_model::{Event, FieldId, FieldRegistry, TenantId, Timestamp};
use vigil_sigma::evtx::event_from_evtx_json;
use vigil_sigma::linux::enrich_syslog_event;
use vigil_sigma::{Document, Level, RuleSet, Verdict, parse_files};

use crate::builtin_rules;
use crate::cli::{HuntArgs, OutputFormat};
use crate::commands::rules::{FileError, read_rule_files, sigma_config, walk};
use crate::output::{self, Row};

/// Errors printed in table mode before "and N more".
const SHOW_ERRORS: usize = 20;

/// JSON input is read this many bytes at a time.
const JSON_CHUNK: usize = 8 << 20;

/// The largest JSON document (or line) accepted.
const MAX_JSON_DOCUMENT: usize = 256 << 20;

pub async fn run(a: HuntArgs) -> Result<ExitCode> {
    tokio::task::spawn_blocking(move || hunt(&a))
        .await
        .context("hunt task failed")?
}

/// What kind of input a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Evtx,
    Json,
}

fn kind_of(p: &Path) -> Option<Kind> {
    let ext = p.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "evtx" => Some(Kind::Evtx),
        "json" | "jsonl" | "ndjson" => Some(Kind::Json),
        _ => None,
    }
}

/// Input files under `paths`: directories recursively by extension; files
/// named directly by extension, else sniffed (EVTX magic or JSON).
fn input_files(paths: &[PathBuf]) -> (Vec<(PathBuf, Kind, u64)>, Vec<FileError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &|f: &Path| kind_of(f).is_some(), &mut found, &mut errors);
            found.sort();
            for f in found {
                if let Some(k) = kind_of(&f) {
                    let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                    out.push((f, k, len));
                }
            }
        } else {
            match std::fs::metadata(p) {
                Ok(m) => {
                    let k = kind_of(p).unwrap_or_else(|| sniff(p));
                    out.push((p.clone(), k, m.len()));
                }
                Err(e) => errors.push((p.display().to_string(), format!("cannot read: {e}"))),
            }
        }
    }
    (out, errors)
}

fn sniff(p: &Path) -> Kind {
    use std::io::Read;
    let mut magic = [0u8; 8];
    let n = std::fs::File::open(p)
        .and_then(|mut f| f.read(&mut magic))
        .unwrap_or(0);
    if n == 8 && &magic == b"ElfFile\0" {
        Kind::Evtx
    } else {
        Kind::Json
    }
}

/// `--from`/`--to`: RFC 3339 or a date (midnight UTC).
fn parse_time(flag: &str, s: &str) -> Result<Timestamp> {
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    if let Some(t) = Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z")) {
        return Ok(t);
    }
    bail!("{flag}: {s:?} is neither an RFC 3339 time nor a date YYYY-MM-DD")
}

/// Which rules and events the hunt keeps.
struct Filters {
    min_level: Option<Level>,
    tags: Vec<String>,
    rule_ids: Vec<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

impl Filters {
    fn from_args(a: &HuntArgs) -> Result<Self> {
        let min_level = a
            .min_level
            .as_deref()
            .map(|l| l.parse::<Level>().map_err(anyhow::Error::msg))
            .transpose()
            .context("--min-level")?;
        Ok(Self {
            min_level,
            tags: a.tags.iter().map(|t| t.to_ascii_lowercase()).collect(),
            rule_ids: a.rule_ids.clone(),
            from: a
                .from
                .as_deref()
                .map(|s| parse_time("--from", s))
                .transpose()?,
            to: a.to.as_deref().map(|s| parse_time("--to", s)).transpose()?,
        })
    }

    fn keeps_rule(&self, meta: &vigil_sigma::Meta) -> bool {
        if let Some(min) = self.min_level
            && meta.level.is_none_or(|l| l < min)
        {
            return false;
        }
        if !self.rule_ids.is_empty()
            && !meta
                .id
                .as_deref()
                .is_some_and(|id| self.rule_ids.iter().any(|r| r.eq_ignore_ascii_case(id)))
        {
            return false;
        }
        if !self.tags.is_empty() {
            let hit = meta.tags.iter().any(|t| {
                let t = t.to_ascii_lowercase();
                self.tags.iter().any(|f| {
                    t == *f
                        || (t.starts_with(f.as_str()) && t.as_bytes().get(f.len()) == Some(&b'.'))
                })
            });
            if !hit {
                return false;
            }
        }
        true
    }

    fn keeps_event(&self, ev: &Event) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(t) = ev.time else { return false };
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t < to)
    }
}

/// One detection, as printed.
#[derive(Debug, Clone, Serialize)]
struct Detection {
    time: Option<String>,
    rule_title: String,
    rule_id: Option<String>,
    level: Option<String>,
    /// ATT&CK tags of the rule (`attack.*`).
    tags: Vec<String>,
    computer: Option<String>,
    file: String,
    record_id: Option<u64>,
    /// Matched fields: Sigma field name → the event's value.
    fields: BTreeMap<String, String>,
    #[serde(skip)]
    sort_time: i64,
    #[serde(skip)]
    level_rank: Option<Level>,
}

impl Row for Detection {
    fn headers() -> &'static [&'static str] {
        &[
            "time",
            "level",
            "rule_title",
            "rule_id",
            "tags",
            "computer",
            "file",
            "record_id",
            "fields",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        vec![
            o(&self.time),
            o(&self.level),
            self.rule_title.clone(),
            o(&self.rule_id),
            self.tags.join(";"),
            o(&self.computer),
            self.file.clone(),
            self.record_id.map_or_else(|| "-".into(), |r| r.to_string()),
            self.fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ]
    }
}

/// The table people read: fewer columns than the machine formats.
#[derive(Serialize)]
struct TableRow<'a>(#[serde(skip)] &'a Detection);

impl Row for TableRow<'_> {
    fn headers() -> &'static [&'static str] {
        &["time", "level", "rule", "computer", "source", "fields"]
    }
    fn cells(&self) -> Vec<String> {
        let d = self.0;
        let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        let file = Path::new(&d.file)
            .file_name()
            .map_or_else(|| d.file.clone(), |f| f.to_string_lossy().into_owned());
        vec![
            o(&d.time),
            o(&d.level),
            d.rule_title.clone(),
            o(&d.computer),
            match d.record_id {
                Some(r) => format!("{file}#{r}"),
                None => file,
            },
            d.fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ]
    }
}

/// One line of the summary by rule and level.
#[derive(Serialize)]
struct SummaryRow {
    level: String,
    count: usize,
    rule_title: String,
    rule_id: String,
}

impl Row for SummaryRow {
    fn headers() -> &'static [&'static str] {
        &["level", "count", "rule", "id"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.level.clone(),
            self.count.to_string(),
            self.rule_title.clone(),
            self.rule_id.clone(),
        ]
    }
}

/// What one worker found.
#[derive(Default)]
struct Found {
    detections: Vec<Detection>,
    events: u64,
    skipped: u64,
    errors: Vec<FileError>,
}

/// Shared, read-only context of the workers.
struct Hunt<'a> {
    set: &'a RuleSet,
    registry: &'a FieldRegistry,
    filters: &'a Filters,
    bar: &'a ProgressBar,
}

fn hunt(a: &HuntArgs) -> Result<ExitCode> {
    let filters = Filters::from_args(a)?;
    let config = sigma_config(&a.mapping)?;
    let started = Instant::now();

    // Rules: the given files, else the built-in pack.
    let (sources, rule_file_errors) = if a.rules.is_empty() {
        (
            builtin_rules::PACK
                .iter()
                .map(|(p, t)| (format!("builtin:{p}"), (*t).to_owned()))
                .collect(),
            Vec::new(),
        )
    } else {
        read_rule_files(&a.rules)
    };
    let registry = FieldRegistry::new();
    let mut docs = Vec::new();
    let mut rejected = rule_file_errors.len();
    let mut filtered = 0usize;
    for ((p, _), parsed) in sources.iter().zip(parse_files(&sources)) {
        let path: Arc<str> = Arc::from(p.as_str());
        for d in parsed {
            match d {
                Ok(Document::Rule(r)) if !filters.keeps_rule(&r.meta) => filtered += 1,
                Ok(d) => docs.push((path.clone(), d)),
                Err(_) => rejected += 1,
            }
        }
    }
    let (set, compile_errors) = RuleSet::compile(docs, &registry, &config);
    rejected += compile_errors.len();
    let load_secs = started.elapsed().as_secs_f64();
    if set.rules().is_empty() && filtered == 0 {
        bail!(
            "no rule to hunt with ({} rule files, {rejected} rejected; see `vigil rules check`)",
            sources.len()
        );
    }
    if set.rules().is_empty() {
        eprintln!("warning: the --min-level, --tag and --rule-id filters left no rule");
    }
    if rejected > 0 {
        eprintln!(
            "warning: {rejected} rule documents were rejected; `vigil rules check` lists them"
        );
    }

    let (files, mut errors) = input_files(&a.paths);
    let total: u64 = files.iter().map(|f| f.2).sum();
    let bar = progress_bar(total, a.quiet);
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, 256)
        .min(files.len().max(1));
    // Largest files first, so one big file does not run alone at the end.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].2));
    let next = AtomicUsize::new(0);
    let ctx = Hunt {
        set: &set,
        registry: &registry,
        filters: &filters,
        bar: &bar,
    };
    let eval_started = Instant::now();
    let cpu_started = cpu_seconds();
    let found: Vec<Found> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut found = Found::default();
                    let mut ev = ctx.set.evaluator();
                    let mut verdicts = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&fi) = order.get(i) else { break };
                        let (path, kind, len) = &files[fi];
                        let name = path.display().to_string();
                        let r = match kind {
                            Kind::Evtx => {
                                hunt_evtx(&ctx, path, &name, &mut ev, &mut verdicts, &mut found)
                            }
                            Kind::Json => {
                                hunt_json(&ctx, path, &name, &mut ev, &mut verdicts, &mut found)
                            }
                        };
                        if let Err(e) = r {
                            found.errors.push((name, e));
                        }
                        ctx.bar.inc(*len);
                    }
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    bar.finish_and_clear();
    let eval_secs = eval_started.elapsed().as_secs_f64();
    let cpu_secs = cpu_seconds().zip(cpu_started).map(|(b, a)| b - a);

    let mut detections = Vec::new();
    let (mut events, mut skipped) = (0u64, 0u64);
    for f in found {
        detections.extend(f.detections);
        events += f.events;
        skipped += f.skipped;
        errors.extend(f.errors);
    }
    detections.sort_by(|x, y| {
        (x.sort_time, &x.file, x.record_id, &x.rule_title).cmp(&(
            y.sort_time,
            &y.file,
            y.record_id,
            &y.rule_title,
        ))
    });
    errors.sort();

    match a.format {
        OutputFormat::Table => {
            let rows: Vec<TableRow<'_>> = detections.iter().map(TableRow).collect();
            if !rows.is_empty() {
                output::print(&rows, OutputFormat::Table)?;
                println!();
            }
            let summary = summarize(&detections);
            if !summary.is_empty() {
                output::print(&summary, OutputFormat::Table)?;
                println!();
            }
        }
        f => output::print(&detections, f)?,
    }
    for (path, e) in errors.iter().take(SHOW_ERRORS) {
        eprintln!("error: {path}: {e}");
    }
    if errors.len() > SHOW_ERRORS {
        eprintln!("… and {} more errors", errors.len() - SHOW_ERRORS);
    }
    let cpu = cpu_secs.map_or_else(String::new, |c| format!(", {c:.2} s CPU"));
    eprintln!(
        "{} rules ({} correlations not evaluated by hunt) loaded in {load_secs:.3} s; \
         {} files, {events} events ({skipped} outside the time range) in {eval_secs:.2} s{cpu} \
         ({:.0} events/s, {threads} threads); {} detections; {} errors",
        set.rules().len(),
        set.correlations().count(),
        files.len(),
        events as f64 / eval_secs.max(1e-9),
        detections.len(),
        errors.len(),
    );
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A rule in the summary: its id and title.
type RuleKey<'a> = (Option<String>, &'a str);

/// Detections per rule, most severe level first, then by count.
fn summarize(detections: &[Detection]) -> Vec<SummaryRow> {
    let mut by: BTreeMap<RuleKey<'_>, (Option<Level>, usize, &str)> = BTreeMap::new();
    for d in detections {
        let e = by
            .entry((d.rule_id.clone(), d.rule_title.as_str()))
            .or_insert((d.level_rank, 0, d.rule_title.as_str()));
        e.1 += 1;
    }
    let mut rows: Vec<(Option<Level>, SummaryRow)> = by
        .into_iter()
        .map(|((id, _), (rank, count, title))| {
            (
                rank,
                SummaryRow {
                    level: rank.map_or_else(|| "-".into(), |l| l.to_string()),
                    count,
                    rule_title: title.to_owned(),
                    rule_id: id.unwrap_or_else(|| "-".into()),
                },
            )
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.count.cmp(&a.1.count))
            .then(a.1.rule_title.cmp(&b.1.rule_title))
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

/// Evaluates one event and records its detections.
fn evaluate(
    ctx: &Hunt<'_>,
    event: &Event,
    file: &str,
    record_id: Option<u64>,
    ev: &mut vigil_sigma::Evaluator<'_>,
    verdicts: &mut Vec<Verdict>,
    found: &mut Found,
) {
    if !ctx.filters.keeps_event(event) {
        found.skipped += 1;
        return;
    }
    found.events += 1;
    verdicts.clear();
    ev.evaluate(event, verdicts);
    for v in verdicts.iter() {
        let Some(lr) = ctx.set.rules().get(v.rule) else {
            continue;
        };
        let meta = &lr.rule.meta;
        found.detections.push(Detection {
            time: event.time.map(Timestamp::to_rfc3339),
            rule_title: meta.title.clone(),
            rule_id: meta.id.clone(),
            level: meta.level.map(|l| l.to_string()),
            tags: meta
                .tags
                .iter()
                .filter(|t| t.starts_with("attack."))
                .cloned()
                .collect(),
            computer: event.host.as_deref().map(str::to_owned),
            file: file.to_owned(),
            record_id,
            fields: matched_fields(event, &v.fields),
            sort_time: event.time.map_or(i64::MIN, Timestamp::as_micros),
            level_rank: meta.level,
        });
    }
}

fn matched_fields(event: &Event, fields: &[(Arc<str>, FieldId)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, f) in fields {
        let vals: Vec<String> = event
            .get_all(*f)
            .map(|v| v.to_text().into_owned())
            .collect();
        out.insert(name.to_string(), vals.join(" | "));
    }
    out
}

fn hunt_evtx(
    ctx: &Hunt<'_>,
    path: &Path,
    name: &str,
    ev: &mut vigil_sigma::Evaluator<'_>,
    verdicts: &mut Vec<Verdict>,
    found: &mut Found,
) -> Result<(), String> {
    let parser = evtx::EvtxParser::from_path(path).map_err(|e| format!("not an EVTX file: {e}"))?;
    let mut parser =
        parser.with_configuration(evtx::ParserSettings::new().num_threads(1).indent(false));
    let source = format!("file:{name}");
    for r in parser.records_json_value() {
        match r {
            Ok(rec) => {
                let event = event_from_evtx_json(&rec.data, ctx.registry, &source, Vec::new());
                evaluate(
                    ctx,
                    &event,
                    name,
                    Some(rec.event_record_id),
                    ev,
                    verdicts,
                    found,
                );
            }
            Err(e) => found
                .errors
                .push((name.to_owned(), format!("record skipped: {e}"))),
        }
    }
    Ok(())
}

/// A JSON document's layout-deciding top-level members, read without
/// building the document (other members are skipped unparsed).
#[derive(serde::Deserialize)]
struct Top<'a> {
    #[serde(rename = "Event", borrow, default)]
    event: Option<&'a RawValue>,
    #[serde(rename = "System", borrow, default)]
    system: Option<&'a RawValue>,
    #[serde(rename = "EventData", borrow, default)]
    event_data: Option<&'a RawValue>,
    #[serde(rename = "UserData", borrow, default)]
    user_data: Option<&'a RawValue>,
}

impl Top<'_> {
    /// [`is_evtx_json`] on the top-level members.
    fn is_evtx_json(&self) -> bool {
        self.event.is_some_and(|e| {
            serde_json::from_str::<Top<'_>>(e.get()).is_ok_and(|inner| inner.system.is_some())
        }) || (self.system.is_some() && (self.event_data.is_some() || self.user_data.is_some()))
    }
}

/// The evtx-JSON layout: `{"Event":{"System":…}}` (or the inner object).
fn is_evtx_json(v: &serde_json::Value) -> bool {
    v.get("Event").is_some_and(|e| e.get("System").is_some())
        || (v.get("System").is_some()
            && (v.get("EventData").is_some() || v.get("UserData").is_some()))
}

fn record_id_of(v: &serde_json::Value) -> Option<u64> {
    let root = v.get("Event").unwrap_or(v);
    let r = root.get("System")?.get("EventRecordID")?;
    r.as_u64()
        .or_else(|| r.get("#text").and_then(serde_json::Value::as_u64))
        .or_else(|| r.as_str().and_then(|s| s.parse().ok()))
}

/// One JSON document that is not evtx-JSON (ECS or flat), through the
/// ingest JSON parser, Linux auth messages enriched.
fn json_doc(
    ctx: &Hunt<'_>,
    (parser, opts): (
        &mut vigil_ingest::JsonRecordParser<'_>,
        &vigil_ingest::ParseOptions,
    ),
    name: &str,
    doc: &str,
    n: u64,
    (ev, verdicts): (&mut vigil_sigma::Evaluator<'_>, &mut Vec<Verdict>),
    found: &mut Found,
) -> Result<(), String> {
    let event = parser.parse(doc.as_bytes(), opts)?;
    let event = if event.get(FieldId::LOG_SYSLOG_APPNAME).is_some() {
        enrich_syslog_event(&event, ctx.registry)
    } else {
        event
    };
    let rid = ctx
        .registry
        .get("winlog.record_id")
        .and_then(|f| event.get(f))
        .and_then(|v| v.to_text().parse().ok())
        .or(Some(n));
    evaluate(ctx, &event, name, rid, ev, verdicts, found);
    Ok(())
}

fn hunt_json(
    ctx: &Hunt<'_>,
    path: &Path,
    name: &str,
    ev: &mut vigil_sigma::Evaluator<'_>,
    verdicts: &mut Vec<Verdict>,
    found: &mut Found,
) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let source = format!("file:{name}");
    let opts = vigil_ingest::ParseOptions::new(
        TenantId::DEFAULT,
        source.clone(),
        Timestamp::from_micros(0),
    );
    let mut n = 0u64;
    let mut parser = vigil_ingest::JsonRecordParser::new(ctx.registry);
    // One document; `Err` when it cannot be read (the caller reports it).
    let mut one = |doc: &str, n: u64, found: &mut Found| -> Result<(), String> {
        // The layout from the top-level keys alone: ECS and flat documents
        // go straight to the JSON parser (one parse, no document tree);
        // only evtx-JSON is built as a tree for the flattener.
        // Both evtx-JSON layouts have a "System" member: a document without
        // that text is flat or ECS and skips the layout sniff (a second
        // parse of every document).
        if !doc.contains("\"System\"")
            || serde_json::from_str::<Top<'_>>(doc).is_ok_and(|top| !top.is_evtx_json())
        {
            return json_doc(
                ctx,
                (&mut parser, &opts),
                name,
                doc,
                n,
                (ev, verdicts),
                found,
            );
        }
        let v: serde_json::Value = serde_json::from_str(doc).map_err(|e| e.to_string())?;
        if is_evtx_json(&v) {
            let event = event_from_evtx_json(&v, ctx.registry, &source, Vec::new());
            let rid = record_id_of(&v).or(Some(n));
            evaluate(ctx, &event, name, rid, ev, verdicts, found);
            Ok(())
        } else if v.is_object() {
            json_doc(
                ctx,
                (&mut parser, &opts),
                name,
                doc,
                n,
                (ev, verdicts),
                found,
            )
        } else {
            Err("not a JSON object".into())
        }
    };
    let report = |found: &mut Found, n: u64, r: Result<(), String>| {
        if let Err(e) = r {
            found
                .errors
                .push((name.to_owned(), format!("document {n}: {e}")));
        }
    };
    // The file is read JSON_CHUNK bytes at a time (memory stays bounded
    // whatever its size); what a chunk ends inside of — a line, a document,
    // a UTF-8 character — is carried over to the next.
    let mut buf: Vec<u8> = Vec::new();
    let mut at_eof = false;
    // Line number of buf[0]; after a syntax error, the rest of its line is
    // skipped, also when that line goes on in the next chunk.
    let mut line_base = 1usize;
    let mut skip_line = false;
    loop {
        if !at_eof {
            let start = buf.len();
            buf.resize(start + JSON_CHUNK, 0);
            let mut got = 0;
            while got < JSON_CHUNK {
                match std::io::Read::read(&mut file, &mut buf[start + got..]) {
                    Ok(0) => {
                        at_eof = true;
                        break;
                    }
                    Ok(k) => got += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("cannot read: {e}")),
                }
            }
            buf.truncate(start + got);
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t,
            // A chunk that ends inside a character.
            Err(e) if e.error_len().is_none() && !at_eof => {
                std::str::from_utf8(&buf[..e.valid_up_to()])
                    .map_err(|e| format!("not UTF-8: {e}"))?
            }
            Err(e) => {
                return Err(format!(
                    "not UTF-8 (line {}): {e}",
                    line_base + count_lines(&buf[..e.valid_up_to()])
                ));
            }
        };
        let last = at_eof && text.len() == buf.len();
        let mut pos = 0;
        if skip_line {
            match text.find('\n') {
                Some(i) => {
                    pos = i + 1;
                    skip_line = false;
                }
                None => pos = text.len(),
            }
        }
        // Documents back to back (NDJSON or concatenated); after a syntax
        // error the rest of that line is skipped and reading resumes on the
        // next one. `done` is where this chunk's complete documents end.
        let done = 'outer: loop {
            if pos >= text.len() {
                break pos;
            }
            // NDJSON first: a line holding one object is parsed once, as it
            // is. Anything else — a line that is not one whole document, a
            // document over several lines, a top-level array — goes through
            // the document splitter below from this line on.
            let end = match text[pos..].find('\n') {
                Some(i) => pos + i,
                None if last => text.len(),
                // A line the next chunk finishes.
                None => break pos,
            };
            let line = text[pos..end].trim();
            if line.is_empty() {
                pos = end + 1;
                continue;
            }
            if line.starts_with('{') && line.ends_with('}') && one(line, n + 1, found).is_ok() {
                n += 1;
                pos = end + 1;
                continue;
            }
            let rest = &text[pos..];
            let mut it = serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>();
            loop {
                match it.next() {
                    None => break 'outer text.len(),
                    Some(Ok(raw)) => {
                        // A top-level array holds one document per element.
                        if raw.get().starts_with('[') {
                            match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                                Ok(items) => {
                                    for item in items {
                                        n += 1;
                                        let r = one(item.get(), n, found);
                                        report(found, n, r);
                                    }
                                }
                                Err(e) => {
                                    n += 1;
                                    found
                                        .errors
                                        .push((name.to_owned(), format!("document {n}: {e}")));
                                }
                            }
                        } else {
                            n += 1;
                            let r = one(raw.get(), n, found);
                            report(found, n, r);
                        }
                    }
                    // A document the next chunk finishes.
                    Some(Err(e)) if e.is_eof() && !last => break 'outer pos + it.byte_offset(),
                    Some(Err(e)) => {
                        n += 1;
                        let line = line_base - 1 + line_of(text, pos) + e.line().saturating_sub(1);
                        found
                            .errors
                            .push((name.to_owned(), format!("document {n} (line {line}): {e}")));
                        if e.is_eof() {
                            break 'outer text.len();
                        }
                        // Skip to the line after the error.
                        let mut skip = 0;
                        for _ in 0..e.line().max(1) {
                            match rest[skip..].find('\n') {
                                Some(i) => skip += i + 1,
                                None => {
                                    skip_line = !last;
                                    break 'outer text.len();
                                }
                            }
                        }
                        pos += skip;
                        continue 'outer;
                    }
                }
            }
        };
        let done = done.min(buf.len());
        line_base += count_lines(&buf[..done]);
        buf.drain(..done);
        // At the end of the file every byte was read as a whole chunk.
        if at_eof {
            break;
        }
        if buf.len() > MAX_JSON_DOCUMENT {
            return Err(format!(
                "line {line_base}: a document larger than {} MiB",
                MAX_JSON_DOCUMENT >> 20
            ));
        }
    }
    Ok(())
}

/// Newlines in `b`.
fn count_lines(b: &[u8]) -> usize {
    b.iter().filter(|c| **c == b'\n').count()
}

/// The 1-based line number of byte offset `pos`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(total);
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// CPU time of this process (user + system), from /proc on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) end with ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux platform Vigil supports.
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_layouts() {
        assert!(parse_time("--from", "2026-11-20").is_ok());
        assert!(parse_time("--from", "2026-11-20T10:00:00+01:00").is_ok());
        assert!(parse_time("--from", "yesterday").is_err());
        let v: serde_json::Value =
            serde_json::from_str(r#"{"Event":{"System":{"EventRecordID":7}}}"#).unwrap_or_default();
        assert!(is_evtx_json(&v));
        assert_eq!(record_id_of(&v), Some(7));
        let v: serde_json::Value =
            serde_json::from_str(r#"{"process":{"command_line":"x"}}"#).unwrap_or_default();
        assert!(!is_evtx_json(&v));
        assert_eq!(line_of("a\nb\nc", 4), 3);
        // The shallow layout check agrees with the tree one.
        for doc in [
            r#"{"Event":{"System":{"EventRecordID":7}}}"#,
            r#"{"System":{"EventID":1},"EventData":{"Image":"x"}}"#,
            r#"{"System":{"EventID":1}}"#,
            r#"{"Event":{"EventData":{}}}"#,
            r#"{"Event":"x","process":{"command_line":"x"}}"#,
            r#"{"process":{"command_line":"x"},"EventID":4688}"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
            let top: Option<Top<'_>> = serde_json::from_str(doc).ok();
            assert_eq!(
                top.map(|t| t.is_evtx_json()),
                Some(is_evtx_json(&v)),
                "{doc}"
            );
        }
    }
}

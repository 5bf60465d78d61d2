//! `vigil ingest FILE|-`: offline ingest through the same pipeline as the
//! server (parse → commit → detect), with a progress bar and a summary.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::task::JoinHandle;
use vigil_ingest::{Batch, InputFormat, LineReader, ParseOptions, RecordError};
use vigil_model::TenantId;
use vigil_pipeline::{Metrics, Pipeline};

use crate::cli::{IngestArgs, IngestFormat, OutputFormat};
use crate::config::Config;
use crate::output::{self, Row};
use crate::{context, lock};

/// What an ingest run did.
#[derive(Debug, Default, Serialize)]
struct Summary {
    source: String,
    lines: u64,
    accepted: u64,
    rejected: u64,
    alerts_raised: u64,
    seconds: f64,
    events_per_second: f64,
}

impl Row for Summary {
    fn headers() -> &'static [&'static str] {
        &[
            "source", "lines", "accepted", "rejected", "alerts", "seconds", "events/s",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.source.clone(),
            self.lines.to_string(),
            self.accepted.to_string(),
            self.rejected.to_string(),
            self.alerts_raised.to_string(),
            format!("{:.2}", self.seconds),
            format!("{:.0}", self.events_per_second),
        ]
    }
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

fn open_input(
    args: &IngestArgs,
    counter: Arc<AtomicU64>,
) -> Result<(Box<dyn BufRead + Send>, Option<u64>, String)> {
    if args.file.as_os_str() == "-" {
        let r = Counting {
            inner: std::io::stdin(),
            n: counter,
        };
        return Ok((
            Box::new(BufReader::with_capacity(1 << 20, r)),
            None,
            "stdin".into(),
        ));
    }
    let path = &args.file;
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = f.metadata().ok().map(|m| m.len());
    let mut magic = [0u8; 2];
    let gz = f
        .read(&mut magic)
        .map(|n| n == 2 && vigil_ingest::is_gzip(&magic))
        .unwrap_or(false);
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let counted = Counting {
        inner: f,
        n: counter,
    };
    let reader: Box<dyn BufRead + Send> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(counted),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, counted))
    };
    Ok((reader, len, format!("file:{}", path.display())))
}

pub async fn run(cfg: Config, args: IngestArgs) -> Result<ExitCode> {
    let _lock = if cfg.is_sqlite() {
        Some(lock::acquire(&cfg.data_dir, "ingest")?)
    } else {
        None
    };
    let store = context::open_store(&cfg).await?;
    let (registry, clock) = context::runtime();
    let sigma = crate::sigma::SigmaRuntime {
        state: context::sigma_state(&store).await?,
        metrics: None,
        errors: None,
    };
    let detectors = context::detectors(&cfg, &registry, &sigma)?;
    let metrics = Arc::new(Metrics::default());
    let (pipeline, tasks) = Pipeline::start(
        store.clone(),
        registry.clone(),
        detectors,
        clock.clone(),
        cfg.pipeline_config(),
        metrics.clone(),
    )
    .await
    .context("cannot start the pipeline")?;

    let read_bytes = Arc::new(AtomicU64::new(0));
    let (input, total, default_source) = open_input(&args, read_bytes.clone())?;
    let source = args.source.clone().unwrap_or(default_source);
    let format = match args.format {
        IngestFormat::Json => InputFormat::Json,
        IngestFormat::Syslog => InputFormat::Syslog,
        IngestFormat::Cef => InputFormat::Cef,
        IngestFormat::Leef => InputFormat::Leef,
        IngestFormat::Auto => InputFormat::Auto,
    };
    let bar = progress_bar(total, args.quiet);
    let started = Instant::now();
    let max_event = cfg.server.max_event_bytes;
    let batch_lines = args.batch.max(1);

    // Reading is blocking I/O: it runs on its own thread and hands chunks over
    // a bounded channel (backpressure when parsing or the store is slower).
    let (chunk_tx, mut chunk_rx) = tokio::sync::mpsc::channel(4);
    let reader = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut lines = LineReader::new(input, max_event);
        while let Some(chunk) = lines
            .next_chunk(batch_lines, 16 << 20)
            .context("read error")?
        {
            if chunk_tx.blocking_send(chunk).is_err() {
                break;
            }
        }
        Ok(())
    });

    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let mut parsing: VecDeque<JoinHandle<Batch>> = VecDeque::new();
    let mut committing: VecDeque<JoinHandle<vigil_pipeline::Result<vigil_pipeline::Committed>>> =
        VecDeque::new();
    let mut errors: Vec<RecordError> = Vec::new();
    let mut s = Summary {
        source: source.clone(),
        ..Summary::default()
    };
    let mut reading = true;
    while reading || !parsing.is_empty() {
        if reading && parsing.len() < parallel {
            match chunk_rx.recv().await {
                Some(chunk) => {
                    s.rejected += chunk.oversize.len() as u64;
                    errors.extend(chunk.oversize.iter().cloned());
                    let reg = registry.clone();
                    let opts = ParseOptions {
                        tenant: TenantId::DEFAULT,
                        source: source.clone(),
                        received_at: clock.now(),
                        max_event_bytes: max_event,
                    };
                    parsing.push_back(tokio::task::spawn_blocking(move || {
                        vigil_ingest::parse_lines(
                            &chunk.data,
                            format,
                            &reg,
                            &opts,
                            chunk.first_line,
                        )
                    }));
                    continue;
                }
                None => reading = false,
            }
        }
        let Some(h) = parsing.pop_front() else {
            continue;
        };
        let batch = h.await.context("parser task failed")?;
        s.lines += batch.lines;
        s.rejected += batch.errors.len() as u64;
        metrics.events_rejected.inc_by(batch.errors.len() as u64);
        errors.extend(batch.errors);
        let p = pipeline.clone();
        committing.push_back(tokio::spawn(async move { p.submit(batch.events).await }));
        while committing.len() > 4 {
            if let Some(c) = committing.pop_front() {
                s.accepted += c.await.context("submit task failed")??.count as u64;
            }
        }
        bar.set_position(read_bytes.load(Ordering::Relaxed));
        bar.set_message(format!("{} events, {} rejected", s.accepted, s.rejected));
    }
    for c in committing {
        s.accepted += c.await.context("submit task failed")??.count as u64;
    }
    reader.await.context("reader task failed")??;
    bar.set_message("evaluating detectors");
    tasks.shutdown().await.context("pipeline shutdown")?;
    bar.finish_and_clear();

    s.alerts_raised = metrics.alerts_raised.get();
    s.seconds = started.elapsed().as_secs_f64();
    s.events_per_second = if s.seconds > 0.0 {
        s.accepted as f64 / s.seconds
    } else {
        0.0
    };
    errors.sort_by_key(|e| e.line);
    for e in errors.iter().take(args.show_errors) {
        eprintln!("rejected: {source}: {e}");
    }
    if errors.len() > args.show_errors {
        eprintln!("rejected: … and {} more", errors.len() - args.show_errors);
    }
    output::print(std::slice::from_ref(&s), args.output)?;
    store.close().await;
    let code = if s.accepted == 0 && s.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    if args.output == OutputFormat::Table && s.rejected > 0 {
        eprintln!(
            "{} record(s) rejected; every other record was ingested.",
            s.rejected
        );
    }
    Ok(code)
}

fn progress_bar(total: Option<u64>, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    match total {
        Some(len) => {
            let b = ProgressBar::new(len);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        }
        None => {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bytes} read ({bytes_per_sec}) {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        }
    }
}

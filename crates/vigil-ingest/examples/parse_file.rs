//! Parses a file with Vigil's ingest parsers and prints one JSON line:
//! `{"file":..,"format":..,"bytes":..,"lines":..,"events":..,"errors":..,"seconds":..,"events_per_second":..,"mb_per_second":..}`.
//!
//! `cargo run --release -p vigil-ingest --example parse_file -- FILE [json|syslog|auto]`
//!
//! Reads through `LineReader::next_chunk` exactly like the CLI (chunks of
//! 4,096 lines / 4 MiB), single-threaded, so the figure is per core. Reading
//! the file is included in the time; it is in the page cache after the first
//! run.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;
use std::time::Instant;

use vigil_ingest::{DEFAULT_MAX_EVENT_BYTES, InputFormat, LineReader, ParseOptions, parse_lines};
use vigil_model::{FieldRegistry, TenantId, Timestamp};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: parse_file FILE [json|syslog|auto]");
        return ExitCode::from(2);
    };
    let format: InputFormat = match args.get(1).map_or(Ok(InputFormat::Json), |f| f.parse()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot open {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let registry = FieldRegistry::new();
    let opts = ParseOptions::new(
        TenantId::DEFAULT,
        format!("file:{path}"),
        Timestamp::from_secs(1_764_000_000),
    );
    let started = Instant::now();
    let mut reader = LineReader::new(
        BufReader::with_capacity(1 << 20, file),
        DEFAULT_MAX_EVENT_BYTES,
    );
    let (mut bytes, mut lines, mut events, mut errors) = (0u64, 0u64, 0u64, 0u64);
    loop {
        let chunk = match reader.next_chunk(4096, 4 << 20) {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                eprintln!("read error: {e}");
                return ExitCode::from(1);
            }
        };
        bytes += chunk.data.len() as u64;
        errors += chunk.oversize.len() as u64;
        let batch = parse_lines(&chunk.data, format, &registry, &opts, chunk.first_line);
        lines += batch.lines;
        events += batch.events.len() as u64;
        errors += batch.errors.len() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
    let out = serde_json::json!({
        "file": path,
        "format": format.to_string(),
        "bytes": bytes,
        "lines": lines,
        "events": events,
        "errors": errors,
        "seconds": seconds,
        "events_per_second": rate(events as f64).round(),
        "mb_per_second": (rate(bytes as f64) / 1e6 * 10.0).round() / 10.0,
    });
    println!("{out}");
    ExitCode::SUCCESS
}

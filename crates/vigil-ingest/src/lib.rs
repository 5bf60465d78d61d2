//! Parsers that turn raw records into [`vigil_model::Event`]s with ECS core
//! fields: JSON/NDJSON (flattened to dotted paths), syslog (RFC 3164 and RFC
//! 5424), ArcSight CEF and QRadar LEEF (raw or inside syslog), a
//! bounded-memory line reader and bounded gunzip.
//!
//! No I/O of its own: callers hand in bytes or a [`std::io::BufRead`], and
//! the receive time comes in [`ParseOptions`]. Bad records never stop a
//! batch; they come back as [`RecordError`]s with their line numbers.
//!
//! ```
//! use vigil_ingest::{InputFormat, ParseOptions, parse_lines};
//! use vigil_model::{FieldId, FieldRegistry, TenantId, Timestamp};
//!
//! let reg = FieldRegistry::new();
//! let opts = ParseOptions::new(TenantId::DEFAULT, "doc", Timestamp::from_secs(1_700_000_000));
//! let input = b"{\"Image\":\"C:\\\\w\\\\cmd.exe\",\"CommandLine\":\"cmd /c ver\"}\nnot json\n";
//! let batch = parse_lines(input, InputFormat::Json, &reg, &opts, 1);
//! assert_eq!(batch.events[0].get_str(FieldId::PROCESS_NAME), Some("cmd.exe"));
//! assert_eq!(batch.errors[0].line, 2);
//! ```
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cef;
mod context;
mod ecs;
mod error;
mod gzip;
mod hec;
mod json;
mod kv;
mod leef;
mod lines;
mod options;
mod syslog;
#[cfg(test)]
mod test_util;
mod time;

pub use error::{Error, Result};
pub use gzip::{gunzip_bounded, is_gzip};
pub use hec::{HecError, HecErrorKind, parse_hec_body, parse_hec_event, split_hec_events};
pub use json::{MAX_DEPTH, MAX_FIELDS};
pub use lines::{Batch, Chunk, Line, LineReader, RecordError, parse_lines};
pub use options::{DEFAULT_MAX_EVENT_BYTES, InputFormat, ParseOptions};
pub use syslog::UNPARSED_TAG;

use vigil_model::{Event, EventFormat, FieldRegistry};

use crate::context::Ctx;

/// Parses one JSON record (the top level must be an object) and normalises
/// it. For many records use [`parse_lines`], which shares its caches.
///
/// # Errors
///
/// The reason, for invalid or oversized JSON or a non-object top level.
pub fn parse_json_record(
    line: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> std::result::Result<Event, String> {
    lines::parse_record(line, InputFormat::Json, &mut Ctx::new(registry), opts)
}

/// Parses JSON records one at a time, sharing its caches (field ids, the
/// ECS table) between them: for callers that get records one by one (a
/// document stream) rather than as lines for [`parse_lines`].
#[derive(Debug)]
pub struct JsonRecordParser<'r> {
    ctx: Ctx<'r>,
}

impl<'r> JsonRecordParser<'r> {
    /// A parser interning field names in `registry`.
    pub fn new(registry: &'r FieldRegistry) -> Self {
        Self {
            ctx: Ctx::new(registry),
        }
    }

    /// [`parse_json_record`], with the caches of earlier calls.
    ///
    /// # Errors
    ///
    /// The reason, for invalid or oversized JSON or a non-object top level.
    pub fn parse(
        &mut self,
        line: &[u8],
        opts: &ParseOptions,
    ) -> std::result::Result<Event, String> {
        lines::parse_record(line, InputFormat::Json, &mut self.ctx, opts)
    }
}

/// Parses one syslog line (RFC 5424 or RFC 3164; other text becomes a
/// message-only event tagged [`UNPARSED_TAG`]).
///
/// # Errors
///
/// The reason, for empty, non-UTF-8 or oversized records.
pub fn parse_syslog_record(
    line: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> std::result::Result<Event, String> {
    lines::parse_record(line, InputFormat::Syslog, &mut Ctx::new(registry), opts)
}

/// Parses one raw CEF line (`CEF:0|…`, no syslog header; a CEF payload
/// inside syslog goes through [`parse_syslog_record`]).
///
/// # Errors
///
/// The reason, for a malformed header or extension, non-UTF-8 or oversized
/// records.
pub fn parse_cef_record(
    line: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> std::result::Result<Event, String> {
    lines::parse_record(line, InputFormat::Cef, &mut Ctx::new(registry), opts)
}

/// Parses one raw LEEF 1.0 or 2.0 line (`LEEF:2.0|…`, no syslog header; a
/// LEEF payload inside syslog goes through [`parse_syslog_record`]).
///
/// # Errors
///
/// The reason, for a malformed header, delimiter or attribute, non-UTF-8
/// or oversized records.
pub fn parse_leef_record(
    line: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> std::result::Result<Event, String> {
    lines::parse_record(line, InputFormat::Leef, &mut Ctx::new(registry), opts)
}

/// Rebuilds a stored event from its raw bytes with the parser that made it
/// (crash recovery). With the stored receive time in `opts` the result has
/// the same fields as the original; the caller restores id and sequence.
///
/// # Errors
///
/// The reason the bytes no longer parse, or an unknown format.
pub fn reparse(
    format: EventFormat,
    raw: &[u8],
    registry: &FieldRegistry,
    opts: &ParseOptions,
) -> std::result::Result<Event, String> {
    match format {
        EventFormat::Json => parse_json_record(raw, registry, opts),
        EventFormat::Syslog => parse_syslog_record(raw, registry, opts),
        EventFormat::Cef => parse_cef_record(raw, registry, opts),
        EventFormat::Leef => parse_leef_record(raw, registry, opts),
        EventFormat::Hec => parse_hec_event(raw, registry, opts),
        other => Err(format!("no parser for event format {other}")),
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::{FieldId, TenantId, Timestamp};

    use super::*;

    fn opts() -> ParseOptions {
        ParseOptions::new(
            TenantId::DEFAULT,
            "test",
            Timestamp::from_secs(1_704_153_600),
        )
    }

    /// The reusing parser gives what the one-shot one gives, record after
    /// record (its caches carry nothing from one record into the next).
    #[test]
    fn record_parser_matches_one_shot_parses() {
        let reg = FieldRegistry::new();
        let mut p = JsonRecordParser::new(&reg);
        for rec in [
            &b"{\"process\":{\"command_line\":\"a b\"},\"host\":{\"name\":\"h1\"}}"[..],
            b"{\"EventID\":4624,\"User\":\"D\\\\bob\"}",
            b"{\"process\":{\"pid\":7}}",
            b"[1]",
        ] {
            let a = p.parse(rec, &opts());
            let b = parse_json_record(rec, &reg, &opts());
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!(a.fields_json(&reg), b.fields_json(&reg)),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn reparse_gives_the_same_fields() {
        let reg = FieldRegistry::new();
        let input = b"{\"User\":\"D\\\\bob\",\"EventID\":4624}\n<13>Dec 31 10:00:00 h app[1]: x\n";
        let batch = parse_lines(input, InputFormat::Auto, &reg, &opts(), 1);
        assert_eq!(batch.events.len(), 2);
        for e in &batch.events {
            let again = reparse(e.format, &e.raw, &reg, &opts()).unwrap();
            assert_eq!(again.fields(), e.fields());
            assert_eq!(again.time, e.time);
            assert_eq!(again.host, e.host);
        }
        assert_eq!(batch.events[0].get_str(FieldId::USER_NAME), Some("bob"));
    }

    #[test]
    fn single_record_entry_points() {
        let reg = FieldRegistry::new();
        assert!(parse_json_record(b"[]", &reg, &opts()).is_err());
        let small = opts().with_max_event_bytes(3);
        assert!(
            parse_syslog_record(b"hello", &reg, &small)
                .unwrap_err()
                .contains("exceeds the maximum")
        );
        let e = parse_syslog_record(b"hello", &reg, &opts()).unwrap();
        assert_eq!(e.get_str(FieldId::MESSAGE), Some("hello"));
    }
}

//! Line-oriented input: [`parse_lines`] over a buffer of complete lines,
//! and [`LineReader`], a bounded-memory splitter that cuts a stream of any
//! size into [`Chunk`]s for it while keeping absolute line numbers.

use std::fmt;
use std::io::{self, BufRead};

use memchr::memchr;
use vigil_model::{Event, EventFormat, FieldRegistry};

use crate::context::Ctx;
use crate::{InputFormat, ParseOptions, json, kv, syslog};

/// A record that could not be turned into an event.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// 1-based line number in the input.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The outcome of parsing a buffer: good events and bad records side by side.
#[derive(Debug, Default)]
pub struct Batch {
    /// Parsed events, in input order.
    pub events: Vec<Event>,
    /// Rejected records, in input order.
    pub errors: Vec<RecordError>,
    /// Lines seen, blank ones included.
    pub lines: u64,
}

/// The reason text for a record over the size limit.
pub(crate) fn oversize_reason(len: u64, max: usize) -> String {
    format!("record of {len} bytes exceeds the maximum event size of {max} bytes (max_event_bytes)")
}

/// Which parser a record goes to.
fn pick(format: InputFormat, line: &[u8]) -> InputFormat {
    match format {
        InputFormat::Auto => {
            let body = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            let start = body.iter().position(|b| !b.is_ascii_whitespace());
            let body = &body[start.unwrap_or(body.len())..];
            if body.starts_with(b"{") {
                InputFormat::Json
            } else if body.starts_with(b"CEF:") {
                InputFormat::Cef
            } else if body.starts_with(b"LEEF:") {
                InputFormat::Leef
            } else {
                InputFormat::Syslog
            }
        }
        f => f,
    }
}

/// Parses one record with a shared context, checking its size first.
pub(crate) fn parse_record(
    line: &[u8],
    format: InputFormat,
    ctx: &mut Ctx<'_>,
    opts: &ParseOptions,
) -> Result<Event, String> {
    if line.len() > opts.max_event_bytes {
        return Err(oversize_reason(line.len() as u64, opts.max_event_bytes));
    }
    match pick(format, line) {
        InputFormat::Json => json::parse(line, ctx, opts),
        InputFormat::Cef => kv::parse_raw(line, EventFormat::Cef, ctx, opts),
        InputFormat::Leef => kv::parse_raw(line, EventFormat::Leef, ctx, opts),
        _ => syslog::parse(line, ctx, opts),
    }
}

/// Parses NDJSON, syslog, CEF or LEEF lines. `first_line` is the number of the first
/// line in `input` (1 for a whole body), so errors carry absolute numbers.
///
/// Lines end with `\n` or `\r\n`; the last line needs no terminator. Blank
/// lines are skipped silently (but counted in [`Batch::lines`]). A bad or
/// oversized record becomes a [`RecordError`] and parsing goes on. Never
/// panics, whatever the bytes.
pub fn parse_lines(
    input: &[u8],
    format: InputFormat,
    registry: &FieldRegistry,
    opts: &ParseOptions,
    first_line: u64,
) -> Batch {
    let mut batch = Batch::default();
    let mut ctx = Ctx::new(registry);
    let mut rest = input;
    let mut line_no = first_line;
    while !rest.is_empty() {
        let (line, next) = match memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        batch.lines += 1;
        let this = line_no;
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_record(line, format, &mut ctx, opts) {
            Ok(e) => batch.events.push(e),
            Err(reason) => batch.errors.push(RecordError { line: this, reason }),
        }
    }
    batch
}

/// A run of complete lines read by [`LineReader::next_chunk`].
#[derive(Debug, Default)]
pub struct Chunk {
    /// Number of the first line in `data` (pass it to [`parse_lines`]).
    pub first_line: u64,
    /// Complete lines, each ending in `\n`. An oversized line is replaced by
    /// an empty line so the numbering of the lines after it stays right.
    pub data: Vec<u8>,
    /// Lines in `data`.
    pub lines: u64,
    /// The oversized lines of this chunk (they are not in `data`).
    pub oversize: Vec<RecordError>,
}

/// One line from [`LineReader::next_line`].
#[derive(Debug)]
pub enum Line<'a> {
    /// A line, without its terminator (`\n` or `\r\n`).
    Ok(&'a [u8]),
    /// A line over the limit; it was skipped without being buffered.
    Oversize(RecordError),
}

/// Splits a byte stream into lines with bounded memory: at most the size
/// limit (plus one byte) of any line is ever buffered; longer lines are
/// skipped to their newline and reported as [`RecordError`]s.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    max_line: usize,
    next_line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// A reader whose lines may hold up to `max_line_bytes` bytes (use
    /// [`ParseOptions::max_event_bytes`]); numbering starts at 1.
    pub fn new(inner: R, max_line_bytes: usize) -> Self {
        Self {
            inner,
            max_line: max_line_bytes,
            next_line: 1,
            buf: Vec::new(),
        }
    }

    /// Starts numbering at `n` instead of 1 (resuming a stream).
    pub fn with_first_line(mut self, n: u64) -> Self {
        self.next_line = n;
        self
    }

    /// The number the next line will get.
    pub fn line_number(&self) -> u64 {
        self.next_line
    }

    /// The next line with its number, or `None` at the end of the input.
    /// The line borrows a buffer reused between calls.
    ///
    /// # Errors
    ///
    /// I/O errors of the underlying reader.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut total: u64 = 0;
        let mut oversize = false;
        let mut seen = false;
        let mut last = 0u8;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !seen {
                    return Ok(None);
                }
                break;
            }
            seen = true;
            let (take, done) = match memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            total += take as u64;
            if let Some(b) = avail[..take].last() {
                last = *b;
            }
            if !oversize {
                if self.buf.len() + take > self.max_line.saturating_add(1) {
                    oversize = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&avail[..take]);
                }
            }
            self.inner.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        let no = self.next_line;
        self.next_line += 1;
        if last == b'\r' {
            // The CR of a CRLF terminator is not part of the record.
            total -= 1;
            if !oversize {
                self.buf.pop();
            }
        }
        if oversize || self.buf.len() > self.max_line {
            let reason = oversize_reason(total, self.max_line);
            return Ok(Some((no, Line::Oversize(RecordError { line: no, reason }))));
        }
        Ok(Some((no, Line::Ok(&self.buf))))
    }

    /// Reads up to `max_lines` lines or about `max_bytes` bytes (whichever
    /// comes first; at least one line) into a [`Chunk`] for [`parse_lines`].
    /// `None` at the end of the input.
    ///
    /// # Errors
    ///
    /// I/O errors of the underlying reader.
    pub fn next_chunk(&mut self, max_lines: usize, max_bytes: usize) -> io::Result<Option<Chunk>> {
        let mut chunk = Chunk {
            first_line: self.next_line,
            ..Chunk::default()
        };
        while chunk.lines < max_lines.max(1) as u64
            && (chunk.lines == 0 || chunk.data.len() < max_bytes)
        {
            match self.next_line()? {
                None => break,
                Some((_, Line::Ok(l))) => {
                    chunk.data.extend_from_slice(l);
                    chunk.data.push(b'\n');
                }
                Some((_, Line::Oversize(e))) => {
                    chunk.oversize.push(e);
                    chunk.data.push(b'\n');
                }
            }
            chunk.lines += 1;
        }
        Ok((chunk.lines > 0).then_some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use vigil_model::{FieldId, TenantId, Timestamp};

    use super::*;

    fn opts(max: usize) -> ParseOptions {
        ParseOptions::new(
            TenantId::DEFAULT,
            "test",
            Timestamp::from_secs(1_700_000_000),
        )
        .with_max_event_bytes(max)
    }

    #[test]
    fn mixed_lines_with_errors_and_crlf() {
        let input = b"{\"a\":1}\r\n\r\n   \n{bad\n<13>Jun 14 15:16:01 h app: hi\r\n{\"message\":\"0123456789abcdef\"}\n[1]\n{\"b\":2}";
        let reg = FieldRegistry::new();
        let b = parse_lines(input, InputFormat::Auto, &reg, &opts(29), 10);
        assert_eq!(b.lines, 8);
        assert_eq!(b.events.len(), 4, "{:?}", b.errors);
        let lines: Vec<u64> = b.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [13, 15]);
        assert!(
            b.errors[0].reason.starts_with("invalid JSON"),
            "{}",
            b.errors[0]
        );
        assert_eq!(
            b.errors[1].to_string(),
            "line 15: record of 30 bytes exceeds the maximum event size of 29 bytes (max_event_bytes)"
        );
        assert_eq!(&*b.events[0].raw, b"{\"a\":1}");
        assert_eq!(b.events[1].get_str(FieldId::MESSAGE), Some("hi"));
        // `[1]` is not `{`: auto sends it to syslog, where it is a message.
        assert_eq!(b.events[2].get_str(FieldId::MESSAGE), Some("[1]"));
        let json = parse_lines(b"[1]\n", InputFormat::Json, &reg, &opts(24), 1);
        assert_eq!(json.errors.len(), 1);
    }

    #[test]
    fn empty_input() {
        let reg = FieldRegistry::new();
        let b = parse_lines(b"", InputFormat::Json, &reg, &opts(10), 1);
        assert_eq!((b.lines, b.events.len(), b.errors.len()), (0, 0, 0));
        let b = parse_lines(b"\n\n", InputFormat::Json, &reg, &opts(10), 1);
        assert_eq!((b.lines, b.events.len(), b.errors.len()), (2, 0, 0));
    }

    #[test]
    fn reader_skips_oversize_without_buffering() {
        let long = "x".repeat(100);
        let text = format!("ab\r\n{long}\r\ncd\n\nlast");
        // A tiny BufReader capacity makes every line span several fills.
        let mut r = LineReader::new(BufReader::with_capacity(3, text.as_bytes()), 10);
        let mut seen = Vec::new();
        while let Some((no, line)) = r.next_line().unwrap() {
            seen.push(match line {
                Line::Ok(l) => format!("{no}:{}", String::from_utf8_lossy(l)),
                Line::Oversize(e) => e.to_string(),
            });
            assert!(
                r.buf.capacity() <= 64,
                "buffer grew to {}",
                r.buf.capacity()
            );
        }
        assert_eq!(
            seen,
            [
                "1:ab",
                "line 2: record of 100 bytes exceeds the maximum event size of 10 bytes (max_event_bytes)",
                "3:cd",
                "4:",
                "5:last"
            ]
        );
    }

    #[test]
    fn reader_limit_is_inclusive_and_ignores_cr() {
        let mut r = LineReader::new(&b"0123456789\r\n0123456789a\n"[..], 10);
        assert!(matches!(
            r.next_line().unwrap(),
            Some((1, Line::Ok(b"0123456789")))
        ));
        assert!(matches!(
            r.next_line().unwrap(),
            Some((2, Line::Oversize(_)))
        ));
        assert!(r.next_line().unwrap().is_none());
    }

    #[test]
    fn chunks_keep_absolute_line_numbers() {
        let mut text = String::new();
        for i in 1..=25 {
            if i == 7 {
                text.push_str(&format!("{{\"pad\":\"{}\"}}\n", "y".repeat(50)));
            } else if i == 20 {
                text.push_str("{broken\n");
            } else {
                text.push_str(&format!("{{\"n\":{i}}}\n"));
            }
        }
        let reg = FieldRegistry::new();
        let o = opts(40);
        let mut r = LineReader::new(text.as_bytes(), o.max_event_bytes);
        let (mut events, mut errors, mut lines) = (0, Vec::new(), 0);
        let mut firsts = Vec::new();
        while let Some(c) = r.next_chunk(4, 1 << 20).unwrap() {
            firsts.push(c.first_line);
            errors.extend(c.oversize.iter().map(|e| e.line));
            let b = parse_lines(&c.data, InputFormat::Json, &reg, &o, c.first_line);
            assert_eq!(b.lines, c.lines);
            lines += b.lines;
            events += b.events.len();
            errors.extend(b.errors.iter().map(|e| e.line));
        }
        assert_eq!(firsts, [1, 5, 9, 13, 17, 21, 25]);
        assert_eq!((events, lines), (23, 25));
        errors.sort();
        assert_eq!(errors, [7, 20]);
        // Byte bound: one line per chunk once it is passed.
        let mut r = LineReader::new(&b"{}\n{}\n{}\n"[..], 10);
        assert_eq!(r.next_chunk(100, 1).unwrap().unwrap().lines, 1);
        assert_eq!(r.line_number(), 2);
    }
}

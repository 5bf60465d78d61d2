//! RFC 6587 framing of a syslog byte stream: octet counting
//! (`<len> <msg>`), newline-terminated messages, or either per message.
//!
//! The decoder owns a buffer bounded by the frame limit plus one read: a
//! frame longer than the limit is an error, and the connection is closed
//! (the stream cannot be resynchronised reliably after a bad length).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a TCP or TLS stream is split into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// Per message: a leading digit means octet counting, anything else
    /// (syslog messages start with `<`) a newline-terminated message. The
    /// default.
    #[default]
    Auto,
    /// `MSG-LEN SP MSG` only (RFC 6587 3.4.1, RFC 5425).
    OctetCounting,
    /// Messages end with `\n` (a `\r` before it is dropped; RFC 6587 3.4.2).
    Newline,
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Framing::Auto => "auto",
            Framing::OctetCounting => "octet-counting",
            Framing::Newline => "newline",
        })
    }
}

/// Why a stream was given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A message (declared or buffered) longer than the limit.
    TooLong {
        /// Declared or buffered length so far.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An octet count that is not `1*DIGIT SP`.
    BadLength,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLong { len, max } => {
                write!(f, "message of {len} bytes exceeds the maximum of {max}")
            }
            FrameError::BadLength => f.write_str("invalid octet count"),
        }
    }
}

/// Longest octet-count prefix looked at (`1048576 ` is 8 bytes; 20 digits
/// overflow nothing and bound the scan).
const MAX_LEN_DIGITS: usize = 20;

/// Incremental decoder: [`FrameDecoder::extend`] with what was read, then
/// take frames with [`FrameDecoder::next_frame`] until it returns `None`.
#[derive(Debug)]
pub struct FrameDecoder {
    framing: Framing,
    max: usize,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// Where the newline scan of the pending message resumes.
    scanned: usize,
}

impl FrameDecoder {
    /// A decoder for messages of at most `max` bytes.
    pub fn new(framing: Framing, max: usize) -> Self {
        Self {
            framing,
            max: max.max(1),
            buf: Vec::with_capacity(8192),
            pos: 0,
            scanned: 0,
        }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.scanned -= self.pos;
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// A [`FrameError`] when the stream can't go on (too long, bad count).
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        // Skip stray line ends between messages (senders often add a
        // newline after an octet-counted message).
        while self.pos < self.buf.len() && matches!(self.buf[self.pos], b'\n' | b'\r' | 0) {
            self.pos += 1;
        }
        self.scanned = self.scanned.max(self.pos);
        let rest = &self.buf[self.pos..];
        let Some(&first) = rest.first() else {
            return Ok(None);
        };
        let counted = match self.framing {
            Framing::OctetCounting => true,
            Framing::Newline => false,
            Framing::Auto => first.is_ascii_digit(),
        };
        if counted {
            self.octet_counted()
        } else {
            self.newline()
        }
    }

    fn octet_counted(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let rest = &self.buf[self.pos..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > MAX_LEN_DIGITS {
            return Err(FrameError::BadLength);
        }
        let Some(&sep) = rest.get(digits) else {
            return Ok(None);
        };
        if sep != b' ' {
            return Err(FrameError::BadLength);
        }
        let len = rest[..digits]
            .iter()
            .try_fold(0usize, |n, d| {
                n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            })
            .ok_or(FrameError::BadLength)?;
        if len > self.max {
            return Err(FrameError::TooLong { len, max: self.max });
        }
        let start = self.pos + digits + 1;
        let end = start + len;
        if self.buf.len() < end {
            return Ok(None);
        }
        self.pos = end;
        self.scanned = end;
        Ok(Some(&self.buf[start..end]))
    }

    fn newline(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let from = self.scanned.max(self.pos);
        match memchr::memchr(b'\n', &self.buf[from..]) {
            Some(i) => {
                let nl = from + i;
                let start = self.pos;
                self.pos = nl + 1;
                self.scanned = self.pos;
                let mut frame = &self.buf[start..nl];
                if let Some(f) = frame.strip_suffix(b"\r") {
                    frame = f;
                }
                if frame.len() > self.max {
                    return Err(FrameError::TooLong {
                        len: frame.len(),
                        max: self.max,
                    });
                }
                Ok(Some(frame))
            }
            None => {
                self.scanned = self.buf.len();
                let pending = self.buf.len() - self.pos;
                // One byte of slack for a `\r` before the newline.
                if pending > self.max + 1 {
                    return Err(FrameError::TooLong {
                        len: pending,
                        max: self.max,
                    });
                }
                Ok(None)
            }
        }
    }

    /// What is left when the peer closed: a last newline-framed message
    /// without its terminator, if any (octet-counted leftovers are
    /// incomplete and dropped).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = &self.buf[self.pos..];
        let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
        let counted = match self.framing {
            Framing::OctetCounting => true,
            Framing::Newline => false,
            Framing::Auto => rest.first().is_some_and(u8::is_ascii_digit),
        };
        self.pos = self.buf.len();
        (!counted && !rest.is_empty() && rest.len() <= self.max).then(|| rest.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` one by one and renders the frames (`|`-separated) and
    /// the outcome.
    fn check(framing: Framing, max: usize, chunks: &[&[u8]], expect: &str) {
        let mut d = FrameDecoder::new(framing, max);
        let mut out = Vec::new();
        let mut err = None;
        'outer: for c in chunks {
            d.extend(c);
            loop {
                match d.next_frame() {
                    Ok(Some(f)) => out.push(String::from_utf8_lossy(f).into_owned()),
                    Ok(None) => break,
                    Err(e) => {
                        err = Some(e.to_string());
                        break 'outer;
                    }
                }
            }
        }
        if err.is_none()
            && let Some(last) = d.finish()
        {
            out.push(format!("{}(eof)", String::from_utf8_lossy(&last)));
        }
        let got = match err {
            Some(e) => format!("{} ! {e}", out.join("|")),
            None => out.join("|"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn octet_counting() {
        check(Framing::OctetCounting, 100, &[b"5 hello3 abc"], "hello|abc");
        // A message may contain newlines; a trailing newline is tolerated.
        check(
            Framing::OctetCounting,
            100,
            &[b"6 a\nb\r\nc\n4 <1>x"],
            "a\nb\r\nc|<1>x",
        );
        check(
            Framing::OctetCounting,
            100,
            &[b"x5 hello"],
            " ! invalid octet count",
        );
        check(
            Framing::OctetCounting,
            100,
            &[b"5hello"],
            " ! invalid octet count",
        );
    }

    #[test]
    fn newline() {
        check(
            Framing::Newline,
            100,
            &[b"<13>a\r\n<14>b\n\n<15>c"],
            "<13>a|<14>b|<15>c(eof)",
        );
        // Digits at the start are just text under newline framing.
        check(Framing::Newline, 100, &[b"12 x\n"], "12 x");
    }

    #[test]
    fn auto_mixes_both() {
        check(
            Framing::Auto,
            100,
            &[b"<13>nl\n9 <14>count<15>nl2\n"],
            "<13>nl|<14>count|<15>nl2",
        );
    }

    #[test]
    fn partial_reads() {
        let whole = b"11 <13>abcdefg<14>line one\n3 xyz";
        let chunks: Vec<&[u8]> = whole.chunks(1).collect();
        check(Framing::Auto, 100, &chunks, "<13>abcdefg|<14>line one|xyz");
        let chunks: Vec<&[u8]> = whole.chunks(4).collect();
        check(Framing::Auto, 100, &chunks, "<13>abcdefg|<14>line one|xyz");
        // An octet-counted message cut short by the peer is dropped.
        check(Framing::Auto, 100, &[b"10 abc"], "");
    }

    #[test]
    fn oversize() {
        check(
            Framing::OctetCounting,
            10,
            &[b"3 abc11 "],
            "abc ! message of 11 bytes exceeds the maximum of 10",
        );
        check(
            Framing::Newline,
            4,
            &[b"abcd\nabcdefgh"],
            "abcd ! message of 8 bytes exceeds the maximum of 4",
        );
        check(
            Framing::Auto,
            100,
            &[b"999999999999999999999999 x"],
            " ! invalid octet count",
        );
        // Bounded memory: a stream without newlines fails once past the
        // limit, not at its end.
        let mut d = FrameDecoder::new(Framing::Newline, 1000);
        for _ in 0..100 {
            d.extend(&[b'a'; 100]);
            if d.next_frame().is_err() {
                break;
            }
        }
        assert!(d.pending() <= 1100);
    }
}

//! What a parse call needs to know besides the bytes: tenant, source label,
//! receive time and size limits, plus the input format selector.

use std::fmt;
use std::str::FromStr;

use vigil_model::{TenantId, Timestamp};

/// Default bound on one record's size in bytes (1 MiB).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// Per-call parse settings. Build with [`ParseOptions::new`].
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Owning tenant of every produced event.
    pub tenant: TenantId,
    /// Source label (`file:/var/log/x`, `http`, `stdin`, …).
    pub source: String,
    /// When Vigil received the data. Also resolves the missing year of RFC
    /// 3164 syslog timestamps, so re-parsing is deterministic.
    pub received_at: Timestamp,
    /// Largest accepted record in bytes (line terminator excluded). By
    /// default [`DEFAULT_MAX_EVENT_BYTES`].
    pub max_event_bytes: usize,
}

impl ParseOptions {
    /// Options with the default size limit.
    pub fn new(tenant: TenantId, source: impl Into<String>, received_at: Timestamp) -> Self {
        Self {
            tenant,
            source: source.into(),
            received_at,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// The same options with another record size limit.
    pub fn with_max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }
}

/// How to read the records of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// NDJSON: one JSON object per line.
    Json,
    /// One syslog message (RFC 3164 or RFC 5424) per line; a CEF or LEEF
    /// body is parsed into fields too.
    Syslog,
    /// One raw ArcSight CEF record (`CEF:0|…`) per line.
    Cef,
    /// One raw QRadar LEEF 1.0/2.0 record (`LEEF:2.0|…`) per line.
    Leef,
    /// Per record: a line starting with `{` is JSON, with `CEF:` CEF, with
    /// `LEEF:` LEEF, anything else syslog.
    Auto,
}

impl InputFormat {
    /// The lowercase name (`json`, `syslog`, `cef`, `leef`, `auto`).
    pub const fn as_str(self) -> &'static str {
        match self {
            InputFormat::Json => "json",
            InputFormat::Syslog => "syslog",
            InputFormat::Cef => "cef",
            InputFormat::Leef => "leef",
            InputFormat::Auto => "auto",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" | "ndjson" => Ok(InputFormat::Json),
            "syslog" => Ok(InputFormat::Syslog),
            "cef" => Ok(InputFormat::Cef),
            "leef" => Ok(InputFormat::Leef),
            "auto" => Ok(InputFormat::Auto),
            other => Err(format!(
                "unknown input format {other:?} (expected json, syslog, cef, leef or auto)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_round_trips() {
        for f in [
            InputFormat::Json,
            InputFormat::Syslog,
            InputFormat::Cef,
            InputFormat::Leef,
            InputFormat::Auto,
        ] {
            assert_eq!(f.to_string().parse::<InputFormat>(), Ok(f));
        }
        assert!(
            "xml"
                .parse::<InputFormat>()
                .unwrap_err()
                .contains("unknown input format")
        );
    }

    #[test]
    fn options_default_limit() {
        let o = ParseOptions::new(TenantId::DEFAULT, "t", Timestamp::from_secs(0));
        assert_eq!(o.max_event_bytes, DEFAULT_MAX_EVENT_BYTES);
        assert_eq!(o.with_max_event_bytes(5).max_event_bytes, 5);
    }
}

//! Shared domain types for Vigil: events and their interned fields, alerts,
//! severities, identifiers, time, principals and the `Detector` trait.
//!
//! This crate does no I/O. Every other crate speaks these types; wire formats
//! (JSON DTOs, SQL rows) live at the edges.
#![warn(missing_docs)]

mod alert;
mod detect;
mod event;
mod field;
mod ids;
mod principal;
mod severity;
mod time;
mod value;

pub use alert::{Alert, Entities, event_copy};
pub use detect::{DetectCtx, DetectError, Detector, Effect};
pub use event::{Event, EventBuilder, EventFormat};
pub use field::{FieldId, FieldRegistry};
pub use ids::{AlertId, EventId, IdParseError, TenantId};
pub use principal::{Principal, PrincipalKind, Role, RoleParseError};
pub use severity::{Severity, SeverityParseError};
pub use time::{Clock, FixedClock, SystemClock, Timestamp};
pub use value::Value;

/// Core ECS field names every parser fills where the source has the meaning.
///
/// Detectors, indicator matching and the console share this vocabulary.
pub mod ecs {
    /// Event time (RFC 3339 in JSON; also kept as [`crate::Event::time`]).
    pub const TIMESTAMP: &str = "@timestamp";
    /// `event.kind` (`event`, `alert`, `metric`, …).
    pub const EVENT_KIND: &str = "event.kind";
    /// `event.category` (`process`, `network`, `authentication`, …).
    pub const EVENT_CATEGORY: &str = "event.category";
    /// `event.action`.
    pub const EVENT_ACTION: &str = "event.action";
    /// `event.code` (e.g. the Windows EventID).
    pub const EVENT_CODE: &str = "event.code";
    /// `event.dataset`.
    pub const EVENT_DATASET: &str = "event.dataset";
    /// `event.severity`.
    pub const EVENT_SEVERITY: &str = "event.severity";
    /// `host.name`.
    pub const HOST_NAME: &str = "host.name";
    /// `host.ip`.
    pub const HOST_IP: &str = "host.ip";
    /// `source.ip`.
    pub const SOURCE_IP: &str = "source.ip";
    /// `source.port`.
    pub const SOURCE_PORT: &str = "source.port";
    /// `destination.ip`.
    pub const DESTINATION_IP: &str = "destination.ip";
    /// `destination.port`.
    pub const DESTINATION_PORT: &str = "destination.port";
    /// `user.name`.
    pub const USER_NAME: &str = "user.name";
    /// `user.domain`.
    pub const USER_DOMAIN: &str = "user.domain";
    /// `process.name`.
    pub const PROCESS_NAME: &str = "process.name";
    /// `process.pid`.
    pub const PROCESS_PID: &str = "process.pid";
    /// `process.executable`.
    pub const PROCESS_EXECUTABLE: &str = "process.executable";
    /// `process.command_line`.
    pub const PROCESS_COMMAND_LINE: &str = "process.command_line";
    /// `process.parent.executable`.
    pub const PROCESS_PARENT_EXECUTABLE: &str = "process.parent.executable";
    /// `process.parent.command_line`.
    pub const PROCESS_PARENT_COMMAND_LINE: &str = "process.parent.command_line";
    /// `url.full`.
    pub const URL_FULL: &str = "url.full";
    /// `dns.question.name`.
    pub const DNS_QUESTION_NAME: &str = "dns.question.name";
    /// `file.path`.
    pub const FILE_PATH: &str = "file.path";
    /// `file.name`.
    pub const FILE_NAME: &str = "file.name";
    /// `file.hash.md5`.
    pub const FILE_HASH_MD5: &str = "file.hash.md5";
    /// `file.hash.sha1`.
    pub const FILE_HASH_SHA1: &str = "file.hash.sha1";
    /// `file.hash.sha256`.
    pub const FILE_HASH_SHA256: &str = "file.hash.sha256";
    /// `file.hash.sha512`.
    pub const FILE_HASH_SHA512: &str = "file.hash.sha512";
    /// `message`.
    pub const MESSAGE: &str = "message";
    /// `log.level`.
    pub const LOG_LEVEL: &str = "log.level";
    /// `log.syslog.facility.code`.
    pub const LOG_SYSLOG_FACILITY_CODE: &str = "log.syslog.facility.code";
    /// `log.syslog.severity.code`.
    pub const LOG_SYSLOG_SEVERITY_CODE: &str = "log.syslog.severity.code";
    /// `log.syslog.appname`.
    pub const LOG_SYSLOG_APPNAME: &str = "log.syslog.appname";
    /// `log.syslog.msgid`.
    pub const LOG_SYSLOG_MSGID: &str = "log.syslog.msgid";
    /// `log.syslog.version`.
    pub const LOG_SYSLOG_VERSION: &str = "log.syslog.version";
}

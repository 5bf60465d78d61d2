//! Wire types of the JSON API. Domain and store types never go to JSON
//! directly: each has a DTO here with a `From` conversion, so the API stays
//! stable when the domain changes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_model::{Alert, Principal, Role, Severity, Timestamp};

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Role)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleDto {
    /// Everything, including tokens.
    Admin,
    /// Read and triage.
    Analyst,
    /// Read only.
    Viewer,
    /// Send events only.
    Ingest,
    /// Read feeds only.
    Feed,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => RoleDto::Admin,
            Role::Analyst => RoleDto::Analyst,
            Role::Viewer => RoleDto::Viewer,
            Role::Ingest => RoleDto::Ingest,
            Role::Feed => RoleDto::Feed,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Admin => Role::Admin,
            RoleDto::Analyst => Role::Analyst,
            RoleDto::Viewer => Role::Viewer,
            RoleDto::Ingest => Role::Ingest,
            RoleDto::Feed => Role::Feed,
        }
    }
}

/// An alert severity, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Severity)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SeverityDto {
    /// Informational.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl From<Severity> for SeverityDto {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Informational => SeverityDto::Informational,
            Severity::Low => SeverityDto::Low,
            Severity::Medium => SeverityDto::Medium,
            Severity::High => SeverityDto::High,
            Severity::Critical => SeverityDto::Critical,
        }
    }
}

impl From<SeverityDto> for Severity {
    fn from(s: SeverityDto) -> Self {
        match s {
            SeverityDto::Informational => Severity::Informational,
            SeverityDto::Low => Severity::Low,
            SeverityDto::Medium => Severity::Medium,
            SeverityDto::High => Severity::High,
            SeverityDto::Critical => Severity::Critical,
        }
    }
}

/// RFC 3339 text of a timestamp.
pub(crate) fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// Liveness answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Health)]
pub(crate) struct HealthDto {
    /// Always `ok`.
    pub status: String,
}

/// The entities an alert is about.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Entities)]
pub(crate) struct EntitiesDto {
    /// `host.name`.
    pub host: Option<String>,
    /// `user.name`.
    pub user: Option<String>,
    /// `source.ip`.
    pub source_ip: Option<String>,
    /// `destination.ip`.
    pub destination_ip: Option<String>,
    /// `process.executable`, else `process.name`.
    pub process: Option<String>,
    /// `process.command_line`.
    pub command_line: Option<String>,
    /// The file's strongest hash (sha256, sha1, md5), lowercase.
    pub file_hash: Option<String>,
    /// `dns.question.name`, else the host of `url.full`.
    pub domain: Option<String>,
}

/// An alert.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Alert)]
pub(crate) struct AlertDto {
    /// Alert id (UUID).
    pub id: String,
    /// Owning tenant (UUID).
    pub tenant: String,
    /// The detector that raised it (`sigma`, `intel`, `match`, …).
    pub detector: String,
    /// The rule within the detector.
    pub rule_id: String,
    /// Human-readable title.
    pub title: String,
    /// Severity.
    pub severity: SeverityDto,
    /// When it was raised (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the triggering event happened (RFC 3339).
    #[schema(format = DateTime)]
    pub event_time: String,
    /// The triggering event's id, while retention keeps it.
    pub event_id: Option<String>,
    /// Host, user, IPs, process, file hash and domain involved.
    pub entities: EntitiesDto,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Detector-specific details.
    pub details: serde_json::Value,
    /// A copy of the triggering event's fields and original text.
    pub event: serde_json::Value,
}

impl From<&Alert> for AlertDto {
    fn from(a: &Alert) -> Self {
        Self {
            id: a.id.to_string(),
            tenant: a.tenant.to_string(),
            detector: a.detector.clone(),
            rule_id: a.rule_id.clone(),
            title: a.title.clone(),
            severity: a.severity.into(),
            created_at: time(a.created_at),
            event_time: time(a.event_time),
            event_id: a.event_id.map(|e| e.to_string()),
            entities: EntitiesDto {
                host: a.entities.host.clone(),
                user: a.entities.user.clone(),
                source_ip: a.entities.source_ip.clone(),
                destination_ip: a.entities.destination_ip.clone(),
                process: a.entities.process.clone(),
                command_line: a.entities.command_line.clone(),
                file_hash: a.entities.file_hash.clone(),
                domain: a.entities.domain.clone(),
            },
            tags: a.tags.clone(),
            details: a.details.clone(),
            event: a.event.clone(),
        }
    }
}

/// A page of alerts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AlertPage {
    /// The alerts of this page.
    pub items: Vec<AlertDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A stored event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Event)]
pub(crate) struct EventDto {
    /// Position in the event log.
    pub seq: i64,
    /// Event id (UUID).
    pub id: String,
    /// When Vigil received it (RFC 3339).
    #[schema(format = DateTime)]
    pub received_at: String,
    /// When it happened, if the payload said (RFC 3339).
    #[schema(format = DateTime)]
    pub time: Option<String>,
    /// Where it came from (`http`, `file:/var/log/x`, …).
    pub source: String,
    /// The host it describes, where known.
    pub host: Option<String>,
    /// The parser that produced it (`json`, `syslog`).
    pub format: String,
    /// The bytes as received, as text (invalid UTF-8 replaced).
    pub raw: String,
}

impl From<&vigil_store::StoredEvent> for EventDto {
    fn from(e: &vigil_store::StoredEvent) -> Self {
        Self {
            seq: e.seq,
            id: e.id.to_string(),
            received_at: time(e.received_at),
            time: e.time.map(time),
            source: e.source.to_string(),
            host: e.host.as_ref().map(|h| h.to_string()),
            format: e.format.to_string(),
            raw: String::from_utf8_lossy(&e.raw).into_owned(),
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct EventPage {
    /// The events of this page.
    pub items: Vec<EventDto>,
    /// Pass as `before` to get older events; `null` on the last page.
    pub next_before: Option<i64>,
}

/// An API token, without its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Token)]
pub(crate) struct TokenDto {
    /// Token id (the 16 hex digits after `vgl_`).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Role.
    pub role: RoleDto,
    /// The non-secret start of the token, to recognise it.
    pub prefix: String,
    /// When it was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// When it expires (RFC 3339), if ever.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// When it was revoked (RFC 3339), if it was.
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<&vigil_store::TokenRecord> for TokenDto {
    fn from(t: &vigil_store::TokenRecord) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            role: t.role.into(),
            prefix: t.prefix.to_string(),
            created_at: time(t.created_at),
            created_by: t.created_by.to_string(),
            expires_at: t.expires_at.map(time),
            revoked_at: t.revoked_at.map(time),
        }
    }
}

/// The tokens of the caller's tenant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct TokenList {
    /// The tokens, secrets never included.
    pub items: Vec<TokenDto>,
}

/// A request to create a token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    /// Human-readable name (1–100 characters).
    pub name: String,
    /// Role of the new token.
    pub role: RoleDto,
    /// Expiry (RFC 3339, in the future); never expires when absent.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A newly created token: the only time its plaintext is shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// The token (`vgl_<id>_<secret>`). Store it now: it is not shown again.
    pub token: String,
    /// The token's record.
    #[serde(flatten)]
    pub record: TokenDto,
}

/// An audit-log entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditEntry)]
pub(crate) struct AuditEntryDto {
    /// Position in the audit chain.
    pub seq: i64,
    /// When it happened (RFC 3339).
    #[schema(format = DateTime)]
    pub at: String,
    /// Who acted (`kind:id`).
    pub principal: String,
    /// `token`, `user`, `playbook` or `system`.
    pub principal_kind: String,
    /// What was done (`token.create`, …).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// Action-specific details.
    pub details: serde_json::Value,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry (chains the log).
    pub hash: String,
}

impl From<&vigil_store::AuditEntry> for AuditEntryDto {
    fn from(a: &vigil_store::AuditEntry) -> Self {
        Self {
            seq: a.seq,
            at: time(a.at),
            principal: a.principal.to_string(),
            principal_kind: a.principal_kind.to_string(),
            action: a.action.to_string(),
            target: a.target.to_string(),
            details: a.details.clone(),
            prev_hash: a.prev_hash.to_string(),
            hash: a.hash.to_string(),
        }
    }
}

/// A page of audit entries, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AuditPage {
    /// The entries of this page.
    pub items: Vec<AuditEntryDto>,
    /// Pass as `after` to get the next page; `null` when this page is empty.
    pub next_after: Option<i64>,
}

/// The first broken link of the audit chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = BrokenLink)]
pub(crate) struct BrokenLinkDto {
    /// The entry whose hash does not check out.
    pub seq: i64,
    /// Why.
    pub reason: String,
}

/// The result of re-checking the audit hash chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditVerification)]
pub(crate) struct AuditVerificationDto {
    /// True if every entry checked out.
    pub ok: bool,
    /// How many entries were checked.
    pub checked: u64,
    /// The first broken link, if any.
    pub first_broken: Option<BrokenLinkDto>,
}

impl From<&vigil_store::AuditVerification> for AuditVerificationDto {
    fn from(v: &vigil_store::AuditVerification) -> Self {
        Self {
            ok: v.first_broken.is_none(),
            checked: v.checked,
            first_broken: v.first_broken.as_ref().map(|b| BrokenLinkDto {
                seq: b.seq,
                reason: b.reason.to_string(),
            }),
        }
    }
}

/// One entry of the change feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Change)]
pub(crate) struct ChangeDto {
    /// Position in the change feed.
    pub seq: i64,
    /// When the change was made (RFC 3339).
    #[schema(format = DateTime)]
    pub at: String,
    /// The kind of object (`alert`, `token`, …).
    pub object_type: String,
    /// The object's id.
    pub object_id: String,
    /// `insert`, `update` or `delete`.
    pub op: String,
    /// The object after the change.
    pub payload: serde_json::Value,
}

impl From<&vigil_store::Change> for ChangeDto {
    fn from(c: &vigil_store::Change) -> Self {
        Self {
            seq: c.seq,
            at: time(c.at),
            object_type: c.object_type.to_string(),
            object_id: c.object_id.to_string(),
            op: c.op.to_string(),
            payload: c.payload.clone(),
        }
    }
}

/// A page of the change feed, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ChangePage {
    /// The changes of the caller's tenant in this page.
    pub items: Vec<ChangeDto>,
    /// Pass as `after` to continue; `null` when nothing was read. It can
    /// move even when `items` is empty (other tenants' changes were skipped).
    pub next_after: Option<i64>,
}

/// The caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Whoami)]
pub(crate) struct WhoamiDto {
    /// `token`, `user`, …
    pub kind: String,
    /// Token id.
    pub id: String,
    /// Token name.
    pub name: String,
    /// Role.
    pub role: RoleDto,
    /// Tenant (UUID).
    pub tenant: String,
}

impl From<&Principal> for WhoamiDto {
    fn from(p: &Principal) -> Self {
        Self {
            kind: p.kind.as_str().to_owned(),
            id: p.id.clone(),
            name: p.name.clone(),
            role: p.role.into(),
            tenant: p.tenant.to_string(),
        }
    }
}

/// One rejected ingest line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = LineError)]
pub(crate) struct LineErrorDto {
    /// 1-based line number in the (decompressed) body.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// The outcome of an ingest request. Partial success is normal: good lines
/// are committed, bad ones reported.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct IngestResult {
    /// Events durably committed.
    pub accepted: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// The first rejected lines (at most 100).
    pub errors: Vec<LineErrorDto>,
    /// Present and true when more lines were rejected than `errors` lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub errors_truncated: bool,
}

//! Persistence for Vigil: one [`Store`] over an embedded SQLite file (the
//! default) or PostgreSQL (several servers on one database).
//!
//! What it keeps:
//! - the durable **event log** ([`Store::append_events`]): `seq` is the log
//!   position; a batch is one transaction and is durable when the call
//!   returns, so ingest acknowledges only after it;
//! - **detection outputs** with exactly-once semantics
//!   ([`Store::commit_detections`]): alerts (idempotent by their
//!   deterministic ids), effects, detector snapshots and the consumer's
//!   checkpoint move together in one transaction;
//! - **alerts** with keyset pagination ([`Store::list_alerts`]);
//! - **API tokens** (argon2id hashes only, [`token`]);
//! - **console users and sessions** (argon2id passwords, hashed session
//!   ids, lockout; [`Store::create_user`], [`Store::find_session`]);
//! - a **hash-chained audit log** ([`Store::audit`], [`Store::verify_audit`]);
//! - a **change feed** (outbox) of every created or updated object
//!   ([`Store::changes_after`]);
//! - a **job scheduler** with leases ([`Store::claim_due_jobs`]);
//! - **secrets** encrypted at rest with AES-256-GCM ([`Store::put_secret`]).
//!
//! Every object carries a tenant; the `tenants` table starts with
//! [`vigil_model::TenantId::DEFAULT`] named `default`.
//!
//! # Migrations
//!
//! [`Store::migrate`] applies vigil-store's core schema plus the migrations
//! other crates contribute. Versions are `BLOCK * 10_000 + n`: block 1 is
//! vigil-store core, 2 ingest/listeners, 3 sigma, 4 intel, 5 vuln, 6 respond,
//! 7 threat register, 8 server/UI (users, sessions). See [`migrations`].
//!
//! # Engines
//!
//! Each query has one body for both engines: SQL text is shared (`$1`
//! placeholders work on both), rows are read through one helper, and only
//! DDL and a few locking clauses differ. Timestamps are `BIGINT` epoch
//! microseconds, ids are UUID strings in `TEXT` columns, JSON is `TEXT` on
//! SQLite and `JSONB` on PostgreSQL. No `sqlx` type appears in the public
//! API; errors are [`Error`].
//!
//! Ordering invariants on PostgreSQL, where writers run concurrently: event
//! appends and change-feed inserts each take a transaction-scoped advisory
//! lock so `seq` values commit in order (a reader that saw `seq = n` never
//! later finds a smaller committed `seq`); audit appends lock the chain-head
//! row. Lock order, where a transaction takes several: audit head, then
//! change feed. On SQLite all writes are serialised (`BEGIN IMMEDIATE` plus
//! an in-process writer queue).
#![warn(missing_docs)]

/// Runs `$body` with `$pool` bound to the engine's pool and `$db` naming the
/// engine's `sqlx::Database` type, once per engine (one source, two bodies).
macro_rules! dispatch {
    ($store:expr, |$pool:ident, $db:ident| $body:expr) => {
        match $store.pool() {
            $crate::engine::Pool::Sqlite($pool) => {
                #[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::engine::Pool::Postgres($pool) => {
                #[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Implements a crate-private trait for both engines from one body; inside,
/// `Self` is `sqlx::Sqlite` or `sqlx::Postgres`.
macro_rules! impl_both {
    (impl $tr:ident { $($items:tt)* }) => {
        impl $tr for sqlx::Sqlite { $($items)* }
        impl $tr for sqlx::Postgres { $($items)* }
    };
}

mod aggregate;
mod alert_entities;
mod alerts;
mod attack;
mod audit;
mod blocklist;
mod changes;
mod detections;
mod engine;
mod error;
mod events;
mod feeds;
mod intel;
mod intel_read;
mod jobs;
mod migrate;
pub mod migrations;
mod queue;
mod respond;
mod row;
mod rules;
mod secrets;
mod sightings;
mod taxii;
mod tenants;
mod threats;
pub mod token;
mod tokens;
mod users;
mod vuln;
mod vuln_discovery;
mod vuln_intel;
mod vuln_rank;

pub use aggregate::{SuppressionMatch, SuppressionRecord};
pub use alert_entities::{ALERT_ENTITIES_CONSUMER, RelatedAlert};
pub use alerts::{AlertCursor, AlertQuery, SortOrder};
pub use audit::{AuditEntry, AuditVerification, BrokenLink, NewAudit};
pub use blocklist::{BlocklistCandidate, BlocklistEntry};
pub use changes::Change;
pub use detections::{CommitStats, DetectionCommit};
pub use engine::{Engine, Store};
pub use error::{Error, Result};
pub use events::StoredEvent;
pub use feeds::{
    FEED_AUTH, FEED_FORMATS, FEED_JOB, FeedConfig, FeedInfo, FeedSync, MIN_FEED_INTERVAL,
    feed_job_name,
};
pub use intel::{FeedRecord, INTEL_MIGRATIONS, IndicatorRecord, StixObjectRecord, UpsertStats};
pub use intel_read::IndicatorQuery;
pub use jobs::{JobInfo, JobLease, JobSpec};
pub use migrate::AppliedMigration;
pub use migrations::Migration;
pub use queue::{HistogramCell, QueueCursor, QueueQuery, QueueRow, QueueSort};
pub use respond::{
    ACTIVE_RUN_STATUSES, EvidenceRecord, IncidentRecord, MAX_EVIDENCE_BYTES, NewIncident,
    ObservableRecord, PlaybookRecord, RESPOND_MIGRATIONS, RunAudit, RunLogRecord, RunRecord,
    TASK_STATUSES, TRIAGE_STATES, TaskRecord, TimelineEntry, TriageRecord,
};
pub use rules::{NewRule, RuleQuery, RuleRecord, RuleSource, RuleUpdate, SIGMA_MIGRATIONS};
pub use secrets::SecretKey;
pub use sightings::{INTEL_OPS_MIGRATIONS, IndicatorSightings, SIGHTING_CHANGE, SightingsApplied};
pub use taxii::{
    TAXII_MIGRATIONS, TaxiiCursor, TaxiiQuery, TaxiiRow, TaxiiStatusRecord, VersionFilter,
};
pub use tenants::Tenant;
pub use threats::{
    GalaxyClusterRow, NewScenario, ProfileRecord, SCENARIO_STATUSES, ScenarioRecord,
    ScenarioReview, ScoreRecord, THREATS_MIGRATIONS,
};
pub use tokens::TokenRecord;
pub use users::{
    CONSOLE_MIGRATIONS, FailedLogin, MIN_PASSWORD_LEN, SessionRecord, USER_ROLES, UserAccess,
    UserRecord, check_password, random_token, session_hash, verify_password,
};
pub use vuln::{
    ASSET_KINDS, AssetRecord, ComponentRecord, EXPOSURES, EpssScore, FINDING_STATUSES,
    FindingQuery, FindingRecord, KevEntry, MAX_FINDINGS_PAGE, NewAsset, VULN_MIGRATIONS,
    VulnRecord,
};
pub use vuln_discovery::{HostSighting, SightingStats};
pub use vuln_intel::{VulnIntel, VulnIntelLink};
pub use vuln_rank::{DecisionCount, RankedFindingQuery};

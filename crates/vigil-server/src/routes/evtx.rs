//! `POST /api/v1/ingest/evtx`: Windows event log files (EVTX) in, one
//! event per record out.
//!
//! The body is one raw EVTX file (`application/octet-stream`) or a
//! `multipart/form-data` form with one or more files. Each file is parsed
//! with the `evtx` crate in `spawn_blocking`; every record is rendered as
//! evtx's JSON (the shape of the evtx-JSON Sigma regression files) and goes
//! through the JSON parser and ECS mapping, so `Event.EventData.*` appear
//! under their plain names and Sysmon / Security events get `process.*`,
//! `user.*`, `event.code` and so on. Stored events are `json` events whose
//! raw bytes are the record's JSON. Records that fail to decode are
//! reported, the rest are committed (one pipeline submission per file);
//! the answer waits for the commit.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_ingest::{InputFormat, ParseOptions};
use vigil_model::{Event, FieldRegistry};

use crate::auth::Auth;
use crate::error::{AppError, ErrorKind, Problem};
use crate::state::AppState;

/// How many record errors an answer lists.
const MAX_REPORTED_ERRORS: usize = 100;

/// A record (or file) that was not ingested.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct EvtxErrorDto {
    /// The file's name in the form (or `body` for a raw upload).
    pub file: String,
    /// The record's `EventRecordID`, or its 1-based position when the
    /// record could not be decoded far enough to know it; absent when the
    /// whole file is unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// Why.
    pub reason: String,
}

/// The outcome of an EVTX upload.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct EvtxResult {
    /// Files read.
    pub files: u64,
    /// Records found.
    pub records: u64,
    /// Events durably committed.
    pub accepted: u64,
    /// Records (and unreadable files) not ingested.
    pub rejected: u64,
    /// The first errors (at most 100).
    pub errors: Vec<EvtxErrorDto>,
    /// Present and true when there were more errors than `errors` lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub errors_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// EVTX upload metrics.
#[derive(Debug, Clone, Default)]
pub(crate) struct EvtxMetrics {
    files: Family<OutcomeLabels, Counter>,
    records: Family<OutcomeLabels, Counter>,
    bytes: Counter,
}

impl EvtxMetrics {
    pub(crate) fn register(&self, reg: &mut Registry) {
        reg.register(
            "vigil_evtx_files",
            "Uploaded EVTX files by outcome (parsed, unreadable)",
            self.files.clone(),
        );
        reg.register(
            "vigil_evtx_records",
            "EVTX records by outcome (accepted = committed, rejected)",
            self.records.clone(),
        );
        reg.register(
            "vigil_evtx_received_bytes",
            "EVTX bytes uploaded",
            self.bytes.clone(),
        );
    }
}

/// One uploaded file.
struct Upload {
    name: String,
    data: Bytes,
}

/// The parse result of one file.
struct Parsed {
    records: u64,
    events: Vec<Event>,
    errors: Vec<EvtxErrorDto>,
}

/// Parses one EVTX file into events (blocking, CPU-heavy).
fn parse_file(name: &str, data: Vec<u8>, registry: &FieldRegistry, opts: &ParseOptions) -> Parsed {
    let mut out = Parsed {
        records: 0,
        events: Vec::new(),
        errors: Vec::new(),
    };
    let settings = evtx::ParserSettings::new().indent(false);
    let mut parser = match evtx::EvtxParser::from_buffer(data) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            out.errors.push(EvtxErrorDto {
                file: name.to_owned(),
                record: None,
                reason: format!("not a readable EVTX file: {e}"),
            });
            return out;
        }
    };
    // Records become NDJSON lines (evtx's compact JSON has no raw newline),
    // parsed in one call so the parse context is shared.
    let mut ndjson = Vec::new();
    let mut ids = Vec::new();
    for (i, r) in parser.records_json().enumerate() {
        out.records += 1;
        match r {
            Ok(rec) => {
                ndjson.extend_from_slice(rec.data.as_bytes());
                ndjson.push(b'\n');
                ids.push(rec.event_record_id);
            }
            Err(e) => out.errors.push(EvtxErrorDto {
                file: name.to_owned(),
                record: Some(i as u64 + 1),
                reason: e.to_string(),
            }),
        }
    }
    let batch = vigil_ingest::parse_lines(&ndjson, InputFormat::Json, registry, opts, 1);
    out.events = batch.events;
    for e in batch.errors {
        let record = usize::try_from(e.line - 1)
            .ok()
            .and_then(|i| ids.get(i))
            .copied();
        out.errors.push(EvtxErrorDto {
            file: name.to_owned(),
            record,
            reason: e.reason,
        });
    }
    out
}

fn body_error(status: StatusCode, text: String, max: usize) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("the upload exceeds {max} bytes (max_evtx_bytes)"),
        )
    } else {
        AppError::new(ErrorKind::from_status(status), text)
    }
}

/// The files of the request: the raw body, or every file of a form.
async fn uploads(state: &AppState, req: Request) -> Result<Vec<Upload>, AppError> {
    let max = state.config.max_evtx_bytes;
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("multipart/form-data") => {
            let mut form = Multipart::from_request(req, state)
                .await
                .map_err(|rej| body_error(rej.status(), rej.body_text(), max))?;
            let mut files = Vec::new();
            loop {
                let field = form
                    .next_field()
                    .await
                    .map_err(|e| body_error(e.status(), e.body_text(), max))?;
                let Some(field) = field else { break };
                let name = field
                    .file_name()
                    .or(field.name())
                    .unwrap_or("file")
                    .to_owned();
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| body_error(e.status(), e.body_text(), max))?;
                files.push(Upload { name, data });
            }
            if files.is_empty() {
                return Err(AppError::bad_request("the form holds no file"));
            }
            Ok(files)
        }
        None
        | Some(
            "application/octet-stream"
            | "application/x-evtx"
            | "application/vnd.ms-evtx"
            | "application/x-www-form-urlencoded",
        ) => {
            let data = Bytes::from_request(req, state)
                .await
                .map_err(|rej| body_error(rej.status(), rej.body_text(), max))?;
            if data.is_empty() {
                return Err(AppError::bad_request("the body is empty"));
            }
            Ok(vec![Upload {
                name: "body".to_owned(),
                data,
            }])
        }
        Some(_) => Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "Content-Type must be application/octet-stream or multipart/form-data",
        )),
    }
}

/// Uploads EVTX files. Good records are committed, bad ones reported; a
/// file that is not EVTX is reported as one error.
#[utoipa::path(
    post,
    path = "/api/v1/ingest/evtx",
    tag = "ingest",
    request_body(
        description = "One EVTX file as the raw body, or a multipart/form-data form with one or more files",
        content((String = "application/octet-stream"), (String = "multipart/form-data"))
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Good records committed; bad records and unreadable files reported", body = EvtxResult),
        (status = 400, description = "Empty body or malformed form", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is over max_evtx_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Type", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server is shutting down", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn ingest_evtx(
    State(state): State<AppState>,
    Auth(p): Auth,
    req: Request,
) -> Result<Json<EvtxResult>, AppError> {
    let _permit = state
        .inner
        .ingest_permits
        .acquire()
        .await
        .map_err(AppError::internal)?;
    let files = uploads(&state, req).await?;
    let metrics = &state.inner.evtx;
    let mut result = EvtxResult {
        files: 0,
        records: 0,
        accepted: 0,
        rejected: 0,
        errors: Vec::new(),
        errors_truncated: false,
    };
    for f in files {
        metrics.bytes.inc_by(f.data.len() as u64);
        let registry = state.pipeline.registry().clone();
        let opts = ParseOptions {
            tenant: p.tenant,
            source: format!("evtx:{}", f.name.chars().take(200).collect::<String>()),
            received_at: state.clock.now(),
            max_event_bytes: state.config.max_event_bytes,
        };
        let name = f.name;
        let parsed = tokio::task::spawn_blocking(move || {
            parse_file(&name, Vec::from(f.data), &registry, &opts)
        })
        .await
        .map_err(AppError::internal)?;
        result.files += 1;
        let unreadable = parsed.records == 0 && !parsed.errors.is_empty();
        metrics
            .files
            .get_or_create(&OutcomeLabels {
                outcome: if unreadable { "unreadable" } else { "parsed" },
            })
            .inc();
        result.records += parsed.records;
        let rejected = parsed.errors.len() as u64;
        result.rejected += rejected;
        if rejected > 0 {
            metrics
                .records
                .get_or_create(&OutcomeLabels {
                    outcome: "rejected",
                })
                .inc_by(rejected);
            state.pipeline.metrics().events_rejected.inc_by(rejected);
        }
        for e in parsed.errors {
            if result.errors.len() < MAX_REPORTED_ERRORS {
                result.errors.push(e);
            } else {
                result.errors_truncated = true;
            }
        }
        let n = state
            .pipeline
            .submit(parsed.events)
            .await
            .map_err(|e| match e {
                vigil_pipeline::Error::ShuttingDown => {
                    AppError::unavailable("the server is shutting down; retry later")
                }
                other => AppError::internal(other),
            })?
            .count as u64;
        metrics
            .records
            .get_or_create(&OutcomeLabels {
                outcome: "accepted",
            })
            .inc_by(n);
        result.accepted += n;
    }
    Ok(Json(result))
}

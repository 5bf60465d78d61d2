//! `POST /api/v1/ingest`: NDJSON (or syslog lines) in, events committed to
//! the pipeline, per-line errors out.
//!
//! Decompression and parsing run in `spawn_blocking`; the answer waits for
//! the pipeline's durable commit, so a 200 means the events are stored.

use std::borrow::Cow;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vigil_ingest::{InputFormat, ParseOptions};

use crate::auth::Auth;
use crate::dto::{IngestResult, LineErrorDto};
use crate::error::{ApiQuery, AppError, ErrorKind, Problem};
use crate::state::AppState;

/// How many line errors an answer lists.
const MAX_REPORTED_ERRORS: usize = 100;

/// The longest `source` label accepted, in bytes.
const MAX_SOURCE_BYTES: usize = 256;

/// How the body's lines are parsed.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// One JSON object per line.
    #[default]
    Json,
    /// One syslog message (RFC 3164 or 5424) per line.
    Syslog,
    /// ArcSight CEF lines.
    Cef,
    /// QRadar LEEF 1.0 / 2.0 lines.
    Leef,
    /// Decided per line (JSON, CEF, LEEF by prefix, else syslog).
    Auto,
}

impl From<Format> for InputFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => InputFormat::Json,
            Format::Syslog => InputFormat::Syslog,
            Format::Cef => InputFormat::Cef,
            Format::Leef => InputFormat::Leef,
            Format::Auto => InputFormat::Auto,
        }
    }
}

/// Ingest options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IngestParams {
    /// Input format; by default, `json`.
    #[param(inline)]
    format: Option<Format>,
    /// Source label stored with each event; by default, `http`.
    source: Option<String>,
}

/// Accepted `Content-Type`s (parameters such as `charset` are ignored);
/// none at all is accepted too. `application/x-www-form-urlencoded` is what
/// `curl --data-binary` sends unless told otherwise, and the octet-stream
/// and gzip types are what shippers send for compressed bodies.
const MEDIA_TYPES: &[&str] = &[
    "application/x-ndjson",
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "application/gzip",
    "application/x-gzip",
];

fn check_content_type(headers: &HeaderMap) -> Result<(), AppError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = v
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if MEDIA_TYPES.iter().any(|m| m.eq_ignore_ascii_case(essence)) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            format!("Content-Type must be one of {}", MEDIA_TYPES.join(", ")),
        ))
    }
}

/// True if the client declared the body gzip-compressed.
fn declared_gzip(headers: &HeaderMap) -> Result<bool, AppError> {
    let Some(v) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    match v
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "identity" => Ok(false),
        "gzip" | "x-gzip" => Ok(true),
        _ => Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "Content-Encoding must be gzip or identity",
        )),
    }
}

fn source_label(source: Option<String>) -> Result<String, AppError> {
    let s = source.unwrap_or_else(|| "http".to_owned());
    if s.is_empty() || s.len() > MAX_SOURCE_BYTES || s.chars().any(char::is_control) {
        return Err(AppError::bad_request(format!(
            "source: must be 1 to {MAX_SOURCE_BYTES} bytes without control characters"
        )));
    }
    Ok(s)
}

fn body_error(rej: BytesRejection, max: usize) -> AppError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("the request body exceeds {max} bytes"),
        )
    } else {
        AppError::new(ErrorKind::from_status(rej.status()), rej.body_text())
    }
}

fn pipeline_error(e: vigil_pipeline::Error) -> AppError {
    match e {
        vigil_pipeline::Error::ShuttingDown => {
            AppError::unavailable("the server is shutting down; retry later")
        }
        other => AppError::internal(other),
    }
}

/// Sends events. Good lines are committed, bad lines reported by number;
/// a body where every line is bad still gets 200 with `accepted: 0`.
#[utoipa::path(
    post,
    path = "/api/v1/ingest",
    tag = "ingest",
    params(IngestParams),
    request_body(
        description = "Newline-delimited events; may be gzip-compressed (`Content-Encoding: gzip` or detected)",
        content((String = "application/x-ndjson"), (String = "text/plain"))
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Good lines committed; bad lines reported", body = IngestResult),
        (status = 400, description = "A parameter is invalid or the body is not decodable", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body, compressed or not, is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Type or Content-Encoding", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server is shutting down", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(params): ApiQuery<IngestParams>,
    req: Request,
) -> Result<Json<IngestResult>, AppError> {
    check_content_type(req.headers())?;
    let gzip = declared_gzip(req.headers())?;
    let source = source_label(params.source)?;
    let format: InputFormat = params.format.unwrap_or_default().into();
    // Bodies are buffered, decompressed and parsed whole: bound how many
    // requests do that at once before reading the body. Later requests wait.
    let _permit = state
        .inner
        .ingest_permits
        .acquire()
        .await
        .map_err(AppError::internal)?;
    let body = Bytes::from_request(req, &state)
        .await
        .map_err(|rej| body_error(rej, state.config.max_body_bytes))?;
    let max_out = state.config.max_decompressed_bytes;
    let registry = state.pipeline.registry().clone();
    let opts = ParseOptions {
        tenant: p.tenant,
        source,
        received_at: state.clock.now(),
        max_event_bytes: state.config.max_event_bytes,
    };
    let batch = tokio::task::spawn_blocking(move || {
        let data: Cow<'_, [u8]> = if gzip || vigil_ingest::is_gzip(&body) {
            Cow::Owned(
                vigil_ingest::gunzip_bounded(&body, max_out)
                    .map_err(|e| gunzip_error(e, max_out))?,
            )
        } else {
            Cow::Borrowed(&body)
        };
        Ok::<_, AppError>(vigil_ingest::parse_lines(
            &data, format, &registry, &opts, 1,
        ))
    })
    .await
    .map_err(AppError::internal)??;

    let rejected = batch.errors.len();
    if rejected > 0 {
        state
            .pipeline
            .metrics()
            .events_rejected
            .inc_by(rejected as u64);
    }
    let accepted = if batch.events.is_empty() {
        0
    } else {
        state
            .pipeline
            .submit(batch.events)
            .await
            .map_err(pipeline_error)?
            .count
    };
    let errors = batch
        .errors
        .into_iter()
        .take(MAX_REPORTED_ERRORS)
        .map(|e| LineErrorDto {
            line: e.line,
            reason: e.reason,
        })
        .collect();
    Ok(Json(IngestResult {
        accepted: accepted as u64,
        rejected: rejected as u64,
        errors,
        errors_truncated: rejected > MAX_REPORTED_ERRORS,
    }))
}

fn gunzip_error(e: vigil_ingest::Error, max: usize) -> AppError {
    match e {
        vigil_ingest::Error::TooLarge => AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("the decompressed body exceeds {max} bytes"),
        ),
        other => AppError::bad_request(format!("the body is not decodable: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn content_type_and_encoding() {
        assert!(check_content_type(&headers(&[])).is_ok());
        assert!(
            check_content_type(&headers(&[(header::CONTENT_TYPE, "application/x-ndjson")])).is_ok()
        );
        assert!(
            check_content_type(&headers(&[(
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8"
            )]))
            .is_ok()
        );
        assert!(check_content_type(&headers(&[(header::CONTENT_TYPE, "image/png")])).is_err());
        assert!(matches!(
            declared_gzip(&headers(&[(header::CONTENT_ENCODING, "gzip")])),
            Ok(true)
        ));
        assert!(matches!(declared_gzip(&headers(&[])), Ok(false)));
        assert!(declared_gzip(&headers(&[(header::CONTENT_ENCODING, "br")])).is_err());
    }

    #[test]
    fn source_labels() {
        assert_eq!(source_label(None).ok().as_deref(), Some("http"));
        assert_eq!(
            source_label(Some("fw-1".into())).ok().as_deref(),
            Some("fw-1")
        );
        assert!(source_label(Some(String::new())).is_err());
        assert!(source_label(Some("a\u{0}b".into())).is_err());
        assert!(source_label(Some("x".repeat(257))).is_err());
    }
}

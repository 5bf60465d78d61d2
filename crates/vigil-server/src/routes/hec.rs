//! The Splunk HTTP Event Collector (HEC) endpoints under
//! `/services/collector`, so Splunk shippers (Vector, Fluent Bit, the
//! OpenTelemetry collector, forwarders, logging libraries) send to Vigil
//! unchanged.
//!
//! - `POST /services/collector[/event[/1.0]]`: concatenated JSON event
//!   objects (see `vigil_ingest::parse_hec_body`). All or nothing, as in
//!   Splunk: the first bad object rejects the request with its 0-based
//!   `invalid-event-number`.
//! - `POST /services/collector/raw`: line-broken raw events; each line goes
//!   through the Auto parser (JSON object or syslog, other text as a
//!   message). `host` sets the event host and `source` the event's source
//!   label; `sourcetype` and `index` are accepted and not stored.
//! - `GET /services/collector/health`: public.
//! - `POST /services/collector/ack`: indexer acknowledgement.
//!
//! Answers and errors use HEC's JSON shape (`{"text":…,"code":…}`), also for
//! refused credentials (401 code 2 without a token, 401 code 3 for an
//! unknown scheme, 403 code 4 for a malformed, unknown, expired or wrong
//! token, or a role other than ingest and admin).
//!
//! **Acknowledgement.** With a channel (`X-Splunk-Request-Channel` header or
//! `channel` query parameter) the answer carries an `ackId`, increasing per
//! channel from 0. The answer is only sent after the pipeline committed the
//! events, so every id handed out is already durable and `/ack` reports it
//! true at once; an id is never reported true before its events are on
//! disk. Ack state is memory only (at most `hec_ack_channels` channels, the
//! least recently used dropped first): after a restart, or for an unknown
//! channel, ids read false, which makes a shipper resend (at-least-once),
//! never lose. Without a channel no `ackId` is given; `/ack` without one is
//! code 10 "Data channel is missing".
//!
//! **Back-pressure.** Bodies are buffered and parsed under the shared ingest
//! permits, and the answer waits for the commit: a slow store slows the
//! sender down (HTTP), nothing is dropped.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vigil_ingest::{InputFormat, ParseOptions};
use vigil_model::Event;

use crate::auth::{Auth, AuthFailure};
use crate::error::CHALLENGES;
use crate::state::AppState;

/// The path prefix of every HEC route.
pub(crate) const PREFIX: &str = "/services/collector";

/// The channel header.
const CHANNEL_HEADER: &str = "x-splunk-request-channel";

/// The longest channel id accepted, in bytes.
const MAX_CHANNEL_BYTES: usize = 128;

/// The longest `host`/`source` query value accepted, in bytes.
const MAX_META_BYTES: usize = 256;

/// Most ack ids one `/ack` request may ask about.
const MAX_ACK_QUERY: usize = 10_000;

/// A HEC answer or error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct HecResponse {
    /// Splunk's message (`Success`, `Invalid token`, …).
    pub text: String,
    /// Splunk's HEC status code (0 is success).
    pub code: u16,
    /// The acknowledgement id of this request (only with a channel).
    #[serde(rename = "ackId", default, skip_serializing_if = "Option::is_none")]
    pub ack_id: Option<u64>,
    /// 0-based number of the first refused event object.
    #[serde(
        rename = "invalid-event-number",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invalid_event_number: Option<usize>,
}

/// An `/ack` query.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub(crate) struct AckRequest {
    /// The ack ids to look up.
    pub acks: Vec<u64>,
}

/// An `/ack` answer: each asked id → whether its events are committed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub(crate) struct AckResponse {
    /// Id (as a string key) → acknowledged.
    pub acks: BTreeMap<String, bool>,
}

/// Marks a response as a HEC body, which the problem-details middleware
/// leaves alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HecBody;

/// A HEC answer with its HTTP status.
#[derive(Debug)]
pub(crate) struct HecReply {
    status: StatusCode,
    body: HecResponse,
}

impl HecReply {
    fn new(status: StatusCode, code: u16, text: &str) -> Self {
        Self {
            status,
            body: HecResponse {
                text: text.to_owned(),
                code,
                ack_id: None,
                invalid_event_number: None,
            },
        }
    }

    fn success(ack_id: Option<u64>) -> Self {
        let mut r = Self::new(StatusCode::OK, 0, "Success");
        r.body.ack_id = ack_id;
        r
    }

    fn no_data() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 5, "No data")
    }

    fn invalid(event: Option<usize>) -> Self {
        let mut r = Self::new(StatusCode::BAD_REQUEST, 6, "Invalid data format");
        r.body.invalid_event_number = event;
        r
    }

    fn busy() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, 9, "Server is busy")
    }

    fn channel_missing() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 10, "Data channel is missing")
    }

    fn channel_invalid() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 11, "Invalid data channel")
    }

    fn ack_disabled() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 14, "ACK is disabled")
    }

    fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, 27, "Content too large")
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            8,
            "Internal server error",
        )
    }

    /// The answer to refused credentials.
    pub(crate) fn auth(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Missing => Self::new(StatusCode::UNAUTHORIZED, 2, "Token is required"),
            AuthFailure::Scheme => Self::new(StatusCode::UNAUTHORIZED, 3, "Invalid authorization"),
            _ => Self::new(StatusCode::FORBIDDEN, 4, "Invalid token"),
        }
    }

    fn rejected(e: &vigil_ingest::HecError) -> Self {
        let mut r = Self::new(StatusCode::BAD_REQUEST, e.kind.code(), e.kind.text());
        r.body.invalid_event_number = Some(e.event);
        r
    }
}

impl IntoResponse for HecReply {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body)).into_response();
        res.extensions_mut().insert(HecBody);
        if self.status == StatusCode::UNAUTHORIZED {
            for c in CHALLENGES {
                res.headers_mut()
                    .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
            }
        }
        res
    }
}

/// Per-channel acknowledgement ids, bounded.
#[derive(Debug)]
pub(crate) struct AckState {
    channels: Mutex<AckMap>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct AckMap {
    channels: HashMap<String, Channel>,
    clock: u64,
}

#[derive(Debug)]
struct Channel {
    /// The next id to hand out; every smaller id is committed.
    next: u64,
    /// When it was last used (for eviction).
    used: u64,
}

impl AckState {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            channels: Mutex::new(AckMap::default()),
            capacity: capacity.max(1),
        }
    }

    /// Hands out the next id of `channel`. Call only after the request's
    /// events are committed.
    fn issue(&self, channel: &str) -> u64 {
        let mut m = self.channels.lock();
        m.clock += 1;
        let now = m.clock;
        if !m.channels.contains_key(channel) && m.channels.len() >= self.capacity {
            let oldest = m
                .channels
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                m.channels.remove(&k);
            }
        }
        let c = m
            .channels
            .entry(channel.to_owned())
            .or_insert(Channel { next: 0, used: now });
        c.used = now;
        let id = c.next;
        c.next += 1;
        id
    }

    /// Whether each id was handed out (and so committed) on `channel`.
    fn query(&self, channel: &str, ids: &[u64]) -> BTreeMap<String, bool> {
        let mut m = self.channels.lock();
        m.clock += 1;
        let now = m.clock;
        let next = m.channels.get_mut(channel).map(|c| {
            c.used = now;
            c.next
        });
        ids.iter()
            .map(|id| (id.to_string(), next.is_some_and(|n| *id < n)))
            .collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.channels.lock().channels.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EventLabels {
    endpoint: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

/// HEC metrics: requests by endpoint and HEC code, events accepted and
/// rejected, bytes received.
#[derive(Debug, Clone, Default)]
pub(crate) struct HecMetrics {
    requests: Family<RequestLabels, Counter>,
    events: Family<EventLabels, Counter>,
    bytes: Family<EndpointLabels, Counter>,
}

impl HecMetrics {
    pub(crate) fn register(&self, reg: &mut Registry) {
        reg.register(
            "vigil_hec_requests",
            "HEC requests by endpoint and HEC status code (0 is success)",
            self.requests.clone(),
        );
        reg.register(
            "vigil_hec_events",
            "HEC events by endpoint and outcome (accepted = committed)",
            self.events.clone(),
        );
        reg.register(
            "vigil_hec_received_bytes",
            "HEC request body bytes as sent (before decompression)",
            self.bytes.clone(),
        );
    }

    fn request(&self, endpoint: &'static str, code: u16) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, code })
            .inc();
    }

    fn events(&self, endpoint: &'static str, outcome: &'static str, n: usize) {
        if n > 0 {
            self.events
                .get_or_create(&EventLabels { endpoint, outcome })
                .inc_by(n as u64);
        }
    }
}

/// The HEC part of the server state.
#[derive(Debug)]
pub(crate) struct HecState {
    pub(crate) acks: AckState,
    pub(crate) metrics: HecMetrics,
}

impl HecState {
    pub(crate) fn new(ack_channels: usize) -> Self {
        Self {
            acks: AckState::new(ack_channels),
            metrics: HecMetrics::default(),
        }
    }
}

/// Query parameters of the event endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventParams {
    /// The data channel (instead of the `X-Splunk-Request-Channel` header);
    /// with one, the answer carries an `ackId`.
    channel: Option<String>,
}

/// Query parameters of the raw endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RawParams {
    /// The data channel (instead of the `X-Splunk-Request-Channel` header).
    channel: Option<String>,
    /// Host of every event (sets `host` when a line names none).
    host: Option<String>,
    /// Source label of every event; by default, `hec`.
    source: Option<String>,
    /// Accepted for compatibility; not stored.
    sourcetype: Option<String>,
    /// Accepted for compatibility; not stored.
    index: Option<String>,
}

fn query<T: serde::de::DeserializeOwned + Default>(req: &Request) -> Result<T, HecReply> {
    if req.uri().query().is_none() {
        return Ok(T::default());
    }
    axum::extract::Query::<T>::try_from_uri(req.uri())
        .map(|axum::extract::Query(v)| v)
        .map_err(|_| HecReply::invalid(None))
}

/// The request's channel, header first; `Err` for an unusable one.
fn channel(headers: &HeaderMap, param: Option<String>) -> Result<Option<String>, HecReply> {
    let from_header = headers
        .get(CHANNEL_HEADER)
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| HecReply::channel_invalid())?;
    let Some(c) = from_header.or(param) else {
        return Ok(None);
    };
    let c = c.trim().to_owned();
    if c.is_empty() || c.len() > MAX_CHANNEL_BYTES || c.chars().any(char::is_control) {
        return Err(HecReply::channel_invalid());
    }
    Ok(Some(c))
}

fn meta(v: Option<String>) -> Result<Option<String>, HecReply> {
    match v {
        Some(s) if s.len() > MAX_META_BYTES || s.chars().any(char::is_control) => {
            Err(HecReply::invalid(None))
        }
        Some(s) if s.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// True if the body is declared gzip; `Err` for other encodings.
fn declared_gzip(headers: &HeaderMap) -> Result<bool, HecReply> {
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
        _ => Err(HecReply::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            6,
            "Invalid data format",
        )),
    }
}

/// Reads, measures and (if gzip) decompresses the body.
async fn read_body(
    state: &AppState,
    endpoint: &'static str,
    req: Request,
) -> Result<Bytes, HecReply> {
    let gzip = declared_gzip(req.headers())?;
    let body = Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HecReply::too_large()
        } else {
            HecReply::invalid(None)
        }
    })?;
    state
        .inner
        .hec
        .metrics
        .bytes
        .get_or_create(&EndpointLabels { endpoint })
        .inc_by(body.len() as u64);
    if !(gzip || vigil_ingest::is_gzip(&body)) {
        return Ok(body);
    }
    let max = state.config.max_decompressed_bytes;
    tokio::task::spawn_blocking(move || vigil_ingest::gunzip_bounded(&body, max))
        .await
        .map_err(|_| HecReply::internal())?
        .map(Bytes::from)
        .map_err(|e| match e {
            vigil_ingest::Error::TooLarge => HecReply::too_large(),
            _ => HecReply::invalid(None),
        })
}

/// Commits events and hands out the ack id.
async fn commit(
    state: &AppState,
    endpoint: &'static str,
    events: Vec<Event>,
    channel: Option<&str>,
) -> Result<HecReply, HecReply> {
    let n = events.len();
    if n > 0 {
        state.pipeline.submit(events).await.map_err(|e| match e {
            vigil_pipeline::Error::ShuttingDown => HecReply::busy(),
            other => {
                tracing::error!(error = %other, "hec commit failed");
                HecReply::internal()
            }
        })?;
    }
    state.inner.hec.metrics.events(endpoint, "accepted", n);
    let ack = match channel {
        Some(c) if state.config.hec_ack => Some(state.inner.hec.acks.issue(c)),
        _ => None,
    };
    Ok(HecReply::success(ack))
}

/// Counts the answer and turns it into a response.
fn finish(state: &AppState, endpoint: &'static str, r: Result<HecReply, HecReply>) -> Response {
    let r = r.unwrap_or_else(|e| e);
    state.inner.hec.metrics.request(endpoint, r.body.code);
    r.into_response()
}

async fn handle_event(state: AppState, p: vigil_model::Principal, req: Request) -> Response {
    let endpoint = "event";
    let r = async {
        let params: EventParams = query(&req)?;
        let channel = channel(req.headers(), params.channel)?;
        let _permit = state
            .inner
            .ingest_permits
            .acquire()
            .await
            .map_err(|_| HecReply::internal())?;
        let body = read_body(&state, endpoint, req).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(HecReply::no_data());
        }
        let registry = state.pipeline.registry().clone();
        let opts = ParseOptions {
            tenant: p.tenant,
            source: "hec".to_owned(),
            received_at: state.clock.now(),
            max_event_bytes: state.config.max_event_bytes,
        };
        let parsed = tokio::task::spawn_blocking(move || {
            let n = vigil_ingest::split_hec_events(&body).map_or(0, |v| v.len());
            vigil_ingest::parse_hec_body(&body, &registry, &opts).map_err(|e| (e, n))
        })
        .await
        .map_err(|_| HecReply::internal())?;
        let events = match parsed {
            Ok(ev) => ev,
            Err((e, n)) => {
                state
                    .inner
                    .hec
                    .metrics
                    .events(endpoint, "rejected", n.max(e.event + 1));
                state.pipeline.metrics().events_rejected.inc();
                return Err(HecReply::rejected(&e));
            }
        };
        if events.is_empty() {
            return Err(HecReply::no_data());
        }
        commit(&state, endpoint, events, channel.as_deref()).await
    }
    .await;
    finish(&state, endpoint, r)
}

/// Splunk's event endpoint and its two aliases: one handler
/// (`handle_event`) and one OpenAPI description, at three paths.
macro_rules! hec_event_route {
    ($name:ident, $path:tt, $doc:tt) => {
        #[doc = $doc]
        #[utoipa::path(
            post,
            path = $path,
            tag = "hec",
            params(EventParams, ("X-Splunk-Request-Channel" = Option<String>, Header, description = "Data channel; enables the `ackId` in the answer")),
            request_body(
                description = "One or more HEC event objects, concatenated (not an array); may be gzip-compressed",
                content((String = "application/json"), (String = "text/plain"))
            ),
            security(("splunk" = []), ("bearer" = []), ("basic" = [])),
            responses(
                (status = 200, description = "All events committed", body = HecResponse),
                (status = 400, description = "No data, invalid data format, event field missing or blank, bad channel", body = HecResponse),
                (status = 401, description = "Token is required / invalid authorization", body = HecResponse),
                (status = 403, description = "Invalid token or role not allowed", body = HecResponse),
                (status = 413, description = "The body, compressed or not, is over the limit", body = HecResponse),
                (status = 415, description = "Unsupported Content-Encoding", body = HecResponse),
                (status = 503, description = "Server is busy (shutting down)", body = HecResponse),
            )
        )]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            Auth(p): Auth,
            req: Request,
        ) -> Response {
            handle_event(state, p, req).await
        }
    };
}

hec_event_route!(
    event,
    "/services/collector/event",
    " Sends HEC event objects (Splunk's `/services/collector/event`)."
);
hec_event_route!(
    collector,
    "/services/collector",
    " Sends HEC event objects (alias of `/services/collector/event`)."
);
hec_event_route!(
    event_v1,
    "/services/collector/event/1.0",
    " Sends HEC event objects (alias of `/services/collector/event`)."
);

/// Sends line-broken raw events (Splunk's `/services/collector/raw`).
#[utoipa::path(
    post,
    path = "/services/collector/raw",
    tag = "hec",
    params(RawParams, ("X-Splunk-Request-Channel" = Option<String>, Header, description = "Data channel; enables the `ackId` in the answer")),
    request_body(
        description = "Raw events, one per line (JSON objects and syslog lines are parsed); may be gzip-compressed",
        content((String = "text/plain"))
    ),
    security(("splunk" = []), ("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "All events committed", body = HecResponse),
        (status = 400, description = "No data, invalid data format, bad channel or parameter", body = HecResponse),
        (status = 401, description = "Token is required / invalid authorization", body = HecResponse),
        (status = 403, description = "Invalid token or role not allowed", body = HecResponse),
        (status = 413, description = "The body, compressed or not, is over the limit", body = HecResponse),
        (status = 415, description = "Unsupported Content-Encoding", body = HecResponse),
        (status = 503, description = "Server is busy (shutting down)", body = HecResponse),
    )
)]
pub(crate) async fn raw(State(state): State<AppState>, Auth(p): Auth, req: Request) -> Response {
    let endpoint = "raw";
    let r = async {
        let params: RawParams = query(&req)?;
        let channel = channel(req.headers(), params.channel)?;
        let host = meta(params.host)?;
        let source = meta(params.source)?.unwrap_or_else(|| "hec".to_owned());
        let _ = (meta(params.sourcetype)?, meta(params.index)?);
        let _permit = state
            .inner
            .ingest_permits
            .acquire()
            .await
            .map_err(|_| HecReply::internal())?;
        let body = read_body(&state, endpoint, req).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(HecReply::no_data());
        }
        let registry = state.pipeline.registry().clone();
        let opts = ParseOptions {
            tenant: p.tenant,
            source,
            received_at: state.clock.now(),
            max_event_bytes: state.config.max_event_bytes,
        };
        let parsed = tokio::task::spawn_blocking(move || parse_raw(&body, &registry, &opts, host))
            .await
            .map_err(|_| HecReply::internal())?;
        let events = match parsed {
            Ok(ev) => ev,
            Err(line) => {
                state.inner.hec.metrics.events(endpoint, "rejected", 1);
                state.pipeline.metrics().events_rejected.inc();
                return Err(HecReply::invalid(Some(line)));
            }
        };
        commit(&state, endpoint, events, channel.as_deref()).await
    }
    .await;
    finish(&state, endpoint, r)
}

/// Raw lines: JSON objects or syslog; a line that starts like JSON but is
/// not is kept as text. `Err` holds the 0-based number of the first
/// non-blank line that is still refused (non-UTF-8 or oversized).
fn parse_raw(
    body: &[u8],
    registry: &vigil_model::FieldRegistry,
    opts: &ParseOptions,
    host: Option<String>,
) -> Result<Vec<Event>, usize> {
    let batch = vigil_ingest::parse_lines(body, InputFormat::Auto, registry, opts, 1);
    let mut events = batch.events;
    if !batch.errors.is_empty() {
        let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
        for err in &batch.errors {
            let idx = (err.line - 1) as usize;
            let line = lines.get(idx).copied().unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match vigil_ingest::parse_syslog_record(line, registry, opts) {
                Ok(e) => events.push(e),
                Err(_) => {
                    // The event number counts non-blank lines before it.
                    let n = lines[..idx.min(lines.len())]
                        .iter()
                        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                        .count();
                    return Err(n);
                }
            }
        }
    }
    if let Some(h) = host {
        for e in &mut events {
            if e.host.is_none() {
                e.host = Some(h.as_str().into());
            }
        }
    }
    Ok(events)
}

/// HEC health (public).
#[utoipa::path(
    get,
    path = "/services/collector/health",
    tag = "hec",
    responses(
        (status = 200, description = "HEC is healthy", body = HecResponse),
    )
)]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    finish(
        &state,
        "health",
        Ok(HecReply::new(StatusCode::OK, 17, "HEC is healthy")),
    )
}

/// Indexer acknowledgement: which ack ids of a channel are committed.
#[utoipa::path(
    post,
    path = "/services/collector/ack",
    tag = "hec",
    params(EventParams, ("X-Splunk-Request-Channel" = Option<String>, Header, description = "The data channel the ids were handed out on")),
    request_body(content = AckRequest, content_type = "application/json"),
    security(("splunk" = []), ("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Each asked id with whether its events are committed", body = AckResponse),
        (status = 400, description = "Invalid data format, data channel missing or invalid, ACK disabled", body = HecResponse),
        (status = 401, description = "Token is required / invalid authorization", body = HecResponse),
        (status = 403, description = "Invalid token or role not allowed", body = HecResponse),
        (status = 413, description = "The body is over the limit", body = HecResponse),
        (status = 415, description = "Unsupported Content-Encoding", body = HecResponse),
    )
)]
pub(crate) async fn ack(State(state): State<AppState>, Auth(_p): Auth, req: Request) -> Response {
    let endpoint = "ack";
    let r: Result<AckResponse, HecReply> = async {
        if !state.config.hec_ack {
            return Err(HecReply::ack_disabled());
        }
        let params: EventParams = query(&req)?;
        let Some(channel) = channel(req.headers(), params.channel)? else {
            return Err(HecReply::channel_missing());
        };
        let body = read_body(&state, endpoint, req).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(HecReply::no_data());
        }
        let q: AckRequest = serde_json::from_slice(&body).map_err(|_| HecReply::invalid(None))?;
        if q.acks.len() > MAX_ACK_QUERY {
            return Err(HecReply::invalid(None));
        }
        Ok(AckResponse {
            acks: state.inner.hec.acks.query(&channel, &q.acks),
        })
    }
    .await;
    match r {
        Ok(a) => {
            state.inner.hec.metrics.request(endpoint, 0);
            let mut res = Json(a).into_response();
            res.extensions_mut().insert(HecBody);
            res
        }
        Err(e) => finish(&state, endpoint, Err::<HecReply, _>(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_per_channel_and_bounded() {
        let a = AckState::new(2);
        assert_eq!(a.issue("c1"), 0);
        assert_eq!(a.issue("c1"), 1);
        assert_eq!(a.issue("c2"), 0);
        let q = a.query("c1", &[0, 1, 2]);
        assert!(q["0"]);
        assert!(q["1"]);
        assert!(!q["2"]);
        assert!(!a.query("nope", &[0])["0"]);
        // c2 is now the least recently used; a third channel evicts it.
        a.query("c1", &[]);
        assert_eq!(a.issue("c3"), 0);
        assert_eq!(a.len(), 2);
        assert!(!a.query("c2", &[0])["0"]);
        assert!(a.query("c1", &[1])["1"]);
    }

    #[test]
    fn auth_failures_map_to_hec_codes() {
        assert_eq!(HecReply::auth(AuthFailure::Missing).body.code, 2);
        assert_eq!(HecReply::auth(AuthFailure::Scheme).body.code, 3);
        assert_eq!(HecReply::auth(AuthFailure::Malformed).body.code, 4);
        let r = HecReply::auth(AuthFailure::BadSecret);
        assert_eq!((r.status, r.body.code), (StatusCode::FORBIDDEN, 4));
        assert_eq!(HecReply::auth(AuthFailure::Role).body.code, 4);
    }

    #[test]
    fn bodies_serialise_like_splunk() {
        let j = |r: HecReply| serde_json::to_string(&r.body).unwrap_or_default();
        assert_eq!(j(HecReply::success(None)), r#"{"text":"Success","code":0}"#);
        assert_eq!(
            j(HecReply::success(Some(3))),
            r#"{"text":"Success","code":0,"ackId":3}"#
        );
        assert_eq!(
            j(HecReply::invalid(Some(2))),
            r#"{"text":"Invalid data format","code":6,"invalid-event-number":2}"#
        );
    }
}

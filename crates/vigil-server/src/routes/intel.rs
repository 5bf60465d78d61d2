//! `/api/v1/intel/…` and the blocklists: indicators (list, search, by id,
//! lookup), import of a STIX bundle, MISP event, CSV or plain list, export (STIX 2.1 or
//! CSV), the plain-text blocklists firewalls and DNS servers fetch (a
//! `feed`-role token over HTTP Basic works), and manual blocklist entries.
//! The logic is `crate::intel`'s, shared with the CLI.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vigil_intel::blocklist::BlocklistKind;
use vigil_store::IndicatorQuery;

use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, ErrorKind, Problem};
use crate::intel::{
    ExportFilter, ImportFormat, ImportOutcome, IndicatorView, Lookup, NewManualEntry,
    add_manual_entry, blocklist_text, import_document_as, indicator_page, lookup, parse_cursor,
    parse_ttl, remove_manual_entry, select, to_csv, to_stix,
};
use crate::routes::page_limit;
use crate::state::AppState;

/// A page of indicators.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndicatorPage {
    /// By type and value.
    items: Vec<IndicatorView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Filters and paging of the indicator list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IndicatorParams {
    /// Page size, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only these types, comma-separated (`ipv4,domain`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only values containing this (case-insensitive).
    q: Option<String>,
    /// Only confidence at or above this (0–100).
    #[param(maximum = 100)]
    min_confidence: Option<u8>,
}

/// Indicators, by type and value, filtered; one page.
#[utoipa::path(
    get,
    path = "/api/v1/intel/indicators",
    tag = "intel",
    params(IndicatorParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of indicators", body = IndicatorPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_indicators(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<IndicatorParams>,
) -> Result<Json<IndicatorPage>, AppError> {
    let limit = page_limit(q.limit)?;
    let f = ExportFilter::parse(
        &q.kind.into_iter().collect::<Vec<_>>(),
        q.min_confidence.unwrap_or(0),
        None,
        true,
        state.clock.now(),
    )?;
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let (rows, next_cursor) = state
        .timed(
            "query_indicators",
            indicator_page(
                &state.store,
                p.tenant,
                IndicatorQuery {
                    kinds: f.kinds.iter().map(|k| k.as_str().to_string()).collect(),
                    min_confidence: f.min_confidence,
                    contains: q.q.filter(|s| !s.is_empty()),
                    after,
                    ..IndicatorQuery::default()
                },
                limit,
            ),
        )
        .await?;
    Ok(Json(IndicatorPage {
        items: rows.iter().map(IndicatorView::from).collect(),
        next_cursor,
    }))
}

/// One indicator by id (`type:value`, URL-encoded), with its provenance,
/// context and sightings.
#[utoipa::path(
    get,
    path = "/api/v1/intel/indicators/{id}",
    tag = "intel",
    params(("id" = String, Path, description = "`type:value`, e.g. `ipv4:203.0.113.7` (URL-encoded)")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The indicator", body = IndicatorView),
        (status = 400, description = "The id is not type:value", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such indicator", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_indicator(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IndicatorView>, AppError> {
    let Some((kind, value)) = id.split_once(':') else {
        return Err(AppError::bad_request(format!(
            "id: {id:?} is not type:value"
        )));
    };
    let Some(r) = state
        .timed(
            "get_indicator",
            state.store.get_indicator(p.tenant, kind, value),
        )
        .await?
    else {
        return Err(AppError::not_found(format!("no indicator {id:?}")));
    };
    Ok(Json(IndicatorView::from(&r)))
}

/// Parameters of a lookup.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupParams {
    /// The value; defanged forms (`hxxp://`, `[.]`, `(dot)`) are accepted.
    value: String,
    /// Its type (`ipv4`, `domain`, `url`, `sha256`, …); by default, guessed.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
}

/// Looks a value up: refanged and normalised, then every stored indicator
/// that would match it in an event (exact, parent domains, CIDRs holding an
/// address, a URL's host).
#[utoipa::path(
    get,
    path = "/api/v1/intel/lookup",
    tag = "intel",
    params(LookupParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The normalised value and the matching indicators (empty when none)", body = Lookup),
        (status = 400, description = "Not a valid value of the type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn lookup_value(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<LookupParams>,
) -> Result<Json<Lookup>, AppError> {
    let l = state
        .timed(
            "intel_lookup",
            lookup(&state.store, p.tenant, &q.value, q.kind.as_deref()),
        )
        .await?;
    Ok(Json(l))
}

/// Parameters of an import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportParams {
    /// The feed name recorded as the indicators' source; by default `api`.
    feed: Option<String>,
}

/// The import format a request's `Content-Type` names: JSON (a STIX
/// bundle or MISP events, told apart by content), CSV or a plain list.
fn import_format(headers: &HeaderMap) -> Option<ImportFormat> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())?;
    match ctype.as_str() {
        "application/json" | "application/stix+json" => Some(ImportFormat::Json),
        "text/csv" => Some(ImportFormat::Csv),
        "text/plain" => Some(ImportFormat::Plain),
        _ => None,
    }
}

/// Imports a STIX 2.0/2.1 bundle or a MISP event document, or a list:
/// CSV (`text/csv`, the value in the first column) or one value per line
/// (`text/plain`), types guessed, `#` comments (gzip allowed with
/// `Content-Encoding`-free bodies: the bytes are sniffed). Bad objects or
/// lines are reported with their id or line number and reason and the rest
/// are imported; importing the same document twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/intel/import",
    tag = "intel",
    params(ImportParams),
    request_body(
        description = "A STIX bundle or MISP event JSON, a CSV list or a plain list",
        content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/plain"),
        )
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Counts per object type, what changed, and the rejected items", body = ImportOutcome),
        (status = 400, description = "The document as a whole is unreadable", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON, CSV or plain text", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportOutcome>, AppError> {
    let Some(format) = import_format(&headers) else {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "send the document as application/json (STIX or MISP), text/csv or text/plain",
        ));
    };
    let feed = q.feed.unwrap_or_else(|| "api".into());
    if feed.trim().is_empty() || feed.len() > 200 {
        return Err(AppError::bad_request("feed: 1 to 200 bytes"));
    }
    let out = import_audited(&state, &p, &body, &feed, format).await?;
    Ok(Json(out))
}

/// Imports a document in `format` as feed `feed` on behalf of `p` and
/// audits it (`intel.import`); shared by the API and the console's import
/// form.
pub(crate) async fn import_audited(
    state: &AppState,
    p: &vigil_model::Principal,
    body: &[u8],
    feed: &str,
    format: ImportFormat,
) -> Result<ImportOutcome, AppError> {
    let now = state.clock.now();
    let out = state
        .timed(
            "intel_import",
            import_document_as(&state.store, p.tenant, body, feed, format, now),
        )
        .await?;
    state
        .store
        .audit(&vigil_store::NewAudit {
            tenant: p.tenant,
            principal: p,
            action: "intel.import",
            target: &format!("feed:{feed}"),
            details: serde_json::json!({
                "format": out.format,
                "indicators_added": out.indicators_added,
                "indicators_updated": out.indicators_updated,
                "errors": out.errors.len(),
            }),
            at: now,
        })
        .await?;
    Ok(out)
}

/// Parameters of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportParams {
    /// `stix` (a STIX 2.1 bundle, the default) or `csv`.
    format: Option<String>,
    /// Only these types, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only confidence at or above this (0–100).
    #[param(maximum = 100)]
    min_confidence: Option<u8>,
    /// Only indicators shareable at this TLP level (`clear`, `green`,
    /// `amber`, `amber+strict`, `red`); no TLP counts as clear.
    tlp: Option<String>,
    /// Also indicators not valid now.
    include_expired: Option<bool>,
}

/// Exports indicators as a STIX 2.1 bundle (stable ids) or CSV.
#[utoipa::path(
    get,
    path = "/api/v1/intel/export",
    tag = "intel",
    params(ExportParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A STIX 2.1 bundle (application/stix+json) or CSV (text/csv)", content(
            (Object = "application/stix+json;version=2.1"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ExportParams>,
) -> Result<Response, AppError> {
    let f = ExportFilter::parse(
        &q.kind.into_iter().collect::<Vec<_>>(),
        q.min_confidence.unwrap_or(0),
        q.tlp.as_deref(),
        q.include_expired.unwrap_or(false),
        state.clock.now(),
    )?;
    let csv = match q.format.as_deref().unwrap_or("stix") {
        "stix" => false,
        "csv" => true,
        other => {
            return Err(AppError::bad_request(format!(
                "format: {other:?} is not stix or csv"
            )));
        }
    };
    let rows = state
        .timed("intel_export", select(&state.store, p.tenant, &f))
        .await?;
    Ok(if csv {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"))],
            to_csv(&rows),
        )
            .into_response()
    } else {
        let (bundle, _) = to_stix(&rows);
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/stix+json;version=2.1"),
            )],
            bundle.to_string(),
        )
            .into_response()
    })
}

/// Filters of a blocklist.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BlocklistParams {
    /// Only indicators with confidence at or above this (0–100); manual
    /// entries are always listed.
    #[param(maximum = 100)]
    min_confidence: Option<u8>,
    /// Only indicators shareable at this TLP level (`clear`, `green`,
    /// `amber`, `amber+strict`, `red`); no TLP counts as clear.
    tlp: Option<String>,
}

/// A plain-text blocklist for firewalls, proxies and DNS: one value per
/// line, sorted — valid indicators of the list's types plus active manual
/// entries. Lists: `ips`, `cidrs`, `domains`, `urls`, `hashes` (with or
/// without `.txt`). Readable by `feed` tokens, also as the HTTP Basic
/// password.
#[utoipa::path(
    get,
    path = "/api/v1/blocklists/{list}",
    tag = "intel",
    params(
        ("list" = String, Path, description = "`ips.txt`, `cidrs.txt`, `domains.txt`, `urls.txt` or `hashes.txt`"),
        BlocklistParams,
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "One value per line", body = String, content_type = "text/plain"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn blocklist(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(list): ApiPath<String>,
    ApiQuery(q): ApiQuery<BlocklistParams>,
) -> Result<Response, AppError> {
    let name = list.strip_suffix(".txt").unwrap_or(&list);
    let Ok(kind) = name.parse::<BlocklistKind>() else {
        return Err(AppError::not_found(format!(
            "no blocklist {list:?} (ips, cidrs, domains, urls, hashes)"
        )));
    };
    let f = ExportFilter::parse(
        &[],
        q.min_confidence.unwrap_or(0),
        q.tlp.as_deref(),
        false,
        state.clock.now(),
    )?;
    let (text, n) = state
        .timed(
            "blocklist",
            blocklist_text(
                &state.store,
                p.tenant,
                kind,
                f.min_confidence,
                f.tlp,
                state.clock.now(),
            ),
        )
        .await?;
    let mut res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
        res.headers_mut().insert("x-vigil-entries", v);
    }
    Ok(res)
}

/// A manual blocklist entry.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BlocklistEntryDto {
    /// `type:value`, the entry's id.
    id: String,
    /// Indicator type.
    #[serde(rename = "type")]
    kind: String,
    /// Normalised value.
    value: String,
    /// Why it is blocked.
    reason: String,
    /// Who added it (`token:<id>`, `system:cli:<user>`, `playbook:<id>`).
    added_by: String,
    /// When it was (last) added, RFC 3339.
    created_at: String,
    /// When it stops being served, RFC 3339; absent: until removed.
    expires_at: Option<String>,
}

impl From<&vigil_store::BlocklistEntry> for BlocklistEntryDto {
    fn from(e: &vigil_store::BlocklistEntry) -> Self {
        BlocklistEntryDto {
            id: format!("{}:{}", e.kind, e.value),
            kind: e.kind.clone(),
            value: e.value.clone(),
            reason: e.reason.clone(),
            added_by: e.added_by.clone(),
            created_at: e.created_at.to_rfc3339(),
            expires_at: e.expires_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// The manual blocklist entries.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BlocklistEntryList {
    /// Active entries, by type and value.
    items: Vec<BlocklistEntryDto>,
}

/// A value to block.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlocklistEntryInput {
    /// IP, CIDR, domain, URL or file hash (defanged forms accepted).
    value: String,
    /// Its type; by default, guessed.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// Why (required).
    reason: String,
    /// How long: `30m`, `24h`, `7d`, `2w`; by default, until removed.
    #[serde(default)]
    ttl: Option<String>,
}

/// The active manual blocklist entries.
#[utoipa::path(
    get,
    path = "/api/v1/blocklist-entries",
    tag = "intel",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The entries", body = BlocklistEntryList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_entries(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<BlocklistEntryList>, AppError> {
    let entries = state
        .timed(
            "list_blocklist_entries",
            state
                .store
                .list_blocklist_entries(p.tenant, &[], state.clock.now(), false),
        )
        .await?;
    Ok(Json(BlocklistEntryList {
        items: entries.iter().map(BlocklistEntryDto::from).collect(),
    }))
}

/// Blocks a value with a reason, for a while or until removed; adding it
/// again renews it.
#[utoipa::path(
    post,
    path = "/api/v1/blocklist-entries",
    tag = "intel",
    request_body = BlocklistEntryInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The new entry", body = BlocklistEntryDto),
        (status = 200, description = "The renewed entry", body = BlocklistEntryDto),
        (status = 400, description = "Invalid value, type, reason or ttl", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_entry(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(a): ApiJson<BlocklistEntryInput>,
) -> Result<(StatusCode, Json<BlocklistEntryDto>), AppError> {
    let ttl = a.ttl.as_deref().map(parse_ttl).transpose()?;
    let now = state.clock.now();
    let (e, new) = state
        .timed(
            "add_blocklist_entry",
            add_manual_entry(
                &state.store,
                p.tenant,
                &NewManualEntry {
                    value: &a.value,
                    kind: a.kind.as_deref(),
                    reason: &a.reason,
                    ttl_micros: ttl,
                },
                &p,
                now,
            ),
        )
        .await?;
    state
        .store
        .audit(&vigil_store::NewAudit::new(
            p.tenant,
            &p,
            "blocklist.add",
            &format!("blocklist-entry:{}:{}", e.kind, e.value),
            serde_json::json!({"reason": e.reason, "expires_at": e.expires_at}),
            now,
        ))
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(BlocklistEntryDto::from(&e))))
}

/// Removes a manual entry (id `type:value`, URL-encoded; the value is
/// normalised like on add).
#[utoipa::path(
    delete,
    path = "/api/v1/blocklist-entries/{id}",
    tag = "intel",
    params(("id" = String, Path, description = "`type:value`, e.g. `ipv4:198.51.100.9` (URL-encoded)")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The id is not type:value", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_entry(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    let Some((kind, value)) = id.split_once(':') else {
        return Err(AppError::bad_request(format!(
            "id: {id:?} is not type:value"
        )));
    };
    let now = state.clock.now();
    let removed = state
        .timed(
            "remove_blocklist_entry",
            remove_manual_entry(&state.store, p.tenant, value, Some(kind), now),
        )
        .await?;
    if !removed {
        return Err(AppError::not_found(format!("no blocklist entry {id:?}")));
    }
    state
        .store
        .audit(&vigil_store::NewAudit::new(
            p.tenant,
            &p,
            "blocklist.remove",
            &format!("blocklist-entry:{id}"),
            serde_json::json!({}),
            now,
        ))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

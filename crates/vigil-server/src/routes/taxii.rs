//! TAXII 2.1 server under `/taxii2/`: discovery, one API root
//! (`/taxii2/vigil/`), its collections, objects (GET with filters and
//! pagination, POST), object by id, versions, manifest and status.
//!
//! # Collection model
//!
//! - `intel` ([`INTEL_COLLECTION`]): read-only, every STIX object version
//!   Vigil stores (imports, feeds, TAXII posts) — the knowledge graph.
//! - `inbox` ([`INBOX_COLLECTION`]): read-write; objects posted here are
//!   stored in the knowledge graph (so they also appear in `intel`) and
//!   handed to the intel importer ([`IntelSink`]), which turns matchable
//!   indicators into indicators the detector matches.
//!
//! Roles: reading (`feed`, `viewer`, `analyst`, `admin`), writing
//! (`analyst`, `admin`); `can_write` in a collection resource reflects the
//! caller's role. Credentials are the API tokens, as `Bearer` or as the
//! password of HTTP Basic (what TAXII clients send).
//!
//! Every answer is `application/taxii+json;version=2.1`; an `Accept` that
//! does not allow it gets 406, a POST body of another media type 415;
//! errors are TAXII error messages (the `finalize` middleware converts the
//! authorization layer's refusals too). Pages are ordered by (date added,
//! id, version); `next` is an opaque cursor of that key, so it stays valid
//! while objects are added.

use std::future::Future;
use std::pin::Pin;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use vigil_model::{Role, TenantId, Timestamp};
use vigil_store::{
    StixObjectRecord, TaxiiCursor, TaxiiQuery, TaxiiRow, TaxiiStatusRecord, VersionFilter,
};

use crate::auth::Auth;
use crate::state::AppState;

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";
/// The path prefix of the TAXII routes.
pub(crate) const PREFIX: &str = "/taxii2/";
/// The API root's path.
pub const API_ROOT: &str = "/taxii2/vigil/";
/// The read-only collection of every stored STIX object.
pub const INTEL_COLLECTION: &str = "3f2a4c1e-9b7d-4e5a-8c61-0a7e5b9d2c01";
/// The writable collection.
pub const INBOX_COLLECTION: &str = "3f2a4c1e-9b7d-4e5a-8c61-0a7e5b9d2c02";

/// Page size when the client names none.
const DEFAULT_PAGE: u32 = 100;
/// Largest page; larger `limit`s are lowered to it (TAXII lets servers
/// return fewer objects than asked).
const MAX_PAGE: u32 = 1000;
/// Most objects one POST may carry.
const MAX_POST_OBJECTS: usize = 100_000;

/// What the intel importer did with posted objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntelImport {
    /// Indicators added.
    pub added: usize,
    /// Indicators updated.
    pub updated: usize,
    /// Objects rejected by the importer, with reasons (`(id, reason)`).
    pub errors: Vec<(String, String)>,
}

/// Turns posted STIX objects into matchable indicators (the binary wires
/// the intel importer and detector reload in; without one, posted objects
/// are stored in the knowledge graph only).
pub trait IntelSink: Send + Sync {
    /// Imports `objects` (STIX JSON objects) from `source`.
    fn import(
        &self,
        tenant: TenantId,
        objects: Vec<Value>,
        source: String,
    ) -> Pin<Box<dyn Future<Output = Result<IntelImport, String>> + Send + '_>>;
}

/// Marks a TAXII answer so `finalize` leaves it alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaxiiBody;

/// A TAXII 2.1 error message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct TaxiiError {
    /// Short summary.
    title: String,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// The HTTP status, as a string.
    http_status: String,
}

/// A failed TAXII request.
#[derive(Debug)]
pub(crate) struct TaxiiErr {
    status: StatusCode,
    title: &'static str,
    description: Option<String>,
}

impl TaxiiErr {
    fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            title,
            description: Some(description.into()),
        }
    }
    fn bad_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", d)
    }
    fn not_found(d: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", d)
    }
    fn forbidden(d: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", d)
    }
    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "taxii request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the server failed to handle the request; see its log",
        )
    }
}

impl From<vigil_store::Error> for TaxiiErr {
    fn from(e: vigil_store::Error) -> Self {
        TaxiiErr::internal(e)
    }
}

impl IntoResponse for TaxiiErr {
    fn into_response(self) -> Response {
        error_response(self.status, self.title, self.description)
    }
}

/// A TAXII error message response; 401s carry the Basic and Bearer
/// challenges.
pub(crate) fn error_response(
    status: StatusCode,
    title: &str,
    description: Option<String>,
) -> Response {
    let body = TaxiiError {
        title: title.to_owned(),
        description,
        http_status: status.as_u16().to_string(),
    };
    let mut res = reply(status, &body, &[]);
    if status == StatusCode::UNAUTHORIZED {
        for c in crate::error::CHALLENGES {
            res.headers_mut()
                .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
    }
    res
}

fn reply(status: StatusCode, body: &impl Serialize, extra: &[(&'static str, String)]) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut res = (status, bytes).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA));
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            res.headers_mut().insert(*k, v);
        }
    }
    res.extensions_mut().insert(TaxiiBody);
    res
}

/// Whether a media type names TAXII 2.1 (`version` absent or `2.1`).
fn is_taxii21(media: &str) -> bool {
    let mut parts = media.split(';').map(str::trim);
    let Some(ty) = parts.next() else {
        return false;
    };
    if !ty.eq_ignore_ascii_case("application/taxii+json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("version") => v.trim() == "2.1",
        _ => true,
    })
}

/// 406 unless `Accept` is absent or allows TAXII 2.1.
fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiErr> {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let ok = values.iter().flat_map(|v| v.split(',')).any(|m| {
        let m = m.trim();
        let ty = m.split(';').next().unwrap_or("").trim();
        ty == "*/*" || ty.eq_ignore_ascii_case("application/*") || is_taxii21(m)
    });
    if ok {
        Ok(())
    } else {
        Err(TaxiiErr::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers {TAXII_MEDIA} only"),
        ))
    }
}

fn can_write(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Analyst)
}

/// A collection of the API root.
struct Collection {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    writable: bool,
    /// `None`: every stored object; `Some`: a membership collection.
    members: Option<&'static str>,
}

const COLLECTIONS: &[Collection] = &[
    Collection {
        id: INTEL_COLLECTION,
        title: "Vigil intelligence",
        description: "Every STIX object Vigil stores: imports, feeds and TAXII posts (read-only)",
        writable: false,
        members: None,
    },
    Collection {
        id: INBOX_COLLECTION,
        title: "Vigil inbox",
        description: "Objects posted to Vigil; their indicators are matched against events",
        writable: true,
        members: Some(INBOX_COLLECTION),
    },
];

fn collection(id: &str) -> Result<&'static Collection, TaxiiErr> {
    COLLECTIONS
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| TaxiiErr::not_found(format!("no collection {id}")))
}

fn collection_json(c: &Collection, role: Role) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": true,
        "can_write": c.writable && can_write(role),
        "media_types": ["application/stix+json;version=2.1"],
    })
}

fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn parse_ts(what: &str, s: &str) -> Result<Timestamp, TaxiiErr> {
    Timestamp::parse_rfc3339(s.trim())
        .ok_or_else(|| TaxiiErr::bad_request(format!("{what}: {s:?} is not an RFC 3339 timestamp")))
}

/// The filters of a TAXII GET.
#[derive(Debug, Default)]
struct Filters {
    added_after: Option<Timestamp>,
    ids: Vec<String>,
    types: Vec<String>,
    versions: Option<VersionFilter>,
    spec_versions: Vec<String>,
    limit: u32,
    next: Option<TaxiiCursor>,
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_filters(uri: &Uri) -> Result<Filters, TaxiiErr> {
    let pairs: Vec<(String, String)> =
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| q.0)
            .map_err(|e| TaxiiErr::bad_request(e.body_text()))?;
    let mut f = Filters {
        limit: DEFAULT_PAGE,
        ..Filters::default()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "added_after" => f.added_after = Some(parse_ts("added_after", &v)?),
            "limit" => {
                let n: u32 = v.trim().parse().map_err(|_| {
                    TaxiiErr::bad_request(format!("limit: {v:?} is not a positive integer"))
                })?;
                f.limit = if n == 0 {
                    DEFAULT_PAGE
                } else {
                    n.min(MAX_PAGE)
                };
            }
            "next" => f.next = Some(parse_cursor(&v)?),
            "match[id]" => f.ids.extend(split_list(&v)),
            "match[type]" => f.types.extend(split_list(&v)),
            "match[spec_version]" => f.spec_versions.extend(split_list(&v)),
            "match[version]" => {
                let vf = f.versions.get_or_insert_with(VersionFilter::default);
                for item in split_list(&v) {
                    match item.as_str() {
                        "first" => vf.first = true,
                        "last" => vf.last = true,
                        "all" => vf.all = true,
                        t => vf.at.push(parse_ts("match[version]", t)?),
                    }
                }
            }
            other if other.starts_with("match[") => {
                return Err(TaxiiErr::bad_request(format!(
                    "{other}: unsupported filter (supported: id, type, version, spec_version)"
                )));
            }
            _ => {}
        }
    }
    Ok(f)
}

fn cursor_text(r: &TaxiiRow) -> String {
    format!(
        "{}_{}_{}",
        r.added.as_micros(),
        r.modified.as_micros(),
        r.id
    )
}

fn parse_cursor(s: &str) -> Result<TaxiiCursor, TaxiiErr> {
    let bad = || TaxiiErr::bad_request(format!("next: {s:?} is not a cursor this server issued"));
    let mut it = s.splitn(3, '_');
    let added = it
        .next()
        .and_then(|x| x.parse::<i64>().ok())
        .ok_or_else(bad)?;
    let modified = it
        .next()
        .and_then(|x| x.parse::<i64>().ok())
        .ok_or_else(bad)?;
    let id = it.next().filter(|x| !x.is_empty()).ok_or_else(bad)?;
    Ok(TaxiiCursor {
        added: Timestamp::from_micros(added),
        id: id.to_owned(),
        modified: Timestamp::from_micros(modified),
    })
}

/// One page of a collection's object versions, and whether more follow.
async fn page(
    state: &AppState,
    tenant: TenantId,
    c: &Collection,
    f: &Filters,
    ids: Vec<String>,
    default_versions: VersionFilter,
    with_body: bool,
) -> Result<(Vec<TaxiiRow>, bool), TaxiiErr> {
    let q = TaxiiQuery {
        collection: c.members.map(str::to_owned),
        added_after: f.added_after,
        ids,
        types: f.types.clone(),
        spec_versions: f.spec_versions.clone(),
        versions: f.versions.clone().unwrap_or(default_versions),
        after: f.next.clone(),
        limit: f.limit.saturating_add(1),
        with_body,
    };
    let mut rows = state.store.query_taxii_objects(tenant, &q).await?;
    let more = rows.len() > f.limit as usize;
    rows.truncate(f.limit as usize);
    Ok((rows, more))
}

fn last_only() -> VersionFilter {
    VersionFilter {
        last: true,
        ..VersionFilter::default()
    }
}

/// The envelope-style answer of a page: `more`, `next`, the items under
/// `key`, and the date-added headers.
fn page_reply(rows: &[TaxiiRow], more: bool, key: &str, items: Vec<Value>) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("more".into(), json!(more));
    if more && let Some(last) = rows.last() {
        body.insert("next".into(), json!(cursor_text(last)));
    }
    if !items.is_empty() {
        body.insert(key.into(), Value::Array(items));
    }
    let mut headers = Vec::new();
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        headers.push(("x-taxii-date-added-first", ts(first.added)));
        headers.push(("x-taxii-date-added-last", ts(last.added)));
    }
    reply(StatusCode::OK, &Value::Object(body), &headers)
}

/// Server discovery.
#[utoipa::path(
    get,
    path = "/taxii2/",
    tag = "taxii",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The discovery resource", content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn discovery(headers: HeaderMap) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    Ok(reply(
        StatusCode::OK,
        &json!({
            "title": "Vigil TAXII 2.1 server",
            "description": "Threat intelligence stored by Vigil",
            "default": API_ROOT,
            "api_roots": [API_ROOT],
        }),
        &[],
    ))
}

/// The API root's information.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/",
    tag = "taxii",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The API root resource", content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn api_root(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    Ok(reply(
        StatusCode::OK,
        &json!({
            "title": "Vigil",
            "description": "Vigil's intelligence: the knowledge graph (read-only) and an inbox",
            "versions": [TAXII_MEDIA],
            "max_content_length": state.config.max_body_bytes,
        }),
        &[],
    ))
}

/// The API root's collections.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/collections/",
    tag = "taxii",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The collections", content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn collections(Auth(p): Auth, headers: HeaderMap) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let items: Vec<Value> = COLLECTIONS
        .iter()
        .map(|c| collection_json(c, p.role))
        .collect();
    Ok(reply(StatusCode::OK, &json!({ "collections": items }), &[]))
}

/// One collection.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/collections/{id}/",
    tag = "taxii",
    params(("id" = String, Path, description = "Collection id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The collection", content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such collection", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn get_collection(
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let c = collection(&id)?;
    Ok(reply(StatusCode::OK, &collection_json(c, p.role), &[]))
}

/// Objects of a collection: filters `added_after`, `match[id]`,
/// `match[type]`, `match[version]` (default `last`), `match[spec_version]`;
/// pages by `limit` and `next`.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/collections/{id}/objects/",
    tag = "taxii",
    params(
        ("id" = String, Path, description = "Collection id"),
        ("added_after" = Option<String>, Query, description = "Only objects added after this time"),
        ("limit" = Option<u32>, Query, description = "Page size (default 100, at most 1000)"),
        ("next" = Option<String>, Query, description = "The `next` value of the previous page"),
        ("match[id]" = Option<String>, Query, description = "Comma-separated object ids"),
        ("match[type]" = Option<String>, Query, description = "Comma-separated object types"),
        ("match[version]" = Option<String>, Query, description = "`last` (default), `first`, `all` or versions, comma-separated"),
        ("match[spec_version]" = Option<String>, Query, description = "Comma-separated STIX spec versions"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "An envelope", content_type = "application/taxii+json;version=2.1"),
        (status = 400, description = "A bad filter", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such collection", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn get_objects(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let c = collection(&id)?;
    let f = parse_filters(&uri)?;
    let (rows, more) = page(&state, p.tenant, c, &f, f.ids.clone(), last_only(), true).await?;
    let items = rows.iter().filter_map(|r| r.body.clone()).collect();
    Ok(page_reply(&rows, more, "objects", items))
}

/// Whether `s` is a STIX type name (`a-z`, `0-9`, `-`, 3–250 characters).
fn valid_type(s: &str) -> bool {
    (3..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks one posted object and turns it into a record.
fn object_record(o: &Value, source: &str) -> Result<StixObjectRecord, (String, String)> {
    let id = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    let fail = |m: String| (id.clone(), m);
    let Some(obj) = o.as_object() else {
        return Err(fail("not a JSON object".into()));
    };
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("type: missing".into()))?;
    if !valid_type(kind) {
        return Err(fail(format!("type: {kind:?} is not a STIX type")));
    }
    let Some((prefix, uuid)) = id.split_once("--") else {
        return Err(fail(format!("id: {id:?} is not <type>--<uuid>")));
    };
    if prefix != kind || uuid.len() != 36 {
        return Err(fail(format!("id: {id:?} is not {kind}--<uuid>")));
    }
    let time = |k: &str| -> Result<Option<Timestamp>, (String, String)> {
        match obj.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(Timestamp::parse_rfc3339)
                .map(Some)
                .ok_or_else(|| fail(format!("{k}: not an RFC 3339 timestamp"))),
        }
    };
    let modified = time("modified")?;
    let created = time("created")?;
    let relationship = (kind == "relationship").then(|| {
        let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        (s("relationship_type"), s("source_ref"), s("target_ref"))
    });
    Ok(StixObjectRecord {
        id: id.clone(),
        kind: kind.to_owned(),
        modified: modified.or(created).unwrap_or(Timestamp::from_micros(0)),
        spec_version: obj
            .get("spec_version")
            .and_then(Value::as_str)
            .unwrap_or("2.1")
            .to_owned(),
        name: obj.get("name").and_then(Value::as_str).map(str::to_owned),
        revoked: obj.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        source: source.to_owned(),
        body: o.clone(),
        relationship,
    })
}

fn is_taxii_content(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_taxii21)
}

/// Adds the objects of an envelope to a writable collection. Processing is
/// synchronous: the status resource answered is `complete`.
#[utoipa::path(
    post,
    path = "/taxii2/vigil/collections/{id}/objects/",
    tag = "taxii",
    params(("id" = String, Path, description = "Collection id")),
    request_body(content = Value, description = "A TAXII envelope (`{\"objects\": [...]}`)", content_type = "application/taxii+json;version=2.1"),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 202, description = "The status resource", content_type = "application/taxii+json;version=2.1"),
        (status = 400, description = "Not an envelope", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed, or a read-only collection", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such collection", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 413, description = "The body exceeds max_content_length", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 415, description = "The body is not application/taxii+json;version=2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn post_objects(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let c = collection(&id)?;
    if !c.writable {
        return Err(TaxiiErr::forbidden(format!("collection {id} is read-only")));
    }
    if !is_taxii_content(&headers) {
        return Err(TaxiiErr::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("the body must be {TAXII_MEDIA}"),
        ));
    }
    let envelope: Value = serde_json::from_slice(&body)
        .map_err(|e| TaxiiErr::bad_request(format!("the body is not JSON: {e}")))?;
    if !envelope.is_object() {
        return Err(TaxiiErr::bad_request("the body is not a TAXII envelope"));
    }
    let objects = match envelope.get("objects") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(TaxiiErr::bad_request("objects: must be an array")),
    };
    if objects.len() > MAX_POST_OBJECTS {
        return Err(TaxiiErr::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too many objects",
            format!("at most {MAX_POST_OBJECTS} objects per request"),
        ));
    }
    let now = state.clock.now();
    let source = format!("taxii:{}", p.name);
    let mut records = Vec::new();
    let mut failures = Vec::new();
    for o in &objects {
        match object_record(o, &source) {
            Ok(r) => records.push(r),
            Err((id, message)) => failures.push(json!({ "id": id, "message": message })),
        }
    }
    state
        .store
        .upsert_stix_objects(p.tenant, &records, now)
        .await?;
    let members: Vec<(String, Timestamp)> =
        records.iter().map(|r| (r.id.clone(), r.modified)).collect();
    if let Some(m) = c.members {
        state
            .store
            .add_taxii_members(p.tenant, m, &members, now)
            .await?;
    }
    if let Some(sink) = state.inner.intel_sink.as_ref()
        && !records.is_empty()
    {
        let bodies = records.iter().map(|r| r.body.clone()).collect();
        match sink.import(p.tenant, bodies, source.clone()).await {
            Ok(r) => {
                tracing::info!(
                    added = r.added,
                    updated = r.updated,
                    rejected = r.errors.len(),
                    "taxii objects imported"
                );
                for (id, reason) in r.errors.iter().take(20) {
                    tracing::warn!(id, reason, "taxii object not imported as intel");
                }
            }
            Err(e) => tracing::error!(error = e, "taxii objects not imported as intel"),
        }
    }
    let successes: Vec<Value> = records
        .iter()
        .map(|r| json!({ "id": r.id, "version": ts(r.modified) }))
        .collect();
    let status = TaxiiStatusRecord {
        id: uuid::Uuid::now_v7().to_string(),
        collection: c.id.to_owned(),
        status: "complete".into(),
        requested_at: now,
        successes: Value::Array(successes),
        failures: Value::Array(failures),
        pendings: json!([]),
    };
    state.store.put_taxii_status(p.tenant, &status).await?;
    Ok(reply(StatusCode::ACCEPTED, &status_json(&status), &[]))
}

fn status_json(s: &TaxiiStatusRecord) -> Value {
    let n = |v: &Value| v.as_array().map_or(0, Vec::len);
    json!({
        "id": s.id,
        "status": s.status,
        "request_timestamp": ts(s.requested_at),
        "total_count": n(&s.successes) + n(&s.failures) + n(&s.pendings),
        "success_count": n(&s.successes),
        "successes": s.successes,
        "failure_count": n(&s.failures),
        "failures": s.failures,
        "pending_count": n(&s.pendings),
        "pendings": s.pendings,
    })
}

async fn exists(
    state: &AppState,
    tenant: TenantId,
    c: &Collection,
    object_id: &str,
) -> Result<bool, TaxiiErr> {
    let q = TaxiiQuery {
        collection: c.members.map(str::to_owned),
        ids: vec![object_id.to_owned()],
        versions: VersionFilter {
            all: true,
            ..VersionFilter::default()
        },
        limit: 1,
        ..TaxiiQuery::default()
    };
    Ok(!state
        .store
        .query_taxii_objects(tenant, &q)
        .await?
        .is_empty())
}

/// One object (its last version unless `match[version]` says otherwise).
#[utoipa::path(
    get,
    path = "/taxii2/vigil/collections/{id}/objects/{object_id}/",
    tag = "taxii",
    params(
        ("id" = String, Path, description = "Collection id"),
        ("object_id" = String, Path, description = "STIX object id"),
        ("added_after" = Option<String>, Query, description = "Only versions added after this time"),
        ("limit" = Option<u32>, Query, description = "Page size"),
        ("next" = Option<String>, Query, description = "The `next` value of the previous page"),
        ("match[version]" = Option<String>, Query, description = "`last` (default), `first`, `all` or versions"),
        ("match[spec_version]" = Option<String>, Query, description = "STIX spec versions"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "An envelope", content_type = "application/taxii+json;version=2.1"),
        (status = 400, description = "A bad filter", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such collection or object", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn get_object(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path((id, object_id)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let c = collection(&id)?;
    let f = parse_filters(&uri)?;
    let (rows, more) = page(
        &state,
        p.tenant,
        c,
        &f,
        vec![object_id.clone()],
        last_only(),
        true,
    )
    .await?;
    if rows.is_empty() && !exists(&state, p.tenant, c, &object_id).await? {
        return Err(TaxiiErr::not_found(format!(
            "no object {object_id} in collection {id}"
        )));
    }
    let items = rows.iter().filter_map(|r| r.body.clone()).collect();
    Ok(page_reply(&rows, more, "objects", items))
}

/// The versions of one object.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/collections/{id}/objects/{object_id}/versions/",
    tag = "taxii",
    params(
        ("id" = String, Path, description = "Collection id"),
        ("object_id" = String, Path, description = "STIX object id"),
        ("added_after" = Option<String>, Query, description = "Only versions added after this time"),
        ("limit" = Option<u32>, Query, description = "Page size"),
        ("next" = Option<String>, Query, description = "The `next` value of the previous page"),
        ("match[spec_version]" = Option<String>, Query, description = "STIX spec versions"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The versions", content_type = "application/taxii+json;version=2.1"),
        (status = 400, description = "A bad filter", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such collection or object", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn get_versions(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path((id, object_id)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let c = collection(&id)?;
    let mut f = parse_filters(&uri)?;
    f.versions = None;
    let all = VersionFilter {
        all: true,
        ..VersionFilter::default()
    };
    let (rows, more) = page(&state, p.tenant, c, &f, vec![object_id.clone()], all, false).await?;
    if rows.is_empty() && !exists(&state, p.tenant, c, &object_id).await? {
        return Err(TaxiiErr::not_found(format!(
            "no object {object_id} in collection {id}"
        )));
    }
    let items = rows.iter().map(|r| json!(ts(r.modified))).collect();
    Ok(page_reply(&rows, more, "versions", items))
}

/// The manifest of a collection: id, date added, version and media type of
/// each object version, with the same filters and pages as objects.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/collections/{id}/manifest/",
    tag = "taxii",
    params(
        ("id" = String, Path, description = "Collection id"),
        ("added_after" = Option<String>, Query, description = "Only objects added after this time"),
        ("limit" = Option<u32>, Query, description = "Page size"),
        ("next" = Option<String>, Query, description = "The `next` value of the previous page"),
        ("match[id]" = Option<String>, Query, description = "Comma-separated object ids"),
        ("match[type]" = Option<String>, Query, description = "Comma-separated object types"),
        ("match[version]" = Option<String>, Query, description = "`last` (default), `first`, `all` or versions"),
        ("match[spec_version]" = Option<String>, Query, description = "STIX spec versions"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The manifest", content_type = "application/taxii+json;version=2.1"),
        (status = 400, description = "A bad filter", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such collection", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn get_manifest(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let c = collection(&id)?;
    let f = parse_filters(&uri)?;
    let (rows, more) = page(&state, p.tenant, c, &f, f.ids.clone(), last_only(), false).await?;
    let items = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "date_added": ts(r.added),
                "version": ts(r.modified),
                "media_type": format!("application/stix+json;version={}", r.spec_version),
            })
        })
        .collect();
    Ok(page_reply(&rows, more, "objects", items))
}

/// A status resource of an earlier POST.
#[utoipa::path(
    get,
    path = "/taxii2/vigil/status/{status_id}/",
    tag = "taxii",
    params(("status_id" = String, Path, description = "Status id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The status resource", content_type = "application/taxii+json;version=2.1"),
        (status = 401, description = "Missing or invalid token", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 403, description = "Role not allowed", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 404, description = "No such status", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
        (status = 406, description = "Accept does not allow TAXII 2.1", body = TaxiiError, content_type = "application/taxii+json;version=2.1"),
    )
)]
pub(crate) async fn get_status(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(status_id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Response, TaxiiErr> {
    check_accept(&headers)?;
    let s = state
        .store
        .get_taxii_status(p.tenant, &status_id)
        .await?
        .ok_or_else(|| TaxiiErr::not_found(format!("no status {status_id}")))?;
    Ok(reply(StatusCode::OK, &status_json(&s), &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert!(is_taxii21("application/taxii+json;version=2.1"));
        assert!(is_taxii21("application/taxii+json; version=2.1"));
        assert!(is_taxii21("application/taxii+json"));
        assert!(!is_taxii21("application/taxii+json;version=2.0"));
        assert!(!is_taxii21("application/json"));
        let mut h = HeaderMap::new();
        assert!(check_accept(&h).is_ok());
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(
            check_accept(&h).err().map(|e| e.status),
            Some(StatusCode::NOT_ACCEPTABLE)
        );
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, application/taxii+json;version=2.1"),
        );
        assert!(check_accept(&h).is_ok());
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let row = TaxiiRow {
            id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
            kind: "indicator".into(),
            modified: Timestamp::from_micros(7),
            spec_version: "2.1".into(),
            added: Timestamp::from_micros(1_000),
            body: None,
        };
        let c = parse_cursor(&cursor_text(&row)).ok();
        assert_eq!(
            c,
            Some(TaxiiCursor {
                added: row.added,
                id: row.id.clone(),
                modified: row.modified
            })
        );
        for bad in ["", "x", "1_2_", "a_2_id"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn posted_objects_are_checked() {
        let ok = json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "spec_version": "2.1", "created": "2020-01-01T00:00:00Z", "modified": "2020-02-01T00:00:00.5Z"});
        let r = object_record(&ok, "t").map_err(|e| e.1);
        assert_eq!(
            r.as_ref().map(|r| r.modified),
            Ok(Timestamp::parse_rfc3339("2020-02-01T00:00:00.5Z")
                .unwrap_or(Timestamp::from_micros(0)))
        );
        for (bad, why) in [
            (json!({"id": "x--1"}), "type: missing"),
            (
                json!({"type": "indicator", "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}),
                "id:",
            ),
            (
                json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "modified": "yesterday"}),
                "modified:",
            ),
            (json!("string"), "not a JSON object"),
        ] {
            let e = object_record(&bad, "t")
                .err()
                .map(|e| e.1)
                .unwrap_or_default();
            assert!(e.starts_with(why), "{bad}: {e}");
        }
    }
}

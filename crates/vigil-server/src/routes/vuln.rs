//! `/api/v1/assets`, `/api/v1/findings`, `/api/v1/vulnerabilities`: the
//! asset inventory, findings (filtered, keyset-paged by id) with triage
//! (accept until a date, false positive, reopen), and the stored OSV
//! records of a vulnerability, and SBOM upload per asset
//! (`POST /api/v1/assets/{id}/sbom`), which matches, reconciles and
//! prioritises through `vigil-vulnops` exactly as `vigil sbom import` does.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vigil_store::{AssetRecord, FindingQuery, FindingRecord, NewAsset};

use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Problem};
use crate::routes::page_limit;
use crate::state::AppState;

/// An asset.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AssetDto {
    /// Id.
    id: String,
    /// Unique name.
    name: String,
    /// `host` or `application`.
    kind: String,
    /// IP addresses.
    ips: Vec<String>,
    /// Operating system.
    os: Option<String>,
    /// Owner.
    owner: Option<String>,
    /// Business criticality 1–5.
    criticality: u8,
    /// `internet-facing`, `internal` or `isolated`.
    exposure: String,
    /// `personal`, `health`, `payment`.
    data_classes: Vec<String>,
    /// Tags.
    tags: Vec<String>,
    /// How it came to exist: `manual`, or `seen_in_events` (created from
    /// the hosts events name).
    source: String,
    /// When events last named it, RFC 3339.
    last_seen: Option<String>,
    /// Created, RFC 3339.
    created_at: String,
    /// Last change, RFC 3339.
    updated_at: String,
}

impl From<&AssetRecord> for AssetDto {
    fn from(a: &AssetRecord) -> Self {
        let n = &a.asset;
        AssetDto {
            id: a.id.clone(),
            name: n.name.clone(),
            kind: n.kind.clone(),
            ips: n.ips.clone(),
            os: n.os.clone(),
            owner: n.owner.clone(),
            criticality: n.criticality,
            exposure: n.exposure.clone(),
            data_classes: n.data_classes.clone(),
            tags: n.tags.clone(),
            source: a.source.clone(),
            last_seen: a.last_seen.map(|t| t.to_rfc3339()),
            created_at: a.created_at.to_rfc3339(),
            updated_at: a.updated_at.to_rfc3339(),
        }
    }
}

/// The assets.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AssetList {
    /// By name.
    items: Vec<AssetDto>,
}

/// An asset to create or update (by name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetInput {
    /// Unique name.
    name: String,
    /// `host` (default) or `application`.
    #[serde(default)]
    kind: Option<String>,
    /// IP addresses.
    #[serde(default)]
    ips: Vec<String>,
    /// Operating system.
    #[serde(default)]
    os: Option<String>,
    /// Owner.
    #[serde(default)]
    owner: Option<String>,
    /// Business criticality 1–5; default 3.
    #[serde(default)]
    criticality: Option<u8>,
    /// `internet-facing`, `internal` (default) or `isolated`.
    #[serde(default)]
    exposure: Option<String>,
    /// `personal`, `health`, `payment`.
    #[serde(default)]
    data_classes: Vec<String>,
    /// Tags.
    #[serde(default)]
    tags: Vec<String>,
}

/// A finding.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingDto {
    /// Id.
    id: String,
    /// Asset id.
    asset_id: String,
    /// `sbom`, `host`, `scan:<format>`.
    source: String,
    /// Component purl.
    component: String,
    /// Package name.
    package: String,
    /// Installed version.
    version: String,
    /// OSV ecosystem.
    ecosystem: String,
    /// Canonical vulnerability id.
    vulnerability: String,
    /// All its ids.
    aliases: Vec<String>,
    /// Summary.
    summary: Option<String>,
    /// Severity.
    severity: String,
    /// CVSS vector.
    cvss_vector: Option<String>,
    /// CVSS base score.
    cvss_score: Option<f64>,
    /// Versions that fix it.
    fixed_versions: Vec<String>,
    /// `open`, `fixed`, `reopened`, `accepted`, `false_positive`.
    status: String,
    /// SSVC deployer decision.
    decision: String,
    /// Risk score 0–100.
    risk: f64,
    /// Prioritisation inputs and reasoning.
    #[schema(value_type = Object)]
    explanation: serde_json::Value,
    /// SLA due date (open and reopened findings).
    sla_due: Option<String>,
    /// First seen.
    first_seen: String,
    /// Last seen present.
    last_seen: String,
    /// When found fixed.
    fixed_at: Option<String>,
    /// Acceptance expiry.
    accepted_until: Option<String>,
    /// Justification of a triage decision.
    reason: Option<String>,
    /// Who decided.
    decided_by: Option<String>,
    /// Last change.
    updated_at: String,
}

impl From<&FindingRecord> for FindingDto {
    fn from(f: &FindingRecord) -> Self {
        let t = |x: Option<vigil_model::Timestamp>| x.map(|t| t.to_rfc3339());
        FindingDto {
            id: f.id.clone(),
            asset_id: f.asset_id.clone(),
            source: f.source.clone(),
            component: f.component.clone(),
            package: f.package.clone(),
            version: f.version.clone(),
            ecosystem: f.ecosystem.clone(),
            vulnerability: f.vulnerability.clone(),
            aliases: f.aliases.clone(),
            summary: f.summary.clone(),
            severity: f.severity.clone(),
            cvss_vector: f.cvss_vector.clone(),
            cvss_score: f.cvss_score.map(|s| s as f64 / 10.0),
            fixed_versions: f.fixed_versions.clone(),
            status: f.status.clone(),
            decision: f.decision.clone(),
            risk: f.risk as f64 / 100.0,
            explanation: f.explanation.clone(),
            sla_due: t(f.sla_due),
            first_seen: f.first_seen.to_rfc3339(),
            last_seen: f.last_seen.to_rfc3339(),
            fixed_at: t(f.fixed_at),
            accepted_until: t(f.accepted_until),
            reason: f.reason.clone(),
            decided_by: f.decided_by.clone(),
            updated_at: f.updated_at.to_rfc3339(),
        }
    }
}

/// An asset with its components.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AssetDetail {
    /// The asset.
    asset: AssetDto,
    /// Component purls, by source.
    components: Vec<ComponentDto>,
}

/// A component of an asset.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ComponentDto {
    /// `sbom`, `host`, ….
    source: String,
    /// Purl.
    purl: String,
    /// Name.
    name: String,
    /// Version.
    version: Option<String>,
    /// OSV ecosystem.
    ecosystem: Option<String>,
}

/// A page of findings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingPage {
    /// Findings by id.
    items: Vec<FindingDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Filters and paging of the findings list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FindingParams {
    /// Page size, 1 to 1000; by default, 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only this status (open, fixed, reopened, accepted, false_positive).
    status: Option<String>,
    /// Only this asset (id).
    asset: Option<String>,
    /// Only this decision (immediate, out-of-cycle, scheduled, defer).
    decision: Option<String>,
}

/// A triage decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FindingPatch {
    /// `accepted` (needs `accepted_until` and `reason`), `false_positive`
    /// or `open` (undoes either).
    status: String,
    /// Acceptance expiry, RFC 3339, in the future.
    #[serde(default)]
    accepted_until: Option<String>,
    /// Justification.
    #[serde(default)]
    reason: Option<String>,
}

/// The stored OSV records of a vulnerability.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VulnerabilityDto {
    /// The id asked for.
    id: String,
    /// Every OSV record whose id or aliases include it.
    #[schema(value_type = Vec<Object>)]
    records: Vec<serde_json::Value>,
}

/// The assets of the caller's tenant.
#[utoipa::path(
    get,
    path = "/api/v1/assets",
    tag = "vulnerabilities",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The assets", body = AssetList),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_assets(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<AssetList>, AppError> {
    let assets = state
        .timed("list_assets", state.store.list_assets(p.tenant))
        .await?;
    Ok(Json(AssetList {
        items: assets.iter().map(AssetDto::from).collect(),
    }))
}

/// Creates an asset, or updates the one with the same name.
#[utoipa::path(
    post,
    path = "/api/v1/assets",
    tag = "vulnerabilities",
    request_body = AssetInput,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 201, description = "The stored asset", body = AssetDto),
        (status = 400, description = "Invalid asset (the reason names the field)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_asset(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(a): ApiJson<AssetInput>,
) -> Result<(StatusCode, Json<AssetDto>), AppError> {
    let lower = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect()
    };
    let asset = NewAsset {
        name: a.name,
        kind: a.kind.unwrap_or_else(|| "host".into()).to_ascii_lowercase(),
        ips: a.ips,
        os: a.os,
        owner: a.owner,
        criticality: a.criticality.unwrap_or(3),
        exposure: a
            .exposure
            .unwrap_or_else(|| "internal".into())
            .to_ascii_lowercase(),
        data_classes: lower(a.data_classes),
        tags: a.tags,
    };
    let now = state.clock.now();
    let (rec, _) = state
        .timed(
            "upsert_asset",
            state.store.upsert_asset(p.tenant, &asset, now),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(AssetDto::from(&rec))))
}

/// One asset (by id or name) with its components.
#[utoipa::path(
    get,
    path = "/api/v1/assets/{id}",
    tag = "vulnerabilities",
    params(("id" = String, Path, description = "Asset id or name")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The asset", body = AssetDetail),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_asset(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AssetDetail>, AppError> {
    let Some(a) = state
        .timed("get_asset", state.store.get_asset(p.tenant, &id))
        .await?
    else {
        return Err(AppError::not_found(format!("no asset {id:?}")));
    };
    let comps = state
        .timed(
            "list_components",
            state.store.list_components(p.tenant, &a.id),
        )
        .await?;
    Ok(Json(AssetDetail {
        asset: AssetDto::from(&a),
        components: comps
            .into_iter()
            .map(|c| ComponentDto {
                source: c.source,
                purl: c.purl,
                name: c.name,
                version: c.version,
                ecosystem: c.ecosystem,
            })
            .collect(),
    }))
}

/// Findings, by id, filtered; one page.
#[utoipa::path(
    get,
    path = "/api/v1/findings",
    tag = "vulnerabilities",
    params(FindingParams),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of findings", body = FindingPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_findings(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<FindingParams>,
) -> Result<Json<FindingPage>, AppError> {
    let limit = page_limit(q.limit)?;
    if let Some(s) = &q.status
        && !vigil_store::FINDING_STATUSES.contains(&s.as_str())
    {
        return Err(AppError::bad_request(format!(
            "status: {s:?} is not one of {}",
            vigil_store::FINDING_STATUSES.join(", ")
        )));
    }
    let query = FindingQuery {
        asset_id: q.asset,
        statuses: q.status.into_iter().collect(),
        decision: q.decision,
        after: q.cursor,
        limit: limit + 1,
    };
    let mut items = state
        .timed("list_findings", state.store.list_findings(p.tenant, &query))
        .await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|f| f.id.clone())
    } else {
        None
    };
    Ok(Json(FindingPage {
        items: items.iter().map(FindingDto::from).collect(),
        next_cursor,
    }))
}

/// One finding.
#[utoipa::path(
    get,
    path = "/api/v1/findings/{id}",
    tag = "vulnerabilities",
    params(("id" = String, Path, description = "Finding id")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The finding", body = FindingDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_finding(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FindingDto>, AppError> {
    match state
        .timed("get_finding", state.store.get_finding(p.tenant, &id))
        .await?
    {
        Some(f) => Ok(Json(FindingDto::from(&f))),
        None => Err(AppError::not_found(format!("no finding {id:?}"))),
    }
}

/// Triage: accept the risk until a date, mark as false positive, or open
/// again. Audited.
#[utoipa::path(
    patch,
    path = "/api/v1/findings/{id}",
    tag = "vulnerabilities",
    params(("id" = String, Path, description = "Finding id")),
    request_body = FindingPatch,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The finding after the change", body = FindingDto),
        (status = 400, description = "Invalid change", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn patch_finding(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<FindingPatch>,
) -> Result<Json<FindingDto>, AppError> {
    let now = state.clock.now();
    let Some(mut f) = state
        .timed("get_finding", state.store.get_finding(p.tenant, &id))
        .await?
    else {
        return Err(AppError::not_found(format!("no finding {id:?}")));
    };
    let reason = patch
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    match patch.status.as_str() {
        "accepted" => {
            let until = patch
                .accepted_until
                .as_deref()
                .and_then(vigil_model::Timestamp::parse_rfc3339)
                .ok_or_else(|| {
                    AppError::bad_request("accepted_until: an RFC 3339 time is required")
                })?;
            if until <= now {
                return Err(AppError::bad_request(
                    "accepted_until: must be in the future",
                ));
            }
            if reason.is_none() {
                return Err(AppError::bad_request(
                    "reason: say why the risk is accepted",
                ));
            }
            if !matches!(f.status.as_str(), "open" | "reopened" | "accepted") {
                return Err(AppError::bad_request(format!(
                    "status: the finding is {}; only open or reopened findings can be accepted",
                    f.status
                )));
            }
            f.accepted_until = Some(until);
            f.sla_due = None;
        }
        "false_positive" => {
            f.accepted_until = None;
            f.sla_due = None;
        }
        "open" => {
            f.accepted_until = None;
        }
        other => {
            return Err(AppError::bad_request(format!(
                "status: {other:?} is not accepted, false_positive or open"
            )));
        }
    }
    f.status = patch.status;
    f.reason = reason;
    f.since = now;
    match state
        .timed(
            "triage_finding",
            state.store.triage_finding(p.tenant, &f, &p, now),
        )
        .await?
    {
        Some(f) => Ok(Json(FindingDto::from(&f))),
        None => Err(AppError::not_found(format!("no finding {id:?}"))),
    }
}

/// The stored OSV records of a vulnerability (by OSV id or alias).
#[utoipa::path(
    get,
    path = "/api/v1/vulnerabilities/{id}",
    tag = "vulnerabilities",
    params(("id" = String, Path, description = "OSV id or alias (CVE-…, GHSA-…)")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The records", body = VulnerabilityDto),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No record has this id or alias", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_vulnerability(
    State(state): State<AppState>,
    Auth(_p): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VulnerabilityDto>, AppError> {
    let recs = state
        .timed("get_vuln_records", state.store.get_vuln_records(&id))
        .await?;
    if recs.is_empty() {
        return Err(AppError::not_found(format!(
            "no vulnerability {id:?} (import OSV data with `vigil vulns import osv`)"
        )));
    }
    Ok(Json(VulnerabilityDto {
        id,
        records: recs
            .iter()
            .filter_map(|r| serde_json::from_str(&r.record).ok())
            .collect(),
    }))
}

/// What an SBOM upload did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SbomImportResult {
    /// Asset id.
    asset_id: String,
    /// `cyclonedx-json`, `cyclonedx-xml`, `spdx-json`, `spdx-tag-value`.
    format: String,
    /// Distinct components stored (by purl).
    components: usize,
    /// Entries skipped, with their location.
    problems: Vec<String>,
    /// New findings.
    opened: usize,
    /// Findings whose vulnerable version is gone.
    fixed: usize,
    /// Fixed findings whose vulnerable version is back.
    reopened: usize,
    /// Findings still present.
    unchanged: usize,
}

/// Media types an SBOM upload may carry (parameters such as `charset` are
/// ignored; the format itself is detected from the content).
const SBOM_MEDIA_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.cyclonedx+json",
    "application/spdx+json",
    "application/xml",
    "text/xml",
    "application/vnd.cyclonedx+xml",
    "text/spdx",
    "text/plain",
    "application/gzip",
    "application/octet-stream",
];

/// Uploads an SBOM as the asset's components (replacing the previous
/// SBOM's), matches them against the stored OSV records and reconciles the
/// asset's SBOM findings: new ones open, missing ones fixed, returning ones
/// reopened; each is prioritised (SSVC, risk, SLA).
#[utoipa::path(
    post,
    path = "/api/v1/assets/{id}/sbom",
    tag = "vulnerabilities",
    params(("id" = String, Path, description = "Asset id or name")),
    request_body(
        description = "CycloneDX JSON or XML (1.4 to 1.6) or SPDX 2.3 JSON or tag-value, gzip ok",
        content(
            (String = "application/vnd.cyclonedx+json"),
            (String = "application/vnd.cyclonedx+xml"),
            (String = "application/spdx+json"),
            (String = "text/spdx"),
            (String = "application/json"),
            (String = "application/xml"),
            (String = "application/gzip")
        )
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Components stored and findings reconciled", body = SbomImportResult),
        (status = 400, description = "Not a CycloneDX or SPDX document (the reason says where)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over max_body_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported Content-Type", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn upload_sbom(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SbomImportResult>, AppError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !SBOM_MEDIA_TYPES.contains(&ctype.as_str()) {
        return Err(AppError::new(
            crate::error::ErrorKind::UnsupportedMediaType,
            format!(
                "Content-Type {ctype:?}: send the SBOM as one of {}",
                SBOM_MEDIA_TYPES.join(", ")
            ),
        ));
    }
    let Some(asset) = state
        .timed("get_asset", state.store.get_asset(p.tenant, &id))
        .await?
    else {
        return Err(AppError::not_found(format!(
            "no asset {id:?} (create it with POST /api/v1/assets)"
        )));
    };
    if body.is_empty() {
        return Err(AppError::bad_request("empty body: send the SBOM document"));
    }
    let doc = tokio::task::spawn_blocking(move || vigil_vuln::sbom::parse_bytes(&body))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::bad_request(format!("not a CycloneDX or SPDX document: {e}")))?;
    let format = serde_json::to_value(doc.format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let now = state.clock.now();
    let out = state
        .timed(
            "import_sbom",
            vigil_vulnops::import_sbom(
                &state.store,
                p.tenant,
                &state.vuln,
                &asset,
                "sbom",
                doc.components,
                now,
            ),
        )
        .await
        .map_err(|e| match e {
            vigil_vulnops::Error::Store(e) => AppError::from(e),
            other => AppError::internal(other),
        })?;
    Ok(Json(SbomImportResult {
        asset_id: asset.id,
        format,
        components: out.components,
        problems: doc.problems,
        opened: out.findings.opened,
        fixed: out.findings.fixed,
        reopened: out.findings.reopened,
        unchanged: out.findings.unchanged,
    }))
}

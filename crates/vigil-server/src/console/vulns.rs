//! The console's vulnerability pages: open findings ranked by risk score
//! (filtered by SSVC decision, asset, KEV, overdue SLA; keyset-paged on
//! `(risk, id)`) under a per-decision summary, and one asset with its
//! findings by decision.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value as Json, json};
use vigil_model::{Principal, Timestamp};
use vigil_store::{AssetRecord, FindingRecord, RankedFindingQuery};

use super::intel::{param, query_string, segment};
use super::pages::{frame, merge, render_json, when};
use super::session::ConsoleSession;
use crate::error::AppError;
use crate::state::AppState;

/// Page size of the findings list.
const FINDINGS_PAGE: u32 = 50;

/// The most findings an asset page lists.
const ASSET_FINDINGS: u32 = 500;

/// The SSVC deployer decisions the prioritisation gives, most urgent
/// first.
const DECISIONS: [&str; 4] = ["immediate", "out-of-cycle", "scheduled", "defer"];

fn finding_row(f: &FindingRecord, asset: Option<&AssetRecord>, now: Timestamp) -> Json {
    let e = &f.explanation;
    json!({
        "id": f.id,
        "vulnerability": f.vulnerability,
        "aliases": f.aliases.iter().filter(|a| **a != f.vulnerability).collect::<Vec<_>>(),
        "summary": f.summary,
        "package": f.package,
        "version": f.version,
        "fixed": f.fixed_versions,
        "severity": f.severity,
        "cvss": f.cvss_score.map(|s| format!("{:.1}", s as f64 / 10.0)),
        "status": f.status,
        "decision": f.decision,
        "risk": format!("{:.2}", f.risk as f64 / 100.0),
        "kev": e["in_kev"].as_bool().unwrap_or(false),
        "epss": e["epss"].as_f64().map(|v| format!("{v:.3}")),
        "exploitation": e["exploitation"].as_str(),
        "reason": e["reason"].as_str(),
        "sla_due": f.sla_due.map(when),
        "overdue": f.sla_due.is_some_and(|t| t < now),
        "first_seen": when(f.first_seen),
        "asset_id": f.asset_id,
        "asset_href": format!("/assets/{}", segment(&f.asset_id)),
        "asset": asset.map_or(f.asset_id.as_str(), |a| a.asset.name.as_str()),
    })
}

/// A `(risk, id)` cursor: `risk:id`.
fn parse_after(c: &str) -> Result<(i64, String), AppError> {
    c.split_once(':')
        .and_then(|(r, id)| Some((r.parse().ok()?, id.to_owned())))
        .ok_or_else(|| AppError::bad_request("after: not a next-page cursor"))
}

/// `GET /vulns`: the summary and the ranked findings.
pub(crate) async fn findings(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let decision = param(&q, "decision");
    if let Some(d) = &decision
        && !DECISIONS.contains(&d.as_str())
    {
        return Err(AppError::bad_request(format!(
            "decision: {d:?} is not one of {}",
            DECISIONS.join(", ")
        )));
    }
    let flag = |k: &str| param(&q, k).is_some_and(|v| v == "1" || v == "on" || v == "true");
    let (kev, overdue) = (flag("kev"), flag("overdue"));
    let asset = match param(&q, "asset") {
        Some(a) => Some(
            state
                .store
                .get_asset(p.tenant, &a)
                .await?
                .ok_or_else(|| AppError::not_found(format!("no asset {a:?}")))?,
        ),
        None => None,
    };
    let after = param(&q, "after");
    let mut rows = state
        .timed(
            "ranked_findings",
            state.store.ranked_findings(
                p.tenant,
                &RankedFindingQuery {
                    decision: decision.clone(),
                    asset_id: asset.as_ref().map(|a| a.id.clone()),
                    kev,
                    overdue_at: overdue.then_some(now),
                    after: after.as_deref().map(parse_after).transpose()?,
                    limit: FINDINGS_PAGE + 1,
                    ..RankedFindingQuery::default()
                },
            ),
        )
        .await?;
    let more = rows.len() > FINDINGS_PAGE as usize;
    rows.truncate(FINDINGS_PAGE as usize);
    let summary = state
        .timed(
            "finding_summary",
            state.store.finding_summary(p.tenant, now),
        )
        .await?;
    // The page's assets, each read once (at most one per row).
    let mut assets: HashMap<String, AssetRecord> = HashMap::new();
    for f in &rows {
        if !assets.contains_key(&f.asset_id)
            && let Some(a) = state.store.get_asset(p.tenant, &f.asset_id).await?
        {
            assets.insert(f.asset_id.clone(), a);
        }
    }
    let filters = [
        ("decision", decision.clone()),
        ("asset", asset.as_ref().map(|a| a.asset.name.clone())),
        ("kev", kev.then(|| "1".to_owned())),
        ("overdue", overdue.then(|| "1".to_owned())),
    ];
    let next = more
        .then(|| rows.last().map(|f| format!("{}:{}", f.risk, f.id)))
        .flatten()
        .map(|c| {
            let mut pairs = filters.to_vec();
            pairs.push(("after", Some(c)));
            format!("/vulns?{}", query_string(&pairs))
        });
    let first = after.map(|_| format!("/vulns?{}", query_string(&filters)));
    let by_decision: Vec<Json> = DECISIONS
        .iter()
        .map(|d| {
            let c = summary.iter().find(|c| c.decision == *d);
            json!({
                "decision": d,
                "findings": c.map_or(0, |c| c.findings),
                "overdue": c.map_or(0, |c| c.overdue),
                "kev": c.map_or(0, |c| c.kev),
                "href": format!("/vulns?{}", query_string(&[("decision", Some((*d).to_owned()))])),
            })
        })
        .collect();
    let ctx = merge(
        frame(&p, &s, "vulns"),
        json!({
            "summary": by_decision,
            "open": summary.iter().map(|c| c.findings).sum::<i64>(),
            "overdue": summary.iter().map(|c| c.overdue).sum::<i64>(),
            "kev_open": summary.iter().map(|c| c.kev).sum::<i64>(),
            "findings": rows.iter().map(|f| finding_row(f, assets.get(&f.asset_id), now)).collect::<Vec<_>>(),
            "decisions": DECISIONS,
            "decision": decision,
            "asset": asset.as_ref().map(|a| a.asset.name.clone()),
            "kev": kev,
            "overdue_only": overdue,
            "next": next,
            "first": first,
        }),
    );
    Ok(render_json(&state, "vulns.html", ctx))
}

/// `GET /assets/{id}`: one asset (id or name) and its open findings by
/// decision, riskiest first.
pub(crate) async fn asset(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Extension(s): Extension<ConsoleSession>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let a = state
        .store
        .get_asset(p.tenant, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no asset {id:?}")))?;
    let components = state.store.list_components(p.tenant, &a.id).await?;
    let rows = state
        .timed(
            "ranked_findings",
            state.store.ranked_findings(
                p.tenant,
                &RankedFindingQuery {
                    asset_id: Some(a.id.clone()),
                    limit: ASSET_FINDINGS + 1,
                    ..RankedFindingQuery::default()
                },
            ),
        )
        .await?;
    let truncated = rows.len() > ASSET_FINDINGS as usize;
    let rows = &rows[..rows.len().min(ASSET_FINDINGS as usize)];
    let groups: Vec<Json> = DECISIONS
        .iter()
        .map(|d| {
            let items: Vec<Json> = rows
                .iter()
                .filter(|f| f.decision == *d)
                .map(|f| finding_row(f, Some(&a), now))
                .collect();
            json!({"decision": d, "findings": items})
        })
        .collect();
    let n = &a.asset;
    let ctx = merge(
        frame(&p, &s, "vulns"),
        json!({
            "asset": {
                "id": a.id,
                "name": n.name,
                "kind": n.kind,
                "ips": n.ips,
                "os": n.os,
                "owner": n.owner,
                "criticality": n.criticality,
                "exposure": n.exposure,
                "data_classes": n.data_classes,
                "tags": n.tags,
                "source": a.source,
                "last_seen": a.last_seen.map(when),
                "updated": when(a.updated_at),
                "components": components.len(),
            },
            "groups": groups,
            "open": rows.len(),
            "overdue": rows.iter().filter(|f| f.sla_due.is_some_and(|t| t < now)).count(),
            "truncated": truncated,
            "all_href": format!("/vulns?{}", query_string(&[("asset", Some(n.name.clone()))])),
        }),
    );
    Ok(render_json(&state, "asset.html", ctx))
}

//! Findings for people (block 5): the open findings of a tenant ranked by
//! risk score with keyset paging on `(risk, id)`, filtered by decision,
//! asset, KEV and overdue SLA, and the per-decision summary the console
//! shows above them. The ranking walks the `(tenant, risk DESC, id)`
//! index of migration 90001.

use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Error, Result, db};
use crate::row::RowExt;
use crate::vuln::{FINDING_COLUMNS, FINDING_STATUSES, FindingRecord, finding_from_row};

/// Which findings [`Store::ranked_findings`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RankedFindingQuery {
    /// Only these statuses; empty: the open ones (`open`, `reopened`).
    pub statuses: Vec<String>,
    /// Only this SSVC decision.
    pub decision: Option<String>,
    /// Only this asset (id).
    pub asset_id: Option<String>,
    /// Only findings of a vulnerability in CISA KEV.
    pub kev: bool,
    /// Only findings whose SLA due date is before this time.
    pub overdue_at: Option<Timestamp>,
    /// Only findings after this `(risk, id)` in the ranking (the last row
    /// of the previous page).
    pub after: Option<(i64, String)>,
    /// Page size, 1 to 1000.
    pub limit: u32,
}

/// One SSVC decision's open findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionCount {
    /// `immediate`, `out-of-cycle`, `scheduled`, `defer`.
    pub decision: String,
    /// Open and reopened findings with it.
    pub findings: i64,
    /// Those past their SLA due date.
    pub overdue: i64,
    /// Those of a vulnerability in CISA KEV.
    pub kev: i64,
}

impl Store {
    /// Findings by risk score, highest first (ties by id), one page.
    pub async fn ranked_findings(
        &self,
        tenant: TenantId,
        q: &RankedFindingQuery,
    ) -> Result<Vec<FindingRecord>> {
        const OP: &str = "ranked_findings";
        let statuses: Vec<String> = if q.statuses.is_empty() {
            vec!["open".into(), "reopened".into()]
        } else {
            q.statuses.clone()
        };
        for s in &statuses {
            if !FINDING_STATUSES.contains(&s.as_str()) {
                return Err(Error::Invalid(format!(
                    "finding status {s:?}: expected one of {}",
                    FINDING_STATUSES.join(", ")
                )));
            }
        }
        let mut sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = $1");
        let mut texts: Vec<String> = vec![tenant.to_string()];
        let mut n = 1;
        let ph: Vec<String> = statuses
            .iter()
            .map(|s| {
                texts.push(s.clone());
                n += 1;
                format!("${n}")
            })
            .collect();
        sql.push_str(&format!(" AND status IN ({})", ph.join(", ")));
        for (col, v) in [("decision", &q.decision), ("asset_id", &q.asset_id)] {
            if let Some(v) = v {
                texts.push(v.clone());
                n += 1;
                sql.push_str(&format!(" AND {col} = ${n}"));
            }
        }
        if q.kev {
            sql.push_str(kev_condition(self.engine()));
        }
        let mut ints: Vec<i64> = Vec::new();
        if let Some(t) = q.overdue_at {
            ints.push(t.as_micros());
            sql.push_str(&format!(
                " AND sla_due IS NOT NULL AND sla_due < ${}",
                n + ints.len()
            ));
        }
        let after_id = q.after.as_ref().map(|(risk, id)| {
            ints.push(*risk);
            let r = n + ints.len();
            (r, id.clone())
        });
        if let Some((r, _)) = &after_id {
            // `risk <= r` first: the `(tenant, risk DESC, id)` index starts
            // the walk at the cursor instead of the top.
            sql.push_str(&format!(
                " AND risk <= ${r} AND (risk < ${r} OR id > ${})",
                n + ints.len() + 1
            ));
        }
        let limit = q.limit.clamp(1, 1000);
        sql.push_str(&format!(" ORDER BY risk DESC, id LIMIT {limit}"));
        dispatch!(self, |pool, DB| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for t in &texts {
                query = query.bind(t.as_str());
            }
            for i in &ints {
                query = query.bind(*i);
            }
            if let Some((_, id)) = &after_id {
                query = query.bind(id.as_str());
            }
            let rows = query.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter().map(finding_from_row).collect()
        })
    }

    /// Open and reopened findings per SSVC decision, with how many are
    /// overdue at `now` and how many are in KEV; by decision.
    pub async fn finding_summary(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<Vec<DecisionCount>> {
        const OP: &str = "finding_summary";
        const T: &str = "findings";
        let kev = match self.engine() {
            crate::Engine::Sqlite => "json_extract(explanation, '$.in_kev') = 1",
            crate::Engine::Postgres => "(explanation ->> 'in_kev') = 'true'",
        };
        let sql = format!(
            "SELECT decision, COUNT(*) AS n, \
             SUM(CASE WHEN sla_due IS NOT NULL AND sla_due < $2 THEN 1 ELSE 0 END) AS overdue, \
             SUM(CASE WHEN {kev} THEN 1 ELSE 0 END) AS kev \
             FROM findings WHERE tenant = $1 AND status IN ('open', 'reopened') \
             GROUP BY decision ORDER BY decision"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(now.as_micros())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(DecisionCount {
                        decision: r.text(T, "decision")?,
                        findings: r.int(T, "n")?,
                        overdue: r.opt_int(T, "overdue")?.unwrap_or(0),
                        kev: r.opt_int(T, "kev")?.unwrap_or(0),
                    })
                })
                .collect()
        })
    }
}

/// The SQL condition "the finding's vulnerability is in KEV" (the
/// prioritisation records it in the explanation).
fn kev_condition(engine: crate::Engine) -> &'static str {
    match engine {
        crate::Engine::Sqlite => " AND json_extract(explanation, '$.in_kev') = 1",
        crate::Engine::Postgres => " AND (explanation ->> 'in_kev') = 'true'",
    }
}

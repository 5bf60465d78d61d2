//! Reading alerts: filters, keyset pagination by `(created_at, id)` and the
//! opaque cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::QueryBuilder;
use vigil_model::{Alert, AlertId, Entities, Severity, TenantId, Timestamp};

use crate::Store;
use crate::error::{Error, Result, corrupt, db};
use crate::row::RowExt;

/// Page size when [`AlertQuery::limit`] is 0.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// Sort direction by `(created_at, id)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Newest first (the default).
    #[default]
    Desc,
    /// Oldest first.
    Asc,
}

/// Where a page ends: the `(created_at, id)` of its last alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertCursor {
    /// `created_at` of the last alert seen.
    pub created_at: Timestamp,
    /// Id of the last alert seen.
    pub id: AlertId,
}

impl AlertCursor {
    /// The cursor just past `alert` (pass the last alert of a page).
    pub fn after(alert: &Alert) -> Self {
        Self {
            created_at: alert.created_at,
            id: alert.id,
        }
    }

    /// An opaque URL-safe string for APIs (base64url, no padding).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at.as_micros(), self.id))
    }

    /// Parses [`AlertCursor::encode`]'s output; anything else is
    /// [`Error::Invalid`].
    pub fn decode(s: &str) -> Result<Self> {
        let bad = || Error::Invalid("malformed alert cursor".into());
        if s.len() > 128 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let (ts, id) = text.split_once(':').ok_or_else(bad)?;
        Ok(Self {
            created_at: Timestamp::from_micros(ts.parse().map_err(|_| bad())?),
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// Filters and paging for [`Store::list_alerts`].
#[derive(Debug, Clone)]
pub struct AlertQuery {
    /// Tenant (default: [`TenantId::DEFAULT`]).
    pub tenant: TenantId,
    /// Only alerts at least this severe.
    pub min_severity: Option<Severity>,
    /// Only this detector.
    pub detector: Option<String>,
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Only alerts created at or after this time.
    pub since: Option<Timestamp>,
    /// Only alerts created before this time.
    pub until: Option<Timestamp>,
    /// Page size: 0 means 100; capped at 1000.
    pub limit: u32,
    /// Continue after this alert (keyset pagination).
    pub cursor: Option<AlertCursor>,
    /// Direction (default newest first).
    pub order: SortOrder,
}

impl Default for AlertQuery {
    fn default() -> Self {
        Self {
            tenant: TenantId::DEFAULT,
            min_severity: None,
            detector: None,
            rule_id: None,
            since: None,
            until: None,
            limit: 0,
            cursor: None,
            order: SortOrder::Desc,
        }
    }
}

impl AlertQuery {
    /// The page size actually used.
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }
}

pub(crate) const SELECT: &str = "SELECT id, tenant, detector, rule_id, title, severity, created_at, event_time, \
                      event_id, entities, tags, details, event FROM alerts";

pub(crate) fn alert_from_row(r: &impl RowExt) -> Result<Alert> {
    const T: &str = "alerts";
    let rank = r.small(T, "severity")?;
    let severity = Severity::from_rank(rank.into())
        .ok_or_else(|| corrupt(T, format!("severity rank {rank}")))?;
    let entities: Entities = serde_json::from_value(r.json(T, "entities")?)
        .map_err(|e| corrupt(T, format!("column entities: {e}")))?;
    let tags: Vec<String> = serde_json::from_value(r.json(T, "tags")?)
        .map_err(|e| corrupt(T, format!("column tags: {e}")))?;
    let event_id = match r.opt_text(T, "event_id")? {
        Some(s) => Some(
            s.parse()
                .map_err(|e| corrupt(T, format!("column event_id: {e}")))?,
        ),
        None => None,
    };
    Ok(Alert {
        id: r.parsed(T, "id")?,
        tenant: r.tenant(T, "tenant")?,
        detector: r.text(T, "detector")?,
        rule_id: r.text(T, "rule_id")?,
        title: r.text(T, "title")?,
        severity,
        created_at: r.ts(T, "created_at")?,
        event_time: r.ts(T, "event_time")?,
        event_id,
        entities,
        tags,
        details: r.json(T, "details")?,
        event: r.json(T, "event")?,
    })
}

impl Store {
    /// One page of a tenant's alerts matching `q`, ordered by
    /// `(created_at, id)`. Continue with `cursor = AlertCursor::after(last)`.
    pub async fn list_alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>> {
        const OP: &str = "list_alerts";
        dispatch!(self, |pool, DB| {
            let mut qb = QueryBuilder::<DB>::new(SELECT);
            qb.push(" WHERE tenant = ").push_bind(q.tenant.to_string());
            if let Some(s) = q.min_severity {
                qb.push(" AND severity >= ").push_bind(s.rank());
            }
            if let Some(d) = &q.detector {
                qb.push(" AND detector = ").push_bind(d.as_str());
            }
            if let Some(r) = &q.rule_id {
                qb.push(" AND rule_id = ").push_bind(r.as_str());
            }
            if let Some(t) = q.since {
                qb.push(" AND created_at >= ").push_bind(t.as_micros());
            }
            if let Some(t) = q.until {
                qb.push(" AND created_at < ").push_bind(t.as_micros());
            }
            let (cmp, dir) = match q.order {
                SortOrder::Desc => ("<", "DESC"),
                SortOrder::Asc => (">", "ASC"),
            };
            if let Some(c) = &q.cursor {
                qb.push(format_args!(" AND (created_at {cmp} "))
                    .push_bind(c.created_at.as_micros())
                    .push(" OR (created_at = ")
                    .push_bind(c.created_at.as_micros())
                    .push(format_args!(" AND id {cmp} "))
                    .push_bind(c.id.to_string())
                    .push("))");
            }
            qb.push(format_args!(" ORDER BY created_at {dir}, id {dir} LIMIT "))
                .push_bind(i64::from(q.effective_limit()));
            let rows = qb.build().fetch_all(pool).await.map_err(db(OP))?;
            rows.iter().map(alert_from_row).collect()
        })
    }

    /// One alert of `tenant`.
    pub async fn get_alert(&self, tenant: TenantId, id: AlertId) -> Result<Option<Alert>> {
        const OP: &str = "get_alert";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT id, tenant, detector, rule_id, title, severity, created_at, event_time, \
                 event_id, entities, tags, details, event FROM alerts WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref().map(alert_from_row).transpose()
        })
    }

    /// The number of alerts, of one tenant or all.
    pub async fn count_alerts(&self, tenant: Option<TenantId>) -> Result<u64> {
        const OP: &str = "count_alerts";
        let n = dispatch!(self, |pool, DB| {
            let row = match tenant {
                Some(t) => {
                    sqlx::query("SELECT COUNT(*) AS n FROM alerts WHERE tenant = $1")
                        .bind(t.to_string())
                        .fetch_one(pool)
                        .await
                }
                None => {
                    sqlx::query("SELECT COUNT(*) AS n FROM alerts")
                        .fetch_one(pool)
                        .await
                }
            }
            .map_err(db(OP))?;
            row.int("alerts", "n")?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = AlertCursor {
            created_at: Timestamp::from_micros(1_700_000_000_123_456),
            id: AlertId::derive("d", "r", "e"),
        };
        assert_eq!(AlertCursor::decode(&c.encode()).ok(), Some(c));
        for bad in [
            "",
            "!!!",
            "bm9jb2xvbg",
            &URL_SAFE_NO_PAD.encode("x:y"),
            &"A".repeat(500),
        ] {
            assert!(
                matches!(AlertCursor::decode(bad), Err(Error::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn limit_defaults_and_caps() {
        let mut q = AlertQuery::default();
        assert_eq!(q.effective_limit(), 100);
        q.limit = 5000;
        assert_eq!(q.effective_limit(), 1000);
        assert_eq!(q.tenant, TenantId::DEFAULT);
    }
}

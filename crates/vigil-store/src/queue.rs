//! The console's reads: the alert queue (alerts with their triage state,
//! filtered by status, severity, rule and text, sorted by time or severity,
//! keyset-paged) and the dashboard's histograms. Every query walks an index
//! range and stops at its page; none counts the whole table.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::QueryBuilder;
use vigil_model::{Alert, AlertId, Severity, TenantId, Timestamp};

use crate::Store;
use crate::alerts::alert_from_row;
use crate::error::{Error, Result, db};
use crate::row::RowExt;

/// The queue's sort orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueSort {
    /// Newest first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Most severe first, newest first within a severity.
    Severity,
}

/// Where a queue page ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    /// Severity rank of the last alert.
    pub severity: i16,
    /// `created_at` of the last alert.
    pub created_at: Timestamp,
    /// Id of the last alert.
    pub id: AlertId,
}

impl QueueCursor {
    /// The cursor just past `alert`.
    pub fn after(alert: &Alert) -> Self {
        Self {
            severity: alert.severity.rank(),
            created_at: alert.created_at,
            id: alert.id,
        }
    }

    /// An opaque URL-safe string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}:{}",
            self.severity,
            self.created_at.as_micros(),
            self.id
        ))
    }

    /// Parses [`QueueCursor::encode`]'s output.
    pub fn decode(s: &str) -> Result<Self> {
        let bad = || Error::Invalid("malformed queue cursor".into());
        if s.len() > 160 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let mut it = text.splitn(3, ':');
        let (Some(sev), Some(ts), Some(id)) = (it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        Ok(Self {
            severity: sev.parse().map_err(|_| bad())?,
            created_at: Timestamp::from_micros(ts.parse().map_err(|_| bad())?),
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// Filters and paging of the alert queue.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    /// Tenant.
    pub tenant: TenantId,
    /// A triage state, or `open` (neither false positive nor closed).
    pub status: Option<String>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only this rule id.
    pub rule_id: Option<String>,
    /// Title or rule id contains this (case-insensitive).
    pub text: Option<String>,
    /// Order.
    pub sort: QueueSort,
    /// Continue after this alert.
    pub cursor: Option<QueueCursor>,
    /// Page size (1–500).
    pub limit: u32,
}

impl Default for QueueQuery {
    fn default() -> Self {
        Self {
            tenant: TenantId::DEFAULT,
            status: None,
            severity: None,
            rule_id: None,
            text: None,
            sort: QueueSort::Newest,
            cursor: None,
            limit: 50,
        }
    }
}

/// One row of the queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// The alert.
    pub alert: Alert,
    /// Its triage state (`new` when never triaged).
    pub state: String,
    /// Incident it was escalated into.
    pub incident_id: Option<String>,
    /// Times it was seen (aggregation).
    pub hits: i64,
}

/// Alerts per time bucket and severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramCell {
    /// Bucket start.
    pub bucket: Timestamp,
    /// Severity rank (events: 0).
    pub severity: i16,
    /// Count.
    pub count: i64,
}

fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// One page of the alert queue.
    pub async fn alert_queue(&self, q: &QueueQuery) -> Result<Vec<QueueRow>> {
        const OP: &str = "alert_queue";
        let select = crate::alerts::SELECT
            .replace("SELECT id, tenant,", "SELECT a.id, a.tenant,")
            .replace(" FROM alerts", "");
        dispatch!(self, |pool, DB| {
            let mut qb = QueryBuilder::<DB>::new(select.as_str());
            qb.push(
                ", a.hits, t.state AS triage_state, t.incident_id AS triage_incident FROM alerts a \
                 LEFT JOIN alert_triage t ON t.tenant = a.tenant AND t.alert_id = a.id WHERE a.tenant = ",
            )
            .push_bind(q.tenant.to_string());
            match q.status.as_deref() {
                None | Some("") | Some("all") => {}
                Some("new") => {
                    qb.push(" AND (t.state IS NULL OR t.state = 'new')");
                }
                Some("open") => {
                    qb.push(
                        " AND (t.state IS NULL OR t.state NOT IN ('false_positive', 'closed'))",
                    );
                }
                Some(s) => {
                    qb.push(" AND t.state = ").push_bind(s.to_owned());
                }
            }
            if let Some(s) = q.severity {
                qb.push(" AND a.severity = ").push_bind(s.rank());
            }
            if let Some(r) = q.rule_id.as_deref().filter(|r| !r.is_empty()) {
                qb.push(" AND a.rule_id = ").push_bind(r.to_owned());
            }
            if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
                let p = like_pattern(t);
                qb.push(" AND (LOWER(a.title) LIKE ")
                    .push_bind(p.clone())
                    .push(" ESCAPE '\\' OR LOWER(a.rule_id) LIKE ")
                    .push_bind(p)
                    .push(" ESCAPE '\\')");
            }
            if let Some(c) = &q.cursor {
                let (ts, id) = (c.created_at.as_micros(), c.id.to_string());
                match q.sort {
                    QueueSort::Newest | QueueSort::Oldest => {
                        let cmp = if q.sort == QueueSort::Newest {
                            "<"
                        } else {
                            ">"
                        };
                        qb.push(format_args!(" AND (a.created_at {cmp} "))
                            .push_bind(ts)
                            .push(" OR (a.created_at = ")
                            .push_bind(ts)
                            .push(format_args!(" AND a.id {cmp} "))
                            .push_bind(id)
                            .push("))");
                    }
                    QueueSort::Severity => {
                        qb.push(" AND (a.severity < ")
                            .push_bind(c.severity)
                            .push(" OR (a.severity = ")
                            .push_bind(c.severity)
                            .push(" AND (a.created_at < ")
                            .push_bind(ts)
                            .push(" OR (a.created_at = ")
                            .push_bind(ts)
                            .push(" AND a.id < ")
                            .push_bind(id)
                            .push("))))");
                    }
                }
            }
            qb.push(match q.sort {
                QueueSort::Newest => " ORDER BY a.created_at DESC, a.id DESC",
                QueueSort::Oldest => " ORDER BY a.created_at ASC, a.id ASC",
                QueueSort::Severity => " ORDER BY a.severity DESC, a.created_at DESC, a.id DESC",
            });
            qb.push(" LIMIT ")
                .push_bind(i64::from(q.limit.clamp(1, 500)));
            let rows = qb.build().fetch_all(pool).await.map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(QueueRow {
                        alert: alert_from_row(r)?,
                        state: r
                            .opt_text("alert_triage", "triage_state")?
                            .unwrap_or_else(|| "new".into()),
                        incident_id: r.opt_text("alert_triage", "triage_incident")?,
                        hits: r.int("alerts", "hits")?,
                    })
                })
                .collect()
        })
    }

    /// Alerts created since `since`, counted per `bucket_micros` and
    /// severity. One index-only range scan per severity over
    /// `(tenant, severity, created_at)`: the rows themselves are never read.
    pub async fn alert_histogram(
        &self,
        tenant: TenantId,
        since: Timestamp,
        until: Option<Timestamp>,
        bucket_micros: i64,
    ) -> Result<Vec<HistogramCell>> {
        const OP: &str = "alert_histogram";
        let until = until.map_or(i64::MAX, Timestamp::as_micros);
        let bucket = bucket_micros.max(1);
        let mut out = Vec::new();
        for sev in Severity::ALL {
            dispatch!(self, |pool, DB| {
                let rows = sqlx::query(
                    "SELECT (created_at - $1) / $2 AS b, COUNT(*) AS n FROM alerts \
                     WHERE tenant = $3 AND severity = $4 AND created_at >= $1 AND created_at < $5 \
                     GROUP BY b ORDER BY b",
                )
                .bind(since.as_micros())
                .bind(bucket)
                .bind(tenant.to_string())
                .bind(sev.rank())
                .bind(until)
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
                for r in &rows {
                    out.push(HistogramCell {
                        bucket: since.add_micros(r.int("alerts", "b")?.saturating_mul(bucket)),
                        severity: sev.rank(),
                        count: r.int("alerts", "n")?,
                    });
                }
            });
        }
        Ok(out)
    }

    /// Events received since `since` (every tenant), per `bucket_micros`.
    pub async fn event_histogram(
        &self,
        since: Timestamp,
        bucket_micros: i64,
    ) -> Result<Vec<HistogramCell>> {
        const OP: &str = "event_histogram";
        let bucket = bucket_micros.max(1);
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT (received_at - $1) / $2 AS b, COUNT(*) AS n FROM events \
                 WHERE received_at >= $1 GROUP BY b ORDER BY b",
            )
            .bind(since.as_micros())
            .bind(bucket)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(HistogramCell {
                        bucket: since.add_micros(r.int("events", "b")?.saturating_mul(bucket)),
                        severity: 0,
                        count: r.int("events", "n")?,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_and_pattern() {
        let c = QueueCursor {
            severity: 3,
            created_at: Timestamp::from_micros(1_700_000_000_000_001),
            id: AlertId::derive("d", "r", "e"),
        };
        assert_eq!(QueueCursor::decode(&c.encode()).ok(), Some(c));
        assert!(QueueCursor::decode("!!").is_err());
        assert_eq!(like_pattern("A_b%"), "%a\\_b\\%%");
    }
}

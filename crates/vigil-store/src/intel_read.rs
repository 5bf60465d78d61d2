//! Reading indicators for lookups, exports and the API (block 4): one by
//! type + value, all of one type, and filtered pages.

use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Result, db};
use crate::intel::{IND_COLUMNS, IndicatorRecord, indicator_from_row, strings};
use crate::row::RowExt;

/// Which indicators [`Store::query_indicators`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorQuery {
    /// Only these types (all when empty).
    pub kinds: Vec<String>,
    /// Only confidence ≥ this.
    pub min_confidence: u8,
    /// Only indicators valid at this time (valid_from reached, valid_until
    /// not passed).
    pub valid_at: Option<Timestamp>,
    /// Only values containing this (case-insensitive for ASCII).
    pub contains: Option<String>,
    /// Only values starting with this (case-insensitive for ASCII).
    pub prefix: Option<String>,
    /// Only indicators one of whose sources is this feed.
    pub feed: Option<String>,
    /// Only indicators whose `valid_until` has passed at this time.
    pub expired_at: Option<Timestamp>,
    /// Only (type, value) after this key, for keyset pagination.
    pub after: Option<(String, String)>,
    /// At most this many (all when `None`).
    pub limit: Option<u32>,
}

fn like_pattern(needle: &str) -> String {
    format!("%{}%", like_escaped(needle))
}

fn like_escaped(needle: &str) -> String {
    needle
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

impl Store {
    /// One indicator by type and normalised value.
    pub async fn get_indicator(
        &self,
        tenant: TenantId,
        kind: &str,
        value: &str,
    ) -> Result<Option<IndicatorRecord>> {
        const OP: &str = "get_indicator";
        let sql = format!(
            "SELECT {IND_COLUMNS} FROM intel_indicators WHERE tenant = $1 AND kind = $2 \
             AND value = $3"
        );
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(kind)
                .bind(value)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(indicator_from_row).transpose()
        })
    }

    /// The stored indicators among `keys` (type, normalised value); keys
    /// not stored are absent. Reads by primary key, a chunk of keys per
    /// query, so importing a small batch into a large store reads only
    /// what it merges with.
    pub async fn get_indicators_by_keys(
        &self,
        tenant: TenantId,
        keys: &[(&str, &str)],
    ) -> Result<Vec<IndicatorRecord>> {
        const OP: &str = "get_indicators_by_keys";
        const CHUNK: usize = 200;
        let mut out = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let cond: Vec<String> = (0..chunk.len())
                .map(|i| format!("(kind = ${} AND value = ${})", 2 + 2 * i, 3 + 2 * i))
                .collect();
            let sql = format!(
                "SELECT {IND_COLUMNS} FROM intel_indicators WHERE tenant = $1 AND ({})",
                cond.join(" OR ")
            );
            let rows = dispatch!(self, |pool, DB| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string());
                for (k, v) in chunk {
                    q = q.bind(*k).bind(*v);
                }
                let rows = q.fetch_all(pool).await.map_err(db(OP))?;
                rows.iter()
                    .map(indicator_from_row)
                    .collect::<Result<Vec<_>>>()
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Indicators whose `valid_until` has passed at `now` (the
    /// `(tenant, valid_until)` index finds them without reading the rest),
    /// by type and value.
    pub async fn list_expired_indicators(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<Vec<IndicatorRecord>> {
        const OP: &str = "list_expired_indicators";
        let sql = format!(
            "SELECT {IND_COLUMNS} FROM intel_indicators WHERE tenant = $1 \
             AND valid_until IS NOT NULL AND valid_until <= $2 ORDER BY kind, value"
        );
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(now.as_micros())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(indicator_from_row).collect()
        })
    }

    /// Every indicator of one type, by value.
    pub async fn list_indicators_of(
        &self,
        tenant: TenantId,
        kind: &str,
    ) -> Result<Vec<IndicatorRecord>> {
        self.query_indicators(
            tenant,
            &IndicatorQuery {
                kinds: vec![kind.to_string()],
                ..Default::default()
            },
        )
        .await
    }

    /// Indicators matching `q`, by type and value.
    pub async fn query_indicators(
        &self,
        tenant: TenantId,
        q: &IndicatorQuery,
    ) -> Result<Vec<IndicatorRecord>> {
        const OP: &str = "query_indicators";
        // Placeholders are numbered in order; every filter binds one value
        // (or a fixed count) so the SQL stays a function of the filters set.
        let mut sql = format!(
            "SELECT {IND_COLUMNS} FROM intel_indicators WHERE tenant = $1 AND confidence >= $2"
        );
        let mut n = 2;
        let mut next = || {
            n += 1;
            n
        };
        if !q.kinds.is_empty() {
            let ps: Vec<String> = q.kinds.iter().map(|_| format!("${}", next())).collect();
            sql.push_str(&format!(" AND kind IN ({})", ps.join(", ")));
        }
        if q.valid_at.is_some() {
            let a = next();
            sql.push_str(&format!(
                " AND (valid_from IS NULL OR valid_from <= ${a}) \
                 AND (valid_until IS NULL OR valid_until > ${a})"
            ));
        }
        if q.contains.is_some() {
            sql.push_str(&format!(" AND LOWER(value) LIKE ${} ESCAPE '\\'", next()));
        }
        if q.prefix.is_some() {
            sql.push_str(&format!(" AND LOWER(value) LIKE ${} ESCAPE '\\'", next()));
        }
        if q.expired_at.is_some() {
            sql.push_str(&format!(
                " AND valid_until IS NOT NULL AND valid_until <= ${}",
                next()
            ));
        }
        if q.feed.is_some() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM intel_indicator_feeds AS f WHERE f.tenant = \
                 intel_indicators.tenant AND f.feed = ${} AND f.kind = intel_indicators.kind \
                 AND f.value = intel_indicators.value)",
                next()
            ));
        }
        if q.after.is_some() {
            let (a, b) = (next(), next());
            // A row-value comparison: both engines walk the primary key
            // (tenant, kind, value) from the cursor instead of scanning.
            sql.push_str(&format!(" AND (kind, value) > (${a}, ${b})"));
        }
        sql.push_str(" ORDER BY kind, value");
        if q.limit.is_some() {
            sql.push_str(&format!(" LIMIT ${}", next()));
        }
        let pattern = q.contains.as_deref().map(like_pattern);
        let prefix = q.prefix.as_deref().map(|p| format!("{}%", like_escaped(p)));
        dispatch!(self, |pool, DB| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(i16::from(q.min_confidence));
            for k in &q.kinds {
                query = query.bind(k.as_str());
            }
            if let Some(t) = q.valid_at {
                query = query.bind(t.as_micros());
            }
            if let Some(p) = &pattern {
                query = query.bind(p.as_str());
            }
            if let Some(p) = &prefix {
                query = query.bind(p.as_str());
            }
            if let Some(t) = q.expired_at {
                query = query.bind(t.as_micros());
            }
            if let Some(f) = &q.feed {
                query = query.bind(f.as_str());
            }
            if let Some((k, v)) = &q.after {
                query = query.bind(k.as_str()).bind(v.as_str());
            }
            if let Some(l) = q.limit {
                query = query.bind(i64::from(l));
            }
            let rows = query.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter().map(indicator_from_row).collect()
        })
    }

    /// The indicators that name actors, malware or campaigns (`related`
    /// not empty), as `(related, sightings, last sighting)`, in no
    /// particular order: what the threat register links to actors. Found
    /// through the partial index of migration 40031 (an `ORDER BY` would
    /// make SQLite walk the primary key instead), without reading the
    /// others.
    pub async fn related_indicator_links(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(Vec<String>, i64, Option<Timestamp>)>> {
        const OP: &str = "related_indicator_links";
        const T: &str = "intel_indicators";
        let sql = match self.engine() {
            crate::Engine::Sqlite => {
                "SELECT related, sightings, last_sighting FROM intel_indicators \
                 WHERE tenant = $1 AND related <> '[]'"
            }
            crate::Engine::Postgres => {
                "SELECT related, sightings, last_sighting FROM intel_indicators \
                 WHERE tenant = $1 AND related <> '[]'::jsonb"
            }
        };
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sql)
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        strings(T, "related", r.json(T, "related")?)?,
                        r.int(T, "sightings")?,
                        r.opt_ts(T, "last_sighting")?,
                    ))
                })
                .collect()
        })
    }

    /// Per feed: how many stored indicators it asserts, and how many of
    /// those are past `valid_until` at `now`, by feed name. Counted from
    /// the feed index of migration 40030 (no indicator row or provenance
    /// is read).
    pub async fn indicator_feed_counts(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<Vec<(String, i64, i64)>> {
        const OP: &str = "indicator_feed_counts";
        const T: &str = "intel_indicator_feeds";
        let sql = "SELECT feed, COUNT(*) AS n, SUM(CASE WHEN valid_until IS NOT NULL AND \
                   valid_until <= $2 THEN 1 ELSE 0 END) AS expired FROM intel_indicator_feeds \
                   WHERE tenant = $1 GROUP BY feed ORDER BY feed";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sql)
                .bind(tenant.to_string())
                .bind(now.as_micros())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.text(T, "feed")?,
                        r.int(T, "n")?,
                        r.opt_int(T, "expired")?.unwrap_or(0),
                    ))
                })
                .collect()
        })
    }
}

//! Threat register state (block 7): the organisation profile (one JSON
//! document per tenant), imported MISP galaxy clusters, threat scenarios
//! with their review cycle (owner, status, next review) and the history of
//! their scores; plus the read-only views the register computes from —
//! the latest STIX objects of given types and alert counts per rule and
//! tags since a time.

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{Principal, TenantId, Timestamp};

use crate::Store;
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, db};
use crate::migrations::{BLOCK_THREATS, Migration, version};
use crate::row::RowExt;

/// The threat register's migrations (block 7).
pub const THREATS_MIGRATIONS: &[Migration] = &[Migration {
    version: version(BLOCK_THREATS, 1),
    name: "threats",
    sqlite: include_str!("../migrations/sqlite/70001_threats.sql"),
    postgres: include_str!("../migrations/postgres/70001_threats.sql"),
}];

/// Scenario statuses.
pub const SCENARIO_STATUSES: &[&str] = &["open", "treated", "accepted", "transferred"];

/// Rows per multi-value statement.
const CHUNK: usize = 300;

/// The stored profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRecord {
    /// The profile document.
    pub body: serde_json::Value,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who changed it.
    pub updated_by: String,
}

/// A galaxy cluster to store.
#[derive(Debug, Clone, PartialEq)]
pub struct GalaxyClusterRow {
    /// Galaxy type (`threat-actor`, …).
    pub galaxy: String,
    /// Cluster UUID.
    pub uuid: String,
    /// Cluster value (name).
    pub value: String,
    /// The cluster as the register reads it.
    pub body: serde_json::Value,
}

/// A scenario to create or replace.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScenario {
    /// Id (`[A-Za-z0-9._-]`, 1–100 bytes).
    pub id: String,
    /// Title.
    pub title: String,
    /// The scenario specification (actor, techniques, assets, …).
    pub spec: serde_json::Value,
    /// Owner.
    pub owner: Option<String>,
    /// `open`, `treated`, `accepted`, `transferred`.
    pub status: String,
    /// Next review.
    pub next_review: Option<Timestamp>,
}

/// A stored scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRecord {
    /// The scenario.
    pub scenario: NewScenario,
    /// Created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Who changed it last.
    pub updated_by: String,
}

/// A review update (`None` leaves a field as is; `Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioReview {
    /// New owner.
    pub owner: Option<Option<String>>,
    /// New status.
    pub status: Option<String>,
    /// New next-review time.
    pub next_review: Option<Option<Timestamp>>,
}

/// One recorded score of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRecord {
    /// Scenario id.
    pub scenario: String,
    /// When computed.
    pub at: Timestamp,
    /// Likelihood in hundredths (0–10000).
    pub likelihood: i64,
    /// Impact in hundredths.
    pub impact: i64,
    /// Likelihood rank × impact rank (1–25).
    pub risk: i64,
    /// The inputs that produced it.
    pub inputs: serde_json::Value,
}

fn check_scenario(s: &NewScenario) -> Result<()> {
    if s.id.is_empty()
        || s.id.len() > 100
        || !s
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(Error::Invalid(format!(
            "scenario id must be 1-100 characters of A-Z a-z 0-9 . _ -: {:?}",
            s.id
        )));
    }
    if s.title.trim().is_empty() || s.title.len() > 500 {
        return Err(Error::Invalid("scenario title must be 1-500 bytes".into()));
    }
    check_status(&s.status)
}

fn check_status(s: &str) -> Result<()> {
    if SCENARIO_STATUSES.contains(&s) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "unknown scenario status {s:?} (open, treated, accepted, transferred)"
        )))
    }
}

fn scenario_from_row(r: &impl RowExt) -> Result<ScenarioRecord> {
    const T: &str = "threat_scenarios";
    Ok(ScenarioRecord {
        scenario: NewScenario {
            id: r.text(T, "id")?,
            title: r.text(T, "title")?,
            spec: r.json(T, "spec")?,
            owner: r.opt_text(T, "owner")?,
            status: r.text(T, "status")?,
            next_review: r.opt_ts(T, "next_review")?,
        },
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
        updated_by: r.text(T, "updated_by")?,
    })
}

const SCENARIO_COLUMNS: &str = "SELECT id, title, spec, owner, status, next_review, created_at, \
     updated_at, updated_by FROM threat_scenarios";

impl Store {
    /// Stores the tenant's profile (replacing it).
    pub async fn put_threat_profile(
        &self,
        tenant: TenantId,
        body: &serde_json::Value,
        by: &Principal,
        now: Timestamp,
    ) -> Result<()> {
        const OP: &str = "put_threat_profile";
        let by = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO threat_profiles (tenant, body, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (tenant) DO UPDATE SET \
                 body = excluded.body, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(tenant.to_string())
            .bind(Json(body))
            .bind(now.as_micros())
            .bind(by.as_str())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let payload = json!({"by": by});
            let change = NewChange {
                tenant,
                object_type: "threat-profile",
                object_id: "profile",
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok(())
        })
    }

    /// The tenant's profile, if set.
    pub async fn get_threat_profile(&self, tenant: TenantId) -> Result<Option<ProfileRecord>> {
        const OP: &str = "get_threat_profile";
        const T: &str = "threat_profiles";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT body, updated_at, updated_by FROM threat_profiles WHERE tenant = $1",
            )
            .bind(tenant.to_string())
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref()
                .map(|r| {
                    Ok(ProfileRecord {
                        body: r.json(T, "body")?,
                        updated_at: r.ts(T, "updated_at")?,
                        updated_by: r.text(T, "updated_by")?,
                    })
                })
                .transpose()
        })
    }

    /// Stores galaxy clusters (a known `(galaxy, uuid)` is replaced).
    /// Returns how many rows were written.
    pub async fn upsert_galaxy_clusters(
        &self,
        tenant: TenantId,
        rows: &[GalaxyClusterRow],
        source: &str,
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "upsert_galaxy_clusters";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut n = 0;
            for chunk in rows.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO threat_galaxy_clusters (tenant, galaxy, uuid, value, body, \
                     source, updated_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(tenant.to_string())
                        .push_bind(r.galaxy.as_str())
                        .push_bind(r.uuid.as_str())
                        .push_bind(r.value.as_str())
                        .push_bind(Json(&r.body))
                        .push_bind(source)
                        .push_bind(now.as_micros());
                });
                qb.push(
                    " ON CONFLICT (tenant, galaxy, uuid) DO UPDATE SET value = excluded.value, \
                     body = excluded.body, source = excluded.source, \
                     updated_at = excluded.updated_at",
                );
                let r = qb.build().execute(tx.conn()).await.map_err(db(OP))?;
                n += usize::try_from(r.rows_affected()).unwrap_or(0);
            }
            tx.commit(OP).await?;
            Ok(n)
        })
    }

    /// Every stored galaxy cluster body, by galaxy and UUID.
    pub async fn list_galaxy_clusters(&self, tenant: TenantId) -> Result<Vec<serde_json::Value>> {
        const OP: &str = "list_galaxy_clusters";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT body FROM threat_galaxy_clusters WHERE tenant = $1 ORDER BY galaxy, uuid",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| r.json("threat_galaxy_clusters", "body"))
                .collect()
        })
    }

    /// A fingerprint of the stored STIX objects whose type is one of
    /// `kinds`: how many versions there are, the latest `modified` and the
    /// latest time one was added. Storing or removing a version of such an
    /// object changes it; readers keep what they built from those objects
    /// while it stays the same.
    pub async fn stix_fingerprint(
        &self,
        tenant: TenantId,
        kinds: &[&str],
    ) -> Result<(i64, i64, i64)> {
        const OP: &str = "stix_fingerprint";
        const T: &str = "intel_objects";
        if kinds.is_empty() {
            return Ok((0, 0, 0));
        }
        dispatch!(self, |pool, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT COUNT(*) AS n, COALESCE(MAX(modified), 0) AS m, \
                 COALESCE(MAX(added_at), 0) AS a FROM intel_objects WHERE tenant = ",
            );
            qb.push_bind(tenant.to_string());
            qb.push(" AND kind IN (");
            let mut sep = qb.separated(", ");
            for k in kinds {
                sep.push_bind(*k);
            }
            qb.push(")");
            let r = qb.build().fetch_one(pool).await.map_err(db(OP))?;
            Ok((r.int(T, "n")?, r.int(T, "m")?, r.int(T, "a")?))
        })
    }

    /// The latest version of every stored STIX object whose type is one of
    /// `kinds`.
    pub async fn latest_stix_objects_of_kinds(
        &self,
        tenant: TenantId,
        kinds: &[&str],
    ) -> Result<Vec<serde_json::Value>> {
        const OP: &str = "latest_stix_objects_of_kinds";
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self, |pool, DB| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT o.body FROM intel_objects o WHERE o.tenant = ",
            );
            qb.push_bind(tenant.to_string());
            qb.push(" AND o.kind IN (");
            let mut sep = qb.separated(", ");
            for k in kinds {
                sep.push_bind(*k);
            }
            qb.push(
                ") AND o.modified = (SELECT MAX(m.modified) FROM intel_objects m \
                 WHERE m.tenant = o.tenant AND m.id = o.id) ORDER BY o.id",
            );
            let rows = qb.build().fetch_all(pool).await.map_err(db(OP))?;
            rows.iter()
                .map(|r| r.json("intel_objects", "body"))
                .collect()
        })
    }

    /// Alerts created at or after `since`, counted per rule, with the tags
    /// of the rule's latest alert in the window (a rule's alerts carry its
    /// tags; after a tag override the window counts under the new ones).
    /// Counted from the `(tenant, rule_id, created_at)` index, one indexed
    /// lookup per rule for the tags, without reading every alert.
    pub async fn alert_tag_counts(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<(String, Vec<String>, i64)>> {
        const OP: &str = "alert_tag_counts";
        const T: &str = "alerts";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT c.rule_id, c.n, (SELECT CAST(a.tags AS TEXT) FROM alerts AS a \
                 WHERE a.tenant = $1 AND a.rule_id = c.rule_id AND a.created_at >= $2 \
                 ORDER BY a.created_at DESC LIMIT 1) AS tags \
                 FROM (SELECT rule_id, COUNT(*) AS n FROM alerts \
                 WHERE tenant = $1 AND created_at >= $2 GROUP BY rule_id) AS c \
                 ORDER BY c.rule_id",
            )
            .bind(tenant.to_string())
            .bind(since.as_micros())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    let tags: Vec<String> = match r.opt_text(T, "tags")? {
                        Some(t) => serde_json::from_str(&t)
                            .map_err(|e| crate::error::corrupt(T, format!("column tags: {e}")))?,
                        None => Vec::new(),
                    };
                    Ok((r.text(T, "rule_id")?, tags, r.int(T, "n")?))
                })
                .collect()
        })
    }

    /// Technologies in the asset inventory: each component name (SBOMs,
    /// host inventories, scans) and operating system with the number of
    /// assets carrying it, most widespread first.
    pub async fn inventory_technologies(&self, tenant: TenantId) -> Result<Vec<(String, i64)>> {
        const OP: &str = "inventory_technologies";
        const T: &str = "asset_components";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT name, COUNT(DISTINCT asset_id) AS n FROM asset_components \
                 WHERE tenant = $1 GROUP BY name \
                 UNION ALL SELECT os AS name, COUNT(*) AS n FROM assets \
                 WHERE tenant = $1 AND os IS NOT NULL GROUP BY os",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut out: Vec<(String, i64)> = rows
                .iter()
                .map(|r| Ok((r.text(T, "name")?, r.int(T, "n")?)))
                .collect::<Result<_>>()?;
            out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Ok(out)
        })
    }

    /// Creates or replaces a scenario (its created time is kept).
    pub async fn upsert_scenario(
        &self,
        tenant: TenantId,
        s: &NewScenario,
        by: &Principal,
        now: Timestamp,
    ) -> Result<ScenarioRecord> {
        const OP: &str = "upsert_scenario";
        check_scenario(s)?;
        let by = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO threat_scenarios (tenant, id, title, spec, owner, status, \
                 next_review, created_at, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
                 ON CONFLICT (tenant, id) DO UPDATE SET title = excluded.title, \
                 spec = excluded.spec, owner = excluded.owner, status = excluded.status, \
                 next_review = excluded.next_review, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(tenant.to_string())
            .bind(&s.id)
            .bind(&s.title)
            .bind(Json(&s.spec))
            .bind(s.owner.as_deref())
            .bind(&s.status)
            .bind(s.next_review.map(Timestamp::as_micros))
            .bind(now.as_micros())
            .bind(by.as_str())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let payload = json!({"id": s.id, "status": s.status});
            let change = NewChange {
                tenant,
                object_type: "threat-scenario",
                object_id: &s.id,
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        self.get_scenario(tenant, &s.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("scenario {} after upsert", s.id)))
    }

    /// One scenario.
    pub async fn get_scenario(&self, tenant: TenantId, id: &str) -> Result<Option<ScenarioRecord>> {
        const OP: &str = "get_scenario";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SCENARIO_COLUMNS} WHERE tenant = $1 AND id = $2"
            )))
            .bind(tenant.to_string())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref().map(scenario_from_row).transpose()
        })
    }

    /// A tenant's scenarios, by id.
    pub async fn list_scenarios(&self, tenant: TenantId) -> Result<Vec<ScenarioRecord>> {
        const OP: &str = "list_scenarios";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SCENARIO_COLUMNS} WHERE tenant = $1 ORDER BY id"
            )))
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(scenario_from_row).collect()
        })
    }

    /// Applies a review (owner, status, next review); `None` when no such
    /// scenario exists.
    pub async fn review_scenario(
        &self,
        tenant: TenantId,
        id: &str,
        review: &ScenarioReview,
        by: &Principal,
        now: Timestamp,
    ) -> Result<Option<ScenarioRecord>> {
        let Some(cur) = self.get_scenario(tenant, id).await? else {
            return Ok(None);
        };
        if let Some(s) = &review.status {
            check_status(s)?;
        }
        let mut s = cur.scenario;
        if let Some(o) = &review.owner {
            s.owner.clone_from(o);
        }
        if let Some(st) = &review.status {
            s.status.clone_from(st);
        }
        if let Some(n) = review.next_review {
            s.next_review = n;
        }
        self.upsert_scenario(tenant, &s, by, now).await.map(Some)
    }

    /// Scenarios whose next review is before `now` (and not unset).
    pub async fn overdue_scenarios(
        &self,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<Vec<ScenarioRecord>> {
        const OP: &str = "overdue_scenarios";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SCENARIO_COLUMNS} WHERE tenant = $1 AND next_review IS NOT NULL \
                 AND next_review < $2 ORDER BY next_review, id"
            )))
            .bind(tenant.to_string())
            .bind(now.as_micros())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(scenario_from_row).collect()
        })
    }

    /// Records scenario scores (a second score at the same time for the
    /// same scenario replaces the first).
    pub async fn record_scenario_scores(
        &self,
        tenant: TenantId,
        scores: &[ScoreRecord],
    ) -> Result<usize> {
        const OP: &str = "record_scenario_scores";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut n = 0;
            for chunk in scores.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO threat_score_history (tenant, scenario, at, likelihood, impact, \
                     risk, inputs) ",
                );
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(tenant.to_string())
                        .push_bind(s.scenario.as_str())
                        .push_bind(s.at.as_micros())
                        .push_bind(s.likelihood)
                        .push_bind(s.impact)
                        .push_bind(s.risk)
                        .push_bind(Json(&s.inputs));
                });
                qb.push(
                    " ON CONFLICT (tenant, scenario, at) DO UPDATE SET \
                     likelihood = excluded.likelihood, impact = excluded.impact, \
                     risk = excluded.risk, inputs = excluded.inputs",
                );
                let r = qb.build().execute(tx.conn()).await.map_err(db(OP))?;
                n += usize::try_from(r.rows_affected()).unwrap_or(0);
            }
            tx.commit(OP).await?;
            Ok(n)
        })
    }

    /// The latest recorded score of each open scenario of the register,
    /// highest risk first (ties: higher likelihood, then scenario id), at
    /// most `limit` (1–100): the dashboard's top threat risks.
    pub async fn top_scenario_scores(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<(ScoreRecord, String)>> {
        const OP: &str = "top_scenario_scores";
        const T: &str = "threat_score_history";
        let limit = i64::from(limit.clamp(1, 100));
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT h.scenario, h.at, h.likelihood, h.impact, h.risk, h.inputs, s.title \
                 FROM threat_score_history h JOIN threat_scenarios s \
                   ON s.tenant = h.tenant AND s.id = h.scenario \
                 WHERE h.tenant = $1 AND s.status = 'open' AND h.at = (SELECT MAX(x.at) FROM threat_score_history x \
                   WHERE x.tenant = h.tenant AND x.scenario = h.scenario) \
                 ORDER BY h.risk DESC, h.likelihood DESC, h.scenario LIMIT $2",
            )
            .bind(tenant.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        ScoreRecord {
                            scenario: r.text(T, "scenario")?,
                            at: r.ts(T, "at")?,
                            likelihood: r.int(T, "likelihood")?,
                            impact: r.int(T, "impact")?,
                            risk: r.int(T, "risk")?,
                            inputs: r.json(T, "inputs")?,
                        },
                        r.text(T, "title")?,
                    ))
                })
                .collect()
        })
    }

    /// A scenario's recorded scores, oldest first.
    pub async fn scenario_scores(
        &self,
        tenant: TenantId,
        scenario: &str,
    ) -> Result<Vec<ScoreRecord>> {
        const OP: &str = "scenario_scores";
        const T: &str = "threat_score_history";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT scenario, at, likelihood, impact, risk, inputs FROM threat_score_history \
                 WHERE tenant = $1 AND scenario = $2 ORDER BY at",
            )
            .bind(tenant.to_string())
            .bind(scenario)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(ScoreRecord {
                        scenario: r.text(T, "scenario")?,
                        at: r.ts(T, "at")?,
                        likelihood: r.int(T, "likelihood")?,
                        impact: r.int(T, "impact")?,
                        risk: r.int(T, "risk")?,
                        inputs: r.json(T, "inputs")?,
                    })
                })
                .collect()
        })
    }
}

//! Sigma rule management state: every rule Vigil knows (the built-in pack,
//! rules found in configured directories, rules uploaded through the API)
//! with its enabled flag and per-rule overrides (level, tags).
//!
//! The rule text itself stays where it came from (the binary, the
//! directory); only uploads keep their YAML here (`content`). Registering a
//! rule again refreshes its definition (title, path, level, tags, content)
//! and keeps the operator's state (enabled, overrides). Changes of that
//! state are audited (`rule.update`) and land in the change feed.

use std::fmt;
use std::str::FromStr;

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{Principal, TenantId, Timestamp};

use crate::Store;
use crate::audit::{AuditOps, NewAudit};
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, corrupt, db};
use crate::migrations::{BLOCK_SIGMA, Migration, version};
use crate::row::RowExt;

/// The Sigma block's migrations (block 3): the `rules` table. The binary
/// lists them in its migration set.
pub const SIGMA_MIGRATIONS: &[Migration] = &[Migration {
    version: version(BLOCK_SIGMA, 1),
    name: "sigma_rules",
    sqlite: include_str!("../migrations/sqlite/30001_sigma_rules.sql"),
    postgres: include_str!("../migrations/postgres/30001_sigma_rules.sql"),
}];

/// Longest rule id accepted, in bytes.
const MAX_ID_BYTES: usize = 200;

/// Where a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleSource {
    /// The pack compiled into the binary.
    Builtin,
    /// A configured rules directory.
    Dir,
    /// Uploaded through the API (its YAML is stored).
    Api,
}

impl RuleSource {
    /// `builtin`, `dir` or `api`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleSource::Builtin => "builtin",
            RuleSource::Dir => "dir",
            RuleSource::Api => "api",
        }
    }
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleSource {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "builtin" => Ok(RuleSource::Builtin),
            "dir" => Ok(RuleSource::Dir),
            "api" => Ok(RuleSource::Api),
            other => Err(format!(
                "unknown rule source {other:?} (builtin, dir or api)"
            )),
        }
    }
}

/// A rule's definition as registered (what the rule file says).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRule {
    /// The rule's `id`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// Where it came from.
    pub source: RuleSource,
    /// The file path (directories), the pack file name (builtin) or the
    /// upload name (api).
    pub path: String,
    /// The rule's own `level`, if any.
    pub level: Option<String>,
    /// The rule's own `tags`.
    pub tags: Vec<String>,
    /// The YAML text, kept for uploads (`None` for other sources).
    pub content: Option<String>,
}

/// A stored rule with its state.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    /// Owning tenant.
    pub tenant: TenantId,
    /// The rule's `id`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// Where it came from.
    pub source: RuleSource,
    /// File path, pack file name or upload name.
    pub path: String,
    /// The rule's own level.
    pub level: Option<String>,
    /// The rule's own tags.
    pub tags: Vec<String>,
    /// The YAML of uploaded rules.
    pub content: Option<String>,
    /// Detectors use only enabled rules.
    pub enabled: bool,
    /// The operator's level, replacing the rule's.
    pub level_override: Option<String>,
    /// The operator's tags, replacing the rule's.
    pub tags_override: Option<Vec<String>>,
    /// First registration.
    pub created_at: Timestamp,
    /// Last change (registration or state).
    pub updated_at: Timestamp,
    /// Who made the last change (a principal label).
    pub updated_by: String,
}

impl RuleRecord {
    /// The level detectors use: the override, else the rule's own.
    pub fn effective_level(&self) -> Option<&str> {
        self.level_override.as_deref().or(self.level.as_deref())
    }

    /// The tags detectors use: the override, else the rule's own.
    pub fn effective_tags(&self) -> &[String] {
        self.tags_override.as_deref().unwrap_or(&self.tags)
    }
}

/// A change of a rule's state; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleUpdate {
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// `Some(None)` removes the level override.
    pub level_override: Option<Option<String>>,
    /// `Some(None)` removes the tags override.
    pub tags_override: Option<Option<Vec<String>>>,
}

/// A filtered page of rules ([`Store::rule_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleQuery {
    /// Text in the id, title, path or tags (case-insensitive).
    pub text: Option<String>,
    /// The level in effect (override, else the rule's own).
    pub level: Option<String>,
    /// Only enabled (`true`) or disabled (`false`) rules.
    pub enabled: Option<bool>,
    /// Only rules from this source.
    pub source: Option<RuleSource>,
    /// Rules with ids after this one (the previous page's last id).
    pub after: Option<String>,
    /// Most rows (1..=1000).
    pub limit: u32,
}

const COLUMNS: &str = "tenant, id, title, source, path, level, CAST(tags AS TEXT) AS tags, \
     content, enabled, level_override, CAST(tags_override AS TEXT) AS tags_override, \
     created_at, updated_at, updated_by";

fn tags_from(table: &'static str, col: &str, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| corrupt(table, format!("column {col}: {e}")))
}

fn rule_from_row(r: &impl RowExt) -> Result<RuleRecord> {
    const T: &str = "rules";
    let tags = tags_from(T, "tags", &r.text(T, "tags")?)?;
    let tags_override = match r.opt_text(T, "tags_override")? {
        Some(t) => Some(tags_from(T, "tags_override", &t)?),
        None => None,
    };
    Ok(RuleRecord {
        tenant: r.tenant(T, "tenant")?,
        id: r.text(T, "id")?,
        title: r.text(T, "title")?,
        source: r.parsed(T, "source")?,
        path: r.text(T, "path")?,
        level: r.opt_text(T, "level")?,
        tags,
        content: r.opt_text(T, "content")?,
        enabled: r.flag(T, "enabled")?,
        level_override: r.opt_text(T, "level_override")?,
        tags_override,
        created_at: r.ts(T, "created_at")?,
        updated_at: r.ts(T, "updated_at")?,
        updated_by: r.text(T, "updated_by")?,
    })
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "rule id must be 1-{MAX_ID_BYTES} bytes without control characters: {id:?}"
        )));
    }
    Ok(())
}

impl Store {
    /// Registers rule definitions: new rules are inserted enabled, known
    /// ones get their definition refreshed (their enabled flag and
    /// overrides are kept). Returns how many were new. One transaction.
    pub async fn register_rules(
        &self,
        tenant: TenantId,
        rules: &[NewRule],
        by: &Principal,
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "register_rules";
        for r in rules {
            check_id(&r.id)?;
        }
        let by = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut added = 0;
            let mut changes = Vec::new();
            let mut payloads = Vec::new();
            for r in rules {
                let existed =
                    sqlx::query("SELECT 1 AS one FROM rules WHERE tenant = $1 AND id = $2")
                        .bind(tenant.to_string())
                        .bind(&r.id)
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(db(OP))?
                        .is_some();
                // A definition that did not change is not written again.
                let res = sqlx::query(
                    "INSERT INTO rules (tenant, id, title, source, path, level, tags, content, \
                     enabled, created_at, updated_at, updated_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9, $10) \
                     ON CONFLICT (tenant, id) DO UPDATE SET title = excluded.title, \
                     source = excluded.source, path = excluded.path, level = excluded.level, \
                     tags = excluded.tags, content = excluded.content, \
                     updated_at = excluded.updated_at, updated_by = excluded.updated_by \
                     WHERE rules.title <> excluded.title OR rules.source <> excluded.source \
                     OR rules.path <> excluded.path \
                     OR COALESCE(rules.level, '') <> COALESCE(excluded.level, '') \
                     OR CAST(rules.tags AS TEXT) <> CAST(excluded.tags AS TEXT) \
                     OR COALESCE(rules.content, '') <> COALESCE(excluded.content, '')",
                )
                .bind(tenant.to_string())
                .bind(&r.id)
                .bind(&r.title)
                .bind(r.source.as_str())
                .bind(&r.path)
                .bind(r.level.as_deref())
                .bind(Json(&r.tags))
                .bind(r.content.as_deref())
                .bind(now.as_micros())
                .bind(by.as_str())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                if !existed {
                    added += 1;
                }
                if res.rows_affected() > 0 {
                    payloads.push((
                        r.id.as_str(),
                        if existed { "update" } else { "create" },
                        json!({ "id": r.id, "title": r.title, "source": r.source.as_str(),
                                "path": r.path }),
                    ));
                }
            }
            for (id, op, payload) in &payloads {
                changes.push(NewChange {
                    tenant,
                    object_type: "rule",
                    object_id: id,
                    op,
                    payload,
                    at: now,
                });
            }
            if !changes.is_empty() {
                <DB as ChangeOps>::insert_changes(tx.conn(), &changes).await?;
            }
            tx.commit(OP).await?;
            Ok(added)
        })
    }

    /// A tenant's rules, by id.
    pub async fn list_rules(&self, tenant: TenantId) -> Result<Vec<RuleRecord>> {
        const OP: &str = "list_rules";
        let sql = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1 ORDER BY id");
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(rule_from_row).collect()
        })
    }

    /// A page of a tenant's rules by id (keyset: ids after `q.after`),
    /// filtered by text (id, title, path or tags, case-insensitive), the
    /// level in effect, the enabled state and the source; at most
    /// `q.limit` (1..=1000) rows.
    pub async fn rule_page(&self, tenant: TenantId, q: &RuleQuery) -> Result<Vec<RuleRecord>> {
        const OP: &str = "rule_page";
        let mut sql = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1");
        let text = q
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let esc = t
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{esc}%")
            });
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        if text.is_some() {
            let p = next();
            sql.push_str(&format!(
                " AND (LOWER(id) LIKE ${p} ESCAPE '\\' OR LOWER(title) LIKE ${p} ESCAPE '\\' \
                 OR LOWER(path) LIKE ${p} ESCAPE '\\' \
                 OR LOWER(CAST(COALESCE(tags_override, tags) AS TEXT)) LIKE ${p} ESCAPE '\\')"
            ));
        }
        if q.level.is_some() {
            let p = next();
            sql.push_str(&format!(" AND COALESCE(level_override, level) = ${p}"));
        }
        if q.enabled.is_some() {
            let p = next();
            sql.push_str(&format!(" AND enabled = ${p}"));
        }
        if q.source.is_some() {
            let p = next();
            sql.push_str(&format!(" AND source = ${p}"));
        }
        if q.after.is_some() {
            let p = next();
            sql.push_str(&format!(" AND id > ${p}"));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", q.limit.clamp(1, 1000)));
        dispatch!(self, |pool, DB| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.to_string());
            if let Some(t) = &text {
                query = query.bind(t.as_str());
            }
            if let Some(l) = &q.level {
                query = query.bind(l.as_str());
            }
            if let Some(e) = q.enabled {
                query = query.bind(e);
            }
            if let Some(s) = q.source {
                query = query.bind(s.to_string());
            }
            if let Some(a) = &q.after {
                query = query.bind(a.as_str());
            }
            let rows = query.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter().map(rule_from_row).collect()
        })
    }

    /// One rule, `None` if the tenant has no rule with this id.
    pub async fn get_rule(&self, tenant: TenantId, id: &str) -> Result<Option<RuleRecord>> {
        const OP: &str = "get_rule";
        let sql = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1 AND id = $2");
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(rule_from_row).transpose()
        })
    }

    /// Changes a rule's state (enabled, overrides); `None` if there is no
    /// such rule. Audited as `rule.update` and recorded in the change feed,
    /// in the same transaction.
    pub async fn update_rule(
        &self,
        tenant: TenantId,
        id: &str,
        update: &RuleUpdate,
        by: &Principal,
        now: Timestamp,
    ) -> Result<Option<RuleRecord>> {
        const OP: &str = "update_rule";
        let Some(cur) = self.get_rule(tenant, id).await? else {
            return Ok(None);
        };
        let enabled = update.enabled.unwrap_or(cur.enabled);
        let level_override = match &update.level_override {
            Some(l) => l.clone(),
            None => cur.level_override.clone(),
        };
        let tags_override = match &update.tags_override {
            Some(t) => t.clone(),
            None => cur.tags_override.clone(),
        };
        let label = by.label();
        let target = format!("rule:{id}");
        let payload = json!({
            "id": id,
            "enabled": enabled,
            "level_override": level_override,
            "tags_override": tags_override,
        });
        let sql = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1 AND id = $2");
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE rules SET enabled = $1, level_override = $2, tags_override = $3, \
                 updated_at = $4, updated_by = $5 WHERE tenant = $6 AND id = $7",
            )
            .bind(enabled)
            .bind(level_override.as_deref())
            .bind(tags_override.as_ref().map(Json))
            .bind(now.as_micros())
            .bind(label.as_str())
            .bind(tenant.to_string())
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(None);
            }
            let audit = NewAudit::new(tenant, by, "rule.update", &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "rule",
                object_id: id,
                op: "update",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(id)
                .fetch_optional(tx.conn())
                .await
                .map_err(db(OP))?;
            let rec = row.as_ref().map(rule_from_row).transpose()?;
            tx.commit(OP).await?;
            Ok(rec)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip() {
        for s in [RuleSource::Builtin, RuleSource::Dir, RuleSource::Api] {
            assert_eq!(s.as_str().parse::<RuleSource>(), Ok(s));
        }
        assert!("web".parse::<RuleSource>().is_err());
        assert_eq!(version(BLOCK_SIGMA, 1), 30001);
        assert!(check_id("").is_err());
        assert!(check_id("a\nb").is_err());
        assert!(check_id("5c9a3f1e-0000-4000-8000-000000000001").is_ok());
    }
}

//! TAXII 2.1 server state (block 4, versions 40010+): collection membership
//! of stored STIX object versions and the status resources of add-objects
//! requests.
//!
//! The objects themselves live in `intel_objects` (see `intel.rs`); the
//! read-only collection of all intelligence reads that table directly,
//! writable collections list their members in `taxii_objects`. Queries page
//! by the key `(date added, id, version)` so a `next` cursor stays valid
//! while objects are added.

use serde_json::json;
use sqlx::types::Json;
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Result, db};
use crate::migrations::{BLOCK_INTEL, Migration, version};
use crate::row::RowExt;

/// The TAXII and feed migrations (block 4, 40010–40019).
pub const TAXII_MIGRATIONS: &[Migration] = &[
    Migration {
        version: version(BLOCK_INTEL, 10),
        name: "taxii",
        sqlite: include_str!("../migrations/sqlite/40010_taxii.sql"),
        postgres: include_str!("../migrations/postgres/40010_taxii.sql"),
    },
    Migration {
        version: version(BLOCK_INTEL, 11),
        name: "intel_feeds_config",
        sqlite: include_str!("../migrations/sqlite/40011_feeds.sql"),
        postgres: include_str!("../migrations/postgres/40011_feeds.sql"),
    },
    Migration {
        version: version(BLOCK_INTEL, 12),
        name: "intel_feed_options",
        sqlite: include_str!("../migrations/sqlite/40012_feed_options.sql"),
        postgres: include_str!("../migrations/postgres/40012_feed_options.sql"),
    },
];

/// Which versions of each object a query returns (TAXII `match[version]`);
/// several may be combined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    /// The oldest version of each object.
    pub first: bool,
    /// The newest version of each object.
    pub last: bool,
    /// Every version.
    pub all: bool,
    /// These exact versions (`modified`).
    pub at: Vec<Timestamp>,
}

/// Where a page starts: after this `(date added, id, version)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxiiCursor {
    /// Date added.
    pub added: Timestamp,
    /// Object id.
    pub id: String,
    /// Version (`modified`).
    pub modified: Timestamp,
}

/// A query over a collection's object versions.
#[derive(Debug, Clone, Default)]
pub struct TaxiiQuery {
    /// A writable collection's id; `None` for every stored object.
    pub collection: Option<String>,
    /// Only versions added strictly after this.
    pub added_after: Option<Timestamp>,
    /// Only these ids (empty: any).
    pub ids: Vec<String>,
    /// Only these types (empty: any).
    pub types: Vec<String>,
    /// Only these spec versions (empty: any).
    pub spec_versions: Vec<String>,
    /// Version selection; the default selects nothing, so set one.
    pub versions: VersionFilter,
    /// Continue after this key.
    pub after: Option<TaxiiCursor>,
    /// At most this many rows.
    pub limit: u32,
    /// Load the objects' JSON (not needed for manifests and versions).
    pub with_body: bool,
}

/// One object version as a TAXII query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxiiRow {
    /// STIX id.
    pub id: String,
    /// STIX type.
    pub kind: String,
    /// Version (`modified`).
    pub modified: Timestamp,
    /// `2.0` or `2.1`.
    pub spec_version: String,
    /// When it was added to the collection.
    pub added: Timestamp,
    /// The object (when asked for).
    pub body: Option<serde_json::Value>,
}

/// A TAXII status resource.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxiiStatusRecord {
    /// Status id (a UUID).
    pub id: String,
    /// The collection written to.
    pub collection: String,
    /// `complete` or `pending`.
    pub status: String,
    /// When the request arrived.
    pub requested_at: Timestamp,
    /// `[{id, version, message?}]`.
    pub successes: serde_json::Value,
    /// `[{id, version?, message}]`.
    pub failures: serde_json::Value,
    /// `[{id, version}]`.
    pub pendings: serde_json::Value,
}

/// Placeholder numbering for dynamically built statements.
struct Params {
    n: usize,
    binds: Vec<Bind>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Params {
    fn text(&mut self, s: &str) -> String {
        self.binds.push(Bind::Text(s.to_owned()));
        self.n += 1;
        format!("${}", self.n)
    }
    fn int(&mut self, v: i64) -> String {
        self.binds.push(Bind::Int(v));
        self.n += 1;
        format!("${}", self.n)
    }
    fn list(&mut self, col: &str, values: &[String]) -> String {
        let ps: Vec<String> = values.iter().map(|v| self.text(v)).collect();
        format!("{col} IN ({})", ps.join(", "))
    }
}

fn build_query(tenant: TenantId, q: &TaxiiQuery) -> (String, Vec<Bind>) {
    let mut p = Params {
        n: 0,
        binds: Vec::new(),
    };
    let t = p.text(&tenant.to_string());
    // `key` is the page order (date added, id, version) on the table the
    // `*_added` index covers, so a page is an index range scan.
    let (from, added, key, mut conds, sub) = match &q.collection {
        None => (
            "intel_objects o".to_owned(),
            "o.added_at",
            "o.added_at, o.id, o.modified",
            vec![format!("o.tenant = {t}")],
            "FROM intel_objects x WHERE x.tenant = o.tenant AND x.id = o.id".to_owned(),
        ),
        Some(c) => {
            let c = p.text(c);
            (
                "taxii_objects m JOIN intel_objects o ON o.tenant = m.tenant AND o.id = m.id \
                 AND o.modified = m.modified"
                    .to_owned(),
                "m.added_at",
                "m.added_at, m.id, m.modified",
                vec![format!("m.tenant = {t}"), format!("m.collection = {c}")],
                "FROM taxii_objects x WHERE x.tenant = m.tenant AND x.collection = m.collection \
                 AND x.id = m.id"
                    .to_owned(),
            )
        }
    };
    if let Some(a) = q.added_after {
        let a = p.int(a.as_micros());
        conds.push(format!("{added} > {a}"));
    }
    if !q.ids.is_empty() {
        conds.push(p.list("o.id", &q.ids));
    }
    if !q.types.is_empty() {
        conds.push(p.list("o.kind", &q.types));
    }
    if !q.spec_versions.is_empty() {
        conds.push(p.list("o.spec_version", &q.spec_versions));
    }
    let v = &q.versions;
    if !v.all {
        let mut ors = Vec::new();
        if v.last {
            ors.push(format!("o.modified = (SELECT MAX(x.modified) {sub})"));
        }
        if v.first {
            ors.push(format!("o.modified = (SELECT MIN(x.modified) {sub})"));
        }
        if !v.at.is_empty() {
            let ps: Vec<String> = v.at.iter().map(|t| p.int(t.as_micros())).collect();
            ors.push(format!("o.modified IN ({})", ps.join(", ")));
        }
        if ors.is_empty() {
            ors.push("1 = 0".into());
        }
        conds.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(c) = &q.after {
        let a = p.int(c.added.as_micros());
        let i = p.text(&c.id);
        let m = p.int(c.modified.as_micros());
        conds.push(format!("({key}) > ({a}, {i}, {m})"));
    }
    let limit = p.int(i64::from(q.limit));
    let body = if q.with_body { ", o.body" } else { "" };
    let sql = format!(
        "SELECT o.id, o.kind, o.modified, o.spec_version, {added} AS added{body} FROM {from} \
         WHERE {} ORDER BY {key} LIMIT {limit}",
        conds.join(" AND ")
    );
    (sql, p.binds)
}

impl Store {
    /// Object versions of a collection matching `q`, by (date added, id,
    /// version).
    pub async fn query_taxii_objects(
        &self,
        tenant: TenantId,
        q: &TaxiiQuery,
    ) -> Result<Vec<TaxiiRow>> {
        const OP: &str = "query_taxii_objects";
        const T: &str = "intel_objects";
        let (sql, binds) = build_query(tenant, q);
        dispatch!(self, |pool, DB| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in binds {
                query = match b {
                    Bind::Text(s) => query.bind(s),
                    Bind::Int(i) => query.bind(i),
                };
            }
            let rows = query.fetch_all(pool).await.map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(TaxiiRow {
                        id: r.text(T, "id")?,
                        kind: r.text(T, "kind")?,
                        modified: r.ts(T, "modified")?,
                        spec_version: r.text(T, "spec_version")?,
                        added: r.ts(T, "added")?,
                        body: if q.with_body {
                            Some(r.json(T, "body")?)
                        } else {
                            None
                        },
                    })
                })
                .collect()
        })
    }

    /// Makes the given object versions (already in `intel_objects`)
    /// members of a writable collection; members already there keep their
    /// date added. Returns how many were new.
    pub async fn add_taxii_members(
        &self,
        tenant: TenantId,
        collection: &str,
        members: &[(String, Timestamp)],
        now: Timestamp,
    ) -> Result<usize> {
        const OP: &str = "add_taxii_members";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut n = 0;
            for (id, modified) in members {
                let r = sqlx::query(
                    "INSERT INTO taxii_objects (tenant, collection, id, modified, added_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant, collection, id, modified) DO NOTHING",
                )
                .bind(tenant.to_string())
                .bind(collection)
                .bind(id)
                .bind(modified.as_micros())
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                n += usize::try_from(r.rows_affected()).unwrap_or(0);
            }
            tx.commit(OP).await?;
            Ok(n)
        })
    }

    /// Stores a status resource (replacing one with the same id).
    pub async fn put_taxii_status(&self, tenant: TenantId, s: &TaxiiStatusRecord) -> Result<()> {
        const OP: &str = "put_taxii_status";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO taxii_status (tenant, id, collection, status, requested_at, \
                 successes, failures, pendings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant, id) DO UPDATE SET status = excluded.status, \
                 successes = excluded.successes, failures = excluded.failures, \
                 pendings = excluded.pendings",
            )
            .bind(tenant.to_string())
            .bind(&s.id)
            .bind(&s.collection)
            .bind(&s.status)
            .bind(s.requested_at.as_micros())
            .bind(Json(&s.successes))
            .bind(Json(&s.failures))
            .bind(Json(&s.pendings))
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            tx.commit(OP).await?;
            Ok(())
        })
    }

    /// A status resource, `None` if unknown.
    pub async fn get_taxii_status(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> Result<Option<TaxiiStatusRecord>> {
        const OP: &str = "get_taxii_status";
        const T: &str = "taxii_status";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT id, collection, status, requested_at, successes, failures, pendings \
                 FROM taxii_status WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.to_string())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(TaxiiStatusRecord {
                    id: r.text(T, "id")?,
                    collection: r.text(T, "collection")?,
                    status: r.text(T, "status")?,
                    requested_at: r.ts(T, "requested_at")?,
                    successes: r.json(T, "successes").unwrap_or_else(|_| json!([])),
                    failures: r.json(T, "failures").unwrap_or_else(|_| json!([])),
                    pendings: r.json(T, "pendings").unwrap_or_else(|_| json!([])),
                })),
            }
        })
    }
}

//! ATT&CK lookups over the stored STIX graph (block 4): the ATT&CK id of
//! every stored ATT&CK object, and the latest versions of objects and of
//! the relationships touching them, so one technique's neighbourhood is
//! read without loading the whole matrix.

use vigil_model::TenantId;

use crate::Store;
use crate::error::{Result, db};
use crate::row::RowExt;

/// Rows per multi-value statement.
const CHUNK: usize = 400;

impl Store {
    /// Records `(stix_id, attack_id, kind)` triples (idempotent; a STIX id
    /// keeps its latest ATT&CK id). Returns how many rows were new.
    pub async fn upsert_attack_ids(
        &self,
        tenant: TenantId,
        ids: &[(String, String, String)],
    ) -> Result<usize> {
        const OP: &str = "upsert_attack_ids";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let mut n = 0;
            for chunk in ids.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO attack_ids (tenant, stix_id, attack_id, kind) ",
                );
                qb.push_values(chunk, |mut b, (s, a, k)| {
                    b.push_bind(tenant.to_string())
                        .push_bind(s.as_str())
                        .push_bind(a.as_str())
                        .push_bind(k.as_str());
                });
                qb.push(
                    " ON CONFLICT (tenant, stix_id) DO UPDATE SET attack_id = excluded.attack_id, \
                     kind = excluded.kind WHERE attack_ids.attack_id <> excluded.attack_id \
                     OR attack_ids.kind <> excluded.kind",
                );
                let r = qb.build().execute(tx.conn()).await.map_err(db(OP))?;
                n += usize::try_from(r.rows_affected()).unwrap_or(0);
            }
            tx.commit(OP).await?;
            Ok(n)
        })
    }

    /// The STIX ids carrying ATT&CK id `attack_id` (case-insensitive),
    /// e.g. the enterprise and ICS versions of a technique.
    pub async fn attack_stix_ids(&self, tenant: TenantId, attack_id: &str) -> Result<Vec<String>> {
        const OP: &str = "attack_stix_ids";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT stix_id FROM attack_ids WHERE tenant = $1 AND attack_id = $2 \
                 ORDER BY stix_id",
            )
            .bind(tenant.to_string())
            .bind(attack_id.to_ascii_uppercase())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter()
                .map(|r| r.text("attack_ids", "stix_id"))
                .collect()
        })
    }

    /// The latest stored version of each of `ids` (missing ids skipped).
    pub async fn latest_stix_objects(
        &self,
        tenant: TenantId,
        ids: &[String],
    ) -> Result<Vec<serde_json::Value>> {
        const OP: &str = "latest_stix_objects";
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            dispatch!(self, |pool, DB| {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT o.body FROM intel_objects o WHERE o.tenant = ",
                );
                qb.push_bind(tenant.to_string());
                qb.push(" AND o.id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.as_str());
                }
                qb.push(
                    ") AND o.modified = (SELECT MAX(m.modified) FROM intel_objects m \
                     WHERE m.tenant = o.tenant AND m.id = o.id) ORDER BY o.id",
                );
                let rows = qb.build().fetch_all(pool).await.map_err(db(OP))?;
                for r in &rows {
                    out.push(r.json("intel_objects", "body")?);
                }
            });
        }
        Ok(out)
    }

    /// The ids of the relationships (latest versions) whose source or
    /// target is one of `ids`.
    pub async fn stix_relationships_touching(
        &self,
        tenant: TenantId,
        ids: &[String],
    ) -> Result<Vec<String>> {
        const OP: &str = "stix_relationships_touching";
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK / 2) {
            dispatch!(self, |pool, DB| {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT DISTINCT id FROM intel_relationships WHERE tenant = ",
                );
                qb.push_bind(tenant.to_string());
                qb.push(" AND (source_ref IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.as_str());
                }
                qb.push(") OR target_ref IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.as_str());
                }
                qb.push(")) ORDER BY id");
                let rows = qb.build().fetch_all(pool).await.map_err(db(OP))?;
                for r in &rows {
                    out.push(r.text("intel_relationships", "id")?);
                }
            });
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The STIX ids of stored objects of type `kind`.
    pub async fn stix_ids_of_kind(&self, tenant: TenantId, kind: &str) -> Result<Vec<String>> {
        const OP: &str = "stix_ids_of_kind";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT DISTINCT id FROM intel_objects WHERE tenant = $1 AND kind = $2 ORDER BY id",
            )
            .bind(tenant.to_string())
            .bind(kind)
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(|r| r.text("intel_objects", "id")).collect()
        })
    }

    /// Stored ATT&CK objects per kind (`technique`, `group`, …), counted
    /// by ATT&CK id.
    pub async fn count_attack_ids(
        &self,
        tenant: TenantId,
    ) -> Result<std::collections::BTreeMap<String, i64>> {
        const OP: &str = "count_attack_ids";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT kind, COUNT(DISTINCT attack_id) AS n FROM attack_ids WHERE tenant = $1 \
                 GROUP BY kind",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            let mut out = std::collections::BTreeMap::new();
            for r in &rows {
                out.insert(r.text("attack_ids", "kind")?, r.int("attack_ids", "n")?);
            }
            Ok(out)
        })
    }
}

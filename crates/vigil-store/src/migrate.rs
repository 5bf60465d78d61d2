//! Applying migrations: core plus crate-contributed ones, in version order,
//! in one transaction, recorded with checksums in `vigil_migrations`.

use std::collections::BTreeMap;

use vigil_model::{Clock, SystemClock, Timestamp};

use crate::Store;
use crate::engine::{Backend, Engine};
use crate::error::{Error, Result, db};
use crate::migrations::{CORE, Migration};
use crate::row::RowExt;

const OP: &str = "migrate";

/// Same text on both engines.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS vigil_migrations (
    version     BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  BIGINT NOT NULL
)";

/// PostgreSQL: one migrator per schema at a time, across servers.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(7419001, hashtext(current_schema()))";

/// A migration recorded as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version.
    pub version: i64,
    /// Name when applied.
    pub name: String,
    /// Hex SHA-256 of the SQL when applied.
    pub checksum: String,
    /// When it was applied.
    pub applied_at: Timestamp,
}

impl Store {
    /// Applies the core migrations plus `extra` (other crates' blocks) that
    /// are not applied yet, in version order, in one transaction.
    ///
    /// Idempotent. Fails with [`Error::Migration`] if an applied migration's
    /// SQL changed (checksum mismatch), and with [`Error::Invalid`] if two
    /// migrations share a version. Applied versions that no migration in the
    /// list has are logged as warnings and kept. On PostgreSQL an advisory
    /// lock makes concurrent migrators (two servers starting) safe.
    pub async fn migrate(&self, extra: &[Migration]) -> Result<()> {
        let mut all: Vec<Migration> = CORE.iter().chain(extra).copied().collect();
        all.sort_by_key(|m| m.version);
        for w in all.windows(2) {
            if w[0].version == w[1].version {
                return Err(Error::Invalid(format!(
                    "migrations {:?} and {:?} share version {}",
                    w[0].name, w[1].name, w[0].version
                )));
            }
        }
        if let Some(m) = all.iter().find(|m| m.version <= 0) {
            return Err(Error::Invalid(format!(
                "migration {:?} has version {} <= 0",
                m.name, m.version
            )));
        }
        let engine = self.engine();
        let now = SystemClock.now();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            if <DB as Backend>::ENGINE == Engine::Postgres {
                sqlx::query(PG_LOCK)
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
            }
            sqlx::query(CREATE_TABLE)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            let rows =
                sqlx::query("SELECT version, name, checksum, applied_at FROM vigil_migrations")
                    .fetch_all(tx.conn())
                    .await
                    .map_err(db(OP))?;
            let mut applied = BTreeMap::new();
            for r in &rows {
                let a = applied_from_row(r)?;
                applied.insert(a.version, a);
            }
            let pending = plan(engine, &all, &applied)?;
            for m in pending {
                tracing::info!(version = m.version, name = m.name, engine = %engine, "applying migration");
                sqlx::raw_sql(m.sql(engine))
                    .execute(tx.conn())
                    .await
                    .map_err(|e| Error::Migration {
                        version: m.version,
                        name: m.name.to_owned(),
                        msg: e.to_string(),
                    })?;
                sqlx::query(
                    "INSERT INTO vigil_migrations (version, name, checksum, applied_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(m.checksum(engine))
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            tx.commit(OP).await?;
        });
        Ok(())
    }

    /// The migrations recorded as applied, by version (empty before the
    /// first [`Store::migrate`]).
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>> {
        const OP: &str = "applied_migrations";
        dispatch!(self, |pool, DB| {
            let mut conn = pool.acquire().await.map_err(db(OP))?;
            sqlx::query(CREATE_TABLE)
                .execute(&mut *conn)
                .await
                .map_err(db(OP))?;
            let rows = sqlx::query(
                "SELECT version, name, checksum, applied_at FROM vigil_migrations ORDER BY version",
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(db(OP))?;
            rows.iter().map(applied_from_row).collect()
        })
    }
}

fn applied_from_row(r: &impl RowExt) -> Result<AppliedMigration> {
    const T: &str = "vigil_migrations";
    Ok(AppliedMigration {
        version: r.int(T, "version")?,
        name: r.text(T, "name")?,
        checksum: r.text(T, "checksum")?,
        applied_at: r.ts(T, "applied_at")?,
    })
}

/// Checks applied migrations against `all` and returns those still to run.
fn plan<'a>(
    engine: Engine,
    all: &'a [Migration],
    applied: &BTreeMap<i64, AppliedMigration>,
) -> Result<Vec<&'a Migration>> {
    let mut pending = Vec::new();
    for m in all {
        match applied.get(&m.version) {
            Some(a) if a.checksum != m.checksum(engine) => {
                return Err(Error::Migration {
                    version: m.version,
                    name: m.name.to_owned(),
                    msg: format!(
                        "checksum mismatch: applied {} (as {:?}), now {}; applied migrations must not change, add a new one",
                        a.checksum,
                        a.name,
                        m.checksum(engine)
                    ),
                });
            }
            Some(_) => {}
            None => pending.push(m),
        }
    }
    for a in applied.values() {
        if !all.iter().any(|m| m.version == a.version) {
            tracing::warn!(version = a.version, name = %a.name, "applied migration is unknown to this build; keeping it");
        }
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(m: &Migration, checksum: String) -> AppliedMigration {
        AppliedMigration {
            version: m.version,
            name: m.name.to_owned(),
            checksum,
            applied_at: Timestamp::from_micros(0),
        }
    }

    #[test]
    fn plan_skips_applied_and_rejects_changed() {
        let a = Migration {
            version: 20001,
            name: "a",
            sqlite: "x",
            postgres: "x",
        };
        let b = Migration {
            version: 20002,
            name: "b",
            sqlite: "y",
            postgres: "y",
        };
        let all = [a, b];
        let mut done = BTreeMap::new();
        done.insert(a.version, applied(&a, a.checksum(Engine::Sqlite)));
        let p = plan(Engine::Sqlite, &all, &done)
            .map(|v| v.iter().map(|m| m.version).collect::<Vec<_>>());
        assert_eq!(p.ok(), Some(vec![20002]));
        done.insert(b.version, applied(&b, "bad".into()));
        assert!(matches!(
            plan(Engine::Sqlite, &all, &done),
            Err(Error::Migration { version: 20002, .. })
        ));
    }
}

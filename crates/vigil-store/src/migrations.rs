//! Schema migrations: the [`Migration`] type, the version numbering scheme
//! shared by every crate, and vigil-store's own (core) migrations.
//!
//! # Numbering
//!
//! A version is `BLOCK * 10_000 + n`, with `n` counting from 1 inside the
//! block. Each crate owns one block and contributes its migrations to
//! [`crate::Store::migrate`]:
//!
//! | block | owner | versions |
//! |---|---|---|
//! | 1 | vigil-store core | 10001 … |
//! | 2 | ingest / listeners | 20001 … |
//! | 3 | sigma | 30001 … |
//! | 4 | intel | 40001 … |
//! | 5 | vuln | 50001 … |
//! | 6 | respond | 60001 … |
//! | 7 | threat register | 70001 … |
//! | 8 | server / UI (users, sessions) | 80001 … |
//! | 9 | console pages (indexes for their reads, listed with the block they index) | 90001 … 90099 |
//!
//! Migrations from all blocks run in version order. Each carries one SQL
//! text per engine (DDL differs: `BLOB`/`BYTEA`, `TEXT`/`JSONB`, identity
//! columns). Applied migrations are recorded in `vigil_migrations` with a
//! SHA-256 checksum of the engine's SQL; editing an applied migration is an
//! error, so fix mistakes with a new migration. Applied versions that no
//! crate provides any more are reported (logged and listed by
//! [`crate::Store::applied_migrations`]), never deleted.

/// One schema change, with its SQL for each engine.
///
/// The SQL may hold several statements separated by `;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// `BLOCK * 10_000 + n`; see the module docs.
    pub version: i64,
    /// Short name (`core`, `sigma_rules`, …).
    pub name: &'static str,
    /// SQL for SQLite.
    pub sqlite: &'static str,
    /// SQL for PostgreSQL.
    pub postgres: &'static str,
}

/// Block of vigil-store's core schema.
pub const BLOCK_CORE: i64 = 1;
/// Block of ingest and listeners.
pub const BLOCK_INGEST: i64 = 2;
/// Block of the Sigma engine.
pub const BLOCK_SIGMA: i64 = 3;
/// Block of threat intelligence.
pub const BLOCK_INTEL: i64 = 4;
/// Block of vulnerability management.
pub const BLOCK_VULN: i64 = 5;
/// Block of response (playbooks, actions).
pub const BLOCK_RESPOND: i64 = 6;
/// Block of the threat register.
pub const BLOCK_THREATS: i64 = 7;
/// Block of the server and console (users, sessions).
pub const BLOCK_SERVER: i64 = 8;

/// The version of the `n`-th migration of `block`.
pub const fn version(block: i64, n: i64) -> i64 {
    block * 10_000 + n
}

/// The block a version belongs to.
pub const fn block_of(version: i64) -> i64 {
    version / 10_000
}

/// vigil-store's own migrations (block 1).
pub const CORE: &[Migration] = &[
    Migration {
        version: version(BLOCK_CORE, 1),
        name: "core",
        sqlite: include_str!("../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_core.sql"),
    },
    Migration {
        version: version(BLOCK_CORE, 2),
        name: "alert_aggregation",
        sqlite: include_str!("../migrations/sqlite/0002_alert_aggregation.sql"),
        postgres: include_str!("../migrations/postgres/0002_alert_aggregation.sql"),
    },
];

impl Migration {
    /// The SQL for `engine`.
    pub fn sql(&self, engine: crate::Engine) -> &'static str {
        match engine {
            crate::Engine::Sqlite => self.sqlite,
            crate::Engine::Postgres => self.postgres,
        }
    }

    /// Hex SHA-256 of the SQL for `engine`, as recorded when applied.
    pub fn checksum(&self, engine: crate::Engine) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.sql(engine).as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_versions_are_in_block_one_and_sorted() {
        assert!(CORE.windows(2).all(|w| w[0].version < w[1].version));
        assert!(CORE.iter().all(|m| block_of(m.version) == BLOCK_CORE));
        assert_eq!(version(BLOCK_SERVER, 3), 80003);
    }
}

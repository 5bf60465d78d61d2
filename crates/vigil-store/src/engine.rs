//! Opening a store: the pool enum over SQLite and PostgreSQL, connection
//! settings, the per-engine dispatch macro and write transactions.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Error, Result, db};

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server (scale-out, several Vigil servers on one database).
    Postgres,
}

impl Engine {
    /// The lowercase name (`sqlite`, `postgres`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The connection pool of one engine.
#[derive(Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    /// SQLite allows one writer at a time; writers in this process queue
    /// here instead of spinning on `busy_timeout`. Unused on PostgreSQL.
    write_lock: Arc<Mutex<()>>,
    /// Alert aggregation window in µs; 0 = off.
    alert_window: std::sync::atomic::AtomicI64,
}

/// The persistent store: a cheap-to-clone handle over a connection pool.
///
/// Every query has one body for both engines (shared SQL text with `$1`
/// placeholders); only DDL and a few locking clauses differ per engine.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// How long an SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite pool size: one writer at a time, a few concurrent readers.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// PostgreSQL pool size per server.
const PG_MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

impl Store {
    /// Opens (creating the file and its parent directories if needed) an
    /// SQLite database.
    ///
    /// Settings: WAL journal, `synchronous=FULL` (a commit is on disk when it
    /// returns, so an acknowledged write survives `kill -9` and power loss),
    /// a 30 s busy timeout and foreign keys on. Run [`Store::migrate`] next.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| Error::Io {
                    path: parent.to_owned(),
                    msg: e.to_string(),
                })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(db("open_sqlite"))?;
        Ok(Self::from_pool(Pool::Sqlite(pool)))
    }

    /// Opens a private in-memory SQLite database (one connection; gone when
    /// the store is closed). For tests of other crates.
    pub async fn open_sqlite_memory() -> Result<Store> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(db("open_sqlite_memory"))?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(db("open_sqlite_memory"))?;
        Ok(Self::from_pool(Pool::Sqlite(pool)))
    }

    /// Connects to PostgreSQL (`postgres://user@host:5432/db`).
    pub async fn open_postgres(url: &str) -> Result<Store> {
        let opts = PgConnectOptions::from_str(url).map_err(db("open_postgres"))?;
        Self::connect_pg(opts).await
    }

    /// Connects to PostgreSQL with every connection's `search_path` set to
    /// `schema` (which must already exist). Lets several installations, or
    /// isolated tests, share one database.
    pub async fn open_postgres_schema(url: &str, schema: &str) -> Result<Store> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !schema.as_bytes()[0].is_ascii_digit();
        if !valid {
            return Err(Error::Invalid(format!(
                "schema name {schema:?} must be 1-63 ASCII letters, digits or '_', not starting with a digit"
            )));
        }
        let opts = PgConnectOptions::from_str(url)
            .map_err(db("open_postgres"))?
            .options([("search_path", schema)]);
        Self::connect_pg(opts).await
    }

    async fn connect_pg(opts: PgConnectOptions) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(PG_MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(db("open_postgres"))?;
        Ok(Self::from_pool(Pool::Postgres(pool)))
    }

    /// Opens by URL or path: `postgres://…` and `postgresql://…` select
    /// PostgreSQL; `sqlite://path`, `sqlite:path` or a plain path select an
    /// SQLite file; `sqlite::memory:` an in-memory database.
    pub async fn open(url_or_path: &str) -> Result<Store> {
        let s = url_or_path.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Self::open_postgres(s).await;
        }
        if s == "sqlite::memory:" || s == ":memory:" {
            return Self::open_sqlite_memory().await;
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() {
            return Err(Error::Invalid("empty database path".into()));
        }
        Self::open_sqlite(Path::new(path)).await
    }

    fn from_pool(pool: Pool) -> Store {
        Store {
            inner: Arc::new(Inner {
                pool,
                write_lock: Arc::new(Mutex::new(())),
                alert_window: std::sync::atomic::AtomicI64::new(0),
            }),
        }
    }

    /// Sets the alert aggregation window (µs) for this handle and its
    /// clones; 0 turns aggregation off (the default). See
    /// [`Store::commit_detections`].
    pub fn set_alert_aggregation(&self, window_micros: i64) {
        self.inner
            .alert_window
            .store(window_micros.max(0), std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn alert_window(&self) -> i64 {
        self.inner
            .alert_window
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        match self.inner.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, |pool, _DB| {
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map_err(db("ping"))?;
        });
        Ok(())
    }

    /// Closes the pool, waiting for checked-out connections to come back.
    pub async fn close(&self) {
        match &self.inner.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// Runs one statement of fixed SQL text and returns the rows affected.
    ///
    /// Not part of the supported API: tests use it to tamper with rows, and
    /// operators' repair tools may. The text is `'static`, so no input can be
    /// spliced into it.
    #[doc(hidden)]
    pub async fn raw_execute(&self, sql: &'static str) -> Result<u64> {
        dispatch!(self, |pool, _DB| {
            let r = sqlx::query(sql)
                .execute(pool)
                .await
                .map_err(db("raw_execute"))?;
            Ok(r.rows_affected())
        })
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Begins a write transaction: on SQLite `BEGIN IMMEDIATE` (takes the
    /// write lock up front, so read-then-write never deadlocks) behind the
    /// in-process writer queue; on PostgreSQL a plain `BEGIN`.
    pub(crate) async fn begin_write<DB: Backend>(
        &self,
        pool: &sqlx::Pool<DB>,
        op: &'static str,
    ) -> Result<WriteTx<DB>> {
        let guard = match DB::ENGINE {
            Engine::Sqlite => Some(self.inner.write_lock.clone().lock_owned().await),
            Engine::Postgres => None,
        };
        let tx = DB::begin_write(pool).await.map_err(db(op))?;
        Ok(WriteTx { tx, _guard: guard })
    }
}

/// A write transaction plus, on SQLite, this process's writer slot.
pub(crate) struct WriteTx<DB: sqlx::Database> {
    tx: Transaction<'static, DB>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl<DB: sqlx::Database> WriteTx<DB> {
    /// The connection, as an executor.
    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }

    /// Commits; the data is durable when this returns `Ok`.
    pub(crate) async fn commit(self, op: &'static str) -> Result<()> {
        self.tx.commit().await.map_err(db(op))
    }
}

/// What differs between the two engines at the Rust level.
pub(crate) trait Backend: sqlx::Database {
    /// Which engine this is.
    const ENGINE: Engine;
    /// Begins a transaction that will write.
    fn begin_write(
        pool: &sqlx::Pool<Self>,
    ) -> impl Future<Output = std::result::Result<Transaction<'static, Self>, sqlx::Error>> + Send;
}

impl Backend for sqlx::Sqlite {
    const ENGINE: Engine = Engine::Sqlite;
    async fn begin_write(
        pool: &SqlitePool,
    ) -> std::result::Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }
}

impl Backend for sqlx::Postgres {
    const ENGINE: Engine = Engine::Postgres;
    async fn begin_write(
        pool: &PgPool,
    ) -> std::result::Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin().await
    }
}

//! The store's error type; `sqlx` errors are converted here and never leak.

use std::path::PathBuf;

/// The store's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database reported an error (connection, I/O, syntax, timeout, …).
    #[error("database error during {op}: {msg}")]
    Database {
        /// The store operation that failed (`append_events`, …).
        op: &'static str,
        /// The database's message.
        msg: String,
    },
    /// A uniqueness constraint was violated (the object already exists).
    #[error("conflict during {op}: {msg}")]
    Conflict {
        /// The store operation that failed.
        op: &'static str,
        /// The database's message.
        msg: String,
    },
    /// A foreign-key, not-null or check constraint was violated (e.g. an
    /// unknown tenant).
    #[error("constraint violated during {op}: {msg}")]
    Constraint {
        /// The store operation that failed.
        op: &'static str,
        /// The database's message.
        msg: String,
    },
    /// The object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A migration could not be applied, or an applied one was changed.
    #[error("migration {version} ({name}): {msg}")]
    Migration {
        /// Migration version.
        version: i64,
        /// Migration name.
        name: String,
        /// What went wrong.
        msg: String,
    },
    /// Encryption, decryption or hashing failed (e.g. a wrong secret key).
    #[error("crypto error: {0}")]
    Crypto(String),
    /// The caller passed something unusable (bad cursor, bad key, …).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A stored row could not be read back (bad UUID, unknown role, …).
    #[error("corrupt row in {table}: {msg}")]
    Corrupt {
        /// The table the row came from.
        table: &'static str,
        /// What was wrong with it.
        msg: String,
    },
    /// A file-system operation around the database failed.
    #[error("cannot prepare {path}: {msg}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS message.
        msg: String,
    },
}

impl Error {
    /// True for conflicts (the object already exists).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }
}

/// Converts a `sqlx` error, keeping its message, for the operation `op`.
pub(crate) fn from_sqlx(op: &'static str, e: sqlx::Error) -> Error {
    use sqlx::error::ErrorKind;
    match &e {
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => Error::Conflict {
                op,
                msg: d.message().to_owned(),
            },
            ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation => Error::Constraint {
                op,
                msg: d.message().to_owned(),
            },
            _ => Error::Database {
                op,
                msg: d.message().to_owned(),
            },
        },
        sqlx::Error::RowNotFound => Error::NotFound(op.to_owned()),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => Error::Corrupt {
            table: op,
            msg: e.to_string(),
        },
        _ => Error::Database {
            op,
            msg: e.to_string(),
        },
    }
}

/// `map_err` adapter: `.map_err(db("append_events"))`.
pub(crate) fn db(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| from_sqlx(op, e)
}

/// A corrupt-row error for `table`.
pub(crate) fn corrupt(table: &'static str, msg: impl Into<String>) -> Error {
    Error::Corrupt {
        table,
        msg: msg.into(),
    }
}

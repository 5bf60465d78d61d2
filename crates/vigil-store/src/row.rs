//! Reading columns from a row of either engine, turning decode failures and
//! bad stored values into [`Error::Corrupt`] instead of panics.

use std::str::FromStr;

use sqlx::Row;
use sqlx::types::Json;
use vigil_model::{TenantId, Timestamp};

use crate::error::{Error, Result, corrupt};

/// Typed column access shared by `SqliteRow` and `PgRow`.
pub(crate) trait RowExt {
    /// A non-null integer.
    fn int(&self, table: &'static str, col: &str) -> Result<i64>;
    /// A nullable integer.
    fn opt_int(&self, table: &'static str, col: &str) -> Result<Option<i64>>;
    /// A small integer (severity ranks).
    fn small(&self, table: &'static str, col: &str) -> Result<i16>;
    /// A non-null string.
    fn text(&self, table: &'static str, col: &str) -> Result<String>;
    /// A nullable string.
    fn opt_text(&self, table: &'static str, col: &str) -> Result<Option<String>>;
    /// A boolean (`BOOLEAN`; stored as 0/1 on SQLite).
    fn flag(&self, table: &'static str, col: &str) -> Result<bool>;
    /// Bytes.
    fn bytes(&self, table: &'static str, col: &str) -> Result<Vec<u8>>;
    /// A JSON column (TEXT on SQLite, JSONB on PostgreSQL).
    fn json(&self, table: &'static str, col: &str) -> Result<serde_json::Value>;

    /// A timestamp column.
    fn ts(&self, table: &'static str, col: &str) -> Result<Timestamp> {
        self.int(table, col).map(Timestamp::from_micros)
    }
    /// A nullable timestamp column.
    fn opt_ts(&self, table: &'static str, col: &str) -> Result<Option<Timestamp>> {
        Ok(self.opt_int(table, col)?.map(Timestamp::from_micros))
    }
    /// A string column parsed with `FromStr`.
    fn parsed<T: FromStr>(&self, table: &'static str, col: &str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.text(table, col)?;
        s.parse::<T>()
            .map_err(|e| corrupt(table, format!("column {col}: {e}")))
    }
    /// A tenant id column.
    fn tenant(&self, table: &'static str, col: &str) -> Result<TenantId> {
        self.parsed(table, col)
    }
}

fn decode_err(table: &'static str, col: &str, e: sqlx::Error) -> Error {
    corrupt(table, format!("column {col}: {e}"))
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn int(&self, table: &'static str, col: &str) -> Result<i64> {
                self.try_get::<i64, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn opt_int(&self, table: &'static str, col: &str) -> Result<Option<i64>> {
                self.try_get::<Option<i64>, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn small(&self, table: &'static str, col: &str) -> Result<i16> {
                self.try_get::<i16, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn text(&self, table: &'static str, col: &str) -> Result<String> {
                self.try_get::<String, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn opt_text(&self, table: &'static str, col: &str) -> Result<Option<String>> {
                self.try_get::<Option<String>, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn flag(&self, table: &'static str, col: &str) -> Result<bool> {
                self.try_get::<bool, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn bytes(&self, table: &'static str, col: &str) -> Result<Vec<u8>> {
                self.try_get::<Vec<u8>, _>(col)
                    .map_err(|e| decode_err(table, col, e))
            }
            fn json(&self, table: &'static str, col: &str) -> Result<serde_json::Value> {
                self.try_get::<Json<serde_json::Value>, _>(col)
                    .map(|j| j.0)
                    .map_err(|e| decode_err(table, col, e))
            }
        }
    };
}

impl_row_ext!(sqlx::sqlite::SqliteRow);
impl_row_ext!(sqlx::postgres::PgRow);

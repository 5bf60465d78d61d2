//! Tenants: the organisations every stored object belongs to.

use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::error::{Error, Result, db};
use crate::row::RowExt;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Unique name.
    pub name: String,
    /// When it was created (0 for the default tenant).
    pub created_at: Timestamp,
}

impl Store {
    /// Creates a tenant; [`Error::Conflict`] if the id or name exists.
    pub async fn create_tenant(&self, id: TenantId, name: &str, now: Timestamp) -> Result<()> {
        const OP: &str = "create_tenant";
        if name.trim().is_empty() || name.len() > 200 {
            return Err(Error::Invalid(
                "tenant name must be 1-200 bytes and not blank".into(),
            ));
        }
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(id.to_string())
                .bind(name)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            tx.commit(OP).await?;
        });
        Ok(())
    }

    /// All tenants, by name.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        const OP: &str = "list_tenants";
        const T: &str = "tenants";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query("SELECT id, name, created_at FROM tenants ORDER BY name")
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter()
                .map(|r| {
                    Ok(Tenant {
                        id: r.tenant(T, "id")?,
                        name: r.text(T, "name")?,
                        created_at: r.ts(T, "created_at")?,
                    })
                })
                .collect()
        })
    }
}

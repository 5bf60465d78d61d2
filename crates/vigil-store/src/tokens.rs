//! API tokens in the store: create (hash only, audited), find, list, revoke.

use serde_json::json;
use vigil_model::{Clock, Principal, Role, SystemClock, TenantId, Timestamp};

use crate::Store;
use crate::audit::{AuditOps, NewAudit};
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, db};
use crate::row::RowExt;
use crate::token;

/// A stored API token (never its plaintext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Token id (16 lowercase hex chars).
    pub id: String,
    /// Tenant it acts in.
    pub tenant: TenantId,
    /// Human-readable name.
    pub name: String,
    /// Role granted.
    pub role: Role,
    /// Display prefix (`vgl_<id>`).
    pub prefix: String,
    /// argon2id PHC hash of the secret.
    pub secret_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Label of the principal who created it.
    pub created_by: String,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl TokenRecord {
    /// Not revoked and not expired at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }

    fn summary(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "name": self.name,
            "role": self.role.as_str(),
            "prefix": self.prefix,
            "expires_at": self.expires_at.map(Timestamp::as_micros),
            "revoked_at": self.revoked_at.map(Timestamp::as_micros),
        })
    }
}

fn token_from_row(r: &impl RowExt) -> Result<TokenRecord> {
    const T: &str = "api_tokens";
    Ok(TokenRecord {
        id: r.text(T, "id")?,
        tenant: r.tenant(T, "tenant")?,
        name: r.text(T, "name")?,
        role: r.parsed(T, "role")?,
        prefix: r.text(T, "prefix")?,
        secret_hash: r.text(T, "secret_hash")?,
        created_at: r.ts(T, "created_at")?,
        created_by: r.text(T, "created_by")?,
        expires_at: r.opt_ts(T, "expires_at")?,
        revoked_at: r.opt_ts(T, "revoked_at")?,
    })
}

impl Store {
    /// Creates a token and returns its record and the plaintext (show it
    /// once; it cannot be recovered). Writes the token, an audit entry
    /// (`token.create`) and a change-feed row in one transaction.
    pub async fn create_token(
        &self,
        tenant: TenantId,
        name: &str,
        role: Role,
        expires_at: Option<Timestamp>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<(TokenRecord, String)> {
        const OP: &str = "create_token";
        if name.trim().is_empty() || name.len() > 200 {
            return Err(Error::Invalid(
                "token name must be 1-200 bytes and not blank".into(),
            ));
        }
        let (id, secret, plaintext) = token::try_generate()?;
        let secret_hash = tokio::task::spawn_blocking(move || token::hash_secret(&secret))
            .await
            .map_err(|e| Error::Crypto(format!("token hashing task failed: {e}")))??;
        let rec = TokenRecord {
            prefix: token::display_prefix(&id),
            id,
            tenant,
            name: name.to_owned(),
            role,
            secret_hash,
            created_at: now,
            created_by: by.label(),
            expires_at,
            revoked_at: None,
        };
        let target = format!("token:{}", rec.id);
        let payload = rec.summary();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO api_tokens (id, tenant, name, role, prefix, secret_hash, created_at, created_by, \
                 expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
            )
            .bind(rec.id.as_str())
            .bind(tenant.to_string())
            .bind(rec.name.as_str())
            .bind(role.as_str())
            .bind(rec.prefix.as_str())
            .bind(rec.secret_hash.as_str())
            .bind(now.as_micros())
            .bind(rec.created_by.as_str())
            .bind(expires_at.map(Timestamp::as_micros))
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let audit = NewAudit::new(tenant, by, "token.create", &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "token",
                object_id: &rec.id,
                op: "create",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
        });
        Ok((rec, plaintext))
    }

    /// The token with this id, in any tenant (ids are globally unique).
    pub async fn find_token(&self, id: &str) -> Result<Option<TokenRecord>> {
        const OP: &str = "find_token";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT id, tenant, name, role, prefix, secret_hash, created_at, created_by, expires_at, \
                 revoked_at FROM api_tokens WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.as_ref().map(token_from_row).transpose()
        })
    }

    /// A tenant's tokens, oldest first, revoked ones included.
    pub async fn list_tokens(&self, tenant: TenantId) -> Result<Vec<TokenRecord>> {
        const OP: &str = "list_tokens";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT id, tenant, name, role, prefix, secret_hash, created_at, created_by, expires_at, \
                 revoked_at FROM api_tokens WHERE tenant = $1 ORDER BY created_at, id",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(token_from_row).collect()
        })
    }

    /// Revokes a tenant's token; `false` if there is no such active-or-
    /// expired token (unknown, other tenant, or already revoked). Audited as
    /// `token.revoke` in the same transaction.
    pub async fn revoke_token(
        &self,
        tenant: TenantId,
        id: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "revoke_token";
        let target = format!("token:{id}");
        let payload = json!({ "id": id, "revoked_at": now.as_micros() });
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE tenant = $2 AND id = $3 AND revoked_at IS NULL",
            )
            .bind(now.as_micros())
            .bind(tenant.to_string())
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            let audit = NewAudit::new(tenant, by, "token.revoke", &target, payload.clone(), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            let change = NewChange {
                tenant,
                object_type: "token",
                object_id: id,
                op: "revoke",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok(true)
        })
    }

    /// Tokens (all tenants) neither revoked nor expired now (wall clock).
    pub async fn count_active_tokens(&self) -> Result<u64> {
        const OP: &str = "count_active_tokens";
        let now = SystemClock.now();
        let n = dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM api_tokens \
                 WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
            )
            .bind(now.as_micros())
            .fetch_one(pool)
            .await
            .map_err(db(OP))?;
            row.int("api_tokens", "n")?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

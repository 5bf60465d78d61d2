//! People who sign in to the web console (block 8): users with argon2id
//! password hashes and a role (admin, analyst, viewer), per-user failed
//! login counting with temporary lockout, and sessions.
//!
//! A session id is 32 random bytes (base64url) handed to the browser in a
//! cookie; the store keeps only its SHA-256, so a copy of the database does
//! not hold usable sessions. Each session carries its own CSRF token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};
use vigil_model::{Principal, PrincipalKind, Role, TenantId, Timestamp};

use crate::Store;
use crate::audit::{AuditOps, NewAudit};
use crate::error::{Error, Result, db};
use crate::migrations::{BLOCK_SERVER, Migration, version};
use crate::row::RowExt;
use crate::token;

/// The console block's migrations (block 8).
pub const CONSOLE_MIGRATIONS: &[Migration] = &[Migration {
    version: version(BLOCK_SERVER, 1),
    name: "console",
    sqlite: include_str!("../migrations/sqlite/80001_console.sql"),
    postgres: include_str!("../migrations/postgres/80001_console.sql"),
}];

/// The roles a person may hold (ingest and feed are for machines).
pub const USER_ROLES: [Role; 3] = [Role::Admin, Role::Analyst, Role::Viewer];

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (argon2 input bound).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A stored user (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Id (UUID).
    pub id: String,
    /// Tenant the user acts in.
    pub tenant: TenantId,
    /// Sign-in name (unique).
    pub username: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC hash of the password.
    pub password_hash: String,
    /// Created.
    pub created_at: Timestamp,
    /// Principal label of the creator.
    pub created_by: String,
    /// When the password was last set.
    pub password_set_at: Timestamp,
    /// When the user was disabled, if it was.
    pub disabled_at: Option<Timestamp>,
    /// Consecutive failed sign-ins since the last success or lockout.
    pub failed_logins: i64,
    /// Locked out until then.
    pub locked_until: Option<Timestamp>,
    /// Last successful sign-in.
    pub last_login_at: Option<Timestamp>,
}

impl UserRecord {
    /// The principal this user acts as.
    pub fn principal(&self) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            id: self.id.clone(),
            name: self.username.clone(),
            tenant: self.tenant,
            role: self.role,
        }
    }

    /// Locked out at `now`.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }
}

/// A change of a user's access ([`Store::change_user_access`]); absent
/// fields stay as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserAccess {
    /// The new role (admin, analyst or viewer).
    pub role: Option<Role>,
    /// Disable (`true`) or enable (`false`) the user.
    pub disabled: Option<bool>,
}

/// A live session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the session id.
    pub id_hash: String,
    /// The user.
    pub user: UserRecord,
    /// The session's CSRF token.
    pub csrf: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last request seen.
    pub last_seen: Timestamp,
    /// Absolute expiry.
    pub expires_at: Timestamp,
}

/// What a failed sign-in did to the user's counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedLogin {
    /// Counted; `n` consecutive failures now.
    Counted(i64),
    /// This failure locked the user until then.
    Locked(Timestamp),
}

/// The hex SHA-256 of a session id as the browser presents it.
pub fn session_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// A new random value: 32 bytes, base64url (43 chars).
pub fn random_token() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(token::os_random::<32>()?))
}

/// Checks a password's length; the reason when refused.
pub fn check_password(password: &str) -> std::result::Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!("a password has at most {MAX_PASSWORD_LEN} bytes"));
    }
    Ok(())
}

/// Hashes a password with argon2id off the async runtime.
async fn hash_password(password: &str) -> Result<String> {
    let p = password.to_owned();
    tokio::task::spawn_blocking(move || token::hash_secret(&p))
        .await
        .map_err(|e| Error::Crypto(format!("password hashing task failed: {e}")))?
}

/// Verifies a password against a PHC hash off the async runtime (slow on
/// purpose). A malformed hash is `false`.
pub async fn verify_password(password: &str, phc_hash: &str) -> bool {
    let (p, h) = (password.to_owned(), phc_hash.to_owned());
    tokio::task::spawn_blocking(move || token::verify_secret(&p, &h))
        .await
        .unwrap_or(false)
}

const USER_COLUMNS: &str = "u.id, u.tenant, u.username, u.role, u.password_hash, u.created_at, \
    u.created_by, u.password_set_at, u.disabled_at, u.failed_logins, u.locked_until, u.last_login_at";

fn user_from_row(r: &impl RowExt) -> Result<UserRecord> {
    const T: &str = "users";
    Ok(UserRecord {
        id: r.text(T, "id")?,
        tenant: r.tenant(T, "tenant")?,
        username: r.text(T, "username")?,
        role: r.parsed(T, "role")?,
        password_hash: r.text(T, "password_hash")?,
        created_at: r.ts(T, "created_at")?,
        created_by: r.text(T, "created_by")?,
        password_set_at: r.ts(T, "password_set_at")?,
        disabled_at: r.opt_ts(T, "disabled_at")?,
        failed_logins: r.int(T, "failed_logins")?,
        locked_until: r.opt_ts(T, "locked_until")?,
        last_login_at: r.opt_ts(T, "last_login_at")?,
    })
}

fn check_username(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(
            "a user name is 1-64 characters of letters, digits, '.', '_', '-' and '@'".into(),
        ))
    }
}

impl Store {
    /// Creates a user (audited as `user.create`). A taken name is
    /// [`Error::Conflict`]; a short password or a machine role is
    /// [`Error::Invalid`].
    pub async fn create_user(
        &self,
        tenant: TenantId,
        username: &str,
        role: Role,
        password: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<UserRecord> {
        const OP: &str = "create_user";
        check_username(username)?;
        if !USER_ROLES.contains(&role) {
            return Err(Error::Invalid(format!(
                "role {role} is for machines (tokens); people are admin, analyst or viewer"
            )));
        }
        check_password(password).map_err(Error::Invalid)?;
        let hash = hash_password(password).await?;
        let rec = UserRecord {
            id: uuid::Uuid::now_v7().to_string(),
            tenant,
            username: username.to_owned(),
            role,
            password_hash: hash,
            created_at: now,
            created_by: by.label(),
            password_set_at: now,
            disabled_at: None,
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
        };
        let target = format!("user:{}", rec.id);
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO users (id, tenant, username, role, password_hash, created_at, created_by, \
                 password_set_at, failed_logins) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)",
            )
            .bind(rec.id.as_str())
            .bind(tenant.to_string())
            .bind(rec.username.as_str())
            .bind(role.as_str())
            .bind(rec.password_hash.as_str())
            .bind(now.as_micros())
            .bind(rec.created_by.as_str())
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let audit = NewAudit::new(
                tenant,
                by,
                "user.create",
                &target,
                json!({ "username": rec.username, "role": role.as_str() }),
                now,
            );
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
        });
        Ok(rec)
    }

    /// The user with this sign-in name.
    pub async fn find_user(&self, username: &str) -> Result<Option<UserRecord>> {
        const OP: &str = "find_user";
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1");
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(username)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    /// A tenant's users by name.
    pub async fn list_users(&self, tenant: TenantId) -> Result<Vec<UserRecord>> {
        const OP: &str = "list_users";
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u WHERE u.tenant = $1 ORDER BY u.username");
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(user_from_row).collect()
        })
    }

    /// True if any user exists (in any tenant).
    pub async fn has_users(&self) -> Result<bool> {
        const OP: &str = "has_users";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM (SELECT 1 FROM users LIMIT 1) x")
                .fetch_one(pool)
                .await
                .map_err(db(OP))?;
            Ok(row.int("users", "n")? > 0)
        })
    }

    /// Sets a user's password, clears its lockout and ends its sessions
    /// (audited as `user.password`). [`Error::NotFound`] for an unknown name.
    pub async fn set_user_password(
        &self,
        username: &str,
        password: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<UserRecord> {
        check_password(password).map_err(Error::Invalid)?;
        let hash = hash_password(password).await?;
        self.update_user(
            username,
            "set_user_password",
            "user.password",
            "UPDATE users SET password_hash = $3, password_set_at = $1, failed_logins = 0, \
             locked_until = NULL WHERE id = $2",
            Some(hash),
            by,
            now,
        )
        .await
    }

    /// Disables a user and ends its sessions (audited as `user.disable`).
    pub async fn disable_user(
        &self,
        username: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<UserRecord> {
        self.update_user(
            username,
            "disable_user",
            "user.disable",
            "UPDATE users SET disabled_at = $1 WHERE id = $2",
            None,
            by,
            now,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_user(
        &self,
        username: &str,
        op: &'static str,
        action: &str,
        sql: &'static str,
        text: Option<String>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<UserRecord> {
        let Some(user) = self.find_user(username).await? else {
            return Err(Error::NotFound(format!("user {username:?}")));
        };
        let target = format!("user:{}", user.id);
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, op).await?;
            let mut q = sqlx::query(sql)
                .bind(now.as_micros())
                .bind(user.id.as_str());
            if let Some(t) = text.as_deref() {
                q = q.bind(t);
            }
            q.execute(tx.conn()).await.map_err(db(op))?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.id.as_str())
                .execute(tx.conn())
                .await
                .map_err(db(op))?;
            let audit = NewAudit::new(
                user.tenant,
                by,
                action,
                &target,
                json!({ "username": user.username }),
                now,
            );
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(op).await?;
        });
        self.find_user(username)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {username:?}")))
    }

    /// The user with this id in `tenant`.
    pub async fn get_user(&self, tenant: TenantId, id: &str) -> Result<Option<UserRecord>> {
        const OP: &str = "get_user";
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.tenant = $1 AND u.id = $2");
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.to_string())
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    /// Changes a user's role and/or disabled state in one transaction,
    /// audited as `user.role`, `user.disable` and `user.enable`. Disabling
    /// or a role change ends the user's sessions. A change that would leave
    /// the tenant without an enabled admin is refused with
    /// [`Error::Conflict`]: the audit entry is appended first, so the audit
    /// chain's lock serialises concurrent changes and the count of the
    /// remaining admins cannot race. [`Error::NotFound`] for an unknown id,
    /// [`Error::Invalid`] for a machine role.
    pub async fn change_user_access(
        &self,
        tenant: TenantId,
        id: &str,
        change: &UserAccess,
        by: &Principal,
        now: Timestamp,
    ) -> Result<UserRecord> {
        const OP: &str = "change_user_access";
        let Some(user) = self.get_user(tenant, id).await? else {
            return Err(Error::NotFound(format!("user {id:?}")));
        };
        let role = change.role.unwrap_or(user.role);
        if !USER_ROLES.contains(&role) {
            return Err(Error::Invalid(format!(
                "role {role} is for machines (tokens); people are admin, analyst or viewer"
            )));
        }
        let was_disabled = user.disabled_at.is_some();
        let disable = change.disabled == Some(true) && !was_disabled;
        let enable = change.disabled == Some(false) && was_disabled;
        let role_changed = role != user.role;
        if !disable && !enable && !role_changed {
            return Ok(user);
        }
        let loses_admin =
            user.role == Role::Admin && !was_disabled && (role != Role::Admin || disable);
        let target = format!("user:{}", user.id);
        let mut actions: Vec<(&str, serde_json::Value)> = Vec::new();
        if role_changed {
            actions.push((
                "user.role",
                json!({ "username": user.username, "from": user.role.as_str(), "to": role.as_str() }),
            ));
        }
        if disable {
            actions.push(("user.disable", json!({ "username": user.username })));
        }
        if enable {
            actions.push(("user.enable", json!({ "username": user.username })));
        }
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            for (action, details) in &actions {
                let audit = NewAudit::new(tenant, by, action, &target, details.clone(), now);
                <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            }
            if loses_admin {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM users WHERE tenant = $1 AND role = 'admin' \
                     AND disabled_at IS NULL AND id <> $2",
                )
                .bind(tenant.to_string())
                .bind(user.id.as_str())
                .fetch_one(tx.conn())
                .await
                .map_err(db(OP))?;
                if row.int("users", "n")? == 0 {
                    // Dropping the transaction rolls the audit entries back.
                    return Err(Error::Conflict {
                        op: OP,
                        msg: format!(
                            "{} is the last enabled admin; make another user admin first",
                            user.username
                        ),
                    });
                }
            }
            let disabled_at = if disable {
                Some(now.as_micros())
            } else if enable {
                None
            } else {
                user.disabled_at.map(Timestamp::as_micros)
            };
            sqlx::query("UPDATE users SET role = $1, disabled_at = $2 WHERE id = $3")
                .bind(role.as_str())
                .bind(disabled_at)
                .bind(user.id.as_str())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            if disable || role_changed {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user.id.as_str())
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
            }
            tx.commit(OP).await?;
        });
        self.get_user(tenant, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id:?}")))
    }

    /// Counts a failed sign-in of `user`; the `max_failures`-th consecutive
    /// one locks it until `now + lockout` and resets the count (audited as
    /// `user.lockout`).
    pub async fn record_failed_login(
        &self,
        user: &UserRecord,
        max_failures: i64,
        lockout_micros: i64,
        source: &str,
        now: Timestamp,
    ) -> Result<FailedLogin> {
        const OP: &str = "record_failed_login";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let row = sqlx::query(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            )
            .bind(user.id.as_str())
            .fetch_one(tx.conn())
            .await
            .map_err(db(OP))?;
            let n = row.int("users", "failed_logins")?;
            let out = if n >= max_failures {
                let until = now.add_micros(lockout_micros);
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                    .bind(until.as_micros())
                    .bind(user.id.as_str())
                    .execute(tx.conn())
                    .await
                    .map_err(db(OP))?;
                let target = format!("user:{}", user.id);
                let p = user.principal();
                let audit = NewAudit::new(
                    user.tenant,
                    &p,
                    "user.lockout",
                    &target,
                    json!({ "failures": n, "until": until.to_rfc3339(), "source": source }),
                    now,
                );
                <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
                FailedLogin::Locked(until)
            } else {
                FailedLogin::Counted(n)
            };
            tx.commit(OP).await?;
            Ok(out)
        })
    }

    /// Opens a session for `user` after a successful sign-in: resets its
    /// failure count, records the time and audits `user.login`. Returns the
    /// session id to put in the cookie (only its hash is stored) and the
    /// session.
    pub async fn create_session(
        &self,
        user: &UserRecord,
        source: &str,
        lifetime_micros: i64,
        now: Timestamp,
    ) -> Result<(String, SessionRecord)> {
        const OP: &str = "create_session";
        let id = random_token()?;
        let csrf = random_token()?;
        let rec = SessionRecord {
            id_hash: session_hash(&id),
            user: user.clone(),
            csrf,
            created_at: now,
            last_seen: now,
            expires_at: now.add_micros(lifetime_micros),
        };
        let target = format!("user:{}", user.id);
        let p = user.principal();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, tenant, user_id, csrf, created_at, last_seen, expires_at, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(rec.id_hash.as_str())
            .bind(user.tenant.to_string())
            .bind(user.id.as_str())
            .bind(rec.csrf.as_str())
            .bind(now.as_micros())
            .bind(now.as_micros())
            .bind(rec.expires_at.as_micros())
            .bind(source)
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            sqlx::query(
                "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2",
            )
            .bind(now.as_micros())
            .bind(user.id.as_str())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            // Expired sessions of anyone go with every sign-in.
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            let audit = NewAudit::new(
                user.tenant,
                &p,
                "user.login",
                &target,
                json!({ "source": source }),
                now,
            );
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
        });
        Ok((id, rec))
    }

    /// The live session for a cookie value: unknown, expired (absolute or
    /// idle for `idle_micros`) sessions and disabled users give `None`.
    /// Touches `last_seen` when it is older than `touch_micros`.
    pub async fn find_session(
        &self,
        id: &str,
        idle_micros: i64,
        touch_micros: i64,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>> {
        const OP: &str = "find_session";
        let hash = session_hash(id);
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.created_at AS s_created, s.last_seen, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1"
        );
        let found = dispatch!(self, |pool, DB| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(hash.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db(OP))?;
            match row {
                None => None,
                Some(r) => Some(SessionRecord {
                    id_hash: hash.clone(),
                    user: user_from_row(&r)?,
                    csrf: r.text("sessions", "csrf")?,
                    created_at: r.ts("sessions", "s_created")?,
                    last_seen: r.ts("sessions", "last_seen")?,
                    expires_at: r.ts("sessions", "expires_at")?,
                }),
            }
        });
        let Some(mut s) = found else {
            return Ok(None);
        };
        let idle = s.last_seen.add_micros(idle_micros) <= now;
        // A lockout stops new sign-ins only: ending live sessions on it would
        // let anyone sign a user out by failing its password five times.
        if now >= s.expires_at || idle || s.user.disabled_at.is_some() {
            self.delete_session_hash(&hash).await?;
            return Ok(None);
        }
        if s.last_seen.add_micros(touch_micros) <= now {
            dispatch!(self, |pool, DB| {
                sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
                    .bind(now.as_micros())
                    .bind(hash.as_str())
                    .execute(pool)
                    .await
                    .map_err(db(OP))?;
            });
            s.last_seen = now;
        }
        Ok(Some(s))
    }

    async fn delete_session_hash(&self, hash: &str) -> Result<bool> {
        const OP: &str = "delete_session";
        dispatch!(self, |pool, DB| {
            let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(hash)
                .execute(pool)
                .await
                .map_err(db(OP))?;
            Ok(r.rows_affected() > 0)
        })
    }

    /// Ends a session (sign-out), audited as `user.logout`.
    pub async fn end_session(&self, session: &SessionRecord, now: Timestamp) -> Result<()> {
        if self.delete_session_hash(&session.id_hash).await? {
            let p = session.user.principal();
            self.audit(&NewAudit::new(
                session.user.tenant,
                &p,
                "user.logout",
                &format!("user:{}", session.user.id),
                json!({}),
                now,
            ))
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_random_tokens() {
        let a = random_token().expect("rng");
        let b = random_token().expect("rng");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(session_hash(&a).len(), 64);
        assert_eq!(session_hash(&a), session_hash(&a));
        assert!(check_password("short").is_err());
        assert!(check_password("long enough password").is_ok());
        assert!(check_username("alice").is_ok());
        assert!(check_username("bad name").is_err());
        assert!(check_username("").is_err());
    }
}

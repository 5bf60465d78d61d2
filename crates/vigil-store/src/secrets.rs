//! Secrets encrypted at rest (feed, TAXII, SMTP and webhook credentials):
//! AES-256-GCM with a key that never touches the database.
//!
//! Each write uses a fresh random 96-bit nonce; the additional data is
//! `tenant || 0x00 || name`, so a ciphertext moved to another row does not
//! decrypt. The row also records the key id (first 8 hex chars of SHA-256 of
//! the key), so a wrong key is reported as such instead of as garbage.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde_json::json;
use sha2::{Digest, Sha256};
use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::changes::{ChangeOps, NewChange};
use crate::error::{Error, Result, corrupt, db};
use crate::row::RowExt;
use crate::token::os_random;

/// The 256-bit key that encrypts secrets. `Debug` shows only its key id.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(id={})", self.key_id())
    }
}

impl SecretKey {
    /// A key from raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from standard base64 (padded) of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Result<Self> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| Error::Invalid("secret key is not valid base64".into()))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            Error::Invalid(format!("secret key must be 32 bytes, got {}", b.len()))
        })?;
        Ok(Self(arr))
    }

    /// A new random key.
    pub fn generate() -> Result<Self> {
        Ok(Self(os_random::<32>()?))
    }

    /// The key as standard base64 (to write into configuration once).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// First 8 hex chars of SHA-256 of the key: names it without revealing it.
    pub fn key_id(&self) -> String {
        let mut h = hex::encode(Sha256::digest(self.0));
        h.truncate(8);
        h
    }

    fn aead(&self) -> Result<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| Error::Crypto("cannot build AES-256-GCM key".into()))
    }
}

fn aad(tenant: TenantId, name: &str) -> Vec<u8> {
    let mut a = tenant.to_string().into_bytes();
    a.push(0);
    a.extend_from_slice(name.as_bytes());
    a
}

/// Encrypts; returns `(nonce, ciphertext || tag)`.
fn seal(
    key: &SecretKey,
    tenant: TenantId,
    name: &str,
    plaintext: &[u8],
) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
    let nonce = os_random::<NONCE_LEN>()?;
    let mut buf = plaintext.to_vec();
    key.aead()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(tenant, name)),
            &mut buf,
        )
        .map_err(|_| Error::Crypto(format!("cannot encrypt secret {name:?}")))?;
    Ok((nonce, buf))
}

fn open(
    key: &SecretKey,
    tenant: TenantId,
    name: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| {
        corrupt(
            "secrets",
            format!("secret {name:?}: nonce of {} bytes", nonce.len()),
        )
    })?;
    let mut buf = ciphertext.to_vec();
    let len = key
        .aead()?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(tenant, name)),
            &mut buf,
        )
        .map_err(|_| {
            Error::Crypto(format!(
                "secret {name:?} does not decrypt: data altered or moved"
            ))
        })?
        .len();
    buf.truncate(len);
    Ok(buf)
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "secret name must be 1-200 bytes without control characters".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Encrypts `plaintext` under `key` and stores it as `tenant`/`name`,
    /// replacing any previous value. Records a change-feed row (name and key
    /// id only, never the value).
    pub async fn put_secret(
        &self,
        key: &SecretKey,
        tenant: TenantId,
        name: &str,
        plaintext: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        const OP: &str = "put_secret";
        check_name(name)?;
        let (nonce, ciphertext) = seal(key, tenant, name, plaintext)?;
        let key_id = key.key_id();
        let payload = json!({ "name": name, "key_id": key_id });
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO secrets (tenant, name, key_id, nonce, ciphertext, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, name) DO UPDATE SET \
                 key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.to_string())
            .bind(name)
            .bind(key_id.as_str())
            .bind(&nonce[..])
            .bind(ciphertext.as_slice())
            .bind(now.as_micros())
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let change = NewChange {
                tenant,
                object_type: "secret",
                object_id: name,
                op: "upsert",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
        });
        Ok(())
    }

    /// Decrypts `tenant`/`name`; `None` if absent. A secret written under a
    /// different key is [`Error::Crypto`] naming both key ids.
    pub async fn get_secret(
        &self,
        key: &SecretKey,
        tenant: TenantId,
        name: &str,
    ) -> Result<Option<Vec<u8>>> {
        const OP: &str = "get_secret";
        const T: &str = "secrets";
        let row = dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT key_id, nonce, ciphertext FROM secrets WHERE tenant = $1 AND name = $2",
            )
            .bind(tenant.to_string())
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            match row {
                Some(r) => Some((
                    r.text(T, "key_id")?,
                    r.bytes(T, "nonce")?,
                    r.bytes(T, "ciphertext")?,
                )),
                None => None,
            }
        });
        let Some((key_id, nonce, ciphertext)) = row else {
            return Ok(None);
        };
        if key_id != key.key_id() {
            return Err(Error::Crypto(format!(
                "secret {name:?} was encrypted with key id {key_id}, the configured key is {}",
                key.key_id()
            )));
        }
        open(key, tenant, name, &nonce, &ciphertext).map(Some)
    }

    /// The names of a tenant's secrets, sorted.
    pub async fn list_secrets(&self, tenant: TenantId) -> Result<Vec<String>> {
        const OP: &str = "list_secrets";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query("SELECT name FROM secrets WHERE tenant = $1 ORDER BY name")
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
                .map_err(db(OP))?;
            rows.iter().map(|r| r.text("secrets", "name")).collect()
        })
    }

    /// Deletes a secret; `false` if it did not exist.
    pub async fn delete_secret(&self, tenant: TenantId, name: &str) -> Result<bool> {
        const OP: &str = "delete_secret";
        let now = vigil_model::Clock::now(&vigil_model::SystemClock);
        let payload = json!({ "name": name });
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query("DELETE FROM secrets WHERE tenant = $1 AND name = $2")
                .bind(tenant.to_string())
                .bind(name)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            let change = NewChange {
                tenant,
                object_type: "secret",
                object_id: name,
                op: "delete",
                payload: &payload,
                at: now,
            };
            <DB as ChangeOps>::insert_changes(tx.conn(), std::slice::from_ref(&change)).await?;
            tx.commit(OP).await?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = SecretKey::from_bytes([7; 32]);
        let (n, c) = seal(&k, TenantId::DEFAULT, "smtp", b"hunter2").expect("test value");
        assert_ne!(&c[..7], b"hunter2");
        assert_eq!(
            open(&k, TenantId::DEFAULT, "smtp", &n, &c).expect("test value"),
            b"hunter2"
        );
        assert!(matches!(
            open(&k, TenantId::DEFAULT, "other", &n, &c),
            Err(Error::Crypto(_))
        ));
        let k2 = SecretKey::from_bytes([8; 32]);
        assert!(matches!(
            open(&k2, TenantId::DEFAULT, "smtp", &n, &c),
            Err(Error::Crypto(_))
        ));
    }

    #[test]
    fn key_parsing_and_debug() {
        let k = SecretKey::generate().expect("test value");
        let back = SecretKey::from_base64(&k.to_base64()).expect("test value");
        assert_eq!(k, back);
        assert_eq!(k.key_id().len(), 8);
        let dbg = format!("{k:?}");
        assert!(dbg.contains(&k.key_id()) && !dbg.contains(&k.to_base64()));
        assert!(matches!(
            SecretKey::from_base64("AAAA"),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            SecretKey::from_base64("not base64!"),
            Err(Error::Invalid(_))
        ));
    }
}

//! API token strings: the format, generation, parsing and argon2id hashing
//! of the secret part. No I/O.
//!
//! A token is `vgl_` + id (16 lowercase hex chars) + `_` + secret (32 random
//! bytes, base64url without padding, 43 chars). The store keeps the id, a
//! display prefix (`vgl_<id>`) and an argon2id PHC hash of the secret, never
//! the plaintext. Verification is deliberately slow (tens of milliseconds):
//! call it off the async runtime (`spawn_blocking`) and cache the result.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// The fixed start of every token.
pub const PREFIX: &str = "vgl_";
/// Length of the id part (hex chars).
pub const ID_LEN: usize = 16;
/// Length of the secret part (base64url chars of 32 bytes).
pub const SECRET_LEN: usize = 43;

/// `n` bytes from the operating system's random number generator.
pub(crate) fn os_random<const N: usize>() -> Result<[u8; N]> {
    use ring::rand::SecureRandom;
    let mut buf = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| {
            Error::Crypto("the operating system's random number generator failed".into())
        })?;
    Ok(buf)
}

/// A new token: `(id, secret, plaintext)`.
///
/// # Panics
///
/// If the operating system's random number generator fails (a broken
/// system, not bad input). [`try_generate`] returns an error instead.
pub fn generate() -> (String, String, String) {
    match try_generate() {
        Ok(t) => t,
        Err(e) => panic!("cannot generate an API token: {e}"),
    }
}

/// Like [`generate`], but an RNG failure is an [`Error::Crypto`].
pub fn try_generate() -> Result<(String, String, String)> {
    let id = hex::encode(os_random::<8>()?);
    let secret = URL_SAFE_NO_PAD.encode(os_random::<32>()?);
    let plaintext = format!("{PREFIX}{id}_{secret}");
    Ok((id, secret, plaintext))
}

/// The display prefix of token `id` (`vgl_<id>`), safe to show and log.
pub fn display_prefix(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// Splits a presented token into `(id, secret)`; `None` if it does not have
/// the token format.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let id = rest.get(..ID_LEN)?;
    let secret = rest.get(ID_LEN..)?.strip_prefix('_')?;
    let id_ok = id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let secret_ok = secret.len() == SECRET_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some((id, secret))
}

/// The argon2id PHC hash of `secret` (random salt, default parameters).
/// Slow on purpose.
pub fn hash_secret(secret: &str) -> Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Crypto(format!("cannot hash token secret: {e}")))
}

/// True if `secret` matches the PHC hash. A malformed hash is `false`.
/// Slow on purpose (argon2id); constant-time comparison.
pub fn verify_secret(secret: &str, phc_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc_hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_split_back() {
        let (id, secret, plain) = generate();
        assert_eq!(id.len(), ID_LEN);
        assert_eq!(split(&plain), Some((id.as_str(), secret.as_str())));
        assert_eq!(display_prefix(&id), plain[..PREFIX.len() + ID_LEN]);
    }

    #[test]
    fn split_rejects_malformed() {
        let (_, _, plain) = generate();
        let bad = [
            "",
            "vgl_",
            "xyz_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "vgl_0123456789ABCDEF_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "vgl_0123456789abcdef-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "vgl_0123456789abcdef_short",
            "vgl_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "vgl_éééééééé_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ];
        for b in bad {
            assert_eq!(split(b), None, "{b}");
        }
        assert!(split(&format!("{plain}x")).is_none());
    }

    #[test]
    fn hash_verifies_only_the_right_secret() {
        let h = hash_secret("s3cret").expect("test value");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("s3cres", &h));
        assert!(!verify_secret("s3cret", "not a hash"));
    }
}

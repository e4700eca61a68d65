//! Credentials: the admin password and the ingest tokens.
//!
//! Ingest tokens are long random strings, so a SHA-256 digest is enough to store them safely;
//! the admin password is a human secret and is checked with argon2 when given as a hash.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::configuration::Secret;

/// How the admin proves who they are.
#[derive(Debug, Clone)]
pub enum AdminCredential {
    /// No credential configured: every admin action is refused.
    Disabled,
    Plain(Secret),
    /// An argon2 PHC string.
    Hash(Secret),
}

impl AdminCredential {
    /// The hash wins over the plain password; a hash that does not parse is a start-up error.
    pub fn from_config(plain: Option<Secret>, hash: Option<Secret>) -> anyhow::Result<Self> {
        if let Some(hash) = hash.filter(|h| !h.expose().is_empty()) {
            PasswordHash::new(hash.expose()).map_err(|e| {
                anyhow::anyhow!("ICANTKUBE_ADMIN_PASSWORD_HASH is not an argon2 PHC string: {e}")
            })?;
            return Ok(AdminCredential::Hash(hash));
        }
        Ok(match plain.filter(|p| !p.expose().is_empty()) {
            Some(plain) => AdminCredential::Plain(plain),
            None => AdminCredential::Disabled,
        })
    }

    pub fn is_enabled(&self) -> bool {
        !matches!(self, AdminCredential::Disabled)
    }

    /// A digest that changes whenever the credential does (a new password or hash), for
    /// binding sessions to the credential they were opened with; `None` when disabled.
    pub fn fingerprint(&self) -> Option<String> {
        match self {
            AdminCredential::Disabled => None,
            AdminCredential::Plain(secret) => {
                Some(token_digest(&format!("plain:{}", secret.expose())))
            }
            AdminCredential::Hash(hash) => Some(token_digest(&format!("argon2:{}", hash.expose()))),
        }
    }

    /// Whether `password` is the admin's.
    pub fn verify(&self, password: &str) -> bool {
        match self {
            AdminCredential::Disabled => false,
            AdminCredential::Plain(expected) => equal_in_constant_time(expected.expose(), password),
            AdminCredential::Hash(hash) => PasswordHash::new(hash.expose())
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false),
        }
    }
}

/// A fresh ingest token: `ik_` and 32 random bytes in hex.
pub fn new_ingest_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("ik_{}", hex::encode(bytes))
}

/// The digest under which a token is stored.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of a presented token with a configured one.
pub fn token_matches(presented: &str, configured: &Secret) -> bool {
    equal_in_constant_time(presented, configured.expose())
}

/// Whether two secrets are equal, in a time that depends on neither their contents nor their
/// lengths: their SHA-256 digests, always 32 bytes, are compared in constant time.
pub fn equal_in_constant_time(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    #[test]
    fn secrets_compare_equal_only_when_identical_whatever_their_lengths() {
        assert!(equal_in_constant_time("token", "token"));
        assert!(equal_in_constant_time("", ""));
        assert!(!equal_in_constant_time("token", "toke"));
        assert!(!equal_in_constant_time("token", "token-and-more"));
        assert!(!equal_in_constant_time("", "x"));
    }

    #[test]
    fn a_plain_password_accepts_itself_and_nothing_else() {
        let admin = AdminCredential::from_config(Some(Secret::new("s3cret")), None).unwrap();
        assert!(admin.verify("s3cret"));
        assert!(!admin.verify("s3cret "));
        assert!(!admin.verify(""));
    }

    #[test]
    fn an_argon2_hash_verifies_the_password_it_was_made_from() {
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        let hash = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let admin = AdminCredential::from_config(None, Some(Secret::new(hash))).unwrap();
        assert!(admin.verify("correct horse"));
        assert!(!admin.verify("battery staple"));
    }

    #[test]
    fn a_malformed_hash_is_a_start_up_error() {
        let error =
            AdminCredential::from_config(None, Some(Secret::new("not-a-hash"))).unwrap_err();
        assert!(error.to_string().contains("ICANTKUBE_ADMIN_PASSWORD_HASH"));
    }

    #[test]
    fn without_a_credential_every_password_is_refused() {
        let admin = AdminCredential::from_config(None, Some(Secret::new(""))).unwrap();
        assert!(!admin.is_enabled());
        assert!(!admin.verify(""));
    }

    #[test]
    fn tokens_are_unique_and_stored_as_digests() {
        let (a, b) = (new_ingest_token(), new_ingest_token());
        assert_ne!(a, b);
        assert_eq!(token_digest(&a).len(), 64);
        assert_ne!(token_digest(&a), token_digest(&b));
    }
}

//! Named users: what a name and a new password must be, argon2 hashing, and the changes an
//! admin makes on the users page. The bootstrap admin (`ICANTKUBE_ADMIN_PASSWORD` or its
//! hash) signs in as `admin` and has no row.

use std::sync::{Arc, LazyLock};

use app::model::Role;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::db::users::{self, Change, User};
use crate::db::Database;
use crate::error::{Error, Result};

/// The bootstrap admin's name; no user may take it.
pub const BOOTSTRAP_ADMIN: &str = "admin";
const NAME_LENGTH: std::ops::RangeInclusive<usize> = 2..=40;
const PASSWORD_LENGTH: std::ops::RangeInclusive<usize> = 12..=1024;

/// Why an admin's change to the users was refused; the message names the field.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no user named {0}")]
    NoSuchUser(String),
    #[error(transparent)]
    Storage(#[from] Error),
}

/// A user name: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit.
pub fn parse_name(name: &str) -> std::result::Result<String, AccountError> {
    let name = name.trim();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if !NAME_LENGTH.contains(&name.chars().count()) {
        return Err(AccountError::Invalid(format!(
            "User name: {} to {} characters",
            NAME_LENGTH.start(),
            NAME_LENGTH.end()
        )));
    }
    if !name.chars().all(allowed) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(AccountError::Invalid(
            "User name: lower-case letters, digits, '.', '_' and '-', starting with a letter \
             or digit"
                .into(),
        ));
    }
    if name == BOOTSTRAP_ADMIN {
        return Err(AccountError::Invalid(format!(
            "User name: {BOOTSTRAP_ADMIN} is the bootstrap admin's, set by ICANTKUBE_ADMIN_PASSWORD"
        )));
    }
    Ok(name.to_string())
}

fn check_password(password: &str) -> std::result::Result<(), AccountError> {
    if PASSWORD_LENGTH.contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(AccountError::Invalid(format!(
            "Password: {} to {} characters",
            PASSWORD_LENGTH.start(),
            PASSWORD_LENGTH.end()
        )))
    }
}

fn parse_role(role: &str) -> std::result::Result<Role, AccountError> {
    Role::parse(role).ok_or_else(|| {
        AccountError::Invalid(format!(
            "Role: {role:?} is not one of viewer, engineer, admin"
        ))
    })
}

/// An argon2 PHC string of `password` with a fresh salt (tens of milliseconds of a core).
fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("argon2 with its default parameters hashes any password")
        .to_string()
}

/// Whether `password` is the one hashed in `phc`.
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// What an unknown name's password is checked against: no password matches it.
pub fn unknown_user_hash() -> &'static str {
    static HASH: LazyLock<String> = LazyLock::new(|| hash(&crate::auth::new_ingest_token()));
    &HASH
}

/// The users, and the changes admins make to them.
#[derive(Clone)]
pub struct Accounts {
    db: Database,
    /// Hashing shares the password checks' few places on the blocking pool.
    hashing: Arc<Semaphore>,
}

impl Accounts {
    pub fn new(db: Database, hashing: Arc<Semaphore>) -> Accounts {
        Accounts { db, hashing }
    }

    pub async fn list(&self) -> Result<Vec<User>> {
        users::list(self.db.pool()).await
    }

    /// Adds a user; `by` is the admin who did.
    pub async fn create(
        &self,
        name: &str,
        role: &str,
        password: &str,
        by: &str,
    ) -> std::result::Result<String, AccountError> {
        let name = parse_name(name)?;
        let role = parse_role(role)?;
        check_password(password)?;
        let hash = self.hash(password).await?;
        if users::insert(self.db.pool(), &name, role.as_str(), &hash, by).await? {
            Ok(name)
        } else {
            Err(AccountError::Invalid(format!(
                "User name: there is already a user named {name}"
            )))
        }
    }

    pub async fn set_role(
        &self,
        name: &str,
        role: &str,
        by: &str,
    ) -> std::result::Result<(), AccountError> {
        let role = parse_role(role)?;
        self.change(name, Change::Role(role.as_str()), by).await
    }

    /// Disabling ends the user's sessions at once.
    pub async fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
        by: &str,
    ) -> std::result::Result<(), AccountError> {
        self.change(name, Change::Disabled(disabled), by).await
    }

    /// A new password ends the user's sessions.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        by: &str,
    ) -> std::result::Result<(), AccountError> {
        check_password(password)?;
        let hash = self.hash(password).await?;
        self.change(name, Change::PasswordHash(&hash), by).await
    }

    async fn change(
        &self,
        name: &str,
        change: Change<'_>,
        by: &str,
    ) -> std::result::Result<(), AccountError> {
        if users::change(self.db.pool(), name, change, by).await? {
            Ok(())
        } else {
            Err(AccountError::NoSuchUser(name.to_string()))
        }
    }

    async fn hash(&self, password: &str) -> Result<String> {
        let permit = self
            .hashing
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash(&password)
        })
        .await
        .map_err(|error| Error::Corrupt(format!("hashing a password: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_the_bootstrap_name_is_reserved() {
        assert_eq!(parse_name(" ana.lopez ").unwrap(), "ana.lopez");
        assert_eq!(parse_name("shift-2_lead").unwrap(), "shift-2_lead");
        for bad in [
            "a",
            "Ana",
            "ana lopez",
            "-ana",
            "ana/x",
            "<b>",
            &"x".repeat(41),
        ] {
            let error = parse_name(bad).unwrap_err().to_string();
            assert!(error.starts_with("User name:"), "{bad}: {error}");
        }
        assert!(parse_name("admin")
            .unwrap_err()
            .to_string()
            .contains("bootstrap"));
    }

    #[test]
    fn passwords_need_twelve_characters_and_verify_only_themselves() {
        assert!(check_password("short pass").is_err());
        assert!(check_password("twelve chars").is_ok());
        let phc = hash("correct horse battery");
        assert!(verify(&phc, "correct horse battery"));
        assert!(!verify(&phc, "correct horse battery "));
        assert!(!verify("not a hash", "anything"));
        assert!(!verify(unknown_user_hash(), ""));
    }

    #[test]
    fn roles_are_the_three_named() {
        assert_eq!(parse_role("engineer").unwrap(), Role::Engineer);
        assert!(parse_role("root")
            .unwrap_err()
            .to_string()
            .starts_with("Role:"));
    }
}

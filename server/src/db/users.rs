//! Named users: their role, argon2 password hash and whether they are disabled, with who last
//! changed them. Disabling a user or setting a new password ends the user's sessions in the
//! same transaction.

use sqlx::AnyPool;

use crate::domain::time::now_ms;
use crate::error::{Error, Result};

/// A user as the users page lists them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    name: String,
    role: String,
    disabled: i64,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: row.id,
            name: row.name,
            role: row.role,
            disabled: row.disabled != 0,
            created_at: row.created_at,
            created_by: row.created_by,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        }
    }
}

const COLUMNS: &str = "id, name, role, disabled, created_at, created_by, updated_at, updated_by";

/// Every user, by name.
pub async fn list(pool: &AnyPool) -> Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY name"))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

/// The user and their password hash, by name.
pub async fn with_password(pool: &AnyPool, name: &str) -> Result<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE name = ?"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| (User::from(row.user), row.password_hash)))
}

/// Adds a user; `Ok(false)` when the name is taken.
pub async fn insert(
    pool: &AnyPool,
    name: &str,
    role: &str,
    password_hash: &str,
    by: &str,
) -> Result<bool> {
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO users (name, role, password_hash, disabled, created_at, created_by, \
         updated_at, updated_by) VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .bind(now)
    .bind(by)
    .bind(now)
    .bind(by)
    .execute(pool)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// What an admin may change about a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    Role(&'a str),
    Disabled(bool),
    PasswordHash(&'a str),
}

/// Applies a change to the named user, recording who made it; `Ok(false)` when there is no
/// such user. Disabling a user or setting a password ends the user's sessions.
pub async fn change(pool: &AnyPool, name: &str, change: Change<'_>, by: &str) -> Result<bool> {
    let (column, ends_sessions) = match change {
        Change::Role(_) => ("role", false),
        Change::Disabled(disabled) => ("disabled", disabled),
        Change::PasswordHash(_) => ("password_hash", true),
    };
    let sql =
        format!("UPDATE users SET {column} = ?, updated_at = ?, updated_by = ? WHERE name = ?");
    let mut tx = pool.begin().await?;
    let update = sqlx::query(&sql);
    let update = match change {
        Change::Role(role) => update.bind(role.to_string()),
        Change::Disabled(disabled) => update.bind(i64::from(disabled)),
        Change::PasswordHash(hash) => update.bind(hash.to_string()),
    };
    let changed = update
        .bind(now_ms())
        .bind(by)
        .bind(name)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    match changed {
        0 => return Ok(false),
        1 => {}
        n => return Err(Error::Corrupt(format!("{n} users are named {name}"))),
    }
    if ends_sessions {
        sqlx::query(
            "DELETE FROM admin_sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

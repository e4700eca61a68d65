//! Sessions of the web pages, by the SHA-256 digest of the cookie's value: the bootstrap
//! admin's (no user) and named users'.

use sqlx::AnyPool;

use crate::domain::time::now_ms;
use crate::error::Result;

/// Stores a new session, and forgets the expired ones (and those of an old credential once
/// they expire), so the table holds only live sessions.
pub async fn insert(
    pool: &AnyPool,
    id_sha256: &str,
    user_id: Option<i64>,
    csrf_token: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= ?")
        .bind(now_ms())
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO admin_sessions (id_sha256, user_id, csrf_token, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id_sha256)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now_ms())
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// A live session as stored: which digest found it, and its user's name, role and whether
/// they are disabled (none for the bootstrap admin's).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSession {
    pub id_sha256: String,
    pub csrf_token: String,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<i64>,
}

/// The unexpired session stored under one of the digests.
pub async fn find(pool: &AnyPool, digests: &[&str]) -> Result<Option<StoredSession>> {
    if digests.is_empty() {
        return Ok(None);
    }
    let wanted = vec!["?"; digests.len()].join(", ");
    let sql = format!(
        "SELECT s.id_sha256, s.csrf_token, s.user_id, u.name AS user_name, u.role, u.disabled \
         FROM admin_sessions s LEFT JOIN users u ON u.id = s.user_id \
         WHERE s.id_sha256 IN ({wanted}) AND s.expires_at > ?"
    );
    let mut query = sqlx::query_as(&sql);
    for digest in digests {
        query = query.bind(*digest);
    }
    Ok(query.bind(now_ms()).fetch_optional(pool).await?)
}

/// Ends a session, and any that have expired.
pub async fn delete(pool: &AnyPool, id_sha256: &str) -> Result<()> {
    sqlx::query("DELETE FROM admin_sessions WHERE id_sha256 = ? OR expires_at <= ?")
        .bind(id_sha256)
        .bind(now_ms())
        .execute(pool)
        .await?;
    Ok(())
}

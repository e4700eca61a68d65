//! Admin sessions, by the SHA-256 digest of the cookie's value.

use sqlx::AnyPool;

use crate::domain::time::now_ms;
use crate::error::Result;

/// Stores a new session, and forgets the expired ones (and those of an old credential once
/// they expire), so the table holds only live sessions.
pub async fn insert(
    pool: &AnyPool,
    id_sha256: &str,
    csrf_token: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= ?")
        .bind(now_ms())
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO admin_sessions (id_sha256, csrf_token, created_at, expires_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(id_sha256)
    .bind(csrf_token)
    .bind(now_ms())
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The session's CSRF token, while the session has not expired.
pub async fn csrf_token(pool: &AnyPool, id_sha256: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT csrf_token FROM admin_sessions WHERE id_sha256 = ? AND expires_at > ?",
    )
    .bind(id_sha256)
    .bind(now_ms())
    .fetch_optional(pool)
    .await?)
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

//! Per-machine ingest tokens, stored as SHA-256 digests.

use sqlx::AnyPool;

use crate::auth::token_digest;
use crate::domain::time::now_ms;
use crate::error::Result;

/// A machine's token as admins see it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct IngestToken {
    pub id: i64,
    pub label: String,
    /// Milliseconds since the epoch, UTC.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Stores a token for a machine; the token itself is never stored. Answers its id.
#[tracing::instrument(name = "Storing an ingest token", skip(pool, token))]
pub async fn insert(pool: &AnyPool, machine_id: i64, label: &str, token: &str) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO ingest_tokens (machine_id, token_sha256, label, created_at) \
         VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(machine_id)
    .bind(token_digest(token))
    .bind(label)
    .bind(now_ms())
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// The machine's tokens, newest first.
pub async fn list(pool: &AnyPool, machine_id: i64) -> Result<Vec<IngestToken>> {
    Ok(sqlx::query_as(
        "SELECT id, label, created_at, revoked_at FROM ingest_tokens \
         WHERE machine_id = ? ORDER BY id DESC",
    )
    .bind(machine_id)
    .fetch_all(pool)
    .await?)
}

/// Revokes token `id` of the machine from now on (a second revocation keeps the first time);
/// answers whether the machine has such a token.
pub async fn revoke(pool: &AnyPool, machine_id: i64, id: i64) -> Result<bool> {
    sqlx::query(
        "UPDATE ingest_tokens SET revoked_at = ? \
         WHERE id = ? AND machine_id = ? AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(machine_id)
    .execute(pool)
    .await?;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM ingest_tokens WHERE id = ? AND machine_id = ?")
            .bind(id)
            .bind(machine_id)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// Whether `token` is a live token of this machine.
pub async fn is_valid(pool: &AnyPool, machine_id: i64, token: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM ingest_tokens WHERE machine_id = ? AND token_sha256 = ? \
         AND revoked_at IS NULL",
    )
    .bind(machine_id)
    .bind(token_digest(token))
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

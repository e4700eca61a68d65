//! Per-machine ingest tokens, stored as SHA-256 digests.

use sqlx::AnyPool;

use crate::auth::token_digest;
use crate::domain::time::now_ms;
use crate::error::Result;

/// Stores a token for a machine; the token itself is never stored.
#[tracing::instrument(name = "Storing an ingest token", skip(pool, token))]
pub async fn insert(pool: &AnyPool, machine_id: i64, label: &str, token: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO ingest_tokens (machine_id, token_sha256, label, created_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(machine_id)
    .bind(token_digest(token))
    .bind(label)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
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

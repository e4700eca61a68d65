//! Admin password attempts per client address, counted in the database so that the limit
//! holds across replicas. A client's window opens at its first attempt; each attempt is
//! counted by one conditional UPDATE, so parallel guesses on any replicas cannot all pass.

use sqlx::AnyPool;

use crate::error::Result;

/// Counts an attempt of `client` at `now` (ms), in a window of `window_ms` holding `allowed`
/// attempts; answers `Err(opened_at)` of the client's full window instead when it has none
/// left.
pub async fn begin(
    pool: &AnyPool,
    client: &str,
    now: i64,
    window_ms: i64,
    allowed: i64,
) -> Result<std::result::Result<(), i64>> {
    let expired = now - window_ms;
    sqlx::query("DELETE FROM sign_in_attempts WHERE window_opened_at <= ?")
        .bind(expired)
        .execute(pool)
        .await?;
    let known: Option<i64> =
        sqlx::query_scalar("SELECT attempts FROM sign_in_attempts WHERE client = ?")
            .bind(client)
            .fetch_optional(pool)
            .await?;
    if known.is_none() {
        let opened = sqlx::query(
            "INSERT INTO sign_in_attempts (client, window_opened_at, attempts) VALUES (?, ?, 0)",
        )
        .bind(client)
        .bind(now)
        .execute(pool)
        .await;
        match opened {
            // Another replica opened it first: counting below works the same.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {}
            other => {
                other?;
            }
        }
    }
    let counted = sqlx::query(
        "UPDATE sign_in_attempts SET \
         attempts = CASE WHEN window_opened_at <= ? THEN 1 ELSE attempts + 1 END, \
         window_opened_at = CASE WHEN window_opened_at <= ? THEN ? ELSE window_opened_at END \
         WHERE client = ? AND (window_opened_at <= ? OR attempts < ?)",
    )
    .bind(expired)
    .bind(expired)
    .bind(now)
    .bind(client)
    .bind(expired)
    .bind(allowed)
    .execute(pool)
    .await?;
    if counted.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    let opened_at: i64 =
        sqlx::query_scalar("SELECT window_opened_at FROM sign_in_attempts WHERE client = ?")
            .bind(client)
            .fetch_one(pool)
            .await?;
    Ok(Err(opened_at))
}

/// Forgets the client's attempts: it knew the password.
pub async fn succeeded(pool: &AnyPool, client: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_attempts WHERE client = ?")
        .bind(client)
        .execute(pool)
        .await?;
    Ok(())
}

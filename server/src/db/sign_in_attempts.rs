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
    // A success from the same client deletes the row, and may do so between the steps
    // below: then count again, on a fresh window. Each turn lost means a success (an argon2
    // check) in between, so a few turns are enough; past them the attempt counts as refused.
    for _ in 0..8 {
        if let Some(counted) = count(pool, client, now, expired, allowed).await? {
            return Ok(counted);
        }
    }
    Ok(Err(now))
}

/// One turn of `begin`: `None` when the client's row vanished under it.
async fn count(
    pool: &AnyPool,
    client: &str,
    now: i64,
    expired: i64,
    allowed: i64,
) -> Result<Option<std::result::Result<(), i64>>> {
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
        return Ok(Some(Ok(())));
    }
    let opened_at: Option<i64> =
        sqlx::query_scalar("SELECT window_opened_at FROM sign_in_attempts WHERE client = ?")
            .bind(client)
            .fetch_optional(pool)
            .await?;
    Ok(opened_at.map(Err))
}

/// Forgets the client's attempts: it knew the password.
pub async fn succeeded(pool: &AnyPool, client: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_attempts WHERE client = ?")
        .bind(client)
        .execute(pool)
        .await?;
    Ok(())
}

//! Leases: a named duty that one replica holds at a time, until the time it last renewed it
//! runs out. Taking and renewing are one UPDATE, so two replicas never both succeed.

use sqlx::AnyPool;

use crate::error::Result;

/// Takes the lease for `holder`, or renews it, until `expires_at` (ms): possible when nobody
/// holds it, when `holder` does, or when the holder let it run out before `now`. Answers
/// whether `holder` holds it now.
pub async fn take_or_renew(
    pool: &AnyPool,
    name: &str,
    holder: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool> {
    let taken = sqlx::query(
        "UPDATE leases SET holder = ?, expires_at = ? \
         WHERE name = ? AND (holder IS NULL OR holder = ? OR expires_at < ?)",
    )
    .bind(holder)
    .bind(expires_at)
    .bind(name)
    .bind(holder)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Lets go of the lease if `holder` has it, so another replica may take it at once.
pub async fn release(pool: &AnyPool, name: &str, holder: &str) -> Result<()> {
    sqlx::query("UPDATE leases SET holder = NULL, expires_at = 0 WHERE name = ? AND holder = ?")
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// Who holds the lease, if anyone does before `now`.
pub async fn holder(pool: &AnyPool, name: &str, now: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT holder FROM leases WHERE name = ? AND holder IS NOT NULL AND expires_at >= ?",
    )
    .bind(name)
    .bind(now)
    .fetch_optional(pool)
    .await?
    .flatten())
}

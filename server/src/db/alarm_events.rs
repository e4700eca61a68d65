//! The alarm webhook's outbox: each transition of an alarm (raised, escalated, acknowledged,
//! cleared) written in the transaction that makes it, while a webhook is configured, then
//! delivered by the replica holding the background lease; so a transition is announced once
//! it is committed, and not lost while the receiver or a replica is down.

use sqlx::{Any, AnyPool, Transaction};

use crate::domain::time::now_ms;
use crate::error::Result;

/// Records a transition of alarm `alarm_id`, due for delivery at once.
pub async fn add(
    tx: &mut Transaction<'_, Any>,
    alarm_id: i64,
    kind: &str,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO alarm_events (alarm_id, kind, happened_at, by_user, note, pending, \
         attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?)",
    )
    .bind(alarm_id)
    .bind(kind)
    .bind(now)
    .bind(by)
    .bind(note)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a transition of the machine's alarm that is not cleared.
pub async fn add_for_machine(
    tx: &mut Transaction<'_, Any>,
    machine_id: i64,
    kind: &str,
) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO alarm_events (alarm_id, kind, happened_at, by_user, note, pending, \
         attempts, next_attempt_at) SELECT id, ?, ?, NULL, NULL, 1, 0, ? FROM alarms \
         WHERE machine_id = ? AND state IN ('open', 'acknowledged')",
    )
    .bind(kind)
    .bind(now)
    .bind(now)
    .bind(machine_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A transition to announce, with its alarm as it stands now.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DueEvent {
    pub id: i64,
    pub kind: String,
    pub happened_at: i64,
    pub by_user: Option<String>,
    pub note: Option<String>,
    pub attempts: i64,
    pub alarm_id: i64,
    pub machine: String,
    pub machine_display_name: String,
    pub state: String,
    pub severity: String,
    pub raised_at: i64,
    pub failure_probability: Option<f64>,
    pub remaining_life: Option<f64>,
    pub life_unit: Option<String>,
    pub failure_mode: Option<String>,
    pub model_version_id: i64,
}

/// Transitions due for delivery at `now`, oldest first, at most `limit`.
pub async fn due(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<DueEvent>> {
    Ok(sqlx::query_as(
        "SELECT e.id, e.kind, e.happened_at, e.by_user, e.note, e.attempts, e.alarm_id, \
         m.name AS machine, m.display_name AS machine_display_name, a.state, a.severity, \
         a.raised_at, a.failure_probability, a.remaining_life, a.life_unit, a.failure_mode, \
         a.model_version_id \
         FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id \
         JOIN machines m ON m.id = a.machine_id \
         WHERE e.pending = 1 AND e.next_attempt_at <= ? ORDER BY e.id LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The receiver took the transition.
pub async fn delivered(pool: &AnyPool, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE alarm_events SET pending = 0, delivered_at = ?, attempts = attempts + 1, \
         last_error = NULL WHERE id = ?",
    )
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The receiver refused or could not be reached: tried again at `next_at`, or never again
/// when `next_at` is `None`.
pub async fn failed(pool: &AnyPool, id: i64, error: &str, next_at: Option<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE alarm_events SET attempts = attempts + 1, last_error = ?, \
         pending = CASE WHEN ? IS NULL THEN 0 ELSE 1 END, \
         next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
    )
    .bind(error)
    .bind(next_at)
    .bind(next_at)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deliveries in trouble, as the alarms page reports them: transitions still waiting after a
/// failed attempt, those given up, and the newest error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trouble {
    pub retrying: i64,
    pub given_up: i64,
    pub last_error: Option<String>,
}

pub async fn trouble(pool: &AnyPool) -> Result<Trouble> {
    let (retrying, given_up): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(CASE WHEN pending = 1 THEN 1 END), COUNT(CASE WHEN pending = 0 THEN 1 END) \
         FROM alarm_events WHERE (pending = 1 AND attempts > 0) \
         OR (pending = 0 AND delivered_at IS NULL)",
    )
    .fetch_one(pool)
    .await?;
    let last_error: Option<String> = sqlx::query_scalar(
        "SELECT last_error FROM alarm_events WHERE (pending = 1 AND attempts > 0) \
         OR (pending = 0 AND delivered_at IS NULL) ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    Ok(Trouble {
        retrying,
        given_up,
        last_error,
    })
}

/// Forgets transitions delivered before `before` (ms); answers how many.
pub async fn forget_delivered(pool: &AnyPool, before: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM alarm_events WHERE pending = 0 AND delivered_at < ?")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

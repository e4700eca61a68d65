//! Alarms: one per episode of a machine at warning or critical. Raised by the ingest
//! transaction when a machine's newest prediction is warning or critical and it has no alarm
//! that is not cleared; escalated by it from warning to critical; kept at its peak (the
//! riskiest prediction, with its failure mode, drivers and model version). Engineers
//! acknowledge and clear them; `clear_recovered` clears those whose machine has been healthy
//! long enough. Each transition can be announced through the webhook's outbox
//! (`alarm_events`), in the same transaction.

use sqlx::{Any, AnyPool, QueryBuilder, Transaction};

use crate::db::alarm_events;
use crate::db::text::OptionalText;
use crate::domain::time::now_ms;
use crate::error::{Error, Result};

/// Where an alarm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Open,
    Acknowledged,
    Cleared,
}

impl AlarmState {
    pub const ALL: [AlarmState; 3] = [
        AlarmState::Open,
        AlarmState::Acknowledged,
        AlarmState::Cleared,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Open => "open",
            AlarmState::Acknowledged => "acknowledged",
            AlarmState::Cleared => "cleared",
        }
    }

    pub fn parse(text: &str) -> Option<AlarmState> {
        AlarmState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A machine's newest prediction at warning or critical, as the ingest transaction reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal<'a> {
    pub machine_id: i64,
    pub recorded_at: i64,
    /// `warning` or `critical`.
    pub severity: &'a str,
    /// `RiskRank::order` of the prediction: smaller is riskier.
    pub risk_order: f64,
    pub failure_probability: Option<f64>,
    pub remaining_life: Option<f64>,
    pub life_unit: Option<&'a str>,
    pub failure_mode: Option<&'a str>,
    /// The drivers as the predictions table stores them (JSON).
    pub drivers: Option<&'a str>,
    pub model_version_id: i64,
}

/// Records each signal on its machine's alarm that is not cleared, or raises one; in the
/// ingest transaction, which holds the machines' write lock, so no two alarms open at once.
/// With `announce`, each raise and escalation goes to the webhook's outbox. Answers how many
/// were raised.
pub async fn record(
    tx: &mut Transaction<'_, Any>,
    signals: &[Signal<'_>],
    announce: bool,
) -> Result<usize> {
    let mut raised = 0;
    let now = now_ms();
    for signal in signals {
        if signal.severity == "critical" {
            // Escalation reopens an acknowledged alarm: it needs attention again.
            let escalated = sqlx::query(
                "UPDATE alarms SET severity = 'critical', state = 'open', escalated_at = ?, \
                 updated_at = ? WHERE machine_id = ? AND state IN ('open', 'acknowledged') \
                 AND severity = 'warning'",
            )
            .bind(signal.recorded_at)
            .bind(now)
            .bind(signal.machine_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if escalated > 0 && announce {
                alarm_events::add_for_machine(tx, signal.machine_id, "escalated").await?;
            }
        }
        // A new peak takes the prediction's details.
        let updated = sqlx::query(
            "UPDATE alarms SET \
             failure_probability = CASE WHEN ? < peak_risk_order THEN ? ELSE failure_probability END, \
             remaining_life = CASE WHEN ? < peak_risk_order THEN ? ELSE remaining_life END, \
             life_unit = CASE WHEN ? < peak_risk_order THEN ? ELSE life_unit END, \
             failure_mode = CASE WHEN ? < peak_risk_order THEN ? ELSE failure_mode END, \
             drivers = CASE WHEN ? < peak_risk_order THEN ? ELSE drivers END, \
             model_version_id = CASE WHEN ? < peak_risk_order THEN ? ELSE model_version_id END, \
             peak_at = CASE WHEN ? < peak_risk_order THEN ? ELSE peak_at END, \
             peak_risk_order = CASE WHEN ? < peak_risk_order THEN ? ELSE peak_risk_order END, \
             last_bad_at = CASE WHEN last_bad_at < ? THEN ? ELSE last_bad_at END, \
             updated_at = ? \
             WHERE machine_id = ? AND state IN ('open', 'acknowledged')",
        )
        .bind(signal.risk_order)
        .bind(signal.failure_probability)
        .bind(signal.risk_order)
        .bind(signal.remaining_life)
        .bind(signal.risk_order)
        .bind(signal.life_unit)
        .bind(signal.risk_order)
        .bind(signal.failure_mode)
        .bind(signal.risk_order)
        .bind(signal.drivers)
        .bind(signal.risk_order)
        .bind(signal.model_version_id)
        .bind(signal.risk_order)
        .bind(signal.recorded_at)
        .bind(signal.risk_order)
        .bind(signal.risk_order)
        .bind(signal.recorded_at)
        .bind(signal.recorded_at)
        .bind(now)
        .bind(signal.machine_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if updated > 0 {
            continue;
        }
        // SQLite (3.35+) and MariaDB (10.5+) both answer an INSERT's id with RETURNING.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO alarms (machine_id, state, severity, raised_at, escalated_at, peak_at, \
             peak_risk_order, failure_probability, remaining_life, life_unit, failure_mode, \
             drivers, model_version_id, last_bad_at, updated_at) \
             VALUES (?, 'open', ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(signal.machine_id)
        .bind(signal.severity)
        .bind(signal.recorded_at)
        .bind(signal.recorded_at)
        .bind(signal.risk_order)
        .bind(signal.failure_probability)
        .bind(signal.remaining_life)
        .bind(signal.life_unit)
        .bind(signal.failure_mode)
        .bind(signal.drivers)
        .bind(signal.model_version_id)
        .bind(signal.recorded_at)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        if announce {
            alarm_events::add(tx, id, "raised", None, None).await?;
        }
        raised += 1;
    }
    Ok(raised)
}

/// Clears the alarms whose machine is healthy and has had no warning or critical prediction
/// for `healthy_for_ms` of its own readings' time, announcing each with `announce`; answers
/// how many. Machines that stopped reporting keep their alarms: silence is no sign of health.
pub async fn clear_recovered(pool: &AnyPool, healthy_for_ms: i64, announce: bool) -> Result<u64> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let recovered: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT a.id, a.machine_id FROM alarms a JOIN machines m ON m.id = a.machine_id \
         WHERE a.state IN ('open', 'acknowledged') AND m.status = 'healthy' \
         AND m.last_predicted_at >= a.last_bad_at + ?",
    )
    .bind(healthy_for_ms)
    .fetch_all(&mut *tx)
    .await?;
    for (id, machine_id) in &recovered {
        sqlx::query(
            "UPDATE alarms SET state = 'cleared', cleared_at = ?, cleared_by = NULL, \
             cleared_note = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // The fleet page's version moves with its machines' rows.
        sqlx::query("UPDATE machines SET updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(machine_id)
            .execute(&mut *tx)
            .await?;
        if announce {
            alarm_events::add(&mut tx, *id, "cleared", None, None).await?;
        }
    }
    tx.commit().await?;
    Ok(recovered.len() as u64)
}

/// What an engineer does to an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Clear,
}

/// Why an engineer's action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("there is no alarm {0}")]
    NoSuchAlarm(i64),
    #[error("alarm {0} is {1}: only an open alarm can be acknowledged, and a cleared one not cleared again")]
    Already(i64, &'static str),
    #[error(transparent)]
    Storage(#[from] Error),
}

/// Acknowledges an open alarm, or clears one that is not cleared, as `user` with `note`
/// (none when empty).
pub async fn act(
    pool: &AnyPool,
    id: i64,
    action: Action,
    user: &str,
    note: &str,
    announce: bool,
) -> std::result::Result<(), ActionError> {
    let now = now_ms();
    let mut tx = pool.begin().await.map_err(Error::from)?;
    let sql = match action {
        Action::Acknowledge => {
            "UPDATE alarms SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, \
             acknowledged_note = ?, updated_at = ? WHERE id = ? AND state = 'open'"
        }
        Action::Clear => {
            "UPDATE alarms SET state = 'cleared', cleared_at = ?, cleared_by = ?, \
             cleared_note = ?, updated_at = ? WHERE id = ? AND state <> 'cleared'"
        }
    };
    let note = (!note.is_empty()).then_some(note);
    let changed = sqlx::query(sql)
        .bind(now)
        .bind(user)
        .bind(note)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?
        .rows_affected();
    if changed == 0 {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM alarms WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Error::from)?;
        return Err(match state.as_deref().and_then(AlarmState::parse) {
            None => ActionError::NoSuchAlarm(id),
            Some(state) => ActionError::Already(id, state.as_str()),
        });
    }
    sqlx::query(
        "UPDATE machines SET updated_at = ? WHERE id = (SELECT machine_id FROM alarms WHERE id = ?)",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(Error::from)?;
    if announce {
        let kind = match action {
            Action::Acknowledge => "acknowledged",
            Action::Clear => "cleared",
        };
        alarm_events::add(&mut tx, id, kind, Some(user), note).await?;
    }
    tx.commit().await.map_err(Error::from)?;
    Ok(())
}

/// An alarm as the pages show it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Alarm {
    pub id: i64,
    pub machine: String,
    pub machine_display_name: String,
    /// The machine's sensors as stored (JSON): the alarm's drivers are named after them.
    #[sqlx(try_from = "crate::db::text::Text")]
    pub machine_sensors: String,
    pub state: String,
    pub severity: String,
    pub raised_at: i64,
    pub escalated_at: Option<i64>,
    pub peak_at: i64,
    pub failure_probability: Option<f64>,
    pub remaining_life: Option<f64>,
    pub life_unit: Option<String>,
    pub failure_mode: Option<String>,
    #[sqlx(try_from = "OptionalText")]
    pub drivers: Option<String>,
    pub model_version_id: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_note: Option<String>,
    pub cleared_at: Option<i64>,
    pub cleared_by: Option<String>,
    pub cleared_note: Option<String>,
}

/// Which alarms a page lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmFilter {
    /// `None`: every state.
    pub state: Option<AlarmState>,
    pub machine: Option<String>,
}

/// Alarms that are not cleared first, then newest first; at most `limit`.
pub async fn list(pool: &AnyPool, filter: &AlarmFilter, limit: i64) -> Result<Vec<Alarm>> {
    let mut query: QueryBuilder<Any> = QueryBuilder::new(
        "SELECT a.id, m.name AS machine, m.display_name AS machine_display_name, \
         m.sensors AS machine_sensors, a.state, \
         a.severity, a.raised_at, a.escalated_at, a.peak_at, a.failure_probability, \
         a.remaining_life, a.life_unit, a.failure_mode, a.drivers, a.model_version_id, \
         a.acknowledged_at, a.acknowledged_by, a.acknowledged_note, a.cleared_at, \
         a.cleared_by, a.cleared_note \
         FROM alarms a JOIN machines m ON m.id = a.machine_id WHERE 1 = 1",
    );
    if let Some(state) = filter.state {
        query.push(" AND a.state = ").push_bind(state.as_str());
    }
    if let Some(machine) = &filter.machine {
        query.push(" AND m.name = ").push_bind(machine.clone());
    }
    query
        .push(" ORDER BY CASE WHEN a.state = 'cleared' THEN 1 ELSE 0 END, a.raised_at DESC, a.id DESC LIMIT ")
        .push_bind(limit);
    Ok(query.build_query_as().fetch_all(pool).await?)
}

/// Alarms not cleared, by state: (open, acknowledged).
pub async fn state_counts(pool: &AnyPool) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(CASE WHEN state = 'open' THEN 1 END), \
         COUNT(CASE WHEN state = 'acknowledged' THEN 1 END) FROM alarms \
         WHERE state IN ('open', 'acknowledged')",
    )
    .fetch_one(pool)
    .await?)
}

/// Alarms not cleared, by state and severity, and when the oldest open one was raised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmCounts {
    /// (state, severity, count) for the pairs that have alarms.
    pub by_state_and_severity: Vec<(String, String, i64)>,
    pub oldest_open_raised_at: Option<i64>,
}

impl AlarmCounts {
    pub fn count(&self, state: &str, severity: &str) -> i64 {
        self.by_state_and_severity
            .iter()
            .find(|(s, v, _)| s == state && v == severity)
            .map_or(0, |(_, _, count)| *count)
    }
}

pub async fn counts(pool: &AnyPool) -> Result<AlarmCounts> {
    let by_state_and_severity = sqlx::query_as(
        "SELECT state, severity, COUNT(*) FROM alarms WHERE state IN ('open', 'acknowledged') \
         GROUP BY state, severity",
    )
    .fetch_all(pool)
    .await?;
    let oldest_open_raised_at: Option<i64> =
        sqlx::query_scalar("SELECT MIN(raised_at) FROM alarms WHERE state = 'open'")
            .fetch_one(pool)
            .await?;
    Ok(AlarmCounts {
        by_state_and_severity,
        oldest_open_raised_at,
    })
}

/// The severity of each listed machine's alarm that is not cleared, by machine id.
pub async fn open_of(pool: &AnyPool, machine_ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if machine_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query: QueryBuilder<Any> = QueryBuilder::new(
        "SELECT machine_id, severity FROM alarms WHERE state IN ('open', 'acknowledged') \
         AND machine_id IN (",
    );
    let mut ids = query.separated(", ");
    for id in machine_ids {
        ids.push_bind(*id);
    }
    ids.push_unseparated(")");
    Ok(query.build_query_as().fetch_all(pool).await?)
}

//! Maintenance records: what an engineer did to a machine, and what it teaches the models. A
//! repair or a part replaced marks the machine's last reading at or before the work as its
//! failure (with the failure mode, when given) and every unlabelled reading of the run before
//! it as not failed; the machine's run starts again after it. That is what the training form's
//! "machine history" data set reads: the failure flags for failure models, and the runs they
//! end, cycle by cycle, for remaining-life models. A false alarm marks its alarm `false`; a
//! repair or replacement linked to an alarm marks it `confirmed`. Either clears it.

use sqlx::{Any, AnyPool, Transaction};

use crate::db::alarm_events;
use crate::domain::time::now_ms;
use crate::error::{Error, Result};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Inspection,
    PartReplaced,
    Repair,
    FalseAlarm,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Inspection,
        Kind::PartReplaced,
        Kind::Repair,
        Kind::FalseAlarm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Inspection => "inspection",
            Kind::PartReplaced => "part_replaced",
            Kind::Repair => "repair",
            Kind::FalseAlarm => "false_alarm",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether the machine failed (or was about to): its readings are labelled.
    pub fn ends_a_run(self) -> bool {
        matches!(self, Kind::PartReplaced | Kind::Repair)
    }
}

/// A record to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord<'a> {
    pub machine_id: i64,
    pub kind: Kind,
    pub failure_mode: Option<&'a str>,
    /// When the work was done (ms); the failure it labels is the last reading at or before.
    pub done_at: i64,
    pub note: Option<&'a str>,
    /// The alarm it answers; it must be the machine's.
    pub alarm_id: Option<i64>,
    pub by: &'a str,
}

/// Why a record was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("alarm: alarm {0} is not one of this machine's")]
    NotThisMachinesAlarm(i64),
    #[error("alarm: a false alarm needs the alarm it was")]
    FalseAlarmWithoutAlarm,
    #[error("when: the machine has no reading at or before then to mark as its failure")]
    NoReadingBefore,
    #[error(transparent)]
    Storage(#[from] Error),
}

impl From<sqlx::Error> for RecordError {
    fn from(error: sqlx::Error) -> RecordError {
        RecordError::Storage(error.into())
    }
}

/// Stores the record and what follows from it, in one transaction; answers how many readings
/// it labelled. `announce`: the alarm's clearing goes to the webhook's outbox.
pub async fn record(
    pool: &AnyPool,
    record: &NewRecord<'_>,
    announce: bool,
) -> std::result::Result<u64, RecordError> {
    let mut tx = pool.begin().await?;
    if let Some(alarm_id) = record.alarm_id {
        let owner: Option<i64> = sqlx::query_scalar("SELECT machine_id FROM alarms WHERE id = ?")
            .bind(alarm_id)
            .fetch_optional(&mut *tx)
            .await?;
        if owner != Some(record.machine_id) {
            return Err(RecordError::NotThisMachinesAlarm(alarm_id));
        }
    } else if record.kind == Kind::FalseAlarm {
        return Err(RecordError::FalseAlarmWithoutAlarm);
    }
    let (failure_reading, labelled) = if record.kind.ends_a_run() {
        let (id, labelled) = label_failure(&mut tx, record).await?;
        (Some(id), labelled)
    } else {
        (None, 0)
    };
    let now = now_ms();
    sqlx::query(
        "INSERT INTO maintenance (machine_id, kind, failure_mode, done_at, note, alarm_id, \
         failure_reading_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(record.machine_id)
    .bind(record.kind.as_str())
    .bind(record.failure_mode)
    .bind(record.done_at)
    .bind(record.note)
    .bind(record.alarm_id)
    .bind(failure_reading)
    .bind(record.by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(alarm_id) = record.alarm_id {
        let outcome = match record.kind {
            Kind::FalseAlarm => Some("false"),
            kind if kind.ends_a_run() => Some("confirmed"),
            _ => None,
        };
        if let Some(outcome) = outcome {
            settle_alarm(&mut tx, alarm_id, outcome, record, announce).await?;
        }
    }
    sqlx::query("UPDATE machines SET updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(record.machine_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(labelled)
}

/// Marks the last reading at or before the work as the failure and the unlabelled readings
/// of the run before it as not failed, and starts the machine's run after it; answers the
/// failure reading's id and how many readings were labelled.
async fn label_failure(
    tx: &mut Transaction<'_, Any>,
    record: &NewRecord<'_>,
) -> std::result::Result<(i64, u64), RecordError> {
    let failure: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM readings WHERE machine_id = ? AND recorded_at <= ? \
         ORDER BY recorded_at DESC, id DESC LIMIT 1",
    )
    .bind(record.machine_id)
    .bind(record.done_at)
    .fetch_optional(&mut **tx)
    .await?;
    let failure = failure.ok_or(RecordError::NoReadingBefore)?;
    // The run it ends began after the machine's last failure before it.
    let run_start: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(id), 0) FROM readings WHERE machine_id = ? AND failure = 1 AND id < ?",
    )
    .bind(record.machine_id)
    .bind(failure)
    .fetch_one(&mut **tx)
    .await?;
    let failed = sqlx::query(
        "UPDATE readings SET failure = 1, failure_mode = COALESCE(?, failure_mode) WHERE id = ?",
    )
    .bind(record.failure_mode)
    .bind(failure)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let healthy = sqlx::query(
        "UPDATE readings SET failure = 0 WHERE machine_id = ? AND id > ? AND id < ? \
         AND failure IS NULL",
    )
    .bind(record.machine_id)
    .bind(run_start)
    .bind(failure)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE machine_id = ? AND id > ?")
            .bind(record.machine_id)
            .bind(failure)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "UPDATE machines SET run_started_after = ?, run_reading_count = ? \
         WHERE id = ? AND run_started_after <= ?",
    )
    .bind(failure)
    .bind(after)
    .bind(record.machine_id)
    .bind(failure)
    .execute(&mut **tx)
    .await?;
    Ok((failure, failed + healthy))
}

/// Sets the alarm's outcome and clears it, as the engineer who recorded the work.
async fn settle_alarm(
    tx: &mut Transaction<'_, Any>,
    alarm_id: i64,
    outcome: &str,
    record: &NewRecord<'_>,
    announce: bool,
) -> std::result::Result<(), RecordError> {
    let now = now_ms();
    let note = format!("maintenance: {}", record.kind.as_str().replace('_', " "));
    let cleared = sqlx::query(
        "UPDATE alarms SET state = 'cleared', cleared_at = ?, cleared_by = ?, cleared_note = ?, \
         updated_at = ? WHERE id = ? AND state IN ('open', 'acknowledged')",
    )
    .bind(now)
    .bind(record.by)
    .bind(&note)
    .bind(now)
    .bind(alarm_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE alarms SET outcome = ? WHERE id = ?")
        .bind(outcome)
        .bind(alarm_id)
        .execute(&mut **tx)
        .await?;
    if cleared > 0 && announce {
        alarm_events::add(tx, alarm_id, "cleared", Some(record.by), Some(&note)).await?;
    }
    Ok(())
}

/// A maintenance record as the machine page lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Record {
    pub id: i64,
    pub kind: String,
    pub failure_mode: Option<String>,
    pub done_at: i64,
    pub note: Option<String>,
    pub alarm_id: Option<i64>,
    pub recorded_by: String,
}

/// The machine's newest records, at most `limit`.
pub async fn of_machine(pool: &AnyPool, machine_id: i64, limit: i64) -> Result<Vec<Record>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, failure_mode, done_at, note, alarm_id, recorded_by FROM maintenance \
         WHERE machine_id = ? ORDER BY done_at DESC, id DESC LIMIT ?",
    )
    .bind(machine_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

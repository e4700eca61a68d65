//! Readings: stored in batches, whole or not at all.

use std::collections::HashSet;

use sqlx::{Any, AnyPool, QueryBuilder};

use crate::domain::NewReading;
use crate::error::{Error, Result};
use crate::time::now_ms;

/// Rows per INSERT statement: 8 parameters a row stays far below every backend's limit.
const ROWS_PER_STATEMENT: usize = 500;

/// What storing a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBatch {
    pub stored: usize,
    /// Readings skipped because their client sequence id was stored before.
    pub duplicates: usize,
    /// Time of the newest reading of the batch.
    pub latest_at: i64,
}

/// Stores a validated batch in one transaction and moves the machine's latest values forward.
/// Readings whose client sequence id the machine already has are skipped, so a retried batch
/// stores nothing twice.
#[tracing::instrument(name = "Storing readings", skip(pool, readings), fields(count = readings.len()))]
pub async fn store_batch(
    pool: &AnyPool,
    machine_id: i64,
    readings: &[NewReading],
) -> Result<StoredBatch> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    // Writing first takes the write lock at once (SQLite) or locks the machine row (MariaDB),
    // so concurrent batches for one machine queue here instead of racing on sequence ids.
    sqlx::query("UPDATE machines SET updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(machine_id)
        .execute(&mut *tx)
        .await?;

    let seen = stored_seqs(&mut tx, machine_id, readings).await?;
    let fresh: Vec<&NewReading> = readings
        .iter()
        .filter(|r| r.client_seq.as_ref().is_none_or(|seq| !seen.contains(seq)))
        .collect();

    for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
        let mut insert: QueryBuilder<Any> = QueryBuilder::new(
            "INSERT INTO readings (machine_id, recorded_at, client_seq, sensor_values, failure, \
             failure_mode, time_to_failure, received_at) ",
        );
        insert.push_values(chunk, |mut row, reading| {
            row.push_bind(machine_id)
                .push_bind(reading.recorded_at)
                .push_bind(reading.client_seq.clone())
                .push_bind(serde_json::to_string(&reading.values).expect("finite values"))
                .push_bind(reading.labels.failure.map(i64::from))
                .push_bind(reading.labels.failure_mode.clone())
                .push_bind(reading.labels.time_to_failure)
                .push_bind(now);
        });
        insert.build().execute(&mut *tx).await?;
    }

    let latest = readings
        .iter()
        .max_by_key(|r| r.recorded_at)
        .ok_or_else(|| Error::Corrupt("an empty batch reached storage".into()))?;
    if !fresh.is_empty() {
        sqlx::query(
            "UPDATE machines SET last_reading_at = ?, last_values = ? \
             WHERE id = ? AND (last_reading_at IS NULL OR last_reading_at <= ?)",
        )
        .bind(latest.recorded_at)
        .bind(serde_json::to_string(&latest.values).expect("finite values"))
        .bind(machine_id)
        .bind(latest.recorded_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(StoredBatch {
        stored: fresh.len(),
        duplicates: readings.len() - fresh.len(),
        latest_at: latest.recorded_at,
    })
}

/// The batch's client sequence ids that this machine has stored already.
async fn stored_seqs(
    tx: &mut sqlx::Transaction<'_, Any>,
    machine_id: i64,
    readings: &[NewReading],
) -> Result<HashSet<String>> {
    let seqs: Vec<&str> = readings
        .iter()
        .filter_map(|r| r.client_seq.as_deref())
        .collect();
    let mut seen = HashSet::new();
    for chunk in seqs.chunks(ROWS_PER_STATEMENT) {
        let mut select: QueryBuilder<Any> =
            QueryBuilder::new("SELECT client_seq FROM readings WHERE machine_id = ");
        select.push_bind(machine_id).push(" AND client_seq IN (");
        let mut list = select.separated(", ");
        for seq in chunk {
            list.push_bind(seq.to_string());
        }
        list.push_unseparated(")");
        let rows: Vec<String> = select.build_query_scalar().fetch_all(&mut **tx).await?;
        seen.extend(rows);
    }
    Ok(seen)
}

/// A stored reading, as charts and models read it back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReading {
    pub recorded_at: i64,
    pub values: Vec<f64>,
}

/// The machine's latest `limit` readings, oldest first.
#[tracing::instrument(name = "Reading recent readings", skip(pool))]
pub async fn recent(pool: &AnyPool, machine_id: i64, limit: i64) -> Result<Vec<StoredReading>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT recorded_at, sensor_values FROM readings WHERE machine_id = ? \
         ORDER BY recorded_at DESC, id DESC LIMIT ?",
    )
    .bind(machine_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut readings = rows
        .into_iter()
        .map(|(recorded_at, values)| {
            serde_json::from_str(&values)
                .map(|values| StoredReading {
                    recorded_at,
                    values,
                })
                .map_err(|e| Error::Corrupt(format!("reading values of machine {machine_id}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    readings.reverse();
    Ok(readings)
}

/// How many readings the machine has.
pub async fn count(pool: &AnyPool, machine_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE machine_id = ?")
            .bind(machine_id)
            .fetch_one(pool)
            .await?,
    )
}

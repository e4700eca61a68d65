//! Per-bucket summaries of readings (`reading_rollups`), and where the job that keeps them
//! got to (`job_positions`).

use sqlx::{Any, AnyPool, Transaction};

use crate::db::text::Text;
use crate::error::{Error, Result};

/// The readings of one machine in one bucket: how many, and each sensor's minimum, mean and
/// maximum in schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    pub bucket_start: i64,
    pub readings: i64,
    pub mins: Vec<f64>,
    pub means: Vec<f64>,
    pub maxs: Vec<f64>,
}

/// A reading as the rollup job reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReading {
    pub id: i64,
    pub machine_id: i64,
    pub recorded_at: i64,
    pub values: Vec<f64>,
}

/// Up to `limit` readings after id `after`, by id, received before `received_before`.
pub async fn readings_after(
    pool: &AnyPool,
    after: i64,
    received_before: i64,
    limit: usize,
) -> Result<Vec<RawReading>> {
    let rows: Vec<(i64, i64, i64, Text)> = sqlx::query_as(
        "SELECT id, machine_id, recorded_at, sensor_values FROM readings \
         WHERE id > ? AND received_at < ? ORDER BY id LIMIT ?",
    )
    .bind(after)
    .bind(received_before)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id, machine_id, recorded_at, values)| {
            let values = serde_json::from_str(&String::from(values))
                .map_err(|e| Error::Corrupt(format!("values of reading {id}: {e}")))?;
            Ok(RawReading {
                id,
                machine_id,
                recorded_at,
                values,
            })
        })
        .collect()
}

type RollupRow = (i64, i64, i64, Text, Text, Text);

fn rollup(row: RollupRow) -> Result<(i64, Rollup)> {
    let (machine_id, bucket_start, readings, mins, means, maxs) = row;
    let parse = |text: Text| -> Result<Vec<f64>> {
        serde_json::from_str(&String::from(text))
            .map_err(|e| Error::Corrupt(format!("rollup of machine {machine_id}: {e}")))
    };
    Ok((
        machine_id,
        Rollup {
            bucket_start,
            readings,
            mins: parse(mins)?,
            means: parse(means)?,
            maxs: parse(maxs)?,
        },
    ))
}

/// The stored rollups of width `bucket_ms` with starts from `first` to `last`, each with its
/// machine id.
pub async fn stored_between(
    tx: &mut Transaction<'_, Any>,
    bucket_ms: i64,
    first: i64,
    last: i64,
) -> Result<Vec<(i64, Rollup)>> {
    let rows: Vec<RollupRow> = sqlx::query_as(
        "SELECT machine_id, bucket_start, readings, mins, means, maxs FROM reading_rollups \
         WHERE bucket_ms = ? AND bucket_start >= ? AND bucket_start <= ?",
    )
    .bind(bucket_ms)
    .bind(first)
    .bind(last)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(rollup).collect()
}

/// Stores a rollup in place of the one of its bucket.
pub async fn store(
    tx: &mut Transaction<'_, Any>,
    machine_id: i64,
    bucket_ms: i64,
    rollup: &Rollup,
) -> Result<()> {
    let json = |values: &[f64]| serde_json::to_string(values).expect("finite values");
    sqlx::query(
        "REPLACE INTO reading_rollups \
         (machine_id, bucket_ms, bucket_start, readings, mins, means, maxs) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(machine_id)
    .bind(bucket_ms)
    .bind(rollup.bucket_start)
    .bind(rollup.readings)
    .bind(json(&rollup.mins))
    .bind(json(&rollup.means))
    .bind(json(&rollup.maxs))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The machine's rollups of width `bucket_ms` starting from `from`, oldest first.
pub async fn machine_since(
    pool: &AnyPool,
    machine_id: i64,
    bucket_ms: i64,
    from: i64,
) -> Result<Vec<Rollup>> {
    let rows: Vec<RollupRow> = sqlx::query_as(
        "SELECT machine_id, bucket_start, readings, mins, means, maxs FROM reading_rollups \
         WHERE machine_id = ? AND bucket_ms = ? AND bucket_start >= ? ORDER BY bucket_start",
    )
    .bind(machine_id)
    .bind(bucket_ms)
    .bind(from)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| rollup(row).map(|(_, rollup)| rollup))
        .collect()
}

/// Where the job `name` got to; 0 before it ever ran.
pub async fn position(pool: &AnyPool, name: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT position FROM job_positions WHERE name = ?")
            .bind(name)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

pub async fn set_position(tx: &mut Transaction<'_, Any>, name: &str, position: i64) -> Result<()> {
    sqlx::query("REPLACE INTO job_positions (name, position) VALUES (?, ?)")
        .bind(name)
        .bind(position)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

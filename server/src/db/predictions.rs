//! Predictions: one per scored reading, kept for the machine's prediction history.

use sqlx::{Any, AnyPool, QueryBuilder, Transaction};

use crate::domain::time::now_ms;
use crate::error::Result;

/// Rows per INSERT statement (14 parameters a row).
const ROWS_PER_STATEMENT: usize = 200;

/// A prediction to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrediction {
    pub reading_id: i64,
    pub machine_id: i64,
    pub model_version_id: i64,
    pub recorded_at: i64,
    pub status: String,
    pub failure_probability: Option<f64>,
    pub failure_mode: Option<String>,
    pub mode_probability: Option<f64>,
    pub remaining_life: Option<f64>,
    pub remaining_life_low: Option<f64>,
    pub remaining_life_high: Option<f64>,
    /// JSON array of the inputs that pushed the risk most.
    pub drivers: Option<String>,
}

/// Inserts predictions, of any machines, several hundred a statement.
pub async fn insert(tx: &mut Transaction<'_, Any>, predictions: &[NewPrediction]) -> Result<()> {
    let now = now_ms();
    for chunk in predictions.chunks(ROWS_PER_STATEMENT) {
        let mut insert: QueryBuilder<Any> = QueryBuilder::new(
            "INSERT INTO predictions (reading_id, machine_id, model_version_id, recorded_at, \
             failure_probability, status, failure_mode, mode_probability, remaining_life, \
             remaining_life_low, remaining_life_high, drivers, created_at) ",
        );
        insert.push_values(chunk, |mut row, p| {
            row.push_bind(p.reading_id)
                .push_bind(p.machine_id)
                .push_bind(p.model_version_id)
                .push_bind(p.recorded_at)
                // Remaining-life models give no probability; the column keeps 0 for them.
                .push_bind(p.failure_probability.unwrap_or(0.0))
                .push_bind(p.status.clone())
                .push_bind(p.failure_mode.clone())
                .push_bind(p.mode_probability)
                .push_bind(p.remaining_life)
                .push_bind(p.remaining_life_low)
                .push_bind(p.remaining_life_high)
                .push_bind(p.drivers.clone())
                .push_bind(now);
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// A stored prediction, as the machine page shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredPrediction {
    pub recorded_at: i64,
    pub model_version_id: i64,
    pub failure_probability: f64,
    pub status: String,
    pub remaining_life: Option<f64>,
    pub remaining_life_low: Option<f64>,
    pub remaining_life_high: Option<f64>,
    #[sqlx(try_from = "crate::db::text::OptionalText")]
    pub drivers: Option<String>,
}

/// The machine's latest `limit` predictions, oldest first.
pub async fn recent(pool: &AnyPool, machine_id: i64, limit: i64) -> Result<Vec<StoredPrediction>> {
    let mut rows: Vec<StoredPrediction> = sqlx::query_as(
        "SELECT recorded_at, model_version_id, failure_probability, status, remaining_life, \
         remaining_life_low, remaining_life_high, drivers FROM predictions \
         WHERE machine_id = ? ORDER BY recorded_at DESC, id DESC LIMIT ?",
    )
    .bind(machine_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

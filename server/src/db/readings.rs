//! Readings: stored in batches, whole or not at all.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, AnyPool, QueryBuilder, Transaction};

use crate::db::text::Text;
use crate::domain::time::now_ms;
use crate::domain::NewReading;
use crate::error::{Error, Result};

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

/// Locks the machines' rows in id order (MariaDB's row locks; `WriteTransaction` calls it
/// where beginning did not lock the whole database).
pub(super) async fn lock_machines(
    tx: &mut Transaction<'_, Any>,
    machine_ids: &[i64],
) -> Result<()> {
    let mut update: QueryBuilder<Any> = QueryBuilder::new("UPDATE machines SET updated_at = ");
    update.push_bind(now_ms()).push(" WHERE id IN (");
    let mut ids = update.separated(", ");
    for id in machine_ids {
        ids.push_bind(*id);
    }
    ids.push_unseparated(")");
    update.build().execute(&mut **tx).await?;
    Ok(())
}

/// The readings of each machine's batch that are new: those whose client sequence id the
/// machine already has are left out, so a retried batch stores nothing twice. One query for
/// the whole round.
pub async fn fresh<'a>(
    tx: &mut Transaction<'_, Any>,
    batches: &[(i64, &'a [NewReading])],
) -> Result<Vec<Vec<&'a NewReading>>> {
    let seen = stored_seqs(tx, batches).await?;
    Ok(batches
        .iter()
        .map(|(machine_id, readings)| {
            readings
                .iter()
                .filter(|r| {
                    r.client_seq.as_ref().is_none_or(|seq| {
                        !seen.get(machine_id).is_some_and(|seqs| seqs.contains(seq))
                    })
                })
                .collect()
        })
        .collect())
}

/// Inserts readings, each of its machine; answers their ids, in the same order. Several
/// machines' readings go in one statement: statements, not rows, are what a write costs.
pub async fn insert(
    tx: &mut Transaction<'_, Any>,
    readings: &[(i64, &NewReading)],
) -> Result<Vec<i64>> {
    let now = now_ms();
    let mut ids = Vec::with_capacity(readings.len());
    for chunk in readings.chunks(ROWS_PER_STATEMENT) {
        let mut insert: QueryBuilder<Any> = QueryBuilder::new(
            "INSERT INTO readings (machine_id, recorded_at, client_seq, sensor_values, failure, \
             failure_mode, time_to_failure, received_at) ",
        );
        insert.push_values(chunk, |mut row, (machine_id, reading)| {
            row.push_bind(*machine_id)
                .push_bind(reading.recorded_at)
                .push_bind(reading.client_seq.clone())
                .push_bind(serde_json::to_string(&reading.values).expect("finite values"))
                .push_bind(reading.labels.failure.map(i64::from))
                .push_bind(reading.labels.failure_mode.clone())
                .push_bind(reading.labels.time_to_failure)
                .push_bind(now);
        });
        // SQLite (3.35+) and MariaDB (10.5+) both return the new ids, in the order of the
        // VALUES rows of one statement.
        insert.push(" RETURNING id");
        let mut chunk_ids: Vec<i64> = insert.build_query_scalar().fetch_all(&mut **tx).await?;
        if chunk_ids.len() != chunk.len() {
            return Err(Error::Corrupt(format!(
                "inserted {} readings but got {} ids",
                chunk.len(),
                chunk_ids.len()
            )));
        }
        ids.append(&mut chunk_ids);
    }
    Ok(ids)
}

/// How a machine's reading counts move past readings just inserted: a failure among them
/// starts a new run after the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountChange {
    pub inserted: i64,
    /// The last failure's id, and the readings inserted after it.
    pub new_run: Option<(i64, i64)>,
}

impl CountChange {
    /// The change for one machine's `readings`, inserted with these `ids`.
    pub fn of(readings: &[&NewReading], ids: &[i64]) -> CountChange {
        let last_failure = readings
            .iter()
            .zip(ids)
            .filter(|(reading, _)| reading.labels.failure == Some(true))
            .map(|(_, id)| *id)
            .max();
        CountChange {
            inserted: i64::try_from(ids.len()).unwrap_or(i64::MAX),
            new_run: last_failure.map(|failure| {
                (
                    failure,
                    ids.iter().filter(|id| **id > failure).count() as i64,
                )
            }),
        }
    }
}

/// The current run of a machine (the readings since its last failure), as series features
/// need it: its first readings, its last readings (both oldest first) and how many it has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CurrentRun {
    pub first: Vec<Vec<f64>>,
    pub last: Vec<Vec<f64>>,
    pub count: usize,
}

pub async fn current_run(
    tx: &mut Transaction<'_, Any>,
    machine_id: i64,
    first: usize,
    last: usize,
) -> Result<CurrentRun> {
    // Kept on the machine row by `insert`: counting the run grew with the machine's history.
    let (start, count): (i64, i64) =
        sqlx::query_as("SELECT run_started_after, run_reading_count FROM machines WHERE id = ?")
            .bind(machine_id)
            .fetch_one(&mut **tx)
            .await?;
    let values = |order: &'static str, limit: usize| {
        sqlx::query_scalar::<_, Text>(if order == "ASC" {
            "SELECT sensor_values FROM readings WHERE machine_id = ? AND id > ? ORDER BY id ASC LIMIT ?"
        } else {
            "SELECT sensor_values FROM readings WHERE machine_id = ? AND id > ? ORDER BY id DESC LIMIT ?"
        })
        .bind(machine_id)
        .bind(start)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    };
    let parse = |rows: Vec<Text>| -> Result<Vec<Vec<f64>>> {
        rows.into_iter()
            .map(|v| {
                serde_json::from_str(&String::from(v)).map_err(|e| {
                    Error::Corrupt(format!("reading values of machine {machine_id}: {e}"))
                })
            })
            .collect()
    };
    let first = parse(values("ASC", first).fetch_all(&mut **tx).await?)?;
    let mut last = parse(values("DESC", last).fetch_all(&mut **tx).await?)?;
    last.reverse();
    Ok(CurrentRun {
        first,
        last,
        count: usize::try_from(count).unwrap_or(0),
    })
}

/// The client sequence ids of the batches that their machines have stored already.
async fn stored_seqs(
    tx: &mut sqlx::Transaction<'_, Any>,
    batches: &[(i64, &[NewReading])],
) -> Result<HashMap<i64, HashSet<String>>> {
    let wanted: Vec<(i64, &str)> = batches
        .iter()
        .flat_map(|(machine_id, readings)| {
            readings
                .iter()
                .filter_map(move |r| r.client_seq.as_deref().map(|seq| (*machine_id, seq)))
        })
        .collect();
    let mut seen: HashMap<i64, HashSet<String>> = HashMap::new();
    for chunk in wanted.chunks(ROWS_PER_STATEMENT) {
        let mut select: QueryBuilder<Any> =
            QueryBuilder::new("SELECT machine_id, client_seq FROM readings WHERE ");
        for (index, machine) in chunk.chunk_by(|a, b| a.0 == b.0).enumerate() {
            if index > 0 {
                select.push(" OR ");
            }
            select
                .push("(machine_id = ")
                .push_bind(machine[0].0)
                .push(" AND client_seq IN (");
            let mut list = select.separated(", ");
            for (_, seq) in machine {
                list.push_bind(seq.to_string());
            }
            list.push_unseparated("))");
        }
        let rows: Vec<(i64, String)> = select.build_query_as().fetch_all(&mut **tx).await?;
        for (machine_id, seq) in rows {
            seen.entry(machine_id).or_default().insert(seq);
        }
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
    let rows: Vec<(i64, Text)> = sqlx::query_as(
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
            serde_json::from_str(&String::from(values))
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

/// A reading with the labels known for it, for retraining.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledReading {
    pub values: Vec<f64>,
    /// 1: the machine failed at this reading; 0: it did not; `None`: not known.
    pub failure: Option<i64>,
    pub failure_mode: Option<String>,
}

/// A place in a machine's history, in the order readings were recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCursor {
    recorded_at: i64,
    id: i64,
}

/// Just before the oldest of the machine's newest `limit` readings (by recording time).
pub async fn history_start(pool: &AnyPool, machine_id: i64, limit: i64) -> Result<HistoryCursor> {
    let oldest: Option<(i64, i64)> = sqlx::query_as(
        "SELECT recorded_at, id FROM readings WHERE machine_id = ? \
         ORDER BY recorded_at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind(machine_id)
    .bind(limit.max(1) - 1)
    .fetch_optional(pool)
    .await?;
    Ok(match oldest {
        Some((recorded_at, id)) => HistoryCursor {
            recorded_at,
            id: id - 1,
        },
        // Fewer readings than that: all of them.
        None => HistoryCursor {
            recorded_at: i64::MIN,
            id: i64::MIN,
        },
    })
}

/// Up to `page` of the machine's readings recorded after `after`, oldest first, with their
/// labels, and the cursor after the last of them. Keyset paging on the (machine, time) index,
/// so each page costs the same however far into the history it is.
pub async fn labelled_page(
    pool: &AnyPool,
    machine_id: i64,
    after: HistoryCursor,
    page: i64,
) -> Result<(Vec<LabelledReading>, HistoryCursor)> {
    let rows: Vec<LabelledRow> = sqlx::query_as(
        "SELECT recorded_at, id, sensor_values, failure, failure_mode FROM readings \
         WHERE machine_id = ? AND (recorded_at > ? OR (recorded_at = ? AND id > ?)) \
         ORDER BY recorded_at, id LIMIT ?",
    )
    .bind(machine_id)
    .bind(after.recorded_at)
    .bind(after.recorded_at)
    .bind(after.id)
    .bind(page)
    .fetch_all(pool)
    .await?;
    let next = rows.last().map_or(after, |row| HistoryCursor {
        recorded_at: row.recorded_at,
        id: row.id,
    });
    let readings = rows
        .into_iter()
        .map(|row| {
            Ok(LabelledReading {
                values: serde_json::from_str(&row.sensor_values).map_err(|e| {
                    Error::Corrupt(format!("reading values of machine {machine_id}: {e}"))
                })?,
                failure: row.failure,
                failure_mode: row.failure_mode,
            })
        })
        .collect::<Result<_>>()?;
    Ok((readings, next))
}

#[derive(sqlx::FromRow)]
struct LabelledRow {
    recorded_at: i64,
    id: i64,
    #[sqlx(try_from = "Text")]
    sensor_values: String,
    failure: Option<i64>,
    failure_mode: Option<String>,
}

/// Where a machine's current run starts: after the reading with this id (0 before any).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunStart {
    pub machine_id: i64,
    pub run_started_after: i64,
}

/// Every machine's run start.
pub async fn run_starts(pool: &AnyPool) -> Result<Vec<RunStart>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT id, run_started_after FROM machines")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(machine_id, run_started_after)| RunStart {
            machine_id,
            run_started_after,
        })
        .collect())
}

/// The readings a retention keeps at each end of a machine's history: its current run's first
/// readings (ids after the run start up to `head_end`) and its latest (ids from `tail_start`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunEnds {
    pub head_end: i64,
    pub tail_start: i64,
}

/// The ends of `n` readings each; a shorter history is kept whole.
pub async fn run_ends(pool: &AnyPool, run: &RunStart, n: usize) -> Result<RunEnds> {
    let offset = i64::try_from(n.saturating_sub(1)).unwrap_or(i64::MAX);
    let head_end: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM readings WHERE machine_id = ? AND id > ? ORDER BY id LIMIT 1 OFFSET ?",
    )
    .bind(run.machine_id)
    .bind(run.run_started_after)
    .bind(offset)
    .fetch_optional(pool)
    .await?;
    let tail_start: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM readings WHERE machine_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
    )
    .bind(run.machine_id)
    .bind(offset)
    .fetch_optional(pool)
    .await?;
    Ok(RunEnds {
        head_end: head_end.unwrap_or(i64::MAX),
        tail_start: tail_start.unwrap_or(0),
    })
}

/// Up to `limit` ids of the machine's readings past retention: recorded before `cutoff`,
/// without labels, summarised (id at most `rolled_up`), and at neither end of its history.
pub async fn expired(
    pool: &AnyPool,
    run: &RunStart,
    kept: &RunEnds,
    cutoff: i64,
    rolled_up: i64,
    limit: usize,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM readings WHERE machine_id = ? AND recorded_at < ? \
         AND failure IS NULL AND failure_mode IS NULL AND time_to_failure IS NULL \
         AND id <= ? AND id < ? AND (id <= ? OR id > ?) ORDER BY id LIMIT ?",
    )
    .bind(run.machine_id)
    .bind(cutoff)
    .bind(rolled_up)
    .bind(kept.tail_start)
    .bind(run.run_started_after)
    .bind(kept.head_end)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?)
}

/// Deletes these readings of the machine (and their predictions), keeping its reading count
/// true, in one transaction; answers how many went.
pub async fn delete(pool: &AnyPool, machine_id: i64, ids: &[i64]) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let mut deleted = 0;
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut delete: QueryBuilder<Any> =
            QueryBuilder::new("DELETE FROM readings WHERE machine_id = ");
        delete.push_bind(machine_id).push(" AND id IN (");
        let mut list = delete.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
        deleted += delete.build().execute(&mut *tx).await?.rows_affected();
    }
    sqlx::query("UPDATE machines SET reading_count = reading_count - ? WHERE id = ?")
        .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
        .bind(machine_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted)
}

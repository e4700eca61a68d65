//! The rollup job: it walks the readings in id order and folds each into its machine's
//! summary buckets of every width, so a chart of any span reads a bounded number of rows.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use app::model::ChartWindow;
use tokio::task::JoinHandle;

use crate::db::rollups::{self, RawReading, Rollup};
use crate::db::Database;
use crate::domain::time::now_ms;
use crate::error::Result;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// The bucket widths kept, each chosen for a chart window (`width_for`).
pub const WIDTHS: [i64; 5] = [MINUTE, 5 * MINUTE, HOUR, 6 * HOUR, 24 * HOUR];

/// The job's name in `job_positions`.
pub const JOB: &str = "rollups";
/// Readings folded per transaction.
const STEP: usize = 20_000;
/// A reading is folded only this long after it was received: ids are given at insert, so a
/// transaction still open (at most the 30 s request timeout) may yet commit a lower id than
/// one already visible, and the job must not have walked past it.
const SETTLE_MS: i64 = 60_000;

/// The bucket width a chart of `window` reads: 60 to 365 points.
pub fn width_for(window: ChartWindow) -> i64 {
    match window {
        ChartWindow::Hour => MINUTE,
        ChartWindow::Day => 5 * MINUTE,
        ChartWindow::Week => HOUR,
        ChartWindow::Month => 6 * HOUR,
        ChartWindow::Year => 24 * HOUR,
    }
}

/// A bucket being summed: count, per-sensor minimum, sum and maximum.
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    readings: i64,
    mins: Vec<f64>,
    sums: Vec<f64>,
    maxs: Vec<f64>,
}

impl Summary {
    fn of(values: &[f64]) -> Summary {
        Summary {
            readings: 1,
            mins: values.to_vec(),
            sums: values.to_vec(),
            maxs: values.to_vec(),
        }
    }

    fn add(&mut self, other: &Summary) {
        if other.sums.len() != self.sums.len() {
            // A reading of another shape than the bucket's: the newer shape wins.
            *self = other.clone();
            return;
        }
        self.readings += other.readings;
        for i in 0..self.sums.len() {
            self.mins[i] = self.mins[i].min(other.mins[i]);
            self.maxs[i] = self.maxs[i].max(other.maxs[i]);
            self.sums[i] += other.sums[i];
        }
    }

    fn from_rollup(rollup: &Rollup) -> Summary {
        let readings = rollup.readings as f64;
        Summary {
            readings: rollup.readings,
            mins: rollup.mins.clone(),
            sums: rollup.means.iter().map(|mean| mean * readings).collect(),
            maxs: rollup.maxs.clone(),
        }
    }

    fn rollup(&self, bucket_start: i64) -> Rollup {
        let readings = self.readings as f64;
        Rollup {
            bucket_start,
            readings: self.readings,
            mins: self.mins.clone(),
            means: self.sums.iter().map(|sum| sum / readings).collect(),
            maxs: self.maxs.clone(),
        }
    }
}

/// Summaries of a step's readings: by width, then machine and bucket start.
type Buckets = HashMap<i64, BTreeMap<(i64, i64), Summary>>;

fn summarise(readings: &[RawReading]) -> Buckets {
    let mut buckets = Buckets::new();
    for reading in readings {
        let summary = Summary::of(&reading.values);
        for width in WIDTHS {
            let start = reading.recorded_at.div_euclid(width) * width;
            buckets
                .entry(width)
                .or_default()
                .entry((reading.machine_id, start))
                .and_modify(|s| s.add(&summary))
                .or_insert_with(|| summary.clone());
        }
    }
    buckets
}

/// Folds up to `STEP` readings received before `received_before` into the stored rollups,
/// and moves the job's position past them, in one transaction; answers how many it folded.
pub async fn roll_up(db: &Database, received_before: i64) -> Result<usize> {
    let pool = db.pool();
    let after = rollups::position(pool, JOB).await?;
    let readings = rollups::readings_after(pool, after, received_before, STEP).await?;
    let Some(last) = readings.last().map(|r| r.id) else {
        return Ok(0);
    };
    let buckets = summarise(&readings);
    let mut tx = pool.begin().await?;
    for (width, mut summaries) in buckets {
        let starts = summaries.keys().map(|(_, start)| *start);
        let (first, last) = (starts.clone().min(), starts.max());
        let (Some(first), Some(last)) = (first, last) else {
            continue;
        };
        for (machine_id, stored) in rollups::stored_between(&mut tx, width, first, last).await? {
            if let Some(summary) = summaries.get_mut(&(machine_id, stored.bucket_start)) {
                let mut merged = Summary::from_rollup(&stored);
                merged.add(summary);
                *summary = merged;
            }
        }
        for ((machine_id, start), summary) in &summaries {
            rollups::store(&mut tx, *machine_id, width, &summary.rollup(*start)).await?;
        }
    }
    rollups::set_position(&mut tx, JOB, last).await?;
    tx.commit().await?;
    Ok(readings.len())
}

/// Keeps the rollups up with the readings: folds what has settled, then waits `every`.
pub fn keep_rolling_up(db: Database, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            loop {
                match roll_up(&db, now_ms() - SETTLE_MS).await {
                    Ok(folded) if folded == STEP => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "rolling up readings failed; trying again later");
                        break;
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(id: i64, machine_id: i64, recorded_at: i64, values: &[f64]) -> RawReading {
        RawReading {
            id,
            machine_id,
            recorded_at,
            values: values.to_vec(),
        }
    }

    #[test]
    fn readings_fold_into_the_bucket_of_each_width_with_min_mean_and_max() {
        let readings = [
            reading(1, 7, 59_999, &[1.0, 10.0]),
            reading(2, 7, 0, &[3.0, 30.0]),
            reading(3, 7, 60_000, &[5.0, 50.0]),
            reading(4, 8, 0, &[2.0, 20.0]),
        ];
        let buckets = summarise(&readings);
        let minutes = &buckets[&MINUTE];
        assert_eq!(minutes[&(7, 0)].rollup(0).means, [2.0, 20.0]);
        assert_eq!(minutes[&(7, 0)].readings, 2);
        assert_eq!(minutes[&(7, 60_000)].readings, 1);
        let five = buckets[&(5 * MINUTE)][&(7, 0)].rollup(0);
        assert_eq!(
            (five.readings, five.mins, five.means, five.maxs),
            (3, vec![1.0, 10.0], vec![3.0, 30.0], vec![5.0, 50.0])
        );
        assert_eq!(buckets[&(24 * HOUR)][&(8, 0)].readings, 1);
    }

    #[test]
    fn a_stored_rollup_merges_with_new_readings_as_if_folded_at_once() {
        let all = summarise(&[
            reading(1, 7, 0, &[1.0]),
            reading(2, 7, 10, &[4.0]),
            reading(3, 7, 20, &[7.0]),
        ]);
        let first = summarise(&[reading(1, 7, 0, &[1.0])]);
        let rest = summarise(&[reading(2, 7, 10, &[4.0]), reading(3, 7, 20, &[7.0])]);
        let mut merged = Summary::from_rollup(&first[&HOUR][&(7, 0)].rollup(0));
        merged.add(&rest[&HOUR][&(7, 0)]);
        assert_eq!(merged.rollup(0), all[&HOUR][&(7, 0)].rollup(0));
    }

    #[test]
    fn each_window_reads_a_bounded_number_of_buckets() {
        for window in ChartWindow::ALL {
            let points = window.span_ms() / width_for(window);
            assert!((60..=365).contains(&points), "{window:?}: {points}");
        }
    }
}

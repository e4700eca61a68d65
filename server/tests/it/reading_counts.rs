//! Each machine's reading counts are kept on its row by the ingest transaction (counting them
//! per view grew with the history): they must equal what counting the readings gives, through
//! retried batches and failures that start a new run, and the migration must backfill them.

use icantkube::db::machines::{self, BatchRecord, LatestReading};
use icantkube::db::readings::{self, CountChange, CurrentRun};
use icantkube::db::writer_connection::WriterConnection;
use icantkube::db::Database;
use icantkube::domain::{Labels, NewReading};

use crate::support::database::{migration_updates, TestDatabase};

const SQLITE_BACKFILL: &str =
    include_str!("../../migrations/sqlite/20261201140000_reading_counts.sql");
const MARIADB_BACKFILL: &str =
    include_str!("../../migrations/mysql/20261201140000_reading_counts.sql");

fn reading(seq: &str, failure: Option<bool>) -> NewReading {
    NewReading {
        recorded_at: 1_700_000_000_000,
        client_seq: Some(seq.to_string()),
        values: vec![300.0, 310.0, 1500.0, 40.0, 0.0],
        labels: Labels {
            failure,
            ..Labels::default()
        },
    }
}

/// Stores a batch as the ingest path does: new readings only, counted on the machine's row, in
/// one transaction.
async fn ingest(db: &Database, machine_id: i64, batch: &[NewReading]) {
    let mut writer = WriterConnection::new(db.clone(), false);
    let mut tx = writer.begin().await.unwrap();
    tx.lock_machines(&[machine_id]).await.unwrap();
    let fresh = readings::fresh(&mut tx, &[(machine_id, batch)])
        .await
        .unwrap()
        .remove(0);
    let rows: Vec<(i64, &NewReading)> = fresh.iter().map(|r| (machine_id, *r)).collect();
    let ids = readings::insert(&mut tx, &rows).await.unwrap();
    if let Some(newest) = fresh.iter().max_by_key(|r| r.recorded_at) {
        let record = BatchRecord {
            machine_id,
            counts: CountChange::of(&fresh, &ids),
            latest: LatestReading {
                recorded_at: newest.recorded_at,
                values: &newest.values,
                prediction: None,
            },
        };
        machines::record_batches(&mut tx, &[record]).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The counts as the machine row keeps them: all readings, and the current run's.
async fn kept(db: &Database, machine_id: i64) -> (i64, usize) {
    let mut tx = db.pool().begin().await.unwrap();
    let run: CurrentRun = readings::current_run(&mut tx, machine_id, 0, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let all = machines::list(db.pool()).await.unwrap();
    let machine = all.iter().find(|m| m.id == machine_id).unwrap();
    (machine.reading_count, run.count)
}

/// The counts by counting the readings.
async fn counted(db: &Database, machine_id: i64) -> (i64, usize) {
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE machine_id = ?")
        .bind(machine_id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    let run: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM readings WHERE machine_id = ? AND id > \
         (SELECT COALESCE(MAX(id), 0) FROM readings WHERE machine_id = ? AND failure = 1)",
    )
    .bind(machine_id)
    .bind(machine_id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    (all, run as usize)
}

#[tokio::test]
async fn reading_counts_kept_on_the_machine_equal_the_readings_and_are_backfilled() {
    let test = TestDatabase::fresh().await;
    let db = &test.db;
    let mill = test.insert_machine("mill-1").await.id;
    let other = test.insert_machine("mill-2").await.id;
    assert_eq!(kept(db, mill).await, (0, 0));

    ingest(db, mill, &[reading("a", None), reading("b", Some(false))]).await;
    assert_eq!(kept(db, mill).await, (2, 2));
    // Retried: nothing new, nothing counted twice.
    ingest(db, mill, &[reading("a", None), reading("b", Some(false))]).await;
    assert_eq!(kept(db, mill).await, (2, 2));
    // A failure in the middle of a batch: the run starts after it.
    let batch = [
        reading("c", None),
        reading("d", Some(true)),
        reading("e", None),
        reading("f", None),
    ];
    ingest(db, mill, &batch).await;
    assert_eq!(kept(db, mill).await, (6, 2));
    // Two failures in one batch, the last one ending it: an empty run.
    ingest(
        db,
        mill,
        &[reading("g", Some(true)), reading("h", Some(true))],
    )
    .await;
    assert_eq!(kept(db, mill).await, (8, 0));
    ingest(db, mill, &[reading("i", None), reading("b", None)]).await;
    assert_eq!(kept(db, mill).await, (9, 1));
    ingest(db, other, &[reading("a", None)]).await;
    assert_eq!(kept(db, mill).await, counted(db, mill).await);
    assert_eq!(kept(db, other).await, (1, 1));

    // The migration's backfill, run again on counts that were lost, finds them.
    sqlx::query(
        "UPDATE machines SET reading_count = 0, run_started_after = 0, run_reading_count = 0",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let migration = match test.url.starts_with("sqlite") {
        true => SQLITE_BACKFILL,
        false => MARIADB_BACKFILL,
    };
    let statements = migration_updates(migration);
    assert_eq!(statements.len(), 2);
    for statement in statements {
        sqlx::query(&statement).execute(db.pool()).await.unwrap();
    }
    assert_eq!(kept(db, mill).await, (9, 1));
    assert_eq!(kept(db, other).await, (1, 1));
}

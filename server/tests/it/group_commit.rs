//! Batches arriving together are committed together by the ingest writer: every one is
//! answered with what it stored, a retried batch racing its original stores nothing twice,
//! and a batch that cannot be written fails alone.

use icantkube::db::machines::{self, Machine};
use icantkube::domain::{Labels, NewReading};
use icantkube::ingest::{Ingest, ModelCache};
use icantkube::metrics::Metrics;
use tokio::task::JoinSet;

use crate::support::database::TestDatabase;

fn reading(seq: String) -> NewReading {
    NewReading {
        recorded_at: 1_700_000_000_000,
        client_seq: Some(seq),
        values: vec![300.0, 310.0, 1500.0, 40.0, 0.0],
        labels: Labels::default(),
    }
}

async fn stored(test: &TestDatabase, machine: &Machine) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM readings WHERE machine_id = ?")
        .bind(machine.id)
        .fetch_one(test.db.pool())
        .await
        .unwrap()
}

/// A fresh database and the ingest writer on it.
async fn writer() -> (TestDatabase, Ingest) {
    let test = TestDatabase::fresh().await;
    let ingest = Ingest::start(
        test.db.clone(),
        ModelCache::new(test.db.clone()),
        Metrics::default(),
        false,
    );
    (test, ingest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_are_each_stored_once_and_a_failing_one_fails_alone() {
    let (test, ingest) = writer().await;
    let mills = [
        test.insert_machine("mill-1").await,
        test.insert_machine("mill-2").await,
        test.insert_machine("mill-3").await,
    ];
    // A machine removed after the request found it: its readings break a foreign key.
    let removed = Machine {
        id: 999_999,
        ..mills[0].clone()
    };

    let mut requests = JoinSet::new();
    for request in 0..60 {
        let ingest = ingest.clone();
        let (machine, seq) = match request % 8 {
            // Every request to mill-1 sends the same reading: one of them stores it.
            0 | 4 => (mills[0].clone(), "same".to_string()),
            1 | 5 => (mills[1].clone(), format!("r{request}")),
            3 => (removed.clone(), format!("gone-{request}")),
            _ => (mills[2].clone(), format!("r{request}")),
        };
        requests.spawn(async move {
            let answer = ingest.store(&machine, vec![reading(seq)]).await;
            (machine.name.clone(), machine.id, answer)
        });
    }
    let (mut stored_by_answers, mut failed) = (0, 0);
    while let Some(done) = requests.join_next().await {
        let (name, id, answer) = done.unwrap();
        match answer {
            Ok(ingested) => {
                assert_ne!(
                    id, removed.id,
                    "{name}: the removed machine's batch was stored"
                );
                stored_by_answers += ingested.batch.stored;
            }
            Err(error) => {
                assert_eq!(id, removed.id, "{name} failed: {error}");
                failed += 1;
            }
        }
    }
    assert_eq!(failed, 8);
    let in_database = [
        stored(&test, &mills[0]).await,
        stored(&test, &mills[1]).await,
        stored(&test, &mills[2]).await,
    ];
    // mill-1: one of 15 identical readings; mill-2 and mill-3: 15 and 22 distinct ones.
    assert_eq!(in_database, [1, 15, 22]);
    assert_eq!(stored_by_answers as i64, in_database.iter().sum::<i64>());
    // Each machine's row counted its readings, whichever round of which group stored them.
    for (mill, count) in mills.iter().zip(in_database) {
        let row = machines::find(test.db.pool(), &mill.name)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.reading_count, count, "{}", mill.name);
        assert!(row.last_reading_at.is_some(), "{}", mill.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_machine_keeps_its_own_newest_reading_whatever_order_batches_arrive_in() {
    let (test, ingest) = writer().await;
    let mut mills = Vec::new();
    for name in ["mill-1", "mill-2", "mill-3", "mill-4"] {
        mills.push(test.insert_machine(name).await);
    }
    // Every mill gets readings from minute 0 to 39 in a shuffled order, all at once, so groups
    // hold several mills and the same mill twice; a reading's values name its mill and minute.
    let mut requests = JoinSet::new();
    for minute in [
        17_i64, 3, 39, 0, 25, 38, 9, 31, 12, 22, 5, 36, 1, 28, 14, 33,
    ] {
        for (index, mill) in mills.iter().enumerate() {
            let ingest = ingest.clone();
            let mill = mill.clone();
            let reading = NewReading {
                recorded_at: 1_700_000_000_000 + minute * 60_000,
                client_seq: Some(format!("{minute}")),
                values: vec![300.0 + index as f64, 310.0, 1500.0, 40.0, minute as f64],
                labels: Labels::default(),
            };
            requests.spawn(async move { ingest.store(&mill, vec![reading]).await.unwrap() });
        }
    }
    while let Some(done) = requests.join_next().await {
        done.unwrap();
    }
    for (index, mill) in mills.iter().enumerate() {
        let row = machines::find(test.db.pool(), &mill.name)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.reading_count, 16, "{}", mill.name);
        assert_eq!(
            row.last_reading_at,
            Some(1_700_000_000_000 + 39 * 60_000),
            "{}: the newest reading, not the last to arrive",
            mill.name
        );
        assert_eq!(
            row.last_values.unwrap(),
            [300.0 + index as f64, 310.0, 1500.0, 40.0, 39.0],
            "{}: its own values, of minute 39",
            mill.name
        );
    }
}

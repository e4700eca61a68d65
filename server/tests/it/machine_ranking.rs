//! The database ranks machines as the fleet page does (`domain::riskiest_first`): a metrics
//! scrape reads only its capped machines, so the ranking must be the SQL's, on both backends,
//! with unknown values and ties ordered alike.

use std::collections::HashMap;

use app::model::Status;
use icantkube::db::machines::{self, Machine};
use icantkube::domain::riskiest_first;

use crate::support::database::TestDatabase;

/// A machine's state as the ingest path leaves it on its row.
struct State {
    name: &'static str,
    status: &'static str,
    probability: Option<f64>,
    life: Option<f64>,
    last_reading_at: Option<i64>,
    monitoring: bool,
}

const fn state(name: &'static str, status: &'static str, probability: Option<f64>) -> State {
    State {
        name,
        status,
        probability,
        life: None,
        last_reading_at: None,
        monitoring: true,
    }
}

async fn fleet(test: &TestDatabase, states: &[State]) {
    let pool = test.db.pool();
    for state in states {
        test.insert_machine(state.name).await;
        sqlx::query(
            "UPDATE machines SET status = ?, failure_probability = ?, remaining_life = ?, \
             last_reading_at = ?, monitoring = ? WHERE name = ?",
        )
        .bind(state.status)
        .bind(state.probability)
        .bind(state.life)
        .bind(state.last_reading_at)
        .bind(i64::from(state.monitoring))
        .bind(state.name)
        .execute(pool)
        .await
        .unwrap();
    }
}

fn names(machines: &[Machine]) -> Vec<&str> {
    machines.iter().map(|m| m.name.as_str()).collect()
}

#[tokio::test]
async fn the_database_ranks_the_riskiest_machines_as_the_fleet_page_does() {
    let test = TestDatabase::fresh().await;
    let engine = |name, life| State {
        life,
        ..state(name, "healthy", None)
    };
    fleet(
        &test,
        &[
            state("healthy-high", "healthy", Some(0.3)),
            state("unknown", "unknown", None),
            state("warning", "warning", Some(0.2)),
            state("critical-low", "critical", Some(0.6)),
            engine("engine-far", Some(120.0)),
            state("critical-high", "critical", Some(0.9)),
            engine("engine-near", Some(30.0)),
            state("healthy-low", "healthy", Some(0.01)),
            // Ties on everything but the name, and a status this binary does not know
            // (read as unknown).
            state("tie-b", "warning", Some(0.2)),
            state("tie-a", "warning", Some(0.2)),
            state("from-a-newer-version", "degraded", None),
            state("training", "training", None),
            state("critical-unscored", "critical", None),
        ],
    )
    .await;
    let pool = test.db.pool();
    let mut expected = machines::list(pool).await.unwrap();
    expected.sort_by(|a, b| riskiest_first(&a.risk_rank(), &b.risk_rank()));

    let ranked = machines::riskiest(pool, usize::MAX).await.unwrap();
    assert_eq!(names(&ranked), names(&expected));
    assert_eq!(
        names(&ranked)[..9],
        [
            "critical-high",
            "critical-low",
            "critical-unscored",
            "tie-a",
            "tie-b",
            "warning",
            "training",
            "healthy-high",
            "healthy-low",
        ]
    );
    let capped = machines::riskiest(pool, 3).await.unwrap();
    assert_eq!(names(&capped), names(&expected)[..3]);
    assert!(machines::riskiest(pool, 0).await.unwrap().is_empty());

    let counts = machines::count_by_status(pool).await.unwrap();
    let expected_counts = HashMap::from([
        (Status::Critical, 3),
        (Status::Warning, 3),
        (Status::Training, 1),
        (Status::Healthy, 4),
        (Status::Unknown, 2),
    ]);
    assert_eq!(counts, expected_counts);
}

#[tokio::test]
async fn the_longest_silent_monitored_machines_come_first() {
    let test = TestDatabase::fresh().await;
    let at = |name, last_reading_at, monitoring| State {
        last_reading_at,
        monitoring,
        ..state(name, "healthy", None)
    };
    fleet(
        &test,
        &[
            at("recent", Some(9_000), true),
            at("silent", Some(1_000), true),
            at("quiet", Some(5_000), true),
            at("also-quiet", Some(5_000), true),
            at("never", None, true),
            at("unmonitored", Some(10), false),
        ],
    )
    .await;
    let pool = test.db.pool();
    let silent = |limit| async move {
        let silent = machines::longest_silent(pool, limit).await.unwrap();
        silent
            .into_iter()
            .map(|machine| (machine.name, machine.last_reading_at))
            .collect::<Vec<_>>()
    };
    let expected = [
        ("silent".to_string(), 1_000),
        ("also-quiet".to_string(), 5_000),
        ("quiet".to_string(), 5_000),
        ("recent".to_string(), 9_000),
    ];
    assert_eq!(silent(3).await, expected[..3]);
    assert_eq!(silent(100).await, expected);
}

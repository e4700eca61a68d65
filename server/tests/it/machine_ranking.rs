//! The database ranks machines as `domain::riskiest_first` does, from the risk order kept on
//! each row: the fleet page and a metrics scrape page through it in SQL, so the order Rust
//! stores, the order SQL computes (where only a status changes, and in the migration that
//! added it) and the ranking must agree on both backends, with unknown values and ties alike.

use std::collections::HashMap;

use app::model::Status;
use icantkube::db::machines::{
    self, BatchRecord, FleetFilter, LatestPrediction, LatestReading, Machine, RiskCursor,
};
use icantkube::db::readings::CountChange;
use icantkube::domain::risk::risk_order_sql;
use icantkube::domain::riskiest_first;

use crate::support::database::{migration_updates, TestDatabase};

/// A machine's state as the ingest path leaves it on its row.
struct State {
    name: &'static str,
    status: &'static str,
    probability: Option<f64>,
    life: Option<f64>,
    last_reading_at: Option<i64>,
    monitoring: bool,
    place: Option<&'static str>,
}

const fn state(name: &'static str, status: &'static str, probability: Option<f64>) -> State {
    State {
        name,
        status,
        probability,
        life: None,
        last_reading_at: None,
        monitoring: true,
        place: None,
    }
}

/// The fleet migration's statements that compute stored values, as the test reruns them.
const SQLITE_MIGRATION: &str =
    include_str!("../../migrations/sqlite/20261201150000_fleet_order.sql");
const MARIADB_MIGRATION: &str =
    include_str!("../../migrations/mysql/20261201150000_fleet_order.sql");

async fn fleet(test: &TestDatabase, states: &[State]) {
    let pool = test.db.pool();
    for state in states {
        test.insert_machine(state.name).await;
        sqlx::query(
            "UPDATE machines SET status = ?, failure_probability = ?, remaining_life = ?, \
             last_reading_at = ?, monitoring = ?, place = ? WHERE name = ?",
        )
        .bind(state.status)
        .bind(state.probability)
        .bind(state.life)
        .bind(state.last_reading_at)
        .bind(i64::from(state.monitoring))
        .bind(state.place)
        .bind(state.name)
        .execute(pool)
        .await
        .unwrap();
    }
    // The order as SQL computes it where only the status changes.
    let sql = format!(
        "UPDATE machines SET risk_order = {}",
        risk_order_sql("status")
    );
    sqlx::query(&sql).execute(pool).await.unwrap();
}

/// Each machine's stored risk order and the one Rust computes from its row.
async fn orders(test: &TestDatabase) -> Vec<(String, f64, f64)> {
    machines::list(test.db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.name.clone(), m.risk_order, m.risk_rank().order()))
        .collect()
}

fn assert_orders_agree(orders: &[(String, f64, f64)]) {
    for (name, stored, computed) in orders {
        assert_eq!(
            stored, computed,
            "{name}: stored order {stored}, Rust's {computed}"
        );
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
    assert_orders_agree(&orders(&test).await);
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

    // The migration's backfill computes the same orders.
    let before = orders(&test).await;
    sqlx::query("UPDATE machines SET risk_order = 0")
        .execute(pool)
        .await
        .unwrap();
    let migration = match test.url.starts_with("sqlite") {
        true => SQLITE_MIGRATION,
        false => MARIADB_MIGRATION,
    };
    let backfill = migration_updates(migration);
    assert_eq!(backfill.len(), 1);
    sqlx::query(&backfill[0]).execute(pool).await.unwrap();
    assert_eq!(orders(&test).await, before);

    // A stored prediction moves the machine to where its new risk ranks it.
    let unknown = machines::find(pool, "unknown").await.unwrap().unwrap();
    let mut tx = pool.begin().await.unwrap();
    let prediction = LatestPrediction {
        status: Status::Critical,
        failure_probability: Some(0.95),
        remaining_life: None,
        remaining_life_low: None,
        remaining_life_high: None,
        life_unit: None,
        failure_mode: None,
        mode_probability: None,
    };
    let latest = LatestReading {
        recorded_at: 1_000,
        values: &[1.0; 5],
        prediction: Some(&prediction),
    };
    let record = BatchRecord {
        machine_id: unknown.id,
        counts: CountChange::of(&[], &[]),
        latest,
    };
    machines::record_batches(&mut tx, &[record]).await.unwrap();
    tx.commit().await.unwrap();
    assert_orders_agree(&orders(&test).await);
    assert_eq!(
        names(&machines::riskiest(pool, 2).await.unwrap()),
        ["unknown", "critical-high"]
    );
    // And a status set alone (training) keeps its probability's place within the status.
    machines::set_status(pool, unknown.id, Status::Training)
        .await
        .unwrap();
    assert_orders_agree(&orders(&test).await);
    let ranked = machines::riskiest(pool, usize::MAX).await.unwrap();
    let at = names(&ranked).iter().position(|n| *n == "unknown").unwrap();
    assert_eq!(
        names(&ranked)[at - 1..=at + 1],
        ["warning", "unknown", "training"]
    );
}

/// Every page of `filter`, `size` machines at a time, each after the last one's cursor.
async fn pages(test: &TestDatabase, filter: &FleetFilter, size: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after: Option<RiskCursor> = None;
    loop {
        let page = machines::riskiest_page(test.db.pool(), filter, after.as_ref(), size)
            .await
            .unwrap();
        if page.is_empty() {
            return pages;
        }
        after = page.last().map(RiskCursor::after);
        pages.push(page.into_iter().map(|m| m.name).collect());
    }
}

#[tokio::test]
async fn a_fleet_is_paged_and_filtered_in_sql_in_the_risk_order() {
    let test = TestDatabase::fresh().await;
    let placed = |name, status, probability, place| State {
        place,
        ..state(name, status, probability)
    };
    fleet(
        &test,
        &[
            placed("mill-01", "critical", Some(0.9), Some("Hall A")),
            placed("mill-02", "warning", Some(0.4), Some("Hall A")),
            placed("mill-03", "healthy", Some(0.1), Some("Hall B")),
            placed("mill-04", "warning", Some(0.4), Some("Hall B")),
            placed("mill_50", "healthy", Some(0.2), None),
            placed("mill-50x", "healthy", Some(0.2), None),
            placed("lathe-1", "unknown", None, Some("Hall B")),
            placed("lathe-2", "healthy", Some(0.05), Some("Hall A")),
        ],
    )
    .await;
    let pool = test.db.pool();
    sqlx::query("UPDATE machines SET profile = 'turbofan', display_name = 'Engine of Lathe 2' WHERE name = 'lathe-2'")
        .execute(pool)
        .await
        .unwrap();

    let everything = FleetFilter::default();
    let all = names(&machines::riskiest(pool, usize::MAX).await.unwrap())
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    let paged = pages(&test, &everything, 3).await;
    assert_eq!(paged.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 2]);
    assert_eq!(paged.concat(), all);

    let cases: [(FleetFilter, &[&str]); 6] = [
        (FleetFilter::only(Status::Warning), &["mill-02", "mill-04"]),
        (
            FleetFilter {
                place: Some("Hall B".into()),
                ..FleetFilter::default()
            },
            &["mill-04", "mill-03", "lathe-1"],
        ),
        (
            FleetFilter {
                profile: Some("turbofan".into()),
                ..FleetFilter::default()
            },
            &["lathe-2"],
        ),
        // Any case, in the name or the display name.
        (
            FleetFilter {
                search: Some("LATHE".into()),
                ..FleetFilter::default()
            },
            &["lathe-2", "lathe-1"],
        ),
        // `_` and `%` are literal: `l_5` is not a pattern matching `l-5`.
        (
            FleetFilter {
                search: Some("l_5".into()),
                ..FleetFilter::default()
            },
            &["mill_50"],
        ),
        (
            FleetFilter {
                search: Some("%".into()),
                status: Some(Status::Healthy),
                ..FleetFilter::default()
            },
            &[],
        ),
    ];
    for (filter, expected) in cases {
        let paged = pages(&test, &filter, 1).await.concat();
        assert_eq!(paged, expected, "{filter:?}");
        let counted = machines::count_matching(pool, &filter).await.unwrap();
        assert_eq!(counted, expected.len() as i64, "{filter:?}");
    }
    assert_eq!(
        machines::places_and_profiles(pool).await.unwrap(),
        (
            vec!["Hall A".to_string(), "Hall B".to_string()],
            vec!["ai4i2020".to_string(), "turbofan".to_string()]
        )
    );
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

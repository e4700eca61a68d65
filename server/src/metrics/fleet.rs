//! What the fleet in the database says: machines by status, the riskiest and the longest-silent
//! machines' own series (capped), active model versions, training runs per state and their
//! durations. Computed at each scrape from the database, so every replica reports the same
//! fleet and a machine that drops out of the riskiest set drops out of the output.

use std::sync::atomic::AtomicU64;

use app::model::{RunState, Status};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::StatusLabels;
use crate::db::machines::Machine;
use crate::db::model_versions::ModelVersionRow;
use crate::db::training_runs::RunsInState;
use crate::db::{self, Database};
use crate::domain::riskiest_first;

/// Seconds a training run took: from a quick linear model to a large forest.
const TRAINING_BUCKETS: [f64; 10] = [
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MachineLabels {
    machine: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MachineStatusLabels {
    machine: String,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SensorLabels {
    machine: String,
    sensor: String,
    unit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RemainingLifeLabels {
    machine: String,
    unit: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelVersionLabels {
    machine: String,
    profile: String,
    version: i64,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The machines, model versions and training runs, as the fleet series need them.
pub(super) async fn read_fleet(
    db: &Database,
) -> crate::error::Result<(Vec<Machine>, Vec<ModelVersionRow>, Vec<RunsInState>)> {
    let pool = db.pool();
    let machines = db::machines::list(pool).await?;
    let versions = db::model_versions::list(pool).await?;
    let bounds_ms = TRAINING_BUCKETS.map(|seconds| (seconds * 1000.0) as i64);
    let runs = db::training_runs::by_state(pool, &bounds_ms).await?;
    Ok((machines, versions, runs))
}

pub(super) fn register_fleet(
    registry: &mut Registry,
    machines: &[Machine],
    versions: &[ModelVersionRow],
    cap: usize,
) {
    let by_status = Family::<StatusLabels, Gauge>::default();
    for status in Status::ALL {
        // At zero, so a status without machines reads 0 rather than missing.
        by_status
            .get_or_create(&StatusLabels {
                status: status.as_str(),
            })
            .set(0);
    }
    for machine in machines {
        by_status
            .get_or_create(&StatusLabels {
                status: machine.status.as_str(),
            })
            .inc();
    }
    registry.register(
        "icantkube_machines",
        "Registered machines, by status",
        by_status,
    );

    let exported = riskiest(machines, cap);
    let status = Family::<MachineStatusLabels, Gauge>::default();
    let probability = Family::<MachineLabels, FloatGauge>::default();
    let sensor_values = Family::<SensorLabels, FloatGauge>::default();
    let life = Family::<RemainingLifeLabels, FloatGauge>::default();
    let model = Family::<ModelVersionLabels, Gauge>::default();
    for machine in &exported {
        // Only the current status, at 1: one series per machine, and an alert's `for` sees a
        // machine leave the status as the series ending.
        status
            .get_or_create(&MachineStatusLabels {
                machine: machine.name.clone(),
                status: machine.status.as_str(),
            })
            .set(1);
        let sensors = machine.schema.sensors();
        for (sensor, value) in sensors.iter().zip(machine.last_values.iter().flatten()) {
            sensor_values
                .get_or_create(&SensorLabels {
                    machine: machine.name.clone(),
                    sensor: sensor.key.clone(),
                    unit: sensor.unit.clone(),
                })
                .set(*value);
        }
        if let Some(p) = machine.failure_probability {
            probability
                .get_or_create(&MachineLabels {
                    machine: machine.name.clone(),
                })
                .set(p);
        }
        if let Some(remaining) = machine.remaining_life {
            life.get_or_create(&RemainingLifeLabels {
                machine: machine.name.clone(),
                unit: machine.life_unit.clone().unwrap_or_else(|| "cycles".into()),
            })
            .set(remaining);
        }
        let active = machine
            .active_model_version_id
            .and_then(|id| versions.iter().find(|version| version.id == id));
        if let Some(version) = active {
            model
                .get_or_create(&ModelVersionLabels {
                    machine: machine.name.clone(),
                    profile: version.profile.clone(),
                    version: version.version,
                })
                .set(1);
        }
    }
    registry.register(
        "icantkube_machines_exported",
        "Machines whose own series are exported (the riskiest, up to ICANTKUBE_METRICS_MACHINE_CAP)",
        ConstGauge::new(exported.len() as i64),
    );
    registry.register(
        "icantkube_machine_status",
        "The machine's current status (1, on the series of that status)",
        status,
    );
    registry.register(
        "icantkube_machine_failure_probability",
        "Latest predicted probability that the machine fails",
        probability,
    );
    registry.register(
        "icantkube_machine_sensor_value",
        "The machine's latest reading of each sensor, in the unit its label names",
        sensor_values,
    );
    registry.register(
        "icantkube_machine_remaining_life",
        "Latest predicted remaining life, in the unit its model counts",
        life,
    );
    registry.register(
        "icantkube_model_version_info",
        "The machine's active model version",
        model,
    );

    let last_reading = Family::<MachineLabels, Gauge>::default();
    for machine in stalest_monitored(machines, cap) {
        if let Some(at) = machine.last_reading_at {
            last_reading
                .get_or_create(&MachineLabels {
                    machine: machine.name.clone(),
                })
                .set(at.div_euclid(1000));
        }
    }
    registry.register(
        "icantkube_machine_last_reading_timestamp_seconds",
        "When the monitored machine's latest reading was taken (the stalest machines, up to \
         ICANTKUBE_METRICS_MACHINE_CAP)",
        last_reading,
    );
}

/// Up to `cap` monitored machines that have reported, the longest silent first: the ones an
/// alert on silence needs, within the same bound on series as the risk gauges.
fn stalest_monitored(machines: &[Machine], cap: usize) -> Vec<&Machine> {
    let mut ranked: Vec<&Machine> = machines
        .iter()
        .filter(|m| m.monitoring && m.last_reading_at.is_some())
        .collect();
    ranked.sort_by(|a, b| {
        a.last_reading_at
            .cmp(&b.last_reading_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    ranked.truncate(cap);
    ranked
}

/// Up to `cap` machines, riskiest first as the fleet page ranks them; the name breaks ties so
/// the choice is stable from scrape to scrape.
pub(crate) fn riskiest(machines: &[Machine], cap: usize) -> Vec<&Machine> {
    let mut ranked: Vec<&Machine> = machines.iter().collect();
    ranked.sort_by(|a, b| riskiest_first(&a.risk_rank(), &b.risk_rank()));
    ranked.truncate(cap);
    ranked
}

/// Runs per state, and the durations of finished runs. Read from the database rather than
/// observed when a run ends: runs end in other processes (a child or a Kubernetes Job, watched
/// by whichever replica started it, and not across a restart), so only the database sees
/// every run, and every replica then reports the same histogram.
pub(super) fn register_training(registry: &mut Registry, runs: Vec<RunsInState>) {
    let by_state = Family::<StateLabels, Gauge>::default();
    // Every state, so a zero is a zero, not a gap.
    for state in RunState::ALL {
        by_state
            .get_or_create(&StateLabels {
                state: state.as_str(),
            })
            .set(0);
    }
    for run in &runs {
        by_state
            .get_or_create(&StateLabels {
                state: run.state.as_str(),
            })
            .set(run.runs);
    }
    registry.register(
        "icantkube_training_runs",
        "Training runs, by state",
        by_state,
    );
    registry.register_collector(Box::new(RunDurations(runs)));
}

/// `icantkube_training_run_duration_seconds`: a histogram per state whose buckets the
/// database counted, so a scrape never reads the runs themselves.
#[derive(Debug)]
struct RunDurations(Vec<RunsInState>);

impl Collector for RunDurations {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut histogram = encoder.encode_descriptor(
            "icantkube_training_run_duration_seconds",
            "Time finished training runs took from start to end, by final state",
            None,
            MetricType::Histogram,
        )?;
        for runs in self.0.iter().filter(|runs| runs.timed > 0) {
            histogram
                .encode_family(&StateLabels {
                    state: runs.state.as_str(),
                })?
                .encode_histogram::<NoLabelSet>(
                    runs.total_ms as f64 / 1000.0,
                    runs.timed.max(0) as u64,
                    &bucket_counts(runs),
                    None,
                )?;
        }
        Ok(())
    }
}

/// Runs per bucket (not cumulative: the encoder adds them up), the last one `+Inf`.
fn bucket_counts(runs: &RunsInState) -> Vec<(f64, u64)> {
    let mut below = 0;
    let mut buckets: Vec<(f64, u64)> = TRAINING_BUCKETS
        .iter()
        .zip(&runs.within)
        .map(|(bound, within)| {
            let count = (within - below).max(0) as u64;
            below = *within;
            (*bound, count)
        })
        .collect();
    buckets.push((f64::INFINITY, (runs.timed - below).max(0) as u64));
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(name: &str, status: Status, probability: Option<f64>, life: Option<f64>) -> Machine {
        Machine::example(name, status, probability, life)
    }

    #[test]
    fn the_riskiest_machines_are_exported_first_up_to_the_cap() {
        let fleet = vec![
            machine("healthy-high", Status::Healthy, Some(0.3), None),
            machine("unknown", Status::Unknown, None, None),
            machine("warning", Status::Warning, Some(0.2), None),
            machine("critical-low", Status::Critical, Some(0.6), None),
            machine("engine-far", Status::Healthy, None, Some(120.0)),
            machine("critical-high", Status::Critical, Some(0.9), None),
            machine("engine-near", Status::Healthy, None, Some(30.0)),
            machine("healthy-low", Status::Healthy, Some(0.01), None),
        ];
        let names = |cap| -> Vec<&str> {
            riskiest(&fleet, cap)
                .iter()
                .map(|m| m.name.as_str())
                .collect()
        };
        assert_eq!(
            names(100),
            [
                "critical-high",
                "critical-low",
                "warning",
                "healthy-high",
                "healthy-low",
                "engine-near",
                "engine-far",
                "unknown",
            ]
        );
        assert_eq!(names(3), ["critical-high", "critical-low", "warning"]);
        assert!(names(0).is_empty());
    }

    #[test]
    fn the_longest_silent_monitored_machines_are_exported_first_up_to_the_cap() {
        let at = |name: &str, last: Option<i64>, monitoring: bool| Machine {
            last_reading_at: last,
            monitoring,
            ..machine(name, Status::Healthy, None, None)
        };
        let fleet = vec![
            at("recent", Some(9_000), true),
            at("silent", Some(1_000), true),
            at("quiet", Some(5_000), true),
            at("never", None, true),
            at("unmonitored", Some(10), false),
        ];
        let names: Vec<&str> = stalest_monitored(&fleet, 2)
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["silent", "quiet"]);
        assert_eq!(stalest_monitored(&fleet, 10).len(), 3);
    }

    #[test]
    fn run_durations_counted_by_the_database_become_per_bucket_counts() {
        let runs = RunsInState {
            state: RunState::Completed,
            runs: 5,
            timed: 4,
            total_ms: 4_000_000,
            // At most 10 s: 1, 30 s: 1, 60 s: 2, 120 s: 2, 300 s and on: 3.
            within: vec![1, 1, 2, 2, 3, 3, 3, 3, 3, 3],
        };
        let buckets = bucket_counts(&runs);
        let counts: Vec<u64> = buckets.iter().map(|(_, count)| *count).collect();
        assert_eq!(counts, [1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(buckets[0].0, 10.0);
        assert_eq!(buckets[10].0, f64::INFINITY);
    }
}

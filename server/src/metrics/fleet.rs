//! What the fleet in the database says: machines by status, the riskiest and the longest-silent
//! machines' own series (capped), active model versions, training runs per state and their
//! durations. Computed at each scrape from the database, so every replica reports the same
//! fleet and a machine that drops out of the riskiest set drops out of the output.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

use app::model::{RunState, Status};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::StatusLabels;
use crate::db::alarms::AlarmCounts;
use crate::db::machines::{LastReading, Machine};
use crate::db::model_versions::ModelVersionRow;
use crate::db::training_runs::RunsInState;
use crate::db::{self, Database};
use crate::domain::time::now_ms;

/// Seconds a training run took: from a quick linear model to a large forest.
const TRAINING_BUCKETS: [f64; 10] = [
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlarmLabels {
    state: &'static str,
    severity: &'static str,
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

/// What the fleet series need, each part bounded by the machine cap rather than the fleet's
/// size: counts by status, the capped riskiest and longest-silent machines (ranked by the
/// database), the active versions of the riskiest, and the training runs per state.
pub(super) struct FleetReading {
    by_status: HashMap<Status, i64>,
    riskiest: Vec<Machine>,
    versions: Vec<ModelVersionRow>,
    longest_silent: Vec<LastReading>,
    pub(super) runs: Vec<RunsInState>,
    alarms: AlarmCounts,
}

pub(super) async fn read_fleet(db: &Database, cap: usize) -> crate::error::Result<FleetReading> {
    let pool = db.pool();
    let by_status = db::machines::count_by_status(pool).await?;
    let riskiest = db::machines::riskiest(pool, cap).await?;
    let mut active: Vec<i64> = riskiest
        .iter()
        .filter_map(|machine| machine.active_model_version_id)
        .collect();
    // Machines of a profile share its version.
    active.sort_unstable();
    active.dedup();
    let versions = db::model_versions::with_ids(pool, &active).await?;
    let longest_silent = db::machines::longest_silent(pool, cap).await?;
    let bounds_ms = TRAINING_BUCKETS.map(|seconds| (seconds * 1000.0) as i64);
    let runs = db::training_runs::by_state(pool, &bounds_ms).await?;
    let alarms = db::alarms::counts(pool).await?;
    Ok(FleetReading {
        by_status,
        riskiest,
        versions,
        longest_silent,
        runs,
        alarms,
    })
}

pub(super) fn register_fleet(registry: &mut Registry, fleet: &FleetReading) {
    let by_status = Family::<StatusLabels, Gauge>::default();
    for status in Status::ALL {
        // At zero, so a status without machines reads 0 rather than missing.
        by_status
            .get_or_create(&StatusLabels {
                status: status.as_str(),
            })
            .set(fleet.by_status.get(&status).copied().unwrap_or(0));
    }
    registry.register(
        "icantkube_machines",
        "Registered machines, by status",
        by_status,
    );

    let exported = &fleet.riskiest;
    let status = Family::<MachineStatusLabels, Gauge>::default();
    let probability = Family::<MachineLabels, FloatGauge>::default();
    let sensor_values = Family::<SensorLabels, FloatGauge>::default();
    let life = Family::<RemainingLifeLabels, FloatGauge>::default();
    let model = Family::<ModelVersionLabels, Gauge>::default();
    for machine in exported {
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
            .and_then(|id| fleet.versions.iter().find(|version| version.id == id));
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
    for machine in &fleet.longest_silent {
        last_reading
            .get_or_create(&MachineLabels {
                machine: machine.name.clone(),
            })
            .set(machine.last_reading_at.div_euclid(1000));
    }
    register_alarms(registry, &fleet.alarms);

    registry.register(
        "icantkube_machine_last_reading_timestamp_seconds",
        "When the monitored machine's latest reading was taken (the stalest machines, up to \
         ICANTKUBE_METRICS_MACHINE_CAP)",
        last_reading,
    );
}

/// Alarms not cleared, by state and severity (every pair, zeros included), and how long the
/// oldest unacknowledged one has waited (0 when none waits, so the series is always there).
fn register_alarms(registry: &mut Registry, counts: &AlarmCounts) {
    let alarms = Family::<AlarmLabels, Gauge>::default();
    for state in ["open", "acknowledged"] {
        for severity in ["warning", "critical"] {
            alarms
                .get_or_create(&AlarmLabels { state, severity })
                .set(counts.count(state, severity));
        }
    }
    registry.register(
        "icantkube_alarms",
        "Alarms not cleared, by state and severity",
        alarms,
    );
    let waited = counts
        .oldest_open_raised_at
        .map_or(0, |raised_at| (now_ms() - raised_at).max(0) / 1000);
    registry.register(
        "icantkube_alarm_oldest_open_age_seconds",
        "How long the oldest alarm nobody has acknowledged has been open (0: none)",
        ConstGauge::new(waited),
    );
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

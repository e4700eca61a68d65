//! What the fleet and machine pages show, read from storage (the `FleetQueries` the app
//! declares).

use app::error::AppError;
use app::model::{
    Chart, Fleet, LikelyFailure, MachineCard, MachineDetail, RemainingLife, RiskDriver, SensorValue,
};
use app::services::FleetQueries;

use crate::charts::{self, PredictionPoint, PredictionScale};
use crate::configuration::TrackingSettings;
use crate::db::machines::Machine;
use crate::db::predictions::StoredPrediction;
use crate::db::readings::{CurrentRun, StoredReading};
use crate::db::{machines, model_versions, predictions, readings, training_runs, Database};
use crate::domain::riskiest_first;
use crate::domain::time::now_ms;
use crate::error::Error;
use crate::ingest::scoring::ModelCache;
use crate::pages::links;
use ml::limits::Limit;
use ml::model::Driver;
use ml::Task;

/// Readings per sensor chart, and predictions in the prediction chart, on the machine page.
const TREND_WINDOW: i64 = 240;

/// Reads machines, readings and predictions for the pages.
pub struct StoredFleet {
    pub db: Database,
    pub models: ModelCache,
    pub tracking: Option<TrackingSettings>,
    pub grafana_url: Option<String>,
}

impl StoredFleet {
    /// The MLflow run that produced a model version, when it was tracked.
    async fn mlflow_link(&self, version_id: i64) -> Result<Option<String>, Error> {
        let Some(run_id) = model_versions::training_run_of(self.db.pool(), version_id).await?
        else {
            return Ok(None);
        };
        Ok(training_runs::find(self.db.pool(), run_id)
            .await?
            .and_then(|run| links::mlflow_run(self.tracking.as_ref(), &run)))
    }

    /// Each sensor's limits under the machine's active model, in schema order, swept over the
    /// values its chart shows widened by half their spread (at least a tenth of their size) on
    /// each side.
    async fn sensor_limits(
        &self,
        machine: &Machine,
        recent: &[StoredReading],
    ) -> Result<Vec<Vec<Limit>>, Error> {
        let sensors = machine.schema.sensors().len();
        let (Some(active), Some(latest)) = (self.models.for_machine(machine).await?, recent.last())
        else {
            return Ok(vec![Vec::new(); sensors]);
        };
        let run = match active.window() {
            Some(window) => {
                let mut tx = self.db.pool().begin().await?;
                readings::current_run(&mut tx, machine.id, window.baseline, window.long).await?
            }
            None => CurrentRun {
                first: Vec::new(),
                last: vec![latest.values.clone()],
                count: 1,
            },
        };
        let ranges: Vec<(f64, f64)> = (0..sensors).map(|i| sweep_range(recent, i)).collect();
        // Hundreds of predictions per sensor: off the async workers.
        tokio::task::spawn_blocking(move || {
            ranges
                .iter()
                .enumerate()
                .map(|(sensor, (low, high))| active.sensor_limits(&run, sensor, *low, *high))
                .collect()
        })
        .await
        .map_err(|e| Error::Corrupt(format!("sensor limits of machine {}: {e}", machine.name)))
    }

    /// The prediction chart, drawn with the bands of the model that made the latest prediction.
    async fn prediction_chart(&self, history: &[StoredPrediction]) -> Result<Option<Chart>, Error> {
        let Some(latest) = history.last() else {
            return Ok(None);
        };
        let card = self.models.card(latest.model_version_id).await?;
        let (scale, points): (PredictionScale, Vec<PredictionPoint>) = match card.task {
            Task::Classification => (
                PredictionScale::Probability {
                    warning: card.bands.warning,
                    critical: card.bands.critical,
                },
                history
                    .iter()
                    .map(|p| PredictionPoint {
                        at: p.recorded_at,
                        value: p.failure_probability,
                        low: None,
                        high: None,
                    })
                    .collect(),
            ),
            Task::Regression => (
                PredictionScale::RemainingLife {
                    warning: card.bands.warning,
                    critical: card.bands.critical,
                    unit: card.life_unit.clone().unwrap_or_else(|| "hours".into()),
                },
                history
                    .iter()
                    .filter_map(|p| {
                        Some(PredictionPoint {
                            at: p.recorded_at,
                            value: p.remaining_life?,
                            low: p.remaining_life_low,
                            high: p.remaining_life_high,
                        })
                    })
                    .collect(),
            ),
        };
        Ok(Some(charts::prediction_history(&points, &scale)))
    }
}

/// The values of one sensor its limits are looked for in.
fn sweep_range(recent: &[StoredReading], sensor: usize) -> (f64, f64) {
    let (low, high) = recent
        .iter()
        .filter_map(|r| r.values.get(sensor))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(*v), high.max(*v))
        });
    let size = low.abs().max(high.abs());
    let spread = match (high - low).max(size * 0.1) {
        spread if spread > 0.0 => spread,
        _ => 1.0,
    };
    (low - spread / 2.0, high + spread / 2.0)
}

/// The latest prediction's drivers in words.
fn drivers(history: &[StoredPrediction], life_unit: Option<&str>) -> Vec<RiskDriver> {
    let Some(json) = history.iter().rev().find_map(|p| p.drivers.as_deref()) else {
        return Vec::new();
    };
    let drivers: Vec<Driver> = serde_json::from_str(json).unwrap_or_default();
    drivers
        .into_iter()
        .map(|d| RiskDriver {
            input: d.feature.replace('_', " "),
            effect: match life_unit {
                Some(unit) => format!("−{:.0} {unit}", d.effect),
                None => format!("+{:.2} probability", d.effect),
            },
        })
        .collect()
}

fn card(machine: &Machine) -> MachineCard {
    let latest = match &machine.last_values {
        Some(values) => machine
            .schema
            .sensors()
            .iter()
            .zip(values)
            .map(|(sensor, value)| SensorValue {
                label: sensor.label.clone(),
                unit: sensor.unit.clone(),
                value: *value,
            })
            .collect(),
        None => Vec::new(),
    };
    MachineCard {
        name: machine.name.clone(),
        display_name: machine.display_name.clone(),
        profile: machine.profile.clone(),
        status: machine.status,
        failure_probability: machine.failure_probability,
        remaining_life: machine.remaining_life.map(|value| RemainingLife {
            value,
            low: machine.remaining_life_low,
            high: machine.remaining_life_high,
            unit: machine.life_unit.clone().unwrap_or_else(|| "hours".into()),
        }),
        likely_failure: machine
            .failure_mode
            .clone()
            .zip(machine.mode_probability)
            .map(|(mode, probability)| LikelyFailure { mode, probability }),
        last_reading_at: machine.last_reading_at,
        latest,
    }
}

/// The fleet page's cards, riskiest first.
fn ranked_cards(mut machines: Vec<Machine>) -> Vec<MachineCard> {
    machines.sort_by(|a, b| riskiest_first(&a.risk_rank(), &b.risk_rank()));
    machines.iter().map(card).collect()
}

/// A name asked for, as an error may repeat it: no machine name is longer than 64 characters,
/// so a longer one is cut there. Echoed whole, a 100 KB name made the error too large for the
/// server functions' status middleware to read, and the answer an empty 500.
fn echoed(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_string(),
    }
}

#[async_trait::async_trait]
impl FleetQueries for StoredFleet {
    async fn fleet(&self) -> Result<Fleet, AppError> {
        let machines = machines::list(self.db.pool()).await?;
        Ok(Fleet {
            machines: ranked_cards(machines),
            generated_at: now_ms(),
        })
    }

    async fn machine(&self, name: &str) -> Result<MachineDetail, AppError> {
        let pool = self.db.pool();
        let machine = machines::find(pool, name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("machine {:?}", echoed(name))))?;
        let recent = readings::recent(pool, machine.id, TREND_WINDOW).await?;
        let reading_count = machine.reading_count;
        let limits = self.sensor_limits(&machine, &recent).await?;
        let charts = machine
            .schema
            .sensors()
            .iter()
            .zip(&limits)
            .enumerate()
            .map(|(index, (sensor, limits))| {
                let points: Vec<(i64, f64)> = recent
                    .iter()
                    .filter_map(|r| r.values.get(index).map(|v| (r.recorded_at, *v)))
                    .collect();
                charts::sensor_trend(sensor, &points, limits)
            })
            .collect();
        let history = predictions::recent(pool, machine.id, TREND_WINDOW).await?;
        let prediction_chart = self.prediction_chart(&history).await?;
        let model_version = match machine.active_model_version_id {
            Some(id) => model_versions::number(pool, id)
                .await?
                .map(|(profile, version)| format!("{profile} v{version}")),
            None => None,
        };
        let model_version_url = match machine.active_model_version_id {
            Some(id) => self.mlflow_link(id).await?,
            None => None,
        };
        Ok(MachineDetail {
            card: card(&machine),
            attributes: machine.attributes.clone().into_iter().collect(),
            monitoring: machine.monitoring,
            reading_count,
            charts,
            prediction_chart,
            drivers: drivers(&history, machine.life_unit.as_deref()),
            model_version,
            model_version_url,
            grafana_url: links::grafana_machine(self.grafana_url.as_deref(), &machine.name),
            generated_at: now_ms(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Status;

    #[test]
    fn a_name_asked_for_is_echoed_up_to_the_longest_machine_name() {
        assert_eq!(echoed("mill-1"), "mill-1");
        assert_eq!(echoed(&"a".repeat(64)), "a".repeat(64));
        assert_eq!(echoed(&"é".repeat(100_000)), format!("{}…", "é".repeat(64)));
    }

    fn fleet() -> Vec<Machine> {
        vec![
            Machine::example("a", Status::Healthy, Some(0.1), None),
            Machine::example("b", Status::Unknown, None, None),
            Machine::example("c", Status::Critical, Some(0.7), None),
            Machine::example("d", Status::Warning, Some(0.4), None),
            Machine::example("e", Status::Critical, Some(0.9), None),
            Machine::example("f", Status::Training, None, None),
            Machine::example("g", Status::Healthy, None, Some(12.0)),
        ]
    }

    fn names(cards: &[MachineCard]) -> Vec<&str> {
        cards.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn the_riskiest_machine_comes_first() {
        let cards = ranked_cards(fleet());
        assert_eq!(names(&cards), ["e", "c", "d", "f", "a", "g", "b"]);
    }
}

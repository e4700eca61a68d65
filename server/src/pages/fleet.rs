//! What the fleet and machine pages show, read from storage (the `FleetQueries` the app
//! declares).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use app::error::AppError;
use app::model::{
    time_ago, Chart, ChartWindow, Fleet, FleetQuery, LikelyFailure, MachineCard, MachineDetail,
    MaintenanceEntry, RemainingLife, RiskDriver, Sensor, SensorValue, Status, StatusCount,
    MAINTENANCE_KINDS,
};
use app::services::FleetQueries;

use crate::charts::{self, PredictionPoint, PredictionScale};
use crate::configuration::TrackingSettings;
use crate::db::alarms::AlarmFilter;
use crate::db::machines::{FleetFilter, Machine, RiskCursor};
use crate::db::predictions::StoredPrediction;
use crate::db::readings::{CurrentRun, StoredReading};
use crate::db::rollups as db_rollups;
use crate::db::{
    alarms, machines, maintenance, model_versions, predictions, readings, training_runs, Database,
};
use crate::domain::time::{now_ms, to_rfc3339};
use crate::error::Error;
use crate::history::rollups;
use crate::ingest::scoring::ModelCache;
use crate::pages::links;
use ml::limits::Limit;
use ml::model::Driver;
use ml::Task;

/// Readings per sensor chart, and predictions in the prediction chart, on the machine page.
const TREND_WINDOW: i64 = 240;

/// Machine cards on one page of the fleet: a phone's few screens, and the page of a fleet of
/// 10,000 within twice the bytes of a fleet of 10.
pub const FLEET_PAGE: usize = 24;

/// The longest search text or filter value read; no name, place or profile is longer.
const LONGEST_FILTER: usize = 80;

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

/// A chart per sensor of the machine's latest readings, one point each.
fn latest_charts(machine: &Machine, recent: &[StoredReading], limits: &[Vec<Limit>]) -> Vec<Chart> {
    per_sensor(machine, limits, |index, sensor, limits| {
        let points: Vec<(i64, f64)> = recent
            .iter()
            .filter_map(|r| r.values.get(index).map(|v| (r.recorded_at, *v)))
            .collect();
        charts::sensor_trend(sensor, &points, limits)
    })
}

/// A chart per sensor of the machine, in schema order, each with its limits.
fn per_sensor(
    machine: &Machine,
    limits: &[Vec<Limit>],
    chart: impl Fn(usize, &Sensor, &[Limit]) -> Chart,
) -> Vec<Chart> {
    machine
        .schema
        .sensors()
        .iter()
        .zip(limits)
        .enumerate()
        .map(|(index, (sensor, limits))| chart(index, sensor, limits))
        .collect()
}

impl StoredFleet {
    /// A chart per sensor over `window`, from the rollups of its width.
    async fn window_charts(
        &self,
        machine: &Machine,
        window: ChartWindow,
        limits: &[Vec<Limit>],
    ) -> Result<Vec<Chart>, Error> {
        let width = rollups::width_for(window);
        let from = now_ms() - window.span_ms();
        let buckets =
            db_rollups::machine_since(self.db.pool(), machine.id, width, from - from % width)
                .await?;
        Ok(per_sensor(machine, limits, |index, sensor, limits| {
            let points: Vec<(i64, f64, f64, f64)> = buckets
                .iter()
                .filter_map(|b| {
                    Some((
                        b.bucket_start,
                        *b.mins.get(index)?,
                        *b.means.get(index)?,
                        *b.maxs.get(index)?,
                    ))
                })
                .collect();
            charts::sensor_window(sensor, window.as_str(), &points, limits)
        }))
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
fn drivers(
    history: &[StoredPrediction],
    life_unit: Option<&str>,
    sensors: &[Sensor],
) -> Vec<RiskDriver> {
    match history.iter().rev().find_map(|p| p.drivers.as_deref()) {
        Some(json) => drivers_in_words(json, life_unit, sensors),
        None => Vec::new(),
    }
}

/// Drivers as a prediction stores them (JSON), in words: only those that move the risk as
/// the page shows it (half a percentage point of failure probability, one unit of remaining
/// life), so a healthy machine lists none rather than "+0.00". Inputs taken from a sensor are
/// named by its label, with its unit.
pub(super) fn drivers_in_words(
    json: &str,
    life_unit: Option<&str>,
    sensors: &[Sensor],
) -> Vec<RiskDriver> {
    let drivers: Vec<Driver> = serde_json::from_str(json).unwrap_or_default();
    let least = if life_unit.is_some() { 1.0 } else { 0.005 };
    drivers
        .into_iter()
        .filter(|d| d.effect >= least)
        .map(|d| RiskDriver {
            input: input_in_words(&d.feature, sensors),
            effect: match life_unit {
                Some(unit) => format!("−{:.0} {unit}", d.effect),
                None => format!("+{:.1} percentage points", d.effect * 100.0),
            },
        })
        .collect()
}

/// A model's input as a reader says it: `torque_mean5` is "Torque (Nm), mean of the last 5
/// readings", `torque_slope15` its trend in Nm per reading, `torque_drift` its drift since the
/// run began. Derived inputs (`power`) have no sensor, so no label or unit: their key in words.
fn input_in_words(feature: &str, sensors: &[Sensor]) -> String {
    if feature == "age" {
        return "readings since the run began".to_string();
    }
    let named = |key: &str, per_reading: bool| match sensors.iter().find(|s| s.key == key) {
        Some(sensor) if sensor.unit.is_empty() => sensor.label.clone(),
        Some(sensor) if per_reading => format!("{} ({} per reading)", sensor.label, sensor.unit),
        Some(sensor) => format!("{} ({})", sensor.label, sensor.unit),
        None => key.replace('_', " "),
    };
    if let Some(key) = feature.strip_suffix("_drift") {
        return format!("{}, drift since the run began", named(key, false));
    }
    for (marker, what, per_reading) in [("_mean", "mean", false), ("_slope", "trend", true)] {
        if let Some((key, rest)) = feature.rsplit_once(marker) {
            if let Ok(rows) = rest.parse::<usize>() {
                return format!(
                    "{}, {what} of the last {rows} readings",
                    named(key, per_reading)
                );
            }
        }
    }
    named(feature, false)
}

fn card(machine: &Machine, alarm: Option<String>) -> MachineCard {
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
        place: machine.place.clone(),
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
        alarm,
    }
}

/// The filter a fleet query asks for, or the field it cannot be read from.
fn fleet_filter(query: &FleetQuery) -> Result<FleetFilter, AppError> {
    let text = |field: &str, value: &Option<String>| -> Result<Option<String>, AppError> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(value) if value.chars().count() > LONGEST_FILTER => Err(AppError::Invalid(
                format!("{field}: at most {LONGEST_FILTER} characters"),
            )),
            Some(value) => Ok(Some(value.to_string())),
        }
    };
    let status = match text("status", &query.status)? {
        None => None,
        Some(name) => Some(Status::from_name(&name).ok_or_else(|| {
            let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            AppError::Invalid(format!(
                "status: {:?} is not a status; use one of {}",
                echoed(&name),
                names.join(", ")
            ))
        })?),
    };
    Ok(FleetFilter {
        search: text("q", &query.q)?,
        status,
        profile: text("profile", &query.profile)?,
        place: text("place", &query.place)?,
    })
}

/// A page cursor as the fleet's links carry it: the last machine's risk order and name.
fn cursor_text(cursor: &RiskCursor) -> String {
    format!("{}:{}", cursor.order, cursor.name)
}

fn parse_cursor(text: &str) -> Result<RiskCursor, AppError> {
    let invalid = || {
        AppError::Invalid(format!(
            "after: {:?} is not a page of the fleet",
            echoed(text)
        ))
    };
    let (order, name) = text.split_once(':').ok_or_else(invalid)?;
    let order: f64 = order.parse().map_err(|_| invalid())?;
    if !order.is_finite() || name.is_empty() {
        return Err(invalid());
    }
    Ok(RiskCursor {
        order,
        name: name.to_string(),
    })
}

/// What a fleet view shows that can change: its page of machines and the counts by status.
/// Alarms the machine page lists: its newest.
const MACHINE_ALARMS: i64 = 10;
/// Maintenance records the machine page lists: its newest.
const MACHINE_MAINTENANCE: i64 = 10;

struct FleetView {
    filter: FleetFilter,
    page: Vec<Machine>,
    next: Option<RiskCursor>,
    by_status: HashMap<Status, i64>,
    /// The page's machines' alarms not cleared (machine id, severity), and the fleet's count.
    alarms: HashMap<i64, String>,
    alarm_count: i64,
}

impl StoredFleet {
    async fn fleet_view(&self, query: &FleetQuery) -> Result<FleetView, AppError> {
        let pool = self.db.pool();
        let filter = fleet_filter(query)?;
        let after = query.after.as_deref().map(parse_cursor).transpose()?;
        // One more than a page tells whether there is a next one.
        let mut page =
            machines::riskiest_page(pool, &filter, after.as_ref(), FLEET_PAGE + 1).await?;
        let next = (page.len() > FLEET_PAGE).then(|| {
            page.truncate(FLEET_PAGE);
            page.last().map(RiskCursor::after)
        });
        let by_status = machines::count_by_status(pool).await?;
        let ids: Vec<i64> = page.iter().map(|m| m.id).collect();
        let alarms = alarms::open_of(pool, &ids).await?.into_iter().collect();
        let (open, acknowledged) = alarms::state_counts(pool).await?;
        Ok(FleetView {
            filter,
            page,
            next: next.flatten(),
            by_status,
            alarms,
            alarm_count: open + acknowledged,
        })
    }

    /// A digest of what the fleet view `query` shows, without rendering it: the Live refresh
    /// asks with it and gets 304 while it holds. Every row change (a reading, a status, a
    /// promotion) moves the machine's `updated_at`.
    pub async fn fleet_version(&self, query: &FleetQuery) -> Result<u64, AppError> {
        let view = self.fleet_view(query).await?;
        let mut hasher = DefaultHasher::new();
        let mut counts: Vec<(&str, i64)> = view
            .by_status
            .iter()
            .map(|(s, n)| (s.as_str(), *n))
            .collect();
        counts.sort_unstable();
        counts.hash(&mut hasher);
        view.alarm_count.hash(&mut hasher);
        for machine in &view.page {
            (machine.id, machine.updated_at, machine.risk_order.to_bits()).hash(&mut hasher);
        }
        view.next.map(|next| next.name).hash(&mut hasher);
        Ok(hasher.finish())
    }

    /// A digest of what the page of machine `name` shows, `None` when there is no such machine.
    pub async fn machine_version(&self, name: &str) -> Result<Option<u64>, AppError> {
        let Some(machine) = machines::find(self.db.pool(), name).await? else {
            return Ok(None);
        };
        let mut hasher = DefaultHasher::new();
        (machine.id, machine.updated_at, machine.reading_count).hash(&mut hasher);
        Ok(Some(hasher.finish()))
    }
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
    async fn fleet(&self, query: FleetQuery) -> Result<Fleet, AppError> {
        let pool = self.db.pool();
        let view = self.fleet_view(&query).await?;
        let counts: Vec<StatusCount> = Status::ALL
            .iter()
            .map(|status| StatusCount {
                status: *status,
                count: view.by_status.get(status).copied().unwrap_or(0),
            })
            .collect();
        let total = counts.iter().map(|c| c.count).sum();
        let matching = match (view.filter.is_empty(), view.filter.status) {
            (true, _) => total,
            (false, Some(status)) if view.filter == FleetFilter::only(status) => {
                view.by_status.get(&status).copied().unwrap_or(0)
            }
            _ => machines::count_matching(pool, &view.filter).await?,
        };
        let (places, profiles) = machines::places_and_profiles(pool).await?;
        Ok(Fleet {
            counts,
            total,
            matching,
            machines: view
                .page
                .iter()
                .map(|machine| card(machine, view.alarms.get(&machine.id).cloned()))
                .collect(),
            alarms: view.alarm_count,
            next: view.next.as_ref().map(cursor_text),
            places,
            profiles,
            generated_at: now_ms(),
        })
    }

    async fn machine(
        &self,
        name: &str,
        window: Option<ChartWindow>,
    ) -> Result<MachineDetail, AppError> {
        let pool = self.db.pool();
        let machine = machines::find(pool, name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("machine {:?}", echoed(name))))?;
        let recent = readings::recent(pool, machine.id, TREND_WINDOW).await?;
        let reading_count = machine.reading_count;
        let limits = self.sensor_limits(&machine, &recent).await?;
        let charts = match window {
            None => latest_charts(&machine, &recent, &limits),
            Some(window) => self.window_charts(&machine, window, &limits).await?,
        };
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
        let filter = AlarmFilter {
            state: None,
            machine: Some(machine.name.clone()),
        };
        let generated_at = now_ms();
        let alarms: Vec<_> = alarms::list(pool, &filter, MACHINE_ALARMS)
            .await?
            .into_iter()
            .map(|alarm| super::alarms::view(alarm, generated_at))
            .collect();
        let open_alarm = alarms
            .iter()
            .find(|alarm| alarm.state != "cleared")
            .map(|alarm| alarm.severity.clone());
        let maintenance = maintenance::of_machine(pool, machine.id, MACHINE_MAINTENANCE)
            .await?
            .into_iter()
            .map(|record| MaintenanceEntry {
                kind: MAINTENANCE_KINDS
                    .iter()
                    .find(|(value, _)| *value == record.kind)
                    .map_or(record.kind.clone(), |(_, label)| label.to_string()),
                failure_mode: record.failure_mode,
                when: time_ago(record.done_at, generated_at),
                note: record.note,
                by: record.recorded_by,
                alarm_id: record.alarm_id,
            })
            .collect();
        Ok(MachineDetail {
            card: card(&machine, open_alarm),
            attributes: machine.attributes.clone().into_iter().collect(),
            monitoring: machine.monitoring,
            reading_count,
            charts,
            prediction_chart,
            drivers: drivers(
                &history,
                machine.life_unit.as_deref(),
                machine.schema.sensors(),
            ),
            model_version,
            model_version_url,
            grafana_url: links::grafana_machine(self.grafana_url.as_deref(), &machine.name),
            window,
            alarms,
            maintenance,
            // `2026-12-01T14:30:05Z` to the minute.
            now_minute_utc: to_rfc3339(generated_at).chars().take(16).collect(),
            generated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Status;

    fn in_words(json: &str, life_unit: Option<&str>) -> Vec<(String, String)> {
        let sensors = [
            Sensor::new("torque", "Torque", "Nm"),
            Sensor::new("tool_wear", "Tool wear", "min"),
            Sensor::new("t30", "HPC outlet temperature", "°R"),
            Sensor::new("bpr", "Bypass ratio", ""),
        ];
        drivers_in_words(json, life_unit, &sensors)
            .into_iter()
            .map(|d| (d.input, d.effect))
            .collect()
    }

    #[test]
    fn drivers_that_do_not_move_the_shown_risk_are_left_out_and_the_rest_read_as_words() {
        let failure = r#"[{"feature":"torque_mean5","effect":0.213},
            {"feature":"power","effect":0.004},{"feature":"tool_wear_drift","effect":0.05},
            {"feature":"temperature_difference","effect":0.03}]"#;
        assert_eq!(
            in_words(failure, None),
            [
                (
                    "Torque (Nm), mean of the last 5 readings".to_string(),
                    "+21.3 percentage points".to_string()
                ),
                (
                    "Tool wear (min), drift since the run began".to_string(),
                    "+5.0 percentage points".to_string()
                ),
                (
                    "temperature difference".to_string(),
                    "+3.0 percentage points".to_string()
                ),
            ]
        );
        let life = r#"[{"feature":"age","effect":12.4},{"feature":"t30_slope15","effect":1.6},
            {"feature":"bpr_slope15","effect":3.0},{"feature":"t30","effect":0.9}]"#;
        assert_eq!(
            in_words(life, Some("cycles")),
            [
                (
                    "readings since the run began".to_string(),
                    "−12 cycles".to_string()
                ),
                (
                    "HPC outlet temperature (°R per reading), trend of the last 15 readings"
                        .to_string(),
                    "−2 cycles".to_string()
                ),
                (
                    "Bypass ratio, trend of the last 15 readings".to_string(),
                    "−3 cycles".to_string()
                ),
            ]
        );
        assert!(in_words("not json", None).is_empty());
    }

    #[test]
    fn a_name_asked_for_is_echoed_up_to_the_longest_machine_name() {
        assert_eq!(echoed("mill-1"), "mill-1");
        assert_eq!(echoed(&"a".repeat(64)), "a".repeat(64));
        assert_eq!(echoed(&"é".repeat(100_000)), format!("{}…", "é".repeat(64)));
    }

    fn query(status: Option<&str>, q: Option<&str>, after: Option<&str>) -> FleetQuery {
        FleetQuery {
            q: q.map(str::to_string),
            status: status.map(str::to_string),
            after: after.map(str::to_string),
            ..FleetQuery::default()
        }
    }

    #[test]
    fn a_fleet_filter_is_read_from_the_query_or_the_field_named() {
        let filter = fleet_filter(&query(Some("warning"), Some("  mill "), None)).unwrap();
        assert_eq!(filter.status, Some(Status::Warning));
        assert_eq!(filter.search.as_deref(), Some("mill"));
        assert!(fleet_filter(&query(Some(""), Some(""), None))
            .unwrap()
            .is_empty());
        let error = fleet_filter(&query(Some("broken"), None, None)).unwrap_err();
        assert!(
            matches!(&error, AppError::Invalid(m) if m.starts_with("status: \"broken\"")),
            "{error}"
        );
        let error = fleet_filter(&query(None, Some(&"m".repeat(81)), None)).unwrap_err();
        assert!(
            matches!(&error, AppError::Invalid(m) if m.starts_with("q: ")),
            "{error}"
        );
    }

    #[test]
    fn a_page_cursor_reads_back_as_written_and_nonsense_is_refused() {
        let cursor = RiskCursor {
            order: 13.0 - 0.1 / 3.0,
            name: "mill-07".into(),
        };
        assert_eq!(parse_cursor(&cursor_text(&cursor)).unwrap(), cursor);
        for bad in [
            "",
            "mill-07",
            "x:mill-07",
            "NaN:mill-07",
            "inf:mill-07",
            "1.5:",
        ] {
            let error = parse_cursor(bad).unwrap_err();
            assert!(
                matches!(&error, AppError::Invalid(m) if m.starts_with("after: ")),
                "{bad}: {error}"
            );
        }
    }
}

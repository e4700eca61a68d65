//! Live inference: each machine's active model, cached in memory, scores readings as they are
//! ingested. Versions are immutable and every batch starts from the machine as stored now
//! (the ingest route reads it per request), so a promotion made by any replica takes effect
//! on the next batch everywhere.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ml::RiskLevel;

use crate::db::machines::Machine;
use crate::db::readings::CurrentRun;
use crate::db::{self, Database};
use crate::domain::NewReading;
use crate::error::{Error, Result};
use ml::limits::{self, Band, Limit};
use ml::model::{Binding, Driver, ModelCard};
use ml::recipe::{SeriesState, Window};
use ml::{Model, ModelError, Prediction, Task};

/// Model versions kept in memory at most; each is a few megabytes.
const CACHED_VERSIONS: usize = 32;
/// Model cards kept in memory at most, for the pages that show versions; each is a few
/// kilobytes (metrics and plot data), and they are apart from the models so browsing every
/// version never evicts the ones ingest scores with.
const CACHED_CARDS: usize = 512;
/// Drivers reported with a prediction.
pub const DRIVERS: usize = 3;

/// Loaded model versions, and their cards, by id.
#[derive(Clone)]
pub struct ModelCache {
    db: Database,
    models: Arc<Bounded<Model>>,
    cards: Arc<Bounded<ModelCard>>,
}

/// Up to `cap` things by version id. Versions never change, so whatever is kept is right;
/// when full it starts afresh.
struct Bounded<T> {
    cap: usize,
    items: RwLock<HashMap<i64, Arc<T>>>,
}

impl<T> Bounded<T> {
    fn new(cap: usize) -> Bounded<T> {
        Bounded {
            cap,
            items: RwLock::default(),
        }
    }

    fn get(&self, id: i64) -> Option<Arc<T>> {
        self.items.read().expect("cache lock").get(&id).cloned()
    }

    fn insert(&self, id: i64, item: Arc<T>) {
        let mut items = self.items.write().expect("cache lock");
        if items.len() >= self.cap {
            items.clear();
        }
        items.insert(id, item);
    }
}

impl ModelCache {
    pub fn new(db: Database) -> ModelCache {
        ModelCache {
            db,
            models: Arc::new(Bounded::new(CACHED_VERSIONS)),
            cards: Arc::new(Bounded::new(CACHED_CARDS)),
        }
    }

    /// A version's card (what it is, its evaluation), read from the database the first time
    /// without decoding its estimators.
    pub async fn card(&self, version_id: i64) -> Result<Arc<ModelCard>> {
        self.cached(&self.cards, version_id, Model::card_from_bytes)
            .await
    }

    /// The model of a version, loaded from the database the first time.
    pub async fn get(&self, version_id: i64) -> Result<Arc<Model>> {
        self.cached(&self.models, version_id, Model::from_bytes)
            .await
    }

    /// What `store` keeps of a version, else its model file read from the database and
    /// decoded off the async workers.
    async fn cached<T: Send + Sync + 'static>(
        &self,
        store: &Bounded<T>,
        version_id: i64,
        decode: fn(&[u8]) -> std::result::Result<T, ModelError>,
    ) -> Result<Arc<T>> {
        if let Some(item) = store.get(version_id) {
            return Ok(item);
        }
        let bytes = db::model_versions::artifact(self.db.pool(), version_id).await?;
        let item = tokio::task::spawn_blocking(move || decode(&bytes))
            .await
            .map_err(|e| Error::Corrupt(format!("loading model version {version_id}: {e}")))?
            .map_err(|e| Error::Corrupt(format!("model version {version_id}: {e}")))?;
        let item = Arc::new(item);
        store.insert(version_id, item.clone());
        Ok(item)
    }

    /// The machine's active model, bound to its sensors; `None` when it has none, is not
    /// monitored, or the model does not fit it (logged: an admin must promote another). The
    /// machine must have been read for this batch, so a promotion anywhere counts at once.
    pub async fn for_machine(&self, machine: &Machine) -> Result<Option<ActiveModel>> {
        let Some(version_id) = machine
            .active_model_version_id
            .filter(|_| machine.monitoring)
        else {
            return Ok(None);
        };
        let model = self.get(version_id).await?;
        match model.bind(&machine.name, &machine.schema.keys(), &machine.attributes) {
            Ok(binding) => Ok(Some(ActiveModel {
                version_id,
                model,
                binding,
            })),
            Err(error) => {
                tracing::warn!(machine = %machine.name, version_id, %error, "active model not used");
                Ok(None)
            }
        }
    }
}

/// A model ready to score one machine's readings.
pub struct ActiveModel {
    pub version_id: i64,
    pub model: Arc<Model>,
    binding: Binding,
}

/// One reading's prediction and the features it was computed from.
pub struct Scored {
    pub prediction: Prediction,
    features: Vec<f64>,
}

impl ActiveModel {
    /// The window of the model's series features, when it has them.
    pub fn window(&self) -> Option<Window> {
        self.model.recipe().window()
    }

    /// The series state at the end of the machine's current run.
    pub fn series(&self, run: &CurrentRun) -> SeriesState {
        let mut series = self.model.recipe().new_series();
        series.restore(&self.rows(&run.first), &self.rows(&run.last), run.count);
        series
    }

    fn rows(&self, readings: &[Vec<f64>]) -> Vec<Vec<f64>> {
        readings
            .iter()
            .map(|values| self.model.recipe().row_values(&self.binding.raw(values)))
            .collect()
    }

    /// Where the machine's status would change if the sensor at `sensor` (its index in the
    /// machine's schema) read another value within `low..=high`, every other input as in the
    /// latest reading of `run`. A model with series features sees the sensor's recent window
    /// shifted by the same amount: a level, not a one-reading spike. Empty when the model
    /// does not read that sensor or the run has no reading.
    pub fn sensor_limits(
        &self,
        run: &CurrentRun,
        sensor: usize,
        low: f64,
        high: f64,
    ) -> Vec<Limit> {
        let Some(latest) = run.last.last() else {
            return Vec::new();
        };
        if !self.binding.reads_sensor(sensor) {
            return Vec::new();
        }
        let card = &self.model.card;
        let higher_is_worse = card.task == Task::Classification;
        let bands = [
            Band {
                status: RiskLevel::Warning,
                starts_at: card.bands.warning,
                higher_is_worse,
            },
            Band {
                status: RiskLevel::Critical,
                starts_at: card.bands.critical,
                higher_is_worse,
            },
        ];
        let current = latest[sensor];
        let first = self.rows(&run.first);
        let predict = |value: f64| {
            let shifted: Vec<Vec<f64>> = match self.window() {
                Some(_) => run
                    .last
                    .iter()
                    .map(|values| {
                        let mut values = values.clone();
                        values[sensor] += value - current;
                        values
                    })
                    .collect(),
                None => {
                    let mut values = latest.clone();
                    values[sensor] = value;
                    vec![values]
                }
            };
            let rows = self.rows(&shifted);
            let newest = rows.last().expect("one row at least");
            let series = self.window().map(|_| {
                let mut series = self.model.recipe().new_series();
                series.restore(&first, &rows, run.count);
                series
            });
            let prediction = self
                .model
                .predict(&self.model.features(newest, series.as_ref()));
            prediction
                .failure_probability
                .or(prediction.remaining_life)
                .unwrap_or_default()
        };
        limits::limits(low, high, current, &bands, predict)
    }

    /// Scores the next reading; a reading labelled as a failure ends the run, so the series
    /// starts afresh after it.
    pub fn score(&self, reading: &NewReading, series: &mut Option<SeriesState>) -> Scored {
        let row = self
            .model
            .recipe()
            .row_values(&self.binding.raw(&reading.values));
        if let Some(series) = series.as_mut() {
            series.push(row.clone());
        }
        let features = self.model.features(&row, series.as_ref());
        if reading.labels.failure == Some(true) {
            if let Some(series) = series.as_mut() {
                *series = self.model.recipe().new_series();
            }
        }
        Scored {
            prediction: self.model.predict(&features),
            features,
        }
    }

    /// The inputs that pushed a scored reading towards failure most.
    pub fn drivers(&self, scored: &Scored) -> Vec<Driver> {
        self.model.drivers(&scored.features, DRIVERS)
    }
}

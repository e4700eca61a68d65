//! What the training and models pages show, read from storage (the `TrainingQueries` the app
//! declares).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::error::AppError;
use app::model::{
    duration, ColumnPreview, DatasetPreview, DatasetSummary, MachineChoices, MachineModel,
    MachinesPage, MetricComparison, ModelVersionView, ModelsOverview, ProfileModels,
    PromotionRecord, Tracking, TrainingForm, TrainingRunDetail, TrainingRunSummary, TrainingRuns,
};
use app::services::TrainingQueries;

use crate::charts;
use crate::configuration::TrackingSettings;
use crate::db::alarm_outcomes::{self, Outcomes};
use crate::db::machines;
use crate::db::training_runs::{self, TrainingRun};
use crate::db::{datasets, model_versions, promotions, Database};
use crate::domain::time::now_ms;
use crate::domain::TrackingState;
use crate::error::Error;
use crate::ingest::scoring::ModelCache;
use crate::pages::links;
use crate::training::dataset_file::DatasetFile;
use crate::training::promotion::headline;
use ml::dataset::Role;
use ml::evaluation::Evaluation;
use ml::LoadOptions;

/// Runs on the `/training` page.
const LISTED_RUNS: i64 = 100;
/// Machines listed per profile on one page of `/models`.
const MACHINES_PAGE: usize = 24;
/// Machines named beside a version ("active on mill-01, mill-02"); beyond, a count.
const NAMED_ACTIVE: usize = 3;
/// Promotions in each profile's history on `/models`.
const LISTED_PROMOTIONS: i64 = 200;

/// Reads runs, data sets and model versions for the pages.
pub struct StoredTraining {
    pub db: Database,
    pub models: ModelCache,
    pub tracking: Option<TrackingSettings>,
    /// `local` or `kubernetes`.
    pub runner: &'static str,
    pub max_upload_bytes: u64,
}

#[async_trait::async_trait]
impl TrainingQueries for StoredTraining {
    async fn runs(&self) -> Result<TrainingRuns, AppError> {
        let runs = training_runs::list(self.db.pool(), LISTED_RUNS).await?;
        let names = self.names(&runs).await?;
        Ok(TrainingRuns {
            runs: runs.iter().map(|run| self.summary(run, &names)).collect(),
            runner: self.runner.to_string(),
            generated_at: now_ms(),
        })
    }

    async fn run(&self, id: i64) -> Result<TrainingRunDetail, AppError> {
        let run = training_runs::find(self.db.pool(), id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("training run {id}")))?;
        let names = self.names(std::slice::from_ref(&run)).await?;
        let parameters =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&run.parameters)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name.replace('_', " "), value.to_string()))
                .collect();
        let metrics = run
            .metrics
            .as_deref()
            .and_then(|json| serde_json::from_str::<Evaluation>(json).ok())
            .map(|evaluation| metric_rows(&evaluation))
            .unwrap_or_default();
        Ok(TrainingRunDetail {
            run: self.summary(&run, &names),
            parameters,
            metrics,
            auto_promote: run.auto_promote != 0,
            job_name: run.job_name.clone(),
            generated_at: now_ms(),
        })
    }

    async fn form(&self, dataset: Option<i64>) -> Result<TrainingForm, AppError> {
        let pool = self.db.pool();
        let datasets = datasets::list(pool, 20)
            .await?
            .into_iter()
            .map(|d| DatasetSummary {
                id: d.id,
                name: d.name,
                profile: d.profile,
                rows: d.row_count,
            })
            .collect();
        let preview = match dataset {
            Some(id) => Some(self.preview(id).await?),
            None => None,
        };
        let machines = match &preview {
            Some(preview) => machine_choices(pool, Some(&preview.profile)).await?,
            None => MachineChoices::default(),
        };
        Ok(TrainingForm {
            datasets,
            preview,
            machines,
            all_machines: machine_choices(pool, None).await?,
            max_upload_bytes: self.max_upload_bytes,
        })
    }

    async fn models(&self, page: MachinesPage) -> Result<ModelsOverview, AppError> {
        Ok(self.overview(page).await?)
    }
}

/// Machines a form lists in full, at most: past it, the form takes a name typed in.
const LISTED_MACHINES: usize = 100;

/// The machines (of `profile`, when given) a form offers, read a page's worth at most.
async fn machine_choices(
    pool: &sqlx::AnyPool,
    profile: Option<&str>,
) -> Result<MachineChoices, Error> {
    let mut listed = machines::page(pool, profile, None, LISTED_MACHINES + 1).await?;
    let complete = listed.len() <= LISTED_MACHINES;
    listed.truncate(LISTED_MACHINES);
    Ok(MachineChoices {
        listed: listed
            .into_iter()
            .map(|m| (m.name, m.display_name))
            .collect(),
        complete,
    })
}

/// What the run pages need to name things.
struct Names {
    machines: HashMap<i64, String>,
    datasets: HashMap<i64, String>,
    /// Model version label by the training run that registered it.
    versions_by_run: HashMap<i64, String>,
}

impl StoredTraining {
    /// The names `runs` need. Only their machines are read: few runs are for one machine, and
    /// a fleet may have thousands.
    async fn names(&self, runs: &[TrainingRun]) -> Result<Names, Error> {
        let pool = self.db.pool();
        let ids: BTreeSet<i64> = runs.iter().filter_map(|run| run.machine_id).collect();
        let mut machines = HashMap::new();
        for id in ids {
            if let Some(name) = machines::name_of(pool, id).await? {
                machines.insert(id, name);
            }
        }
        Ok(Names {
            machines,
            datasets: datasets::list(pool, i64::MAX)
                .await?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect(),
            versions_by_run: model_versions::list(pool)
                .await?
                .into_iter()
                .filter_map(|v| Some((v.training_run_id?, format!("{} v{}", v.profile, v.version))))
                .collect(),
        })
    }

    fn summary(&self, run: &TrainingRun, names: &Names) -> TrainingRunSummary {
        let scope = run
            .machine_id
            .and_then(|id| names.machines.get(&id).cloned())
            .unwrap_or_else(|| format!("every {} machine", run.profile));
        let duration = run
            .started_at
            .map(|started| duration(started, run.finished_at.unwrap_or_else(now_ms)));
        let headline = run
            .metrics
            .as_deref()
            .and_then(|json| serde_json::from_str::<Evaluation>(json).ok())
            .and_then(|evaluation| headline(&evaluation))
            .map(|h| format!("{} {}", h.name, metric_value(h.value)));
        TrainingRunSummary {
            id: run.id,
            state: run.state,
            stage: run.stage.clone(),
            progress: run.progress.clamp(0, 100) as u8,
            scope,
            algorithm: run.algorithm.replace('_', " "),
            target: run.target.clone(),
            dataset: run
                .dataset_id
                .and_then(|id| names.datasets.get(&id).cloned()),
            created_at: run.created_at,
            duration,
            headline,
            error: run.error.clone(),
            runner: run.job_name.clone().or_else(|| run.runner.clone()),
            started_by: run.started_by.clone(),
            cancelled_by: run.cancelled_by.clone(),
            tracking: self.tracking_of(run),
            model_version: names.versions_by_run.get(&run.id).cloned(),
        }
    }

    fn tracking_of(&self, run: &TrainingRun) -> Tracking {
        match run.tracking {
            TrackingState::Tracked => Tracking::Tracked {
                run_url: links::mlflow_run(self.tracking.as_ref(), run),
                experiment_url: links::mlflow_experiment(self.tracking.as_ref(), run),
            },
            TrackingState::Failed => {
                Tracking::Failed(run.tracking_error.clone().unwrap_or_default())
            }
            TrackingState::Pending => Tracking::Pending,
            TrackingState::Off => Tracking::Off,
        }
    }

    /// The data set's columns with their roles and a few values, read from the stored file.
    async fn preview(&self, id: i64) -> Result<DatasetPreview, AppError> {
        let stored = datasets::find(self.db.pool(), id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("data set {id}")))?;
        let roles = crate::training::column_roles(&stored.column_roles)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let (_, outline) = DatasetFile::stored(self.db.pool(), id)
            .await?
            .outline(LoadOptions {
                roles,
                ..LoadOptions::default()
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let outline = outline
            .map_err(|e| AppError::Internal(format!("the stored data set no longer loads: {e}")))?;
        let target = outline
            .columns
            .iter()
            .find(|c| c.role == Role::Target)
            .map(|c| c.header.clone())
            .unwrap_or_default();
        let columns = outline
            .columns
            .into_iter()
            .map(|column| ColumnPreview {
                header: column.header,
                role: column.role.as_str().to_string(),
                samples: column.samples.join(", "),
            })
            .collect();
        Ok(DatasetPreview {
            id: stored.id,
            name: stored.name,
            file_name: stored.file_name,
            rows: stored.row_count,
            profile: stored.profile,
            columns,
            target,
        })
    }

    async fn overview(&self, page: MachinesPage) -> Result<ModelsOverview, Error> {
        let pool = self.db.pool();
        let versions = model_versions::list(pool).await?;
        let by_version = machines::count_by_active_version(pool).await?;
        let history = promotions::history(pool, LISTED_PROMOTIONS).await?;
        let runs: HashMap<i64, TrainingRun> = training_runs::list(pool, i64::MAX)
            .await?
            .into_iter()
            .map(|run| (run.id, run))
            .collect();
        let labels: HashMap<i64, String> = versions
            .iter()
            .map(|v| (v.id, format!("{} v{}", v.profile, v.version)))
            .collect();
        let mut profiles: BTreeMap<String, ProfileModels> = BTreeMap::new();
        for version in &versions {
            profiles
                .entry(version.profile.clone())
                .or_insert_with(|| ProfileModels {
                    profile: version.profile.clone(),
                    machine_count: 0,
                    machines: Vec::new(),
                    next: None,
                    versions: Vec::new(),
                    promotions: Vec::new(),
                });
        }
        for ((profile, _), count) in &by_version {
            if let Some(models) = profiles.get_mut(profile) {
                models.machine_count += count;
            }
        }
        for (name, profile) in profiles.iter_mut() {
            let after = page
                .after
                .as_deref()
                .filter(|_| page.profile.as_deref() == Some(name.as_str()));
            let (machines, next) = self.machines_page(name, after, &labels).await?;
            profile.machines = machines;
            profile.next = next;
        }
        for promotion in &history {
            if let Some(profile) = profiles.get_mut(&promotion.profile) {
                profile.promotions.push(PromotionRecord {
                    machine: promotion.machine.clone(),
                    version: format!("{} v{}", promotion.profile, promotion.version),
                    by: promotion.promoted_by.clone(),
                    reason: promotion.reason.clone().unwrap_or_default(),
                    at: promotion.promoted_at,
                });
            }
        }
        let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
        let outcomes = alarm_outcomes::of_versions(pool, &ids).await?;
        for (name, profile) in profiles.iter_mut() {
            let reference_id = most_active(name, &by_version);
            let reference = match reference_id {
                Some(id) => Some(self.models.card(id).await?),
                None => None,
            };
            for version in versions.iter().filter(|v| &v.profile == name) {
                let card = self.models.card(version.id).await?;
                let compare_with = reference
                    .as_ref()
                    .filter(|_| reference_id != Some(version.id));
                profile.versions.push(ModelVersionView {
                    id: version.id,
                    label: labels[&version.id].clone(),
                    algorithm: version.algorithm.replace('_', " "),
                    created_at: version.created_at,
                    training_run_id: version.training_run_id,
                    metrics: comparisons(
                        &card.evaluation,
                        compare_with.map(|reference| &reference.evaluation),
                    ),
                    active_count: by_version
                        .get(&(name.clone(), Some(version.id)))
                        .copied()
                        .unwrap_or(0),
                    active_on: machines::names_with_version(pool, version.id, NAMED_ACTIVE).await?,
                    charts: charts::evaluation_charts(&card),
                    mlflow_url: version
                        .training_run_id
                        .and_then(|id| runs.get(&id))
                        .and_then(|run| links::mlflow_run(self.tracking.as_ref(), run)),
                    alarm_outcomes: outcomes.get(&version.id).map(outcome_words),
                });
            }
        }
        Ok(ModelsOverview {
            profiles: profiles.into_values().collect(),
            generated_at: now_ms(),
        })
    }

    /// One page of the profile's machines by name, each with its active version and the one
    /// before it (to roll back to), and the cursor of the next page.
    async fn machines_page(
        &self,
        profile: &str,
        after: Option<&str>,
        labels: &HashMap<i64, String>,
    ) -> Result<(Vec<MachineModel>, Option<String>), Error> {
        let pool = self.db.pool();
        let mut page = machines::page(pool, Some(profile), after, MACHINES_PAGE + 1).await?;
        let next = (page.len() > MACHINES_PAGE).then(|| {
            page.truncate(MACHINES_PAGE);
            page.last().map(|m| m.name.clone())
        });
        let ids: Vec<i64> = page.iter().map(|m| m.id).collect();
        let previous = promotions::previous_versions(pool, &ids).await?;
        let machines = page
            .into_iter()
            .map(|machine| MachineModel {
                active: machine
                    .active_model_version_id
                    .and_then(|id| labels.get(&id).cloned()),
                previous: previous
                    .get(&machine.id)
                    .map(|id| (*id, labels.get(id).cloned().unwrap_or_default())),
                name: machine.name,
            })
            .collect();
        Ok((machines, next.flatten()))
    }
}

/// The version active on most machines of the profile: what a new version is compared with.
fn most_active(profile: &str, by_version: &HashMap<(String, Option<i64>), i64>) -> Option<i64> {
    by_version
        .iter()
        .filter(|((of, _), _)| of == profile)
        .filter_map(|((_, version), count)| Some(((*version)?, *count)))
        .max_by_key(|(id, count)| (*count, *id))
        .map(|(id, _)| id)
}

/// Metrics of `evaluation`, each beside the active version's, with which is better.
fn comparisons(evaluation: &Evaluation, active: Option<&Evaluation>) -> Vec<MetricComparison> {
    let active_rows: HashMap<String, f64> = active
        .map(|a| {
            metric_values(a)
                .into_iter()
                .map(|(n, v, _)| (n, v))
                .collect()
        })
        .unwrap_or_default();
    metric_values(evaluation)
        .into_iter()
        .map(|(name, value, higher_is_better)| {
            let other = active_rows.get(&name).copied();
            MetricComparison {
                better: other.and_then(|other| {
                    let better = if higher_is_better {
                        value > other
                    } else {
                        value < other
                    };
                    (value != other).then_some(better)
                }),
                active: other.map(metric_value),
                value: metric_value(value),
                name,
            }
        })
        .collect()
}

/// (name, value, whether higher is better) of each headline metric.
fn metric_values(evaluation: &Evaluation) -> Vec<(String, f64, bool)> {
    let mut rows = Vec::new();
    if let Some(c) = &evaluation.classification {
        rows.extend([
            ("F1".to_string(), c.f1, true),
            ("precision".to_string(), c.precision, true),
            ("recall".to_string(), c.recall, true),
            ("ROC AUC".to_string(), c.roc_auc, true),
            ("PR AUC".to_string(), c.pr_auc, true),
        ]);
    }
    if let Some(r) = &evaluation.regression {
        rows.extend([
            ("RMSE".to_string(), r.rmse, false),
            ("MAE".to_string(), r.mae, false),
            ("PHM08 score per 100".to_string(), r.phm08_per_100, false),
        ]);
        if let Some(coverage) = r.interval_coverage {
            rows.push(("90 % interval coverage".to_string(), coverage, true));
        }
    }
    rows
}

fn metric_rows(evaluation: &Evaluation) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = metric_values(evaluation)
        .into_iter()
        .map(|(name, value, _)| (name, metric_value(value)))
        .collect();
    if let Some(c) = &evaluation.classification {
        rows.push(("decision threshold".into(), metric_value(c.threshold)));
        rows.push((
            "rows (failures)".into(),
            format!("{} ({})", c.rows, c.positives),
        ));
    }
    rows.push(("validation".into(), evaluation.scheme.clone()));
    rows.push((
        "per fold".into(),
        evaluation
            .per_fold
            .iter()
            .map(|v| metric_value(*v))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    rows.push((
        "training time".into(),
        format!("{:.1} s", evaluation.training_seconds),
    ));
    rows
}

/// How a version's alarms turned out, in a sentence for its card.
fn outcome_words(outcomes: &Outcomes) -> String {
    let unsettled = outcomes.raised - outcomes.confirmed - outcomes.false_alarms;
    let mut text = format!(
        "Alarms in service: {} raised; {} confirmed by a repair or a replacement, {} false, {} \
         not settled",
        outcomes.raised, outcomes.confirmed, outcomes.false_alarms, unsettled
    );
    if let Some(precision) = outcomes.precision() {
        text.push_str(&format!(
            "; {} of the settled ones were right",
            app::model::percent(precision)
        ));
    }
    if let Some(lead) = outcomes.median_lead_ms() {
        text.push_str(&format!(
            "; median lead time from alarm to repair {}",
            duration(0, lead)
        ));
    }
    text.push('.');
    text
}

/// Three decimals below 10, one above: F1 0.926, RMSE 12.4.
fn metric_value(value: f64) -> String {
    if value.abs() < 10.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_read_with_sensible_precision() {
        assert_eq!(metric_value(0.92601), "0.926");
        assert_eq!(metric_value(12.37), "12.4");
    }
}

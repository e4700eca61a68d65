//! Training runs and the form that starts them.

use serde::{Deserialize, Serialize};

/// Where a training run stands: queued → running → completed, failed or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl RunState {
    /// Every state, in the order a run goes through them.
    pub const ALL: [RunState; 5] = [
        RunState::Queued,
        RunState::Running,
        RunState::Completed,
        RunState::Failed,
        RunState::Cancelled,
    ];

    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }

    /// Whether the run has ended, one way or another.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunState::Completed | RunState::Failed | RunState::Cancelled
        )
    }
}

/// A stored state no `RunState` has.
#[derive(Debug, thiserror::Error)]
#[error("unknown training-run state {0:?}")]
pub struct UnknownRunState(pub String);

impl TryFrom<String> for RunState {
    type Error = UnknownRunState;

    fn try_from(name: String) -> Result<RunState, UnknownRunState> {
        RunState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or(UnknownRunState(name))
    }
}

/// A training run as the pages list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRunSummary {
    pub id: i64,
    pub state: RunState,
    pub stage: Option<String>,
    /// 0–100.
    pub progress: u8,
    /// The machine it trains for, or the profile.
    pub scope: String,
    pub algorithm: String,
    pub target: String,
    pub dataset: Option<String>,
    pub created_at: i64,
    /// Time spent so far or in all, once started.
    pub duration: Option<String>,
    /// The headline metric, such as `F1 0.926` or `RMSE 12.4`.
    pub headline: Option<String>,
    pub error: Option<String>,
    /// `local`, or the Kubernetes Job's name.
    pub runner: Option<String>,
    pub tracking: Tracking,
    /// The model version it registered, such as `ai4i2020 v3`.
    pub model_version: Option<String>,
    /// The admin who started it, when known.
    pub started_by: Option<String>,
    /// The admin who cancelled it, if one did.
    pub cancelled_by: Option<String>,
}

impl TrainingRunSummary {
    pub fn is_finished(&self) -> bool {
        self.state.is_finished()
    }
}

/// Where a run stands in MLflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Tracking {
    /// No MLflow configured.
    Off,
    Pending,
    Tracked {
        run_url: Option<String>,
        experiment_url: Option<String>,
    },
    /// "not tracked", with the reason; tracking is retried.
    Failed(String),
}

/// The `/training` page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRuns {
    pub runs: Vec<TrainingRunSummary>,
    /// Where runs train: `local` or `kubernetes`.
    pub runner: String,
    pub generated_at: i64,
}

/// One run's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRunDetail {
    pub run: TrainingRunSummary,
    pub parameters: Vec<(String, String)>,
    pub metrics: Vec<(String, String)>,
    pub auto_promote: bool,
    pub job_name: Option<String>,
    pub generated_at: i64,
}

/// A stored data set, for choosing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    pub id: i64,
    pub name: String,
    pub profile: String,
    pub rows: i64,
}

/// A column of an uploaded data set, with the role detected for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnPreview {
    pub header: String,
    /// id, timestamp, unit, categorical, input, target, label or ignored.
    pub role: String,
    /// A few values from the file.
    pub samples: String,
}

/// What was detected in an uploaded data set, for the admin to check before training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetPreview {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub rows: i64,
    pub profile: String,
    pub columns: Vec<ColumnPreview>,
    /// The detected target's header.
    pub target: String,
}

/// Everything the `/training/new` form offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingForm {
    pub datasets: Vec<DatasetSummary>,
    /// The chosen data set, when one is.
    pub preview: Option<DatasetPreview>,
    /// Machines of the chosen data set's profile.
    pub machines: MachineChoices,
    /// Machines whose labelled history can be a data set: any.
    pub all_machines: MachineChoices,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
}

/// The machines a form offers to choose from: every one, or, in a fleet too large to list,
/// the first ones by name as suggestions for a name typed in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MachineChoices {
    /// Name and display name, by name.
    pub listed: Vec<(String, String)>,
    /// Whether `listed` holds every machine there is to choose.
    pub complete: bool,
}

/// The roles a column can take, in the order the form offers them.
pub const COLUMN_ROLES: [&str; 8] = [
    "input",
    "categorical",
    "target",
    "label",
    "id",
    "timestamp",
    "unit",
    "ignored",
];

//! Model versions and promotions, for the `/models` page.

use serde::{Deserialize, Serialize};

use super::Chart;

/// One metric of a version next to the active version's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    pub name: String,
    pub value: String,
    /// The same metric of the version active on most machines of the profile.
    pub active: Option<String>,
    /// Whether this version does better (`None`: same version, or not comparable).
    pub better: Option<bool>,
}

/// A registered model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersionView {
    pub id: i64,
    /// `ai4i2020 v3`.
    pub label: String,
    pub algorithm: String,
    pub created_at: i64,
    pub training_run_id: Option<i64>,
    pub metrics: Vec<MetricComparison>,
    /// How many machines it is active on, and the first few of them by name.
    pub active_count: i64,
    pub active_on: Vec<String>,
    pub charts: Vec<Chart>,
    pub mlflow_url: Option<String>,
    /// How its alarms turned out, in words; none before it raised one.
    pub alarm_outcomes: Option<String>,
}

/// A promotion in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionRecord {
    pub machine: String,
    /// The version promoted.
    pub version: String,
    pub by: String,
    pub reason: String,
    pub at: i64,
}

/// A machine, its active version, and the version it had before (to roll back to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineModel {
    pub name: String,
    pub active: Option<String>,
    pub previous: Option<(i64, String)>,
}

/// The versions of one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileModels {
    pub profile: String,
    /// Machines of the profile, and one page of them by name with their versions.
    pub machine_count: i64,
    pub machines: Vec<MachineModel>,
    /// The last name on this page, when more follow.
    pub next: Option<String>,
    /// Newest first.
    pub versions: Vec<ModelVersionView>,
    pub promotions: Vec<PromotionRecord>,
}

/// Which page of a profile's machines `/models` shows (`?profile=&after=`); the other
/// profiles show their first page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachinesPage {
    pub profile: Option<String>,
    pub after: Option<String>,
}

/// The `/models` page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelsOverview {
    pub profiles: Vec<ProfileModels>,
    pub generated_at: i64,
}

//! How urgent a prediction is, by the model's bands: the part of a machine's status a model
//! decides. The app adds the states no model gives (no prediction yet, training under way).

use serde::{Deserialize, Serialize};

/// A prediction's level of risk; serialised as the app's status of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// The model sees no risk worth attention.
    Healthy,
    /// Risk above the model's warning band.
    Warning,
    /// Risk above the model's critical band: act now.
    Critical,
}

impl RiskLevel {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Healthy => "healthy",
            RiskLevel::Warning => "warning",
            RiskLevel::Critical => "critical",
        }
    }
}

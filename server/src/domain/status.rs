//! A model's risk level as the status machines show: the models decide healthy, warning or
//! critical; unknown and training are the app's own.

use app::model::Status;
use ml::RiskLevel;

/// The status a prediction at this level gives its machine.
pub fn status_of(level: RiskLevel) -> Status {
    match level {
        RiskLevel::Healthy => Status::Healthy,
        RiskLevel::Warning => Status::Warning,
        RiskLevel::Critical => Status::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_shows_as_the_status_of_the_same_name() {
        for level in [RiskLevel::Healthy, RiskLevel::Warning, RiskLevel::Critical] {
            assert_eq!(status_of(level).as_str(), level.as_str());
        }
    }
}

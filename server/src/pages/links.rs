//! Links out of icantkube: a training run in MLflow's UI, a machine's Grafana dashboard.

use crate::configuration::TrackingSettings;
use crate::db::training_runs::TrainingRun;

/// The uid of the machine-detail Grafana dashboard (in `kubernetes/`), whose `machine`
/// variable selects the machine.
pub const GRAFANA_MACHINE_DASHBOARD: &str = "icantkube-machine";

/// The run's experiment in MLflow's UI, once tracked.
pub fn mlflow_experiment(tracking: Option<&TrackingSettings>, run: &TrainingRun) -> Option<String> {
    let base = &tracking?.uri;
    Some(format!(
        "{base}/#/experiments/{}",
        run.mlflow_experiment_id.as_ref()?
    ))
}

/// The run in MLflow's UI, once tracked.
pub fn mlflow_run(tracking: Option<&TrackingSettings>, run: &TrainingRun) -> Option<String> {
    Some(format!(
        "{}/runs/{}",
        mlflow_experiment(tracking, run)?,
        run.mlflow_run_id.as_ref()?
    ))
}

/// The machine-detail dashboard with the machine selected.
pub fn grafana_machine(grafana: Option<&str>, machine: &str) -> Option<String> {
    let machine: String = machine
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Some(format!(
        "{}/d/{GRAFANA_MACHINE_DASHBOARD}?var-machine={machine}",
        grafana?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_link_selects_the_machine_and_needs_grafana() {
        assert_eq!(
            grafana_machine(Some("https://grafana.example.com"), "mill-7").as_deref(),
            Some("https://grafana.example.com/d/icantkube-machine?var-machine=mill-7")
        );
        assert_eq!(grafana_machine(None, "mill-7"), None);
    }
}

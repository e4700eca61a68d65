//! The one order of machines by risk, riskiest first, that the fleet page shows and `/metrics`
//! exports its capped per-machine series in: the most urgent status first (critical, warning,
//! training, healthy, unknown), then the highest failure probability, then the least remaining
//! life (unknown values after known ones), then the name, so the order is stable.

use std::cmp::Ordering;

use app::model::Status;

/// What ranks a machine.
#[derive(Debug, Clone, Copy)]
pub struct RiskRank<'a> {
    pub status: Status,
    pub failure_probability: Option<f64>,
    pub remaining_life: Option<f64>,
    pub name: &'a str,
}

/// `Less` when `a` is riskier than `b`.
pub fn riskiest_first(a: &RiskRank, b: &RiskRank) -> Ordering {
    b.status
        .urgency()
        .cmp(&a.status.urgency())
        // Negated, so the highest probability comes first.
        .then_with(|| {
            known_first(
                a.failure_probability.map(|p| -p),
                b.failure_probability.map(|p| -p),
            )
        })
        .then_with(|| known_first(a.remaining_life, b.remaining_life))
        .then_with(|| a.name.cmp(b.name))
}

/// Ascending, with missing values after every known one.
fn known_first(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(
        name: &str,
        status: Status,
        probability: Option<f64>,
        life: Option<f64>,
    ) -> RiskRank<'_> {
        RiskRank {
            status,
            failure_probability: probability,
            remaining_life: life,
            name,
        }
    }

    #[test]
    fn status_comes_before_probability_and_probability_before_remaining_life() {
        let mut ranks = [
            rank("unknown", Status::Unknown, None, None),
            rank("healthy-engine", Status::Healthy, None, Some(30.0)),
            rank("healthy-mill", Status::Healthy, Some(0.2), None),
            rank("training", Status::Training, Some(0.01), None),
            rank("warning", Status::Warning, Some(0.1), None),
            rank("critical-b", Status::Critical, Some(0.9), None),
            rank("critical-a", Status::Critical, Some(0.9), None),
            rank("critical-engine", Status::Critical, None, Some(5.0)),
            rank("healthy-far", Status::Healthy, None, Some(120.0)),
        ];
        ranks.sort_by(riskiest_first);
        let names: Vec<&str> = ranks.iter().map(|r| r.name).collect();
        assert_eq!(
            names,
            [
                "critical-a",
                "critical-b",
                "critical-engine",
                "warning",
                "training",
                "healthy-mill",
                "healthy-engine",
                "healthy-far",
                "unknown",
            ]
        );
    }
}

//! The one order of machines by risk, riskiest first, that the fleet page shows and `/metrics`
//! exports its capped per-machine series in: the most urgent status first (critical, warning,
//! training, healthy, unknown), then the highest failure probability, then the least remaining
//! life (unknown values after known ones), then the name, so the order is stable.
//!
//! The order is one number kept on the machine row (`risk_order`, indexed with the name), so the
//! database sorts and pages the fleet without ranking every machine per view. Rust computes it
//! when a prediction is stored; SQL computes it (`risk_order_sql`) where only the status
//! changes and in the migration that added it. A test holds the two to the same values.

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

/// Remaining life at which the order is halfway between no life left and unknown: it only
/// spreads lives over the part of the order they take, so any positive value works.
const LIFE_SCALE: f64 = 1000.0;

impl RiskRank<'_> {
    /// Smaller is riskier: four units per status, most urgent first; within one, a known
    /// failure probability p at 1 − p, else a known remaining life l in [2, 3), else 3.
    pub fn order(&self) -> f64 {
        let part = match (self.failure_probability, self.remaining_life) {
            (Some(p), _) => 1.0 - p,
            (None, Some(life)) if life > 0.0 => 2.0 + life / (life + LIFE_SCALE),
            (None, Some(_)) => 2.0,
            (None, None) => 3.0,
        };
        4.0 * f64::from(most_urgent() - self.status.urgency()) + part
    }
}

fn most_urgent() -> u8 {
    Status::ALL.iter().map(|s| s.urgency()).max().unwrap_or(0)
}

/// `RiskRank::order` as SQL over the row's `failure_probability` and `remaining_life`, with
/// `status` the SQL operand of the status (a column or a placeholder). A status this binary
/// does not know ranks as unknown, as `Status::parse` reads it.
pub fn risk_order_sql(status: &str) -> String {
    let tiers: String = Status::ALL
        .iter()
        .map(|s| {
            format!(
                " WHEN '{}' THEN {}",
                s.as_str(),
                most_urgent() - s.urgency()
            )
        })
        .collect();
    format!(
        "(4 * (CASE {status}{tiers} ELSE {unknown} END) + CASE \
         WHEN failure_probability IS NOT NULL THEN 1 - failure_probability \
         WHEN remaining_life > 0 THEN 2 + remaining_life / (remaining_life + {LIFE_SCALE:.1}) \
         WHEN remaining_life IS NOT NULL THEN 2 ELSE 3 END)",
        unknown = most_urgent() - Status::Unknown.urgency(),
    )
}

/// `Less` when `a` is riskier than `b`.
pub fn riskiest_first(a: &RiskRank, b: &RiskRank) -> Ordering {
    a.order()
        .total_cmp(&b.order())
        .then_with(|| a.name.cmp(b.name))
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

//! A sensor's limits under a model: the values at which the machine's status would change if
//! that sensor alone moved, everything else as it is now. Found by sweeping the sensor across
//! a range and refining each change by bisection, so they hold for any model (a forest's
//! prediction is a step function, not a formula to solve).

use super::risk::RiskLevel;

/// Points the range is first scored at.
const SWEEP_STEPS: usize = 48;
/// Bisection rounds per change found: the range's 48th halved 8 times, about 1/12,000 of it.
const REFINE_ROUNDS: usize = 8;

/// A value where the machine's status changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: f64,
    /// The status on the worse side (warning or critical).
    pub status: RiskLevel,
    /// Whether the status is reached above the value (else below it).
    pub worse_above: bool,
}

/// A status and where it starts, as a model's bands give it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub status: RiskLevel,
    pub starts_at: f64,
    /// Whether higher predictions are worse (a probability) or lower ones (remaining life).
    pub higher_is_worse: bool,
}

impl Band {
    fn reached(&self, prediction: f64) -> bool {
        if self.higher_is_worse {
            prediction >= self.starts_at
        } else {
            prediction <= self.starts_at
        }
    }
}

/// For each band, the nearest change above and below `current` within `low..=high`, with
/// `predict` giving the model's prediction for a value of the sensor.
pub fn limits(
    low: f64,
    high: f64,
    current: f64,
    bands: &[Band],
    mut predict: impl FnMut(f64) -> f64,
) -> Vec<Limit> {
    if !(low.is_finite() && high.is_finite() && high > low) {
        return Vec::new();
    }
    let at = |i: usize| low + (high - low) * i as f64 / SWEEP_STEPS as f64;
    let sweep: Vec<f64> = (0..=SWEEP_STEPS).map(|i| predict(at(i))).collect();
    let mut found = Vec::new();
    for band in bands {
        let mut above: Option<Limit> = None;
        let mut below: Option<Limit> = None;
        for i in 0..SWEEP_STEPS {
            let (left, right) = (band.reached(sweep[i]), band.reached(sweep[i + 1]));
            if left == right {
                continue;
            }
            let value = refine(at(i), at(i + 1), left, |v| band.reached(predict(v)));
            let limit = Limit {
                value,
                status: band.status,
                worse_above: right,
            };
            if value >= current {
                if above.is_none_or(|a| value < a.value) {
                    above = Some(limit);
                }
            } else if below.is_none_or(|b| value > b.value) {
                below = Some(limit);
            }
        }
        found.extend(below);
        found.extend(above);
    }
    found
}

/// The point between `low` (where `reached` is `at_low`) and `high` where it flips.
fn refine(mut low: f64, mut high: f64, at_low: bool, mut reached: impl FnMut(f64) -> bool) -> f64 {
    for _ in 0..REFINE_ROUNDS {
        let middle = (low + high) / 2.0;
        if reached(middle) == at_low {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probability_bands() -> [Band; 2] {
        [
            Band {
                status: RiskLevel::Warning,
                starts_at: 0.4,
                higher_is_worse: true,
            },
            Band {
                status: RiskLevel::Critical,
                starts_at: 0.8,
                higher_is_worse: true,
            },
        ]
    }

    #[test]
    fn a_rising_risk_has_a_limit_above_per_band() {
        let found = limits(0.0, 100.0, 20.0, &probability_bands(), |v| v / 100.0);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].status, RiskLevel::Warning);
        assert!((found[0].value - 40.0).abs() < 0.1, "{found:?}");
        assert!(found[0].worse_above);
        assert_eq!(found[1].status, RiskLevel::Critical);
        assert!((found[1].value - 80.0).abs() < 0.1, "{found:?}");
    }

    #[test]
    fn a_risk_that_falls_with_the_value_has_limits_below() {
        // Like heat dissipation failures: risky when the speed drops under 1380 rpm.
        let found = limits(1200.0, 1700.0, 1500.0, &probability_bands(), |v| {
            if v < 1380.0 {
                0.9
            } else {
                0.05
            }
        });
        assert_eq!(found.len(), 2, "{found:?}");
        for limit in &found {
            assert!((limit.value - 1380.0).abs() < 0.5, "{found:?}");
            assert!(!limit.worse_above);
        }
    }

    #[test]
    fn remaining_life_bands_are_reached_downwards_and_the_nearest_change_each_side_is_kept() {
        let bands = [Band {
            status: RiskLevel::Critical,
            starts_at: 20.0,
            higher_is_worse: false,
        }];
        // Life is short far from 50 on either side, but long again below 10: the change at
        // 10 is farther from 50 than the one at 23.3.
        let life = |v: f64| {
            if v < 10.0 {
                100.0
            } else {
                100.0 - (v - 50.0).abs() * 3.0
            }
        };
        let found = limits(0.0, 100.0, 50.0, &bands, life);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!((found[0].value - 23.33).abs() < 0.2, "{found:?}");
        assert!(!found[0].worse_above);
        assert!((found[1].value - 76.67).abs() < 0.2, "{found:?}");
        assert!(found[1].worse_above);
    }

    #[test]
    fn a_sensor_the_model_ignores_has_no_limits_and_bad_ranges_none_either() {
        assert!(limits(0.0, 100.0, 50.0, &probability_bands(), |_| 0.1).is_empty());
        assert!(limits(5.0, 5.0, 5.0, &probability_bands(), |v| v).is_empty());
        assert!(limits(f64::NAN, 5.0, 5.0, &probability_bands(), |v| v).is_empty());
    }
}

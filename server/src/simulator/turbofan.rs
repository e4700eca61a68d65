//! Run-to-failure turbofan engines whose sensors drift as the engine wears out.
//!
//! Each sensor moves from its new-engine level to its end-of-life level along an exponential
//! health curve, with measurement noise on top, like the engines of NASA C-MAPSS FD001 (levels,
//! noise and the spread of engine lives were measured on that data set's training file). When an
//! engine fails it is replaced by a new one.

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::domain::profiles::TURBOFAN_SENSORS;

/// (new-engine mean, end-of-life mean, measurement noise sd), in the order of
/// `TURBOFAN_SENSORS`.
const LEVELS: [(f64, f64, f64); TURBOFAN_SENSORS.len()] = [
    (642.3808, 643.6700, 0.3831),
    (1586.8398, 1602.2891, 4.5828),
    (1402.7583, 1428.9268, 5.9349),
    (553.9506, 551.4948, 0.6234),
    (2388.0584, 2388.2321, 0.0554),
    (9056.0069, 9097.9920, 8.3492),
    (47.3525, 48.1422, 0.1787),
    (521.9099, 519.8092, 0.5072),
    (2388.0557, 2388.2335, 0.0548),
    (8137.3729, 8166.8665, 7.8682),
    (8.4183, 8.5204, 0.0266),
    (392.2605, 396.2400, 1.1466),
    (38.9328, 38.4460, 0.1299),
    (23.3601, 23.0700, 0.0798),
];

/// Engine lives in FD001: mean 206 cycles, sd 46, between 128 and 362.
const LIFE_MEAN: f64 = 206.0;
const LIFE_SD: f64 = 46.0;
const LIFE_RANGE: (f64, f64) = (128.0, 362.0);
/// Curvature of the health curve: most of the drift comes in the last third of a life.
const WEAR_CURVATURE: f64 = 4.0;

/// One cycle of an engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    /// Cycles since this engine was installed, from 1.
    pub cycle: u32,
    /// Cycles left until it fails (0 on its last cycle).
    pub remaining: u32,
    /// Values in the order of the turbofan profile's schema.
    pub values: Vec<f64>,
}

/// An engine slot: runs an engine to failure, then installs a new one.
#[derive(Debug, Clone)]
pub struct Engine {
    life: u32,
    cycle: u32,
}

impl Engine {
    /// A new engine; `worn` starts it part-way through its life (0.0 = new).
    pub fn new(worn: f64, rng: &mut impl Rng) -> Engine {
        let life = draw_life(rng);
        let cycle = (f64::from(life) * worn.clamp(0.0, 0.95)) as u32;
        Engine { life, cycle }
    }

    /// Runs one cycle.
    pub fn next(&mut self, rng: &mut impl Rng) -> Cycle {
        if self.cycle >= self.life {
            self.life = draw_life(rng);
            self.cycle = 0;
        }
        self.cycle += 1;
        let worn = f64::from(self.cycle) / f64::from(self.life);
        let health_loss = (WEAR_CURVATURE * worn).exp_m1() / WEAR_CURVATURE.exp_m1();
        let values = LEVELS
            .iter()
            .map(|&(new, end, noise)| {
                let level = new + (end - new) * health_loss;
                level + Normal::new(0.0, noise).expect("finite noise").sample(rng)
            })
            .collect();
        Cycle {
            cycle: self.cycle,
            remaining: self.life - self.cycle,
            values,
        }
    }
}

fn draw_life(rng: &mut impl Rng) -> u32 {
    let life = Normal::new(LIFE_MEAN, LIFE_SD)
        .expect("finite")
        .sample(rng)
        .clamp(LIFE_RANGE.0, LIFE_RANGE.1);
    life.round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn an_engine_counts_down_to_failure_then_is_replaced() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut engine = Engine::new(0.0, &mut rng);
        let first = engine.next(&mut rng);
        assert_eq!(first.cycle, 1);
        let life = first.cycle + first.remaining;
        assert!((128..=362).contains(&life));
        let mut last = first;
        while last.remaining > 0 {
            let next = engine.next(&mut rng);
            assert_eq!(next.remaining, last.remaining - 1);
            last = next;
        }
        assert_eq!(engine.next(&mut rng).cycle, 1);
    }

    #[test]
    fn sensors_drift_from_new_engine_levels_to_end_of_life_levels() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut engine = Engine::new(0.0, &mut rng);
        let cycles: Vec<Cycle> = std::iter::from_fn(|| Some(engine.next(&mut rng)))
            .take(400)
            .collect();
        let life = (cycles[0].cycle + cycles[0].remaining) as usize;
        let mean_of = |range: std::ops::Range<usize>, sensor: usize| {
            let slice = &cycles[range];
            slice.iter().map(|c| c.values[sensor]).sum::<f64>() / slice.len() as f64
        };
        for (sensor, &(new, end, _)) in LEVELS.iter().enumerate() {
            let early = mean_of(0..20, sensor);
            let late = mean_of(life - 5..life, sensor);
            // The drift is in the direction and near the size the data set shows.
            let drift = late - early;
            assert!(
                drift.signum() == (end - new).signum()
                    && (drift - (end - new)).abs() < 0.6 * (end - new).abs(),
                "sensor {sensor}: drift {drift}, expected about {}",
                end - new
            );
        }
    }
}

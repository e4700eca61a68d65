//! The AI4I 2020 milling process, as its data set's description publishes it.
//!
//! Where the description leaves a relation open, the parameters are fitted to the published
//! data set's statistics (see `../shared/data/README.md`):
//! - the process temperature follows the air temperature partly (slope 0.649) plus a walk of
//!   its own (sd 0.71 K), which gives the data's spreads: 1.48 K for the process temperature and
//!   1.0 K for the process–air difference (a fully independent walk would give 2.2 K);
//! - the rotational speed falls with torque as 412.5 + 6930/√torque rpm plus N(0, 55.5 rpm), which
//!   reproduces the speed's mean (1539 rpm), spread (178 rpm) and its −0.88 correlation with torque.

use rand::Rng;
use rand_distr::{Distribution, Normal};

pub use crate::domain::profiles::Variant;

/// The five failure modes of AI4I 2020.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modes {
    /// Tool wear failure.
    pub twf: bool,
    /// Heat dissipation failure.
    pub hdf: bool,
    /// Power failure.
    pub pwf: bool,
    /// Overstrain failure.
    pub osf: bool,
    /// Random failure.
    pub rnf: bool,
}

impl Modes {
    pub fn any(self) -> bool {
        self.twf || self.hdf || self.pwf || self.osf || self.rnf
    }

    /// The first mode that fired, by its data-set name, for the reading's label.
    pub fn name(self) -> Option<&'static str> {
        [
            (self.hdf, "HDF"),
            (self.pwf, "PWF"),
            (self.osf, "OSF"),
            (self.twf, "TWF"),
            (self.rnf, "RNF"),
        ]
        .into_iter()
        .find_map(|(fired, name)| fired.then_some(name))
    }
}

/// One milling process: the measurements and what failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Process {
    pub variant: Variant,
    pub air_temperature: f64,
    pub process_temperature: f64,
    pub rotational_speed: f64,
    pub torque: f64,
    pub tool_wear: f64,
    pub modes: Modes,
}

impl Process {
    /// Values in the order of the AI4I profile's schema.
    pub fn values(&self) -> Vec<f64> {
        vec![
            self.air_temperature,
            self.process_temperature,
            self.rotational_speed,
            self.torque,
            self.tool_wear,
        ]
    }
}

/// A mean-reverting random walk with a fixed stationary spread.
#[derive(Debug, Clone)]
struct Walk {
    value: f64,
    persistence: f64,
    step: Normal<f64>,
}

impl Walk {
    fn new(spread: f64, persistence: f64, rng: &mut impl Rng) -> Walk {
        let step = Normal::new(0.0, spread * (1.0 - persistence * persistence).sqrt())
            .expect("finite spread");
        let start = Normal::new(0.0, spread).expect("finite spread").sample(rng);
        Walk {
            value: start,
            persistence,
            step,
        }
    }

    fn next(&mut self, rng: &mut impl Rng) -> f64 {
        self.value = self.persistence * self.value + self.step.sample(rng);
        self.value
    }
}

/// A milling machine running process after process.
#[derive(Debug, Clone)]
pub struct MillingMachine {
    /// `None` draws the variant per process, as the data set's production line does.
    variant: Option<Variant>,
    air: Walk,
    process: Walk,
    torque: Normal<f64>,
    speed_noise: Normal<f64>,
    tool_wear: f64,
    /// Wear at which the current tool is replaced, or fails.
    tool_end: f64,
}

/// Persistence of the temperature walks per process: a correlation time of 50 processes.
const WALK_PERSISTENCE: f64 = 0.98;
/// Share of tools that fail (rather than being replaced) when their end of life comes:
/// 51 failures in 120 tool ends, per the data set's description.
const TOOL_FAILURE_SHARE: f64 = 51.0 / 120.0;
/// Chance of a random failure per process.
const RANDOM_FAILURE_RATE: f64 = 0.001;

impl MillingMachine {
    pub fn new(variant: Option<Variant>, rng: &mut impl Rng) -> MillingMachine {
        let tool_end: f64 = rng.random_range(200.0..=240.0);
        MillingMachine {
            variant,
            air: Walk::new(2.0, WALK_PERSISTENCE, rng),
            process: Walk::new(0.71, WALK_PERSISTENCE, rng),
            torque: Normal::new(40.0, 10.0).expect("finite"),
            speed_noise: Normal::new(0.0, 55.5).expect("finite"),
            // A machine joins the fleet somewhere in its tool's life.
            tool_wear: rng.random_range(0.0..tool_end).floor(),
            tool_end,
        }
    }

    pub fn variant(&self) -> Option<Variant> {
        self.variant
    }

    /// Runs one process.
    pub fn next(&mut self, rng: &mut impl Rng) -> Process {
        let variant = self.variant.unwrap_or_else(|| Variant::draw(rng));
        let air_deviation = self.air.next(rng);
        let air_temperature = round_to(300.0 + air_deviation, 0.1);
        let process_temperature =
            round_to(310.0 + 0.649 * air_deviation + self.process.next(rng), 0.1);
        let torque = round_to(self.torque.sample(rng).max(3.0), 0.1);
        let rotational_speed =
            (412.5 + 6930.0 / torque.sqrt() + self.speed_noise.sample(rng)).round();
        self.tool_wear += variant.wear_per_process();
        let tool_wear = self.tool_wear;

        let power = torque * rotational_speed * std::f64::consts::TAU / 60.0;
        let tool_end_reached = tool_wear >= self.tool_end;
        let modes = Modes {
            twf: tool_end_reached && rng.random_bool(TOOL_FAILURE_SHARE),
            hdf: process_temperature - air_temperature < 8.6 && rotational_speed < 1380.0,
            pwf: !(3500.0..=9000.0).contains(&power),
            osf: tool_wear * torque > variant.overstrain_limit(),
            rnf: rng.random_bool(RANDOM_FAILURE_RATE),
        };
        if tool_end_reached {
            self.tool_wear = 0.0;
            self.tool_end = rng.random_range(200.0..=240.0);
        }
        Process {
            variant,
            air_temperature,
            process_temperature,
            rotational_speed,
            torque,
            tool_wear,
            modes,
        }
    }
}

fn round_to(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn published_failure_rules_fire_exactly_on_their_conditions() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut machine = MillingMachine::new(Some(Variant::Low), &mut rng);
        for _ in 0..20_000 {
            let p = machine.next(&mut rng);
            let power = p.torque * p.rotational_speed * std::f64::consts::TAU / 60.0;
            assert_eq!(
                p.modes.hdf,
                p.process_temperature - p.air_temperature < 8.6 && p.rotational_speed < 1380.0
            );
            assert_eq!(p.modes.pwf, !(3500.0..=9000.0).contains(&power));
            assert_eq!(p.modes.osf, p.tool_wear * p.torque > 11_000.0);
            assert!(p.torque >= 3.0 && p.tool_wear < 245.0);
        }
    }

    #[test]
    fn tool_wear_grows_by_the_variant_step_and_resets_at_the_end_of_a_tool() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut machine = MillingMachine::new(Some(Variant::High), &mut rng);
        let mut previous = machine.next(&mut rng).tool_wear;
        let mut resets = 0;
        for _ in 0..1000 {
            let wear = machine.next(&mut rng).tool_wear;
            if wear < previous {
                resets += 1;
                assert_eq!(wear, 5.0);
            } else {
                assert_eq!(wear - previous, 5.0);
            }
            previous = wear;
        }
        assert!(resets >= 15, "{resets} tool changes in 1000 processes");
    }

    #[test]
    fn the_same_seed_gives_the_same_processes() {
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut machine = MillingMachine::new(None, &mut rng);
            (0..50).map(|_| machine.next(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}

//! The simulator follows the AI4I 2020 generating process closely enough that 10,000 simulated
//! processes match the real data set's statistics.
//!
//! Tolerances: each sensor's mean within 0.2 of the real spread; each spread within 15 %; each
//! failure-mode rate and variant share within 4 standard errors of the difference of two
//! proportions (both samples' sampling error counted). Three seeds must all pass, so a lucky
//! seed cannot hide a wrong model.

use std::path::PathBuf;

use icantkube::simulator::ai4i::{MillingMachine, Process, Variant};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::support::data::shared;

const PROCESSES: usize = 10_000;

/// What the comparison needs of a set of processes.
struct Summary {
    count: usize,
    sensors: [Vec<f64>; 5],
    /// failure, TWF, HDF, PWF, OSF, RNF, and the L / M / H shares.
    flags: [usize; 9],
}

const SENSOR_NAMES: [&str; 5] = [
    "air temperature",
    "process temperature",
    "rotational speed",
    "torque",
    "tool wear",
];
const FLAG_NAMES: [&str; 9] = [
    "failure", "TWF", "HDF", "PWF", "OSF", "RNF", "type L", "type M", "type H",
];

impl Summary {
    fn new() -> Summary {
        Summary {
            count: 0,
            sensors: Default::default(),
            flags: [0; 9],
        }
    }

    fn add(&mut self, values: [f64; 5], flags: [bool; 6], variant: Variant) {
        self.count += 1;
        for (column, value) in self.sensors.iter_mut().zip(values) {
            column.push(value);
        }
        let variant_flags = [
            variant == Variant::Low,
            variant == Variant::Medium,
            variant == Variant::High,
        ];
        for (count, flag) in self
            .flags
            .iter_mut()
            .zip(flags.into_iter().chain(variant_flags))
        {
            *count += usize::from(flag);
        }
    }

    fn add_process(&mut self, p: &Process) {
        let m = p.modes;
        self.add(
            [
                p.air_temperature,
                p.process_temperature,
                p.rotational_speed,
                p.torque,
                p.tool_wear,
            ],
            [m.any(), m.twf, m.hdf, m.pwf, m.osf, m.rnf],
            p.variant,
        );
    }
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

fn read_real(path: &PathBuf) -> Summary {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let sensors = [
        "Air temperature [K]",
        "Process temperature [K]",
        "Rotational speed [rpm]",
        "Torque [Nm]",
        "Tool wear [min]",
    ]
    .map(column);
    let flags = ["Machine failure", "TWF", "HDF", "PWF", "OSF", "RNF"].map(column);
    let variant = column("Type");
    let mut summary = Summary::new();
    for record in reader.records() {
        let record = record.unwrap();
        let values = sensors.map(|i| record[i].parse::<f64>().unwrap());
        let flags = flags.map(|i| &record[i] == "1");
        let variant = Variant::from_letter(&record[variant]).unwrap();
        summary.add(values, flags, variant);
    }
    summary
}

fn compare(real: &Summary, simulated: &Summary) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, name) in SENSOR_NAMES.iter().enumerate() {
        let (real_mean, real_sd) = mean_sd(&real.sensors[index]);
        let (sim_mean, sim_sd) = mean_sd(&simulated.sensors[index]);
        if (sim_mean - real_mean).abs() > 0.2 * real_sd {
            problems.push(format!(
                "{name}: mean {sim_mean:.2}, real {real_mean:.2} (allowed ±{:.2})",
                0.2 * real_sd
            ));
        }
        if !(0.85..=1.15).contains(&(sim_sd / real_sd)) {
            problems.push(format!(
                "{name}: spread {sim_sd:.2}, real {real_sd:.2} (allowed ±15 %)"
            ));
        }
    }
    for (index, name) in FLAG_NAMES.iter().enumerate() {
        let p_real = real.flags[index] as f64 / real.count as f64;
        let p_sim = simulated.flags[index] as f64 / simulated.count as f64;
        let se = (p_real * (1.0 - p_real) / real.count as f64
            + p_sim * (1.0 - p_sim) / simulated.count as f64)
            .sqrt();
        if (p_sim - p_real).abs() > 4.0 * se {
            problems.push(format!(
                "{name}: rate {:.3} %, real {:.3} % (allowed ±{:.3} %)",
                p_sim * 100.0,
                p_real * 100.0,
                400.0 * se
            ));
        }
    }
    problems
}

#[test]
fn ten_thousand_simulated_processes_match_the_real_data_sets_statistics() {
    let Some(path) = shared("ai4i2020-dev.csv") else {
        return;
    };
    let real = read_real(&path);
    assert_eq!(real.count, 8000, "the dev split has 8,000 rows");
    for seed in 1..=3 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut line = MillingMachine::new(None, &mut rng);
        let mut simulated = Summary::new();
        for _ in 0..PROCESSES {
            simulated.add_process(&line.next(&mut rng));
        }
        let problems = compare(&real, &simulated);
        for (index, name) in SENSOR_NAMES.iter().enumerate() {
            let (m, s) = mean_sd(&simulated.sensors[index]);
            let (rm, rs) = mean_sd(&real.sensors[index]);
            eprintln!(
                "seed {seed} {name:>20}: mean {m:9.2} (real {rm:9.2}), sd {s:7.2} (real {rs:7.2})"
            );
        }
        for (index, name) in FLAG_NAMES.iter().enumerate() {
            eprintln!(
                "seed {seed} {name:>20}: {:6.3} % (real {:6.3} %)",
                100.0 * simulated.flags[index] as f64 / PROCESSES as f64,
                100.0 * real.flags[index] as f64 / real.count as f64
            );
        }
        assert!(problems.is_empty(), "seed {seed}: {}", problems.join("; "));
    }
}

//! Data sets for tests: simulated ones made on the spot, and the real reference data in
//! `../shared/data`, which a test skips, saying `SKIPPED`, when it is absent.

use std::path::{Path, PathBuf};

use icantkube::simulator::demo::{simulated_engines_csv, simulated_milling_csv};
use ml::{Dataset, LoadOptions};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A file of the shared reference data (`ai4i2020-dev.csv`, `cmapss/train_FD001.txt`), or
/// `None` after printing `SKIPPED` when the folder is absent.
pub fn shared(path: &str) -> Option<PathBuf> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(path);
    if file.exists() {
        Some(file)
    } else {
        println!(
            "SKIPPED: {} not found (../shared is absent)",
            file.display()
        );
        None
    }
}

/// Simulated AI4I 2020 milling processes as a CSV: `machines` × `rows` rows.
pub fn milling_csv(seed: u64, machines: usize, rows: usize) -> String {
    simulated_milling_csv(&mut StdRng::seed_from_u64(seed), machines, rows).unwrap()
}

/// Simulated run-to-failure engines as a CSV.
pub fn engines_csv(seed: u64, engines: usize) -> String {
    simulated_engines_csv(&mut StdRng::seed_from_u64(seed), engines).unwrap()
}

/// A CSV loaded with detected roles, as an upload would be.
pub fn dataset(csv: &str) -> Dataset {
    Dataset::load(csv.as_bytes(), &LoadOptions::default()).unwrap()
}

//! The JSON reading-batch decoder on any body a machine could post, against both built-in
//! profiles (AI4I's sensors have declared ranges, the turbofan's have none): every body must
//! come back as readings or a refusal, never a panic, an abort or a hang.

#![no_main]

use std::sync::LazyLock;

use icantkube::domain::profiles::Profile;
use icantkube::domain::{parse_json_batch, SensorSchema};
use libfuzzer_sys::fuzz_target;

/// The server's clock, fixed so a crash replays: 2026-11-30.
const NOW_MS: i64 = 1_796_000_000_000;
/// Small, so a fuzzed body reaches the batch limit.
const MAX_READINGS: usize = 64;

static SCHEMAS: LazyLock<Vec<SensorSchema>> =
    LazyLock::new(|| Profile::ALL.iter().map(|p| p.schema()).collect());

fuzz_target!(|body: &[u8]| {
    for schema in SCHEMAS.iter() {
        let _ = parse_json_batch(body, schema, NOW_MS, MAX_READINGS);
    }
});

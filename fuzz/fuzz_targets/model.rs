//! The model-file reader on any bytes a stored model version or a file on the command line
//! could hold: every file must load or be refused, never panic, abort or hang. A model that
//! loads then scores a reading the way live inference does (raw inputs, the recipe's derived
//! inputs and window, prediction and drivers), so a file whose parts disagree cannot take the
//! ingest path down. Reading the card alone (`Model::card_from_bytes`, for pages) is the
//! first step of this.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ml::Model;

fuzz_target!(|bytes: &[u8]| {
    let Ok(model) = Model::from_bytes(bytes) else {
        return;
    };
    // Varied but plausible raw values, as a machine's binding would give them.
    let raw: Vec<f64> = (0..model.card.recipe.inputs.len())
        .map(|i| 1.0 + i as f64 * 37.5)
        .collect();
    let recipe = model.recipe();
    let row = recipe.row_values(&raw);
    let series = recipe.window().map(|_| {
        let mut series = recipe.new_series();
        series.push(row.clone());
        series.push(row.clone());
        series
    });
    let features = model.features(&row, series.as_ref());
    let _ = model.predict(&features);
    let _ = model.drivers(&features, 3);
});

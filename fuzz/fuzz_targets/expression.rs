//! The recipe expression parser on any text an admin could write after `--derive NAME=` or in
//! the training form, against the AI4I columns: every text must parse or be refused, and a
//! parsed expression must evaluate on a row (to any number, NaN included), never panic,
//! abort or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ml::expression::Expression;

const COLUMNS: [&str; 6] = [
    "type",
    "air_temperature",
    "process_temperature",
    "rotational_speed",
    "torque",
    "tool_wear",
];

/// A typical reading, and one of zeros and extremes where the arithmetic breaks.
const ROWS: [[f64; 6]; 2] = [
    [1.0, 298.1, 308.6, 1551.0, 42.8, 108.0],
    [0.0, 0.0, -1e12, 1e12, f64::MIN_POSITIVE, -0.0],
];

fuzz_target!(|bytes: &[u8]| {
    let Ok(source) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(expression) = Expression::parse(source, &COLUMNS) {
        for row in &ROWS {
            let _ = expression.evaluate(row);
        }
    }
});

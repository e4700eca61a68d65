//! Which role each column plays, detected from its name through the built-in profiles and
//! from what the survey learned of its values.

use super::outline::ColumnOutline;
use super::{DatasetProfile, Layout, Role, REMAINING_LIFE};

/// A text column with more distinct values than this is an identifier, not a category.
pub(super) const CATEGORY_LEVELS: usize = 20;
/// A numeric input with at most this many distinct values is flat (see [`assign_roles`]).
pub(super) const FLAT_LEVELS: usize = 2;

const AI4I_INPUTS: [&str; 5] = [
    "air_temperature",
    "process_temperature",
    "rotational_speed",
    "torque",
    "tool_wear",
];
/// The AI4I failure-mode flags, in the data set's order.
pub const AI4I_MODES: [&str; 5] = ["twf", "hdf", "pwf", "osf", "rnf"];
const UNIT_NAMES: [&str; 5] = ["unit", "unit_number", "engine", "engine_id", "unit_id"];
const TIME_NAMES: [&str; 5] = ["cycle", "cycles", "time", "time_cycles", "timestamp"];

fn has(columns: &[ColumnOutline], name: &str) -> bool {
    columns.iter().any(|c| c.name == name)
}

pub(super) fn detect_profile(columns: &[ColumnOutline], layout: Layout) -> DatasetProfile {
    if layout == Layout::Cmapss {
        return DatasetProfile::RunToFailure;
    }
    if AI4I_INPUTS.iter().all(|n| has(columns, n)) && has(columns, "machine_failure") {
        return DatasetProfile::Ai4i2020;
    }
    let has_unit = UNIT_NAMES.iter().any(|n| has(columns, n));
    let has_time = TIME_NAMES.iter().any(|n| has(columns, n));
    if has_unit && has_time {
        DatasetProfile::RunToFailure
    } else {
        DatasetProfile::Generic
    }
}

pub(super) fn assign_roles(columns: &mut [ColumnOutline], profile: DatasetProfile) {
    let last = columns.len() - 1;
    for (index, column) in columns.iter_mut().enumerate() {
        let name = column.name.as_str();
        column.role = match profile {
            DatasetProfile::Ai4i2020 => match name {
                "udi" | "product_id" => Role::Id,
                "type" => Role::Categorical,
                "machine_failure" => Role::Target,
                n if AI4I_MODES.contains(&n) => Role::Label,
                n if AI4I_INPUTS.contains(&n) => Role::Input,
                _ => Role::Ignored,
            },
            DatasetProfile::RunToFailure => match name {
                n if UNIT_NAMES.contains(&n) => Role::Unit,
                n if TIME_NAMES.contains(&n) => Role::Timestamp,
                "rul" | REMAINING_LIFE => Role::Target,
                _ => numeric_or_categorical(column),
            },
            DatasetProfile::Generic => match name {
                "id" | "uid" | "udi" => Role::Id,
                "timestamp" | "time" | "date" => Role::Timestamp,
                _ if index == last => Role::Target,
                _ => numeric_or_categorical(column),
            },
        };
    }
    if profile == DatasetProfile::RunToFailure {
        // Several unit- or time-like names: only the first of each is used.
        for role in [Role::Unit, Role::Timestamp] {
            let mut first = true;
            for column in columns.iter_mut().filter(|c| c.role == role) {
                if !first {
                    column.role = Role::Ignored;
                }
                first = false;
            }
        }
    }
    // A column that never changes carries no information (seven C-MAPSS sensors in FD001); in
    // a series, one that only flips between two adjacent readings is flat but for rounding.
    let most_levels_of_a_flat_column = if profile == DatasetProfile::RunToFailure {
        FLAT_LEVELS
    } else {
        1
    };
    for column in columns.iter_mut().filter(|c| c.role == Role::Input) {
        if column.levels <= most_levels_of_a_flat_column {
            column.role = Role::Ignored;
        }
    }
}

fn numeric_or_categorical(column: &ColumnOutline) -> Role {
    if column.numeric {
        Role::Input
    } else if column.levels <= CATEGORY_LEVELS {
        Role::Categorical
    } else {
        Role::Id
    }
}

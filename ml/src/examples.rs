//! Turns a data set into model features through a recipe: the rows of a file become rows of
//! features, series go unit by unit in time order through the same [`SeriesState`] that live
//! inference restores.

use std::collections::HashMap;

use super::dataset::{Dataset, DatasetError, Role, Values, AI4I_MODES};
use super::estimator::Matrix;
use super::recipe::{CompiledRecipe, InputKind, Recipe};

/// Features of a data set's rows, in series order, with what evaluation needs to know.
#[derive(Debug, Clone)]
pub struct Examples {
    pub x: Matrix,
    /// For each feature row, the data set row it came from.
    pub source_rows: Vec<usize>,
    /// For each feature row, its unit's index (series only).
    pub units: Option<Vec<usize>>,
    /// For each feature row, its position in the unit (1-based) and the unit's row count.
    pub positions: Option<Vec<(usize, usize)>>,
}

/// Reads the recipe's raw inputs from a data set: numeric columns as they are, categorical
/// ones as the position of their level.
pub fn raw_rows(dataset: &Dataset, recipe: &Recipe) -> Result<Vec<Vec<f64>>, DatasetError> {
    let mut columns = Vec::with_capacity(recipe.inputs.len());
    for input in &recipe.inputs {
        let index = dataset.find(&input.name).ok_or_else(|| DatasetError {
            line: None,
            column: Some(input.name.clone()),
            message: "the model needs this column and the data set lacks it".into(),
        })?;
        columns.push((&dataset.columns[index], &input.kind));
    }
    let mut rows = vec![Vec::with_capacity(columns.len()); dataset.rows];
    for (column, kind) in columns {
        for (row, out) in rows.iter_mut().enumerate() {
            let value = match (kind, &column.values) {
                (InputKind::Numeric, Values::Numeric(v)) => v[row],
                (InputKind::Numeric, Values::Text(v)) => {
                    return Err(DatasetError {
                        line: Some(row + 2),
                        column: Some(column.header.clone()),
                        message: format!("{:?} is not a number", v[row]),
                    })
                }
                (InputKind::Categorical { levels }, values) => {
                    let text = values.text(row);
                    levels
                        .iter()
                        .position(|l| *l == text)
                        .ok_or_else(|| DatasetError {
                            line: Some(row + 2),
                            column: Some(column.header.clone()),
                            message: format!(
                                "level {text:?} is unknown to the model (it knows {})",
                                levels.join(", ")
                            ),
                        })? as f64
                }
            };
            out.push(value);
        }
    }
    Ok(rows)
}

/// The features of every row.
pub fn build(dataset: &Dataset, recipe: &CompiledRecipe) -> Result<Examples, DatasetError> {
    let raw = raw_rows(dataset, recipe.recipe())?;
    let mut x = Matrix::with_cols(recipe.feature_names().len());
    // One feature row per data set row: room for all of them, without the spare capacity
    // that growing by doubling leaves for the whole of training.
    x.values.reserve_exact(dataset.rows * x.cols);
    if recipe.window().is_none() {
        for row in &raw {
            x.push(&recipe.row_values(row));
        }
        return Ok(Examples {
            x,
            source_rows: (0..dataset.rows).collect(),
            units: None,
            positions: None,
        });
    }
    let series = series_order(dataset);
    let mut source_rows = Vec::with_capacity(dataset.rows);
    let mut units = Vec::with_capacity(dataset.rows);
    let mut positions = Vec::with_capacity(dataset.rows);
    for (unit, rows) in series.iter().enumerate() {
        let mut state = recipe.new_series();
        for (position, &row) in rows.iter().enumerate() {
            let values = recipe.row_values(&raw[row]);
            state.push(values.clone());
            x.push(&recipe.features(&values, Some(&state)));
            source_rows.push(row);
            units.push(unit);
            positions.push((position + 1, rows.len()));
        }
    }
    Ok(Examples {
        x,
        source_rows,
        units: Some(units),
        positions: Some(positions),
    })
}

/// The rows of each unit in time order (units in order of first appearance); one series in
/// file order when the data set has no unit column.
fn series_order(dataset: &Dataset) -> Vec<Vec<usize>> {
    let Some(unit) = dataset.unit() else {
        return vec![(0..dataset.rows).collect()];
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<Vec<usize>> = Vec::new();
    for row in 0..dataset.rows {
        let key = unit.values.text(row);
        let next = series.len();
        let position = *index.entry(key).or_insert(next);
        if position == series.len() {
            series.push(Vec::new());
        }
        series[position].push(row);
    }
    if let Some(Values::Numeric(times)) = dataset.timestamp().map(|c| &c.values) {
        for rows in &mut series {
            rows.sort_by(|a, b| times[*a].total_cmp(&times[*b]));
        }
    }
    series
}

/// For each data set row, the index of its failure mode in `modes` (the first flag set), when
/// the data set has mode labels.
pub fn mode_labels(dataset: &Dataset) -> Option<(Vec<String>, Vec<Option<usize>>)> {
    let flags: Vec<(&str, &[f64])> = AI4I_MODES
        .iter()
        .filter_map(|mode| {
            let column = &dataset.columns[dataset.find(mode)?];
            (column.role == Role::Label)
                .then(|| column.values.as_numeric().map(|v| (*mode, v)))
                .flatten()
        })
        .collect();
    if flags.is_empty() {
        return None;
    }
    let labels = (0..dataset.rows)
        .map(|row| flags.iter().position(|(_, values)| values[row] >= 0.5))
        .collect();
    Some((
        flags.iter().map(|(name, _)| name.to_uppercase()).collect(),
        labels,
    ))
}

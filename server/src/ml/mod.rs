//! Failure models: feature recipes, training, evaluation and prediction (issue 3, in progress).

pub mod expression;

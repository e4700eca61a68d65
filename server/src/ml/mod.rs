//! Failure models: data sets with column roles, feature recipes, smartcore estimators,
//! cross-validated evaluation, the model artifact, and prediction.

pub mod dataset;
pub mod estimator;
pub mod evaluation;
pub mod examples;
pub mod expression;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod recipe;
pub mod training;

pub use dataset::{Dataset, DatasetError, LoadOptions};
pub use estimator::{Algorithm, Hyperparameters};
pub use model::{Model, ModelError, Prediction, Task};
pub use training::{train, TrainError, TrainOptions};

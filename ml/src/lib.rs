//! icantkube's failure models: data sets with column roles, feature recipes, estimators
//! (smartcore's forest and linear models, hessboost's gradient boosting), cross-validated
//! evaluation, calibration, the model file, and prediction. Pure computation on
//! values: no web framework, database or app types, so the server, the CLI and benchmarks
//! share it, and it alone is compiled optimised in dev builds.

pub mod calibration;
pub mod dataset;
pub mod estimator;
pub mod evaluation;
pub mod examples;
pub mod expression;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod recipe;
pub mod risk;
pub mod training;

pub use dataset::{Dataset, DatasetError, LoadOptions};
pub use estimator::{Algorithm, Hyperparameters};
pub use model::{Model, ModelError, Prediction, Task};
pub use risk::RiskLevel;
pub use training::{train, TrainError, TrainOptions};

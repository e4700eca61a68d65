//! Small failure models trained quickly on simulated data, for tests that need one.

use ml::{Algorithm, Dataset, Hyperparameters, Model, TrainOptions};

/// Training options with `trees` trees and 3 folds: quick, still a real forest.
pub fn quick(trees: usize, classification: bool) -> TrainOptions {
    TrainOptions {
        hyperparameters: Some(Hyperparameters {
            trees,
            ..Hyperparameters::defaults(Algorithm::RandomForest, classification)
        }),
        algorithm: Some(Algorithm::RandomForest),
        folds: 3,
        ..TrainOptions::default()
    }
}

/// A progress callback that ignores progress.
pub fn no_progress() -> impl FnMut(&str, u8) {
    |_: &str, _: u8| {}
}

/// A model trained on a data set with `quick` options.
pub fn trained_on(data: &Dataset, trees: usize, classification: bool) -> Model {
    ml::train(data, &quick(trees, classification), &mut no_progress()).unwrap()
}

/// A model trained on a CSV with `quick` options.
pub fn train(csv: &str, trees: usize, classification: bool) -> Model {
    trained_on(&super::data::dataset(csv), trees, classification)
}

/// Registers the model straight in the database (what a training run does), with `artifact`
/// as its file; answers the version id.
pub async fn register_in(
    db: &icantkube::db::Database,
    profile: &str,
    model: &Model,
    artifact: Vec<u8>,
) -> i64 {
    icantkube::db::model_versions::insert(
        db.pool(),
        icantkube::db::model_versions::NewModelVersion {
            profile,
            machine_id: None,
            training_run_id: None,
            algorithm: model.card.algorithm.name(),
            metrics: serde_json::to_string(&model.card.evaluation).unwrap(),
            threshold: model.card.threshold,
            artifact,
        },
    )
    .await
    .unwrap()
    .id
}

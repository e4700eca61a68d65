//! Failure models end to end through the library and the `icantkube` binary: training on
//! simulated data, the model file, schema checks, the offline CLI, and a quality smoke test on
//! the reference data in ../shared (skipped, loudly, when it is absent).

use std::collections::BTreeMap;
use std::path::Path;

use icantkube::domain::profiles::Profile;
use ml::examples;
use ml::model::ModelError;
use ml::{self, Dataset, Model, Task};

use crate::support::binary::run;
use crate::support::data::{dataset, engines_csv, milling_csv};
use crate::support::database::{QueuedRun, TestDatabase};
use crate::support::model::{no_progress, quick};

fn milling_data(seed: u64) -> Dataset {
    dataset(&milling_csv(seed, 4, 1000))
}

fn engine_data(seed: u64, engines: usize) -> Dataset {
    dataset(&engines_csv(seed, engines))
}

#[test]
fn a_failure_model_learns_the_simulated_physics_and_names_the_mode() {
    let data = milling_data(1);
    let model = ml::train(&data, &quick(40, true), &mut no_progress()).unwrap();
    assert_eq!(model.card.task, Task::Classification);
    let metrics = model.card.evaluation.classification.as_ref().unwrap();
    assert!(
        metrics.f1 > 0.7,
        "F1 {} on simulated milling data",
        metrics.f1
    );
    assert_eq!(model.card.modes, ["TWF", "HDF", "PWF", "OSF", "RNF"]);
    let threshold = model.card.threshold.unwrap();
    assert!(threshold > 0.0 && threshold < 1.0);

    // A process far inside the heat-dissipation failure region: small temperature
    // difference at low speed, moderate torque and wear.
    let schema = Profile::Ai4i2020.schema();
    let attributes = BTreeMap::from([("type".to_string(), "M".to_string())]);
    let binding = model.bind("mill", &schema.keys(), &attributes).unwrap();
    let hot = model
        .recipe()
        .row_values(&binding.raw(&[302.0, 309.0, 1290.0, 55.0, 80.0]));
    let prediction = model.predict(&model.features(&hot, None));
    assert_eq!(prediction.failure, Some(true), "{prediction:?}");
    assert_eq!(
        prediction.failure_mode.as_deref(),
        Some("HDF"),
        "{prediction:?}"
    );
    let calm = model
        .recipe()
        .row_values(&binding.raw(&[300.0, 310.5, 1500.0, 40.0, 20.0]));
    let prediction = model.predict(&model.features(&calm, None));
    assert_eq!(prediction.failure, Some(false), "{prediction:?}");
    assert!(model
        .drivers(&model.features(&hot, None), 3)
        .iter()
        .any(|d| d.feature == "temperature_difference" || d.feature == "rotational_speed"));
}

#[test]
fn a_model_file_round_trips_and_predicts_the_same() {
    let data = milling_data(2);
    let model = ml::train(&data, &quick(20, true), &mut no_progress()).unwrap();
    let bytes = model.to_bytes();
    assert!(bytes.starts_with(b"icantkube-model 1\n"));
    let loaded = Model::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.card, model.card);
    // Pages read only the card.
    assert_eq!(Model::card_from_bytes(&bytes).unwrap(), model.card);
    let built = examples::build(&data, model.recipe()).unwrap();
    for row in (0..built.x.rows).step_by(97) {
        assert_eq!(
            loaded.predict(built.x.row(row)),
            model.predict(built.x.row(row))
        );
    }
    assert!(matches!(
        Model::from_bytes(b"not a model"),
        Err(ModelError::NotAModel)
    ));
    let future = [b"icantkube-model 99\n".as_slice(), &bytes[18..]].concat();
    assert!(matches!(
        Model::from_bytes(&future),
        Err(ModelError::UnsupportedVersion(99))
    ));
    let truncated = &bytes[..bytes.len() - 100];
    let error = Model::from_bytes(truncated).unwrap_err();
    assert!(
        error.to_string().starts_with("damaged model file"),
        "{error}"
    );
}

#[test]
fn a_model_is_refused_by_a_machine_whose_schema_does_not_fit() {
    let data = milling_data(3);
    let model = ml::train(&data, &quick(10, true), &mut no_progress()).unwrap();
    let turbofan = Profile::Turbofan.schema();
    let error = model
        .bind("engine-7", &turbofan.keys(), &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(error.contains("machine engine-7"), "{error}");
    assert!(error.contains("the sensor air_temperature"), "{error}");
    assert!(error.contains("the attribute type"), "{error}");
    let unknown_variant = BTreeMap::from([("type".to_string(), "X".to_string())]);
    let error = model
        .bind(
            "mill-9",
            &Profile::Ai4i2020.schema().keys(),
            &unknown_variant,
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("\"X\""), "{error}");
}

#[test]
fn live_series_features_equal_the_training_features_row_for_row() {
    let data = engine_data(4, 12);
    let model = ml::train(&data, &quick(10, false), &mut no_progress()).unwrap();
    assert_eq!(model.card.task, Task::Regression);
    assert_eq!(model.card.life_unit.as_deref(), Some("cycles"));
    let trained = examples::build(&data, model.recipe()).unwrap();
    let units = trained.units.as_ref().unwrap();
    // Feed every unit's rows one at a time, as ingest does, and compare.
    let schema = Profile::Turbofan.schema();
    let binding = model
        .bind("engine", &schema.keys(), &BTreeMap::new())
        .unwrap();
    let sensor_columns: Vec<usize> = schema
        .keys()
        .iter()
        .map(|k| data.find(k).unwrap())
        .collect();
    let mut series = model.recipe().new_series();
    for (k, &row) in trained.source_rows.iter().enumerate() {
        if k > 0 && units[k] != units[k - 1] {
            series = model.recipe().new_series();
        }
        let values: Vec<f64> = sensor_columns
            .iter()
            .map(|&c| data.columns[c].values.as_numeric().unwrap()[row])
            .collect();
        let row_values = model.recipe().row_values(&binding.raw(&values));
        series.push(row_values.clone());
        assert_eq!(
            model.features(&row_values, Some(&series)),
            trained.x.row(k),
            "feature row {k}"
        );
    }
}

#[test]
fn the_cli_trains_evaluates_and_predicts_on_small_generated_data() {
    let folder = tempfile::tempdir().unwrap();
    let path = |name: &str| folder.path().join(name).to_string_lossy().into_owned();
    let csv = milling_csv(5, 2, 800);
    std::fs::write(path("mills.csv"), &csv).unwrap();

    let (ok, out, err) = run(&[
        "train",
        "--data",
        &path("mills.csv"),
        "--target",
        "Machine failure",
        "--algorithm",
        "random_forest",
        "--trees",
        "20",
        "--folds",
        "3",
        "--model-out",
        &path("model.ickm"),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("F1 "), "{out}");
    assert!(out.contains("HDF"), "{out}");

    let (ok, out, err) = run(&[
        "evaluate",
        "--model",
        &path("model.ickm"),
        "--data",
        &path("mills.csv"),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("F1 "), "{out}");

    let (ok, _, err) = run(&[
        "predict",
        "--model",
        &path("model.ickm"),
        "--data",
        &path("mills.csv"),
        "--out",
        &path("out.csv"),
    ]);
    assert!(ok, "{err}");
    let written = std::fs::read_to_string(path("out.csv")).unwrap();
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some("failure_probability,failure,failure_mode,mode_probability")
    );
    assert_eq!(
        lines.count(),
        csv.lines().count() - 1,
        "one prediction per input row"
    );

    let (ok, _, err) = run(&[
        "train",
        "--data",
        &path("mills.csv"),
        "--algorithm",
        "linear",
        "--folds",
        "3",
        "--model-out",
        &path("linear.ickm"),
    ]);
    assert!(ok, "{err}");

    // Bad input: an unknown target, a ragged file.
    let (ok, _, err) = run(&[
        "train",
        "--data",
        &path("mills.csv"),
        "--target",
        "nope",
        "--model-out",
        &path("x"),
    ]);
    assert!(!ok);
    assert!(err.contains("column nope: no such column"), "{err}");
    std::fs::write(path("ragged.csv"), "a,b,target\n1,2,0\n3,4\n").unwrap();
    let (ok, _, err) = run(&[
        "train",
        "--data",
        &path("ragged.csv"),
        "--model-out",
        &path("x"),
    ]);
    assert!(!ok);
    assert!(err.contains("line 3"), "{err}");
    assert!(
        !Path::new(&path("x")).exists(),
        "nothing written on bad input"
    );
}

#[test]
fn the_cli_reads_cmapss_text_and_predicts_remaining_life() {
    let folder = tempfile::tempdir().unwrap();
    let path = |name: &str| folder.path().join(name).to_string_lossy().into_owned();
    // C-MAPSS' own layout: unit, cycle, 3 settings, 21 sensors, space-separated, no header.
    let mut text = String::new();
    for unit in 1..=8 {
        let life = 60 + unit * 7;
        for cycle in 1..=life {
            let wear = f64::from(cycle) / f64::from(life);
            let mut fields = vec![
                unit.to_string(),
                cycle.to_string(),
                "0.0".into(),
                "0.0".into(),
                "100.0".into(),
            ];
            fields.extend((0..21).map(|s| {
                format!(
                    "{:.4}",
                    100.0
                        + s as f64
                        + wear * wear * (s % 3) as f64
                        + ((cycle * 7 + s) % 5) as f64 * 0.01
                )
            }));
            text.push_str(&fields.join(" "));
            text.push_str(" \n");
        }
    }
    std::fs::write(path("train_FD.txt"), &text).unwrap();
    let (ok, out, err) = run(&[
        "train",
        "--data",
        &path("train_FD.txt"),
        "--trees",
        "10",
        "--folds",
        "2",
        "--model-out",
        &path("rul.ickm"),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("RMSE"), "{out}");
    let (ok, _, err) = run(&[
        "predict",
        "--model",
        &path("rul.ickm"),
        "--data",
        &path("train_FD.txt"),
        "--out",
        &path("rul.csv"),
    ]);
    assert!(ok, "{err}");
    let written = std::fs::read_to_string(path("rul.csv")).unwrap();
    assert!(written.starts_with("rul,rul_low,rul_high\n"), "{written}");
    assert_eq!(written.lines().count() - 1, text.lines().count());
}

#[tokio::test]
async fn a_stored_training_run_trains_reports_progress_and_registers_a_version() {
    let test_db = TestDatabase::fresh().await;
    let (db, url) = (&test_db.db, test_db.url.as_str());
    let (dataset, _) = test_db.store_milling_dataset(&milling_csv(6, 2, 800)).await;
    let new_run = |target: &'static str| {
        QueuedRun::ai4i()
            .on_dataset(dataset)
            .target(target)
            .parameters(r#"{"trees": 20}"#)
    };
    let good = new_run("Machine failure").queue(db).await;
    let bad = new_run("nope").queue(db).await;

    let run_id = |id: i64| id.to_string();
    let (ok, _, err) = run(&[
        "train",
        "--run-id",
        &run_id(good),
        "--database-url",
        url,
        "--runner",
        "local",
    ]);
    assert!(ok, "{err}");
    let stored = test_db.training_run(good).await;
    assert_eq!(stored.state.as_str(), "completed");
    assert_eq!(stored.progress, 100);
    assert_eq!(stored.runner.as_deref(), Some("local"));
    assert!(stored.metrics.unwrap().contains("\"f1\""));
    let artifact: Vec<u8> =
        sqlx::query_scalar("SELECT artifact FROM model_versions WHERE training_run_id = ?")
            .bind(good)
            .fetch_one(db.pool())
            .await
            .unwrap();
    let model = Model::from_bytes(&artifact).unwrap();
    assert_eq!(model.card.hyperparameters.trees, 20);

    // A run runs once.
    let (ok, _, err) = run(&["train", "--run-id", &run_id(good), "--database-url", url]);
    assert!(!ok);
    assert!(err.contains("is not queued"), "{err}");

    // A run that cannot train ends failed with the reason.
    let (ok, _, _) = run(&["train", "--run-id", &run_id(bad), "--database-url", url]);
    assert!(!ok);
    let failed = test_db.training_run(bad).await;
    assert_eq!(failed.state.as_str(), "failed");
    assert!(failed
        .error
        .unwrap()
        .contains("column nope: no such column"));

    let (ok, _, err) = run(&["train", "--run-id", "1", "--data", "x.csv"]);
    assert!(!ok);
    assert!(err.contains("cannot be used with"), "{err}");
    db.close().await;
}

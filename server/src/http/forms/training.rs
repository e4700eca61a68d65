//! `POST /training` (admin form): a training run on a stored data set, with the column roles
//! the admin checked; `POST /training/{id}/cancel`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::{Map, Value};

use super::guard::{admin_form, FormRejection};
use crate::db::training_runs::{self, NewTrainingRun};
use crate::db::{datasets, machines};
use crate::domain::TrackingState;
use crate::http::AppState;
use crate::training::dataset_file::DatasetFile;
use crate::training::{column_roles, ColumnRole};
use ml::dataset::Role;
use ml::{Algorithm, LoadOptions};

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.get("csrf").map(String::as_str)).await?;
    let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or_default();
    let dataset_id: i64 = field("dataset_id")
        .parse()
        .map_err(|_| FormRejection::invalid("/training/new", "dataset_id: choose a data set"))?;
    let page = format!("/training/new?dataset={dataset_id}");
    let invalid = |message: String| FormRejection::invalid(page.clone(), message);
    let pool = state.db.pool();
    let stored = datasets::find(pool, dataset_id)
        .await?
        .ok_or_else(|| FormRejection::invalid("/training/new", "that data set no longer exists"))?;

    // The roles as detected, with the admin's choices (role_0, role_1, ... by column) on top.
    let mut roles = column_roles(&stored.column_roles).map_err(|e| invalid(e.to_string()))?;
    for (index, (column, role)) in roles.iter_mut().enumerate() {
        if let Some(chosen) = form.get(&format!("role_{index}")) {
            *role = Role::parse(chosen)
                .ok_or_else(|| invalid(format!("role of {column}: unknown role {chosen:?}")))?;
        }
    }
    let target = field("target").to_string();
    if target.is_empty() {
        return Err(invalid("target: choose the column to predict".into()));
    }
    let algorithm = field("algorithm");
    // `auto` is stored as such: the worker picks the profile's best when it loads the data.
    let algorithm = Algorithm::parse_choice(algorithm)
        .ok_or_else(|| invalid(format!("algorithm: unknown algorithm {algorithm:?}")))?
        .map_or("auto", Algorithm::name);
    let mut parameters = Map::new();
    for (name, low, high) in [
        ("trees", 1, 1000),
        ("max_depth", 1, 64),
        ("min_samples_leaf", 1, 1000),
    ] {
        let text = field(name);
        if text.is_empty() {
            continue;
        }
        match text.parse::<u64>() {
            Ok(value) if (low..=high).contains(&value) => {
                parameters.insert(name.to_string(), Value::from(value));
            }
            _ => {
                return Err(invalid(format!(
                    "{name}: a whole number from {low} to {high}, not {text:?}"
                )))
            }
        }
    }
    let machine = match field("machine") {
        "" => None,
        name => {
            let machine = machines::find(pool, name)
                .await?
                .ok_or_else(|| invalid(format!("machine: no machine is called {name:?}")))?;
            if machine.profile != stored.profile {
                return Err(invalid(format!(
                    "machine: {name} is a {} machine, the data set is {}",
                    machine.profile, stored.profile
                )));
            }
            Some(machine)
        }
    };

    // Outlining with the chosen roles and target finds a wrong choice now, not in the worker
    // (the outline fails wherever loading would).
    let options = LoadOptions {
        target: Some(target.clone()),
        roles: roles.clone(),
        ..LoadOptions::default()
    };
    let (_, outline) = DatasetFile::stored(pool, stored.id)
        .await?
        .outline(options)
        .await
        .map_err(|e| invalid(format!("the data set could not be read: {e}")))?;
    outline.map_err(|e| invalid(format!("{e}; nothing was started")))?;

    let chosen: Vec<ColumnRole> = roles
        .into_iter()
        .map(|(column, role)| ColumnRole { column, role })
        .collect();
    datasets::set_column_roles(
        pool,
        dataset_id,
        &serde_json::to_string(&chosen).expect("roles serialise"),
    )
    .await?;
    let run_id = training_runs::insert(
        pool,
        NewTrainingRun {
            machine_id: machine.as_ref().map(|m| m.id),
            dataset_id: Some(dataset_id),
            profile: &stored.profile,
            target: &target,
            algorithm,
            parameters: Value::Object(parameters).to_string(),
            auto_promote: field("auto_promote") == "1",
            tracking: if state.tracking.is_some() {
                TrackingState::Pending
            } else {
                TrackingState::Off
            },
            started_by: Some(&admin.user),
        },
    )
    .await?;
    tracing::info!(run_id, dataset_id, "training run created");
    let run_page = format!("/training/{run_id}");
    if let Err(error) = state.runner.launch(run_id).await {
        tracing::error!(run_id, %error, "training run not started");
        let reason = format!("not started: {error}");
        training_runs::fail_unfinished(pool, run_id, &reason).await?;
    }
    Ok(Redirect::to(&run_page).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct Cancel {
    csrf: Option<String>,
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(run_id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Cancel>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    let page = format!("/training/{run_id}");
    state.runner.cancel(run_id).await.map_err(|error| {
        FormRejection::invalid(page.clone(), format!("the run was not cancelled: {error}"))
    })?;
    training_runs::cancelled_by(state.db.pool(), run_id, &admin.user).await?;
    tracing::info!(run_id, by = %admin.user, "training run cancelled");
    Ok(Redirect::to(&page).into_response())
}

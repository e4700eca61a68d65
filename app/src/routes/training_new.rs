//! `/training/new` (admin): upload a data set, check the roles detected for its columns, choose
//! the target, algorithm and the hyperparameters that matter, and start a run.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::components::error_view::admin_page_refusal;
use crate::components::machine_picker::MachinePicker;
use crate::components::upload_progress::UploadProgress;
use crate::error::AppError;
use crate::model::{DatasetPreview, MachineChoices, TrainingForm, COLUMN_ROLES};

#[server(prefix = "/_fn")]
pub async fn get_training_form(dataset: Option<i64>) -> Result<(TrainingForm, String), AppError> {
    let viewer = crate::services::require_admin().await?;
    let form = crate::services::services()?.training.form(dataset).await?;
    Ok((form, viewer.admin_csrf().unwrap_or_default()))
}

#[component]
pub fn NewTrainingPage() -> impl IntoView {
    let query = use_query_map();
    let dataset = move || {
        query
            .read()
            .get("dataset")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let error = move || query.read().get("error");
    let form = Resource::new(dataset, get_training_form);
    view! {
        <Title text="New training run" />
        <Meta name="description" content="Upload a data set, check the role of each column, and start a training run." />
        <p class="crumbs">
            <a href="/training">"Training"</a>
            " / "
            <span>"New run"</span>
        </p>
        <h1>"New training run"</h1>
        {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading the form…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok((form, csrf)) => view! { <FormSteps form csrf /> }.into_any(),
                    Err(error) => {
                        admin_page_refusal(error, "/training/new", "to upload data and train models")
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn FormSteps(form: TrainingForm, csrf: String) -> impl IntoView {
    let limit_mb = form.max_upload_bytes / (1024 * 1024);
    let chosen = form.preview.as_ref().map(|p| p.id);
    view! {
        <section class="card">
            <h2>"1. Data set"</h2>
            <form
                id="upload"
                method="post"
                action="/datasets"
                enctype="multipart/form-data"
            >
                // First, so the server checks it before reading the file.
                <input type="hidden" name="csrf" value=csrf.clone() />
                <label>
                    <span>"Name " <span class="muted">"(optional)"</span></span>
                    <input type="text" name="name" maxlength="100" />
                </label>
                <label>
                    {format!("CSV file (up to {limit_mb} MB)")}
                    <input type="file" name="file" accept=".csv,.txt,text/csv" required />
                </label>
                <UploadProgress />
                <button type="submit">"Upload and check"</button>
            </form>
            {(!form.all_machines.listed.is_empty())
                .then(|| {
                    view! {
                        <form class="history" method="post" action="/datasets/from-machine">
                            <input type="hidden" name="csrf" value=csrf.clone() />
                            <label>
                                "Or a machine's own labelled readings"
                                <MachinePicker
                                    choices=form.all_machines.clone()
                                    suggestions="history-machines"
                                />
                            </label>
                            <button type="submit" class="secondary">"Use its history"</button>
                        </form>
                    }
                })}
            {(!form.datasets.is_empty())
                .then(|| {
                    view! {
                        <p>"Or train on a data set uploaded before:"</p>
                        <ul class="datasets">
                            {form
                                .datasets
                                .iter()
                                .map(|d| {
                                    let current = chosen == Some(d.id);
                                    view! {
                                        <li>
                                            <a
                                                href=format!("/training/new?dataset={}", d.id)
                                                aria-current=current.then_some("true")
                                            >
                                                {d.name.clone()}
                                            </a>
                                            {format!(" — {} rows, {}", d.rows, d.profile)}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
        {form
            .preview
            .map(|preview| view! { <RunForm preview machines=form.machines csrf /> })}
    }
    .into_any()
}

#[component]
fn RunForm(preview: DatasetPreview, machines: MachineChoices, csrf: String) -> impl IntoView {
    let target = preview.target.clone();
    let profile = preview.profile.clone();
    view! {
        <form class="card" method="post" action="/training" id="train">
            <input type="hidden" name="csrf" value=csrf />
            <input type="hidden" name="dataset_id" value=preview.id />
            <h2>"2. Columns"</h2>
            <p class="muted">
                {format!(
                    "{} ({}): {} rows, recognised as {}. Check the role of each column; \
                     labels and ids are never inputs.",
                    preview.name,
                    preview.file_name,
                    preview.rows,
                    preview.profile,
                )}
            </p>
            <div class="table-scroll">
                <table class="columns">
                    <thead>
                        <tr>
                            <th scope="col">"Column"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Values"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {preview
                            .columns
                            .iter()
                            .enumerate()
                            .map(|(index, column)| {
                                let detected = column.role.clone();
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <label for=format!("role-{index}")>
                                                {column.header.clone()}
                                            </label>
                                        </th>
                                        <td>
                                            <select
                                                id=format!("role-{index}")
                                                name=format!("role_{index}")
                                            >
                                                {COLUMN_ROLES
                                                    .iter()
                                                    .map(|role| {
                                                        view! {
                                                            <option
                                                                value=*role
                                                                selected=detected == *role
                                                            >
                                                                {*role}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </select>
                                        </td>
                                        <td class="samples">{column.samples.clone()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <h2>"3. Model"</h2>
            <div class="fields">
                <label>
                    "Target"
                    <select name="target">
                        {preview
                            .columns
                            .iter()
                            .map(|column| {
                                let header = column.header.clone();
                                let selected = header == target;
                                view! {
                                    <option value=header.clone() selected=selected>
                                        {header.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "For"
                    <MachinePicker
                        choices=machines
                        suggestions="run-machines"
                        every=format!("every {profile} machine")
                    />
                </label>
                <label>
                    "Algorithm"
                    <select name="algorithm">
                        <option value="auto" selected>"best for the data"</option>
                        <option value="random_forest">"random forest"</option>
                        <option value="gradient_boosting">"gradient boosting"</option>
                        <option value="linear">"linear (logistic / ridge)"</option>
                    </select>
                </label>
                <label>
                    "Trees"
                    <input type="number" inputmode="numeric" name="trees" min="1" max="1000" placeholder="100" />
                </label>
                <label>
                    "Deepest split"
                    <input
                        type="number"
                        inputmode="numeric"
                        name="max_depth"
                        min="1"
                        max="64"
                        placeholder="default"
                    />
                </label>
                <label>
                    "Fewest rows in a leaf"
                    <input
                        type="number"
                        inputmode="numeric"
                        name="min_samples_leaf"
                        min="1"
                        max="1000"
                        placeholder="default"
                    />
                </label>
            </div>
            <label class="check">
                <input type="checkbox" name="auto_promote" value="1" checked />
                "Promote automatically where it beats the active version"
            </label>
            <button type="submit">"Start training"</button>
        </form>
    }
    .into_any()
}

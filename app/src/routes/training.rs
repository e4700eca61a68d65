//! `/training`: every training run, newest first, live while any is going.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::components::error_view::ErrorView;
use crate::components::live_refresh::LiveRefresh;
use crate::components::run_state::{RunProgress, TrackingNote};
use crate::error::AppError;
use crate::model::{time_ago, TrainingRuns};

#[server(prefix = "/_fn")]
pub async fn get_training_runs() -> Result<TrainingRuns, AppError> {
    crate::services::services()?.training.runs().await
}

#[component]
pub fn TrainingPage() -> impl IntoView {
    let runs = Resource::new(|| (), |_| get_training_runs());
    view! {
        <Title text="Training" />
        <Meta name="description" content="Training runs: their progress, their results and the model versions they made." />
        <div class="page-head">
            <h1>"Training runs"</h1>
            <a class="button" href="/training/new">"New training run"</a>
            <LiveRefresh target="runs".to_string() seconds=3 />
        </div>
        <div id="runs">
            <Suspense fallback=|| view! { <p class="muted">"Loading runs…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                    {move || Suspend::new(async move {
                        runs.await.map(|runs| view! { <RunTable runs /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </div>
    }
}

#[component]
fn RunTable(runs: TrainingRuns) -> impl IntoView {
    if runs.runs.is_empty() {
        return view! {
            <p class="empty">
                "No training runs yet. " <a href="/training/new">"Start one"</a>
                " from an uploaded data set."
            </p>
        }
        .into_any();
    }
    let now = runs.generated_at;
    view! {
        <p class="muted">{format!("Runs train on the {} runner.", runs.runner)}</p>
        <div class="table-scroll">
            <table class="runs">
                <thead>
                    <tr>
                        <th scope="col">"Run"</th>
                        <th scope="col">"For"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Where"</th>
                    </tr>
                </thead>
                <tbody>
                    {runs
                        .runs
                        .into_iter()
                        .map(|run| {
                            let href = format!("/training/{}", run.id);
                            let result = run
                                .headline
                                .clone()
                                .or_else(|| run.error.clone())
                                .unwrap_or_default();
                            view! {
                                <tr data-run=run.id data-state=run.state.as_str()>
                                    <td>
                                        <a href=href>{format!("#{}", run.id)}</a>
                                        <div class="muted">{time_ago(run.created_at, now)}</div>
                                    </td>
                                    <td>
                                        {run.scope.clone()}
                                        <div class="muted">
                                            {format!("{} · {}", run.algorithm, run.target)}
                                        </div>
                                    </td>
                                    <td>
                                        <RunProgress run=run.clone() />
                                    </td>
                                    <td>{run.duration.clone().unwrap_or_default()}</td>
                                    <td class="result">
                                        {result}
                                        {run
                                            .model_version
                                            .clone()
                                            .map(|v| view! { <div class="muted">{v}</div> })}
                                    </td>
                                    <td>
                                        {run.runner.clone().unwrap_or_default()}
                                        <div>
                                            <TrackingNote tracking=run.tracking.clone() />
                                        </div>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

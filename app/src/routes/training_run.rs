//! `/training/{id}`: one run, live while it trains (and by reload without JavaScript).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::components::error_view::ErrorView;
use crate::components::live_refresh::LiveRefresh;
use crate::components::run_state::{RunProgress, TrackingNote};
use crate::error::AppError;
use crate::model::{TrainingRunDetail, Viewer};
use crate::routes::login::get_viewer;

#[server(prefix = "/_fn")]
pub async fn get_training_run(id: i64) -> Result<TrainingRunDetail, AppError> {
    crate::services::services()?.training.run(id).await
}

#[component]
pub fn TrainingRunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let detail = Resource::new(id, get_training_run);
    let viewer = Resource::new(|| (), |_| get_viewer());
    // Read once: a title reading the route's params reactively panicked when rendered after
    // they were disposed, under concurrent requests.
    let run = untrack(id);
    view! {
        <Title text=format!("Training run {run}") />
        <Meta name="description" content=format!("Training run {run}: its stage and progress, its metrics and the model version it made.") />
        <p class="crumbs">
            <a href="/training">"Training"</a>
            " / "
            <span>{format!("Run #{run}")}</span>
            <LiveRefresh target="run".to_string() seconds=2 />
        </p>
        <div id="run">
            <Suspense fallback=|| view! { <p class="muted">"Loading the run…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                    {move || Suspend::new(async move {
                        let viewer = viewer.await.unwrap_or_default();
                        detail.await.map(|detail| view! { <RunView detail viewer /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </div>
    }
}

#[component]
fn RunView(detail: TrainingRunDetail, viewer: Viewer) -> impl IntoView {
    let run = detail.run;
    let cancel = (!run.is_finished())
        .then_some(())
        .and(viewer.admin_csrf())
        .map(|csrf| {
            view! {
                <form method="post" action=format!("/training/{}/cancel", run.id)>
                    <input type="hidden" name="csrf" value=csrf />
                    <button type="submit" class="danger">"Cancel the run"</button>
                </form>
            }
        });
    let going = !run.is_finished();
    view! {
        <div class="page-head">
            <h1>{format!("Training run #{}", run.id)}</h1>
        </div>
        <div class="card run-state">
            <RunProgress run=run.clone() />
            <Show when=move || going>
                <p class="muted">"This page updates by itself; without JavaScript, reload it."</p>
            </Show>
            {run.error.clone().map(|error| view! { <pre class="error run-error">{error}</pre> })}
            {cancel}
        </div>
        <dl class="facts">
            <div>
                <dt>"For"</dt>
                <dd>{run.scope.clone()}</dd>
            </div>
            <div>
                <dt>"Started by"</dt>
                <dd>{run.started_by.clone().unwrap_or_else(|| "not recorded".into())}</dd>
            </div>
            {run
                .cancelled_by
                .clone()
                .map(|by| view! { <div><dt>"Cancelled by"</dt><dd>{by}</dd></div> })}
            <div>
                <dt>"Data set"</dt>
                <dd>{run.dataset.clone().unwrap_or_else(|| "—".into())}</dd>
            </div>
            <div>
                <dt>"Target"</dt>
                <dd>{run.target.clone()}</dd>
            </div>
            <div>
                <dt>"Algorithm"</dt>
                <dd>{run.algorithm.clone()}</dd>
            </div>
            <div>
                <dt>"Duration"</dt>
                <dd>{run.duration.clone().unwrap_or_else(|| "not started".into())}</dd>
            </div>
            <div>
                <dt>"Where"</dt>
                <dd>{run.runner.clone().unwrap_or_else(|| "waiting for a worker".into())}</dd>
            </div>
            <div>
                <dt>"Promote if better"</dt>
                <dd>{if detail.auto_promote { "yes" } else { "no" }}</dd>
            </div>
            <div>
                <dt>"Model version"</dt>
                <dd>
                    {match run.model_version.clone() {
                        Some(version) => view! { <a href="/models">{version}</a> }.into_any(),
                        None => "—".into_any(),
                    }}
                </dd>
            </div>
        </dl>
        <p>
            <TrackingNote tracking=run.tracking.clone() />
        </p>
        <h2>"Metrics"</h2>
        {if detail.metrics.is_empty() {
            view! { <p class="muted">"Metrics appear when the run completes."</p> }.into_any()
        } else {
            view! { <NameValues rows=detail.metrics class="metrics" /> }.into_any()
        }}
        <h2>"Parameters"</h2>
        <NameValues rows=detail.parameters class="parameters" />
    }
    .into_any()
}

#[component]
fn NameValues(rows: Vec<(String, String)>, class: &'static str) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class=class>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(name, value)| {
                            view! {
                                <tr>
                                    <th scope="row">{name}</th>
                                    <td>{value}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

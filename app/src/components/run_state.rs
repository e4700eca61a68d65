//! How a training run's state, progress and MLflow tracking read on the pages.

use leptos::prelude::*;

use crate::model::{Tracking, TrainingRunSummary};

/// State in words, with a progress bar while the run is going.
#[component]
pub fn RunProgress(run: TrainingRunSummary) -> impl IntoView {
    let going = !run.is_finished();
    let stage = run.stage.clone().unwrap_or_default();
    let label = format!("{} %", run.progress);
    view! {
        <span class="badge" data-state=run.state.as_str()>{run.state.as_str()}</span>
        <Show when=move || going>
            <span class="progress-line">
                <progress max="100" value=run.progress aria-label="Training progress">
                    {label.clone()}
                </progress>
                <span class="progress-text">{format!("{} %", run.progress)} " " {stage.clone()}</span>
            </span>
        </Show>
    }
}

/// "tracked in MLflow" with links, "not tracked" with the reason, or nothing when off.
#[component]
pub fn TrackingNote(tracking: Tracking) -> impl IntoView {
    match tracking {
        Tracking::Off => ().into_any(),
        Tracking::Pending => view! { <span class="muted">"MLflow: pending"</span> }.into_any(),
        Tracking::Tracked {
            run_url,
            experiment_url,
        } => view! {
            <span class="tracking">
                "MLflow: "
                {run_url.map(|url| view! { <a href=url>"run"</a> })}
                " "
                {experiment_url.map(|url| view! { <a href=url>"experiment"</a> })}
            </span>
        }
        .into_any(),
        Tracking::Failed(reason) => view! {
            <span class="tracking not-tracked" title=reason.clone()>
                "not tracked in MLflow (retried): " {reason.clone()}
            </span>
        }
        .into_any(),
    }
}

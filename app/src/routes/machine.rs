//! `/machines/{name}`: one machine's latest readings and sensor trends.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::error_view::ErrorView;
use crate::components::live_refresh::LiveRefresh;
use crate::components::status_badge::StatusBadge;
use crate::error::AppError;
use crate::model::{format_value, percent, time_ago, Chart, MachineDetail};

/// One machine with its charts.
#[server(prefix = "/_fn")]
pub async fn get_machine(name: String) -> Result<MachineDetail, AppError> {
    crate::services::services()?.fleet.machine(&name).await
}

/// The machine page.
#[component]
pub fn MachinePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let detail = Resource::new(name, get_machine);
    view! {
        <Title text=name />
        <p class="crumbs">
            <a href="/">"Fleet"</a>
            " / "
            <span>{name}</span>
            <LiveRefresh target="machine".to_string() seconds=10 />
        </p>
        <div id="machine">
            <Suspense fallback=|| view! { <p class="muted">"Loading the machine…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                    {move || Suspend::new(async move {
                        detail.await.map(|detail| view! { <MachineView detail /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </div>
    }
}

#[component]
fn MachineView(detail: MachineDetail) -> impl IntoView {
    let card = detail.card;
    let now = detail.generated_at;
    let last = card
        .last_reading_at
        .map(|at| time_ago(at, now))
        .unwrap_or_else(|| "no readings yet".to_string());
    let monitoring = if detail.monitoring { "on" } else { "off" };
    let probability = card.failure_probability.map(percent);
    let life = card.remaining_life.as_ref().map(|l| l.describe());
    let likely = card.likely_failure.as_ref().map(|l| l.describe());
    let model = detail
        .model_version
        .clone()
        .unwrap_or_else(|| "none yet: readings are stored but not scored".to_string());
    let drivers = detail.drivers;
    view! {
        <div class="page-head">
            <h1>{card.display_name}</h1>
            <StatusBadge status=card.status />
        </div>
        <dl class="facts">
            <div>
                <dt>"Name"</dt>
                <dd class="machine-name">{card.name}</dd>
            </div>
            <div>
                <dt>"Profile"</dt>
                <dd>{card.profile}</dd>
            </div>
            {detail
                .attributes
                .into_iter()
                .map(|(key, value)| view! { <div><dt>{key}</dt><dd>{value}</dd></div> })
                .collect_view()}
            <div>
                <dt>"Monitoring"</dt>
                <dd>{monitoring}</dd>
            </div>
            <div>
                <dt>"Readings"</dt>
                <dd>{detail.reading_count}</dd>
            </div>
            <div>
                <dt>"Last reading"</dt>
                <dd>{last}</dd>
            </div>
        </dl>
        <h2>"Prediction"</h2>
        <dl class="facts prediction">
            {probability.map(|p| view! { <div><dt>"Failure probability"</dt><dd class="risk">{p}</dd></div> })}
            {likely.map(|l| view! { <div><dt>"Likely failure"</dt><dd>{l}</dd></div> })}
            {life.map(|l| view! { <div><dt>"Remaining life"</dt><dd class="risk">{l}</dd></div> })}
            <div>
                <dt>"Model"</dt>
                <dd>
                    {match detail.model_version_url {
                        Some(url) => view! { <a href=url title="Its training run in MLflow">{model}</a> }.into_any(),
                        None => model.into_any(),
                    }}
                </dd>
            </div>
        </dl>
        {detail
            .grafana_url
            .map(|url| {
                view! {
                    <p>
                        <a href=url>"Grafana dashboard"</a>
                    </p>
                }
            })}
        {(!drivers.is_empty())
            .then(|| {
                view! {
                    <h3>"What drives the latest risk"</h3>
                    <ol class="drivers">
                        {drivers
                            .into_iter()
                            .map(|d| view! { <li><span>{d.input}</span>" "<span class="muted">{d.effect}</span></li> })
                            .collect_view()}
                    </ol>
                }
            })}
        {detail.prediction_chart.map(|chart| view! { <div class="charts"><ChartView chart /></div> })}
        <h2>"Latest readings"</h2>
        <table class="readings">
            <thead>
                <tr>
                    <th scope="col">"Sensor"</th>
                    <th scope="col" class="num">"Value"</th>
                    <th scope="col">"Unit"</th>
                </tr>
            </thead>
            <tbody>
                {card
                    .latest
                    .into_iter()
                    .map(|value| {
                        view! {
                            <tr>
                                <td>{value.label}</td>
                                <td class="num">{format_value(value.value)}</td>
                                <td>{value.unit}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <h2>"Sensor trends"</h2>
        <div class="charts">
            {detail.charts.into_iter().map(|chart| view! { <ChartView chart /> }).collect_view()}
        </div>
    }
}

/// A server-rendered SVG chart with its title and text alternative.
#[component]
pub fn ChartView(chart: Chart) -> impl IntoView {
    view! {
        <figure class="chart">
            <figcaption>{chart.title}</figcaption>
            <div class="chart-svg" role="img" aria-label=chart.description inner_html=chart.svg></div>
        </figure>
    }
}

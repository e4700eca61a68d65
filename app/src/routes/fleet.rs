//! `/`: the fleet, one card per machine, most at risk first.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error_view::ErrorView;
use crate::components::live_refresh::LiveRefresh;
use crate::components::status_badge::StatusBadge;
use crate::error::AppError;
use crate::model::{format_value, percent, time_ago, Fleet, MachineCard, Status};

/// Sensor values a card shows; the machine page has them all.
const CARD_VALUES: usize = 6;

/// Every machine, most at risk first.
#[server(prefix = "/_fn")]
pub async fn get_fleet() -> Result<Fleet, AppError> {
    crate::services::services()?.fleet.fleet().await
}

/// The fleet page.
#[component]
pub fn FleetPage() -> impl IntoView {
    let fleet = Resource::new(|| (), |_| get_fleet());
    view! {
        <Title text="Fleet" />
        <div class="page-head">
            <h1>"Fleet"</h1>
            <LiveRefresh target="fleet".to_string() seconds=10 />
        </div>
        <div id="fleet">
            <Suspense fallback=|| view! { <p class="muted">"Loading the fleet…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                    {move || Suspend::new(async move {
                        fleet.await.map(|fleet| view! { <FleetGrid fleet /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </div>
    }
}

#[component]
fn FleetGrid(fleet: Fleet) -> impl IntoView {
    if fleet.machines.is_empty() {
        return view! {
            <p class="empty">
                "No machines yet. Register one through the API, or start icantkube with "
                <code>"--demo"</code> " for a simulated fleet."
            </p>
        }
        .into_any();
    }
    let now = fleet.generated_at;
    let count = fleet.machines.len();
    view! {
        <p class="muted summary">{format!("{count} machines, most at risk first")}</p>
        <ul class="cards">
            {fleet
                .machines
                .into_iter()
                .map(|machine| view! { <MachineCardView machine now /> })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn MachineCardView(machine: MachineCard, now: i64) -> impl IntoView {
    let href = format!("/machines/{}", machine.name);
    let last = machine
        .last_reading_at
        .map(|at| time_ago(at, now))
        .unwrap_or_else(|| "no readings yet".to_string());
    let hidden = machine.latest.len().saturating_sub(CARD_VALUES);
    let probability = machine
        .failure_probability
        .map(|p| format!("{} failure risk", percent(p)));
    let life = machine.remaining_life.as_ref().map(|l| l.describe());
    let likely = machine
        .likely_failure
        .as_ref()
        .filter(|_| machine.status.urgency() >= Status::Warning.urgency())
        .map(|l| format!("likely failure: {}", l.describe()));
    view! {
        <li class="card" data-status=machine.status.as_str()>
            <a class="card-link" href=href>
                <div class="card-head">
                    <span class="card-title">{machine.display_name}</span>
                    <StatusBadge status=machine.status />
                </div>
                <div class="card-sub">
                    <span class="machine-name">{machine.name}</span>
                    <span>" · "</span>
                    <span>{last}</span>
                </div>
                {probability.map(|text| view! { <div class="risk">{text}</div> })}
                {life.map(|text| view! { <div class="risk life">{text}</div> })}
                {likely.map(|text| view! { <div class="likely muted">{text}</div> })}
                <dl class="values">
                    {machine
                        .latest
                        .into_iter()
                        .take(CARD_VALUES)
                        .map(|value| {
                            view! {
                                <div class="value">
                                    <dt>{value.label}</dt>
                                    <dd>
                                        {format_value(value.value)}
                                        <span class="unit">{value.unit}</span>
                                    </dd>
                                </div>
                            }
                        })
                        .collect_view()}
                </dl>
                {(hidden > 0)
                    .then(|| view! { <div class="more muted">{format!("+{hidden} more on the machine page")}</div> })}
            </a>
        </li>
    }
}

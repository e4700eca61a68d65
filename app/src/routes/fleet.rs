//! `/`: the fleet, counted by status, then one page of machines, riskiest first, with search
//! and filters. Plain links and a GET form: it all works without JavaScript.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::components::error_view::ErrorView;
use crate::components::live_refresh::LiveRefresh;
use crate::components::status_badge::StatusBadge;
use crate::error::AppError;
use crate::model::{
    format_value, grouped, percent, time_ago, Fleet, FleetQuery, MachineCard, Status, StatusCount,
};

/// Sensor values a card shows; the machine page has them all.
const CARD_VALUES: usize = 6;

/// The fleet counted by status and one page of the machines `query` matches, riskiest first.
#[server(prefix = "/_fn")]
pub async fn get_fleet(#[server(default)] query: FleetQuery) -> Result<Fleet, AppError> {
    crate::services::services()?.fleet.fleet(query).await
}

/// The fleet page.
#[component]
pub fn FleetPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        params
            .with(|p| FleetQuery {
                q: p.get("q"),
                status: p.get("status"),
                profile: p.get("profile"),
                place: p.get("place"),
                after: p.get("after"),
            })
            .without_empty()
    };
    let fleet = Resource::new(query, get_fleet);
    view! {
        <Title text="Fleet" />
        <Meta name="description" content="Every machine's latest readings and failure risk, the machines at risk first, with their open alarms." />
        <div class="page-head">
            <h1>"Fleet"</h1>
            <LiveRefresh target="fleet".to_string() seconds=10 />
        </div>
        <div id="fleet">
            <Suspense fallback=|| view! { <p class="muted">"Loading the fleet…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                    {move || Suspend::new(async move {
                        let query = query();
                        fleet.await.map(|fleet| view! { <FleetView fleet query /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </div>
    }
}

#[component]
fn FleetView(fleet: Fleet, query: FleetQuery) -> impl IntoView {
    if fleet.total == 0 {
        return view! {
            <p class="empty">
                "No machines yet. Register one through the API, or start icantkube with "
                <code>"--demo"</code> " for a simulated fleet."
            </p>
        }
        .into_any();
    }
    let now = fleet.generated_at;
    let shown = fleet.machines.len();
    let which = if query.is_filtered() { " matching" } else { "" };
    let matching = grouped(fleet.matching);
    let summary = if fleet.matching == 0 {
        "No machines match these filters.".to_string()
    } else if shown as i64 == fleet.matching && query.after.is_none() {
        format!("{matching}{which} machines, riskiest first")
    } else {
        format!("{shown} of {matching}{which} machines, riskiest first")
    };
    let first_page = query
        .after
        .is_some()
        .then(|| query.at(None).to_query_string());
    let next_page = fleet
        .next
        .clone()
        .map(|next| query.at(Some(next)).to_query_string());
    view! {
        <StatusCounts counts=fleet.counts total=fleet.total alarms=fleet.alarms query=query.clone() />
        <FleetFilters places=fleet.places profiles=fleet.profiles query />
        <p class="muted summary">{summary}</p>
        <ul class="cards">
            {fleet
                .machines
                .into_iter()
                .map(|machine| view! { <MachineCardView machine now /> })
                .collect_view()}
        </ul>
        {(first_page.is_some() || next_page.is_some())
            .then(|| {
                view! {
                    <nav class="pager" aria-label="Pages of the fleet">
                        {first_page
                            .map(|href| view! { <a href=format!("/{href}")>"← First page"</a> })}
                        {next_page
                            .map(|href| {
                                view! {
                                    <a href=format!("/{href}") rel="next">
                                        "Next machines →"
                                    </a>
                                }
                            })}
                    </nav>
                }
            })}
    }
    .into_any()
}

/// The fleet counted by status, each count a link to those machines.
#[component]
fn StatusCounts(
    counts: Vec<StatusCount>,
    total: i64,
    alarms: i64,
    query: FleetQuery,
) -> impl IntoView {
    let first_page = query.at(None);
    let all_current = first_page == FleetQuery::default();
    view! {
        <nav class="status-counts" aria-label="Machines by status">
            <a href="/" class="count" aria-current=all_current.then_some("page")>
                <strong>{grouped(total)}</strong>
                " all"
            </a>
            {counts
                .into_iter()
                .filter(|count| count.count > 0)
                .map(|count| {
                    let name = count.status.as_str();
                    let only = FleetQuery::only(count.status);
                    let is_current = first_page == only;
                    view! {
                        <a
                            href=format!("/{}", only.to_query_string())
                            class="count"
                            data-status=name
                            aria-current=is_current.then_some("page")
                        >
                            <strong>{grouped(count.count)}</strong>
                            {format!(" {name}")}
                        </a>
                    }
                })
                .collect_view()}
            {(alarms > 0)
                .then(|| {
                    view! {
                        <a href="/alarms" class="count alarms-count">
                            <strong>{grouped(alarms)}</strong>
                            {if alarms == 1 { " alarm" } else { " alarms" }}
                        </a>
                    }
                })}
        </nav>
    }
}

/// Search by name and filters by status, profile and place: a GET form, so a filtered view
/// is a link like any other.
#[component]
fn FleetFilters(places: Vec<String>, profiles: Vec<String>, query: FleetQuery) -> impl IntoView {
    let statuses = Status::ALL.iter().map(|s| s.as_str().to_string()).collect();
    view! {
        <form class="filters" method="get" action="/" role="search">
            <label class="search">
                "Search"
                <input
                    type="search"
                    enterkeyhint="search"
                    name="q"
                    value=query.q.clone().unwrap_or_default()
                    placeholder="Name"
                    maxlength="80"
                />
            </label>
            <Choice label="Status" name="status" options=statuses chosen=query.status.clone() />
            <Choice label="Profile" name="profile" options=profiles chosen=query.profile.clone() />
            {(!places.is_empty())
                .then(|| {
                    view! {
                        <Choice label="Place" name="place" options=places chosen=query.place.clone() />
                    }
                })}
            <button type="submit" class="button">"Filter"</button>
            {query.is_filtered().then(|| view! { <a href="/">"Clear"</a> })}
        </form>
    }
}

/// One filter's select: "Any" first, then `options`, the `chosen` one selected.
#[component]
fn Choice(
    label: &'static str,
    name: &'static str,
    options: Vec<String>,
    chosen: Option<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select name=name>
                <option value="">"Any"</option>
                {options
                    .into_iter()
                    .map(|option| {
                        let selected = chosen.as_deref() == Some(option.as_str());
                        let text = option.clone();
                        view! { <option value=option selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
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
                    {machine
                        .alarm
                        .map(|severity| {
                            view! {
                                <span class="badge alarm" data-status=severity>
                                    "alarm"
                                </span>
                            }
                        })}
                    <StatusBadge status=machine.status />
                </div>
                <div class="card-sub">
                    <span class="machine-name">{machine.name}</span>
                    {machine.place.map(|place| view! { <span>" · "{place}</span> })}
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

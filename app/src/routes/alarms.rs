//! `/alarms`: alarms not cleared first, newest first, filtered by state and machine with a GET
//! form; engineers acknowledge and clear them with a note. Plain forms, for a phone at the
//! machine, with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::components::error_view::ErrorView;
use crate::error::AppError;
use crate::model::{AlarmAction, AlarmQuery, AlarmView, AlarmsPage};

/// The states the filter offers, with their labels.
const STATES: [(&str, &str); 4] = [
    ("", "Not cleared"),
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("cleared", "Cleared"),
];

#[server(prefix = "/_fn")]
pub async fn get_alarms(#[server(default)] query: AlarmQuery) -> Result<AlarmsPage, AppError> {
    let viewer = crate::services::viewer().await?;
    crate::services::services()?
        .alarms
        .alarms(query, &viewer)
        .await
}

#[component]
pub fn AlarmsPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        params.with(|p| AlarmQuery {
            state: p.get("state").filter(|s| !s.is_empty()),
            machine: p.get("machine").filter(|m| !m.is_empty()),
        })
    };
    let error = move || params.read().get("error");
    let done = move || params.read().get("done");
    let alarms = Resource::new(query, get_alarms);
    view! {
        <Title text="Alarms" />
        <Meta name="description" content="The fleet's alarms, open ones first: acknowledge or clear them and see who did what and when." />
        <h1>"Alarms"</h1>
        {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        {move || done().map(|done| view! { <p class="notice" role="status">{done}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading the alarms…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                {move || Suspend::new(async move {
                    let query = query();
                    alarms.await.map(|page| view! { <Alarms page query /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn Alarms(page: AlarmsPage, query: AlarmQuery) -> impl IntoView {
    let chosen = query.state.clone().unwrap_or_default();
    let summary = format!(
        "{} open, {} acknowledged. An alarm clears by itself once its machine has been healthy \
         for {}.",
        page.open, page.acknowledged, page.clears_after
    );
    let empty = page.alarms.is_empty().then(|| {
        view! {
            <p class="empty">
                "No alarms here. An alarm is raised when a machine's prediction turns warning \
                 or critical."
            </p>
        }
    });
    let csrf = page.csrf.clone();
    view! {
        <p class="muted">{summary}</p>
        {page.webhook_trouble.map(|trouble| view! { <p class="error" role="alert">{trouble}</p> })}
        <form class="filters" method="get" action="/alarms">
            <label>
                "State"
                <select name="state">
                    {STATES
                        .into_iter()
                        .map(|(value, label)| {
                            view! {
                                <option value=value selected=value == chosen>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Machine"
                <input
                    type="text"
                    enterkeyhint="search"
                    name="machine"
                    value=query.machine.clone().unwrap_or_default()
                    placeholder="any"
                    autocapitalize="none"
                    spellcheck="false"
                />
            </label>
            <button type="submit">"Show"</button>
        </form>
        {empty}
        <ul class="alarms">
            {page
                .alarms
                .into_iter()
                .map(|alarm| view! { <AlarmCard alarm csrf=csrf.clone() /> })
                .collect_view()}
        </ul>
    }
}

/// An alarm, with the engineers' forms when `csrf` is given.
#[component]
pub fn AlarmCard(alarm: AlarmView, csrf: Option<String>) -> impl IntoView {
    let href = format!("/machines/{}", alarm.machine);
    let status = if alarm.state == "cleared" {
        "unknown".to_string()
    } else {
        alarm.severity.clone()
    };
    let drivers = (!alarm.drivers.is_empty())
        .then(|| view! { <p class="muted">"Drivers: " {alarm.drivers.join(", ")}</p> });
    let mode = alarm
        .failure_mode
        .clone()
        .map(|mode| view! { <span class="badge">{mode}</span> });
    let escalated = alarm
        .escalated
        .clone()
        .map(|when| view! { <p class="muted">"Escalated to critical " {when}</p> });
    let history = [
        ("Acknowledged", alarm.acknowledged.clone()),
        ("Cleared", alarm.cleared.clone()),
    ]
    .into_iter()
    .filter_map(|(what, action)| action.map(|action| view! { <ActionLine what action /> }))
    .collect_view();
    let actions = csrf.map(|csrf| view! { <AlarmForms alarm=alarm.clone() csrf /> });
    view! {
        <li class="card alarm" data-status=status data-state=alarm.state.clone()>
            <div class="card-head">
                <a class="card-title" href=href>
                    {alarm.machine_display_name.clone()}
                </a>
                <span class="badge" data-status=alarm.severity.clone()>
                    {alarm.severity.clone()}
                </span>
                <span class="badge" data-state=alarm.state.clone()>
                    {alarm.state.clone()}
                </span>
                {mode}
            </div>
            <p>
                <strong>{alarm.peak.clone()}</strong>
                " at its peak; raised "
                {alarm.raised.clone()}
                " by model version "
                {alarm.model_version_id}
            </p>
            {escalated}
            {drivers}
            {history}
            {actions}
        </li>
    }
}

#[component]
fn ActionLine(what: &'static str, action: AlarmAction) -> impl IntoView {
    let by = action.by.map_or_else(
        || "by itself: the machine recovered".to_string(),
        |by| format!("by {by}"),
    );
    let note = action
        .note
        .map(|note| format!(": “{note}”"))
        .unwrap_or_default();
    view! { <p class="muted">{format!("{what} {} {by}{note}", action.when)}</p> }
}

/// Acknowledge (an open alarm) and clear (one not cleared), each with an optional note.
#[component]
fn AlarmForms(alarm: AlarmView, csrf: String) -> impl IntoView {
    let form = |action: &'static str, label: &'static str| {
        view! {
            <form class="inline-form" method="post" action=format!("/alarms/{}/{action}", alarm.id)>
                <input type="hidden" name="csrf" value=csrf.clone() />
                <label>
                    "Note"
                    <input type="text" name="note" maxlength="500" placeholder="optional" />
                </label>
                <button type="submit">{label}</button>
            </form>
        }
    };
    let acknowledge = (alarm.state == "open").then(|| form("acknowledge", "Acknowledge"));
    let clear = (alarm.state != "cleared").then(|| form("clear", "Clear"));
    view! {
        {acknowledge}
        {clear}
    }
}

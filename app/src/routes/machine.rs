//! `/machines/{name}`: one machine's latest readings and sensor trends.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::error_view::ErrorView;
use crate::components::live_refresh::LiveRefresh;
use crate::components::status_badge::StatusBadge;
use crate::error::AppError;
use crate::model::{
    format_value, percent, time_ago, Chart, ChartWindow, MachineDetail, MaintenanceEntry, Role,
    MAINTENANCE_KINDS,
};
use crate::routes::alarms::AlarmCard;
use crate::routes::login::get_viewer;

/// The failure modes the maintenance form offers (AI4I's), besides none.
const FAILURE_MODES: [(&str, &str); 5] = [
    ("TWF", "Tool wear (TWF)"),
    ("HDF", "Heat dissipation (HDF)"),
    ("PWF", "Power (PWF)"),
    ("OSF", "Overstrain (OSF)"),
    ("RNF", "Random (RNF)"),
];

/// One machine with its charts over `window` (`1h`, `24h`, `7d`, `30d`, `1y`; the latest
/// readings when `None`).
#[server(prefix = "/_fn")]
pub async fn get_machine(name: String, window: Option<String>) -> Result<MachineDetail, AppError> {
    let window = match window.as_deref().filter(|w| !w.is_empty()) {
        None => None,
        Some(text) => Some(ChartWindow::from_name(text).ok_or_else(|| {
            let names: Vec<&str> = ChartWindow::ALL.iter().map(|w| w.as_str()).collect();
            AppError::Invalid(format!(
                "window: {:?} is not a window; use one of {}",
                text.chars().take(16).collect::<String>(),
                names.join(", ")
            ))
        })?),
    };
    crate::services::services()?
        .fleet
        .machine(&name, window)
        .await
}

/// The machine page.
#[component]
pub fn MachinePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let window = move || query.read().get("window");
    let detail = Resource::new(
        move || (name(), window()),
        |(name, window)| get_machine(name, window),
    );
    // Read once: a title reading the route's params reactively panicked when rendered after
    // they were disposed, under concurrent requests.
    let title = params.with_untracked(|p| p.get("name").unwrap_or_default());
    let viewer = Resource::new(|| (), |_| get_viewer());
    let error = move || query.read().get("error");
    let done = move || query.read().get("done");
    view! {
        <Title text=title.clone() />
        <Meta name="description" content=format!("{title}: its latest readings, failure risk and what drives it, its alarms and its maintenance.") />
        <p class="crumbs">
            <a href="/">"Fleet"</a>
            " / "
            <span>{title}</span>
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
        // Outside the live region: a refresh must not wipe a form being filled in.
        <section id="maintenance">
            <h2>"Maintenance"</h2>
            {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
            {move || done().map(|done| view! { <p class="notice" role="status">{done}</p> })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let csrf = viewer
                        .await
                        .ok()
                        .and_then(|viewer| viewer.signed_in)
                        .filter(|user| user.role >= Role::Engineer)
                        .map(|user| user.csrf_token);
                    detail.await.ok().map(|detail| view! { <Maintenance detail csrf /> })
                })}
            </Suspense>
        </section>
    }
}

/// What was done to the machine, and the form to record more (engineers and admins).
#[component]
fn Maintenance(detail: MachineDetail, csrf: Option<String>) -> impl IntoView {
    let records = if detail.maintenance.is_empty() {
        view! { <p class="muted">"Nothing recorded yet."</p> }.into_any()
    } else {
        view! {
            <ul class="maintenance">
                {detail
                    .maintenance
                    .into_iter()
                    .map(|entry| view! { <MaintenanceLine entry /> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let open_alarms: Vec<(i64, String)> = detail
        .alarms
        .iter()
        .filter(|alarm| alarm.state != "cleared")
        .map(|alarm| {
            (
                alarm.id,
                format!(
                    "Alarm {}: {}, raised {}",
                    alarm.id, alarm.severity, alarm.raised
                ),
            )
        })
        .collect();
    let action = format!("/machines/{}/maintenance", detail.card.name);
    let form = csrf.map(|csrf| {
        view! {
            <form class="card form narrow" method="post" action=action>
                <h3>"Record what was done"</h3>
                <input type="hidden" name="csrf" value=csrf />
                <label>
                    "What"
                    <select name="kind">
                        {MAINTENANCE_KINDS
                            .into_iter()
                            .map(|(value, label)| view! { <option value=value>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Failure mode"
                    <select name="failure_mode">
                        <option value="">"None or not known"</option>
                        {FAILURE_MODES
                            .into_iter()
                            .map(|(value, label)| view! { <option value=value>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "When (UTC)"
                    <input
                        type="datetime-local"
                        name="done_at"
                        value=detail.now_minute_utc.clone()
                        required
                    />
                </label>
                <label>
                    "For"
                    <select name="alarm">
                        {open_alarms
                            .into_iter()
                            .map(|(id, label)| view! { <option value=id.to_string()>{label}</option> })
                            .collect_view()}
                        <option value="">"No alarm"</option>
                    </select>
                </label>
                <label>
                    "Note"
                    <input type="text" name="note" maxlength="500" placeholder="optional" />
                </label>
                <button type="submit">"Record"</button>
                <p class="muted">
                    "A repair or a part replaced marks the machine's last reading before then as                      its failure, which the next training run on its history learns from; a                      false alarm needs its alarm."
                </p>
            </form>
        }
    });
    view! {
        {records}
        {form}
    }
}

#[component]
fn MaintenanceLine(entry: MaintenanceEntry) -> impl IntoView {
    let mode = entry
        .failure_mode
        .map(|mode| format!(" ({mode})"))
        .unwrap_or_default();
    let alarm = entry
        .alarm_id
        .map(|id| format!(", for alarm {id}"))
        .unwrap_or_default();
    let note = entry
        .note
        .map(|note| format!(": “{note}”"))
        .unwrap_or_default();
    view! {
        <li>
            <strong>{format!("{}{mode}", entry.kind)}</strong>
            {format!(" {} by {}{alarm}{note}", entry.when, entry.by)}
        </li>
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
    let card_name = card.name.clone();
    let all_alarms = format!("/alarms?machine={}", card.name);
    let alarms = if detail.alarms.is_empty() {
        view! { <p class="muted">"No alarms so far."</p> }.into_any()
    } else {
        view! {
            <ul class="alarms">
                {detail
                    .alarms
                    .into_iter()
                    .map(|alarm| view! { <AlarmCard alarm csrf=None /> })
                    .collect_view()}
            </ul>
            <p>
                <a href=all_alarms>"Its alarms on the alarms page"</a>
                " (to acknowledge or clear them)"
            </p>
        }
        .into_any()
    };
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
        <h2 id="alarms">"Alarms"</h2>
        {alarms}
        <h2>"Latest readings"</h2>
        <div class="table-scroll">
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
        </div>
        <h2 id="trends">"Sensor trends"</h2>
        <WindowLinks name=card_name window=detail.window />
        <div class="charts">
            {detail.charts.into_iter().map(|chart| view! { <ChartView chart /> }).collect_view()}
        </div>
    }
}

/// The spans the sensor charts can cover: plain links, the current one marked.
#[component]
fn WindowLinks(name: String, window: Option<ChartWindow>) -> impl IntoView {
    let link = move |label: &'static str, target: Option<ChartWindow>| {
        let href = match target {
            Some(w) => format!("/machines/{name}?window={}#trends", w.as_str()),
            None => format!("/machines/{name}#trends"),
        };
        let current = (target == window).then_some("page");
        view! { <a href=href aria-current=current>{label}</a> }
    };
    view! {
        <nav class="windows" aria-label="Span of the sensor charts">
            {link("Latest", None)}
            {ChartWindow::ALL.map(|w| link(w.as_str(), Some(w))).into_iter().collect_view()}
        </nav>
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

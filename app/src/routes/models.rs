//! `/models`: each profile's model versions, their metrics next to the active version's, their
//! plots, and (for admins) promotion and roll-back per machine.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::components::error_view::ErrorView;
use crate::error::AppError;
use crate::model::{
    grouped, time_ago, MachinesPage, ModelVersionView, ModelsOverview, ProfileModels, Viewer,
};
use crate::routes::login::get_viewer;
use crate::routes::machine::ChartView;

#[server(prefix = "/_fn")]
pub async fn get_models(#[server(default)] page: MachinesPage) -> Result<ModelsOverview, AppError> {
    crate::services::services()?.training.models(page).await
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let notice = move || query.read().get("notice");
    let page = move || {
        query.with(|q| MachinesPage {
            profile: q.get("profile").filter(|v| !v.is_empty()),
            after: q.get("after").filter(|v| !v.is_empty()),
        })
    };
    let models = Resource::new(page, get_models);
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Title text="Models" />
        <Meta name="description" content="Model versions for each kind of machine: their cross-validated quality and calibration, and the machines each one scores." />
        <h1>"Model versions"</h1>
        {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        {move || notice().map(|notice| view! { <p class="notice" role="status">{notice}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading models…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorView errors /> }>
                {move || Suspend::new(async move {
                    let viewer = viewer.await.unwrap_or_default();
                    models
                        .await
                        .map(|models| {
                            let now = models.generated_at;
                            if models.profiles.is_empty() {
                                return view! {
                                    <p class="empty">
                                        "No model versions yet. "
                                        <a href="/training/new">"Train one"</a>
                                    </p>
                                }
                                    .into_any();
                            }
                            models
                                .profiles
                                .into_iter()
                                .map(|profile| {
                                    view! { <ProfileSection profile viewer=viewer.clone() now /> }
                                })
                                .collect_view()
                                .into_any()
                        })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn ProfileSection(profile: ProfileModels, viewer: Viewer, now: i64) -> impl IntoView {
    let csrf = viewer.admin_csrf();
    let machine_names: Vec<String> = profile.machines.iter().map(|m| m.name.clone()).collect();
    let shown = profile.machines.len();
    let count = match profile.machine_count {
        1 => "1 machine".to_string(),
        n if n as usize == shown => format!("{} machines", grouped(n)),
        n => format!("{} machines, {shown} on this page by name", grouped(n)),
    };
    let next = profile.next.clone().map(|after| {
        let href = format!(
            "/models?profile={}&after={after}#machines-{}",
            profile.profile, profile.profile
        );
        view! {
            <nav class="pager" aria-label=format!("Pages of the {} machines", profile.profile)>
                <a href=format!("/models#machines-{}", profile.profile)>"← First page"</a>
                <a href=href rel="next">"Next machines →"</a>
            </nav>
        }
    });
    view! {
        <section class="profile-models" data-profile=profile.profile.clone()>
            <h2 id=format!("machines-{}", profile.profile)>{profile.profile.clone()}</h2>
            <p class="muted">{count}</p>
            <div class="table-scroll">
                <table class="active-models">
                    <thead>
                        <tr>
                            <th scope="col">"Machine"</th>
                            <th scope="col">"Active version"</th>
                            <th scope="col">"Roll back"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {profile
                            .machines
                            .iter()
                            .map(|machine| {
                                let rollback = match (&csrf, &machine.previous) {
                                    (Some(csrf), Some((id, label))) => view! {
                                        <form method="post" action=format!("/models/{id}/promote")>
                                            <input type="hidden" name="csrf" value=csrf.clone() />
                                            <input type="hidden" name="machine" value=machine.name.clone() />
                                            <input type="hidden" name="reason" value="roll back" />
                                            <button type="submit" class="secondary">
                                                {format!("Roll back to {label}")}
                                            </button>
                                        </form>
                                    }
                                    .into_any(),
                                    (_, Some((_, label))) => view! { <span class="muted">{format!("to {label}")}</span> }.into_any(),
                                    _ => view! { <span class="muted">"—"</span> }.into_any(),
                                };
                                view! {
                                    <tr>
                                        <td>
                                            <a href=format!("/machines/{}", machine.name)>
                                                {machine.name.clone()}
                                            </a>
                                        </td>
                                        <td>{machine.active.clone().unwrap_or_else(|| "none".into())}</td>
                                        <td>{rollback}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {next}
            {profile
                .versions
                .into_iter()
                .map(|version| {
                    view! {
                        <VersionCard
                            version
                            csrf=csrf.clone()
                            machines=machine_names.clone()
                            now
                        />
                    }
                })
                .collect_view()}
            {(!profile.promotions.is_empty())
                .then(|| {
                    view! {
                        <details class="promotions">
                            <summary>"Promotion history"</summary>
                            <ul>
                                {profile
                                    .promotions
                                    .into_iter()
                                    .map(|p| {
                                        view! {
                                            <li>
                                                {format!(
                                                    "{} → {} by {} {}",
                                                    p.machine,
                                                    p.version,
                                                    p.by,
                                                    time_ago(p.at, now),
                                                )}
                                                {(!p.reason.is_empty())
                                                    .then(|| format!(": {}", p.reason))}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </details>
                    }
                })}
        </section>
    }
    .into_any()
}

#[component]
fn VersionCard(
    version: ModelVersionView,
    csrf: Option<String>,
    machines: Vec<String>,
    now: i64,
) -> impl IntoView {
    let active = version.active_count > 0;
    let active_on = if version.active_count as usize > version.active_on.len() {
        format!("active on {} machines", grouped(version.active_count))
    } else {
        format!("active on {}", version.active_on.join(", "))
    };
    let promote = csrf.map(|csrf| {
        view! {
            <form class="promote" method="post" action=format!("/models/{}/promote", version.id)>
                <input type="hidden" name="csrf" value=csrf />
                <label>
                    "Promote on "
                    <select name="machine">
                        <option value="">"every machine of the profile"</option>
                        // The machines of this page; the others are a page away.
                        {machines
                            .iter()
                            .map(|m| view! { <option value=m.clone()>{m.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Why " <input type="text" name="reason" maxlength="200" placeholder="optional" />
                </label>
                <button type="submit">"Promote"</button>
            </form>
        }
    });
    view! {
        <article class="card version" data-version=version.id data-active=active.to_string()>
            <h3>
                {version.label.clone()}
                {active
                    .then(|| {
                        view! {
                            <span class="badge" data-state="active">
                                {active_on.clone()}
                            </span>
                        }
                    })}
            </h3>
            <p class="muted">
                {format!("{} · created {}", version.algorithm, time_ago(version.created_at, now))}
                {version
                    .training_run_id
                    .map(|id| {
                        view! {
                            " · "
                            <a href=format!("/training/{id}")>{format!("training run #{id}")}</a>
                        }
                    })}
                {version
                    .mlflow_url
                    .clone()
                    .map(|url| view! { " · " <a href=url>"MLflow"</a> })}
            </p>
            <div class="table-scroll">
                <table class="metrics">
                    <thead>
                        <tr>
                            <th scope="col">"Metric"</th>
                            <th scope="col">"This version"</th>
                            <th scope="col">"Active"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {version
                            .metrics
                            .iter()
                            .map(|m| {
                                let verdict = match m.better {
                                    Some(true) => "better",
                                    Some(false) => "worse",
                                    None => "",
                                };
                                view! {
                                    <tr data-verdict=verdict>
                                        <th scope="row">{m.name.clone()}</th>
                                        <td>{m.value.clone()} " " <span class="verdict">{verdict}</span></td>
                                        <td>{m.active.clone().unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {version
                .alarm_outcomes
                .clone()
                .map(|outcomes| view! { <p class="alarm-outcomes">{outcomes}</p> })}
            {promote}
            <details class="plots">
                <summary>"Plots"</summary>
                <div class="charts">
                    {version
                        .charts
                        .into_iter()
                        .map(|chart| view! { <ChartView chart /> })
                        .collect_view()}
                </div>
            </details>
        </article>
    }
    .into_any()
}

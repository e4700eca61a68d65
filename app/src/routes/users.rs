//! `/users` (admin): add users with a role, change a role, disable or enable a user, and set a
//! new password. Plain forms, so the page works without JavaScript and on a phone.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::components::error_view::admin_page_refusal;
use crate::error::AppError;
use crate::model::{Role, UserEntry};

#[server(prefix = "/_fn")]
pub async fn get_users() -> Result<(Vec<UserEntry>, String), AppError> {
    let viewer = crate::services::require_admin().await?;
    let users = crate::services::services()?.users.users().await?;
    Ok((users, viewer.admin_csrf().unwrap_or_default()))
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let done = move || query.read().get("done");
    let users = Resource::new(|| (), |_| get_users());
    view! {
        <Title text="Users" />
        <Meta name="description" content="Who may sign in to icantkube, and as a viewer, an engineer or an admin." />
        <h1>"Users"</h1>
        {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        {move || done().map(|done| view! { <p class="notice" role="status">{done}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading the users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok((users, csrf)) => view! { <Users users csrf /> }.into_any(),
                    Err(error) => admin_page_refusal(error, "/users", "to manage users"),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Users(users: Vec<UserEntry>, csrf: String) -> impl IntoView {
    let empty = users.is_empty().then(|| {
        view! {
            <p class="muted">
                "No users yet: only the bootstrap admin can sign in. Add the engineers and \
                 viewers who use icantkube above."
            </p>
        }
    });
    view! {
        <form class="card form narrow" method="post" action="/users">
            <h2>"Add a user"</h2>
            <input type="hidden" name="csrf" value=csrf.clone() />
            <label>
                "User name"
                <input
                    type="text"
                    name="name"
                    required
                    minlength="2"
                    maxlength="40"
                    pattern="[a-z0-9][a-z0-9._\\-]*"
                    autocomplete="off"
                    autocapitalize="none"
                    spellcheck="false"
                />
                <span class="muted">"lower-case letters, digits, '.', '_' and '-'"</span>
            </label>
            <RoleSelect chosen=Role::Engineer />
            <label>
                "Password"
                <input
                    type="password"
                    name="password"
                    required
                    minlength="12"
                    autocomplete="new-password"
                />
                <span class="muted">"at least 12 characters; tell the user in person"</span>
            </label>
            <button type="submit">"Add the user"</button>
        </form>
        <h2>"Everyone who can sign in"</h2>
        <p class="muted">
            "Besides these, the bootstrap admin signs in as admin with the password the server \
             was started with. Viewers look; engineers also handle alarms and record \
             maintenance; admins also train and promote models and manage users."
        </p>
        {empty}
        <ul class="users">
            {users
                .into_iter()
                .map(|user| view! { <UserCard user csrf=csrf.clone() /> })
                .collect_view()}
        </ul>
    }
}

#[component]
fn UserCard(user: UserEntry, csrf: String) -> impl IntoView {
    let base = format!("/users/{}", user.name);
    let (toggle_label, toggle_value) = if user.disabled {
        ("Enable", "false")
    } else {
        ("Disable", "true")
    };
    let state = user
        .disabled
        .then(|| view! { <span class="badge" data-status="critical">"disabled"</span> });
    view! {
        <li class="card user" data-disabled=user.disabled.to_string()>
            <div class="card-head">
                <span class="card-title">{user.name.clone()}</span>
                <span class="badge">{user.role.as_str()}</span>
                {state}
            </div>
            <p class="muted">"added " {user.created} "; changed " {user.changed}</p>
            <form class="inline-form" method="post" action=format!("{base}/role")>
                <input type="hidden" name="csrf" value=csrf.clone() />
                <RoleSelect chosen=user.role />
                <button type="submit">"Change role"</button>
            </form>
            <form class="inline-form" method="post" action=format!("{base}/password")>
                <input type="hidden" name="csrf" value=csrf.clone() />
                <label>
                    "New password"
                    <input
                        type="password"
                        name="password"
                        required
                        minlength="12"
                        autocomplete="new-password"
                    />
                </label>
                <button type="submit">"Set password"</button>
            </form>
            <form class="inline-form" method="post" action=format!("{base}/disabled")>
                <input type="hidden" name="csrf" value=csrf />
                <input type="hidden" name="disabled" value=toggle_value />
                <button type="submit" class=if user.disabled { "" } else { "danger" }>
                    {toggle_label}
                </button>
            </form>
        </li>
    }
}

#[component]
fn RoleSelect(chosen: Role) -> impl IntoView {
    view! {
        <label>
            "Role"
            <select name="role">
                {Role::ALL
                    .into_iter()
                    .map(|role| {
                        view! {
                            <option value=role.as_str() selected=role == chosen>
                                {role.as_str()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

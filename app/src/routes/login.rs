//! `/login`: signing in, and who is looking at any page.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::model::Viewer;

/// Who is looking: anyone, or a signed-in user (with their role and forms' token).
#[server(prefix = "/_fn")]
pub async fn get_viewer() -> Result<Viewer, AppError> {
    crate::services::viewer().await
}

/// The sign-in page. The form posts to `POST /login`, which answers with the session cookie
/// and sends the user on to `next`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_string());
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Title text="Sign in" />
        <Meta name="description" content="Sign in to icantkube to acknowledge alarms, record maintenance or train models." />
        <h1>"Sign in"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                viewer
                    .await
                    .ok()
                    .and_then(|v| v.signed_in)
                    .map(|user| {
                        view! {
                            <p class="notice">
                                {format!("You are signed in as {} ({}).", user.name, user.role.as_str())}
                            </p>
                        }
                    })
            })}
        </Suspense>
        {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        <form class="card form narrow" method="post" action="/login">
            <input type="hidden" name="next" value=next />
            <label>
                "User name"
                <input
                    type="text"
                    name="user"
                    value="admin"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                />
            </label>
            <label>
                "Password"
                <input
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                />
            </label>
            <button type="submit">"Sign in"</button>
        </form>
        <p class="muted">
            "Viewing needs no sign-in. Admins register machines, train and promote models, and \
             add users; the first admin signs in as admin with the password the server was \
             started with."
        </p>
    }
}

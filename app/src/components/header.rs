//! The site header: brand, navigation, and who is signed in.

use leptos::prelude::*;

use crate::model::Role;
use crate::routes::login::get_viewer;

/// Brand, links to the pages, and "Sign in" or "Sign out".
#[component]
pub fn Header() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="28" height="28" />
                <span>"icantkube"</span>
            </a>
            <nav aria-label="Main">
                <a href="/">"Fleet"</a>
                <a href="/alarms">"Alarms"</a>
                <a href="/training">"Training"</a>
                <a href="/models">"Models"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match viewer.await.ok().and_then(|v| v.signed_in) {
                            Some(user) => {
                                let users = (user.role == Role::Admin)
                                    .then(|| view! { <a href="/users">"Users"</a> });
                                let title = format!(
                                    "Signed in as {} ({})",
                                    user.name,
                                    user.role.as_str(),
                                );
                                view! {
                                    {users}
                                    <form class="inline" method="post" action="/logout">
                                        <input type="hidden" name="csrf" value=user.csrf_token />
                                        <button
                                            type="submit"
                                            class="link"
                                            title=title
                                        >
                                            "Sign out "
                                            {user.name}
                                        </button>
                                    </form>
                                }
                                    .into_any()
                            }
                            None => view! { <a href="/login">"Sign in"</a> }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}

//! The site header: brand, navigation, and the admin's sign-in state.

use leptos::prelude::*;

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
                <a href="/training">"Training"</a>
                <a href="/models">"Models"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match viewer.await.ok().and_then(|v| v.csrf_token) {
                            Some(csrf) => {
                                view! {
                                    <form class="inline" method="post" action="/logout">
                                        <input type="hidden" name="csrf" value=csrf />
                                        <button type="submit" class="link">"Sign out"</button>
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

//! The site header: brand and navigation.

use leptos::prelude::*;

/// Brand and links to the pages that exist.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="28" height="28" />
                <span>"icantkube"</span>
            </a>
            <nav aria-label="Main">
                <a href="/">"Fleet"</a>
            </nav>
        </header>
    }
}

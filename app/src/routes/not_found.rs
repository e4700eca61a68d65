//! The page for any address no route matches.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// "Not found", with the right HTTP status.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <Meta name="description" content="There is no page at this address; the fleet page lists every machine." />
        <h1>"Not found"</h1>
        <p>"There is no page at this address. " <a href="/">"Back to the fleet"</a></p>
    }
}

//! icantkube's web front: the document shell, the routed pages and their server functions.
//!
//! Pages render on the server; only the small widgets marked `#[island]` ship to the browser
//! as WebAssembly (see the README's architecture section for why).

// The training pages' views are deep types: the browser build needs more than the default 128.
#![recursion_limit = "256"]

pub mod components;
pub mod error;
pub mod model;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="theme-color" content="#1d4ed8" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <AutoReload options=options.clone() />
                // The build names these files after their content (see server/src/http/assets.rs).
                <HashedStylesheet options=options.clone() id="leptos" />
                <components::island_scripts::IslandScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The routed body of every page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| format!("{page} · icantkube") />
        <Router>
            <components::header::Header />
            <main class="page">
                // Async: the page is sent once its data is in, so it reads complete without
                // JavaScript and a missing machine answers with a real 404 status.
                <Routes fallback=routes::not_found::NotFound>
                    <Route path=path!("/") view=routes::fleet::FleetPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/machines/:name")
                        view=routes::machine::MachinePage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/login") view=routes::login::LoginPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/training")
                        view=routes::training::TrainingPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/training/new")
                        view=routes::training_new::NewTrainingPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/training/:id")
                        view=routes::training_run::TrainingRunPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/models") view=routes::models::ModelsPage ssr=SsrMode::Async />
                    <Route path=path!("/users") view=routes::users::UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/alarms") view=routes::alarms::AlarmsPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// Browser entry point: wakes up the islands in the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console are for development: the hook brings the formatting of
    // panic payloads into the bundle.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}

//! How a failed data region tells the user what went wrong.

use leptos::prelude::*;

/// Lists the errors an `ErrorBoundary` caught; a missing thing answers with HTTP 404.
#[component]
pub fn ErrorView(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages: Vec<String> = errors
        .get_untracked()
        .into_iter()
        .map(|(_, error)| {
            #[cfg(feature = "ssr")]
            if let Some(crate::error::AppError::NotFound(_)) =
                error.downcast_ref::<crate::error::AppError>()
            {
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(http::StatusCode::NOT_FOUND);
                }
            }
            error.to_string()
        })
        .collect();
    view! {
        <div class="error" role="alert">
            <ul>{messages.into_iter().map(|message| view! { <li>{message}</li> }).collect_view()}</ul>
        </div>
    }
}

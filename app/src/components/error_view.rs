//! How a failed data region tells the user what went wrong.

use leptos::prelude::*;

/// Lists the errors an `ErrorBoundary` caught; a missing thing answers with HTTP 404, an
/// unavailable database with 503.
#[component]
pub fn ErrorView(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages: Vec<String> = errors
        .get_untracked()
        .into_iter()
        .map(|(_, error)| {
            #[cfg(feature = "ssr")]
            {
                let status = match error.downcast_ref::<crate::error::AppError>() {
                    Some(crate::error::AppError::NotFound(_)) => Some(http::StatusCode::NOT_FOUND),
                    Some(crate::error::AppError::Unavailable(_)) => {
                        Some(http::StatusCode::SERVICE_UNAVAILABLE)
                    }
                    _ => None,
                };
                if let (Some(status), Some(response)) =
                    (status, use_context::<leptos_axum::ResponseOptions>())
                {
                    response.set_status(status);
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

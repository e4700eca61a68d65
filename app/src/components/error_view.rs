//! How a failed data region tells the user what went wrong.

use leptos::prelude::*;

/// Lists the errors an `ErrorBoundary` caught; a missing thing answers with HTTP 404, a bad
/// request 400, an unavailable database 503.
#[component]
pub fn ErrorView(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages: Vec<String> = errors
        .get_untracked()
        .into_iter()
        .map(|(_, error)| {
            #[cfg(feature = "ssr")]
            {
                // A sign-in or a server failure keeps the page's 200: the page itself renders.
                let status = error
                    .downcast_ref::<crate::error::AppError>()
                    .map(|error| error.status())
                    .filter(|status| {
                        [
                            http::StatusCode::NOT_FOUND,
                            http::StatusCode::BAD_REQUEST,
                            http::StatusCode::SERVICE_UNAVAILABLE,
                        ]
                        .contains(status)
                    });
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

/// What an admin page shows instead of its content when its server function refused: a link
/// to sign in as admin (back to `page` afterwards) saying what for, or the error.
pub fn admin_page_refusal(error: crate::error::AppError, page: &str, purpose: &str) -> AnyView {
    match error {
        crate::error::AppError::SignInRequired => view! {
            <p class="notice">
                <a href=format!("/login?next={page}")>"Sign in"</a>
                {format!(" as admin {purpose}.")}
            </p>
        }
        .into_any(),
        error => {
            let errors = ArcRwSignal::new(Errors::default());
            errors.update(|e| e.insert_with_default_key(error));
            view! { <ErrorView errors /> }.into_any()
        }
    }
}

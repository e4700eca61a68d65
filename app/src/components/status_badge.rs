//! A machine's status as a coloured, labelled badge.

use leptos::prelude::*;

use crate::model::Status;

/// The status in words (never colour alone, for colour-blind readers).
#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! { <span class="badge" data-status=status.as_str()>{status.as_str()}</span> }
}

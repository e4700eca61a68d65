//! A form's machine field: a list of every machine while the fleet is small enough to list,
//! otherwise a name to type with the first machines as suggestions, so the page stays the same
//! size whatever the fleet's (a select of 10,000 machines made the new-training page slow on
//! a phone).

use leptos::prelude::*;

use crate::model::MachineChoices;

/// The field named `machine`. `every`, when given, is what leaving it empty means (an option
/// of the list, or the text field's placeholder); without it a machine must be chosen.
#[component]
pub fn MachinePicker(
    choices: MachineChoices,
    /// The suggestions' id, unique on the page.
    suggestions: &'static str,
    #[prop(optional)] every: Option<String>,
) -> impl IntoView {
    let options = move |with_display: bool| {
        choices
            .listed
            .iter()
            .map(|(name, display)| {
                let label = if with_display {
                    format!("{display} ({name})")
                } else {
                    display.clone()
                };
                view! { <option value=name.clone()>{label}</option> }
            })
            .collect_view()
    };
    if choices.complete {
        view! {
            <select name="machine">
                {every.map(|every| view! { <option value="">{every}</option> })}
                {options(true)}
            </select>
        }
        .into_any()
    } else {
        view! {
            <input
                type="text"
                name="machine"
                list=suggestions
                required=every.is_none()
                placeholder=every.unwrap_or_else(|| "machine name".into())
                maxlength="64"
                autocomplete="off"
                autocapitalize="none"
                spellcheck="false"
            />
            <datalist id=suggestions>{options(false)}</datalist>
        }
        .into_any()
    }
}

//! Keeps a server-rendered region current without shipping its components to the browser.
//!
//! The island re-fetches the page it sits on and swaps in the fresh HTML of one element, so the
//! region stays plain server-rendered markup (and works as-is without JavaScript, on reload).
//! It asks with the ETag of the last answer: while the page's data is unchanged the server
//! answers 304 without rendering it, and nothing is swapped.
//!
//! The switch's settings are data attributes of the element around it, read in the browser:
//! an island without props needs no JSON decoder in the bundle (with the upload bar's, about
//! 22 KB of the WebAssembly after brotli, a third of it).

use leptos::prelude::*;

/// "Live" switch that refreshes the element with id `target` every `seconds` while the tab is
/// visible.
#[component]
pub fn LiveRefresh(target: String, seconds: u32) -> impl IntoView {
    view! {
        <span
            class="live-refresh"
            data-target=target
            data-seconds=seconds
            title=format!("When live, the data refreshes every {seconds} s")
        >
            <LiveSwitch />
        </span>
    }
}

/// The switch; once hydrated it starts refreshing what the element around it names. It holds
/// no signals: the browser's own listeners and timer drive it, which keeps Leptos' reactive
/// system out of the bundle.
#[island]
fn LiveSwitch() -> impl IntoView {
    view! {
        <button type="button" class="live" aria-pressed="true" use:start_live_switch>
            "● Live"
        </button>
    }
}

/// Called with the switch's button as it hydrates (the server's render calls nothing).
fn start_live_switch(button: leptos::tachys::renderer::types::Element) {
    #[cfg(feature = "hydrate")]
    start(button);
    #[cfg(not(feature = "hydrate"))]
    let _ = button;
}

/// Reads the target and period from the element around `button`, refreshes on that period
/// while live, and lets a click pause or resume.
#[cfg(feature = "hydrate")]
fn start(button: web_sys::Element) {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(Some(settings)) = button.closest(".live-refresh") else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let target = settings.get_attribute("data-target").unwrap_or_default();
    let seconds: i32 = settings
        .get_attribute("data-seconds")
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or(10);
    let _ = button.set_attribute("aria-controls", &target);
    let live = Rc::new(Cell::new(true));

    let switch = button.clone();
    let toggled = live.clone();
    let on_click = Closure::<dyn FnMut()>::new(move || {
        let on = !toggled.get();
        toggled.set(on);
        let _ = switch.set_attribute("aria-pressed", if on { "true" } else { "false" });
        switch.set_text_content(Some(if on { "● Live" } else { "❚❚ Paused" }));
    });
    let _ = button.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    on_click.forget();

    let etag = Rc::new(RefCell::new(None::<String>));
    let on_tick = Closure::<dyn FnMut()>::new(move || {
        if live.get() {
            let target = target.clone();
            let etag = etag.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let last = etag.borrow().clone();
                // A failed refresh keeps the old content; the next tick tries again.
                if let Ok(Some(fresh)) = refresh(&target, last).await {
                    *etag.borrow_mut() = Some(fresh);
                }
            });
        }
    });
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        on_tick.as_ref().unchecked_ref(),
        seconds.clamp(2, 86_400) * 1000,
    );
    on_tick.forget();
}

/// Swaps in the element's fresh content unless the page answers 304 to `etag`; the ETag of a
/// fresh answer.
#[cfg(feature = "hydrate")]
async fn refresh(
    target: &str,
    etag: Option<String>,
) -> Result<Option<String>, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    if document.visibility_state() != web_sys::VisibilityState::Visible {
        return Ok(None);
    }
    let url = window.location().href()?;
    let request = web_sys::Request::new_with_str(&url)?;
    if let Some(etag) = &etag {
        // With a validator of its own, fetch skips the browser's cache: a 304 reaches us.
        request.headers().set("If-None-Match", etag)?;
    }
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    if response.status() == 304 || !response.ok() {
        return Ok(None);
    }
    let fresh_etag = response.headers().get("ETag")?;
    let html = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    let fresh = web_sys::DomParser::new()?
        .parse_from_string(&html, web_sys::SupportedType::TextHtml)?
        .get_element_by_id(target);
    if let (Some(fresh), Some(current)) = (fresh, document.get_element_by_id(target)) {
        current.set_inner_html(&fresh.inner_html());
    }
    Ok(fresh_etag)
}

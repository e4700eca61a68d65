//! Upload progress for a file form: with JavaScript the form is sent by `XMLHttpRequest`, whose
//! upload events drive a progress bar, and the browser then follows the server's answer;
//! without JavaScript the form posts as usual.
//!
//! The island takes no props and shows whole percents: props would bring a JSON decoder into
//! the bundle, and a formatted `f64` the float printing.

use leptos::prelude::*;

/// A progress bar for the form it sits in. It holds no signals: the request's events write the
/// bar, which keeps Leptos' reactive system out of the bundle.
#[island]
pub fn UploadProgress() -> impl IntoView {
    view! { <p class="upload-progress" aria-live="polite" use:start_upload_progress></p> }
}

/// Called with the bar's element as it hydrates (the server's render calls nothing).
fn start_upload_progress(bar: leptos::tachys::renderer::types::Element) {
    #[cfg(feature = "hydrate")]
    attach(bar);
    #[cfg(not(feature = "hydrate"))]
    let _ = bar;
}

/// Shows `share` (0 to 1) of the file sent in `bar`.
#[cfg(feature = "hydrate")]
fn show(bar: &web_sys::Element, share: f64) {
    let percent = (share * 100.0).round() as u32;
    let status = if share >= 1.0 {
        "checking the file…".to_string()
    } else {
        format!("uploading: {percent} %")
    };
    bar.set_inner_html(&format!(
        "<progress max=\"100\" value=\"{percent}\" aria-label=\"Upload progress\">{percent} %</progress><span>{status}</span>"
    ));
}

#[cfg(feature = "hydrate")]
fn attach(bar: web_sys::Element) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Some(form) = bar
        .closest("form")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let target = form.clone();
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let Ok(data) = web_sys::FormData::new_with_form(&target) else {
            return;
        };
        let Ok(request) = web_sys::XmlHttpRequest::new() else {
            return;
        };
        event.prevent_default();
        if request.open("POST", &target.action()).is_err() {
            return;
        }
        if let Ok(upload) = request.upload() {
            let progress_bar = bar.clone();
            let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
                move |p: web_sys::ProgressEvent| {
                    if p.length_computable() && p.total() > 0.0 {
                        show(&progress_bar, p.loaded() / p.total());
                    }
                },
            );
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            on_progress.forget();
        }
        let finished = request.clone();
        let on_load = Closure::<dyn FnMut()>::new(move || {
            // The server answers with a redirect to the next step (or back, with the error);
            // the request followed it, so go where it ended.
            let url = finished.response_url();
            if let Some(window) = web_sys::window() {
                if finished.status().unwrap_or(0) < 400 && !url.is_empty() {
                    let _ = window.location().set_href(&url);
                } else if let Ok(Some(html)) = finished.response_text() {
                    if let Some(document) = window.document() {
                        if let Some(root) = document.document_element() {
                            root.set_inner_html(&html);
                        }
                    }
                }
            }
        });
        request.set_onload(Some(on_load.as_ref().unchecked_ref()));
        on_load.forget();
        show(&bar, 0.0);
        let _ = request.send_with_opt_form_data(Some(&data));
    });
    let _ = form.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    on_submit.forget();
}

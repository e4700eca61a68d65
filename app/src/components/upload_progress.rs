//! Upload progress for a file form: with JavaScript the form is sent by `XMLHttpRequest`, whose
//! upload events drive a progress bar, and the browser then follows the server's answer;
//! without JavaScript the form posts as usual.
//!
//! The island takes no props and shows whole percents: props would bring a JSON decoder into
//! the bundle, and a formatted `f64` the float printing.

use leptos::prelude::*;

/// A progress bar for the form it sits in.
#[island]
pub fn UploadProgress() -> impl IntoView {
    let sent = RwSignal::new(None::<f64>);
    let bar = NodeRef::<leptos::html::P>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(bar) = bar.get() {
            attach(&bar, sent);
        }
    });
    view! {
        <p node_ref=bar class="upload-progress" aria-live="polite">
            {move || {
                sent.get()
                    .map(|share| {
                        let percent = (share * 100.0).round() as u32;
                        view! {
                            <progress max="100" value=percent aria-label="Upload progress">
                                {format!("{percent} %")}
                            </progress>
                            <span>
                                {if share >= 1.0 {
                                    "checking the file…".to_string()
                                } else {
                                    format!("uploading: {percent} %")
                                }}
                            </span>
                        }
                    })
            }}
        </p>
    }
}

#[cfg(feature = "hydrate")]
fn attach(bar: &web_sys::Element, sent: RwSignal<Option<f64>>) {
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
            let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
                move |p: web_sys::ProgressEvent| {
                    if p.length_computable() && p.total() > 0.0 {
                        sent.set(Some(p.loaded() / p.total()));
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
        sent.set(Some(0.0));
        let _ = request.send_with_opt_form_data(Some(&data));
    });
    let _ = form.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    on_submit.forget();
}

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::support::app::spawn_app;

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_answers_once_migrations_are_applied() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn pages_and_api_answers_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/api/v1/machines", "/healthz", "/no-such-page"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "form-action 'self'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
        let scripts = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {policy}"));
        assert!(!scripts.contains("unsafe-inline"), "{path}: {policy}");
    }
    // HSTS behind a trusted proxy that says HTTPS: `proxies.rs`.
}

/// The nonce a page's policy names, and the page's inline scripts that carry it.
async fn page_nonce(app: &crate::support::app::TestApp, path: &str) -> (String, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = policy
        .split_whitespace()
        .find_map(|word| word.strip_prefix("'nonce-"))
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
        .to_string();
    (nonce, response.text().await.unwrap())
}

#[tokio::test]
async fn a_page_lets_only_its_own_inline_scripts_run_with_a_fresh_nonce_each_time() {
    let app = spawn_app().await;
    for path in ["/", "/no-such-page"] {
        let (nonce, html) = page_nonce(&app, path).await;
        assert!(
            nonce.len() >= 22,
            "{path}: 128 bits at least, got {nonce:?}"
        );
        let inline_scripts: Vec<&str> = html
            .split("<script")
            .skip(1)
            .filter(|tag| !tag.split('>').next().unwrap_or_default().contains("src="))
            .collect();
        assert!(
            !inline_scripts.is_empty(),
            "{path}: the islands start inline"
        );
        for script in inline_scripts {
            let opening = script.split('>').next().unwrap_or_default();
            assert!(
                opening.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: an inline script without the page's nonce: <script{opening}>"
            );
        }
        let (again, _) = page_nonce(&app, path).await;
        assert_ne!(nonce, again, "{path}: a nonce is used once");
    }
}

/// Building an app generates its page routes, which once made leptos_server leave any
/// resource first polled meanwhile pending for good (leptos-rs/leptos#4773): a page of
/// another app in the same process then hung until the 30 s timeout. Pages are served here,
/// four at a time, while other apps are built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_apps_are_built_in_the_process() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let building = Arc::new(AtomicBool::new(true));
    let pages = tokio::spawn({
        let building = building.clone();
        let urls = ["/", "/models", "/training", "/login"].map(|path| app.url(path));
        async move {
            let (mut served, mut failed) = (0, Vec::new());
            while building.load(Ordering::Relaxed) {
                let requests = urls.clone().map(|url| tokio::spawn(client.get(url).send()));
                for request in requests {
                    match request.await.unwrap() {
                        Ok(response) if response.status().is_success() => served += 1,
                        other => failed.push(format!("{other:?}")),
                    }
                }
            }
            (served, failed)
        }
    });
    for _ in 0..20 {
        drop(spawn_app().await);
    }
    building.store(false, Ordering::Relaxed);
    let (served, failed) = pages.await.unwrap();
    assert!(served > 0, "no page was served while the apps were built");
    assert!(
        failed.is_empty(),
        "{} pages failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
}

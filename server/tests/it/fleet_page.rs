//! Pages of a fleet larger than a page: the fleet page (counts by status first, the riskiest
//! machines, pages that follow each other through plain links, filters in the query string,
//! 304 while nothing changed) and `/models` (counts, and each profile's machines paged).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::json;

use icantkube::db::model_versions;

use crate::support::app::{admin_session, ai4i_json_batch, spawn_app, TestApp};
use crate::support::data::milling_csv;
use crate::support::model::{register_in, train};

/// The machine names of a fleet page's cards, in page order.
fn card_names(html: &str) -> Vec<String> {
    html.split(r#"<span class="machine-name">"#)
        .skip(1)
        .map(|rest| rest[..rest.find('<').unwrap()].to_string())
        .collect()
}

/// The target of the link with `rel="next"`, unescaped as a browser reads it.
fn next_link(html: &str) -> Option<String> {
    let start = html.find(r#"rel="next""#)?;
    let anchor = &html[html[..start].rfind("<a ")?..start];
    let href = anchor.split(r#"href=""#).nth(1)?;
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

async fn register(app: &TestApp, name: &str, place: &str) {
    let response = app
        .admin_post(
            "/api/v1/machines",
            json!({ "name": name, "profile": "ai4i2020", "place": place }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{name}");
}

#[tokio::test]
async fn a_fleet_larger_than_a_page_is_counted_then_paged_through_links() {
    let app = spawn_app().await;
    for i in 0..30 {
        let place = if i % 3 == 0 { "Hall B" } else { "Hall A" };
        register(&app, &format!("mill-{i:02}"), place).await;
    }

    let first = app.page("/").await;
    assert!(
        first.contains("<strong>30</strong> all"),
        "the fleet's count"
    );
    assert!(
        first.contains("<strong>30</strong> unknown"),
        "the count by status"
    );
    assert!(first.contains("24 of 30 machines"), "the summary");
    let mut seen = card_names(&first);
    assert_eq!(seen.len(), 24);
    let next = next_link(&first).expect("a link to the next page");
    let second = app.page(&next).await;
    assert!(second.contains("← First page"));
    assert_eq!(
        next_link(&second),
        None,
        "the last page links to no next one"
    );
    seen.extend(card_names(&second));
    let mut expected: Vec<String> = (0..30).map(|i| format!("mill-{i:02}")).collect();
    assert_eq!(
        seen, expected,
        "every machine once, in risk order (all unknown: by name)"
    );

    let hall_b = app.page("/?place=Hall+B&status=&q=").await;
    expected.retain(|name| name[5..].parse::<u32>().unwrap() % 3 == 0);
    assert_eq!(card_names(&hall_b), expected);
    assert!(hall_b.contains("10 matching machines"));
    assert!(
        hall_b.contains(r#"<option value="Hall B" selected"#),
        "the form keeps the filter"
    );

    let searched = app.page("/?q=MILL-2").await;
    assert_eq!(card_names(&searched).len(), 10);
    let nothing = app.page("/?q=lathe").await;
    assert!(nothing.contains("No machines match these filters."));
    assert!(card_names(&nothing).is_empty());
}

#[tokio::test]
async fn a_filter_or_page_that_cannot_be_read_is_refused_naming_the_field() {
    let app = spawn_app().await;
    register(&app, "mill-01", "Hall A").await;
    for (query, field) in [
        ("?status=broken", r#"<li>status: "broken" is not a status"#),
        (
            "?after=nonsense",
            r#"<li>after: "nonsense" is not a page of the fleet"#,
        ),
        ("?after=NaN:mill-01", r#"<li>after: "NaN:mill-01""#),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body = response.text().await.unwrap();
        assert!(body.contains(field), "{query}: {body}");
    }
}

#[tokio::test]
async fn a_place_is_registered_with_its_machine_within_bounds() {
    let app = spawn_app().await;
    register(&app, "mill-01", " Hall A ").await;
    let machine: serde_json::Value = app.get_json("/api/v1/machines/mill-01").await;
    assert_eq!(machine["place"], "Hall A");
    let response = app
        .admin_post(
            "/api/v1/machines",
            json!({ "name": "mill-02", "profile": "ai4i2020", "place": "x".repeat(65) }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("place: must be 1 to 64 characters"));
    let page = app.page("/").await;
    assert_eq!(card_names(&page), ["mill-01"]);
}

/// The status and ETag of a GET of `path` holding `etag`.
async fn conditional(app: &TestApp, path: &str, etag: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url(path))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    (response.status(), etag)
}

/// Waits until a minute has at least 20 s left: the ETag covers the minute (so relative times
/// are never stale for longer), and the test's requests must fall within one.
async fn within_one_minute() {
    let into_minute = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 60_000;
    if into_minute > 40_000 {
        tokio::time::sleep(Duration::from_millis((60_100 - into_minute) as u64)).await;
    }
}

async fn etag_of(app: &TestApp, path: &str) -> String {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(
        response.headers()["cache-control"],
        "private, no-cache",
        "{path}"
    );
    response.headers()["etag"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn an_unchanged_page_answers_304_and_a_new_reading_changes_it() {
    let app = spawn_app().await;
    register(&app, "mill-01", "Hall A").await;
    register(&app, "mill-02", "Hall B").await;
    within_one_minute().await;
    for path in ["/", "/?place=Hall+A", "/machines/mill-01"] {
        let etag = etag_of(&app, path).await;
        let (status, _) = conditional(&app, path, &etag).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path} unchanged");
    }

    let fleet = etag_of(&app, "/").await;
    let hall_b = etag_of(&app, "/?place=Hall+B").await;
    let machine = etag_of(&app, "/machines/mill-01").await;
    let body = ai4i_json_batch(1, "live");
    let response = app
        .post_readings("mill-01", "application/json", &body)
        .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let (status, changed) = conditional(&app, "/", &fleet).await;
    assert_eq!(status, StatusCode::OK, "the fleet shows the new reading");
    assert_ne!(changed, fleet);
    let (status, _) = conditional(&app, "/machines/mill-01", &machine).await;
    assert_eq!(status, StatusCode::OK, "the machine page shows it");
    let (status, _) = conditional(&app, "/?place=Hall+B", &hall_b).await;
    assert_eq!(
        status,
        StatusCode::NOT_MODIFIED,
        "a view without mill-01 is unchanged"
    );

    // Signing in changes the page (the header says who is signed in): never a stale 304.
    let response = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &changed)
        .header("cookie", "icantkube_session=someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let response = app
        .client
        .get(app.url("/machines/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().get("etag").is_none());
}

/// The machine links of a page, in page order.
fn machine_links(html: &str) -> Vec<String> {
    html.split(r#"<a href="/machines/"#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn models_counts_its_machines_and_lists_them_a_page_at_a_time() {
    let app = spawn_app().await;
    for i in 0..30 {
        register(&app, &format!("mill-{i:02}"), "Hall A").await;
    }
    let model = train(&milling_csv(3, 2, 400), 5, true);
    let db = app.database().await;
    let first = register_in(&db, "ai4i2020", &model, model.to_bytes()).await;
    let second = register_in(&db, "ai4i2020", &model, model.to_bytes()).await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM machines ORDER BY name")
        .fetch_all(db.pool())
        .await
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        model_versions::promote(db.pool(), *id, first, "test", "test")
            .await
            .unwrap();
        if i < 2 {
            model_versions::promote(db.pool(), *id, second, "test", "test")
                .await
                .unwrap();
        }
    }
    db.close().await;

    let page = app.page("/models").await;
    assert!(
        page.contains("30 machines, 24 on this page by name"),
        "{page}"
    );
    assert!(
        page.contains("active on 28 machines"),
        "a count beyond a few names"
    );
    assert!(
        page.contains("active on mill-00, mill-01"),
        "a few machines are named"
    );
    let listed = machine_links(&page);
    let expected: Vec<String> = (0..30).map(|i| format!("mill-{i:02}")).collect();
    assert_eq!(listed, expected[..24]);
    assert_eq!(
        page.matches("to ai4i2020 v1").count(),
        2,
        "the two machines on v2 roll back"
    );
    let next = next_link(&page).expect("a link to the next machines");
    let rest = app.page(&next).await;
    assert_eq!(machine_links(&rest), expected[24..]);
    assert_eq!(next_link(&rest), None);
}

/// The machine page panicked ("a reactive value that has already been disposed") when its
/// title read the route's parameters after the page had moved on, under concurrent requests.
#[tokio::test]
async fn the_machine_page_serves_concurrent_requests() {
    let app = spawn_app().await;
    register(&app, "mill-01", "Hall A").await;
    for round in 0..10 {
        let requests: Vec<_> = (0..6)
            .map(|_| {
                let request = app.client.get(app.url("/machines/mill-01"));
                tokio::spawn(async move { request.send().await.map(|r| r.status()) })
            })
            .collect();
        for request in requests {
            let status = request.await.unwrap().map_err(|e| e.to_string());
            assert_eq!(status, Ok(StatusCode::OK), "round {round}");
        }
    }
}

/// The new-training page as the admin sees it.
async fn training_form(app: &TestApp) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (cookie, _) = admin_session(app, &client).await;
    let response = client
        .get(app.url("/training/new"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_training_form_lists_a_small_fleet_and_takes_a_name_in_a_large_one() {
    let app = spawn_app().await;
    for i in 0..100 {
        register(&app, &format!("mill-{i:03}"), "Hall A").await;
    }
    let form = training_form(&app).await;
    assert!(form.contains(r#"<select name="machine">"#), "{form}");
    assert_eq!(form.matches(r#"<option value="mill-"#).count(), 100);

    register(&app, "mill-100", "Hall A").await;
    let form = training_form(&app).await;
    assert!(!form.contains(r#"<select name="machine">"#), "{form}");
    assert!(
        form.contains(r#"<input type="text" name="machine" list="history-machines""#),
        "{form}"
    );
    // The first hundred by name are suggested; the page does not grow with the fleet.
    assert_eq!(form.matches(r#"<option value="mill-"#).count(), 100);
    assert!(form.contains(r#"<option value="mill-099">"#));
    assert!(!form.contains(r#"<option value="mill-100">"#));
}

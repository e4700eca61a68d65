//! Registering machines over the API: admin only, validated, listed for integrations.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{spawn_app, spawn_app_with, ADMIN_PASSWORD};
use icantkube::auth::AdminCredential;

#[tokio::test]
async fn an_admin_registers_a_machine_that_the_api_then_lists() {
    let app = spawn_app().await;
    let created = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "mill-7", "display_name": "Mill 7", "profile": "ai4i2020",
                   "attributes": {"type": "M"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let listed: Vec<Value> = app.get_json("/api/v1/machines").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "mill-7");
    assert_eq!(listed[0]["attributes"]["type"], "M");
    assert_eq!(listed[0]["sensors"][3]["key"], "torque");
    assert_eq!(listed[0]["sensors"][3]["unit"], "Nm");
    assert_eq!(listed[0]["status"], "unknown");
}

#[tokio::test]
async fn a_custom_sensor_schema_is_accepted_and_enforced() {
    let app = spawn_app().await;
    let created = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "pump-1", "sensors": [
                {"key": "pressure", "label": "Pressure", "unit": "bar"},
                {"key": "flow", "label": "Flow", "unit": "l/min"}]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let ok = app
        .post_readings("pump-1", "text/csv", "flow,pressure\n12.5,3.1\n")
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(app.reading_count("pump-1").await, 1);
}

#[tokio::test]
async fn registering_needs_the_admin_password() {
    let app = spawn_app().await;
    let body = json!({"name": "mill-1", "profile": "ai4i2020"});
    let anonymous = app
        .client
        .post(app.url("/api/v1/machines"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .post(app.url("/api/v1/machines"))
        .basic_auth("admin", Some("not-it"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let listed: Vec<Value> = app.get_json("/api/v1/machines").await;
    assert!(listed.is_empty());
}

#[tokio::test]
async fn without_an_admin_credential_admin_actions_are_refused() {
    let app = spawn_app_with(|settings| settings.admin = AdminCredential::Disabled).await;
    let response = app
        .client
        .post(app.url("/api/v1/machines"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&json!({"name": "mill-1", "profile": "ai4i2020"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("ICANTKUBE_ADMIN_PASSWORD"));
}

#[tokio::test]
async fn bad_registrations_name_the_field_and_duplicates_conflict() {
    let app = spawn_app().await;
    let cases = [
        (json!({"name": "Mill 1", "profile": "ai4i2020"}), "name"),
        (json!({"name": "mill-1", "profile": "toaster"}), "profile"),
        (json!({"name": "mill-1"}), "profile or a sensors list"),
        (
            json!({"name": "mill-1", "profile": "ai4i2020", "attributes": {"type": "X"}}),
            "attributes.type",
        ),
        (
            json!({"name": "mill-1", "sensors": [{"key": "seq", "label": "Seq", "unit": ""}]}),
            "sensors[0].key",
        ),
    ];
    for (body, field) in cases {
        let response = app.admin_post("/api/v1/machines", body.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["error"].as_str().unwrap().contains(field),
            "{answer} lacks {field}"
        );
    }
    let unknown_field = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "mill-1", "profile": "ai4i2020", "colour": "red"}),
        )
        .await;
    assert_eq!(unknown_field.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.create_machine("mill-1", "ai4i2020").await;
    let again = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "mill-1", "profile": "ai4i2020"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_unknown_machine_is_a_404_for_the_api_and_the_page() {
    let app = spawn_app().await;
    let api = app
        .client
        .get(app.url("/api/v1/machines/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let page = app
        .client
        .get(app.url("/machines/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("not found"));
}

#[tokio::test]
async fn pages_escape_what_users_typed() {
    let app = spawn_app().await;
    let created = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "mill-x", "display_name": "<script>alert(1)</script>", "profile": "ai4i2020"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for path in ["/", "/machines/mill-x"] {
        let html = app
            .client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert(1)"), "{path} echoes markup");
        assert!(
            html.contains("&lt;script&gt;alert(1)"),
            "{path} lost the name"
        );
    }
}

/// A success deletes the client's attempt count; another request counting at that moment
/// found its row gone and answered 500 ("no rows"), seen at 4 concurrent admin clients. Under
/// a loaded test run a 429 still comes now and then (attempts are counted before the slow
/// check, by design against parallel guessing); this holds the 500 away.
#[tokio::test]
async fn the_right_password_from_concurrent_admin_clients_never_fails_the_server() {
    let app = spawn_app().await;
    for round in 0..15 {
        let requests: Vec<_> = (0..3)
            .map(|i| {
                let request = app
                    .client
                    .get(app.url("/api/v1/machines/nope/tokens"))
                    .basic_auth("admin", Some(ADMIN_PASSWORD));
                tokio::spawn(async move { (i, request.send().await.unwrap().status()) })
            })
            .collect();
        for request in requests {
            let (i, status) = request.await.unwrap();
            assert!(
                [StatusCode::NOT_FOUND, StatusCode::TOO_MANY_REQUESTS].contains(&status),
                "round {round}, client {i}: {status}"
            );
        }
    }
}

#[tokio::test]
async fn admin_password_guesses_on_the_api_are_limited_per_address_even_in_parallel() {
    let app = spawn_app().await;
    let guesses: Vec<_> = (0..20)
        .map(|i| {
            let request = app
                .client
                .post(app.url("/api/v1/machines"))
                .json(&json!({"name": format!("guess-{i}"), "profile": "ai4i2020"}));
            // Both ways the API takes the password count against the same allowance.
            let request = if i % 2 == 0 {
                request.basic_auth("admin", Some(format!("guess-{i}")))
            } else {
                request.bearer_auth(format!("guess-{i}"))
            };
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((wrong, limited), (5, 15), "{statuses:?}");

    // Over the limit, the right password waits too, and the sign-in form shares the limit.
    let right = app
        .admin_post(
            "/api/v1/machines",
            json!({"name": "mill-1", "profile": "ai4i2020"}),
        )
        .await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = right.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    let form = app
        .client
        .post(app.url("/login"))
        .form(&[("password", ADMIN_PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS);
    let listed: Vec<Value> = app.get_json("/api/v1/machines").await;
    assert!(listed.is_empty(), "nothing was registered: {listed:?}");
}

#[tokio::test]
async fn a_request_with_two_authorization_headers_is_refused_even_when_the_first_is_right() {
    let app = spawn_app().await;
    let right = format!("Bearer {ADMIN_PASSWORD}");
    let response = app
        .client
        .post(app.url("/api/v1/machines"))
        .header("authorization", right.as_str())
        .header("authorization", "Bearer wrong")
        .json(&json!({"name": "mill-1", "profile": "ai4i2020"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let once = app
        .client
        .post(app.url("/api/v1/machines"))
        .header("authorization", right.as_str())
        .json(&json!({"name": "mill-1", "profile": "ai4i2020"}))
        .send()
        .await
        .unwrap();
    assert_eq!(once.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_machine_list_pages_by_name_with_a_next_link_and_refuses_bad_limits() {
    let app = spawn_app().await;
    for name in ["mill-3", "mill-1", "pump-1", "mill-2", "mill-10"] {
        app.create_machine(name, "ai4i2020").await;
    }
    let client = reqwest::Client::new();
    let mut names = Vec::new();
    let mut pages = 0;
    let mut next = Some("/api/v1/machines?limit=2".to_string());
    while let Some(path) = next.take() {
        let response = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            let target = link
                .strip_prefix('<')
                .and_then(|rest| rest.strip_suffix(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("a next link: {link}"));
            target.to_string()
        });
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2 && !page.is_empty(), "{path}: {page:?}");
        names.extend(page.iter().map(|m| m["name"].as_str().unwrap().to_string()));
        pages += 1;
    }
    assert_eq!(names, ["mill-1", "mill-10", "mill-2", "mill-3", "pump-1"]);
    assert_eq!(pages, 3);
    // A full last page says nothing follows.
    let full = client
        .get(app.url("/api/v1/machines?limit=5"))
        .send()
        .await
        .unwrap();
    assert!(full.headers().get("link").is_none());
    let listed: Vec<Value> = app.get_json("/api/v1/machines?after=mill-3").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "pump-1");

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("after=Mill%201", "after"),
        ("page=2", "page"),
    ] {
        let response = client
            .get(app.url(&format!("/api/v1/machines?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body = response.text().await.unwrap();
        assert!(body.contains(field), "{query}: {body}");
    }
}

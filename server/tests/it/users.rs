//! Named users through the pages, as an admin and the users see them: adding them (bad input
//! refused naming the field, nothing stored), signing in with a role, and what an admin's
//! change does to a session already open: a new role counts at once, disabling or a new
//! password signs the user out everywhere. Password guesses are limited per user as well as
//! per address.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION};
use reqwest::{redirect, Client, StatusCode};

use crate::support::app::{
    add_user, admin_session_at, decoded_query, post_form_as, spawn_app, user_session_at, TestApp,
};

const PASSWORD: &str = "eleven plus one";

fn browser() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A browser from a loopback address of its own (attempts are limited per address).
fn browser_at(last: u8) -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 77, 0, last)))
        .build()
        .unwrap()
}

async fn get(client: &Client, app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = client
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Posts an admin form of the users page; answers the decoded query it led to.
async fn post(client: &Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> String {
    let admin = admin_session_at(&app.address, client).await;
    let (status, location) = post_form_as(app, path, &admin, fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
    decoded_query(&location)
}

/// Signs in through the form: the status and where it sends the user.
async fn sign_in(
    client: &Client,
    app: &TestApp,
    user: &str,
    password: &str,
) -> (StatusCode, String) {
    let response = client
        .post(app.url("/login"))
        .form(&[("user", user), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| decoded_query(l.to_str().unwrap()))
        .unwrap_or_default();
    (response.status(), location)
}

async fn user_names(app: &TestApp) -> Vec<String> {
    let db = app.database().await;
    icantkube::db::users::list(db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|user| user.name)
        .collect()
}

#[tokio::test]
async fn bad_users_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let client = browser();
    add_user(&app.address, &client, "ana", "engineer", PASSWORD).await;
    for (fields, field) in [
        (
            vec![
                ("name", "Ana Lopez"),
                ("role", "engineer"),
                ("password", PASSWORD),
            ],
            "User name:",
        ),
        (
            vec![("name", "admin"), ("role", "admin"), ("password", PASSWORD)],
            "User name:",
        ),
        (
            vec![("name", "ana"), ("role", "viewer"), ("password", PASSWORD)],
            "User name: there is already",
        ),
        (
            vec![("name", "ben"), ("role", "root"), ("password", PASSWORD)],
            "Role:",
        ),
        (
            vec![
                ("name", "ben"),
                ("role", "viewer"),
                ("password", "too short"),
            ],
            "Password:",
        ),
    ] {
        let answer = post(&client, &app, "/users", &fields).await;
        assert!(
            answer.starts_with(&format!("error={field}")),
            "{fields:?}: {answer}"
        );
    }
    assert_eq!(user_names(&app).await, ["ana"]);
    let answer = post(&client, &app, "/users/nobody/role", &[("role", "admin")]).await;
    assert_eq!(answer, "error=there is no user named nobody");
    let answer = post(
        &client,
        &app,
        "/users/ana/disabled",
        &[("disabled", "maybe")],
    )
    .await;
    assert!(answer.starts_with("error=disabled:"), "{answer}");
}

#[tokio::test]
async fn a_user_signs_in_with_their_role_and_an_admins_changes_reach_their_open_session() {
    let app = spawn_app().await;
    let admin = browser();
    add_user(&app.address, &admin, "ana", "engineer", PASSWORD).await;
    let ana = browser();
    let (cookie, _) = user_session_at(&app.address, &ana, "ana", PASSWORD).await;

    // Signed in as an engineer: named in the header, no admin forms, no users page.
    let (_, fleet) = get(&ana, &app, "/", &cookie).await;
    assert!(
        fleet.contains("Signed in as ana (engineer)"),
        "the header names the user"
    );
    assert!(
        !fleet.contains("href=\"/users\""),
        "only admins get the users link"
    );
    let (_, users) = get(&ana, &app, "/users", &cookie).await;
    assert!(users.contains("as admin to manage users"), "{users}");
    assert!(!users.contains("Add the user"));
    let (_, form) = get(&ana, &app, "/training/new", &cookie).await;
    assert!(form.contains("as admin to upload data"));

    // The admin sees who added whom.
    let (admin_cookie, _) = admin_session_at(&app.address, &admin).await;
    let (_, users) = get(&admin, &app, "/users", &admin_cookie).await;
    assert!(users.contains("ana"), "{users}");
    assert!(users.contains("by admin"), "who added the user is shown");

    // A new role counts on the open session at once.
    let answer = post(&admin, &app, "/users/ana/role", &[("role", "admin")]).await;
    assert_eq!(answer, "done=ana is now admin.");
    let (_, form) = get(&ana, &app, "/training/new", &cookie).await;
    assert!(
        form.contains("name=\"csrf\""),
        "ana, now admin, gets the training form"
    );
    let (_, users) = get(&ana, &app, "/users", &cookie).await;
    assert!(users.contains("Add the user"));

    // Disabling signs ana out everywhere and refuses her password.
    let answer = post(&admin, &app, "/users/ana/disabled", &[("disabled", "true")]).await;
    assert!(answer.starts_with("done=ana is disabled"), "{answer}");
    let (_, fleet) = get(&ana, &app, "/", &cookie).await;
    assert!(!fleet.contains("Signed in as ana"), "the session ended");
    assert!(fleet.contains("href=\"/login\""));
    let (status, location) = sign_in(&ana, &app, "ana", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.contains("error=this user is disabled"),
        "{location}"
    );

    // Enabled again, with a new password: the old one no longer works, and a session opened
    // before the new password ends with it.
    post(
        &admin,
        &app,
        "/users/ana/disabled",
        &[("disabled", "false")],
    )
    .await;
    let (cookie, _) = user_session_at(&app.address, &ana, "ana", PASSWORD).await;
    let answer = post(
        &admin,
        &app,
        "/users/ana/password",
        &[("password", "a brand new one")],
    )
    .await;
    assert!(
        answer.starts_with("done=ana has a new password"),
        "{answer}"
    );
    let (_, fleet) = get(&ana, &app, "/", &cookie).await;
    assert!(
        !fleet.contains("Signed in as ana"),
        "the session ended with the old password"
    );
    let (_, location) = sign_in(&ana, &app, "ana", PASSWORD).await;
    assert!(
        location.contains("error=wrong user name or password"),
        "{location}"
    );
    let (_, location) = sign_in(&ana, &app, "ana", "a brand new one").await;
    assert_eq!(location, "", "signed in with the new password: sent to /");
}

#[tokio::test]
async fn guesses_at_one_users_password_are_limited_across_addresses() {
    let app = spawn_app().await;
    add_user(&app.address, &browser(), "ana", "viewer", PASSWORD).await;
    for last in 1..=5 {
        let (status, location) = sign_in(&browser_at(last), &app, "ana", "a wrong guess").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "guess {last}");
        assert!(
            location.contains("error=wrong user name or password"),
            "{location}"
        );
    }
    // A sixth address, with the right password: the user's own limit holds.
    let (status, _) = sign_in(&browser_at(6), &app, "ana", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A name longer than any user's is a wrong guess, not a failure.
    let (status, location) = sign_in(&browser_at(8), &app, &"a".repeat(5_000), PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.contains("error=wrong user name or password"),
        "{location}"
    );
    // Other users are not locked out by it.
    add_user(&app.address, &browser(), "ben", "viewer", PASSWORD).await;
    let (status, location) = sign_in(&browser_at(7), &app, "ben", PASSWORD).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, ""));
}

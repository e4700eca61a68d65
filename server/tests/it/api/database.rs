//! The database URL: which backends start, and that its password never shows.

use std::time::{Duration, Instant};

use icantkube::startup::Application;
use tempfile::TempDir;

use crate::support::app::settings;
use crate::support::database::mariadb_server;

/// Starts an app on `url`; answers the start-up error with its whole chain.
async fn start_up_error(url: &str, wait: Duration) -> String {
    let folder = TempDir::new().unwrap();
    let mut settings = settings(&folder);
    settings.database_url = url.to_string();
    settings.database_wait = wait;
    match Application::build(settings).await {
        Ok(_) => panic!("{url}: the app started"),
        Err(error) => format!("{error:#}"),
    }
}

#[tokio::test]
async fn an_unsupported_database_url_is_refused_without_its_password() {
    let error = start_up_error(
        "postgres://plant:hunter2-secret@db:5432/plant",
        Duration::ZERO,
    )
    .await;
    assert!(
        error.contains("postgres://plant:***@db:5432/plant"),
        "{error}"
    );
    assert!(
        error.contains("mysql://"),
        "says what is supported: {error}"
    );
    assert!(!error.contains("hunter2-secret"), "{error}");
}

#[tokio::test]
async fn a_mariadb_that_refuses_the_password_is_waited_for_then_named_without_it() {
    let Some(server) = mariadb_server() else {
        println!(
            "SKIPPED: needs a MariaDB server (ICANTKUBE_TEST_MARIADB, set by the test command)"
        );
        return;
    };
    // The test server's address with a password it refuses.
    let (scheme_and_user, rest) = server
        .split_once(':')
        .and_then(|(scheme, rest)| {
            let (user_and_password, host) = rest.rsplit_once('@')?;
            let user = user_and_password.split(':').next()?;
            Some((format!("{scheme}:{user}"), host.to_string()))
        })
        .expect("a mysql://USER:PASSWORD@HOST URL");
    let (address, options) = rest.split_once('?').unwrap_or((&rest, ""));
    let url = format!("{scheme_and_user}:wrong-9f2c7e@{address}/plant?{options}");
    let start = Instant::now();
    let error = start_up_error(&url, Duration::from_secs(2)).await;
    assert!(start.elapsed() >= Duration::from_secs(1), "waited: {error}");
    assert!(error.contains("does not answer"), "{error}");
    assert!(error.contains(":***@"), "{error}");
    assert!(!error.contains("wrong-9f2c7e"), "{error}");
}

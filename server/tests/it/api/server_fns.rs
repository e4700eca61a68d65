//! Server functions answer the client's mistakes with 4xx, not 500: a machine that does not
//! exist, a page for admins asked without signing in, arguments that do not decode.

use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

use crate::support::app::spawn_app;

#[tokio::test]
async fn server_functions_answer_the_clients_mistakes_with_4xx() {
    let app = spawn_app().await;
    app.create_machine("mill-1", "ai4i2020").await;
    let call = |path: &'static str, body: &'static str| {
        app.client
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let machine = app::routes::machine::GetMachine::PATH;
    let form = app::routes::training_new::GetTrainingForm::PATH;
    let fleet = app::routes::fleet::GetFleet::PATH;

    assert_eq!(
        call(machine, "name=mill-1").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(call(fleet, "").await.unwrap().status(), StatusCode::OK);
    let missing = call(machine, "name=nope").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("NotFound"));
    assert_eq!(
        call(form, "").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(machine, "").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            app::routes::training_run::GetTrainingRun::PATH,
            "id=not-a-number"
        )
        .await
        .unwrap()
        .status(),
        StatusCode::BAD_REQUEST
    );
}

//! The users page's forms (admins only): `POST /users` adds a user, and
//! `POST /users/{name}/role`, `/disabled` and `/password` change one. Each goes back to the page
//! with what was done, or with the error naming the field; each records the admin who did it.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::guard::{admin_form, with_query, FormRejection};
use crate::auth::accounts::AccountError;
use crate::http::AppState;

const PAGE: &str = "/users";

#[derive(Debug, serde::Deserialize)]
pub struct NewUser {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<NewUser>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    let name = state
        .accounts
        .create(&form.name, &form.role, &form.password, &admin.user)
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.user, user = %name, role = %form.role, "user added");
    Ok(done(&format!("Added {name} as {}.", form.role)))
}

#[derive(Debug, serde::Deserialize)]
pub struct NewRole {
    csrf: Option<String>,
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<NewRole>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    state
        .accounts
        .set_role(&name, &form.role, &admin.user)
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.user, user = %name, role = %form.role, "role changed");
    Ok(done(&format!("{name} is now {}.", form.role)))
}

#[derive(Debug, serde::Deserialize)]
pub struct Disabled {
    csrf: Option<String>,
    #[serde(default)]
    disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Disabled>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    let disabled = match form.disabled.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(FormRejection::invalid(
                PAGE,
                format!("disabled: {other:?} is not true or false"),
            ))
        }
    };
    state
        .accounts
        .set_disabled(&name, disabled, &admin.user)
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.user, user = %name, disabled, "user disabled or enabled");
    Ok(done(&if disabled {
        format!("{name} is disabled and signed out everywhere.")
    } else {
        format!("{name} may sign in again.")
    }))
}

#[derive(Debug, serde::Deserialize)]
pub struct NewPassword {
    csrf: Option<String>,
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<NewPassword>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    state
        .accounts
        .set_password(&name, &form.password, &admin.user)
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.user, user = %name, "password set");
    Ok(done(&format!(
        "{name} has a new password and is signed out everywhere."
    )))
}

fn done(message: &str) -> Response {
    Redirect::to(&with_query(PAGE, "done", message)).into_response()
}

fn refused(error: AccountError) -> FormRejection {
    match error {
        AccountError::Storage(error) => FormRejection::Internal(error),
        invalid => FormRejection::invalid(PAGE, invalid.to_string()),
    }
}

//! `POST /datasets` (admin form): a CSV data set, streamed in under a size limit, checked, and
//! stored with the role detected for each column; the admin then checks them on the form.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::forms::{signed_in, FormRejection};
use crate::db::datasets::{self, NewDataset};
use crate::ml::{Dataset, LoadOptions};
use crate::startup::AppState;
use crate::training::ColumnRole;

/// Where upload errors are shown.
const FORM: &str = "/training/new";

pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, FormRejection> {
    // The session is checked before anything about the body.
    let session = signed_in(&state, &headers).await?;
    let mut multipart = multipart.map_err(|_| FormRejection::BadCsrfToken)?;
    let mut csrf_checked = false;
    let mut name = String::new();
    let mut upload: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| FormRejection::invalid(FORM, format!("the upload broke off: {e}")))?
    {
        match field.name().unwrap_or_default() {
            "csrf" => {
                let token = field.text().await.unwrap_or_default();
                if !session.accepts(&token) {
                    return Err(FormRejection::BadCsrfToken);
                }
                csrf_checked = true;
            }
            // The token comes first in the form: nothing else is read without it.
            _ if !csrf_checked => return Err(FormRejection::BadCsrfToken),
            "name" => name = field.text().await.unwrap_or_default().trim().to_string(),
            "file" => {
                let file_name = field.file_name().unwrap_or("upload.csv").to_string();
                let mut content = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    FormRejection::invalid(FORM, too_large_or_broken(&e.to_string(), &state))
                })? {
                    if content.len() + chunk.len() > state.max_upload_bytes {
                        return Err(FormRejection::invalid(
                            FORM,
                            too_large_or_broken("length limit exceeded", &state),
                        ));
                    }
                    content.extend_from_slice(&chunk);
                }
                upload = Some((file_name, content));
            }
            _ => {}
        }
    }
    if !csrf_checked {
        return Err(FormRejection::BadCsrfToken);
    }
    let Some((file_name, content)) = upload.filter(|(_, content)| !content.is_empty()) else {
        return Err(FormRejection::invalid(
            FORM,
            "file: choose a CSV file to upload",
        ));
    };
    if name.chars().count() > 100 {
        return Err(FormRejection::invalid(FORM, "name: at most 100 characters"));
    }
    let (content, dataset) = tokio::task::spawn_blocking(move || {
        let dataset = Dataset::load(&content, &LoadOptions::default());
        (content, dataset)
    })
    .await
    .map_err(|e| FormRejection::invalid(FORM, format!("the file could not be read: {e}")))?;
    let dataset = dataset.map_err(|e| {
        FormRejection::invalid(FORM, format!("{file_name}: {e}; nothing was stored"))
    })?;
    let roles: Vec<ColumnRole> = dataset
        .columns
        .iter()
        .map(|c| ColumnRole {
            column: c.header.clone(),
            role: c.role,
        })
        .collect();
    let name = if name.is_empty() {
        file_name.clone()
    } else {
        name
    };
    let id = datasets::insert(
        state.db.pool(),
        NewDataset {
            name: &name,
            file_name: &file_name,
            profile: dataset.profile.name(),
            column_roles: serde_json::to_string(&roles).expect("roles serialise"),
            row_count: dataset.rows as i64,
            content_sha256: &dataset.fingerprint,
            content: &content,
        },
    )
    .await?;
    tracing::info!(id, %name, rows = dataset.rows, "data set uploaded");
    Ok(Redirect::to(&format!("/training/new?dataset={id}")).into_response())
}

fn too_large_or_broken(cause: &str, state: &AppState) -> String {
    if cause.contains("length limit") {
        format!(
            "file: larger than the {} MB upload limit (ICANTKUBE_MAX_UPLOAD_BYTES); nothing was stored",
            state.max_upload_bytes / (1024 * 1024)
        )
    } else {
        format!("the upload broke off: {cause}")
    }
}

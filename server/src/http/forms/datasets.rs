//! `POST /datasets` (admin form): a CSV data set, spooled to disk as it arrives under a size
//! limit, checked from its outline, and stored a part at a time with the role detected for each
//! column; the admin then checks them on the form. Or a machine's own labelled history, stored
//! the same way.

use app::model::Role;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::guard::{admin_form, signed_in, FormRejection};
use crate::db::datasets::{self, NewDataset};
use crate::db::machines::Machine;
use crate::db::{machines, readings};
use crate::error::body_stalled;
use crate::http::AppState;
use crate::training::dataset_file::DatasetFile;
use crate::training::machine_history::{HistoryCsv, HistoryError};
use crate::training::ColumnRole;
use ml::dataset::DatasetOutline;
use ml::LoadOptions;

/// Where upload errors are shown.
const FORM: &str = "/training/new";

pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, FormRejection> {
    // The session is checked before anything about the body.
    let session = signed_in(&state, &headers, Role::Admin).await?;
    let mut multipart = multipart.map_err(|_| FormRejection::BadCsrfToken)?;
    let mut csrf_checked = false;
    let mut name = String::new();
    let mut upload: Option<(String, DatasetFile)> = None;
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
                let mut content = DatasetFile::create().await.map_err(scratch_failed)?;
                while let Some(chunk) = field.chunk().await.map_err(|e| {
                    let problem = if body_stalled(&e) {
                        "the upload stalled: try again".to_string()
                    } else {
                        too_large_or_broken(&e.to_string(), &state)
                    };
                    FormRejection::invalid(FORM, problem)
                })? {
                    if content.len() + chunk.len() as u64 > state.max_upload_bytes as u64 {
                        return Err(FormRejection::invalid(
                            FORM,
                            too_large_or_broken("length limit exceeded", &state),
                        ));
                    }
                    content.write(&chunk).await.map_err(scratch_failed)?;
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
    let (content, dataset) = content
        .outline(LoadOptions::default())
        .await
        .map_err(scratch_failed)?;
    let dataset = dataset.map_err(|e| {
        FormRejection::invalid(FORM, format!("{file_name}: {e}; nothing was stored"))
    })?;
    let name = if name.is_empty() {
        file_name.clone()
    } else {
        name
    };
    let rows = dataset.rows;
    let id = store(&state, &name, &file_name, content, dataset, &session.user).await?;
    tracing::info!(id, %name, rows, "data set uploaded");
    Ok(Redirect::to(&format!("/training/new?dataset={id}")).into_response())
}

/// The scratch file failed (the temporary folder is full, say): the server cannot take the
/// upload now, as when the database cannot store it.
fn scratch_failed(error: std::io::Error) -> FormRejection {
    crate::error::Error::from(sqlx::Error::Io(error)).into()
}

/// Stores a checked data set with the roles detected for its columns.
async fn store(
    state: &AppState,
    name: &str,
    file_name: &str,
    content: DatasetFile,
    dataset: DatasetOutline,
    by: &str,
) -> Result<i64, FormRejection> {
    let roles: Vec<ColumnRole> = dataset
        .columns
        .iter()
        .map(|c| ColumnRole {
            column: c.header.clone(),
            role: c.role,
        })
        .collect();
    let DatasetOutline {
        profile,
        rows,
        fingerprint,
        ..
    } = dataset;
    Ok(datasets::insert(
        state.db.pool(),
        NewDataset {
            name,
            file_name,
            profile: profile.name(),
            column_roles: serde_json::to_string(&roles).expect("roles serialise"),
            row_count: rows as i64,
            content_sha256: &fingerprint,
            uploaded_by: Some(by),
        },
        content.into_reader().await.map_err(scratch_failed)?,
    )
    .await?)
}

fn too_large_or_broken(cause: &str, state: &AppState) -> String {
    if cause.contains("length limit") {
        format!(
            "file: larger than the upload limit of {} ({} bytes, ICANTKUBE_MAX_UPLOAD_BYTES); \
             nothing was stored",
            binary_size(state.max_upload_bytes),
            state.max_upload_bytes
        )
    } else {
        format!("the upload broke off: {cause}")
    }
}

/// `256 MiB`, `64 KiB`, `900 bytes`: the largest binary unit the size is a whole number of, so
/// the limit is named exactly.
fn binary_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct FromMachine {
    csrf: Option<String>,
    machine: String,
}

/// Readings exported at most: the newest this many.
const HISTORY_ROWS: i64 = 500_000;
/// Readings read from the database at a time while exporting.
const HISTORY_PAGE: i64 = 10_000;

/// `POST /datasets/from-machine` (admin form): the machine's own labelled readings as a data
/// set, ready for the same preview and training as an upload.
pub async fn from_machine(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<FromMachine>,
) -> Result<Response, FormRejection> {
    let admin = admin_form(&state, &headers, form.csrf.as_deref()).await?;
    let pool = state.db.pool();
    let machine = machines::find(pool, &form.machine).await?.ok_or_else(|| {
        FormRejection::invalid(
            FORM,
            format!("machine: no machine is called {:?}", form.machine),
        )
    })?;
    let (content, rows) = export_history(pool, &machine).await?;
    let (content, dataset) = content
        .outline(LoadOptions::default())
        .await
        .map_err(scratch_failed)?;
    let dataset = dataset
        .map_err(|e| FormRejection::invalid(FORM, format!("{}'s history: {e}", machine.name)))?;
    let name = format!("{} history", machine.name);
    let id = store(
        &state,
        &name,
        &format!("{}-history.csv", machine.name),
        content,
        dataset,
        &admin.user,
    )
    .await?;
    tracing::info!(id, machine = %machine.name, rows, "machine history stored as a data set");
    Ok(Redirect::to(&format!("/training/new?dataset={id}")).into_response())
}

/// The machine's labelled history as CSV in a scratch file, written a page of readings at a
/// time, so exporting half a million readings costs a page of memory; and its row count.
async fn export_history(
    pool: &sqlx::AnyPool,
    machine: &Machine,
) -> Result<(DatasetFile, usize), FormRejection> {
    let invalid = |e: HistoryError| FormRejection::invalid(FORM, e.to_string());
    let mut csv = HistoryCsv::new(machine).map_err(invalid)?;
    let mut content = DatasetFile::create().await.map_err(scratch_failed)?;
    let mut after = readings::history_start(pool, machine.id, HISTORY_ROWS).await?;
    loop {
        let (page, next) = readings::labelled_page(pool, machine.id, after, HISTORY_PAGE).await?;
        let last_page = page.len() < HISTORY_PAGE as usize;
        for reading in page {
            csv.push(reading).map_err(invalid)?;
        }
        let written = csv.take().map_err(invalid)?;
        content.write(&written).await.map_err(scratch_failed)?;
        if last_page {
            break;
        }
        after = next;
    }
    let rows = csv.finish().map_err(invalid)?;
    Ok((content, rows))
}

#[cfg(test)]
mod tests {
    use super::binary_size;

    #[test]
    fn a_size_is_named_in_the_largest_whole_binary_unit() {
        assert_eq!(binary_size(256 * 1024 * 1024), "256 MiB");
        assert_eq!(binary_size(64 * 1024), "64 KiB");
        assert_eq!(binary_size(1536 * 1024), "1536 KiB");
        assert_eq!(binary_size(1 << 30), "1 GiB");
        assert_eq!(binary_size(1000), "1000 bytes");
    }
}

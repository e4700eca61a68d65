//! Data sets: uploaded CSV files, kept whole in parts of at most [`PART_BYTES`], with the role
//! chosen for each column. Parts keep every statement small: storing a file as one value made
//! the driver copy it twice, and MariaDB refuse it past `max_allowed_packet`.

use sqlx::AnyPool;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::domain::time::now_ms;
use crate::error::Result;

/// A data set to store.
#[derive(Debug, Clone)]
pub struct NewDataset<'a> {
    pub name: &'a str,
    pub file_name: &'a str,
    pub profile: &'a str,
    /// JSON array of `{column, role}`.
    pub column_roles: String,
    pub row_count: i64,
    pub content_sha256: &'a str,
    /// The admin who uploaded or exported it.
    pub uploaded_by: Option<&'a str>,
}

/// The longest part of a data set's file.
pub const PART_BYTES: u64 = 1 << 20;

/// A stored data set, without its file (see [`content`] and [`copy_content`]).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredDataset {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub profile: String,
    #[sqlx(try_from = "crate::db::text::Text")]
    pub column_roles: String,
    pub row_count: i64,
    pub content_sha256: String,
}

/// Stores a data set and its file, read from `file` a part at a time, in one transaction: the
/// data set exists whole or not at all.
pub async fn insert(
    pool: &AnyPool,
    new: NewDataset<'_>,
    mut file: impl AsyncRead + Unpin,
) -> Result<i64> {
    let mut transaction = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO datasets (name, file_name, profile, column_roles, row_count, \
         content_sha256, created_at, uploaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.name)
    .bind(new.file_name)
    .bind(new.profile)
    .bind(new.column_roles)
    .bind(new.row_count)
    .bind(new.content_sha256)
    .bind(now_ms())
    .bind(new.uploaded_by)
    .fetch_one(&mut *transaction)
    .await?;
    for position in 0_i64.. {
        let mut part = Vec::with_capacity(PART_BYTES as usize);
        (&mut file)
            .take(PART_BYTES)
            .read_to_end(&mut part)
            .await
            .map_err(sqlx::Error::Io)?;
        if part.is_empty() {
            break;
        }
        sqlx::query("INSERT INTO dataset_parts (dataset_id, position, bytes) VALUES (?, ?, ?)")
            .bind(id)
            .bind(position)
            .bind(part)
            .execute(&mut *transaction)
            .await?;
    }
    transaction.commit().await?;
    Ok(id)
}

/// The data set's file, whole: for training, which holds every value anyway.
pub async fn content(pool: &AnyPool, id: i64) -> Result<Vec<u8>> {
    let mut content = Vec::new();
    copy_content(pool, id, &mut content).await?;
    Ok(content)
}

/// Writes the data set's file to `to` a part at a time, so reading it back costs a part of
/// memory, not the file.
pub async fn copy_content(pool: &AnyPool, id: i64, mut to: impl AsyncWrite + Unpin) -> Result<()> {
    // One part a query: a cursor over all of them may read ahead.
    for position in 0_i64.. {
        let part: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT bytes FROM dataset_parts WHERE dataset_id = ? AND position = ?",
        )
        .bind(id)
        .bind(position)
        .fetch_optional(pool)
        .await?;
        let Some(part) = part else { break };
        to.write_all(&part).await.map_err(sqlx::Error::Io)?;
    }
    to.flush().await.map_err(sqlx::Error::Io)?;
    Ok(())
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<StoredDataset>> {
    Ok(sqlx::query_as(
        "SELECT id, name, file_name, profile, column_roles, row_count, content_sha256 \
         FROM datasets WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// A data set without its file.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DatasetRow {
    pub id: i64,
    pub name: String,
    pub profile: String,
    pub row_count: i64,
}

/// The newest data sets first.
pub async fn list(pool: &AnyPool, limit: i64) -> Result<Vec<DatasetRow>> {
    Ok(
        sqlx::query_as(
            "SELECT id, name, profile, row_count FROM datasets ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?,
    )
}

/// Replaces the role chosen for each column (JSON array of `{column, role}`).
pub async fn set_column_roles(pool: &AnyPool, id: i64, column_roles: &str) -> Result<()> {
    sqlx::query("UPDATE datasets SET column_roles = ? WHERE id = ?")
        .bind(column_roles)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

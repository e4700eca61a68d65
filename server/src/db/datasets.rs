//! Data sets: uploaded CSV files, kept whole, with the role chosen for each column.

use sqlx::AnyPool;

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
    /// The file, moved into the statement: a large upload is not copied again.
    pub content: Vec<u8>,
}

/// A stored data set with its file.
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
    pub content: Vec<u8>,
}

pub async fn insert(pool: &AnyPool, new: NewDataset<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO datasets (name, file_name, profile, column_roles, row_count, \
         content_sha256, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.name)
    .bind(new.file_name)
    .bind(new.profile)
    .bind(new.column_roles)
    .bind(new.row_count)
    .bind(new.content_sha256)
    .bind(new.content)
    .bind(now_ms())
    .fetch_one(pool)
    .await?)
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<StoredDataset>> {
    Ok(sqlx::query_as(
        "SELECT id, name, file_name, profile, column_roles, row_count, content_sha256, content \
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

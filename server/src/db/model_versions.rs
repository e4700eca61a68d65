//! Model versions: immutable model files, numbered per profile, and which one each machine uses.

use sqlx::AnyPool;

use crate::domain::time::now_ms;
use crate::error::{Error, Result};

/// What it takes to register a model version.
#[derive(Debug, Clone)]
pub struct NewModelVersion<'a> {
    pub profile: &'a str,
    pub machine_id: Option<i64>,
    pub training_run_id: Option<i64>,
    pub algorithm: &'a str,
    /// The model card's evaluation, as JSON.
    pub metrics: String,
    pub threshold: Option<f64>,
    pub artifact: Vec<u8>,
}

/// A registered version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredVersion {
    pub id: i64,
    /// 1, 2, ... within its profile.
    pub version: i64,
}

/// Registers a model file as the profile's next version. One statement numbers and inserts
/// it, so concurrent registrations cannot take the same number, and no read precedes the write
/// (in SQLite's WAL mode a read-then-write transaction fails at once when another connection
/// wrote in between).
#[tracing::instrument(name = "Registering a model version", skip_all, fields(profile = new.profile))]
pub async fn insert(pool: &AnyPool, new: NewModelVersion<'_>) -> Result<RegisteredVersion> {
    let (id, version): (i64, i64) = sqlx::query_as(
        "INSERT INTO model_versions (machine_id, profile, version, training_run_id, algorithm, \
         metrics, threshold, artifact, created_at) \
         SELECT ?, ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?, ?, ? \
         FROM model_versions WHERE profile = ? RETURNING id, version",
    )
    .bind(new.machine_id)
    .bind(new.profile)
    .bind(new.training_run_id)
    .bind(new.algorithm)
    .bind(new.metrics)
    // Remaining-life models have no decision threshold; the column keeps 0 for them.
    .bind(new.threshold.unwrap_or(0.0))
    .bind(new.artifact)
    .bind(now_ms())
    .bind(new.profile)
    .fetch_one(pool)
    .await?;
    Ok(RegisteredVersion { id, version })
}

/// The model file of a version.
pub async fn artifact(pool: &AnyPool, id: i64) -> Result<Vec<u8>> {
    sqlx::query_scalar("SELECT artifact FROM model_versions WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("model version {id}")))
}

/// Makes a version the machine's active one and records who did it and why.
#[tracing::instrument(name = "Promoting a model version", skip(pool))]
pub async fn promote(
    pool: &AnyPool,
    machine_id: i64,
    version_id: i64,
    promoted_by: &str,
    reason: &str,
) -> Result<()> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE machines SET active_model_version_id = ?, updated_at = ? WHERE id = ?")
        .bind(version_id)
        .bind(now)
        .bind(machine_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO promotions (machine_id, model_version_id, promoted_by, reason, promoted_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(machine_id)
    .bind(version_id)
    .bind(promoted_by)
    .bind(reason)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A registered version without its model file.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ModelVersionRow {
    pub id: i64,
    pub profile: String,
    pub version: i64,
    pub machine_id: Option<i64>,
    pub training_run_id: Option<i64>,
    pub algorithm: String,
    pub created_at: i64,
    pub mlflow_version: Option<String>,
}

/// Every version, newest first within each profile.
pub async fn list(pool: &AnyPool) -> Result<Vec<ModelVersionRow>> {
    Ok(sqlx::query_as(
        "SELECT id, profile, version, machine_id, training_run_id, algorithm, created_at, \
         mlflow_version FROM model_versions ORDER BY profile, version DESC",
    )
    .fetch_all(pool)
    .await?)
}

/// The versions with these ids (any missing id is left out).
pub async fn with_ids(pool: &AnyPool, ids: &[i64]) -> Result<Vec<ModelVersionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!(
        "SELECT id, profile, version, machine_id, training_run_id, algorithm, created_at, \
         mlflow_version FROM model_versions WHERE id IN ({marks})"
    );
    let mut query = sqlx::query_as(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(pool).await?)
}

/// A version's number within its profile.
pub async fn number(pool: &AnyPool, id: i64) -> Result<Option<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT profile, version FROM model_versions WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The version a training run registered, with what MLflow tracking needs to know about it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RunVersion {
    pub id: i64,
    pub version: i64,
    /// Its number in MLflow's model registry, once registered there.
    pub mlflow_version: Option<String>,
    /// The profile's highest version number.
    pub newest_version: i64,
    /// 1 when some machine uses it.
    pub active: i64,
}

pub async fn for_training_run(pool: &AnyPool, training_run_id: i64) -> Result<Option<RunVersion>> {
    Ok(sqlx::query_as(
        "SELECT v.id, v.version, v.mlflow_version, \
         (SELECT MAX(n.version) FROM model_versions n WHERE n.profile = v.profile) \
         AS newest_version, \
         CASE WHEN EXISTS (SELECT 1 FROM machines m WHERE m.active_model_version_id = v.id) \
         THEN 1 ELSE 0 END AS active \
         FROM model_versions v WHERE v.training_run_id = ?",
    )
    .bind(training_run_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn set_mlflow_version(pool: &AnyPool, id: i64, mlflow_version: &str) -> Result<()> {
    sqlx::query("UPDATE model_versions SET mlflow_version = ? WHERE id = ?")
        .bind(mlflow_version)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The version's profile and its number in MLflow's registry, once tracked there.
pub async fn mlflow_version(pool: &AnyPool, id: i64) -> Result<Option<(String, Option<String>)>> {
    Ok(
        sqlx::query_as("SELECT profile, mlflow_version FROM model_versions WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The training run that registered a version, if one did.
pub async fn training_run_of(pool: &AnyPool, id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT training_run_id FROM model_versions WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

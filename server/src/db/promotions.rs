//! The promotion history: which version each machine was given, by whom, when and why.

use sqlx::AnyPool;

use crate::error::Result;

/// A promotion, with the names the pages show.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PromotionRow {
    pub machine_id: i64,
    pub machine: String,
    pub model_version_id: i64,
    pub profile: String,
    pub version: i64,
    pub promoted_by: String,
    #[sqlx(try_from = "crate::db::text::OptionalText")]
    pub reason: Option<String>,
    pub promoted_at: i64,
}

/// Every promotion, newest first.
pub async fn history(pool: &AnyPool, limit: i64) -> Result<Vec<PromotionRow>> {
    Ok(sqlx::query_as(
        "SELECT p.machine_id, m.name AS machine, p.model_version_id, v.profile, v.version, \
         p.promoted_by, p.reason, p.promoted_at \
         FROM promotions p JOIN machines m ON m.id = p.machine_id \
         JOIN model_versions v ON v.id = p.model_version_id \
         ORDER BY p.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

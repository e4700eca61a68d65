//! The promotion history: which version each machine was given, by whom, when and why.

use std::collections::HashMap;

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

/// The version each of these machines had before its active one, from its promotions: what
/// a roll-back goes to. Machines never promoted twice are left out.
pub async fn previous_versions(pool: &AnyPool, machine_ids: &[i64]) -> Result<HashMap<i64, i64>> {
    if machine_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = vec!["?"; machine_ids.len()].join(", ");
    let sql = format!(
        "SELECT p.machine_id, p.model_version_id FROM promotions p \
         JOIN machines m ON m.id = p.machine_id \
         WHERE p.machine_id IN ({placeholders}) AND p.model_version_id <> m.active_model_version_id \
         ORDER BY p.id DESC"
    );
    let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
    for id in machine_ids {
        query = query.bind(*id);
    }
    let mut previous = HashMap::new();
    for (machine, version) in query.fetch_all(pool).await? {
        // Newest first: the first row of a machine is its previous version.
        previous.entry(machine).or_insert(version);
    }
    Ok(previous)
}

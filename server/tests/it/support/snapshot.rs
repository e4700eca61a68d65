//! Every row of every table of a test server's database, as text, so a test can tell that a
//! request changed nothing. Read through a connection of its own, on either backend.

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// Tables whose rows change without storing anything: readiness rewrites one, the background
/// lease is renewed in another, a wrong password is counted in the third (the hostile suite
/// checks the limit by its answers), migrations fill the last.
const CHANGING: &str = "('write_probe', 'leases', 'sign_in_attempts', '_sqlx_migrations')";

enum Pool {
    Sqlite(SqlitePool),
    MariaDb(MySqlPool),
}

pub struct DatabaseSnapshot {
    pool: Pool,
    /// Each table with the query that reads all of it as one text.
    tables: Vec<(String, String)>,
}

impl DatabaseSnapshot {
    pub async fn open(url: &str) -> DatabaseSnapshot {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).unwrap().read_only(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .unwrap();
            let names: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT IN {CHANGING} ORDER BY name"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut tables = Vec::new();
            for name in names {
                let columns: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{name}')"))
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                let query = format!(
                    "SELECT count(*) || ':' || coalesce(group_concat({row}, char(10)), '') \
                     FROM (SELECT * FROM \"{name}\" ORDER BY rowid)"
                );
                tables.push((name, query));
            }
            DatabaseSnapshot {
                pool: Pool::Sqlite(pool),
                tables,
            }
        } else {
            let pool = MySqlPoolOptions::new()
                .max_connections(1)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        sqlx::query("SET SESSION group_concat_max_len = 1073741824")
                            .execute(connection)
                            .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .unwrap();
            let names: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name NOT IN {CHANGING} \
                 ORDER BY table_name"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut tables = Vec::new();
            for name in names {
                let columns: Vec<String> = sqlx::query_scalar(
                    "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                     WHERE table_schema = DATABASE() AND table_name = ? \
                     ORDER BY ordinal_position",
                )
                .bind(&name)
                .fetch_all(&pool)
                .await
                .unwrap();
                let row = columns
                    .iter()
                    .map(|c| format!("QUOTE(`{c}`)"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let order = &columns[0];
                let query = format!(
                    "SELECT CONCAT(COUNT(*), ':', COALESCE(GROUP_CONCAT(CONCAT_WS(',', {row}) \
                     ORDER BY `{order}` SEPARATOR '\\n'), '')) FROM `{name}`"
                );
                tables.push((name, query));
            }
            DatabaseSnapshot {
                pool: Pool::MariaDb(pool),
                tables,
            }
        }
    }

    /// The tables the snapshot reads.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.tables.iter().map(|(name, _)| name.as_str())
    }

    /// Every row of every table, as text.
    pub async fn take(&self) -> BTreeMap<String, String> {
        let mut rows = BTreeMap::new();
        for (name, query) in &self.tables {
            let all = match &self.pool {
                Pool::Sqlite(pool) => sqlx::query_scalar::<_, String>(query)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
                Pool::MariaDb(pool) => {
                    let bytes: Vec<u8> = sqlx::query_scalar(query).fetch_one(pool).await.unwrap();
                    String::from_utf8_lossy(&bytes).into_owned()
                }
            };
            rows.insert(name.clone(), all);
        }
        rows
    }
}

//! Machines: who they are, their sensor schema, and their latest state.

use std::collections::{BTreeMap, HashMap};

use app::model::{Sensor, Status};
use sqlx::{Any, AnyPool, QueryBuilder};

use crate::db::readings::CountChange;
use crate::domain::risk::risk_order_sql;
use crate::domain::time::now_ms;
use crate::domain::{MachineName, RiskRank, SensorSchema};
use crate::error::{Error, Result};

/// A machine as stored.
#[derive(Debug, sqlx::FromRow)]
struct MachineRow {
    id: i64,
    name: String,
    display_name: String,
    profile: String,
    #[sqlx(try_from = "crate::db::text::Text")]
    attributes: String,
    #[sqlx(try_from = "crate::db::text::Text")]
    sensors: String,
    monitoring: i64,
    status: String,
    failure_probability: Option<f64>,
    last_reading_at: Option<i64>,
    #[sqlx(try_from = "crate::db::text::OptionalText")]
    last_values: Option<String>,
    active_model_version_id: Option<i64>,
    remaining_life: Option<f64>,
    remaining_life_low: Option<f64>,
    remaining_life_high: Option<f64>,
    life_unit: Option<String>,
    failure_mode: Option<String>,
    mode_probability: Option<f64>,
    reading_count: i64,
    place: Option<String>,
    risk_order: f64,
    updated_at: i64,
}

const COLUMNS: &str = "id, name, display_name, profile, attributes, sensors, monitoring, status, \
                       failure_probability, last_reading_at, last_values, active_model_version_id, \
                       remaining_life, remaining_life_low, remaining_life_high, life_unit, \
                       failure_mode, mode_probability, reading_count, place, risk_order, updated_at";

/// A machine with its schema parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub profile: String,
    pub attributes: BTreeMap<String, String>,
    pub schema: SensorSchema,
    pub monitoring: bool,
    pub status: Status,
    pub failure_probability: Option<f64>,
    pub last_reading_at: Option<i64>,
    /// The latest reading's values, in schema order.
    pub last_values: Option<Vec<f64>>,
    pub active_model_version_id: Option<i64>,
    /// The latest prediction of remaining life, with its interval and unit.
    pub remaining_life: Option<f64>,
    pub remaining_life_low: Option<f64>,
    pub remaining_life_high: Option<f64>,
    pub life_unit: Option<String>,
    /// The latest likely failure mode and its probability given a failure.
    pub failure_mode: Option<String>,
    pub mode_probability: Option<f64>,
    /// How many readings it has, kept by the ingest transaction.
    pub reading_count: i64,
    /// Where it stands (a hall, a line, a site), when its registration said.
    pub place: Option<String>,
    /// Its rank by risk as stored, smaller is riskier (`RiskRank::order`).
    pub risk_order: f64,
    /// When its row last changed (a reading, a status, a promotion), ms since the epoch: what
    /// tells a page showing it that it changed.
    pub updated_at: i64,
}

impl Machine {
    /// What ranks it among the fleet by risk.
    pub fn risk_rank(&self) -> RiskRank<'_> {
        RiskRank {
            status: self.status,
            failure_probability: self.failure_probability,
            remaining_life: self.remaining_life,
            name: &self.name,
        }
    }
}

#[cfg(test)]
impl Machine {
    /// A monitored AI4I machine with the given risk, for tests of what ranks and shows machines.
    pub fn example(
        name: &str,
        status: Status,
        probability: Option<f64>,
        life: Option<f64>,
    ) -> Machine {
        Machine {
            id: 0,
            name: name.to_string(),
            display_name: name.to_string(),
            profile: "ai4i2020".to_string(),
            attributes: Default::default(),
            schema: crate::domain::profiles::Profile::Ai4i2020.schema(),
            monitoring: true,
            status,
            failure_probability: probability,
            last_reading_at: None,
            last_values: None,
            active_model_version_id: None,
            remaining_life: life,
            remaining_life_low: None,
            remaining_life_high: None,
            life_unit: None,
            failure_mode: None,
            mode_probability: None,
            reading_count: 0,
            place: None,
            risk_order: RiskRank {
                status,
                failure_probability: probability,
                remaining_life: life,
                name,
            }
            .order(),
            updated_at: 0,
        }
    }
}

impl TryFrom<MachineRow> for Machine {
    type Error = Error;

    fn try_from(row: MachineRow) -> Result<Machine> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            Error::Corrupt(format!("machine {}: {what}: {e}", row.name))
        };
        let sensors: Vec<Sensor> =
            serde_json::from_str(&row.sensors).map_err(|e| corrupt("sensors", &e))?;
        let schema = SensorSchema::parse(sensors).map_err(|e| corrupt("sensors", &e))?;
        let attributes =
            serde_json::from_str(&row.attributes).map_err(|e| corrupt("attributes", &e))?;
        let last_values = row
            .last_values
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("last values", &e))?;
        Ok(Machine {
            id: row.id,
            name: row.name,
            display_name: row.display_name,
            profile: row.profile,
            attributes,
            schema,
            monitoring: row.monitoring != 0,
            status: Status::parse(&row.status),
            failure_probability: row.failure_probability,
            last_reading_at: row.last_reading_at,
            last_values,
            active_model_version_id: row.active_model_version_id,
            remaining_life: row.remaining_life,
            remaining_life_low: row.remaining_life_low,
            remaining_life_high: row.remaining_life_high,
            life_unit: row.life_unit,
            failure_mode: row.failure_mode,
            mode_probability: row.mode_probability,
            reading_count: row.reading_count,
            place: row.place,
            risk_order: row.risk_order,
            updated_at: row.updated_at,
        })
    }
}

/// What it takes to register a machine.
#[derive(Debug, Clone)]
pub struct NewMachine {
    pub name: MachineName,
    pub display_name: String,
    pub profile: String,
    pub attributes: BTreeMap<String, String>,
    pub place: Option<String>,
    pub schema: SensorSchema,
}

/// Registers a machine; `Error::Conflict` when the name is taken.
#[tracing::instrument(name = "Registering a machine", skip_all, fields(machine = %new.name))]
pub async fn insert(pool: &AnyPool, new: &NewMachine) -> Result<Machine> {
    let now = now_ms();
    let sensors = serde_json::to_string(new.schema.sensors()).expect("sensors serialise");
    let attributes = serde_json::to_string(&new.attributes).expect("attributes serialise");
    let unknown = RiskRank {
        status: Status::Unknown,
        failure_probability: None,
        remaining_life: None,
        name: new.name.as_ref(),
    };
    let inserted = sqlx::query(
        "INSERT INTO machines (name, display_name, profile, attributes, place, sensors, \
         monitoring, status, risk_order, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, 1, 'unknown', ?, ?, ?)",
    )
    .bind(new.name.as_ref())
    .bind(&new.display_name)
    .bind(&new.profile)
    .bind(attributes)
    .bind(new.place.clone())
    .bind(sensors)
    .bind(unknown.order())
    .bind(now)
    .bind(now)
    .execute(pool)
    .await;
    match inserted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(Error::Conflict(format!(
                "a machine named {} exists already",
                new.name
            )))
        }
        other => other?,
    };
    find(pool, new.name.as_ref())
        .await?
        .ok_or_else(|| Error::Corrupt(format!("machine {} vanished after insert", new.name)))
}

/// The machine with this name, if any.
#[tracing::instrument(name = "Finding a machine", skip(pool))]
pub async fn find(pool: &AnyPool, name: &str) -> Result<Option<Machine>> {
    sqlx::query_as::<_, MachineRow>(&format!("SELECT {COLUMNS} FROM machines WHERE name = ?"))
        .bind(name)
        .fetch_optional(pool)
        .await?
        .map(Machine::try_from)
        .transpose()
}

/// Every machine, by name.
#[tracing::instrument(name = "Listing machines", skip_all)]
pub async fn list(pool: &AnyPool) -> Result<Vec<Machine>> {
    let sql = format!("SELECT {COLUMNS} FROM machines ORDER BY name");
    fetch_machines(pool, sqlx::query_as(&sql)).await
}

/// The machines a query of `COLUMNS` selects, their JSON columns parsed.
async fn fetch_machines<'q>(
    pool: &AnyPool,
    query: sqlx::query::QueryAs<'q, sqlx::Any, MachineRow, sqlx::any::AnyArguments<'q>>,
) -> Result<Vec<Machine>> {
    query
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(Machine::try_from)
        .collect()
}

/// Up to `limit` machines by name, of `profile` when one is given, those after `after` (a
/// keyset page: it costs the same wherever it starts, unlike an OFFSET).
#[tracing::instrument(name = "Listing a page of machines", skip(pool))]
pub async fn page(
    pool: &AnyPool,
    profile: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Machine>> {
    let of_profile = if profile.is_some() {
        " AND profile = ?"
    } else {
        ""
    };
    let sql =
        format!("SELECT {COLUMNS} FROM machines WHERE name > ?{of_profile} ORDER BY name LIMIT ?");
    let mut query = sqlx::query_as(&sql).bind(after.unwrap_or("").to_string());
    if let Some(profile) = profile {
        query = query.bind(profile.to_string());
    }
    fetch_machines(pool, query.bind(limit_bind(limit))).await
}

/// How many machines of each profile have each active model version (`None`: no model).
pub async fn count_by_active_version(
    pool: &AnyPool,
) -> Result<HashMap<(String, Option<i64>), i64>> {
    let rows: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT profile, active_model_version_id, COUNT(*) FROM machines \
         GROUP BY profile, active_model_version_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(profile, version, count)| ((profile, version), count))
        .collect())
}

/// The names of up to `limit` machines a model version is active on, by name.
pub async fn names_with_version(
    pool: &AnyPool,
    version_id: i64,
    limit: usize,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM machines WHERE active_model_version_id = ? ORDER BY name LIMIT ?",
    )
    .bind(version_id)
    .bind(limit_bind(limit))
    .fetch_all(pool)
    .await?)
}

/// Up to `limit` machines, riskiest first (`domain::risk`), from the index on the order kept
/// on each row: a scrape reads its capped machines, not the fleet.
#[tracing::instrument(name = "Listing the riskiest machines", skip(pool))]
pub async fn riskiest(pool: &AnyPool, limit: usize) -> Result<Vec<Machine>> {
    riskiest_page(pool, &FleetFilter::default(), None, limit).await
}

/// Which machines a fleet view shows; an empty filter matches every machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetFilter {
    /// Part of the name or display name, any case.
    pub search: Option<String>,
    pub status: Option<Status>,
    pub profile: Option<String>,
    pub place: Option<String>,
}

impl FleetFilter {
    /// Only the machines with this status.
    pub fn only(status: Status) -> FleetFilter {
        FleetFilter {
            status: Some(status),
            ..FleetFilter::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == FleetFilter::default()
    }

    /// The WHERE clause's conditions, each followed by its values in `binds`.
    fn conditions(&self) -> (Vec<&'static str>, Vec<String>) {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(search) = &self.search {
            conditions
                .push("(LOWER(name) LIKE ? ESCAPE '!' OR LOWER(display_name) LIKE ? ESCAPE '!')");
            let pattern = format!("%{}%", like_escaped(&search.to_lowercase()));
            binds.extend([pattern.clone(), pattern]);
        }
        if let Some(status) = self.status {
            conditions.push("status = ?");
            binds.push(status.as_str().to_string());
        }
        if let Some(profile) = &self.profile {
            conditions.push("profile = ?");
            binds.push(profile.clone());
        }
        if let Some(place) = &self.place {
            conditions.push("place = ?");
            binds.push(place.clone());
        }
        (conditions, binds)
    }
}

/// `text` matched literally by LIKE with `ESCAPE '!'`.
fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            escaped.push('!');
        }
        escaped.push(c);
    }
    escaped
}

/// Where a page of the fleet by risk ends: the last machine's stored order and name.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskCursor {
    pub order: f64,
    pub name: String,
}

impl RiskCursor {
    pub fn after(machine: &Machine) -> RiskCursor {
        RiskCursor {
            order: machine.risk_order,
            name: machine.name.clone(),
        }
    }
}

/// Up to `limit` machines the filter matches, riskiest first, after `after` (a keyset page
/// on the index of risk order and name: page 100 costs what page 1 does).
#[tracing::instrument(name = "Listing a page of the fleet", skip(pool))]
pub async fn riskiest_page(
    pool: &AnyPool,
    filter: &FleetFilter,
    after: Option<&RiskCursor>,
    limit: usize,
) -> Result<Vec<Machine>> {
    let (mut conditions, binds) = filter.conditions();
    if after.is_some() {
        conditions.push("(risk_order > ? OR (risk_order = ? AND name > ?))");
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM machines{} ORDER BY risk_order, name LIMIT ?",
        where_clause(&conditions)
    );
    let mut query = sqlx::query_as(&sql);
    for value in binds {
        query = query.bind(value);
    }
    if let Some(cursor) = after {
        query = query
            .bind(cursor.order)
            .bind(cursor.order)
            .bind(cursor.name.clone());
    }
    fetch_machines(pool, query.bind(limit_bind(limit))).await
}

/// How many machines the filter matches.
pub async fn count_matching(pool: &AnyPool, filter: &FleetFilter) -> Result<i64> {
    let (conditions, binds) = filter.conditions();
    let sql = format!("SELECT COUNT(*) FROM machines{}", where_clause(&conditions));
    let mut query = sqlx::query_scalar(&sql);
    for value in binds {
        query = query.bind(value);
    }
    Ok(query.fetch_one(pool).await?)
}

fn where_clause(conditions: &[&str]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// The distinct values of an indexed column, in order, by jumping from each to the next in the
/// index: a read per value, where `SELECT DISTINCT` reads every machine's index entry.
fn distinct(column: &str) -> String {
    format!(
        "WITH RECURSIVE found (value) AS ( \
           SELECT MIN({column}) FROM machines \
           UNION ALL \
           SELECT (SELECT MIN({column}) FROM machines WHERE {column} > found.value) \
           FROM found WHERE found.value IS NOT NULL \
         ) SELECT value FROM found WHERE value IS NOT NULL ORDER BY value"
    )
}

/// The places and the profiles machines have, each sorted: the choices of the fleet's filters.
pub async fn places_and_profiles(pool: &AnyPool) -> Result<(Vec<String>, Vec<String>)> {
    let places = sqlx::query_scalar(&distinct("place"))
        .fetch_all(pool)
        .await?;
    let profiles = sqlx::query_scalar(&distinct("profile"))
        .fetch_all(pool)
        .await?;
    Ok((places, profiles))
}

/// A monitored machine's name and the time of its latest reading.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LastReading {
    pub name: String,
    /// Milliseconds since the epoch, UTC.
    pub last_reading_at: i64,
}

/// Up to `limit` monitored machines that have reported, the longest silent first: the ones an
/// alert on silence needs (only their names and times: a scrape reads no more).
#[tracing::instrument(name = "Listing the longest silent machines", skip(pool))]
pub async fn longest_silent(pool: &AnyPool, limit: usize) -> Result<Vec<LastReading>> {
    Ok(sqlx::query_as(
        "SELECT name, last_reading_at FROM machines \
         WHERE monitoring = 1 AND last_reading_at IS NOT NULL \
         ORDER BY last_reading_at, name LIMIT ?",
    )
    .bind(limit_bind(limit))
    .fetch_all(pool)
    .await?)
}

/// How many machines have each status; statuses without machines are left out.
#[tracing::instrument(name = "Counting machines by status", skip_all)]
pub async fn count_by_status(pool: &AnyPool) -> Result<HashMap<Status, i64>> {
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM machines GROUP BY status")
            .fetch_all(pool)
            .await?;
    let mut by_status = HashMap::new();
    for (status, count) in counts {
        *by_status.entry(Status::parse(&status)).or_default() += count;
    }
    Ok(by_status)
}

/// A row limit as both backends take it: a signed 64-bit integer.
fn limit_bind(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The latest prediction, as the machine row keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestPrediction {
    pub status: Status,
    pub failure_probability: Option<f64>,
    pub remaining_life: Option<f64>,
    pub remaining_life_low: Option<f64>,
    pub remaining_life_high: Option<f64>,
    pub life_unit: Option<String>,
    pub failure_mode: Option<String>,
    pub mode_probability: Option<f64>,
}

impl LatestPrediction {
    /// The machine's rank by risk once this is its latest prediction.
    pub fn risk_order(&self) -> f64 {
        RiskRank {
            status: self.status,
            failure_probability: self.failure_probability,
            remaining_life: self.remaining_life,
            name: "",
        }
        .order()
    }
}

/// The newest reading of a batch, with its prediction when the machine has a model.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestReading<'a> {
    pub recorded_at: i64,
    pub values: &'a [f64],
    pub prediction: Option<&'a LatestPrediction>,
}

/// What a stored batch changes on its machine's row.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord<'a> {
    pub machine_id: i64,
    pub counts: CountChange,
    pub latest: LatestReading<'a>,
}

/// Records stored batches, one per machine, on their machines' rows in one statement: the
/// reading counts moved past each, and its newest reading (and prediction) where that is the
/// machine's newest, never moving a machine back to an older reading's.
pub async fn record_batches(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    batches: &[BatchRecord<'_>],
) -> Result<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let mut update: QueryBuilder<Any> =
        QueryBuilder::new("UPDATE machines SET reading_count = reading_count + CASE");
    for batch in batches {
        update
            .push(" WHEN id = ")
            .push_bind(batch.machine_id)
            .push(" THEN ")
            .push_bind(batch.counts.inserted);
    }
    update.push(" ELSE 0 END, run_reading_count = CASE");
    for batch in batches {
        update.push(" WHEN id = ").push_bind(batch.machine_id);
        match batch.counts.new_run {
            Some((_, after)) => update.push(" THEN ").push_bind(after),
            None => update
                .push(" THEN run_reading_count + ")
                .push_bind(batch.counts.inserted),
        };
    }
    update.push(" ELSE run_reading_count END");
    set(
        &mut update,
        "run_started_after",
        false,
        of_batches(batches, |b| b.counts.new_run.map(|(id, _)| id)),
    );
    // The newest reading's columns; last_reading_at last, so that every condition reads the
    // value the row had (MariaDB assigns in order, SQLite from the row as it was).
    let values =
        |b: &BatchRecord<'_>| Some(serde_json::to_string(b.latest.values).expect("finite values"));
    set(
        &mut update,
        "last_values",
        true,
        of_batches(batches, values),
    );
    let status = |p: &LatestPrediction| p.status.as_str().to_string();
    set(&mut update, "status", true, of_predictions(batches, status));
    let numbers: [PredictionColumn<f64>; 6] = [
        ("failure_probability", |p| p.failure_probability),
        ("remaining_life", |p| p.remaining_life),
        ("remaining_life_low", |p| p.remaining_life_low),
        ("remaining_life_high", |p| p.remaining_life_high),
        ("mode_probability", |p| p.mode_probability),
        ("risk_order", |p| Some(p.risk_order())),
    ];
    for (name, value) in numbers {
        set(&mut update, name, true, of_predictions(batches, value));
    }
    let texts: [PredictionColumn<String>; 2] = [
        ("life_unit", |p| p.life_unit.clone()),
        ("failure_mode", |p| p.failure_mode.clone()),
    ];
    for (name, value) in texts {
        set(&mut update, name, true, of_predictions(batches, value));
    }
    let predicted = |b: &BatchRecord<'_>| b.latest.prediction.map(|_| b.latest.recorded_at);
    set(
        &mut update,
        "last_predicted_at",
        true,
        of_batches(batches, predicted),
    );
    set(
        &mut update,
        "last_reading_at",
        true,
        of_batches(batches, |b| Some(b.latest.recorded_at)),
    );
    // The fleet page's version moves with it.
    update.push(", updated_at = ").push_bind(now_ms());
    update.push(" WHERE id IN (");
    let mut ids = update.separated(", ");
    for batch in batches {
        ids.push_bind(batch.machine_id);
    }
    ids.push_unseparated(")");
    update.build().execute(&mut **tx).await?;
    Ok(())
}

/// A column of the newest prediction, and how to read its value from one.
type PredictionColumn<T> = (&'static str, fn(&LatestPrediction) -> Option<T>);

/// Each batch's machine, newest reading time and value for a column (`None`: keep the row's).
fn of_batches<T>(
    batches: &[BatchRecord<'_>],
    value: impl Fn(&BatchRecord<'_>) -> Option<T>,
) -> Vec<(i64, i64, Option<T>)> {
    batches
        .iter()
        .map(|b| (b.machine_id, b.latest.recorded_at, value(b)))
        .collect()
}

/// [`of_batches`] for a column of the newest prediction, kept where a batch has none.
fn of_predictions<T>(
    batches: &[BatchRecord<'_>],
    value: impl Fn(&LatestPrediction) -> T,
) -> Vec<(i64, i64, Option<T>)> {
    of_batches(batches, |b| b.latest.prediction.map(&value))
}

/// `, name = CASE WHEN id = ? [AND the reading is the machine's newest] THEN ? ... ELSE name
/// END` for the machines with a value; nothing when none has one.
fn set<'q, T>(
    update: &mut QueryBuilder<'q, Any>,
    name: &str,
    newest_only: bool,
    values: Vec<(i64, i64, Option<T>)>,
) where
    T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send,
{
    if values.iter().all(|(_, _, value)| value.is_none()) {
        return;
    }
    update.push(format!(", {name} = CASE"));
    for (machine_id, recorded_at, value) in values {
        let Some(value) = value else { continue };
        update.push(" WHEN id = ").push_bind(machine_id);
        if newest_only {
            update
                .push(" AND (last_reading_at IS NULL OR last_reading_at <= ")
                .push_bind(recorded_at)
                .push(")");
        }
        update.push(" THEN ").push_bind(value);
    }
    update.push(format!(" ELSE {name} END"));
}

/// Sets the status shown until the next prediction (`training`, or `unknown` after a promotion).
pub async fn set_status(pool: &AnyPool, machine_id: i64, status: Status) -> Result<()> {
    let sql = format!(
        "UPDATE machines SET status = ?, risk_order = {}, updated_at = ? WHERE id = ?",
        risk_order_sql("?")
    );
    sqlx::query(&sql)
        .bind(status.as_str())
        .bind(status.as_str())
        .bind(now_ms())
        .bind(machine_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// How many machines are registered.
pub async fn count(pool: &AnyPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM machines")
        .fetch_one(pool)
        .await?)
}

/// The name of the machine with this id, if it still exists.
pub async fn name_of(pool: &AnyPool, id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM machines WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

//! What the alarms page shows (`AlarmQueries`), read from storage.

use std::time::Duration;

use app::error::AppError;
use app::model::{
    percent, time_ago, AlarmAction, AlarmQuery, AlarmView, AlarmsPage, Role, Sensor, Viewer,
};
use app::services::AlarmQueries;

use super::fleet::drivers_in_words;
use crate::db::alarm_events::{self, Trouble};
use crate::db::alarms::{self, Alarm, AlarmFilter, AlarmState};
use crate::db::Database;
use crate::domain::time::now_ms;

/// Alarms a page lists at most: the newest, those not cleared first.
const LISTED: i64 = 100;

pub struct StoredAlarms {
    pub db: Database,
    /// The healthy time that clears an alarm.
    pub clears_after: Duration,
    /// Whether a webhook announces the alarms, whose trouble the page then reports.
    pub webhook: bool,
}

#[async_trait::async_trait]
impl AlarmQueries for StoredAlarms {
    async fn alarms(&self, query: AlarmQuery, viewer: &Viewer) -> Result<AlarmsPage, AppError> {
        let state = match query.state.as_deref() {
            None => None,
            Some(text) => Some(AlarmState::parse(text).ok_or_else(|| {
                AppError::Invalid(format!(
                    "state: {text:?} is not open, acknowledged or cleared"
                ))
            })?),
        };
        let filter = AlarmFilter {
            state,
            machine: query.machine.map(|m| m.trim().to_string()),
        };
        let pool = self.db.pool();
        let listed = alarms::list(pool, &filter, LISTED).await?;
        let (open, acknowledged) = alarms::state_counts(pool).await?;
        let webhook_trouble = match self.webhook {
            true => trouble_text(alarm_events::trouble(pool).await?),
            false => None,
        };
        let now = now_ms();
        let csrf = viewer
            .signed_in
            .as_ref()
            .filter(|user| user.role >= Role::Engineer)
            .map(|user| user.csrf_token.clone());
        Ok(AlarmsPage {
            alarms: listed.into_iter().map(|alarm| view(alarm, now)).collect(),
            open,
            acknowledged,
            csrf,
            clears_after: in_words(self.clears_after),
            webhook_trouble,
        })
    }
}

/// What the page says of the webhook's failed deliveries, none when there are none.
fn trouble_text(trouble: Trouble) -> Option<String> {
    if trouble.retrying == 0 && trouble.given_up == 0 {
        return None;
    }
    let error = trouble
        .last_error
        .map(|error| format!(" The last error: {error}."))
        .unwrap_or_default();
    Some(format!(
        "The alarm webhook failed: {} transitions are waiting to be sent again, {} were given \
         up after {} tries.{error}",
        trouble.retrying,
        trouble.given_up,
        crate::alarms::webhook::TRIES
    ))
}

/// "10 min", "1 h 30 min", "45 s": a setting's length as people say it.
fn in_words(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let parts = [
        (seconds / 3600, "h"),
        (seconds / 60 % 60, "min"),
        (seconds % 60, "s"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, unit)| format!("{count} {unit}"))
        .collect();
    if words.is_empty() {
        "0 s".to_string()
    } else {
        words.join(" ")
    }
}

/// An alarm as the pages show it, with times relative to `now`.
pub(super) fn view(alarm: Alarm, now: i64) -> AlarmView {
    let peak = match (alarm.failure_probability, alarm.remaining_life) {
        (Some(p), _) => format!("{} failure risk", percent(p)),
        (None, Some(life)) => format!(
            "{life:.0} {} left",
            alarm.life_unit.as_deref().unwrap_or("units")
        ),
        (None, None) => "no figure".to_string(),
    };
    let drivers = alarm
        .drivers
        .as_deref()
        .map(|json| {
            // A machine's sensors were checked when it was stored; unreadable ones only cost
            // the drivers their labels.
            let sensors: Vec<Sensor> =
                serde_json::from_str(&alarm.machine_sensors).unwrap_or_default();
            drivers_in_words(json, alarm.life_unit.as_deref(), &sensors)
        })
        .unwrap_or_default()
        .into_iter()
        .map(|driver| format!("{} {}", driver.input, driver.effect))
        .collect();
    let action = |at: Option<i64>, by: Option<String>, note: Option<String>| {
        at.map(|at| AlarmAction {
            by,
            when: time_ago(at, now),
            note: note.filter(|n| !n.is_empty()),
        })
    };
    AlarmView {
        id: alarm.id,
        machine: alarm.machine,
        machine_display_name: alarm.machine_display_name,
        state: alarm.state,
        severity: alarm.severity,
        raised: time_ago(alarm.raised_at, now),
        escalated: alarm.escalated_at.map(|at| time_ago(at, now)),
        peak,
        failure_mode: alarm.failure_mode,
        drivers,
        model_version_id: alarm.model_version_id,
        acknowledged: action(
            alarm.acknowledged_at,
            alarm.acknowledged_by,
            alarm.acknowledged_note,
        ),
        cleared: action(alarm.cleared_at, alarm.cleared_by, alarm.cleared_note),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_as_people_say_them() {
        assert_eq!(in_words(Duration::from_secs(600)), "10 min");
        assert_eq!(in_words(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(in_words(Duration::from_secs(45)), "45 s");
        assert_eq!(in_words(Duration::ZERO), "0 s");
    }
}

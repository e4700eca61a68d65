//! What the alarms page shows (`AlarmQueries`), read from storage.

use std::time::Duration;

use app::error::AppError;
use app::model::{percent, time_ago, AlarmAction, AlarmQuery, AlarmView, AlarmsPage, Role, Viewer};
use app::services::AlarmQueries;

use super::fleet::drivers_in_words;
use crate::db::alarms::{self, Alarm, AlarmFilter, AlarmState};
use crate::db::Database;
use crate::domain::time::now_ms;

/// Alarms a page lists at most: the newest, those not cleared first.
const LISTED: i64 = 100;

pub struct StoredAlarms {
    pub db: Database,
    /// The healthy time that clears an alarm.
    pub clears_after: Duration,
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
            clears_after: app::model::duration(0, millis(self.clears_after)),
        })
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn view(alarm: Alarm, now: i64) -> AlarmView {
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
        .map(|json| drivers_in_words(json, alarm.life_unit.as_deref()))
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

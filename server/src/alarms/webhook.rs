//! The alarm webhook: each transition in the outbox (`db::alarm_events`) is POSTed to
//! `ICANTKUBE_ALARM_WEBHOOK_URL` as generic JSON or a Slack message, signed with HMAC-SHA256
//! of the body when a secret is set, and tried again with growing pauses until the receiver
//! answers 2xx or the tries run out. Only the replica holding the background lease delivers,
//! so each transition is sent once; should that replica die between a delivery and noting it,
//! the next holder sends it again with the same `X-Icantkube-Delivery` id, which receivers
//! use to drop the repeat.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::task::JoinHandle;

use crate::configuration::{WebhookFormat, WebhookSettings};
use crate::db::alarm_events::{self, DueEvent};
use crate::db::Database;
use crate::domain::time::{now_ms, to_rfc3339};

/// Tries before a transition is given up: the pauses between them add up to 47 minutes.
pub const TRIES: i64 = 12;
/// How often the outbox is looked at when it was empty.
const POLL: Duration = Duration::from_secs(1);
/// Transitions taken from the outbox at a time.
const BATCH: i64 = 20;
/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long delivered transitions are kept.
const KEPT: Duration = Duration::from_secs(30 * 24 * 3600);
/// The longest an error message is stored.
const ERROR_CHARACTERS: usize = 400;

/// The pause after the `attempts`-th failed try: 2 s, 4 s, 8 s, ... at most 15 minutes.
pub fn pause_after(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20)).unwrap_or(20);
    Duration::from_secs(2u64.pow(exponent)).min(Duration::from_secs(15 * 60))
}

pub fn keep_delivering(db: Database, settings: WebhookSettings) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .expect("a client with a timeout builds");
        let mut forgotten_at = 0;
        loop {
            let now = now_ms();
            if now - forgotten_at > 3_600_000 {
                let before = now - i64::try_from(KEPT.as_millis()).unwrap_or(i64::MAX);
                if let Err(error) = alarm_events::forget_delivered(db.pool(), before).await {
                    tracing::warn!(%error, "forgetting delivered alarm events failed");
                }
                forgotten_at = now;
            }
            let due = match alarm_events::due(db.pool(), now, BATCH).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "reading the alarm webhook's outbox failed");
                    Vec::new()
                }
            };
            if due.is_empty() {
                tokio::time::sleep(POLL).await;
                continue;
            }
            for event in due {
                if let Err(error) = deliver_and_note(&db, &client, &settings, &event).await {
                    tracing::warn!(%error, "noting an alarm event's delivery failed");
                }
            }
        }
    })
}

async fn deliver_and_note(
    db: &Database,
    client: &reqwest::Client,
    settings: &WebhookSettings,
    event: &DueEvent,
) -> crate::error::Result<()> {
    match deliver(client, settings, event).await {
        Ok(()) => alarm_events::delivered(db.pool(), event.id).await,
        Err(error) => {
            let attempts = event.attempts + 1;
            let next_at = (attempts < TRIES).then(|| {
                now_ms() + i64::try_from(pause_after(attempts).as_millis()).unwrap_or(i64::MAX)
            });
            tracing::warn!(
                delivery = event.id,
                attempts,
                given_up = next_at.is_none(),
                %error,
                "the alarm webhook refused a transition"
            );
            let error: String = error.chars().take(ERROR_CHARACTERS).collect();
            alarm_events::failed(db.pool(), event.id, &error, next_at).await
        }
    }
}

async fn deliver(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    event: &DueEvent,
) -> Result<(), String> {
    let body = serde_json::to_vec(&payload(settings.format, event)).expect("JSON serialises");
    let mut request = client
        .post(&settings.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Icantkube-Event", format!("alarm.{}", event.kind))
        .header("X-Icantkube-Delivery", event.id.to_string());
    if let Some(secret) = &settings.secret {
        request = request.header("X-Icantkube-Signature", signature(secret.expose(), &body));
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|error| format!("{}: {error}", settings.url_for_messages()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{} answered {status}", settings.url_for_messages()))
    }
}

/// `sha256=` and the hex HMAC-SHA256 of the body under the secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn payload(format: WebhookFormat, event: &DueEvent) -> serde_json::Value {
    match format {
        WebhookFormat::Json => json!({
            "event": format!("alarm.{}", event.kind),
            "delivery": event.id,
            "happened_at": to_rfc3339(event.happened_at),
            "by": event.by_user,
            "note": event.note,
            "alarm": {
                "id": event.alarm_id,
                "machine": event.machine,
                "machine_display_name": event.machine_display_name,
                "state": event.state,
                "severity": event.severity,
                "raised_at": to_rfc3339(event.raised_at),
                "failure_probability": event.failure_probability,
                "remaining_life": event.remaining_life,
                "life_unit": event.life_unit,
                "failure_mode": event.failure_mode,
                "model_version_id": event.model_version_id,
            },
        }),
        WebhookFormat::Slack => json!({ "text": slack_text(event) }),
    }
}

/// One line for a chat: `[critical] Mill 1 (mill-1): alarm raised; 83 % failure risk, likely HDF`.
fn slack_text(event: &DueEvent) -> String {
    let mut text = format!(
        "[{}] {} ({}): alarm {}",
        event.severity, event.machine_display_name, event.machine, event.kind
    );
    if let Some(by) = &event.by_user {
        text.push_str(&format!(" by {by}"));
    }
    match (event.failure_probability, event.remaining_life) {
        (Some(p), _) => text.push_str(&format!("; {} failure risk", app::model::percent(p))),
        (None, Some(life)) => text.push_str(&format!(
            "; {life:.0} {} left",
            event.life_unit.as_deref().unwrap_or("units")
        )),
        (None, None) => {}
    }
    if let Some(mode) = &event.failure_mode {
        text.push_str(&format!(", likely {mode}"));
    }
    if let Some(note) = &event.note {
        text.push_str(&format!(": “{note}”"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_quarter_of_an_hour() {
        assert_eq!(pause_after(1), Duration::from_secs(2));
        assert_eq!(pause_after(3), Duration::from_secs(8));
        assert_eq!(pause_after(19), Duration::from_secs(900));
        let total: Duration = (1..TRIES).map(pause_after).sum();
        assert!(total < Duration::from_secs(3600), "{total:?}");
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

-- The alarm webhook's outbox (server/src/db/alarm_events.rs): a row per transition of an
-- alarm while a webhook is configured, pending until delivered or given up.
CREATE TABLE alarm_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id INTEGER NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('raised', 'escalated', 'acknowledged', 'cleared')),
    happened_at INTEGER NOT NULL,
    by_user TEXT NULL,
    note TEXT NULL,
    pending INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER NULL,
    last_error TEXT NULL
);
CREATE INDEX alarm_events_due ON alarm_events (pending, next_attempt_at);
CREATE INDEX alarm_events_delivered ON alarm_events (pending, delivered_at);

-- The alarm webhook's outbox (server/src/db/alarm_events.rs): a row per transition of an
-- alarm while a webhook is configured, pending until delivered or given up.
CREATE TABLE alarm_events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    alarm_id BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('raised', 'escalated', 'acknowledged', 'cleared')),
    happened_at BIGINT NOT NULL,
    by_user VARCHAR(64) NULL,
    note VARCHAR(500) NULL,
    pending BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT NULL,
    last_error VARCHAR(500) NULL,
    INDEX alarm_events_due (pending, next_attempt_at),
    INDEX alarm_events_delivered (pending, delivered_at),
    CONSTRAINT alarm_events_alarm FOREIGN KEY (alarm_id) REFERENCES alarms (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

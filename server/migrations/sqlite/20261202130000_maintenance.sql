-- What engineers did to machines (server/src/db/maintenance.rs). A repair or a part replaced
-- labels the machine's readings; a false alarm marks its alarm. An alarm's outcome: NULL
-- until an engineer says, `confirmed` (a repair or replacement followed it) or `false`.
CREATE TABLE maintenance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('inspection', 'part_replaced', 'repair', 'false_alarm')),
    failure_mode TEXT NULL,
    done_at INTEGER NOT NULL,
    note TEXT NULL,
    alarm_id INTEGER NULL REFERENCES alarms (id) ON DELETE SET NULL,
    -- The reading labelled as the failure, for a repair or a replacement.
    failure_reading_id INTEGER NULL,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX maintenance_by_machine ON maintenance (machine_id, done_at);
ALTER TABLE alarms ADD COLUMN outcome TEXT NULL;

-- Alarms: one per episode of a machine at warning or critical (see server/src/db/alarms.rs).
-- Times are the readings' (raised_at, escalated_at, peak_at, last_bad_at) or the server's
-- (acknowledged_at, cleared_at, updated_at), in ms since the epoch.
CREATE TABLE alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
    severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    raised_at INTEGER NOT NULL,
    escalated_at INTEGER NULL,
    -- The riskiest prediction of the episode and what it said.
    peak_at INTEGER NOT NULL,
    peak_risk_order REAL NOT NULL,
    failure_probability REAL NULL,
    remaining_life REAL NULL,
    life_unit TEXT NULL,
    failure_mode TEXT NULL,
    drivers TEXT NULL,
    model_version_id INTEGER NOT NULL REFERENCES model_versions (id),
    -- The newest warning or critical prediction: the healthy period that clears it starts here.
    last_bad_at INTEGER NOT NULL,
    acknowledged_at INTEGER NULL,
    acknowledged_by TEXT NULL,
    acknowledged_note TEXT NULL,
    -- cleared_by is NULL when the machine's recovery cleared it.
    cleared_at INTEGER NULL,
    cleared_by TEXT NULL,
    cleared_note TEXT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX alarms_by_machine ON alarms (machine_id, state);
CREATE INDEX alarms_by_state ON alarms (state, raised_at);

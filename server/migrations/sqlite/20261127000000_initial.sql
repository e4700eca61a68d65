-- Timestamps are milliseconds since the Unix epoch, UTC. JSON documents are stored as text.
-- Types are kept to INTEGER, REAL, TEXT and BLOB so the same queries run on MariaDB.

CREATE TABLE machines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    profile TEXT NOT NULL,
    -- JSON object of string attributes, such as {"type": "M"}.
    attributes TEXT NOT NULL,
    -- JSON array of {key, label, unit}, in reading order.
    sensors TEXT NOT NULL,
    monitoring INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'unknown',
    active_model_version_id INTEGER NULL,
    failure_probability REAL NULL,
    remaining_life REAL NULL,
    last_reading_at INTEGER NULL,
    -- JSON array of the latest reading's values, in schema order.
    last_values TEXT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE ingest_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NULL
);

CREATE TABLE readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    recorded_at INTEGER NOT NULL,
    -- The client's id, so a retried batch stores nothing twice.
    client_seq TEXT NULL,
    -- JSON array of values, in the machine's schema order.
    sensor_values TEXT NOT NULL,
    failure INTEGER NULL,
    failure_mode TEXT NULL,
    time_to_failure REAL NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX readings_by_machine_time ON readings (machine_id, recorded_at);
CREATE UNIQUE INDEX readings_by_client_seq ON readings (machine_id, client_seq);

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    file_name TEXT NOT NULL,
    profile TEXT NOT NULL,
    -- JSON array of {column, role}.
    column_roles TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE training_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NULL REFERENCES machines (id) ON DELETE SET NULL,
    dataset_id INTEGER NULL REFERENCES datasets (id) ON DELETE SET NULL,
    profile TEXT NOT NULL,
    target TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    -- JSON object of hyperparameters.
    parameters TEXT NOT NULL,
    state TEXT NOT NULL,
    stage TEXT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    error TEXT NULL,
    -- JSON object of metrics.
    metrics TEXT NULL,
    runner TEXT NULL,
    job_name TEXT NULL,
    mlflow_run_id TEXT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER NULL,
    finished_at INTEGER NULL
);

CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NULL REFERENCES machines (id) ON DELETE SET NULL,
    profile TEXT NOT NULL,
    version INTEGER NOT NULL,
    training_run_id INTEGER NULL REFERENCES training_runs (id) ON DELETE SET NULL,
    algorithm TEXT NOT NULL,
    metrics TEXT NOT NULL,
    threshold REAL NOT NULL,
    artifact BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (profile, version)
);

CREATE TABLE promotions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    model_version_id INTEGER NOT NULL REFERENCES model_versions (id),
    promoted_by TEXT NOT NULL,
    reason TEXT NULL,
    promoted_at INTEGER NOT NULL
);

CREATE TABLE predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reading_id INTEGER NOT NULL UNIQUE REFERENCES readings (id) ON DELETE CASCADE,
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    model_version_id INTEGER NOT NULL REFERENCES model_versions (id),
    recorded_at INTEGER NOT NULL,
    failure_probability REAL NOT NULL,
    status TEXT NOT NULL,
    failure_mode TEXT NULL,
    mode_probability REAL NULL,
    remaining_life REAL NULL,
    remaining_life_low REAL NULL,
    remaining_life_high REAL NULL,
    -- JSON array of the inputs that pushed the risk most.
    drivers TEXT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX predictions_by_machine_time ON predictions (machine_id, recorded_at);

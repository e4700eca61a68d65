-- The MariaDB schema: the same tables, columns and meanings as the SQLite migrations, so the
-- same queries run on both. Timestamps are milliseconds since the Unix epoch, UTC (BIGINT),
-- values are DOUBLE, JSON documents are TEXT. utf8mb4_nopad_bin: names, tokens and client ids
-- compare byte for byte, as in SQLite: never case-insensitively, and `mill-1 ` is not
-- `mill-1` (the PAD SPACE collations ignore trailing spaces). Short strings are VARCHAR, which
-- InnoDB indexes whole.

CREATE TABLE machines (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE,
    display_name VARCHAR(255) NOT NULL,
    profile VARCHAR(64) NOT NULL,
    -- JSON object of string attributes, such as {"type": "M"}.
    attributes TEXT NOT NULL,
    -- JSON array of {key, label, unit}, in reading order.
    sensors MEDIUMTEXT NOT NULL,
    monitoring BIGINT NOT NULL DEFAULT 1,
    status VARCHAR(32) NOT NULL DEFAULT 'unknown',
    active_model_version_id BIGINT NULL,
    failure_probability DOUBLE NULL,
    remaining_life DOUBLE NULL,
    last_reading_at BIGINT NULL,
    -- JSON array of the latest reading's values, in schema order.
    last_values MEDIUMTEXT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    remaining_life_low DOUBLE NULL,
    remaining_life_high DOUBLE NULL,
    life_unit VARCHAR(32) NULL,
    failure_mode VARCHAR(64) NULL,
    mode_probability DOUBLE NULL,
    last_predicted_at BIGINT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE ingest_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NOT NULL,
    token_sha256 CHAR(64) NOT NULL UNIQUE,
    label VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE readings (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    -- The client's id, so a retried batch stores nothing twice.
    client_seq VARCHAR(128) NULL,
    -- JSON array of values, in the machine's schema order.
    sensor_values TEXT NOT NULL,
    failure BIGINT NULL,
    failure_mode VARCHAR(64) NULL,
    time_to_failure DOUBLE NULL,
    received_at BIGINT NOT NULL,
    FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE CASCADE,
    INDEX readings_by_machine_time (machine_id, recorded_at),
    UNIQUE INDEX readings_by_client_seq (machine_id, client_seq),
    -- A failure ends a unit's run: live series features start after the machine's last one.
    INDEX readings_failures (machine_id, failure, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE datasets (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    file_name VARCHAR(255) NOT NULL,
    profile VARCHAR(64) NOT NULL,
    -- JSON array of {column, role}.
    column_roles MEDIUMTEXT NOT NULL,
    row_count BIGINT NOT NULL,
    content_sha256 CHAR(64) NOT NULL,
    content LONGBLOB NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE training_runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NULL,
    dataset_id BIGINT NULL,
    profile VARCHAR(64) NOT NULL,
    target VARCHAR(255) NOT NULL,
    algorithm VARCHAR(64) NOT NULL,
    -- JSON object of hyperparameters.
    parameters TEXT NOT NULL,
    state VARCHAR(32) NOT NULL,
    stage VARCHAR(255) NULL,
    progress BIGINT NOT NULL DEFAULT 0,
    error TEXT NULL,
    -- JSON object of metrics.
    metrics MEDIUMTEXT NULL,
    runner VARCHAR(64) NULL,
    job_name VARCHAR(255) NULL,
    mlflow_run_id VARCHAR(255) NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT NULL,
    finished_at BIGINT NULL,
    -- 1: once the run's model version is registered, promote it on every machine of the run
    -- whose active version it beats.
    auto_promote BIGINT NOT NULL DEFAULT 0,
    -- MLflow tracking of the run: off (no MLflow configured), pending, tracked, failed (retried).
    tracking VARCHAR(32) NOT NULL DEFAULT 'off',
    tracking_error TEXT NULL,
    mlflow_experiment_id VARCHAR(255) NULL,
    FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE SET NULL,
    FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE SET NULL,
    INDEX training_runs_by_state (state)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE model_versions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NULL,
    profile VARCHAR(64) NOT NULL,
    version BIGINT NOT NULL,
    training_run_id BIGINT NULL,
    algorithm VARCHAR(64) NOT NULL,
    metrics MEDIUMTEXT NOT NULL,
    threshold DOUBLE NOT NULL,
    artifact LONGBLOB NOT NULL,
    created_at BIGINT NOT NULL,
    mlflow_version VARCHAR(64) NULL,
    UNIQUE (profile, version),
    FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE SET NULL,
    FOREIGN KEY (training_run_id) REFERENCES training_runs (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE promotions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NOT NULL,
    model_version_id BIGINT NOT NULL,
    promoted_by VARCHAR(255) NOT NULL,
    reason TEXT NULL,
    promoted_at BIGINT NOT NULL,
    FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE CASCADE,
    FOREIGN KEY (model_version_id) REFERENCES model_versions (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE predictions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    reading_id BIGINT NOT NULL UNIQUE,
    machine_id BIGINT NOT NULL,
    model_version_id BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    failure_probability DOUBLE NOT NULL,
    status VARCHAR(32) NOT NULL,
    failure_mode VARCHAR(64) NULL,
    mode_probability DOUBLE NULL,
    remaining_life DOUBLE NULL,
    remaining_life_low DOUBLE NULL,
    remaining_life_high DOUBLE NULL,
    -- JSON array of the inputs that pushed the risk most.
    drivers TEXT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (reading_id) REFERENCES readings (id) ON DELETE CASCADE,
    FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE CASCADE,
    FOREIGN KEY (model_version_id) REFERENCES model_versions (id),
    INDEX predictions_by_machine_time (machine_id, recorded_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- Admin sessions live in the database so every replica recognises a sign-in. Only a digest of
-- the cookie's value is stored; the CSRF token is per session.
CREATE TABLE admin_sessions (
    id_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    csrf_token VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

-- One row that readiness rewrites: an instance is ready only while the database takes writes.
CREATE TABLE write_probe (
    id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    checked_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
INSERT INTO write_probe (id, checked_at) VALUES (1, 0);

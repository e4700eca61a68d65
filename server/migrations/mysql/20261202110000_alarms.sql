-- Alarms: one per episode of a machine at warning or critical (see server/src/db/alarms.rs).
-- Times are the readings' (raised_at, escalated_at, peak_at, last_bad_at) or the server's
-- (acknowledged_at, cleared_at, updated_at), in ms since the epoch.
CREATE TABLE alarms (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
    severity VARCHAR(16) NOT NULL CHECK (severity IN ('warning', 'critical')),
    raised_at BIGINT NOT NULL,
    escalated_at BIGINT NULL,
    -- The riskiest prediction of the episode and what it said.
    peak_at BIGINT NOT NULL,
    peak_risk_order DOUBLE NOT NULL,
    failure_probability DOUBLE NULL,
    remaining_life DOUBLE NULL,
    life_unit VARCHAR(32) NULL,
    failure_mode VARCHAR(64) NULL,
    drivers TEXT NULL,
    model_version_id BIGINT NOT NULL,
    -- The newest warning or critical prediction: the healthy period that clears it starts here.
    last_bad_at BIGINT NOT NULL,
    acknowledged_at BIGINT NULL,
    acknowledged_by VARCHAR(64) NULL,
    acknowledged_note VARCHAR(500) NULL,
    -- cleared_by is NULL when the machine's recovery cleared it.
    cleared_at BIGINT NULL,
    cleared_by VARCHAR(64) NULL,
    cleared_note VARCHAR(500) NULL,
    updated_at BIGINT NOT NULL,
    INDEX alarms_by_machine (machine_id, state),
    INDEX alarms_by_state (state, raised_at),
    CONSTRAINT alarms_machine FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE CASCADE,
    CONSTRAINT alarms_model_version FOREIGN KEY (model_version_id) REFERENCES model_versions (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

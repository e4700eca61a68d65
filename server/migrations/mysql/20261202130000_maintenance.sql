-- What engineers did to machines (server/src/db/maintenance.rs). A repair or a part replaced
-- labels the machine's readings; a false alarm marks its alarm. An alarm's outcome: NULL
-- until an engineer says, `confirmed` (a repair or replacement followed it) or `false`.
CREATE TABLE maintenance (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    machine_id BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('inspection', 'part_replaced', 'repair', 'false_alarm')),
    failure_mode VARCHAR(64) NULL,
    done_at BIGINT NOT NULL,
    note VARCHAR(500) NULL,
    alarm_id BIGINT NULL,
    failure_reading_id BIGINT NULL,
    recorded_by VARCHAR(64) NOT NULL,
    recorded_at BIGINT NOT NULL,
    INDEX maintenance_by_machine (machine_id, done_at),
    CONSTRAINT maintenance_machine FOREIGN KEY (machine_id) REFERENCES machines (id) ON DELETE CASCADE,
    CONSTRAINT maintenance_alarm FOREIGN KEY (alarm_id) REFERENCES alarms (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
ALTER TABLE alarms ADD COLUMN outcome VARCHAR(16) NULL;

-- The latest prediction of each machine, kept on the machine row so the fleet page reads one
-- table; the full history stays in predictions.
ALTER TABLE machines ADD COLUMN remaining_life_low REAL NULL;
ALTER TABLE machines ADD COLUMN remaining_life_high REAL NULL;
ALTER TABLE machines ADD COLUMN life_unit TEXT NULL;
ALTER TABLE machines ADD COLUMN failure_mode TEXT NULL;
ALTER TABLE machines ADD COLUMN mode_probability REAL NULL;
ALTER TABLE machines ADD COLUMN last_predicted_at INTEGER NULL;

-- A failure ends a unit's run: live series features start after the machine's last one.
CREATE INDEX readings_failures ON readings (machine_id, failure, id);

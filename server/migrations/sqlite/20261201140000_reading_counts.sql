-- Each machine's reading counts, kept by the ingest transaction instead of counted per view
-- or per batch: counting grew with the machine's history (34 ms at a million readings).
-- run_started_after: the id of the machine's latest failure reading (0 before any), so the
-- current run is the readings after it; run_reading_count: how many readings that run has.
ALTER TABLE machines ADD COLUMN reading_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE machines ADD COLUMN run_started_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE machines ADD COLUMN run_reading_count INTEGER NOT NULL DEFAULT 0;
UPDATE machines SET
    reading_count = (SELECT COUNT(*) FROM readings WHERE readings.machine_id = machines.id),
    run_started_after = (SELECT COALESCE(MAX(id), 0) FROM readings
                         WHERE readings.machine_id = machines.id AND failure = 1);
UPDATE machines SET run_reading_count = (SELECT COUNT(*) FROM readings
    WHERE readings.machine_id = machines.id AND readings.id > machines.run_started_after);

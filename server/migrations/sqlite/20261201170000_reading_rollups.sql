-- Per-bucket summaries of each machine's readings, so a chart over a day or a year reads a
-- bounded number of rows whatever the history's length. One row per machine, bucket width and
-- bucket: how many readings it holds and the per-sensor minimum, mean and maximum, JSON arrays
-- in the machine's schema order. A background job keeps them (history::rollups).
CREATE TABLE reading_rollups (
    machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    bucket_ms INTEGER NOT NULL,
    bucket_start INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    mins TEXT NOT NULL,
    means TEXT NOT NULL,
    maxs TEXT NOT NULL,
    PRIMARY KEY (machine_id, bucket_ms, bucket_start)
);
-- Where each background job that walks a table got to (the rollup job: the last reading id).
CREATE TABLE job_positions (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    position INTEGER NOT NULL
);

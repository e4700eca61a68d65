-- One row that readiness rewrites: an instance is ready only while the database takes writes.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
INSERT INTO write_probe (id, checked_at) VALUES (1, 0);

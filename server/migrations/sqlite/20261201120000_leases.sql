-- Leases: a duty one replica holds at a time (the demo fleet, MLflow retries), until the time
-- it last renewed it runs out; another replica takes it over then.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO leases (name, holder, expires_at) VALUES ('background', NULL, 0);

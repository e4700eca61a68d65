-- Admin password attempts per client address, in the database so the limit holds across
-- replicas: a window opens at a client's first attempt and holds a few attempts.
CREATE TABLE sign_in_attempts (
    client TEXT PRIMARY KEY,
    window_opened_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE INDEX sign_in_attempts_by_window ON sign_in_attempts (window_opened_at);

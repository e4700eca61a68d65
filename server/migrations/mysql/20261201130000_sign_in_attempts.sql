-- Admin password attempts per client address, in the database so the limit holds across
-- replicas: a window opens at a client's first attempt and holds a few attempts.
CREATE TABLE sign_in_attempts (
    client VARCHAR(64) NOT NULL PRIMARY KEY,
    window_opened_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    INDEX sign_in_attempts_by_window (window_opened_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

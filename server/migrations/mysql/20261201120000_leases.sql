-- Leases: a duty one replica holds at a time (the demo fleet, MLflow retries), until the time
-- it last renewed it runs out; another replica takes it over then.
CREATE TABLE leases (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    holder VARCHAR(128) NULL,
    expires_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
INSERT INTO leases (name, holder, expires_at) VALUES ('background', NULL, 0);

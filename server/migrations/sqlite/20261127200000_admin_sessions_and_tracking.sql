-- Admin sessions live in the database so every replica recognises a sign-in. Only a digest of
-- the cookie's value is stored; the CSRF token is per session.
CREATE TABLE admin_sessions (
    id_sha256 TEXT PRIMARY KEY,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- 1: once the run's model version is registered, promote it on every machine of the run
-- whose active version it beats.
ALTER TABLE training_runs ADD COLUMN auto_promote INTEGER NOT NULL DEFAULT 0;
-- MLflow tracking of the run: off (no MLflow configured), pending, tracked, failed (retried).
ALTER TABLE training_runs ADD COLUMN tracking TEXT NOT NULL DEFAULT 'off';
ALTER TABLE training_runs ADD COLUMN tracking_error TEXT NULL;
ALTER TABLE training_runs ADD COLUMN mlflow_experiment_id TEXT NULL;
ALTER TABLE model_versions ADD COLUMN mlflow_version TEXT NULL;

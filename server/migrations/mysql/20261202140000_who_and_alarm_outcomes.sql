-- Who started each training run (NULL: before users, or the API), and the alarms of a model
-- version, for its alarm outcomes on /models.
ALTER TABLE training_runs ADD COLUMN started_by VARCHAR(64) NULL;
CREATE INDEX alarms_by_model_version ON alarms (model_version_id, outcome);

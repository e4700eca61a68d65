-- Who uploaded (or exported) each data set, and who cancelled a run; NULL before users.
ALTER TABLE datasets ADD COLUMN uploaded_by VARCHAR(64) NULL;
ALTER TABLE training_runs ADD COLUMN cancelled_by VARCHAR(64) NULL;

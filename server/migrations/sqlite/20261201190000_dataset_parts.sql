-- A data set's file in parts of at most 1 MiB, so that storing or reading one never holds the
-- whole file in one value (the driver copied a 32 MiB file twice to store it as one BLOB).
CREATE TABLE dataset_parts (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (dataset_id, position)
);
INSERT INTO dataset_parts (dataset_id, position, bytes) SELECT id, 0, content FROM datasets;
ALTER TABLE datasets DROP COLUMN content;

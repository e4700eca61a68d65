-- A data set's file in parts of at most 1 MiB, so that storing or reading one never holds the
-- whole file in one value (nor needs a max_allowed_packet as large as the largest upload).
-- Files stored before stay whole, as one part.
CREATE TABLE dataset_parts (
    dataset_id BIGINT NOT NULL,
    position INT NOT NULL,
    bytes LONGBLOB NOT NULL,
    PRIMARY KEY (dataset_id, position),
    FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
INSERT INTO dataset_parts (dataset_id, position, bytes) SELECT id, 0, content FROM datasets;
ALTER TABLE datasets DROP COLUMN content;

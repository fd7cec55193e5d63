-- Files to delete: a deletion records its task's photo and result here in
-- the same transaction that deletes the rows, then deletes the files and
-- the record; what a crash or a storage outage leaves is swept later.
CREATE TABLE blob_trash (
    blob_key VARCHAR(200) NOT NULL PRIMARY KEY,
    added_at BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

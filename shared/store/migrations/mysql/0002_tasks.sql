-- Tasks: one uploaded photo to emojify with one template. id is the
-- unguessable task id (the only credential of an anonymous task). Times are
-- unix milliseconds, as in 0001. A task belongs to its owner: deleting the
-- account deletes the rows (account deletion must remove the blobs first).
-- lease/lease_until are the claim of the worker running it ('' and 0 when
-- none). result holds the JSON of width, height and faces; result_key the
-- result image blob. share_slug is NULL while not shared.
CREATE TABLE tasks (
    id            VARCHAR(64)  NOT NULL PRIMARY KEY,
    owner_id      BIGINT       NULL,
    template_id   BIGINT       NOT NULL,
    state         VARCHAR(16)  NOT NULL,
    stage         VARCHAR(16)  NOT NULL,
    percent       INT          NOT NULL DEFAULT 0,
    attempts      INT          NOT NULL DEFAULT 0,
    lease         VARCHAR(64)  NOT NULL DEFAULT '',
    lease_until   BIGINT       NOT NULL DEFAULT 0,
    photo_key     VARCHAR(200) NOT NULL DEFAULT '',
    result_key    VARCHAR(200) NOT NULL DEFAULT '',
    result        MEDIUMTEXT   NULL,
    error_code    VARCHAR(64)  NOT NULL DEFAULT '',
    error_message TEXT         NOT NULL,
    share_slug    VARCHAR(64)  NULL,
    enqueued_at   BIGINT       NOT NULL,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL,
    deleted_at    BIGINT       NULL,
    CONSTRAINT tasks_share_slug UNIQUE (share_slug),
    CONSTRAINT tasks_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tasks_template_fk FOREIGN KEY (template_id) REFERENCES templates (id),
    -- My page: an owner's live results of one state, newest first.
    INDEX tasks_owner (owner_id, deleted_at, state, created_at, id),
    -- The reconciler: queued tasks by when they were last put on the queue,
    -- and running tasks by when their lease ends.
    INDEX tasks_enqueued (state, enqueued_at, id),
    INDEX tasks_lease (state, lease_until),
    -- Photo retention: only tasks still holding a photo are in the range
    -- photo_key > '', so the sweep stays small however many tasks there are.
    INDEX tasks_photo (photo_key, updated_at),
    INDEX tasks_template (template_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per finished task, for the ranking. No foreign key to tasks: a
-- use stays counted when its task or its owner goes.
CREATE TABLE template_uses (
    task_id     VARCHAR(64) NOT NULL PRIMARY KEY,
    template_id BIGINT      NOT NULL,
    used_at     BIGINT      NOT NULL,
    CONSTRAINT template_uses_template_fk FOREIGN KEY (template_id) REFERENCES templates (id),
    INDEX template_uses_ranking (used_at, template_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

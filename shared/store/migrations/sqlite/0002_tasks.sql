-- Tasks: one uploaded photo to emojify with one template. id is the
-- unguessable task id (the only credential of an anonymous task). Times are
-- unix milliseconds, as in 0001. A task belongs to its owner: deleting the
-- account deletes the rows (account deletion must remove the blobs first).
-- lease/lease_until are the claim of the worker running it ('' and 0 when
-- none). result holds the JSON of width, height and faces; result_key the
-- result image blob. share_slug is NULL while not shared.
CREATE TABLE tasks (
    id            TEXT    NOT NULL PRIMARY KEY,
    owner_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    template_id   INTEGER NOT NULL REFERENCES templates (id),
    state         TEXT    NOT NULL,
    stage         TEXT    NOT NULL,
    percent       INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease         TEXT    NOT NULL DEFAULT '',
    lease_until   INTEGER NOT NULL DEFAULT 0,
    photo_key     TEXT    NOT NULL DEFAULT '',
    result_key    TEXT    NOT NULL DEFAULT '',
    result        TEXT,
    error_code    TEXT    NOT NULL DEFAULT '',
    error_message TEXT    NOT NULL DEFAULT '',
    share_slug    TEXT,
    enqueued_at   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    CONSTRAINT tasks_share_slug UNIQUE (share_slug)
);
-- My page: an owner's live results of one state, newest first.
CREATE INDEX tasks_owner ON tasks (owner_id, deleted_at, state, created_at, id);
-- The reconciler: queued tasks by when they were last put on the queue, and
-- running tasks by when their lease ends.
CREATE INDEX tasks_enqueued ON tasks (state, enqueued_at, id);
CREATE INDEX tasks_lease ON tasks (state, lease_until);
-- Photo retention: only tasks still holding a photo are in the range
-- photo_key > '', so the sweep stays small however many tasks there are.
CREATE INDEX tasks_photo ON tasks (photo_key, updated_at);

-- One row per finished task, for the ranking. No foreign key to tasks: a
-- use stays counted when its task or its owner goes.
CREATE TABLE template_uses (
    task_id     TEXT    NOT NULL PRIMARY KEY,
    template_id INTEGER NOT NULL REFERENCES templates (id),
    used_at     INTEGER NOT NULL
);
CREATE INDEX template_uses_ranking ON template_uses (used_at, template_id);

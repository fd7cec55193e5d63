-- Accounts. The *_key columns hold the case-folded, normalized form that
-- uniqueness and look-ups use; email and alias keep what the person typed.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL,
    alias         TEXT    NOT NULL,
    alias_key     TEXT    NOT NULL,
    password_hash BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email_key),
    CONSTRAINT users_alias_key UNIQUE (alias_key)
);

-- Emoji templates: seven stored images, one per expression class.
-- deleted_at marks a soft delete: rows stay so results that used them keep
-- their reference. builtin_key names a seeded template (NULL for users').
CREATE TABLE templates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    creator_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    builtin_key   TEXT,
    img_neutral   TEXT    NOT NULL,
    img_happy     TEXT    NOT NULL,
    img_sad       TEXT    NOT NULL,
    img_angry     TEXT    NOT NULL,
    img_surprised TEXT    NOT NULL,
    img_fearful   TEXT    NOT NULL,
    img_disgusted TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    CONSTRAINT templates_builtin_key UNIQUE (builtin_key)
);
CREATE INDEX templates_live ON templates (deleted_at, id);
CREATE INDEX templates_creator ON templates (creator_id, deleted_at, id);

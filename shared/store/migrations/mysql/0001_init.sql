-- Accounts. The *_key columns hold the case-folded, normalized form that
-- uniqueness and look-ups use; email and alias keep what the person typed.
-- utf8mb4_bin everywhere: comparisons are exact, as on SQLite; case folding
-- is done by the application, once, the same way for both databases.
CREATE TABLE users (
    id            BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         VARCHAR(254)  NOT NULL,
    email_key     VARCHAR(254)  NOT NULL,
    alias         VARCHAR(64)   NOT NULL,
    alias_key     VARCHAR(64)   NOT NULL,
    password_hash VARBINARY(128) NOT NULL,
    created_at    BIGINT        NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email_key),
    CONSTRAINT users_alias_key UNIQUE (alias_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Emoji templates: seven stored images, one per expression class.
-- deleted_at marks a soft delete: rows stay so results that used them keep
-- their reference. builtin_key names a seeded template (NULL for users').
CREATE TABLE templates (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name          VARCHAR(200) NOT NULL,
    creator_id    BIGINT       NULL,
    builtin_key   VARCHAR(64)  NULL,
    img_neutral   VARCHAR(200) NOT NULL,
    img_happy     VARCHAR(200) NOT NULL,
    img_sad       VARCHAR(200) NOT NULL,
    img_angry     VARCHAR(200) NOT NULL,
    img_surprised VARCHAR(200) NOT NULL,
    img_fearful   VARCHAR(200) NOT NULL,
    img_disgusted VARCHAR(200) NOT NULL,
    created_at    BIGINT       NOT NULL,
    deleted_at    BIGINT       NULL,
    CONSTRAINT templates_builtin_key UNIQUE (builtin_key),
    CONSTRAINT templates_creator_fk FOREIGN KEY (creator_id) REFERENCES users (id) ON DELETE SET NULL,
    INDEX templates_live (deleted_at, id),
    INDEX templates_creator (creator_id, deleted_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

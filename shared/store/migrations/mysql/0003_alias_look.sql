-- alias_look holds store.Look(alias), which aliases that look alike share
-- ("асе" in Cyrillic letters and "ace"), so the unique index refuses the
-- second of them. The program fills it in for older rows at start (SQL
-- cannot compute it); NULLs never collide.
ALTER TABLE users ADD COLUMN alias_look CHAR(64) NULL;
CREATE UNIQUE INDEX users_alias_look ON users (alias_look);

-- alias_look and alias_look_cased hold store.Looks(alias), which aliases
-- that look alike share ("асе" in Cyrillic letters and "ace"), so the unique
-- indexes refuse the second of them. The program fills them in for older
-- rows at start (SQL cannot compute them); NULLs never collide.
ALTER TABLE users ADD COLUMN alias_look TEXT NULL;
ALTER TABLE users ADD COLUMN alias_look_cased TEXT NULL;
CREATE UNIQUE INDEX users_alias_look ON users (alias_look);
CREATE UNIQUE INDEX users_alias_look_cased ON users (alias_look_cased);

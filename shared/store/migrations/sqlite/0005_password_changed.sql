-- When the password last changed (unix milliseconds; 0: never): access
-- tokens issued before then are refused, so that changing a password ends
-- the sessions a thief may hold.
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;

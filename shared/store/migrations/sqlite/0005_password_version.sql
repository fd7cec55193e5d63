-- How many times the password has changed. Access tokens carry the value
-- they were issued under and count only while it holds, so that changing a
-- password ends the sessions a thief may hold; a change is written only
-- over the value the request was authenticated with.
ALTER TABLE users ADD COLUMN password_version BIGINT NOT NULL DEFAULT 0;

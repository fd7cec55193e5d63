package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"

	"github.com/igemoji/igemoji/shared/moji"
)

// Key folds an email or alias into the form uniqueness and look-ups use:
// NFC-normalized (the same text typed on two keyboards is the same key),
// trimmed and lower-cased.
func Key(s string) string { return strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) }

// Look folds an alias into the key that aliases which look alike share:
// the Unicode TR39 skeleton of its Key, so all-Cyrillic "асе" is "ace",
// "rnike" is "mike" and "bi11" is "bill". The skeleton maps 0 to O, so it
// is lower-cased again; it is hashed so the unique index has a fixed width
// (a skeleton can be several times longer than the alias).
func Look(alias string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(confusables.Skeleton(Key(alias)))))
	return hex.EncodeToString(sum[:])
}

// aliasConflict is the answer to an alias that is taken or looks like one
// that is; one message for both, since telling them apart tells nothing
// the person can use.
func aliasConflict() error {
	return moji.Errorf(moji.ECONFLICT, "This alias is taken, or looks too much like one that is.")
}

// CreateUser inserts u and sets its ID and CreatedAt. A taken email or alias
// is an ECONFLICT naming which.
func (db *DB) CreateUser(ctx context.Context, u *moji.User) error {
	now := db.Now().UTC().Truncate(1e6)
	res, err := db.db.ExecContext(ctx,
		`INSERT INTO users (email, email_key, alias, alias_key, alias_look, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.Email, Key(u.Email), u.Alias, Key(u.Alias), Look(u.Alias), u.PasswordHash, millis(now))
	if err != nil {
		if name, ok := uniqueViolation(err); ok {
			if name == "users_email_key" || name == "email_key" {
				return moji.Errorf(moji.ECONFLICT, "This email is already registered.")
			}
			return aliasConflict()
		}
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt = id, now
	return nil
}

const userCols = `id, email, alias, password_hash, created_at`

func scanUser(row interface{ Scan(...any) error }) (*moji.User, error) {
	var u moji.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Alias, &u.PasswordHash, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("User")
		}
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// UserByID returns the user with id, or ENOTFOUND.
func (db *DB) UserByID(ctx context.Context, id int64) (*moji.User, error) {
	return scanUser(db.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

// UserByEmail returns the user registered with email (case-insensitively), or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*moji.User, error) {
	return scanUser(db.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email_key = ?`, Key(email)))
}

// EmailTaken reports whether an account uses email.
func (db *DB) EmailTaken(ctx context.Context, email string) (bool, error) {
	return db.exists(ctx, `SELECT 1 FROM users WHERE email_key = ?`, Key(email))
}

// AliasTaken reports whether an account uses alias or one that looks like
// it (see Look). Accounts made before aliases had a look key, and left
// without one because theirs looked like another's, match exactly only.
func (db *DB) AliasTaken(ctx context.Context, alias string) (bool, error) {
	return db.exists(ctx, `SELECT 1 FROM users WHERE alias_key = ? OR alias_look = ?`, Key(alias), Look(alias))
}

// AliasTakenError is the error CreateUser gives for an alias that
// AliasTaken reports, for callers that check first.
func AliasTakenError() error { return aliasConflict() }

// fillAliasLooks gives the accounts made before migration 0003 their look
// key, which SQL cannot compute. Where two old aliases look alike the later
// account keeps NULL (NULLs never collide): its alias stays its own, and it
// is tried again at the next start, in case the other account is gone.
func (db *DB) fillAliasLooks(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, `SELECT id, alias FROM users WHERE alias_look IS NULL ORDER BY id`)
	if err != nil {
		return err
	}
	type old struct {
		id    int64
		alias string
	}
	var todo []old
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.alias); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range todo {
		_, err := conn.ExecContext(ctx, `UPDATE users SET alias_look = ? WHERE id = ?`, Look(o.alias), o.id)
		if _, dup := uniqueViolation(err); err != nil && !dup {
			return err
		}
	}
	return nil
}

func (db *DB) exists(ctx context.Context, q string, args ...any) (bool, error) {
	var one int
	err := db.db.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

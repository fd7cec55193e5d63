package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/igemoji/igemoji/shared/moji"
)

// Key folds an email or alias into the form uniqueness and look-ups use:
// NFC-normalized (the same text typed on two keyboards is the same key),
// trimmed and lower-cased.
func Key(s string) string { return strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) }

// CreateUser inserts u and sets its ID and CreatedAt. A taken email or alias
// is an ECONFLICT naming which.
func (db *DB) CreateUser(ctx context.Context, u *moji.User) error {
	now := db.Now().UTC().Truncate(1e6)
	res, err := db.db.ExecContext(ctx,
		`INSERT INTO users (email, email_key, alias, alias_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.Email, Key(u.Email), u.Alias, Key(u.Alias), u.PasswordHash, millis(now))
	if err != nil {
		if name, ok := uniqueViolation(err); ok {
			if name == "users_email_key" || name == "email_key" {
				return moji.Errorf(moji.ECONFLICT, "This email is already registered.")
			}
			return moji.Errorf(moji.ECONFLICT, "This alias is already taken.")
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

// AliasTaken reports whether an account uses alias.
func (db *DB) AliasTaken(ctx context.Context, alias string) (bool, error) {
	return db.exists(ctx, `SELECT 1 FROM users WHERE alias_key = ?`, Key(alias))
}

func (db *DB) exists(ctx context.Context, q string, args ...any) (bool, error) {
	var one int
	err := db.db.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

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

// Looks folds an alias into the keys that aliases which look alike share,
// each the Unicode TR39 skeleton of the alias, hashed so that its unique
// index has a fixed width (a skeleton can be several times longer than the
// alias). Two keys, because a letter's look can depend on its case:
//   - folded, the skeleton of Key, lower-cased again (the skeleton maps 0
//     to O): all-Cyrillic "асе" is "ace", "rnike" is "mike", "bi11" is "bill";
//   - cased, the skeleton of the alias as typed: Cyrillic capitals "КОТ"
//     are "KOT" and "Ian" is "lan", though their lower-case forms differ.
//
// Changing either needs a migration that sets both columns to NULL: the
// next start fills them anew (see fillAliasLooks).
func Looks(alias string) (folded, cased string) {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	return hash(strings.ToLower(confusables.Skeleton(Key(alias)))),
		hash(confusables.Skeleton(norm.NFC.String(strings.TrimSpace(alias))))
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
	folded, cased := Looks(u.Alias)
	var res sql.Result
	var err error
	// InnoDB can pick a sign-up as a deadlock victim when look-alike
	// sign-ups race (each waits on a key another's failed insert locked);
	// the retry then meets the winner's row as a plain conflict.
	for try := 0; try < 3; try++ {
		res, err = db.db.ExecContext(ctx,
			`INSERT INTO users (email, email_key, alias, alias_key, alias_look, alias_look_cased, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Email, Key(u.Email), u.Alias, Key(u.Alias), folded, cased, u.PasswordHash, millis(now))
		if !deadlock(err) {
			break
		}
	}
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

const userCols = `id, email, alias, password_hash, created_at, password_version`

func scanUser(row interface{ Scan(...any) error }) (*moji.User, error) {
	var u moji.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Alias, &u.PasswordHash, &created, &u.PasswordVersion); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("User")
		}
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// ErrStaleSession is a change refused because the password changed (or
// the account went) since the request's token was issued.
var ErrStaleSession = moji.Errorf(moji.EUNAUTHORIZED, "Your password was changed; please log in again.")

// SetPassword stores a new password hash for user id, if its password is
// still at version (the one the request was authenticated with; else
// ErrStaleSession: two changes at once must not both win), and returns
// the new version, which ends every token of the older one.
func (db *DB) SetPassword(ctx context.Context, id, version int64, hash []byte) (int64, error) {
	n, err := affected(db.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_version = password_version + 1
		WHERE id = ? AND password_version = ?`, hash, id, version))
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, ErrStaleSession
	}
	return version + 1, nil
}

// RehashPassword replaces user id's password hash old with new, the same
// password hashed afresh (a new cost, a normalized form), unless it has
// changed meanwhile; the password's version stays, and so do its sessions.
// It reports whether it replaced it.
func (db *DB) RehashPassword(ctx context.Context, id int64, old, new []byte) (bool, error) {
	n, err := affected(db.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, new, id, old))
	return n == 1, err
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
// it (see Looks). An account whose looks could not be recorded, because
// another account's alias looked the same, matches exactly only.
func (db *DB) AliasTaken(ctx context.Context, alias string) (bool, error) {
	folded, cased := Looks(alias)
	return db.exists(ctx, `SELECT 1 FROM users WHERE alias_key = ? OR alias_look = ? OR alias_look_cased = ?`,
		Key(alias), folded, cased)
}

// AliasTakenError is the error CreateUser gives for an alias that
// AliasTaken reports, for callers that check first.
func AliasTakenError() error { return aliasConflict() }

// fillBatch is how many accounts fillAliasLooks updates in one transaction.
const fillBatch = 500

// fillAliasLooks records the looks of accounts that lack them, which SQL
// cannot compute: those made before migration 0003, or by an older server
// during an upgrade. Where an account's look is another's, it keeps NULL
// there (NULLs never collide) and its alias stays its own. It runs at every
// start, in batches that each commit, so a start cut short by its deadline
// leaves the work done so far for the next.
func (db *DB) fillAliasLooks(ctx context.Context, conn *sql.Conn) error {
	type row struct {
		id    int64
		alias string
	}
	for after := int64(0); ; {
		rows, err := conn.QueryContext(ctx, `SELECT id, alias FROM users
			WHERE (alias_look IS NULL OR alias_look_cased IS NULL) AND id > ? ORDER BY id LIMIT ?`, after, fillBatch)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.alias); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, r := range batch {
			folded, cased := Looks(r.alias)
			for _, q := range []struct{ sql, look string }{
				{`UPDATE users SET alias_look = ? WHERE id = ? AND alias_look IS NULL`, folded},
				{`UPDATE users SET alias_look_cased = ? WHERE id = ? AND alias_look_cased IS NULL`, cased},
			} {
				// A unique violation fails the statement only, on both dialects.
				if _, err := tx.ExecContext(ctx, q.sql, q.look, r.id); err != nil {
					if _, dup := uniqueViolation(err); !dup {
						tx.Rollback()
						return err
					}
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		after = batch[len(batch)-1].id
	}
}

func (db *DB) exists(ctx context.Context, q string, args ...any) (bool, error) {
	var one int
	err := db.db.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

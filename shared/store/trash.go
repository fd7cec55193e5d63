package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// The blob trash: deleting a task or an account records the files to
// delete in the same transaction, so that none is forgotten when the
// deletion of the file itself fails or the process dies first.

// trash records keys (empty ones skipped) for deletion, within tx.
func (db *DB) trash(ctx context.Context, tx *sql.Tx, keys ...string) error {
	insert := `INSERT OR IGNORE INTO blob_trash (blob_key, added_at) VALUES (?, ?)`
	if db.dialect == MySQL {
		insert = `INSERT IGNORE INTO blob_trash (blob_key, added_at) VALUES (?, ?)`
	}
	now := millis(db.now())
	for _, k := range keys {
		if k == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, insert, k, now); err != nil {
			return err
		}
	}
	return nil
}

// Trashed returns up to limit keys of files to delete, recorded before
// addedBefore (a deletion still deleting its own files is left to it).
func (db *DB) Trashed(ctx context.Context, addedBefore time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return []string{}, nil
	}
	return db.ids(ctx, `SELECT blob_key FROM blob_trash WHERE added_at < ? ORDER BY added_at LIMIT ?`,
		millis(addedBefore), limit)
}

// FileError is a file DeleteFiles could not delete, left in the trash.
type FileError struct {
	Key string
	Err error
}

// DeleteFiles deletes the files of trashed keys from blobs (each within
// timeout, 0 for none) and takes them out of the trash; it stops when ctx
// ends, leaving the rest to a later sweep. Each file is deleted holding its
// trash row, and a template image that a live template shows (made with
// the same picture: CreateTemplate takes the row out, waiting for this) is
// kept. It returns what failed, left for a retry.
func (db *DB) DeleteFiles(ctx context.Context, blobs moji.Blobs, timeout time.Duration, keys ...string) []FileError {
	var failed []FileError
	for _, key := range keys {
		if ctx.Err() != nil {
			break
		}
		if key == "" {
			continue
		}
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var k string
			err := tx.QueryRowContext(ctx, `SELECT blob_key FROM blob_trash WHERE blob_key = ?`+db.forUpdate(), key).Scan(&k)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // deleted by another, or taken back by a new template
			} else if err != nil {
				return err
			}
			used := false
			if strings.HasPrefix(key, moji.TemplateImagePrefix) {
				if used, err = db.imageUsed(ctx, tx, key); err != nil {
					return err
				}
			}
			if !used {
				if err := deleteWithin(ctx, blobs, key, timeout); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM blob_trash WHERE blob_key = ?`, key)
			return err
		})
		if err != nil {
			failed = append(failed, FileError{key, err})
		}
	}
	return failed
}

func deleteWithin(ctx context.Context, blobs moji.Blobs, key string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return blobs.Delete(ctx, key)
}

// idsIn returns the integer column q selects, within tx.
func (db *DB) idsIn(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeleteUser deletes account id, if its password is still at version (the
// one the request was authenticated with; else ErrStaleSession): its tasks
// (their files go to the trash), its templates (soft-deleted, as
// DeleteTemplate does: results made with them keep their reference; their
// images go to the trash), and the account itself. It returns the tasks
// that were queued or running, whose workers should be told to stop, and
// every file key to delete.
func (db *DB) DeleteUser(ctx context.Context, id, version int64) (live []*moji.Task, keys []string, err error) {
	now := millis(db.now())
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var current int64
		if err := tx.QueryRowContext(ctx, `SELECT password_version FROM users WHERE id = ?`+db.forUpdate(), id).Scan(&current); err == sql.ErrNoRows {
			return notFound("Account")
		} else if err != nil {
			return err
		}
		if current != version {
			return ErrStaleSession
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE owner_id = ?`+db.forUpdate(), id)
		if err != nil {
			return err
		}
		live, keys = nil, nil
		for rows.Next() {
			t, deleted, err := scanTask(rows)
			if err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, t.PhotoKey)
			if t.Result != nil {
				keys = append(keys, t.Result.ImageKey)
			}
			if !deleted && (t.State == moji.TaskQueued || t.State == moji.TaskRunning) {
				live = append(live, t)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		tpls, err := db.idsIn(ctx, tx, `SELECT id FROM templates WHERE creator_id = ? AND deleted_at IS NULL`, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE templates SET deleted_at = ? WHERE creator_id = ? AND deleted_at IS NULL`, now, id); err != nil {
			return err
		}
		images, err := db.templateImages(ctx, tx, tpls)
		if err != nil {
			return err
		}
		keys = append(keys, images...)
		if err := db.trash(ctx, tx, keys...); err != nil {
			return err
		}
		// The tasks go with the account (ON DELETE CASCADE); the
		// templates stay, without their creator.
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	nonEmpty := keys[:0]
	for _, k := range keys {
		if k != "" {
			nonEmpty = append(nonEmpty, k)
		}
	}
	return live, nonEmpty, nil
}

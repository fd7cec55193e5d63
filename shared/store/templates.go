package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/igemoji/igemoji/shared/moji"
)

// imageCols are the per-class image columns, in moji.Expressions order.
const imageCols = `t.img_neutral, t.img_happy, t.img_sad, t.img_angry, t.img_surprised, t.img_fearful, t.img_disgusted`

const templateCols = `t.id, t.name, t.creator_id, COALESCE(u.alias, ''), t.builtin_key, t.created_at, t.deleted_at, ` + imageCols

const templateFrom = ` FROM templates t LEFT JOIN users u ON u.id = t.creator_id `

func scanTemplate(row interface{ Scan(...any) error }) (*moji.Template, error) {
	var t moji.Template
	var creator sql.NullInt64
	var builtin sql.NullString
	var created int64
	var deleted sql.NullInt64
	imgs := make([]string, len(moji.Expressions))
	dst := []any{&t.ID, &t.Name, &creator, &t.CreatorAlias, &builtin, &created, &deleted}
	for i := range imgs {
		dst = append(dst, &imgs[i])
	}
	if err := row.Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Template")
		}
		return nil, err
	}
	t.CreatorID = creator.Int64
	t.Builtin = builtin.Valid
	t.CreatedAt = fromMillis(created)
	if deleted.Valid {
		d := fromMillis(deleted.Int64)
		t.DeletedAt = &d
	}
	t.Images = make(map[moji.Expression]string, len(imgs))
	for i, e := range moji.Expressions {
		t.Images[e] = imgs[i]
	}
	return &t, nil
}

// CreateTemplate inserts t and sets its ID and CreatedAt. builtinKey is
// empty for a user's template; for a seeded one it makes the insert
// idempotent: a second insert with the same key is ECONFLICT.
func (db *DB) CreateTemplate(ctx context.Context, t *moji.Template, builtinKey string) error {
	args := []any{t.Name, sql.NullInt64{Int64: t.CreatorID, Valid: t.CreatorID != 0},
		sql.NullString{String: builtinKey, Valid: builtinKey != ""}}
	for _, e := range moji.Expressions {
		k := t.Images[e]
		if k == "" {
			return fmt.Errorf("create template: no image for %s", e)
		}
		args = append(args, k)
	}
	now := db.Now().UTC().Truncate(1e6)
	args = append(args, millis(now))
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO templates (name, creator_id, builtin_key,
			img_neutral, img_happy, img_sad, img_angry, img_surprised, img_fearful, img_disgusted, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			if _, ok := uniqueViolation(err); ok {
				return moji.Errorf(moji.ECONFLICT, "Built-in template %q already exists.", builtinKey)
			}
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		// Its pictures may be in the trash, from a deleted template that
		// showed the same ones: they are this template's now. A deletion
		// of one under way holds its row, so this waits for it; the
		// caller stores the pictures again after (see DeleteFiles).
		for _, k := range args[3:10] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM blob_trash WHERE blob_key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.ID, t.CreatedAt, t.Builtin = id, now, builtinKey != ""
	return nil
}

// BuiltinExists reports whether a built-in template with key was seeded.
func (db *DB) BuiltinExists(ctx context.Context, key string) (bool, error) {
	return db.exists(ctx, `SELECT 1 FROM templates WHERE builtin_key = ?`, key)
}

// TemplateByID returns a live (not deleted) template, or ENOTFOUND.
func (db *DB) TemplateByID(ctx context.Context, id int64) (*moji.Template, error) {
	return scanTemplate(db.db.QueryRowContext(ctx,
		`SELECT `+templateCols+templateFrom+`WHERE t.id = ? AND t.deleted_at IS NULL`, id))
}

// Templates returns page (1-based) of live templates, newest first.
func (db *DB) Templates(ctx context.Context, page, size int) (*moji.Page[*moji.Template], error) {
	return db.templatePage(ctx, page, size, `t.deleted_at IS NULL`)
}

// TemplatesByCreator returns page of userID's live templates, newest first.
func (db *DB) TemplatesByCreator(ctx context.Context, userID int64, page, size int) (*moji.Page[*moji.Template], error) {
	return db.templatePage(ctx, page, size, `t.deleted_at IS NULL AND t.creator_id = ?`, userID)
}

func (db *DB) templatePage(ctx context.Context, page, size int, where string, args ...any) (*moji.Page[*moji.Template], error) {
	off, err := offset(page, size)
	if err != nil {
		return nil, err
	}
	p := &moji.Page[*moji.Template]{Items: []*moji.Template{}, Page: page, PageSize: size}
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates t WHERE `+where, args...).Scan(&p.Total); err != nil {
		return nil, err
	}
	if off >= p.Total {
		return p, nil
	}
	// Ids grow with insertion, so id order is newest-first order and uses the index.
	rows, err := db.db.QueryContext(ctx, `SELECT `+templateCols+templateFrom+`WHERE `+where+
		` ORDER BY t.id DESC LIMIT ? OFFSET ?`, append(args, size, off)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, t)
	}
	return p, rows.Err()
}

// DeleteTemplate soft-deletes template id on behalf of userID: ENOTFOUND if
// there is no such live template, EFORBIDDEN if userID did not make it. The
// row stays (results name their template) but its images go to the trash,
// and are returned for the caller to delete (see DeleteFiles): a deleted
// template's pictures must not stay public.
func (db *DB) DeleteTemplate(ctx context.Context, id, userID int64) ([]string, error) {
	var keys []string
	var changed bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx,
			`UPDATE templates SET deleted_at = ? WHERE id = ? AND creator_id = ? AND deleted_at IS NULL`,
			millis(db.Now()), id, userID))
		if err != nil || n != 1 {
			return err
		}
		changed = true
		keys, err = db.templateImages(ctx, tx, []int64{id})
		if err != nil {
			return err
		}
		return db.trash(ctx, tx, keys...)
	})
	if err != nil || changed {
		return keys, err
	}
	// Nothing changed: tell apart "not there" from "not yours".
	if _, err := db.TemplateByID(ctx, id); err != nil {
		return nil, err
	}
	return nil, moji.Errorf(moji.EFORBIDDEN, "Only the creator can delete this template.")
}

// imageInUse is the condition "a live template shows image ?" (seven
// arguments, the same key).
const imageInUse = `deleted_at IS NULL AND (img_neutral = ? OR img_happy = ? OR img_sad = ? OR img_angry = ?
	OR img_surprised = ? OR img_fearful = ? OR img_disgusted = ?)`

// templateImages returns the distinct image keys of templates ids. All go
// to the trash when they are deleted; whether another live template shows
// one (images are stored by content: a built-in or a copy may share it) is
// decided when the file is deleted, under the trash row's lock, since a
// deletion running beside this one would not see it as deleted yet.
func (db *DB) templateImages(ctx context.Context, tx *sql.Tx, ids []int64) ([]string, error) {
	seen := map[string]bool{}
	var keys []string
	for _, id := range ids {
		var imgs [7]string
		if err := tx.QueryRowContext(ctx, `SELECT `+imageCols+` FROM templates t WHERE t.id = ?`, id).Scan(
			&imgs[0], &imgs[1], &imgs[2], &imgs[3], &imgs[4], &imgs[5], &imgs[6]); err != nil {
			return nil, err
		}
		for _, k := range imgs {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

func (db *DB) imageUsed(ctx context.Context, q queryer, key string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM templates WHERE `+imageInUse+` LIMIT 1`,
		key, key, key, key, key, key, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

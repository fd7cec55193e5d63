package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/go-sql-driver/mysql"

	"github.com/igemoji/igemoji/shared/moji"
)

// ErrLeaseLost is returned to a worker whose claim on a task has ended: the
// lease expired and another worker took the task, or the task was finished,
// failed or deleted meanwhile. The worker must drop its work.
var ErrLeaseLost = moji.Errorf(moji.ECONFLICT, "The task is no longer held by this worker.")

// errNotShareable is returned when sharing a task that is not done.
var errNotShareable = moji.Errorf(moji.ECONFLICT, "Only a finished result can be shared.")

// GaveUpCode is the TaskError code of a task that ClaimTask stopped retrying.
const GaveUpCode = "gave_up"

// queryer is what *sql.DB and *sql.Tx have in common, so that reads can run
// inside or outside a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const taskCols = `id, owner_id, template_id, state, stage, percent, attempts, lease, lease_until,
	photo_key, result_key, result, error_code, error_message, share_slug, created_at, updated_at, deleted_at`

// resultJSON is what the result column holds: moji.Result without the image
// key (kept in its own column) and the URL (derived by the server).
type resultJSON struct {
	Width  int               `json:"width"`
	Height int               `json:"height"`
	Faces  []moji.FaceResult `json:"faces"`
}

// scanTask reads one row of taskCols; deleted reports a soft-deleted task.
func scanTask(row interface{ Scan(...any) error }) (t *moji.Task, deleted bool, err error) {
	t = &moji.Task{}
	var owner, deletedAt sql.NullInt64
	var state, stage, resultKey, errCode, errMsg string
	var result, slug sql.NullString
	var leaseUntil, created, updated int64
	if err := row.Scan(&t.ID, &owner, &t.TemplateID, &state, &stage, &t.Percent, &t.Attempts, &t.Lease, &leaseUntil,
		&t.PhotoKey, &resultKey, &result, &errCode, &errMsg, &slug, &created, &updated, &deletedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, notFound("Task")
		}
		return nil, false, err
	}
	t.OwnerID = owner.Int64
	t.State, t.Stage = moji.TaskState(state), moji.Stage(stage)
	if leaseUntil != 0 {
		t.LeaseUntil = fromMillis(leaseUntil)
	}
	if result.Valid {
		var r resultJSON
		if err := json.Unmarshal([]byte(result.String), &r); err != nil {
			return nil, false, fmt.Errorf("task %s: bad result: %w", t.ID, err)
		}
		t.Result = &moji.Result{ImageKey: resultKey, Width: r.Width, Height: r.Height, Faces: r.Faces}
	}
	if errCode != "" {
		t.Error = &moji.TaskError{Code: errCode, Message: errMsg}
	}
	t.ShareSlug = slug.String
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return t, deletedAt.Valid, nil
}

// now is the clock at the precision stored, so that what a method returns
// equals what a later read returns.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Millisecond) }

// forUpdate locks the rows a read in a transaction returns. SQLite needs
// none: its transactions take the write lock up front (_txlock=immediate).
func (db *DB) forUpdate() string {
	if db.dialect == MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// inTx runs fn in a transaction, committing when it returns nil. InnoDB
// may pick it as a deadlock's victim (or time out its lock wait): it is
// rolled back whole, and run again, up to three times in all.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tx(ctx, fn)
		if attempt == 3 || !lockConflict(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (db *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lockConflict reports MySQL's deadlock (1213) and lock wait timeout (1205).
func lockConflict(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// task reads task id, deleted or not, through q.
func (db *DB) task(ctx context.Context, q queryer, id string, lock bool) (*moji.Task, bool, error) {
	query := `SELECT ` + taskCols + ` FROM tasks WHERE id = ?`
	if lock {
		query += db.forUpdate()
	}
	t, deleted, err := scanTask(q.QueryRowContext(ctx, query, id))
	if err == nil && t.ID != id { // MySQL's collations ignore trailing spaces
		return nil, false, notFound("Task")
	}
	return t, deleted, err
}

// duplicateKey reports a primary key or unique violation. uniqueViolation
// misses SQLite's primary-key code, which a text primary key raises.
func duplicateKey(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return true
	}
	_, ok := uniqueViolation(err)
	return ok
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreateTask stores a new task. The caller sets ID, OwnerID (0: anonymous),
// TemplateID and PhotoKey; the store sets the rest: queued, 0%, created now.
// The template must be live: ENOTFOUND otherwise. A taken ID is ECONFLICT.
func (db *DB) CreateTask(ctx context.Context, t *moji.Task) error {
	if t.ID == "" {
		return moji.Errorf(moji.EINVALID, "A task needs an id.")
	}
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Share-lock the template so that a concurrent delete cannot slip
		// between the check and the insert (SQLite: the tx holds the write lock).
		lock := ""
		if db.dialect == MySQL {
			lock = " LOCK IN SHARE MODE"
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM templates WHERE id = ? AND deleted_at IS NULL`+lock, t.TemplateID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return moji.Errorf(moji.ENOTFOUND, "Template not found.")
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tasks (id, owner_id, template_id, state, stage, percent, attempts,
			lease, lease_until, photo_key, result_key, error_code, error_message, enqueued_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, 0, '', 0, ?, '', '', '', ?, ?, ?)`,
			t.ID, sql.NullInt64{Int64: t.OwnerID, Valid: t.OwnerID != 0}, t.TemplateID,
			moji.TaskQueued, moji.StageQueued, t.PhotoKey, millis(now), millis(now), millis(now))
		if duplicateKey(err) {
			return moji.Errorf(moji.ECONFLICT, "A task with this id already exists.")
		}
		return err
	})
	if err != nil {
		return err
	}
	t.State, t.Stage, t.Percent, t.Attempts = moji.TaskQueued, moji.StageQueued, 0, 0
	t.Result, t.Error, t.Lease, t.LeaseUntil, t.ShareSlug = nil, nil, "", time.Time{}, ""
	t.CreatedAt, t.UpdatedAt = now, now
	return nil
}

// Task returns a live task, or ENOTFOUND.
func (db *DB) Task(ctx context.Context, id string) (*moji.Task, error) {
	t, deleted, err := db.task(ctx, db.db, id, false)
	if err != nil {
		return nil, err
	}
	if deleted {
		return nil, notFound("Task")
	}
	return t, nil
}

// ClaimTask makes the worker holding lease the runner of task id until
// now+ttl, if the task is queued or its last runner's lease has expired,
// and returns it with true. It returns the task with false when it is
// finished, deleted or held by a live lease: the caller has nothing to do.
// A claimable task already claimed maxAttempts times is failed instead
// (code GaveUpCode), so that a photo that crashes workers stops being
// retried. Of concurrent claims, exactly one wins.
func (db *DB) ClaimTask(ctx context.Context, id, lease string, ttl time.Duration, maxAttempts int) (*moji.Task, bool, error) {
	t, c, err := db.Claim(ctx, id, lease, ttl, maxAttempts)
	return t, c == Claimed, err
}

// ClaimOutcome is what a Claim did.
type ClaimOutcome int

const (
	NotClaimed ClaimOutcome = iota // finished, deleted, or held by a live lease
	Claimed                        // the caller now runs the task
	GaveUp                         // this call failed the task: out of attempts
)

// Claim is ClaimTask telling apart the call that gave the task up, so that
// exactly one caller announces the failure.
func (db *DB) Claim(ctx context.Context, id, lease string, ttl time.Duration, maxAttempts int) (*moji.Task, ClaimOutcome, error) {
	if lease == "" {
		return nil, NotClaimed, errors.New("claim task: empty lease")
	}
	now := db.now()
	var t *moji.Task
	var claimed, gaveUp bool
	// The claimable condition is the same for the claim and the give-up, so
	// the two can never both apply, and a racing claim sees one or the other.
	const claimable = `id = ? AND deleted_at IS NULL AND (state = 'queued' OR (state = 'running' AND lease_until < ?))`
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, `UPDATE tasks SET state = 'running', stage = ?, percent = 0,
			attempts = attempts + 1, lease = ?, lease_until = ?, updated_at = ?
			WHERE `+claimable+` AND attempts < ?`,
			moji.StageDetecting, lease, millis(now.Add(ttl)), millis(now), id, millis(now), maxAttempts))
		if err != nil {
			return err
		}
		claimed = n == 1
		if !claimed {
			// Not claimed: absent, not claimable, or out of attempts. The
			// UPDATE above locked the row (MySQL), so a give-up below acts
			// on what was just read.
			n, err = affected(tx.ExecContext(ctx, `UPDATE tasks SET state = 'failed', lease = '', lease_until = 0,
				error_code = ?, error_message = ?, updated_at = ?
				WHERE `+claimable+` AND attempts >= ?`,
				GaveUpCode, gaveUpMessage(maxAttempts), millis(now), id, millis(now), maxAttempts))
			if err != nil {
				return err
			}
			gaveUp = n == 1
		}
		t, _, err = db.task(ctx, tx, id, true)
		return err
	})
	switch {
	case err != nil:
		return nil, NotClaimed, err
	case claimed:
		return t, Claimed, nil
	case gaveUp:
		return t, GaveUp, nil
	}
	return t, NotClaimed, nil
}

// ReleaseTask hands a running task back to the queue at once, when its
// worker stops for a reason of its own (shutting down, storage trouble)
// rather than leaving it to the lease. refund takes back the attempt, so
// that a deploy does not count against the photo. ErrLeaseLost if lease
// no longer holds it.
func (db *DB) ReleaseTask(ctx context.Context, id, lease string, refund bool) error {
	if lease == "" {
		return ErrLeaseLost
	}
	back := 0
	if refund {
		back = 1
	}
	now := db.now()
	n, err := affected(db.db.ExecContext(ctx,
		`UPDATE tasks SET state = 'queued', stage = ?, percent = 0, lease = '', lease_until = 0,
		attempts = CASE WHEN attempts >= ? THEN attempts - ? ELSE attempts END, enqueued_at = ?, updated_at = ?
		WHERE `+held, moji.StageQueued, back, back, millis(now), millis(now), id, lease))
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

func gaveUpMessage(attempts int) string {
	switch {
	case attempts < 1:
		return "This photo could not be processed."
	case attempts == 1:
		return "This photo could not be processed after 1 attempt."
	}
	return fmt.Sprintf("This photo could not be processed after %d attempts.", attempts)
}

// held is the condition of every write a lease holder makes.
const held = `id = ? AND lease = ? AND state = 'running' AND deleted_at IS NULL`

// TaskProgress records the stage and percent of a running task and extends
// its lease to now+ttl. ErrLeaseLost if lease no longer holds the task.
func (db *DB) TaskProgress(ctx context.Context, id, lease string, stage moji.Stage, percent int, ttl time.Duration) error {
	if lease == "" {
		return ErrLeaseLost
	}
	percent = max(0, min(percent, 100))
	now := db.now()
	n, err := affected(db.db.ExecContext(ctx,
		`UPDATE tasks SET stage = ?, percent = ?, lease_until = ?, updated_at = ? WHERE `+held,
		stage, percent, millis(now.Add(ttl)), millis(now), id, lease))
	if err != nil || n == 1 {
		return err
	}
	// MySQL counts changed rows, not matched ones: a repeat of the same
	// progress at the same millisecond changes nothing yet still holds.
	ok, err := db.exists(ctx, `SELECT 1 FROM tasks WHERE `+held, id, lease)
	if err != nil {
		return err
	}
	if !ok {
		return ErrLeaseLost
	}
	return nil
}

// FinishTask stores res and marks the task done, if lease still holds it
// (else ErrLeaseLost), and counts one use of its template for the ranking.
func (db *DB) FinishTask(ctx context.Context, id, lease string, res *moji.Result) error {
	if res == nil {
		return errors.New("finish task: nil result")
	}
	if lease == "" {
		return ErrLeaseLost
	}
	body, err := json.Marshal(resultJSON{Width: res.Width, Height: res.Height, Faces: res.Faces})
	if err != nil {
		return err
	}
	now := millis(db.now())
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, `UPDATE tasks SET state = 'done', stage = ?, percent = 100,
			result_key = ?, result = ?, lease = '', lease_until = 0, error_code = '', error_message = '', updated_at = ?
			WHERE `+held, moji.StageDone, res.ImageKey, string(body), now, id, lease))
		if err != nil {
			return err
		}
		if n != 1 {
			return ErrLeaseLost
		}
		// A task becomes done once, so this runs once per task; the
		// primary key on task_id guards it anyway.
		_, err = tx.ExecContext(ctx, `INSERT INTO template_uses (task_id, template_id, used_at)
			SELECT id, template_id, ? FROM tasks WHERE id = ?`, now, id)
		return err
	})
}

// FailTask marks the task failed with e, if lease still holds it (else
// ErrLeaseLost). With lease "", it fails the task whatever its state unless
// it is already done or failed (then ErrLeaseLost), for tasks that cannot
// even be claimed; ENOTFOUND if there is no such task.
func (db *DB) FailTask(ctx context.Context, id, lease string, e moji.TaskError) error {
	if e.Code == "" {
		e.Code = "failed"
	}
	where, args := held, []any{id, lease}
	if lease == "" {
		where, args = `id = ? AND state IN ('queued', 'running')`, []any{id}
	}
	n, err := affected(db.db.ExecContext(ctx, `UPDATE tasks SET state = 'failed', lease = '', lease_until = 0,
		error_code = ?, error_message = ?, updated_at = ? WHERE `+where,
		append([]any{e.Code, e.Message, millis(db.now())}, args...)...))
	if err != nil || n == 1 {
		return err
	}
	if lease == "" {
		if ok, err := db.exists(ctx, `SELECT 1 FROM tasks WHERE id = ?`, id); err != nil {
			return err
		} else if !ok {
			return notFound("Task")
		}
	}
	return ErrLeaseLost
}

// ClearPhoto forgets the uploaded photo's key, once its blob is deleted.
// It leaves updated_at alone: that is when the task finished.
func (db *DB) ClearPhoto(ctx context.Context, id string) error {
	_, err := db.db.ExecContext(ctx, `UPDATE tasks SET photo_key = '' WHERE id = ?`, id)
	return err
}

// RequeueStalled puts back to queued up to limit live tasks whose runner's
// lease has expired, and returns their ids for the caller to enqueue. A
// worker that claims one meanwhile wins: that task is not returned.
func (db *DB) RequeueStalled(ctx context.Context, limit int) ([]string, error) {
	if limit < 1 {
		return []string{}, nil
	}
	now := millis(db.now())
	const stalled = `state = 'running' AND lease_until < ? AND deleted_at IS NULL`
	ids, err := db.ids(ctx, `SELECT id FROM tasks WHERE `+stalled+` ORDER BY lease_until LIMIT ?`, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		n, err := affected(db.db.ExecContext(ctx, `UPDATE tasks SET state = 'queued', stage = ?, percent = 0,
			lease = '', lease_until = 0, enqueued_at = ?, updated_at = ? WHERE id = ? AND `+stalled,
			moji.StageQueued, now, now, id, now))
		if err != nil {
			return out, err
		}
		if n == 1 {
			out = append(out, id)
		}
	}
	return out, nil
}

// QueuedTasks returns up to limit live queued tasks last enqueued before
// enqueuedBefore, oldest first: the ones the queue may have lost.
func (db *DB) QueuedTasks(ctx context.Context, enqueuedBefore time.Time, limit int) ([]string, error) {
	ids, _, err := db.QueuedTasksAfter(ctx, enqueuedBefore, QueuedCursor{}, limit)
	return ids, err
}

// QueuedCursor is where a page of QueuedTasksAfter starts: after the task
// it names. The zero value starts at the oldest.
type QueuedCursor struct {
	enqueuedAt int64
	id         string
}

// QueuedTasksAfter is QueuedTasks from after cursor on; it also returns
// the cursor after its last task (the same cursor when there is none).
func (db *DB) QueuedTasksAfter(ctx context.Context, enqueuedBefore time.Time, after QueuedCursor, limit int) ([]string, QueuedCursor, error) {
	ids := []string{}
	if limit < 1 {
		return ids, after, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, enqueued_at FROM tasks
		WHERE state = 'queued' AND enqueued_at < ? AND deleted_at IS NULL
			AND (enqueued_at > ? OR (enqueued_at = ? AND id > ?))
		ORDER BY enqueued_at, id LIMIT ?`,
		millis(enqueuedBefore), after.enqueuedAt, after.enqueuedAt, after.id, limit)
	if err != nil {
		return nil, after, err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&after.id, &after.enqueuedAt); err != nil {
			return nil, after, err
		}
		ids = append(ids, after.id)
	}
	return ids, after, rows.Err()
}

func (db *DB) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// MarkEnqueued records that queued task id is being put on the queue
// again, unless it has been since lastBefore: it reports false when
// another process took the task's re-enqueueing first, or the task is no
// longer queued. Mark, then enqueue: a task marked whose enqueue failed
// is found again once its mark is old.
func (db *DB) MarkEnqueued(ctx context.Context, id string, lastBefore time.Time) (bool, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE tasks SET enqueued_at = ?
		WHERE id = ? AND state = 'queued' AND enqueued_at < ? AND deleted_at IS NULL`,
		millis(db.now()), id, millis(lastBefore))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountTasks returns how many live tasks are in state.
func (db *DB) CountTasks(ctx context.Context, state moji.TaskState) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE state = ? AND deleted_at IS NULL`, state).Scan(&n)
	return n, err
}

// OldestQueued returns when the oldest live queued task was created, or
// false when none is queued.
func (db *DB) OldestQueued(ctx context.Context) (time.Time, bool, error) {
	var ms sql.NullInt64
	err := db.db.QueryRowContext(ctx, `SELECT MIN(created_at) FROM tasks WHERE state = 'queued' AND deleted_at IS NULL`).Scan(&ms)
	if err != nil || !ms.Valid {
		return time.Time{}, false, err
	}
	return fromMillis(ms.Int64), true, nil
}

// prefixScanner scans the leading columns of a row into dst and hands the
// rest to the scanner it is passed to.
type prefixScanner struct {
	row interface{ Scan(...any) error }
	dst []any
}

func (p prefixScanner) Scan(dst ...any) error {
	return p.row.Scan(append(p.dst[:len(p.dst):len(p.dst)], dst...)...)
}

// Ranking returns up to limit live templates by how many tasks finished
// with them since since, most used first (ties: lowest id first). Unused
// templates are not listed. Uses of results deleted since still count: the
// ranking measures use, not what is kept.
func (db *DB) Ranking(ctx context.Context, since time.Time, limit int) ([]moji.RankItem, error) {
	items := []moji.RankItem{}
	if limit < 1 {
		return items, nil
	}
	// The inner query reads only the (used_at, template_id) index.
	rows, err := db.db.QueryContext(ctx, `SELECT r.uses, `+templateCols+`
		FROM (SELECT template_id, COUNT(*) AS uses FROM template_uses WHERE used_at >= ? GROUP BY template_id) r
		JOIN templates t ON t.id = r.template_id LEFT JOIN users u ON u.id = t.creator_id
		WHERE t.deleted_at IS NULL ORDER BY r.uses DESC, t.id LIMIT ?`, millis(since), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var uses int
		tp, err := scanTemplate(prefixScanner{rows, []any{&uses}})
		if err != nil {
			return nil, err
		}
		items = append(items, moji.RankItem{Rank: len(items) + 1, Uses: uses, Template: *tp})
	}
	return items, rows.Err()
}

// UserResults returns page (1-based) of ownerID's live finished tasks,
// newest first.
func (db *DB) UserResults(ctx context.Context, ownerID int64, page, pageSize int) (moji.Page[*moji.Task], error) {
	off, err := offset(page, pageSize)
	if err != nil {
		return moji.Page[*moji.Task]{}, err
	}
	p := moji.Page[*moji.Task]{Items: []*moji.Task{}, Page: page, PageSize: pageSize}
	const where = ` FROM tasks WHERE owner_id = ? AND deleted_at IS NULL AND state = 'done'`
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*)`+where, ownerID).Scan(&p.Total); err != nil {
		return moji.Page[*moji.Task]{}, err
	}
	if off >= p.Total {
		return p, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+taskCols+where+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		ownerID, pageSize, off)
	if err != nil {
		return moji.Page[*moji.Task]{}, err
	}
	defer rows.Close()
	for rows.Next() {
		t, _, err := scanTask(rows)
		if err != nil {
			return moji.Page[*moji.Task]{}, err
		}
		p.Items = append(p.Items, t)
	}
	if err := rows.Err(); err != nil {
		return moji.Page[*moji.Task]{}, err
	}
	return p, nil
}

// DeleteTask soft-deletes a live task: it disappears from every read, its
// share link stops working and its runner loses the lease. It returns the
// task as it was, for the caller to delete its blobs; ENOTFOUND if there is
// no such live task.
func (db *DB) DeleteTask(ctx context.Context, id string) (*moji.Task, error) {
	var t *moji.Task
	now := millis(db.now())
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var deleted bool
		var err error
		if t, deleted, err = db.task(ctx, tx, id, true); err != nil {
			return err
		}
		if deleted {
			return notFound("Task")
		}
		if _, err = tx.ExecContext(ctx, `UPDATE tasks SET deleted_at = ?, share_slug = NULL, lease = '', lease_until = 0,
			updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		var result string
		if t.Result != nil {
			result = t.Result.ImageKey
		}
		return db.trash(ctx, tx, t.PhotoKey, result)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ShareTask gives a live finished task the share slug slug, unless it has
// one already, and returns the slug in force. A task not done is ECONFLICT.
func (db *DB) ShareTask(ctx context.Context, id, slug string) (string, error) {
	if slug == "" {
		return "", errors.New("share task: empty slug")
	}
	n, err := affected(db.db.ExecContext(ctx, `UPDATE tasks SET share_slug = ?
		WHERE id = ? AND state = 'done' AND deleted_at IS NULL AND share_slug IS NULL`, slug, id))
	if _, ok := uniqueViolation(err); ok {
		// Slugs are random: the caller may simply draw another.
		return "", moji.Errorf(moji.ECONFLICT, "This share link is already in use.")
	}
	if err != nil {
		return "", err
	}
	if n == 1 {
		return slug, nil
	}
	t, err := db.Task(ctx, id)
	if err != nil {
		return "", err
	}
	if t.State != moji.TaskDone {
		return "", errNotShareable
	}
	if t.ShareSlug == "" {
		// Unshared between our update and read: a race the caller may retry.
		return "", moji.Errorf(moji.ECONFLICT, "The result was unshared meanwhile.")
	}
	return t.ShareSlug, nil
}

// UnshareTask stops sharing a live task; ENOTFOUND if there is none.
func (db *DB) UnshareTask(ctx context.Context, id string) error {
	n, err := affected(db.db.ExecContext(ctx,
		`UPDATE tasks SET share_slug = NULL WHERE id = ? AND deleted_at IS NULL`, id))
	if err != nil || n == 1 {
		return err
	}
	// MySQL counts changed rows: a task not shared changes nothing.
	_, err = db.Task(ctx, id)
	return err
}

// TaskBySlug returns the live finished task shared as slug, or ENOTFOUND.
func (db *DB) TaskBySlug(ctx context.Context, slug string) (*moji.Task, error) {
	if slug == "" {
		return nil, notFound("Task")
	}
	t, _, err := scanTask(db.db.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks
		WHERE share_slug = ? AND state = 'done' AND deleted_at IS NULL`, slug))
	if err == nil && t.ShareSlug != slug { // MySQL's collations ignore trailing spaces
		return nil, notFound("Task")
	}
	return t, err
}

// ExpiredPhotos returns up to limit tasks that still hold an uploaded photo
// although they finished (done or failed) before finishedBefore, or were
// deleted before it: their photos are past retention. Deleted tasks are
// included because no worker will ever use their photo. The caller deletes
// each blob and then calls ClearPhoto, so the next call moves on.
func (db *DB) ExpiredPhotos(ctx context.Context, finishedBefore time.Time, limit int) ([]*moji.Task, error) {
	out := []*moji.Task{}
	if limit < 1 {
		return out, nil
	}
	// photo_key > '' (not <>) lets both databases range-scan tasks_photo.
	rows, err := db.db.QueryContext(ctx, `SELECT `+taskCols+` FROM tasks
		WHERE photo_key > '' AND updated_at < ? AND (state IN ('done', 'failed') OR deleted_at IS NOT NULL)
		LIMIT ?`, millis(finishedBefore), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		t, _, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

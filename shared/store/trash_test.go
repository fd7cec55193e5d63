package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

// Deleting an account takes its tasks (their files to the trash, the live
// ones named for their workers) and its templates, and nothing of anyone
// else's.
func TestDeleteUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		gone := mustCreateUser(t, db, "gone@example.com", "gone")
		kept := mustCreateUser(t, db, "kept@example.com", "kept")
		tpl := mustCreateTemplate(t, db, "mine", gone.ID)
		other := mustCreateTemplate(t, db, "theirs", kept.ID)
		done := mustDoneTask(t, db, gone.ID, other.ID)
		queued := mustCreateTask(t, db, gone.ID, tpl.ID)
		theirs := mustDoneTask(t, db, kept.ID, tpl.ID)

		live, keys, err := db.DeleteUser(ctx, gone.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) != 1 || live[0].ID != queued.ID {
			t.Errorf("live tasks: got %v, want the queued one", live)
		}
		want := []string{done.PhotoKey, done.Result.ImageKey, queued.PhotoKey}
		slices.Sort(want)
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("files: got %v, want %v", keys, want)
		}
		if _, err := db.UserByID(ctx, gone.ID); moji.ErrorCode(err) != moji.ENOTFOUND {
			t.Errorf("the account: got %v, want not found", err)
		}
		for _, id := range []string{done.ID, queued.ID} {
			if _, err := db.Task(ctx, id); moji.ErrorCode(err) != moji.ENOTFOUND {
				t.Errorf("task %s: got %v, want not found", id, err)
			}
		}
		if _, err := db.TemplateByID(ctx, tpl.ID); moji.ErrorCode(err) != moji.ENOTFOUND {
			t.Errorf("its template: got %v, want not found", err)
		}
		// Someone else's result made with it stays, as do their things.
		mustGetTask(t, db, theirs.ID)
		if _, err := db.TemplateByID(ctx, other.ID); err != nil {
			t.Errorf("another's template: got %v, want it", err)
		}
		if _, err := db.UserByID(ctx, kept.ID); err != nil {
			t.Errorf("another account: got %v, want it", err)
		}
		if _, _, err := db.DeleteUser(ctx, gone.ID); moji.ErrorCode(err) != moji.ENOTFOUND {
			t.Errorf("deleting again: got %v, want not found", err)
		}

		// The trash gives the files to the sweep once they are a minute
		// old, until each is forgotten.
		if got, err := db.Trashed(ctx, clock.Now(), 10); err != nil || len(got) != 0 {
			t.Errorf("trash before a minute: got %v, %v; want none", got, err)
		}
		clock.Advance(2 * time.Minute)
		got, err := db.Trashed(ctx, clock.Now().Add(-time.Minute), 10)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("trash: got %v, %v; want %v", got, err, want)
		}
		must(t, db.Forget(ctx, want[0]))
		if got, _ := db.Trashed(ctx, clock.Now(), 10); len(got) != len(want)-1 {
			t.Errorf("after forgetting one: got %d in the trash, want %d", len(got), len(want)-1)
		}
	})
}

// Deleting a task puts its files in the trash in the same transaction.
func TestDeleteTaskTrashesFiles(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		u := mustCreateUser(t, db, "a@example.com", "a")
		tpl := mustCreateTemplate(t, db, "t", u.ID)
		tk := mustDoneTask(t, db, u.ID, tpl.ID)
		if _, err := db.DeleteTask(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		got, err := db.Trashed(ctx, clock.Now(), 10)
		want := []string{tk.PhotoKey, tk.Result.ImageKey}
		slices.Sort(got)
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("trash: got %v, %v; want %v", got, err, want)
		}
	})
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/shared/store/storetest"
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

		live, keys, err := db.DeleteUser(ctx, gone.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) != 1 || live[0].ID != queued.ID {
			t.Errorf("live tasks: got %v, want the queued one", live)
		}
		want := []string{done.PhotoKey, done.Result.ImageKey, queued.PhotoKey}
		for _, img := range tpl.Images {
			want = append(want, img)
		}
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
		if _, _, err := db.DeleteUser(ctx, gone.ID, 0); moji.ErrorCode(err) != moji.ENOTFOUND {
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
		if failed := db.DeleteFiles(ctx, &recordingBlobs{}, 0, want[0]); len(failed) != 0 {
			t.Fatalf("DeleteFiles: %v", failed)
		}
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

// Template images are stored by content: a deleted template's images all go
// to the trash, but a file another live template shows is kept, and one a
// new template took back from the trash is not deleted.
func TestDeleteTemplateImages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustCreateUser(t, db, "a@example.com", "a")
		template := func(name string, from *moji.Template, same moji.Expression) *moji.Template {
			t.Helper()
			tp := &moji.Template{Name: name, CreatorID: u.ID, Images: map[moji.Expression]string{}}
			for e, k := range images(name) {
				tp.Images[e] = moji.TemplateImagePrefix + k
			}
			if from != nil {
				tp.Images[same] = from.Images[same]
			}
			if err := db.CreateTemplate(ctx, tp, ""); err != nil {
				t.Fatal(err)
			}
			return tp
		}
		mine := template("mine", nil, "")
		template("copy", mine, moji.Happy) // shows the same happy face
		keys, err := db.DeleteTemplate(ctx, mine.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 7 {
			t.Errorf("trashed: got %v, want its seven images", keys)
		}
		template("again", mine, moji.Sad) // takes the sad face back
		if left, _ := db.Trashed(ctx, time.Now().Add(time.Hour), 10); len(left) != 6 {
			t.Errorf("trash after a template took one back: got %v, want six", left)
		}
		blobs := &recordingBlobs{}
		if failed := db.DeleteFiles(ctx, blobs, 0, keys...); len(failed) != 0 {
			t.Fatalf("DeleteFiles: %v", failed)
		}
		if len(blobs.deleted) != 5 || slices.Contains(blobs.deleted, mine.Images[moji.Happy]) || slices.Contains(blobs.deleted, mine.Images[moji.Sad]) {
			t.Errorf("deleted: got %v, want five: not the happy face another shows, nor the sad one taken back", blobs.deleted)
		}
		if left, _ := db.Trashed(ctx, time.Now().Add(time.Hour), 10); len(left) != 0 {
			t.Errorf("trash after: got %v, want empty", left)
		}
	})
}

// recordingBlobs deletes nothing but notes what it was asked to delete.
type recordingBlobs struct {
	moji.Blobs
	deleted []string
}

func (b *recordingBlobs) Delete(_ context.Context, key string) error {
	b.deleted = append(b.deleted, key)
	return nil
}

// On MariaDB, deleting an account locks its tasks in another order than a
// worker finishing one does; a deadlock between them is retried, not
// answered as an error.
func TestDeleteUserBesideFinishTask(t *testing.T) {
	db := storetest.MustOpenDB(t, store.MySQL)
	ctx := context.Background()
	owner := mustCreateUser(t, db, "other@example.com", "other")
	tpl := mustCreateTemplate(t, db, "t", owner.ID)
	for i := range 30 {
		u := mustCreateUser(t, db, fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("u%d", i))
		var running []*moji.Task
		for range 3 {
			tk := mustCreateTask(t, db, u.ID, tpl.ID)
			mustClaim(t, db, tk.ID, "lease-"+tk.ID)
			running = append(running, tk)
		}
		var wg sync.WaitGroup
		for _, tk := range running {
			wg.Go(func() {
				err := db.FinishTask(ctx, tk.ID, "lease-"+tk.ID, sampleResult("results/"+tk.ID+".png"))
				if err != nil && !errors.Is(err, store.ErrLeaseLost) {
					t.Errorf("FinishTask: %v", err)
				}
			})
		}
		if _, _, err := db.DeleteUser(ctx, u.ID, 0); err != nil {
			t.Errorf("round %d: DeleteUser: %v", i, err)
		}
		wg.Wait()
	}
}

// A password change or an account deletion is written only over the
// password version the request was authenticated with: of two changes at
// once, one wins; a deletion by a session from before a change is refused.
func TestPasswordVersion(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustCreateUser(t, db, "p@example.com", "p")
		results := make(chan error, 8)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := db.SetPassword(ctx, u.ID, 0, []byte("new hash"))
				results <- err
			})
		}
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			if err == nil {
				won++
			} else if !errors.Is(err, store.ErrStaleSession) {
				t.Errorf("SetPassword: got %v, want nil or ErrStaleSession", err)
			}
		}
		if won != 1 {
			t.Errorf("changes from version 0 that won: got %d, want 1", won)
		}
		got, err := db.UserByID(ctx, u.ID)
		if err != nil || got.PasswordVersion != 1 {
			t.Fatalf("version after: got %+v, %v; want 1", got, err)
		}
		// A rehash keeps the version, and loses to a change made since.
		tests := []struct {
			old, new string
			want     bool
		}{
			{"new hash", "rehashed", true},
			{"new hash", "stale rehash", false},
		}
		for _, tt := range tests {
			if ok, err := db.RehashPassword(ctx, u.ID, []byte(tt.old), []byte(tt.new)); err != nil || ok != tt.want {
				t.Errorf("RehashPassword(%q, %q): got %v, %v; want %v", tt.old, tt.new, ok, err, tt.want)
			}
		}
		if got, _ := db.UserByID(ctx, u.ID); string(got.PasswordHash) != "rehashed" || got.PasswordVersion != 1 {
			t.Errorf("after the rehash: got hash %q, version %d; want \"rehashed\", 1", got.PasswordHash, got.PasswordVersion)
		}
		if _, _, err := db.DeleteUser(ctx, u.ID, 0); !errors.Is(err, store.ErrStaleSession) {
			t.Errorf("deletion by an older session: got %v, want ErrStaleSession", err)
		}
		if _, _, err := db.DeleteUser(ctx, u.ID, 1); err != nil {
			t.Errorf("deletion by a current session: %v", err)
		}
	})
}

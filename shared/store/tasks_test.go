package store_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

const (
	ttl         = time.Minute
	maxAttempts = 3
)

// testClock is a settable clock, safe to read from racing goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// useClock makes db read a testClock that stands still until advanced.
func useClock(db *store.DB) *testClock {
	c := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	db.Now = c.Now
	return c
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTaskID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func mustCreateTask(t *testing.T, db *store.DB, owner, template int64) *moji.Task {
	t.Helper()
	id := newTaskID(t)
	tk := &moji.Task{ID: id, OwnerID: owner, TemplateID: template, PhotoKey: "photos/" + id + ".jpg"}
	if err := db.CreateTask(context.Background(), tk); err != nil {
		t.Fatalf("CreateTask: %v", err)
	}
	return tk
}

func mustGetTask(t *testing.T, db *store.DB, id string) *moji.Task {
	t.Helper()
	tk, err := db.Task(context.Background(), id)
	if err != nil {
		t.Fatalf("Task(%s): %v", id, err)
	}
	return tk
}

func mustClaim(t *testing.T, db *store.DB, id, lease string) *moji.Task {
	t.Helper()
	tk, ok, err := db.ClaimTask(context.Background(), id, lease, ttl, maxAttempts)
	if err != nil || !ok {
		t.Fatalf("ClaimTask(%s, %s): got %v, %v; want a claim", id, lease, ok, err)
	}
	return tk
}

func sampleResult(key string) *moji.Result {
	return &moji.Result{ImageKey: key, Width: 640, Height: 480, Faces: []moji.FaceResult{{
		Box:        [4]float64{10, 20.5, 100, 120},
		Expression: moji.Happy,
		Probs:      map[moji.Expression]float64{moji.Happy: 0.75, moji.Neutral: 0.25},
	}}}
}

// mustDoneTask creates a task and runs it to done.
func mustDoneTask(t *testing.T, db *store.DB, owner, template int64) *moji.Task {
	t.Helper()
	tk := mustCreateTask(t, db, owner, template)
	mustClaim(t, db, tk.ID, "lease-"+tk.ID)
	if err := db.FinishTask(context.Background(), tk.ID, "lease-"+tk.ID, sampleResult("results/"+tk.ID+".png")); err != nil {
		t.Fatalf("FinishTask(%s): %v", tk.ID, err)
	}
	return mustGetTask(t, db, tk.ID)
}

// diffTask describes how got differs from want, or returns "". Times are
// compared as instants.
func diffTask(got, want *moji.Task) string {
	if got == nil || want == nil {
		if got == want {
			return ""
		}
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	g, w := *got, *want
	var d string
	for _, tm := range []struct {
		name string
		g, w *time.Time
	}{{"CreatedAt", &g.CreatedAt, &w.CreatedAt}, {"UpdatedAt", &g.UpdatedAt, &w.UpdatedAt}, {"LeaseUntil", &g.LeaseUntil, &w.LeaseUntil}} {
		if !tm.g.Equal(*tm.w) {
			d += fmt.Sprintf("%s: got %v, want %v; ", tm.name, *tm.g, *tm.w)
		}
		*tm.g, *tm.w = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(g, w) {
		d += fmt.Sprintf("got %+v (result %+v, error %+v), want %+v (result %+v, error %+v)", g, g.Result, g.Error, w, w.Result, w.Error)
	}
	return d
}

func wantTask(t *testing.T, db *store.DB, want *moji.Task) {
	t.Helper()
	if d := diffTask(mustGetTask(t, db, want.ID), want); d != "" {
		t.Fatalf("task %s: %s", want.ID, d)
	}
}

func TestCreateAndGetTask(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		alice := mustCreateUser(t, db, "alice@example.com", "alice")
		tp := mustCreateTemplate(t, db, "smileys", alice.ID)
		gone := mustCreateTemplate(t, db, "gone", alice.ID)
		if _, err := db.DeleteTemplate(ctx, gone.ID, alice.ID); err != nil {
			t.Fatal(err)
		}

		for _, owner := range []int64{0, alice.ID} {
			id := newTaskID(t)
			tk := &moji.Task{ID: id, OwnerID: owner, TemplateID: tp.ID, PhotoKey: "photos/" + id}
			if err := db.CreateTask(ctx, tk); err != nil {
				t.Fatalf("CreateTask(owner %d): %v", owner, err)
			}
			now := clock.Now()
			want := &moji.Task{ID: id, OwnerID: owner, TemplateID: tp.ID, State: moji.TaskQueued, Stage: moji.StageQueued,
				PhotoKey: "photos/" + id, CreatedAt: now, UpdatedAt: now}
			if d := diffTask(tk, want); d != "" {
				t.Errorf("CreateTask set: %s", d)
			}
			wantTask(t, db, want)
		}

		taken := mustCreateTask(t, db, 0, tp.ID)
		tests := []struct {
			name    string
			task    moji.Task
			code    string
			message string
		}{
			{"unknown template", moji.Task{ID: newTaskID(t), TemplateID: 999999}, moji.ENOTFOUND, "Template not found."},
			{"deleted template", moji.Task{ID: newTaskID(t), TemplateID: gone.ID}, moji.ENOTFOUND, "Template not found."},
			{"taken id", moji.Task{ID: taken.ID, TemplateID: tp.ID}, moji.ECONFLICT, ""},
			{"no id", moji.Task{TemplateID: tp.ID}, moji.EINVALID, ""},
		}
		for _, tt := range tests {
			err := db.CreateTask(ctx, &tt.task)
			if got := moji.ErrorCode(err); got != tt.code {
				t.Errorf("%s: got code %q (%v), want %q", tt.name, got, err, tt.code)
			}
			if got := moji.ErrorMessage(err); tt.message != "" && got != tt.message {
				t.Errorf("%s: got message %q, want %q", tt.name, got, tt.message)
			}
		}
		if n, err := db.CountTasks(ctx, moji.TaskQueued); err != nil || n != 3 {
			t.Errorf("CountTasks(queued): got %d, %v; want 3", n, err)
		}
		_, err := db.Task(ctx, "no-such-task")
		wantCode(t, err, moji.ENOTFOUND)
		_, _, err = db.ClaimTask(ctx, "no-such-task", "l", ttl, maxAttempts)
		wantCode(t, err, moji.ENOTFOUND)
	})
}

func TestClaimRaceOneWins(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		tk := mustCreateTask(t, db, 0, tp.ID)
		// Round 1 claims a queued task; round 2 the same task once its
		// winner's lease has expired.
		for round := 1; round <= 2; round++ {
			const n = 8
			var wg sync.WaitGroup
			won := make([]bool, n)
			errs := make([]error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					_, won[i], errs[i] = db.ClaimTask(context.Background(), tk.ID, fmt.Sprintf("r%d-w%d", round, i), ttl, maxAttempts)
				}(i)
			}
			wg.Wait()
			winner := -1
			for i := range won {
				if errs[i] != nil {
					t.Errorf("round %d, claim %d: got error %v, want none", round, i, errs[i])
				}
				if won[i] {
					if winner >= 0 {
						t.Errorf("round %d: claims %d and %d both won", round, winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: got no winner, want one", round)
			}
			got := mustGetTask(t, db, tk.ID)
			wantLease := fmt.Sprintf("r%d-w%d", round, winner)
			if got.Lease != wantLease || got.Attempts != round || got.State != moji.TaskRunning || got.Stage != moji.StageDetecting ||
				!got.LeaseUntil.Equal(clock.Now().Add(ttl)) {
				t.Fatalf("round %d: got lease %q, attempts %d, %s/%s until %v; want %q, %d, running/detecting until %v",
					round, got.Lease, got.Attempts, got.State, got.Stage, got.LeaseUntil, wantLease, round, clock.Now().Add(ttl))
			}
			clock.Advance(ttl + time.Millisecond)
		}
	})
}

func TestLeaseExpiryAndReclaim(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		tk := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, tk.ID, "a")

		// A live lease keeps others out, and progress keeps it alive.
		got, ok, err := db.ClaimTask(ctx, tk.ID, "b", ttl, maxAttempts)
		if err != nil || ok || got.Lease != "a" {
			t.Fatalf("claim of a held task: got %v, %v, lease %q; want false, nil, \"a\"", ok, err, got.Lease)
		}
		clock.Advance(40 * time.Second)
		if err := db.TaskProgress(ctx, tk.ID, "a", moji.StageReading, 40, ttl); err != nil {
			t.Fatalf("TaskProgress: %v", err)
		}
		// The same progress again, same instant: still held (MySQL reports
		// no changed row).
		if err := db.TaskProgress(ctx, tk.ID, "a", moji.StageReading, 40, ttl); err != nil {
			t.Fatalf("repeated TaskProgress: %v", err)
		}
		got = mustGetTask(t, db, tk.ID)
		if got.Stage != moji.StageReading || got.Percent != 40 || !got.LeaseUntil.Equal(clock.Now().Add(ttl)) {
			t.Fatalf("after progress: got %s %d%% until %v; want reading 40%% until %v", got.Stage, got.Percent, got.LeaseUntil, clock.Now().Add(ttl))
		}
		clock.Advance(ttl - time.Millisecond)
		if _, ok, _ := db.ClaimTask(ctx, tk.ID, "b", ttl, maxAttempts); ok {
			t.Fatal("claim before the extended lease ended: got true, want false")
		}

		// Expired: another worker takes it over.
		clock.Advance(2 * time.Millisecond)
		got = mustClaim(t, db, tk.ID, "b")
		if got.Attempts != 2 || got.Percent != 0 || got.Stage != moji.StageDetecting {
			t.Fatalf("reclaimed: got attempts %d, %d%%, %s; want 2, 0%%, detecting", got.Attempts, got.Percent, got.Stage)
		}
	})
}

// Every write of a lease holder fails with ErrLeaseLost, changing nothing,
// when the lease is not (or no longer) the task's.
func TestLeaseLost(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		running := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, running.ID, "stale")
		clock.Advance(2 * ttl)
		mustClaim(t, db, running.ID, "live")
		queued := mustCreateTask(t, db, 0, tp.ID)
		done := mustDoneTask(t, db, 0, tp.ID)
		failed := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, failed.ID, "f")
		if err := db.FailTask(ctx, failed.ID, "f", moji.TaskError{Code: "no_face", Message: "No face found."}); err != nil {
			t.Fatal(err)
		}
		deleted := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, deleted.ID, "d")
		deletedBefore, err := db.DeleteTask(ctx, deleted.ID)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)

		ops := []struct {
			name string
			do   func(id, lease string) error
		}{
			{"progress", func(id, lease string) error {
				return db.TaskProgress(ctx, id, lease, moji.StageCompositing, 90, ttl)
			}},
			{"finish", func(id, lease string) error { return db.FinishTask(ctx, id, lease, sampleResult("r.png")) }},
			{"fail", func(id, lease string) error {
				return db.FailTask(ctx, id, lease, moji.TaskError{Code: "x", Message: "X."})
			}},
		}
		cases := []struct {
			name, id, lease string
		}{
			{"stale lease", running.ID, "stale"},
			{"wrong lease", running.ID, "nobody"},
			{"empty lease on progress/finish", running.ID, ""},
			{"queued task", queued.ID, "live"},
			{"done task", done.ID, "lease-" + done.ID},
			{"failed task", failed.ID, "f"},
			{"deleted task", deleted.ID, "d"},
		}
		for _, c := range cases {
			for _, op := range ops {
				if c.lease == "" && op.name == "fail" {
					continue // FailTask with no lease means something else
				}
				var before *moji.Task
				if c.id == deleted.ID {
					before = deletedBefore
				} else {
					before = mustGetTask(t, db, c.id)
				}
				if err := op.do(c.id, c.lease); !errors.Is(err, store.ErrLeaseLost) {
					t.Errorf("%s, %s: got %v, want ErrLeaseLost", c.name, op.name, err)
				}
				if c.id == deleted.ID {
					_, err := db.Task(ctx, c.id)
					wantCode(t, err, moji.ENOTFOUND)
					continue
				}
				if d := diffTask(mustGetTask(t, db, c.id), before); d != "" {
					t.Errorf("%s, %s: row changed: %s", c.name, op.name, d)
				}
			}
		}
		if moji.ErrorCode(store.ErrLeaseLost) != moji.ECONFLICT {
			t.Errorf("ErrLeaseLost code: got %q, want %q", moji.ErrorCode(store.ErrLeaseLost), moji.ECONFLICT)
		}
	})
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		const tries = 2
		tk := mustCreateTask(t, db, 0, tp.ID)
		for i := 1; i <= tries; i++ {
			if _, ok, err := db.ClaimTask(ctx, tk.ID, fmt.Sprintf("w%d", i), ttl, tries); err != nil || !ok {
				t.Fatalf("claim %d: got %v, %v; want a claim", i, ok, err)
			}
			// While the lease lives, the task is held, not given up.
			if got, ok, err := db.ClaimTask(ctx, tk.ID, "other", ttl, tries); err != nil || ok || got.State != moji.TaskRunning {
				t.Fatalf("claim of held task after %d attempts: got %v, %v, %s; want false, nil, running", i, ok, err, got.State)
			}
			clock.Advance(2 * ttl)
		}
		wantErr := &moji.TaskError{Code: store.GaveUpCode, Message: "This photo could not be processed after 2 attempts."}
		// Only the call that gives up says so: it alone announces it.
		for i, want := range []store.ClaimOutcome{store.GaveUp, store.NotClaimed} {
			got, outcome, err := db.Claim(ctx, tk.ID, "last", ttl, tries)
			if err != nil || outcome != want {
				t.Fatalf("claim %d past max: got %v, %v; want %v, nil", i+1, outcome, err, want)
			}
			if got.State != moji.TaskFailed || !reflect.DeepEqual(got.Error, wantErr) || got.Lease != "" || got.Attempts != tries {
				t.Fatalf("claim past max: got %s, error %+v, lease %q, attempts %d; want failed, %+v, no lease, %d",
					got.State, got.Error, got.Lease, got.Attempts, wantErr, tries)
			}
		}
		wantTask(t, db, func() *moji.Task { g := mustGetTask(t, db, tk.ID); g.Error = wantErr; return g }())

		// A queued task already at the limit gives up too.
		q := mustCreateTask(t, db, 0, tp.ID)
		got, ok, err := db.ClaimTask(ctx, q.ID, "w", ttl, 0)
		if err != nil || ok || got.State != moji.TaskFailed || got.Error == nil || got.Error.Code != store.GaveUpCode {
			t.Fatalf("queued task, max 0: got %v, %v, %+v; want failed with %s", ok, err, got, store.GaveUpCode)
		}
	})
}

func TestFinishTask(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		alice := mustCreateUser(t, db, "alice@example.com", "alice")
		tp := mustCreateTemplate(t, db, "t", alice.ID)
		tk := mustCreateTask(t, db, alice.ID, tp.ID)
		mustClaim(t, db, tk.ID, "w")
		clock.Advance(time.Second)
		if err := db.TaskProgress(ctx, tk.ID, "w", moji.StageCompositing, 250, ttl); err != nil {
			t.Fatal(err)
		}
		if got := mustGetTask(t, db, tk.ID); got.Percent != 100 || got.Stage != moji.StageCompositing {
			t.Fatalf("progress 250%%: got %s %d%%, want compositing 100%%", got.Stage, got.Percent)
		}
		clock.Advance(time.Second)
		res := sampleResult("results/x.png")
		if err := db.FinishTask(ctx, tk.ID, "w", res); err != nil {
			t.Fatalf("FinishTask: %v", err)
		}
		want := &moji.Task{ID: tk.ID, OwnerID: alice.ID, TemplateID: tp.ID, State: moji.TaskDone, Stage: moji.StageDone,
			Percent: 100, Result: res, CreatedAt: tk.CreatedAt, UpdatedAt: clock.Now(), PhotoKey: tk.PhotoKey, Attempts: 1}
		wantTask(t, db, want)

		// A second finish (a duplicate delivery) changes nothing and
		// counts no second use.
		if err := db.FinishTask(ctx, tk.ID, "w", sampleResult("results/y.png")); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("second FinishTask: got %v, want ErrLeaseLost", err)
		}
		wantTask(t, db, want)
		rank, err := db.Ranking(ctx, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rank) != 1 || rank[0].Uses != 1 || rank[0].Template.ID != tp.ID {
			t.Fatalf("ranking after a double finish: got %+v, want one item with 1 use of %d", rank, tp.ID)
		}
		if n, err := db.CountTasks(ctx, moji.TaskDone); err != nil || n != 1 {
			t.Fatalf("CountTasks(done): got %d, %v; want 1", n, err)
		}
	})
}

func TestFailTask(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		e := moji.TaskError{Code: "no_face", Message: "No face was found in this photo."}
		mk := func(state moji.TaskState) string {
			switch state {
			case moji.TaskQueued:
				return mustCreateTask(t, db, 0, tp.ID).ID
			case moji.TaskRunning:
				tk := mustCreateTask(t, db, 0, tp.ID)
				mustClaim(t, db, tk.ID, "w")
				return tk.ID
			case moji.TaskDone:
				return mustDoneTask(t, db, 0, tp.ID).ID
			case moji.TaskFailed:
				tk := mustCreateTask(t, db, 0, tp.ID)
				if err := db.FailTask(ctx, tk.ID, "", moji.TaskError{Code: "earlier", Message: "Earlier."}); err != nil {
					t.Fatal(err)
				}
				return tk.ID
			}
			return "no-such-task"
		}
		tests := []struct {
			name  string
			state moji.TaskState
			lease string
			err   error  // wanted error, compared with errors.Is
			code  string // else wanted error code
		}{
			{"running, its lease", moji.TaskRunning, "w", nil, ""},
			{"queued, no lease", moji.TaskQueued, "", nil, ""},
			{"running, no lease", moji.TaskRunning, "", nil, ""},
			{"done, no lease", moji.TaskDone, "", store.ErrLeaseLost, ""},
			{"failed, no lease", moji.TaskFailed, "", store.ErrLeaseLost, ""},
			{"absent, no lease", "", "", nil, moji.ENOTFOUND},
		}
		for _, tt := range tests {
			id := mk(tt.state)
			err := db.FailTask(ctx, id, tt.lease, e)
			if tt.code != "" {
				if got := moji.ErrorCode(err); got != tt.code {
					t.Errorf("%s: got %v, want code %q", tt.name, err, tt.code)
				}
				continue
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.err)
				continue
			}
			got := mustGetTask(t, db, id)
			if tt.err == nil && (got.State != moji.TaskFailed || !reflect.DeepEqual(got.Error, &e) || got.Lease != "") {
				t.Errorf("%s: got %s, error %+v, lease %q; want failed, %+v, no lease", tt.name, got.State, got.Error, got.Lease, e)
			}
			if tt.err != nil && got.State != tt.state {
				t.Errorf("%s: got state %s, want %s unchanged", tt.name, got.State, tt.state)
			}
		}
	})
}

func TestRequeueStalled(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		stalled1 := mustCreateTask(t, db, 0, tp.ID)
		stalled2 := mustCreateTask(t, db, 0, tp.ID)
		live := mustCreateTask(t, db, 0, tp.ID)
		queued := mustCreateTask(t, db, 0, tp.ID)
		done := mustDoneTask(t, db, 0, tp.ID)
		deleted := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, stalled1.ID, "s1")
		clock.Advance(time.Second) // stalled2's lease ends later: it comes second
		mustClaim(t, db, stalled2.ID, "s2")
		mustClaim(t, db, deleted.ID, "d")
		if _, err := db.DeleteTask(ctx, deleted.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ClaimTask(ctx, live.ID, "l", 10*ttl, maxAttempts); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * ttl)

		got, err := db.RequeueStalled(ctx, 1)
		if err != nil || !slices.Equal(got, []string{stalled1.ID}) {
			t.Fatalf("RequeueStalled(1): got %v, %v; want [%s]", got, err, stalled1.ID)
		}
		got, err = db.RequeueStalled(ctx, 10)
		if err != nil || !slices.Equal(got, []string{stalled2.ID}) {
			t.Fatalf("RequeueStalled(10): got %v, %v; want [%s]", got, err, stalled2.ID)
		}
		if got, err = db.RequeueStalled(ctx, 10); err != nil || len(got) != 0 {
			t.Fatalf("RequeueStalled again: got %v, %v; want none", got, err)
		}
		for _, id := range []string{stalled1.ID, stalled2.ID} {
			tk := mustGetTask(t, db, id)
			if tk.State != moji.TaskQueued || tk.Stage != moji.StageQueued || tk.Lease != "" || tk.Attempts != 1 || tk.Percent != 0 {
				t.Errorf("requeued %s: got %s/%s lease %q attempts %d %d%%; want queued/queued, no lease, 1 attempt, 0%%",
					id, tk.State, tk.Stage, tk.Lease, tk.Attempts, tk.Percent)
			}
		}
		for id, state := range map[string]moji.TaskState{live.ID: moji.TaskRunning, queued.ID: moji.TaskQueued, done.ID: moji.TaskDone} {
			if got := mustGetTask(t, db, id).State; got != state {
				t.Errorf("task %s: got %s, want %s untouched", id, got, state)
			}
		}
		// Requeueing counts as enqueueing now: the reconciler leaves them
		// alone until they are overdue again.
		ids, err := db.QueuedTasks(ctx, clock.Now(), 10)
		if err != nil || !slices.Equal(ids, []string{queued.ID}) {
			t.Fatalf("QueuedTasks(now): got %v, %v; want [%s]", ids, err, queued.ID)
		}
		// A requeued task is claimed again as usual.
		if tk := mustClaim(t, db, stalled1.ID, "again"); tk.Attempts != 2 {
			t.Fatalf("claim after requeue: got attempts %d, want 2", tk.Attempts)
		}
	})
}

func TestQueuedTasksAndCounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		if _, ok, err := db.OldestQueued(ctx); err != nil || ok {
			t.Fatalf("OldestQueued on an empty store: got %v, %v; want false", ok, err)
		}
		tp := mustCreateTemplate(t, db, "t", 0)
		t0 := clock.Now()
		deleted := mustCreateTask(t, db, 0, tp.ID) // oldest, but deleted
		if _, err := db.DeleteTask(ctx, deleted.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		a := mustCreateTask(t, db, 0, tp.ID)
		clock.Advance(time.Second)
		b := mustCreateTask(t, db, 0, tp.ID)
		clock.Advance(time.Second)
		c := mustCreateTask(t, db, 0, tp.ID)
		running := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, running.ID, "w")
		mustDoneTask(t, db, 0, tp.ID)

		tests := []struct {
			before time.Time
			limit  int
			want   []string
		}{
			{t0, 10, []string{}},
			{t0.Add(2 * time.Second), 10, []string{a.ID}},
			{t0.Add(3 * time.Second), 10, []string{a.ID, b.ID}},
			{t0.Add(time.Hour), 10, []string{a.ID, b.ID, c.ID}},
			{t0.Add(time.Hour), 2, []string{a.ID, b.ID}},
			{t0.Add(time.Hour), 0, []string{}},
		}
		for _, tt := range tests {
			got, err := db.QueuedTasks(ctx, tt.before, tt.limit)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("QueuedTasks(t0+%v, %d): got %v, %v; want %v", tt.before.Sub(t0), tt.limit, got, err, tt.want)
			}
		}

		// Page by page, each after the last one's cursor.
		var pages [][]string
		var after store.QueuedCursor
		for range 4 {
			ids, next, err := db.QueuedTasksAfter(ctx, t0.Add(time.Hour), after, 2)
			if err != nil {
				t.Fatal(err)
			}
			pages, after = append(pages, ids), next
		}
		if want := [][]string{{a.ID, b.ID}, {c.ID}, {}, {}}; !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("QueuedTasksAfter, pages of 2: got %v, want %v", pages, want)
		}

		clock.Advance(time.Minute)
		cutoff := clock.Now().Add(-30 * time.Second)
		marks := []struct {
			id   string
			want bool
		}{
			{a.ID, true},
			{a.ID, false}, // another process's reconciler, the same pass
			{c.ID, true},
			{running.ID, false},
			{deleted.ID, false},
			{"nosuchtask", false},
		}
		for _, m := range marks {
			if got, err := db.MarkEnqueued(ctx, m.id, cutoff); err != nil || got != m.want {
				t.Errorf("MarkEnqueued(%s): got %v, %v; want %v", m.id, got, err, m.want)
			}
		}
		got, err := db.QueuedTasks(ctx, clock.Now(), 10)
		if err != nil || !slices.Equal(got, []string{b.ID}) {
			t.Fatalf("after MarkEnqueued: got %v, %v; want [%s]", got, err, b.ID)
		}
		// a and c were marked at the same time: the id breaks the tie.
		wantAll := []string{b.ID, min(a.ID, c.ID), max(a.ID, c.ID)}
		got, _ = db.QueuedTasks(ctx, clock.Now().Add(time.Millisecond), 10)
		if !slices.Equal(got, wantAll) {
			t.Fatalf("after MarkEnqueued, all: got %v, want %v", got, wantAll)
		}

		for state, want := range map[moji.TaskState]int{moji.TaskQueued: 3, moji.TaskRunning: 1, moji.TaskDone: 1, moji.TaskFailed: 0} {
			if n, err := db.CountTasks(ctx, state); err != nil || n != want {
				t.Errorf("CountTasks(%s): got %d, %v; want %d", state, n, err, want)
			}
		}
		oldest, ok, err := db.OldestQueued(ctx)
		if err != nil || !ok || !oldest.Equal(a.CreatedAt) {
			t.Fatalf("OldestQueued: got %v, %v, %v; want %v", oldest, ok, err, a.CreatedAt)
		}
	})
}

func TestRanking(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		alice := mustCreateUser(t, db, "alice@example.com", "alice")
		a := mustCreateTemplate(t, db, "a", alice.ID)
		b := mustCreateTemplate(t, db, "b", alice.ID)
		c := mustCreateTemplate(t, db, "c", 0)
		d := mustCreateTemplate(t, db, "d", alice.ID)
		old := mustCreateTemplate(t, db, "old", alice.ID)
		mustCreateTemplate(t, db, "unused", alice.ID)
		builtin := &moji.Template{Name: "Fluent", Images: images("fluent")}
		if err := db.CreateTemplate(ctx, builtin, "fluent"); err != nil {
			t.Fatal(err)
		}
		use := func(tp *moji.Template, n int) {
			t.Helper()
			for i := 0; i < n; i++ {
				mustDoneTask(t, db, 0, tp.ID)
			}
		}
		use(old, 4)
		use(a, 1) // outside the window: does not count
		clock.Advance(time.Hour)
		since := clock.Now()
		use(a, 2)
		use(b, 3)
		use(c, 2)
		use(d, 5)
		use(builtin, 1)
		// Unfinished tasks are no use.
		mustCreateTask(t, db, 0, old.ID)
		if _, err := db.DeleteTemplate(ctx, d.ID, alice.ID); err != nil {
			t.Fatal(err)
		}

		type want struct {
			id   int64
			uses int
		}
		tests := []struct {
			limit int
			want  []want
		}{
			{10, []want{{b.ID, 3}, {a.ID, 2}, {c.ID, 2}, {builtin.ID, 1}}},
			{2, []want{{b.ID, 3}, {a.ID, 2}}},
			{0, []want{}},
		}
		for _, tt := range tests {
			got, err := db.Ranking(ctx, since, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Ranking(limit %d): got %d items (%+v), want %d", tt.limit, len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Rank != i+1 || got[i].Template.ID != w.id || got[i].Uses != w.uses {
					t.Errorf("Ranking(limit %d)[%d]: got rank %d, template %d, %d uses; want %d, %d, %d",
						tt.limit, i, got[i].Rank, got[i].Template.ID, got[i].Uses, i+1, w.id, w.uses)
				}
			}
		}

		// Templates come filled as TemplateByID fills them.
		got, _ := db.Ranking(ctx, since, 10)
		for _, it := range got {
			byID, err := db.TemplateByID(ctx, it.Template.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(it.Template, *byID) {
				t.Errorf("ranked template: got %+v, want %+v", it.Template, *byID)
			}
		}
		if got[0].Template.CreatorAlias != "alice" || !got[3].Template.Builtin {
			t.Errorf("ranked templates: got alias %q and builtin %v; want alice and true", got[0].Template.CreatorAlias, got[3].Template.Builtin)
		}

		// A wider window counts the older uses too.
		all, err := db.Ranking(ctx, time.Time{}, 1)
		if err != nil || len(all) != 1 || all[0].Template.ID != old.ID || all[0].Uses != 4 {
			t.Fatalf("Ranking(all time, 1): got %+v, %v; want %d with 4 uses", all, err, old.ID)
		}
	})
}

func TestUserResults(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		alice := mustCreateUser(t, db, "alice@example.com", "alice")
		bob := mustCreateUser(t, db, "bob@example.com", "bob")
		tp := mustCreateTemplate(t, db, "t", 0)

		var done []*moji.Task
		for i := 0; i < 5; i++ {
			if i != 4 { // the last two share a created_at: the id breaks the tie
				clock.Advance(time.Second)
			}
			done = append(done, mustDoneTask(t, db, alice.ID, tp.ID))
		}
		mustCreateTask(t, db, alice.ID, tp.ID) // queued
		failed := mustCreateTask(t, db, alice.ID, tp.ID)
		if err := db.FailTask(ctx, failed.ID, "", moji.TaskError{Code: "x", Message: "X."}); err != nil {
			t.Fatal(err)
		}
		gone := mustDoneTask(t, db, alice.ID, tp.ID)
		if _, err := db.DeleteTask(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		mustDoneTask(t, db, bob.ID, tp.ID)
		mustDoneTask(t, db, 0, tp.ID)

		want := slices.Clone(done)
		slices.SortFunc(want, func(x, y *moji.Task) int {
			if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(y.ID, x.ID)
		})
		var got []*moji.Task
		for page := 1; page <= 3; page++ {
			p, err := db.UserResults(ctx, alice.ID, page, 2)
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			if p.Total != 5 || p.Page != page || p.PageSize != 2 {
				t.Fatalf("page %d: got total %d, page %d, size %d; want 5, %d, 2", page, p.Total, p.Page, p.PageSize, page)
			}
			if wantLen := min(2, 5-2*(page-1)); len(p.Items) != wantLen {
				t.Fatalf("page %d: got %d items, want %d", page, len(p.Items), wantLen)
			}
			got = append(got, p.Items...)
		}
		for i := range want {
			if d := diffTask(got[i], want[i]); d != "" {
				t.Errorf("result %d: %s", i, d)
			}
		}

		p, err := db.UserResults(ctx, alice.ID, 4, 2)
		if err != nil || len(p.Items) != 0 || p.Items == nil || p.Total != 5 {
			t.Fatalf("page past the end: got %+v, %v; want no items, total 5", p, err)
		}
		_, err = db.UserResults(ctx, alice.ID, 0, 2)
		wantCode(t, err, moji.EINVALID)
		if p, err := db.UserResults(ctx, bob.ID, 1, 10); err != nil || p.Total != 1 || len(p.Items) != 1 || p.Items[0].OwnerID != bob.ID {
			t.Fatalf("bob's results: got %+v, %v; want his one", p, err)
		}
	})
}

func TestDeleteAndShare(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		queued := mustCreateTask(t, db, 0, tp.ID)
		tk := mustDoneTask(t, db, 0, tp.ID)
		other := mustDoneTask(t, db, 0, tp.ID)

		_, err := db.ShareTask(ctx, queued.ID, "q")
		if moji.ErrorCode(err) != moji.ECONFLICT || moji.ErrorMessage(err) != "Only a finished result can be shared." {
			t.Fatalf("share a queued task: got %v, want the conflict", err)
		}
		_, err = db.ShareTask(ctx, "no-such-task", "n")
		wantCode(t, err, moji.ENOTFOUND)

		shareTests := []struct {
			id, slug, want, code string
		}{
			{tk.ID, "s1", "s1", ""},
			{tk.ID, "s2", "s1", ""},              // already shared: keeps its slug
			{other.ID, "s1", "", moji.ECONFLICT}, // slug taken by another task
		}
		for _, tt := range shareTests {
			got, err := db.ShareTask(ctx, tt.id, tt.slug)
			if got != tt.want || moji.ErrorCode(err) != tt.code {
				t.Errorf("ShareTask(%s, %q): got %q, %v; want %q, code %q", tt.id, tt.slug, got, err, tt.want, tt.code)
			}
		}
		bySlug, err := db.TaskBySlug(ctx, "s1")
		if err != nil || bySlug.ID != tk.ID || bySlug.ShareSlug != "s1" || bySlug.Result == nil {
			t.Fatalf("TaskBySlug(s1): got %+v, %v; want %s with its result", bySlug, err, tk.ID)
		}
		// MariaDB's collations ignore trailing spaces: "s1 " must not
		// find s1's task there either.
		for _, slug := range []string{"s2", "", "q", "s1 ", "s1  ", "S1"} {
			_, err := db.TaskBySlug(ctx, slug)
			wantCode(t, err, moji.ENOTFOUND)
		}
		if _, err := db.Task(ctx, tk.ID+" "); moji.ErrorCode(err) != moji.ENOTFOUND {
			t.Errorf("Task(%q): got %v, want ENOTFOUND", tk.ID+" ", err)
		}

		if err := db.UnshareTask(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.UnshareTask(ctx, tk.ID); err != nil {
			t.Fatalf("second UnshareTask: %v", err)
		}
		_, err = db.TaskBySlug(ctx, "s1")
		wantCode(t, err, moji.ENOTFOUND)
		if got := mustGetTask(t, db, tk.ID).ShareSlug; got != "" {
			t.Fatalf("after unshare: got slug %q, want none", got)
		}
		if got, err := db.ShareTask(ctx, tk.ID, "s3"); err != nil || got != "s3" {
			t.Fatalf("share again: got %q, %v; want s3", got, err)
		}

		// Concurrent shares agree on one slug.
		var wg sync.WaitGroup
		slugs := make([]string, 8)
		errs := make([]error, 8)
		for i := range slugs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				slugs[i], errs[i] = db.ShareTask(context.Background(), other.ID, fmt.Sprintf("race%d", i))
			}(i)
		}
		wg.Wait()
		for i := range slugs {
			if errs[i] != nil || slugs[i] != slugs[0] {
				t.Errorf("concurrent share %d: got %q, %v; want %q like the others", i, slugs[i], errs[i], slugs[0])
			}
		}

		// Delete returns the task as it was, then it is gone everywhere.
		clock.Advance(time.Second)
		before := mustGetTask(t, db, tk.ID)
		deleted, err := db.DeleteTask(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffTask(deleted, before); d != "" || deleted.ShareSlug != "s3" || deleted.Result.ImageKey == "" {
			t.Fatalf("DeleteTask returned %s (slug %q)", d, deleted.ShareSlug)
		}
		_, err = db.Task(ctx, tk.ID)
		wantCode(t, err, moji.ENOTFOUND)
		_, err = db.TaskBySlug(ctx, "s3")
		wantCode(t, err, moji.ENOTFOUND)
		_, err = db.DeleteTask(ctx, tk.ID)
		wantCode(t, err, moji.ENOTFOUND)
		_, err = db.DeleteTask(ctx, "no-such-task")
		wantCode(t, err, moji.ENOTFOUND)
		_, err = db.ShareTask(ctx, tk.ID, "s4")
		wantCode(t, err, moji.ENOTFOUND)
		wantCode(t, db.UnshareTask(ctx, tk.ID), moji.ENOTFOUND)
		wantCode(t, db.UnshareTask(ctx, "no-such-task"), moji.ENOTFOUND)
		// A deleted task's slug is free again.
		if err := db.UnshareTask(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := db.ShareTask(ctx, other.ID, "s3"); err != nil || got != "s3" {
			t.Fatalf("reuse of a deleted task's slug: got %q, %v; want s3", got, err)
		}
		// A worker never runs a deleted task.
		if _, err := db.DeleteTask(ctx, queued.ID); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := db.ClaimTask(ctx, queued.ID, "w", ttl, maxAttempts); err != nil || ok || got == nil {
			t.Fatalf("claim of a deleted task: got %+v, %v, %v; want the task, false, nil", got, ok, err)
		}
	})
}

func TestExpiredPhotos(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := useClock(db)
		tp := mustCreateTemplate(t, db, "t", 0)
		oldDone := mustDoneTask(t, db, 0, tp.ID)
		oldFailed := mustCreateTask(t, db, 0, tp.ID)
		if err := db.FailTask(ctx, oldFailed.ID, "", moji.TaskError{Code: "x", Message: "X."}); err != nil {
			t.Fatal(err)
		}
		oldDeleted := mustCreateTask(t, db, 0, tp.ID)
		if _, err := db.DeleteTask(ctx, oldDeleted.ID); err != nil {
			t.Fatal(err)
		}
		oldCleared := mustDoneTask(t, db, 0, tp.ID)
		if err := db.ClearPhoto(ctx, oldCleared.ID); err != nil {
			t.Fatal(err)
		}
		if got := mustGetTask(t, db, oldCleared.ID).PhotoKey; got != "" {
			t.Fatalf("after ClearPhoto: got photo key %q, want none", got)
		}
		mustCreateTask(t, db, 0, tp.ID) // queued: its photo is still needed
		running := mustCreateTask(t, db, 0, tp.ID)
		mustClaim(t, db, running.ID, "w")
		clock.Advance(2 * time.Hour)
		mustDoneTask(t, db, 0, tp.ID) // too recent

		cutoff := clock.Now().Add(-time.Hour)
		got, err := db.ExpiredPhotos(ctx, cutoff, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tk := range got {
			if tk.PhotoKey == "" {
				t.Errorf("expired task %s has no photo key", tk.ID)
			}
			ids = append(ids, tk.ID)
		}
		want := []string{oldDone.ID, oldFailed.ID, oldDeleted.ID}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("ExpiredPhotos: got %v, want %v", ids, want)
		}
		if got, err := db.ExpiredPhotos(ctx, cutoff, 1); err != nil || len(got) != 1 {
			t.Fatalf("ExpiredPhotos(limit 1): got %d, %v; want 1", len(got), err)
		}
		for _, id := range want {
			if err := db.ClearPhoto(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := db.ExpiredPhotos(ctx, cutoff, 10); err != nil || len(got) != 0 {
			t.Fatalf("ExpiredPhotos after clearing: got %d, %v; want none", len(got), err)
		}
	})
}

func TestReleaseTask(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tp := mustCreateTemplate(t, db, "t", 0)
		tests := []struct {
			name         string
			refund       bool
			wantAttempts int
		}{
			{"shutting down: refunded", true, 0},
			{"storage trouble: counted", false, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tk := mustCreateTask(t, db, 0, tp.ID)
				mustClaim(t, db, tk.ID, "w1")
				if err := db.ReleaseTask(ctx, tk.ID, "other", tt.refund); !errors.Is(err, store.ErrLeaseLost) {
					t.Fatalf("release with a wrong lease: got %v, want ErrLeaseLost", err)
				}
				if err := db.ReleaseTask(ctx, tk.ID, "w1", tt.refund); err != nil {
					t.Fatalf("release: %v", err)
				}
				got := mustGetTask(t, db, tk.ID)
				if got.State != moji.TaskQueued || got.Lease != "" || got.Attempts != tt.wantAttempts {
					t.Fatalf("released: got %s, lease %q, attempts %d; want queued, no lease, %d", got.State, got.Lease, got.Attempts, tt.wantAttempts)
				}
				// Claimable again at once, without waiting for the lease.
				mustClaim(t, db, tk.ID, "w2")
			})
		}
	})
}

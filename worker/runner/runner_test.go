package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/disk"
	"github.com/igemoji/igemoji/shared/mem"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/shared/store/storetest"
)

// fixture is a runner on a real SQLite store and disk, without models:
// these tests stop before the pipeline would run.
type fixture struct {
	db     *store.DB
	blobs  *disk.Blobs
	events <-chan moji.Event
	r      *Runner
	tmpl   *moji.Template
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.MustOpenDB(t, store.SQLite)
	blobs, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 8, 8)))
	u := &moji.User{Email: "o@example.com", Alias: "owner", PasswordHash: []byte("x")}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	tmpl := &moji.Template{Name: "plain", CreatorID: u.ID, Images: map[moji.Expression]string{}}
	for _, e := range moji.Expressions {
		key := "t/" + string(e) + "-0123456789.png"
		if err := blobs.Put(context.Background(), key, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		tmpl.Images[e] = key
	}
	if err := db.CreateTemplate(context.Background(), tmpl, ""); err != nil {
		t.Fatal(err)
	}
	bus := mem.NewBus(16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events, _ := bus.Subscribe(ctx)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := New(Config{Name: "test", Lease: time.Minute, MaxAttempts: 3}, log, db, blobs, mem.NewQueue(), bus, nil, nil)
	return &fixture{db: db, blobs: blobs, events: events, r: r, tmpl: tmpl}
}

func (f *fixture) task(t *testing.T, photo []byte) *moji.Task {
	t.Helper()
	tk := &moji.Task{ID: randomHex(16), TemplateID: f.tmpl.ID, PhotoKey: "uploads/" + randomHex(16) + ".jpg"}
	if err := f.blobs.Put(context.Background(), tk.PhotoKey, photo); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateTask(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

// failed waits for the task.failed event of id.
func (f *fixture) failed(t *testing.T, id string) *moji.TaskError {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-f.events:
			if e.Type == moji.EventTaskFailed && e.TaskID == id {
				return e.Error
			}
		case <-timeout:
			t.Fatalf("no task.failed event for %s", id)
		}
	}
}

// Failures of the task itself end it with a reason a person understands,
// and its photo goes.
func TestTaskFailures(t *testing.T) {
	tests := []struct {
		name     string
		photo    []byte
		prepare  func(t *testing.T, f *fixture, tk *moji.Task)
		wantCode string
	}{
		{name: "photo that will not decode", photo: []byte("\xff\xd8\xff not really a JPEG"), wantCode: "bad_photo"},
		{name: "template deleted after submission", photo: []byte("x"), wantCode: "template_gone",
			prepare: func(t *testing.T, f *fixture, tk *moji.Task) {
				if _, err := f.db.DeleteTemplate(context.Background(), f.tmpl.ID, f.tmpl.CreatorID); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tk := f.task(t, tt.photo)
			if tt.prepare != nil {
				tt.prepare(t, f, tk)
			}
			if err := f.r.Process(context.Background(), tk.ID); err != nil {
				t.Fatalf("Process: got %v, want nil (the task failed, the worker did not)", err)
			}
			e := f.failed(t, tk.ID)
			got, err := f.db.Task(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != moji.TaskFailed || got.Error == nil || got.Error.Code != tt.wantCode || got.Error.Message == "" {
				t.Fatalf("task: got %s %+v, want failed with %s and a message", got.State, got.Error, tt.wantCode)
			}
			if e.Code != tt.wantCode {
				t.Errorf("event: got code %s, want %s", e.Code, tt.wantCode)
			}
			if got.PhotoKey != "" {
				t.Errorf("photo key after failure: got %q, want it cleared", got.PhotoKey)
			}
			if _, _, err := f.blobs.Open(context.Background(), tk.PhotoKey); moji.ErrorCode(err) != moji.ENOTFOUND {
				t.Errorf("photo after failure: got %v, want it deleted", err)
			}
		})
	}
}

// A task whose workers keep dying is given up after MaxAttempts claims,
// and its watchers are told.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.db.Now = func() time.Time { return now }
	tk := f.task(t, []byte("x"))
	for i := range 3 { // three workers claim it and die
		if _, ok, err := f.db.ClaimTask(context.Background(), tk.ID, randomHex(8), time.Minute, 3); err != nil || !ok {
			t.Fatalf("claim %d: got ok=%v err=%v, want a claim", i+1, ok, err)
		}
		now = now.Add(2 * time.Minute) // the lease lapses
	}
	if err := f.r.Process(context.Background(), tk.ID); err != nil {
		t.Fatalf("Process: got %v, want nil", err)
	}
	e := f.failed(t, tk.ID)
	if e.Code != store.GaveUpCode {
		t.Errorf("event: got %+v, want code %s", e, store.GaveUpCode)
	}
	got, _ := f.db.Task(context.Background(), tk.ID)
	if got.State != moji.TaskFailed || got.Attempts != 3 {
		t.Errorf("task: got %s after %d attempts, want failed after 3", got.State, got.Attempts)
	}
}

// A panic in the pipeline (here: the fixture has none, so a decodable
// photo reaches a nil one) does not end the process: the task is handed
// back with the attempt counted, so that a photo that always sets it off
// ends as gave_up.
func TestPipelinePanicIsAFaultOfOurs(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)))
	tk := f.task(t, buf.Bytes())
	err := f.r.Process(context.Background(), tk.ID)
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("Process: got %v, want the panic as an error", err)
	}
	if got, _ := f.db.Task(context.Background(), tk.ID); got.State != moji.TaskQueued || got.Attempts != 1 {
		t.Errorf("task: got %s after %d attempts, want queued again after 1", got.State, got.Attempts)
	}
}

// A duplicate delivery of a finished task is settled without work.
// A task that could not be claimed because the worker is stopping (or the
// database is away) goes back on the queue: its entry is acknowledged
// either way.
func TestUnclaimedTaskIsQueuedAgain(t *testing.T) {
	f := newFixture(t)
	tk := f.task(t, []byte("not even a photo"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.r.Process(ctx, tk.ID); err == nil {
		t.Fatal("Process while stopping: got nil, want an error")
	}
	if n, _ := f.r.queue.Len(context.Background()); n != 1 {
		t.Fatalf("queue: got %d entries, want the task back", n)
	}
	d, err := f.r.queue.Receive(context.Background(), "w")
	if err != nil || d.TaskID != tk.ID {
		t.Errorf("queue: got %+v, %v; want %s", d, err, tk.ID)
	}
	if got, _ := f.db.Task(context.Background(), tk.ID); got.State != moji.TaskQueued || got.Attempts != 0 {
		t.Errorf("task: got %s after %d attempts, want queued, untouched", got.State, got.Attempts)
	}
}

func TestDuplicateDeliveryOfFinishedTask(t *testing.T) {
	f := newFixture(t)
	tk := f.task(t, []byte("x"))
	lease := randomHex(8)
	if _, ok, err := f.db.ClaimTask(context.Background(), tk.ID, lease, time.Minute, 3); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := f.db.FinishTask(context.Background(), tk.ID, lease, &moji.Result{ImageKey: "results/" + tk.ID + ".jpg", Width: 1, Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Process(context.Background(), tk.ID); err != nil {
		t.Fatalf("Process of a done task: got %v, want nil", err)
	}
	got, _ := f.db.Task(context.Background(), tk.ID)
	if got.State != moji.TaskDone || got.Attempts != 1 {
		t.Errorf("task: got %s after %d attempts, want still done after 1", got.State, got.Attempts)
	}
	if err := f.r.Process(context.Background(), randomHex(16)); err != nil {
		t.Errorf("Process of an unknown task: got %v, want nil (deleted meanwhile)", err)
	}
}

// Recording a result goes on through a short outage, and stops at once on
// a lost lease or when the time is spent.
func TestRetrying(t *testing.T) {
	outage := fmt.Errorf("store: finish task: %w", syscall.ECONNREFUSED)
	fault := errors.New("store: finish task: constraint failed")
	for _, tt := range []struct {
		name      string
		fails     int   // failures before success
		err       error // the failure
		within    time.Duration
		wantTries int
		wantErr   error
	}{
		{"succeeds first time", 0, outage, time.Second, 1, nil},
		{"short outage", 2, outage, 5 * time.Second, 3, nil},
		{"lease lost is final", 5, store.ErrLeaseLost, 5 * time.Second, 1, store.ErrLeaseLost},
		{"a fault of the query is final", 5, fault, 5 * time.Second, 1, fault},
		{"outage outlasts the time", 100, outage, 1100 * time.Millisecond, 3, outage}, // tries at 0, 0.2, 0.6 s; the next would be at 1.4
	} {
		t.Run(tt.name, func(t *testing.T) {
			tries, notes := 0, 0
			err := retrying(context.Background(), tt.within, store.Unreachable, func() error {
				tries++
				if tries <= tt.fails {
					return tt.err
				}
				return nil
			}, func(error) { notes++ })
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
			if tries != tt.wantTries {
				t.Errorf("got %d tries, want %d", tries, tt.wantTries)
			}
			if notes != tries-1 && err == nil {
				t.Errorf("got %d notes, want %d", notes, tries-1)
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tries := 0
	if err := retrying(ctx, time.Minute, store.Unreachable, func() error { tries++; return outage }, func(error) {}); !errors.Is(err, outage) || tries != 1 {
		t.Errorf("cancelled: got %v after %d tries, want the outage after 1", err, tries)
	}
}

// A task deleted while it runs is stopped at once, not at its next
// heartbeat; other tasks go on.
func TestDeletionStopsWork(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := f.r.bus.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go f.r.watchDeletions(events)

	deleted, stopDeleted := context.WithCancelCause(context.Background())
	defer f.r.track("deleted", stopDeleted)()
	other, stopOther := context.WithCancelCause(context.Background())
	defer f.r.track("other", stopOther)()

	if err := f.r.bus.Publish(ctx, moji.Event{Type: moji.EventTaskDeleted, TaskID: "deleted"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-deleted.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the deleted task's work was not stopped")
	}
	if got := context.Cause(deleted); !errors.Is(got, store.ErrLeaseLost) || !errors.Is(got, errDeleted) {
		t.Errorf("cause: got %v, want errDeleted (a lost lease)", got)
	}
	if other.Err() != nil {
		t.Errorf("the other task: got %v, want it running", context.Cause(other))
	}
}

// The same task claimed again here (its lease lapsed) is tracked anew; the
// first claim's end does not untrack the second.
func TestTrackSameTaskTwice(t *testing.T) {
	f := newFixture(t)
	first, stopFirst := context.WithCancelCause(context.Background())
	defer stopFirst(nil)
	untrackFirst := f.r.track("t", stopFirst)
	second, stopSecond := context.WithCancelCause(context.Background())
	defer f.r.track("t", stopSecond)()
	untrackFirst()

	events := make(chan moji.Event, 1)
	events <- moji.Event{Type: moji.EventTaskDeleted, TaskID: "t"}
	close(events)
	f.r.watchDeletions(events)
	if second.Err() == nil {
		t.Error("second claim: got it running, want it stopped by the deletion")
	}
	if first.Err() != nil {
		t.Error("first claim, already ended: got it stopped again, want it left alone")
	}
}

// stalledBlobs never answers until its caller gives up.
type stalledBlobs struct{ moji.Blobs }

func (stalledBlobs) Put(ctx context.Context, _ string, _ []byte) error {
	<-ctx.Done()
	return ctx.Err()
}

// A storage call that stalls ends at its deadline instead of holding its
// task (whose heartbeat keeps the lease alive) for ever.
func TestStalledStorageTimesOut(t *testing.T) {
	b := timedBlobs{Blobs: stalledBlobs{}, call: 50 * time.Millisecond, rate: 1 << 20, read: time.Second}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := b.Put(ctx, "results/0123456789abcdef.jpg", make([]byte, 1<<19))
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("got %v after %v, want the call's own deadline to end it", err, time.Since(start))
	}
}

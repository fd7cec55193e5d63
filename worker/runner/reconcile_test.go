package runner

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/mem"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/redis"
	"github.com/igemoji/igemoji/shared/redis/redistest"
)

// queues returns the queue implementations, each new and empty.
func queues(t *testing.T) map[string]func(t *testing.T) moji.Queue {
	t.Helper()
	return map[string]func(t *testing.T) moji.Queue{
		"mem": func(*testing.T) moji.Queue { return mem.NewQueue() },
		"redis": func(t *testing.T) moji.Queue {
			rc, err := redis.Open(context.Background(), redistest.URL(t), redis.Options{Prefix: redistest.Prefix(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rc.Close() })
			return rc.Queue()
		},
	}
}

// queueCounts reads every entry of q (receiving them) and counts each task
// id's entries.
func queueCounts(t *testing.T, q moji.Queue) map[string]int {
	t.Helper()
	n, err := q.Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d, err := q.Receive(ctx, "counter")
		cancel()
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		counts[d.TaskID]++
	}
	return counts
}

// The reconciler enqueues again the queued tasks the queue lost, once
// each, even with several processes reconciling, and nothing the queue
// still holds: not the backlog, however the counts look (a task running
// past the queue's visibility timeout has no entry, which makes the queue
// look short).
func TestReconcilerEnqueuesOnlyLostTasks(t *testing.T) {
	for name, newQueue := range queues(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			q := newQueue(t)
			var held, lost []string
			for range 3 {
				tk := f.task(t, []byte("x"))
				held = append(held, tk.ID)
				if err := q.Enqueue(ctx, tk.ID); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				lost = append(lost, f.task(t, []byte("x")).ID) // never enqueued: lost
			}
			running := f.task(t, []byte("x")) // its entry acked while it runs
			if _, ok, err := f.db.ClaimTask(ctx, running.ID, "lease", time.Hour, 3); !ok || err != nil {
				t.Fatalf("claim: got %v, %v", ok, err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			recs := []*Reconciler{
				{Log: log, DB: f.db, Queue: q, Every: 10 * time.Second},
				{Log: log, DB: f.db, Queue: q, Every: 10 * time.Second}, // another process
			}

			// Too young to count as lost: nothing happens.
			for _, rec := range recs {
				if err := rec.Pass(ctx); err != nil {
					t.Fatalf("Pass: %v", err)
				}
			}
			if n, _ := q.Len(ctx); n != 3 {
				t.Fatalf("after passes over young tasks: got %d entries, want 3", n)
			}

			later := time.Now().Add(time.Minute)
			f.db.Now = func() time.Time { return later }
			for _, rec := range recs {
				if err := rec.Pass(ctx); err != nil {
					t.Fatalf("Pass: %v", err)
				}
			}
			want := map[string]int{}
			for _, id := range append(held, lost...) {
				want[id] = 1
			}
			if got := queueCounts(t, q); !maps.Equal(got, want) {
				t.Errorf("entries per task: got %v, want %v (held %v, lost %v)", got, want, held, lost)
			}
		})
	}
}

// A lost task behind a backlog longer than one page of queued tasks is
// found: the pass pages past the tasks the queue holds.
func TestReconcilerFindsALostTaskBehindTheBacklog(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	q := mem.NewQueue()
	for range 7 {
		tk := f.task(t, []byte("x"))
		if err := q.Enqueue(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	lost := f.task(t, []byte("x")) // the youngest, never enqueued
	later := time.Now().Add(time.Minute)
	f.db.Now = func() time.Time { return later }
	rec := &Reconciler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: f.db, Queue: q, Every: 10 * time.Second, Page: 3}
	if err := rec.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queueCounts(t, q)[lost.ID]; got != 1 {
		t.Errorf("the lost task's entries after one pass: got %d, want 1", got)
	}
}

// TaskIDs lists the tasks of the entries waiting and received, not those
// acknowledged, and says when there are more than asked for.
func TestQueueTaskIDs(t *testing.T) {
	for name, newQueue := range queues(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			q := newQueue(t)
			for _, id := range []string{"a", "b", "c", "b"} {
				if err := q.Enqueue(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			d, err := q.Receive(ctx, "w") // a: received, not acknowledged
			if err != nil {
				t.Fatal(err)
			}
			d2, err := q.Receive(ctx, "w") // b: acknowledged, but b is queued twice
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Ack(ctx, d2); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				limit        int
				want         []string
				wantComplete bool
			}{
				{10, []string{"a", "b", "c"}, true},
				{3, []string{"a", "b", "c"}, true},
				{0, nil, false},
			}
			for _, tt := range tests {
				ids, complete, err := q.TaskIDs(ctx, tt.limit)
				if err != nil {
					t.Fatalf("TaskIDs(%d): %v", tt.limit, err)
				}
				if complete != tt.wantComplete || (complete && !slices.Equal(slices.Sorted(maps.Keys(ids)), tt.want)) {
					t.Errorf("TaskIDs(%d): got %v, %v; want %v, %v", tt.limit, ids, complete, tt.want, tt.wantComplete)
				}
			}
			if err := q.Ack(ctx, d); err != nil {
				t.Fatal(err)
			}
			ids, complete, err := q.TaskIDs(ctx, 2)
			if got := slices.Sorted(maps.Keys(ids)); err != nil || !complete || !slices.Equal(got, []string{"b", "c"}) {
				t.Errorf("after acknowledging a: got %v, %v, %v; want [b c], true", got, complete, err)
			}
		})
	}
}

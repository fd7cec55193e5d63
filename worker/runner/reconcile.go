package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

// Reconciler makes the queue agree with the database, which is the truth:
// tasks whose worker stopped renewing its lease go back to queued, and
// queued tasks the queue has lost (a broker restarted empty, a process
// with an in-memory queue restarted) are enqueued again. Any number of
// processes may run one: a duplicate entry costs a look-up in ClaimTask.
type Reconciler struct {
	Log   *slog.Logger
	DB    *store.DB
	Queue moji.Queue
	// Every is the period between passes (default 10 s); a task the queue
	// lost waits at most about this long.
	Every time.Duration
	// Age is how long a queued task must have sat since it was last
	// enqueued before it counts as lost (default Every).
	Age time.Duration
	// Page is how many queued tasks one read looks at (default 1000).
	Page int
}

// Run reconciles once at once, then every period, until ctx ends.
func (c *Reconciler) Run(ctx context.Context) error {
	every := c.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := c.Pass(ctx); err != nil && ctx.Err() == nil {
			c.Log.Warn("reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Pass runs one reconciliation.
func (c *Reconciler) Pass(ctx context.Context) error {
	age := c.Age
	if age <= 0 {
		age = c.Every
	}
	if age <= 0 {
		age = 10 * time.Second
	}
	stalled, err := c.DB.RequeueStalled(ctx, 500)
	if err != nil {
		return err
	}
	for _, id := range stalled {
		c.Log.Warn("task stalled (its worker stopped); queued again", "task", id)
		if err := c.Queue.Enqueue(ctx, id); err != nil {
			return err
		}
	}
	// The queue's length counts entries waiting and entries being worked
	// on: only when it is below the database's queued and running tasks
	// may it have lost some. The counts are only a hint (three reads, a
	// task running past the queue's visibility timeout has no entry):
	// what is enqueued again is each queued task the queue does not hold.
	queued, err := c.DB.CountTasks(ctx, moji.TaskQueued)
	if err != nil {
		return err
	}
	running, err := c.DB.CountTasks(ctx, moji.TaskRunning)
	if err != nil {
		return err
	}
	n, err := c.Queue.Len(ctx)
	if err != nil {
		return err
	}
	if n >= int64(queued+running) {
		return nil
	}
	// The queue first: a task enqueued after this read is younger than age.
	held, complete, err := c.Queue.TaskIDs(ctx, maxScan)
	if err != nil {
		return err
	}
	if !complete {
		c.Log.Warn("reconcile: the queue is too long to look for lost tasks", "entries", n, "max", maxScan)
		return nil
	}
	// Page past the tasks the queue holds, however long the backlog ahead
	// of a lost one (at most maxScan of them, as above).
	cutoff := c.DB.Now().Add(-age)
	page := c.Page
	if page <= 0 {
		page = 1000
	}
	var after store.QueuedCursor
	lost := 0
	defer func() {
		if lost > 0 {
			c.Log.Info("queued tasks missing from the queue enqueued again", "count", lost)
		}
	}()
	for read := 0; read < maxScan && lost < maxLost; {
		ids, next, err := c.DB.QueuedTasksAfter(ctx, cutoff, after, page)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if held[id] {
				continue
			}
			// Marked first, so that another process's reconciler leaves it.
			ok, err := c.DB.MarkEnqueued(ctx, id, cutoff)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := c.Queue.Enqueue(ctx, id); err != nil {
				return err
			}
			lost++
		}
		if len(ids) < page {
			return nil
		}
		read, after = read+len(ids), next
	}
	return nil
}

// maxLost bounds the tasks one pass enqueues again; the next pass goes on.
const maxLost = 1000

// maxScan bounds the queue entries a pass reads to find lost tasks.
const maxScan = 100_000

// Package mem is the embedded transport: an in-process task queue and event
// bus for a single `igemoji serve` with its own workers. Nothing here
// survives a restart; the database is the truth, and the reconciler puts
// its queued tasks back on the queue when the process starts.
package mem

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/igemoji/igemoji/shared/moji"
)

// Queue is an unbounded FIFO of task ids. The zero value is not usable;
// call NewQueue.
type Queue struct {
	mu      sync.Mutex
	items   []moji.Delivery
	pending map[string]int // task ids received, not yet acknowledged
	npend   int
	seq     int64
	ready   chan struct{} // closed and replaced when items arrive
}

var _ moji.Queue = (*Queue)(nil)

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{ready: make(chan struct{}), pending: map[string]int{}} }

// Enqueue adds a task id and wakes a waiting receiver.
func (q *Queue) Enqueue(_ context.Context, taskID string) error {
	q.mu.Lock()
	q.seq++
	q.items = append(q.items, moji.Delivery{TaskID: taskID, ID: strconv.FormatInt(q.seq, 10), Deliveries: 1})
	close(q.ready)
	q.ready = make(chan struct{})
	q.mu.Unlock()
	return nil
}

// Receive takes the oldest task id, waiting for one until ctx ends.
func (q *Queue) Receive(ctx context.Context, _ string) (moji.Delivery, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			d := q.items[0]
			q.items[0] = moji.Delivery{}
			q.items = q.items[1:]
			q.pending[d.TaskID]++
			q.npend++
			q.mu.Unlock()
			return d, nil
		}
		ready := q.ready
		q.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return moji.Delivery{}, ctx.Err()
		}
	}
}

// Ack forgets a received entry. In one process a worker that fails to ack
// has died with the queue, so nothing is redelivered.
func (q *Queue) Ack(_ context.Context, d moji.Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, ok := q.pending[d.TaskID]
	if !ok {
		return nil // not received, or acknowledged already
	}
	if n > 1 {
		q.pending[d.TaskID] = n - 1
	} else {
		delete(q.pending, d.TaskID)
	}
	q.npend--
	return nil
}

// Len counts entries waiting or being worked on.
func (q *Queue) Len(context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.items) + q.npend), nil
}

// TaskIDs returns the task ids waiting or being worked on.
func (q *Queue) TaskIDs(_ context.Context, limit int) (map[string]bool, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids := map[string]bool{}
	for id := range q.pending {
		ids[id] = true
	}
	for _, d := range q.items {
		ids[d.TaskID] = true
	}
	return ids, len(q.items)+q.npend <= limit, nil
}

// Bus fans events out to subscribers. A subscriber that falls behind by
// more than its buffer loses events rather than slowing the publisher:
// clients can always poll.
type Bus struct {
	mu   sync.Mutex
	subs map[chan moji.Event][]string // the types asked for; nil: all
	buf  int
}

var _ moji.Bus = (*Bus)(nil)

// NewBus returns a bus whose subscribers each buffer up to buf events.
func NewBus(buf int) *Bus {
	if buf <= 0 {
		buf = 256
	}
	return &Bus{subs: map[chan moji.Event][]string{}, buf: buf}
}

// Publish hands e to every subscriber that has room; it never blocks.
func (b *Bus) Publish(_ context.Context, e moji.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch, types := range b.subs {
		if types != nil && !slices.Contains(types, e.Type) {
			continue
		}
		select {
		case ch <- e:
		default:
		}
	}
	return nil
}

// Subscribe returns the events of the given types (all when none is
// given) published from now on until ctx ends.
func (b *Bus) Subscribe(ctx context.Context, types ...string) (<-chan moji.Event, error) {
	ch := make(chan moji.Event, b.buf)
	b.mu.Lock()
	if len(types) == 0 {
		types = nil // every type
	}
	b.subs[ch] = slices.Clone(types)
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		close(ch)
		b.mu.Unlock()
	})
	return ch, nil
}

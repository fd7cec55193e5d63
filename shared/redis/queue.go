package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/igemoji/igemoji/shared/moji"
)

// maxReclaimScans bounds the XAUTOCLAIM calls of one Receive. Each call
// looks at up to 10 pending entries (COUNT 1 × Redis' scan factor 10);
// the pending list holds about one entry per busy worker, so 64 calls
// cover far more workers than a deployment has.
const maxReclaimScans = 64

// unblockEvery is how often a cancelled Receive repeats CLIENT UNBLOCK, in
// case the first one reached Redis before XREADGROUP did.
const unblockEvery = 50 * time.Millisecond

// queue is the moji.Queue of a Client.
type queue struct{ c *Client }

var _ moji.Queue = queue{}

// Enqueue appends {task: taskID} to the stream.
func (q queue) Enqueue(ctx context.Context, taskID string) error {
	err := q.c.rdb.XAdd(ctx, &goredis.XAddArgs{
		Stream: q.c.stream,
		Values: []any{"task", taskID},
	}).Err()
	if err != nil {
		return fmt.Errorf("redis: enqueue %s: %w", taskID, ctxErr(ctx, err))
	}
	return nil
}

// Ack acknowledges and deletes the entry, so that it is neither
// redelivered nor counted by Len. Acking an entry that is already gone
// (acked by a slow first consumer, lost in a Redis restart) is no error.
func (q queue) Ack(ctx context.Context, d moji.Delivery) error {
	pipe := q.c.rdb.TxPipeline()
	pipe.XAck(ctx, q.c.stream, Group, d.ID)
	pipe.XDel(ctx, q.c.stream, d.ID)
	if _, err := pipe.Exec(ctx); err != nil && !goredis.HasErrorPrefix(err, "NOGROUP") {
		return fmt.Errorf("redis: ack %s: %w", d.TaskID, ctxErr(ctx, err))
	}
	return nil
}

// Len is the stream's length: entries waiting or received and not yet
// acknowledged (acknowledged ones are deleted).
func (q queue) Len(ctx context.Context) (int64, error) {
	n, err := q.c.rdb.XLen(ctx, q.c.stream).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: queue length: %w", ctxErr(ctx, err))
	}
	return n, nil
}

// taskIDsPage is how many entries one XRANGE of TaskIDs reads.
const taskIDsPage = 1000

// TaskIDs reads the stream's entries (acknowledged ones are deleted) page
// by page, oldest first.
func (q queue) TaskIDs(ctx context.Context, limit int) (map[string]bool, bool, error) {
	ids := map[string]bool{}
	start, seen := "-", 0
	for {
		// One entry past the limit tells that there are more.
		n := min(taskIDsPage, max(limit, 0)+1-seen)
		page, err := q.c.rdb.XRangeN(ctx, q.c.stream, start, "+", int64(n)).Result()
		if err != nil {
			return nil, false, fmt.Errorf("redis: queue entries: %w", ctxErr(ctx, err))
		}
		for _, m := range page {
			if seen++; seen > limit {
				return ids, false, nil
			}
			if task, _ := m.Values["task"].(string); task != "" {
				ids[task] = true
			}
			start = "(" + m.ID // the next page starts after this entry
		}
		if len(page) < n {
			return ids, true, nil
		}
	}
}

// Receive hands out the next entry for consumer: first one that another
// consumer has held unacknowledged for longer than Visibility, else a new
// one, waiting until one arrives or ctx ends (then it returns ctx.Err()).
//
// Deliveries is 1 for a new entry; for a reclaimed one it is Redis' own
// delivery count (XPENDING), this delivery included. An entry about to be
// delivered more than MaxDeliveries times goes to the dead-letter stream
// <prefix>tasks:dead instead, and Receive goes on waiting.
//
// Once ctx has ended, the error is ctx.Err() itself; an entry that arrived
// just as ctx ended may still be returned, with a nil error. Any other
// error (Redis down or restarting) is wrapped and returned: the caller
// backs off and calls again, and the next call takes a new connection.
// Each Receive holds one pooled connection while it waits.
func (q queue) Receive(ctx context.Context, consumer string) (moji.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return moji.Delivery{}, err
	}
	// One connection for the whole call, so that CLIENT UNBLOCK can cut
	// its blocking XREADGROUP short when ctx ends: go-redis itself only
	// honours deadlines, and only by breaking the connection.
	conn := q.c.rdb.Conn()
	defer conn.Close()
	if ctx.Done() != nil { // a ctx that can end
		id, err := conn.ClientID(ctx).Result()
		if err != nil {
			return moji.Delivery{}, q.fail(ctx, err)
		}
		finished := make(chan struct{})
		unblocked := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(unblocked)
			q.unblock(id, finished)
		})
		defer func() {
			close(finished)
			if !stop() {
				<-unblocked // never hand the connection back while it is being unblocked
			}
		}()
	}

	regrouped := false
	for {
		if err := ctx.Err(); err != nil {
			return moji.Delivery{}, err
		}
		d, ok, err := q.reclaim(ctx, conn, consumer)
		if err == nil && !ok {
			d, ok, err = q.read(ctx, conn, consumer)
		}
		switch {
		case err != nil && !regrouped && lostGroup(err):
			// Redis lost the stream (restart) or someone deleted it: make
			// it again and carry on; the reconciler re-enqueues the ids.
			if err := q.c.ensureGroup(ctx, conn); err != nil {
				return moji.Delivery{}, q.fail(ctx, err)
			}
			regrouped = true
		case err != nil:
			return moji.Delivery{}, q.fail(ctx, err)
		case ok:
			return d, nil
		default:
			regrouped = false // a clean round: a later loss may regroup again
		}
	}
}

// fail is Receive's error: ctx's own, unwrapped like mem.Queue's, once ctx
// has ended; else what went wrong.
func (q queue) fail(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("redis: receive: %w", err)
}

// unblock wakes the connection id from its XREADGROUP until finished is
// closed. It repeats because the first CLIENT UNBLOCK may arrive while the
// connection runs XAUTOCLAIM, just before it blocks.
func (q queue) unblock(id int64, finished <-chan struct{}) {
	t := time.NewTicker(unblockEvery)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		q.c.rdb.ClientUnblock(ctx, id)
		cancel()
		select {
		case <-finished:
			return
		case <-t.C:
		}
	}
}

// reclaim claims for consumer the oldest entry idle for longer than
// Visibility, dead-lettering those delivered too often.
func (q queue) reclaim(ctx context.Context, conn *goredis.Conn, consumer string) (moji.Delivery, bool, error) {
	start := "0-0"
	for range maxReclaimScans {
		// COUNT 1: a claimed entry is ours until Visibility passes again,
		// so never claim more than this call returns.
		msgs, next, err := conn.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
			Stream:   q.c.stream,
			Group:    Group,
			MinIdle:  q.c.opt.Visibility,
			Start:    start,
			Count:    1,
			Consumer: consumer,
		}).Result()
		if err != nil {
			return moji.Delivery{}, false, err
		}
		for _, m := range msgs {
			// XAUTOCLAIM has counted this delivery; read the count back.
			p, err := conn.XPendingExt(ctx, &goredis.XPendingExtArgs{
				Stream: q.c.stream,
				Group:  Group,
				Start:  m.ID,
				End:    m.ID,
				Count:  1,
			}).Result()
			if err != nil {
				return moji.Delivery{}, false, err
			}
			if len(p) == 0 {
				continue // the slow first consumer acked it meanwhile
			}
			d, ok, err := q.deliver(ctx, conn, consumer, m, int(p[0].RetryCount))
			if err != nil || ok {
				return d, ok, err
			}
		}
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	return moji.Delivery{}, false, nil
}

// read waits up to Block for a new entry.
func (q queue) read(ctx context.Context, conn *goredis.Conn, consumer string) (moji.Delivery, bool, error) {
	// Without cancel: ending ctx must unblock the read (CLIENT UNBLOCK),
	// not time out the socket, which would cost the connection.
	res, err := conn.XReadGroup(context.WithoutCancel(ctx), &goredis.XReadGroupArgs{
		Group:    Group,
		Consumer: consumer,
		Streams:  []string{q.c.stream, ">"},
		Count:    1,
		Block:    q.c.opt.Block,
	}).Result()
	if errors.Is(err, goredis.Nil) {
		return moji.Delivery{}, false, nil
	}
	if err != nil {
		return moji.Delivery{}, false, err
	}
	for _, s := range res {
		for _, m := range s.Messages {
			return q.deliver(ctx, conn, consumer, m, 1)
		}
	}
	return moji.Delivery{}, false, nil
}

// deliver turns entry m, now held by consumer for the n-th time, into a
// Delivery, or dead-letters it when n exceeds MaxDeliveries or m carries no
// task id.
func (q queue) deliver(ctx context.Context, conn *goredis.Conn, consumer string, m goredis.XMessage, n int) (moji.Delivery, bool, error) {
	task, _ := m.Values["task"].(string)
	var reason string
	switch {
	case task == "":
		reason = "entry has no task field"
	case n > q.c.opt.MaxDeliveries:
		reason = fmt.Sprintf("delivered %d times without acknowledgement", n)
	default:
		return moji.Delivery{TaskID: task, ID: m.ID, Deliveries: n}, true, nil
	}
	// One transaction, so the entry is never both dead and alive, nor lost.
	pipe := conn.TxPipeline()
	pipe.XAdd(ctx, &goredis.XAddArgs{
		Stream: q.c.dead,
		MaxLen: deadMaxLen,
		Approx: true,
		Values: []any{"task", task, "reason", reason, "consumer", consumer, "entry", m.ID},
	})
	pipe.XAck(ctx, q.c.stream, Group, m.ID)
	pipe.XDel(ctx, q.c.stream, m.ID)
	if _, err := pipe.Exec(ctx); err != nil {
		return moji.Delivery{}, false, err
	}
	q.c.log.Warn("task entry dead-lettered", "task", task, "entry", m.ID, "reason", reason, "consumer", consumer)
	return moji.Delivery{}, false, nil
}

// ensureGroup creates the stream and its consumer group if either is
// missing. The group starts at 0, not $: entries added after a Redis
// restart but before the group came back (XADD creates a bare stream) must
// still be delivered.
func (c *Client) ensureGroup(ctx context.Context, r interface {
	XGroupCreateMkStream(ctx context.Context, stream, group, start string) *goredis.StatusCmd
}) error {
	err := r.XGroupCreateMkStream(ctx, c.stream, Group, "0").Err()
	if err != nil && !goredis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	return nil
}

// dropIdle removes consumer ARGV[2] from group ARGV[1] of stream KEYS[1]
// if it holds no entry, in one step: deleting a consumer drops what it
// holds from the group's pending list.
var dropIdle = goredis.NewScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// pruneConsumers forgets consumers that hold nothing and have not read for
// longer than Visibility: the names of worker processes gone (each process
// names its own, so every restart would add some). A live consumer removed
// that way is made again by its next read.
func (c *Client) pruneConsumers(ctx context.Context) (int, error) {
	cs, err := c.rdb.XInfoConsumers(ctx, c.stream, Group).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range cs {
		if x.Pending > 0 || x.Idle <= c.opt.Visibility {
			continue
		}
		dropped, err := dropIdle.Run(ctx, c.rdb, []string{c.stream}, Group, x.Name).Int()
		if err != nil {
			return n, err
		}
		n += dropped
	}
	return n, nil
}

// lostGroup reports whether err says the stream or its group is gone.
func lostGroup(err error) bool {
	// UNBLOCKED: Redis 7.2+ wakes a blocked XREADGROUP with it when the
	// stream is deleted under it.
	return goredis.HasErrorPrefix(err, "NOGROUP") || goredis.HasErrorPrefix(err, "UNBLOCKED")
}

package redis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/igemoji/igemoji/shared/bustest"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/redis"
	"github.com/igemoji/igemoji/shared/redis/redistest"
)

// open connects a Client to url, closed at cleanup.
func open(t *testing.T, url string, opt redis.Options) *redis.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := redis.Open(ctx, url, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// shared opens a Client on the shared test Redis under a fresh prefix.
func shared(t *testing.T, opt redis.Options) (*redis.Client, redis.Options) {
	t.Helper()
	url := redistest.URL(t)
	if opt.Prefix == "" {
		opt.Prefix = redistest.Prefix(t)
	}
	return open(t, url, opt), opt
}

func timeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func enqueue(t *testing.T, q moji.Queue, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := q.Enqueue(timeout(t, 2*time.Second), id); err != nil {
			t.Fatalf("Enqueue(%s): %v", id, err)
		}
	}
}

func receive(t *testing.T, q moji.Queue, consumer string, d time.Duration) moji.Delivery {
	t.Helper()
	got, err := q.Receive(timeout(t, d), consumer)
	if err != nil {
		t.Fatalf("Receive(%s): %v", consumer, err)
	}
	return got
}

func ack(t *testing.T, q moji.Queue, d moji.Delivery) {
	t.Helper()
	if err := q.Ack(timeout(t, 2*time.Second), d); err != nil {
		t.Fatalf("Ack(%s): %v", d.TaskID, err)
	}
}

func wantLen(t *testing.T, q moji.Queue, want int64) {
	t.Helper()
	got, err := q.Len(timeout(t, 2*time.Second))
	if err != nil {
		t.Fatalf("Len: %v", err)
	}
	if got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"bad scheme", "http://127.0.0.1:6379/0"},
		{"bad db", "redis://u:s3cret@127.0.0.1:6379/x"},
		{"nobody listening", "redis://u:s3cret@127.0.0.1:1/0?max_retries=-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := redis.Open(timeout(t, 3*time.Second), tc.url, redis.Options{})
			if err == nil {
				c.Close()
				t.Fatalf("Open(%q): got nil error, want one", tc.url)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// go-redis' own complaints go to our logger, in its format.
func TestClientLogsThroughSlog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	c, err := redis.Open(timeout(t, 3*time.Second), "redis://127.0.0.1:1/0", redis.Options{Logger: log})
	if err == nil {
		c.Close()
		t.Fatal("Open: got nil error, want one")
	}
	out := buf.String()
	if !strings.Contains(out, "redis client: ") {
		t.Fatalf("log: got %q, want go-redis' dial failures in it", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line %q is not JSON", line)
		}
	}
}

// syncBuffer is a bytes.Buffer for writers on several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestQueueEnqueueReceiveAck(t *testing.T) {
	c, _ := shared(t, redis.Options{Block: 100 * time.Millisecond})
	q := c.Queue()
	wantLen(t, q, 0)
	enqueue(t, q, "a", "b", "c")
	wantLen(t, q, 3)

	for i, want := range []string{"a", "b", "c"} {
		d := receive(t, q, "w1", 2*time.Second)
		if d.TaskID != want {
			t.Errorf("receive %d: got task %q, want %q", i, d.TaskID, want)
		}
		if d.Deliveries != 1 {
			t.Errorf("receive %d: got Deliveries %d, want 1", i, d.Deliveries)
		}
		if d.ID == "" {
			t.Errorf("receive %d: got empty ID", i)
		}
		// Received but unacknowledged entries still count.
		wantLen(t, q, 3-int64(i))
		ack(t, q, d)
		wantLen(t, q, 2-int64(i))
	}
	// A ctx that never ends takes a shorter path (no CLIENT UNBLOCK).
	enqueue(t, q, "d")
	d, err := q.Receive(context.Background(), "w1")
	if err != nil || d.TaskID != "d" {
		t.Errorf("Receive(Background): got %+v, %v; want task d", d, err)
	}
	ack(t, q, d)
	// Acking twice is harmless.
	ack(t, q, moji.Delivery{TaskID: "a", ID: "1-1"})

	// Nothing left: Receive waits for ctx.
	_, err = q.Receive(timeout(t, 300*time.Millisecond), "w1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive on empty queue: got %v, want %v", err, context.DeadlineExceeded)
	}
}

func TestQueueReceiveWakesOnEnqueue(t *testing.T) {
	c, _ := shared(t, redis.Options{Block: 5 * time.Second})
	q := c.Queue()
	got := make(chan moji.Delivery, 1)
	go func() {
		d, err := q.Receive(timeout(t, 5*time.Second), "w1")
		if err != nil {
			t.Errorf("Receive: %v", err)
		}
		got <- d
	}()
	time.Sleep(100 * time.Millisecond) // let it block
	start := time.Now()
	enqueue(t, q, "late")
	d := <-got
	if d.TaskID != "late" {
		t.Errorf("got task %q, want %q", d.TaskID, "late")
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Receive woke after %v, want well under the 5s block", el)
	}
}

func TestQueueConsumersShareWork(t *testing.T) {
	c1, opt := shared(t, redis.Options{Block: 100 * time.Millisecond})
	c2 := open(t, redistest.URL(t), opt) // another process
	const n = 40
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "t" + strconv.Itoa(i)
	}
	enqueue(t, c1.Queue(), ids...)

	var mu sync.Mutex
	seen := map[string]string{} // task → consumer
	perConsumer := map[string]int{}
	var wg sync.WaitGroup
	ctx := timeout(t, 10*time.Second)
	for _, w := range []struct {
		name string
		q    moji.Queue
	}{{"alice", c1.Queue()}, {"bob", c2.Queue()}} {
		wg.Go(func() {
			for {
				mu.Lock()
				done := len(seen) == n
				mu.Unlock()
				if done {
					return
				}
				rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				d, err := w.q.Receive(rctx, w.name)
				cancel()
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
					continue
				}
				if err != nil {
					t.Errorf("%s: Receive: %v", w.name, err)
					return
				}
				mu.Lock()
				if other, dup := seen[d.TaskID]; dup {
					t.Errorf("task %s delivered to %s and %s", d.TaskID, other, w.name)
				}
				seen[d.TaskID] = w.name
				perConsumer[w.name]++
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // "work", so that both get some
				if err := w.q.Ack(ctx, d); err != nil {
					t.Errorf("%s: Ack: %v", w.name, err)
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("got %d distinct tasks, want %d", len(seen), n)
	}
	for _, name := range []string{"alice", "bob"} {
		if perConsumer[name] == 0 {
			t.Errorf("%s got no task (%v), want a share", name, perConsumer)
		}
	}
	wantLen(t, c1.Queue(), 0)
}

// Each worker process reads under names of its own: those of processes
// gone that hold nothing are forgotten when a client opens; one that still
// holds an entry stays, so that the entry can be reclaimed.
func TestOpenForgetsIdleConsumers(t *testing.T) {
	const vis = 200 * time.Millisecond
	c, opt := shared(t, redis.Options{Visibility: vis, Block: 50 * time.Millisecond})
	q := c.Queue()
	enqueue(t, q, "a")
	enqueue(t, q, "b")
	receive(t, q, "gone-holding", time.Second)
	ack(t, q, receive(t, q, "gone-empty", time.Second))
	time.Sleep(2 * vis)

	var buf syncBuffer
	withLog := opt
	withLog.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	open(t, redistest.URL(t), withLog)
	if !strings.Contains(buf.String(), `"consumers":1`) {
		t.Errorf("log: got %q, want one consumer forgotten", buf.String())
	}
	rdb := goredis.NewClient(mustParse(t, redistest.URL(t)))
	defer rdb.Close()
	cs, err := rdb.XInfoConsumers(timeout(t, time.Second), opt.Prefix+"tasks", redis.Group).Result()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range cs {
		names = append(names, x.Name)
	}
	if want := []string{"gone-holding"}; !reflect.DeepEqual(names, want) {
		t.Errorf("consumers after a new client opened: got %v, want %v", names, want)
	}
}

func TestQueueReclaimsFromDeadConsumer(t *testing.T) {
	const vis = 200 * time.Millisecond
	c, _ := shared(t, redis.Options{Visibility: vis, Block: 50 * time.Millisecond})
	q := c.Queue()
	enqueue(t, q, "orphan")
	first := receive(t, q, "dead", time.Second)
	start := time.Now()

	// Before Visibility passes, nobody else gets it.
	_, err := q.Receive(timeout(t, vis/2), "alive")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive before visibility: got %v, want %v", err, context.DeadlineExceeded)
	}

	d := receive(t, q, "alive", 3*time.Second)
	if el := time.Since(start); el < vis {
		t.Errorf("reclaimed after %v, want at least %v", el, vis)
	}
	if d.TaskID != "orphan" || d.ID != first.ID {
		t.Errorf("got %+v, want task orphan with ID %s", d, first.ID)
	}
	if d.Deliveries != 2 {
		t.Errorf("got Deliveries %d, want 2", d.Deliveries)
	}
	ack(t, q, d)
	wantLen(t, q, 0)
}

func TestQueueDeadLetters(t *testing.T) {
	const vis = 100 * time.Millisecond
	c, opt := shared(t, redis.Options{Visibility: vis, Block: 50 * time.Millisecond, MaxDeliveries: 2})
	q := c.Queue()
	enqueue(t, q, "poison", "fine")

	// Two deliveries, never acknowledged.
	for want := 1; want <= 2; want++ {
		d := receive(t, q, "crashy", 2*time.Second)
		if d.TaskID == "fine" {
			ack(t, q, d)
			d = receive(t, q, "crashy", 2*time.Second)
		}
		if d.TaskID != "poison" || d.Deliveries != want {
			t.Fatalf("delivery %d: got %+v, want task poison, Deliveries %d", want, d, want)
		}
	}
	// The third would exceed MaxDeliveries: it is dead-lettered, not returned.
	time.Sleep(vis)
	if d, err := q.Receive(timeout(t, 3*vis), "crashy"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third Receive: got %+v, %v; want %v", d, err, context.DeadlineExceeded)
	}
	wantLen(t, q, 0)

	rdb := goredis.NewClient(mustParse(t, redistest.URL(t)))
	defer rdb.Close()
	dead, err := rdb.XRange(timeout(t, 2*time.Second), opt.Prefix+"tasks:dead", "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE dead: %v", err)
	}
	if len(dead) != 1 {
		t.Fatalf("dead letters: got %d, want 1 (%v)", len(dead), dead)
	}
	for field, want := range map[string]string{
		"task":     "poison",
		"reason":   "delivered 3 times without acknowledgement",
		"consumer": "crashy",
	} {
		if got := dead[0].Values[field]; got != want {
			t.Errorf("dead letter %s: got %q, want %q", field, got, want)
		}
	}
}

func mustParse(t *testing.T, url string) *goredis.Options {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestQueueReceiveHonoursContext(t *testing.T) {
	// A long Block: only CLIENT UNBLOCK can make Receive return promptly.
	c, _ := shared(t, redis.Options{Block: 10 * time.Second})
	q := c.Queue()
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"already cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"cancelled while blocked", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline while blocked", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := q.Receive(ctx, "w1")
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if el := time.Since(start); el > time.Second {
				t.Errorf("returned after %v, want promptly", el)
			}
		})
	}
	// The connection of a cut-short Receive is fine for the next one.
	enqueue(t, q, "after")
	if d := receive(t, q, "w1", 2*time.Second); d.TaskID != "after" {
		t.Errorf("got task %q, want %q", d.TaskID, "after")
	}
}

func recvEvent(t *testing.T, ch <-chan moji.Event, d time.Duration) (moji.Event, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return e, true
	case <-time.After(d):
		return moji.Event{}, false
	}
}

func TestBusAcrossClients(t *testing.T) {
	pub, opt := shared(t, redis.Options{})
	sub := open(t, redistest.URL(t), opt)
	other := open(t, redistest.URL(t), redis.Options{Prefix: redistest.Prefix(t)})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := sub.Bus().Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	events := []moji.Event{
		{Type: moji.EventTaskProgress, TaskID: "t1", OwnerID: 7, Stage: moji.StageDetecting, Percent: 10},
		{Type: moji.EventTaskDone, TaskID: "t1", OwnerID: 7, Result: &moji.Result{ImageKey: "results/t1.jpg", Width: 4, Height: 3,
			Faces: []moji.FaceResult{{Box: [4]float64{1, 2, 3, 4}, Expression: "happy", Probs: map[moji.Expression]float64{"happy": 0.9}}}}},
		{Type: moji.EventTaskFailed, TaskID: "t2", Error: &moji.TaskError{Code: "no_face", Message: "No face found."}},
		{Type: moji.EventRankingUpdated},
	}
	// Another prefix is another deployment: its events must not arrive.
	if err := other.Bus().Publish(timeout(t, time.Second), moji.Event{Type: "stranger"}); err != nil {
		t.Fatalf("Publish (other prefix): %v", err)
	}
	for _, e := range events {
		if err := pub.Bus().Publish(timeout(t, time.Second), e); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	for i, want := range events {
		got, ok := recvEvent(t, ch, 2*time.Second)
		if !ok {
			t.Fatalf("event %d: none arrived", i)
		}
		// All of it, the result's stored key included: the server that
		// relays task.done signs the image link from it.
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d: got %+v, want %+v", i, got, want)
		}
	}

	cancel()
	waitClosed(t, ch, 2*time.Second, "after ctx ended")
}

// waitClosed drains ch until it is closed, failing if that takes longer
// than d.
func waitClosed(t *testing.T, ch <-chan moji.Event, d time.Duration, what string) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: the subscription's channel is still open after %v", what, d)
		}
	}
}

func TestBusTypes(t *testing.T) {
	// A prefix with a pattern's special characters is matched as written:
	// a subscription to every type under "x*:" must not catch "x-y:"'s.
	base := redistest.Prefix(t)
	pub, opt := shared(t, redis.Options{Prefix: base + "x*:"})
	sub := open(t, redistest.URL(t), opt)
	other := open(t, redistest.URL(t), redis.Options{Prefix: base + "x-y:"})
	all, err := sub.Bus().Subscribe(timeout(t, 20*time.Second))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := other.Bus().Publish(timeout(t, time.Second), moji.Event{Type: "stranger"}); err != nil {
		t.Fatalf("Publish (other prefix): %v", err)
	}
	bustest.Types(t, pub.Bus(), sub.Bus())
	if e, ok := recvEvent(t, all, 2*time.Second); !ok || e.Type != moji.EventTaskProgress {
		t.Errorf("first event under %q: got %+v, want task.progress (not the other prefix's)", opt.Prefix, e)
	}
}

func TestBusSlowSubscriberDoesNotBlockPublish(t *testing.T) {
	pub, opt := shared(t, redis.Options{})
	sub := open(t, redistest.URL(t), opt)
	ch, err := sub.Bus().Subscribe(timeout(t, 20*time.Second))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	// Never read ch while publishing far more than its buffer.
	const n = redis.SubscribeBuffer + 500
	start := time.Now()
	for i := range n {
		if err := pub.Bus().Publish(timeout(t, time.Second), moji.Event{Type: moji.EventTaskProgress, Percent: i}); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("publishing %d events took %v", n, el)
	}
	// The overflow is dropped and counted.
	deadline := time.Now().Add(5 * time.Second)
	for sub.DroppedEvents() < n-redis.SubscribeBuffer && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := sub.DroppedEvents(), uint64(n-redis.SubscribeBuffer); got != want {
		t.Errorf("DroppedEvents: got %d, want %d", got, want)
	}
	// What was buffered is the oldest events, in order.
	for i := range redis.SubscribeBuffer {
		e, ok := recvEvent(t, ch, time.Second)
		if !ok {
			t.Fatalf("buffered event %d missing", i)
		}
		if e.Percent != i {
			t.Fatalf("buffered event %d: got Percent %d, want %d", i, e.Percent, i)
		}
	}
	// And the subscription still works.
	if err := pub.Bus().Publish(timeout(t, time.Second), moji.Event{Type: "after"}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if e, ok := recvEvent(t, ch, 2*time.Second); !ok || e.Type != "after" {
		t.Errorf("after draining: got %+v (%v), want event after", e, ok)
	}
}

func TestPublishHonoursContext(t *testing.T) {
	c, _ := shared(t, redis.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Bus().Publish(ctx, moji.Event{Type: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with cancelled ctx: got %v, want %v", err, context.Canceled)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	c, _ := shared(t, redis.Options{})
	ch, err := c.Bus().Subscribe(context.Background())
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	c.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("got an event, want the channel closed")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed after Close")
	}
}

// eventually retries f until it succeeds or d passes, as a worker loop
// with backoff would.
func eventually(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	var err error
	for tries := 1; ; tries++ {
		if err = f(); err == nil {
			if tries > 1 {
				t.Logf("%s: worked at try %d", what, tries)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	opt := redis.Options{Prefix: "igemoji:", Visibility: 200 * time.Millisecond, Block: 200 * time.Millisecond}
	worker := open(t, srv.URL(), opt)
	server := open(t, srv.URL(), opt)
	q := worker.Queue()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := server.Bus().Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	enqueue(t, q, "before")
	ack(t, q, receive(t, q, "w1", 2*time.Second))

	// A worker blocked in Receive when Redis dies gets an error, not a hang.
	blocked := make(chan error, 1)
	go func() {
		_, err := q.Receive(timeout(t, 10*time.Second), "w1")
		blocked <- err
	}()
	time.Sleep(100 * time.Millisecond)

	srv.Restart() // stream, group and subscriptions are gone

	select {
	case err := <-blocked:
		if err == nil {
			t.Error("Receive across the restart: got a delivery, want an error")
		}
		t.Logf("Receive across the restart: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Receive across the restart did not return")
	}

	// The queue works again, the group re-created on the way.
	eventually(t, 5*time.Second, "Enqueue after restart", func() error {
		return q.Enqueue(timeout(t, time.Second), "after")
	})
	var d moji.Delivery
	eventually(t, 5*time.Second, "Receive after restart", func() error {
		var err error
		d, err = q.Receive(timeout(t, time.Second), "w1")
		return err
	})
	if d.TaskID != "after" || d.Deliveries != 1 {
		t.Errorf("after restart: got %+v, want task after, Deliveries 1", d)
	}
	ack(t, q, d)
	wantLen(t, q, 0)

	// The subscription ends, so that its subscriber knows it may have
	// missed events (the hub re-reads what it shows); subscribing again
	// works, and what is published then arrives.
	waitClosed(t, events, 10*time.Second, "across the restart")
	events, err = server.Bus().Subscribe(ctx, moji.EventTaskProgress)
	if err != nil {
		t.Fatalf("Subscribe after restart: %v", err)
	}
	want := moji.Event{Type: moji.EventTaskProgress, TaskID: "r1"}
	if err := worker.Bus().Publish(timeout(t, time.Second), want); err != nil {
		t.Fatalf("Publish after restart: %v", err)
	}
	if got, ok := recvEvent(t, events, 2*time.Second); !ok || got.TaskID != want.TaskID {
		t.Errorf("after restart: got %+v (%v), want %+v", got, ok, want)
	}
}

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/bcrypt"

	"github.com/igemoji/igemoji/shared/config"
	"github.com/igemoji/igemoji/shared/mem"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/shared/store/storetest"
)

// Tasks known to the test hubs: ids starting with "anon" are anonymous,
// "u<N>-…" belong to user N. They are queued, unless the id holds
// "-done", "-failed" or "-running".
func testTask(_ context.Context, id string) (*moji.Task, error) {
	t := &moji.Task{ID: id, State: moji.TaskQueued, Stage: moji.StageQueued}
	switch {
	case id == "broken":
		return nil, errors.New("database down")
	case strings.HasPrefix(id, "anon"):
	case strings.HasPrefix(id, "u"):
		n, err := strconv.ParseInt(strings.SplitN(id[1:], "-", 2)[0], 10, 64)
		if err != nil {
			return nil, moji.Errorf(moji.ENOTFOUND, "No such task.")
		}
		t.OwnerID = n
	default:
		return nil, moji.Errorf(moji.ENOTFOUND, "No such task.")
	}
	switch {
	case strings.Contains(id, "-done"):
		t.State, t.Stage, t.Percent = moji.TaskDone, moji.StageDone, 100
		t.Result = &moji.Result{ImageKey: "r/" + id + ".png", Width: 320, Height: 240}
	case strings.Contains(id, "-failed"):
		t.State = moji.TaskFailed
		t.Error = &moji.TaskError{Code: "no_face", Message: "No face found."}
	case strings.Contains(id, "-running"):
		t.State, t.Stage, t.Percent = moji.TaskRunning, moji.StageReading, 40
	}
	return t, nil
}

// notifyBus is a bus that says when it has been subscribed to.
type notifyBus struct {
	moji.Bus
	subscribed chan struct{}
}

func (b *notifyBus) Subscribe(ctx context.Context, types ...string) (<-chan moji.Event, error) {
	ch, err := b.Bus.Subscribe(ctx, types...)
	select {
	case b.subscribed <- struct{}{}:
	default:
	}
	return ch, err
}

type testHub struct {
	*Hub
	bus   *mem.Bus
	srv   *httptest.Server
	url   string // ws://…/ws
	gauge *atomic.Int64
	ran   chan struct{} // closed when Run returns
}

// newTestHub starts a hub with Run, served at /ws?user=N (and optionally
// &addr=A for the client's address, &exp=<unix ms> for the token's
// expiry), with cfg's unset fields filled in. The server's handler may be tuned with
// configure before it starts.
func newTestHub(t *testing.T, cfg HubConfig, configure ...func(*http.Server)) *testHub {
	t.Helper()
	bus := mem.NewBus(4096)
	nb := &notifyBus{Bus: bus, subscribed: make(chan struct{}, 1)}
	if cfg.Bus == nil {
		cfg.Bus = nb
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Task == nil {
		cfg.Task = testTask
	}
	gauge := new(atomic.Int64)
	cfg.OnConnections = func(d int) { gauge.Add(int64(d)) }
	h := NewHub(cfg)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		user, _ := strconv.ParseInt(q.Get("user"), 10, 64)
		addr := q.Get("addr")
		if addr == "" {
			addr = clientAddr(r)
		}
		var exp time.Time
		if ms, err := strconv.ParseInt(q.Get("exp"), 10, 64); err == nil {
			exp = time.UnixMilli(ms)
		}
		pwd, _ := strconv.ParseInt(q.Get("pwd"), 10, 64)
		h.ServeWS(w, r, user, pwd, addr, exp)
	}))
	for _, f := range configure {
		f(srv.Config)
	}
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		if err := h.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		h.Close()
		cancel()
		<-ran
		srv.Close()
		if n := h.Connections(); n != 0 {
			t.Errorf("after Close: got %d connections, want 0", n)
		}
		if g := gauge.Load(); g != 0 {
			t.Errorf("after Close: gauge is %d, want 0", g)
		}
	})
	if cfg.Bus == nb {
		select {
		case <-nb.subscribed:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not subscribe to the bus")
		}
	}
	return &testHub{Hub: h, bus: bus, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", gauge: gauge, ran: ran}
}

// dial connects as user (0: anonymous) and waits until the hub counts it.
func (th *testHub) dial(t *testing.T, user int64) *websocket.Conn {
	t.Helper()
	return th.dialQuery(t, "user="+strconv.FormatInt(user, 10))
}

// dialQuery connects with the query query and waits until the hub counts
// the client.
func (th *testHub) dialQuery(t *testing.T, query string) *websocket.Conn {
	t.Helper()
	before := th.Connections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, th.url+"?"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	waitFor(t, "the hub to count the client", func() bool { return th.Connections() > before })
	return c
}

func (th *testHub) publish(t *testing.T, e moji.Event) {
	t.Helper()
	if err := th.bus.Publish(context.Background(), e); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// following is how many clients follow task id (their subscription no
// longer pending).
func (th *testHub) following(id string) int {
	th.mu.Lock()
	defer th.mu.Unlock()
	n := 0
	for c := range th.byTask[id] {
		if !c.tasks[id].pending {
			n++
		}
	}
	return n
}

// subscriptions counts the task subscriptions, pending or not, as the hub
// and as its clients hold them: both must agree.
func (th *testHub) subscriptions() (inHub, inClients int) {
	th.mu.Lock()
	defer th.mu.Unlock()
	for _, set := range th.byTask {
		inHub += len(set)
	}
	for c := range th.clients {
		inClients += len(c.tasks)
	}
	return inHub, inClients
}

func (th *testHub) rankingSubscribers() int {
	th.mu.Lock()
	defer th.mu.Unlock()
	return len(th.rankSubs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gotMsg is any server message.
type gotMsg struct {
	Type    string          `json:"type"`
	TaskID  string          `json:"task_id"`
	Stage   moji.Stage      `json:"stage"`
	Percent int             `json:"percent"`
	Result  *moji.Result    `json:"result"`
	Error   *moji.TaskError `json:"error"`
	Ranking []rankJSON      `json:"ranking"`
	raw     string
}

func readMsg(t *testing.T, c *websocket.Conn) gotMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m gotMsg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("message %s: %v", data, err)
	}
	m.raw = string(data)
	return m
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write %s: %v", msg, err)
	}
}

func subscribeTask(t *testing.T, th *testHub, c *websocket.Conn, id string) {
	t.Helper()
	n := th.following(id)
	send(t, c, `{"type":"subscribe","topic":"task","task_id":"`+id+`"}`)
	waitFor(t, "the subscription to "+id, func() bool { return th.following(id) > n })
}

func progress(id string, owner int64, pct int) moji.Event {
	return moji.Event{Type: moji.EventTaskProgress, TaskID: id, OwnerID: owner, Stage: moji.StageReading, Percent: pct}
}

func TestHubRoutesTaskEventsToOwner(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	owner := th.dial(t, 1)
	other := th.dial(t, 2)
	anon := th.dial(t, 0)
	subscribeTask(t, th, anon, "anon-1")

	th.publish(t, progress("u1-a", 1, 40))
	th.publish(t, progress("u2-a", 2, 10))
	th.publish(t, progress("anon-1", 0, 70))

	m := readMsg(t, owner)
	if m.Type != moji.EventTaskProgress || m.TaskID != "u1-a" || m.Stage != moji.StageReading || m.Percent != 40 {
		t.Errorf("owner: got %s, want progress of u1-a at 40%%", m.raw)
	}
	if strings.Contains(m.raw, "owner") {
		t.Errorf("owner: got %s, which tells the owner id", m.raw)
	}
	// Events go out in order: a leak of u1-a would come first.
	if m := readMsg(t, other); m.TaskID != "u2-a" {
		t.Errorf("other user: got %s first, want u2-a's event", m.raw)
	}
	if m := readMsg(t, anon); m.TaskID != "anon-1" || m.Percent != 70 {
		t.Errorf("anonymous: got %s first, want anon-1's event", m.raw)
	}
}

func TestHubOwnerSubscribedGetsEventOnce(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	owner := th.dial(t, 1)
	subscribeTask(t, th, owner, "u1-a")
	th.publish(t, progress("u1-a", 1, 10))
	th.publish(t, progress("u1-a", 1, 20))
	for _, want := range []int{10, 20} {
		if m := readMsg(t, owner); m.Percent != want {
			t.Errorf("got %s, want percent %d", m.raw, want)
		}
	}
}

func TestHubAnonymousSubscriberFollowsTask(t *testing.T) {
	th := newTestHub(t, HubConfig{ResultURL: func(key string) string { return "/media/" + key + "?sig=x" }})
	c := th.dial(t, 0)
	subscribeTask(t, th, c, "anon-task")

	th.publish(t, progress("anon-task", 0, 50))
	th.publish(t, moji.Event{Type: moji.EventTaskDone, TaskID: "anon-task",
		Result: &moji.Result{ImageKey: "r/abc.png", Width: 640, Height: 480}})

	if m := readMsg(t, c); m.Type != moji.EventTaskProgress || m.Percent != 50 {
		t.Errorf("got %s, want progress at 50%%", m.raw)
	}
	m := readMsg(t, c)
	if m.Type != moji.EventTaskDone || m.TaskID != "anon-task" || m.Result == nil {
		t.Fatalf("got %s, want task.done with a result", m.raw)
	}
	if got, want := m.Result.ImageURL, "/media/r/abc.png?sig=x"; got != want {
		t.Errorf("image_url: got %q, want %q", got, want)
	}
	if strings.Contains(m.raw, "r/abc.png\"") || m.Result.Width != 640 {
		t.Errorf("got %s, want the result with its URL only", m.raw)
	}
	// A finished task's subscriptions are freed.
	waitFor(t, "the subscription to end", func() bool { return th.following("anon-task") == 0 })
}

func TestHubTaskFailedEvent(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	c := th.dial(t, 3)
	th.publish(t, moji.Event{Type: moji.EventTaskFailed, TaskID: "u3-x", OwnerID: 3,
		Error: &moji.TaskError{Code: "no_face", Message: "No face found."}})
	m := readMsg(t, c)
	if m.Type != moji.EventTaskFailed || m.Error == nil || m.Error.Code != "no_face" {
		t.Errorf("got %s, want task.failed with code no_face", m.raw)
	}
}

func TestHubBadClientMessages(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	c := th.dial(t, 2)
	tests := []struct {
		name, msg, code string
	}{
		{"not json", `hello`, moji.EINVALID},
		{"not an object", `[1,2]`, moji.EINVALID},
		{"unknown type", `{"type":"dance"}`, moji.EINVALID},
		{"unknown topic", `{"type":"subscribe","topic":"weather"}`, moji.EINVALID},
		{"no task id", `{"type":"subscribe","topic":"task"}`, moji.EINVALID},
		{"long task id", `{"type":"subscribe","topic":"task","task_id":"` + strings.Repeat("a", 200) + `"}`, moji.EINVALID},
		{"unknown task", `{"type":"subscribe","topic":"task","task_id":"nope"}`, moji.ENOTFOUND},
		{"someone else's task", `{"type":"subscribe","topic":"task","task_id":"u1-secret"}`, moji.ENOTFOUND},
		{"lookup fails", `{"type":"subscribe","topic":"task","task_id":"broken"}`, moji.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(t, c, tt.msg)
			m := readMsg(t, c)
			if m.Type != "error" || m.Error == nil {
				t.Fatalf("got %s, want an error message", m.raw)
			}
			if m.Error.Code != tt.code || m.Error.Message == "" {
				t.Errorf("got %s, want code %s with a message", m.raw, tt.code)
			}
		})
	}
	t.Run("binary", func(t *testing.T) {
		if err := c.Write(context.Background(), websocket.MessageBinary, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if m := readMsg(t, c); m.Type != "error" || m.Error.Code != moji.EINVALID {
			t.Errorf("got %s, want an invalid error", m.raw)
		}
	})
	// Still connected, and the refused subscription delivers nothing.
	th.publish(t, progress("u1-secret", 1, 99))
	th.publish(t, progress("u2-mine", 2, 5))
	if m := readMsg(t, c); m.TaskID != "u2-mine" {
		t.Errorf("got %s, want only the client's own task", m.raw)
	}
}

func TestHubSubscriptionCap(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	c := th.dial(t, 0)
	for i := range wsMaxTasks {
		send(t, c, fmt.Sprintf(`{"type":"subscribe","topic":"task","task_id":"anon-%d"}`, i))
	}
	send(t, c, `{"type":"subscribe","topic":"task","task_id":"anon-one-too-many"}`)
	if m := readMsg(t, c); m.Type != "error" || m.Error.Code != moji.EINVALID || m.TaskID != "anon-one-too-many" {
		t.Errorf("got %s, want an invalid error for the extra task", m.raw)
	}
	if got := th.following(fmt.Sprintf("anon-%d", wsMaxTasks-1)); got != 1 {
		t.Errorf("last allowed task: got %d followers, want 1", got)
	}
	// Unsubscribing frees a place.
	send(t, c, `{"type":"unsubscribe","topic":"task","task_id":"anon-0"}`)
	subscribeTask(t, th, c, "anon-one-too-many")
}

func TestHubUnsubscribe(t *testing.T) {
	th := newTestHub(t, HubConfig{Ranking: func(context.Context) ([]moji.RankItem, error) { return nil, nil }})
	c := th.dial(t, 0)
	subscribeTask(t, th, c, "anon-1")
	send(t, c, `{"type":"subscribe","topic":"ranking"}`)
	if m := readMsg(t, c); m.Type != moji.EventRankingUpdated {
		t.Fatalf("got %s, want the ranking", m.raw)
	}
	send(t, c, `{"type":"unsubscribe","topic":"task","task_id":"anon-1"}`)
	send(t, c, `{"type":"unsubscribe","topic":"ranking"}`)
	send(t, c, `{"type":"unsubscribe","topic":"task","task_id":"anon-never"}`) // no-op
	waitFor(t, "unsubscribing", func() bool { return th.following("anon-1") == 0 && th.rankingSubscribers() == 0 })

	subscribeTask(t, th, c, "anon-2")
	th.publish(t, progress("anon-1", 0, 1))
	th.publish(t, progress("anon-2", 0, 2))
	if m := readMsg(t, c); m.TaskID != "anon-2" {
		t.Errorf("got %s, want nothing from the unsubscribed task", m.raw)
	}
}

func TestHubRankingCoalesces(t *testing.T) {
	const period = 200 * time.Millisecond
	var calls, uses atomic.Int64
	th := newTestHub(t, HubConfig{
		RankingEvery: period,
		Ranking: func(context.Context) ([]moji.RankItem, error) {
			calls.Add(1)
			return []moji.RankItem{{Rank: 1, Uses: int(uses.Load()),
				Template: moji.Template{ID: 7, Name: "cats", Images: map[moji.Expression]string{moji.Happy: "t/h.png"}}}}, nil
		},
	})
	a := th.dial(t, 0)
	onlyTasks := th.dial(t, 0)
	subscribeTask(t, th, onlyTasks, "anon-marker")

	send(t, a, `{"type":"subscribe","topic":"ranking"}`)
	m := readMsg(t, a)
	if m.Type != moji.EventRankingUpdated || len(m.Ranking) != 1 || m.Ranking[0].Uses != 0 {
		t.Fatalf("got %s, want the initial ranking", m.raw)
	}
	if got, want := m.Ranking[0].Template.Images[moji.Happy], "/media/t/h.png"; got != want {
		t.Errorf("template image: got %q, want %q", got, want)
	}
	// A second subscriber gets the cached ranking.
	b := th.dial(t, 0)
	send(t, b, `{"type":"subscribe","topic":"ranking"}`)
	if m := readMsg(t, b); m.Type != moji.EventRankingUpdated {
		t.Fatalf("second subscriber: got %s, want the ranking", m.raw)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("after two subscriptions: got %d ranking reads, want 1", got)
	}

	uses.Store(100)
	start := time.Now()
	for i := range 100 {
		th.publish(t, moji.Event{Type: moji.EventTaskDone, TaskID: fmt.Sprintf("anon-%d", i)})
	}
	for _, c := range []*websocket.Conn{a, b} {
		if m := readMsg(t, c); m.Type != moji.EventRankingUpdated || m.Ranking[0].Uses != 100 {
			t.Errorf("got %s, want the ranking with 100 uses", m.raw)
		}
	}
	time.Sleep(2 * period) // let a trailing read happen
	// Leading and trailing read per burst, give or take a period boundary.
	if got, limit := calls.Load()-1, int64(2+time.Since(start)/period); got < 1 || got > limit {
		t.Errorf("100 task.done events: got %d ranking reads, want 1 to %d", got, limit)
	}

	// An unchanged ranking is not sent again; a changed one is.
	before := calls.Load()
	th.publish(t, moji.Event{Type: moji.EventRankingUpdated})
	waitFor(t, "the ranking read", func() bool { return calls.Load() > before })
	uses.Store(101)
	th.publish(t, moji.Event{Type: moji.EventRankingUpdated})
	if m := readMsg(t, a); m.Ranking[0].Uses != 101 {
		t.Errorf("got %s, want only the changed ranking (101 uses)", m.raw)
	}
	// Task-only clients never get the ranking.
	th.publish(t, progress("anon-marker", 0, 1))
	if m := readMsg(t, onlyTasks); m.Type != moji.EventTaskProgress {
		t.Errorf("task-only client: got %s, want only its task", m.raw)
	}
}

func TestHubRankingUnavailable(t *testing.T) {
	th := newTestHub(t, HubConfig{Ranking: func(context.Context) ([]moji.RankItem, error) {
		return nil, moji.Errorf(moji.EUNAVAILABLE, "The database is not reachable.")
	}})
	c := th.dial(t, 0)
	send(t, c, `{"type":"subscribe","topic":"ranking"}`)
	if m := readMsg(t, c); m.Type != "error" || m.Error.Code != moji.EUNAVAILABLE {
		t.Errorf("got %s, want an unavailable error", m.raw)
	}
	if n := th.rankingSubscribers(); n != 0 {
		t.Errorf("got %d ranking subscribers, want 0", n)
	}
}

func TestHubDropsSlowClient(t *testing.T) {
	th := newTestHub(t, HubConfig{SendBuffer: 8})
	slow := th.dial(t, 1) // never reads
	fast := th.dial(t, 1)

	var received atomic.Int64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			if _, _, err := fast.Read(context.Background()); err != nil {
				return
			}
			received.Add(1)
		}
	}()

	// Big events fill the slow client's socket, then its queue. Route
	// directly: the bus would hide a blocking route.
	big := strings.Repeat("x", 64<<10)
	var sent int64
	var slowest time.Duration
	for sent = 0; sent < 2000 && th.Connections() == 2; sent++ {
		e := moji.Event{Type: moji.EventTaskFailed, TaskID: "u1-big", OwnerID: 1,
			Error: &moji.TaskError{Code: "internal", Message: big}}
		start := time.Now()
		th.route(e)
		slowest = max(slowest, time.Since(start))
		if sent%4 == 3 { // keep pace with the fast client only
			waitFor(t, "the fast client", func() bool { return received.Load() == sent+1 })
		}
	}
	if n := th.Connections(); n != 1 {
		t.Fatalf("after %d events: got %d connections, want 1 (slow client dropped)", sent, n)
	}
	waitFor(t, "the fast client", func() bool { return received.Load() == sent })
	if slowest > 100*time.Millisecond {
		t.Errorf("slowest route: got %v, want it not to wait on clients", slowest)
	}
	// The fast client is still served.
	th.publish(t, progress("u1-after", 1, 1))
	waitFor(t, "the fast client", func() bool { return received.Load() == sent+1 })
	// The slow one finds its connection ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := slow.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("slow client: connection still open")
			}
			break
		}
	}
	fast.CloseNow()
	<-readerDone
}

func TestHubPingDropsDeadClient(t *testing.T) {
	th := newTestHub(t, HubConfig{PingInterval: 100 * time.Millisecond})
	th.dial(t, 1) // never reads, so never answers a ping
	alive := th.dial(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go alive.Read(ctx) // answers pings

	waitFor(t, "the dead client to be dropped", func() bool { return th.Connections() == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := th.Connections(); n != 1 {
		t.Errorf("got %d connections, want the live client to stay", n)
	}
}

func TestHubRateLimitsClients(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	c := th.dial(t, 0)
	for range 3 * wsMsgBurst {
		if err := c.Write(context.Background(), websocket.MessageText,
			[]byte(`{"type":"unsubscribe","topic":"task","task_id":"anon-x"}`)); err != nil {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if got, want := websocket.CloseStatus(err), websocket.StatusPolicyViolation; got != want {
		t.Errorf("got %v (%v), want close status %v", got, err, want)
	}
	waitFor(t, "the client to go", func() bool { return th.Connections() == 0 })
}

func TestHubClose(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	conns := []*websocket.Conn{th.dial(t, 1), th.dial(t, 0)}
	errs := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			_, _, err := c.Read(context.Background())
			errs <- err
		}()
	}
	done := make(chan struct{})
	go func() { th.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if n := th.Connections(); n != 0 {
		t.Errorf("after Close: got %d connections, want 0", n)
	}
	if g := th.gauge.Load(); g != 0 {
		t.Errorf("after Close: gauge %d, want 0", g)
	}
	for range conns {
		err := <-errs
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "server shutting down" {
			t.Errorf("client: got %v, want StatusGoingAway \"server shutting down\"", err)
		}
	}
	select {
	case <-th.ran:
	case <-time.After(5 * time.Second):
		t.Error("Run did not return after Close")
	}
	waitFor(t, "the hub's goroutines to end", func() bool { return hubGoroutines() == "" })

	// New clients are refused with a JSON 503.
	resp, err := http.Get(th.srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"unavailable"`) {
		t.Errorf("after Close: got %d %s, want 503 unavailable", resp.StatusCode, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, th.url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: got %v, want a 503", err)
	}
}

// hubGoroutines returns the stacks of goroutines running hub code.
func hubGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "server.(*Hub)") || strings.Contains(g, "server.(*wsClient)") {
			found = append(found, g)
		}
	}
	return strings.Join(found, "\n\n")
}

// flakyBus hands out subscriptions the test can break, failing the first
// attempt.
type flakyBus struct {
	mu    sync.Mutex
	tries int
	subs  chan chan moji.Event
}

func (b *flakyBus) Publish(context.Context, moji.Event) error { return nil }

func (b *flakyBus) Subscribe(context.Context, ...string) (<-chan moji.Event, error) {
	b.mu.Lock()
	b.tries++
	first := b.tries == 1
	b.mu.Unlock()
	if first {
		return nil, errors.New("bus down")
	}
	ch := make(chan moji.Event, 8)
	b.subs <- ch
	return ch, nil
}

// next is the subscription the hub makes next.
func (b *flakyBus) next(t *testing.T) chan moji.Event {
	t.Helper()
	select {
	case ch := <-b.subs:
		return ch
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not subscribe")
		return nil
	}
}

func TestHubRunResubscribes(t *testing.T) {
	bus := &flakyBus{subs: make(chan chan moji.Event, 4)}
	th := newTestHub(t, HubConfig{Bus: bus})
	c := th.dial(t, 1)
	ch := bus.next(t) // after the failed first try
	ch <- progress("u1-a", 1, 1)
	if m := readMsg(t, c); m.Percent != 1 {
		t.Errorf("got %s, want percent 1", m.raw)
	}
	close(ch) // the subscription breaks
	ch = bus.next(t)
	ch <- progress("u1-a", 1, 2)
	if m := readMsg(t, c); m.Percent != 2 {
		t.Errorf("after resubscribing: got %s, want percent 2", m.raw)
	}
}

// A task that finishes while the hub's bus subscription is broken: its
// task.done is lost with the subscription, so the hub reads the task
// again once subscribed anew, and its follower is told.
func TestHubCatchesUpAfterResubscribing(t *testing.T) {
	bus := &flakyBus{subs: make(chan chan moji.Event, 4)}
	var done atomic.Bool
	th := newTestHub(t, HubConfig{Bus: bus, Task: func(_ context.Context, id string) (*moji.Task, error) {
		if done.Load() {
			return &moji.Task{ID: id, State: moji.TaskDone, Stage: moji.StageDone, Percent: 100, Result: &moji.Result{ImageKey: "r/x.png"}}, nil
		}
		return &moji.Task{ID: id, State: moji.TaskRunning, Stage: moji.StageReading, Percent: 40}, nil
	}})
	ch := bus.next(t)
	c := th.dial(t, 0)
	subscribeTask(t, th, c, "anon-x")
	if m := readMsg(t, c); m.Type != moji.EventTaskProgress || m.Percent != 40 {
		t.Fatalf("on subscribing: got %s, want its progress", m.raw)
	}
	done.Store(true) // finished while the bus was away
	close(ch)
	bus.next(t)
	// The progress may come again first: the first subscription, made
	// after a failed try, is itself a resubscription whose catch-up read
	// can land after the client subscribed.
	for {
		m := readMsg(t, c)
		if m.Type == moji.EventTaskDone && m.TaskID == "anon-x" {
			break
		}
		if m.Type != moji.EventTaskProgress || m.Percent != 40 {
			t.Fatalf("after resubscribing: got %s, want task.done for anon-x", m.raw)
		}
	}
}

func TestHubOrigins(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		origin   string
		want     bool
	}{
		{"no origin", nil, "", true},
		{"same host", nil, "SAME", true},
		{"other origin", nil, "https://evil.example", false},
		{"allowed origin", []string{"localhost:5173"}, "http://localhost:5173", true},
		{"allowed origin with scheme", []string{"http://localhost:5173"}, "http://localhost:5173", true},
		{"other scheme", []string{"https://localhost:5173"}, "http://localhost:5173", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := newTestHub(t, HubConfig{OriginPatterns: tt.patterns})
			origin := tt.origin
			if origin == "SAME" {
				origin = th.srv.URL
			}
			hdr := http.Header{}
			if origin != "" {
				hdr.Set("Origin", origin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, th.url, &websocket.DialOptions{HTTPHeader: hdr})
			if c != nil {
				c.CloseNow()
			}
			if got := err == nil; got != tt.want {
				t.Errorf("got accepted=%v (%v), want %v", got, err, tt.want)
			}
			if !tt.want && (resp == nil || resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")) {
				t.Errorf("refused: got %+v, want a JSON 403", resp)
			}
		})
	}
}

// A plain request to the WebSocket endpoint is told, in JSON, to upgrade.
func TestHubNotAWebSocket(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	resp, err := http.Get(strings.Replace(th.url, "ws://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body errorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusUpgradeRequired || body.Error.Code != moji.EINVALID {
		t.Errorf("got %d %+v (%v), want 426 with a JSON %s error", resp.StatusCode, body, err, moji.EINVALID)
	}
}

// The HTTP server's timeouts must not cut a WebSocket short.
func TestHubOutlivesServerTimeouts(t *testing.T) {
	th := newTestHub(t, HubConfig{}, func(s *http.Server) {
		s.ReadTimeout = 100 * time.Millisecond
		s.WriteTimeout = 100 * time.Millisecond
	})
	c := th.dial(t, 1)
	time.Sleep(300 * time.Millisecond)
	th.publish(t, progress("u1-late", 1, 3))
	if m := readMsg(t, c); m.TaskID != "u1-late" {
		t.Errorf("got %s, want u1-late's event", m.raw)
	}
	send(t, c, `{"type":"subscribe","topic":"task","task_id":"anon-late"}`)
	waitFor(t, "the subscription", func() bool { return th.following("anon-late") == 1 })
}

// A task that finished before the subscription is answered at once, and a
// running one with its progress.
func TestHubSubscribeToFinishedTask(t *testing.T) {
	th := newTestHub(t, HubConfig{ResultURL: func(key string) string { return "/media/" + key + "?sig=x" }})
	c := th.dial(t, 0)

	send(t, c, `{"type":"subscribe","topic":"task","task_id":"anon-done-1"}`)
	m := readMsg(t, c)
	if m.Type != moji.EventTaskDone || m.TaskID != "anon-done-1" || m.Result == nil {
		t.Fatalf("done task: got %s, want task.done with the result", m.raw)
	}
	if got, want := m.Result.ImageURL, "/media/r/anon-done-1.png?sig=x"; got != want || m.Result.Width != 320 {
		t.Errorf("done task: got %s, want image_url %q", m.raw, want)
	}
	send(t, c, `{"type":"subscribe","topic":"task","task_id":"anon-failed-1"}`)
	if m := readMsg(t, c); m.Type != moji.EventTaskFailed || m.TaskID != "anon-failed-1" || m.Error == nil || m.Error.Code != "no_face" {
		t.Errorf("failed task: got %s, want task.failed with code no_face", m.raw)
	}
	// Nothing more will come: the subscriptions are dropped.
	waitFor(t, "finished subscriptions to be dropped", func() bool {
		inHub, inClients := th.subscriptions()
		return inHub == 0 && inClients == 0
	})

	send(t, c, `{"type":"subscribe","topic":"task","task_id":"anon-running-1"}`)
	if m := readMsg(t, c); m.Type != moji.EventTaskProgress || m.TaskID != "anon-running-1" || m.Stage != moji.StageReading || m.Percent != 40 {
		t.Errorf("running task: got %s, want its progress (reading, 40%%)", m.raw)
	}
	waitFor(t, "the subscription", func() bool { return th.following("anon-running-1") == 1 })
	th.publish(t, progress("anon-running-1", 0, 70))
	if m := readMsg(t, c); m.Type != moji.EventTaskProgress || m.Percent != 70 {
		t.Errorf("running task: got %s, want its next progress", m.raw)
	}

	// The owner too, although the events come to it without asking.
	owner := th.dial(t, 5)
	send(t, owner, `{"type":"subscribe","topic":"task","task_id":"u5-done-1"}`)
	if m := readMsg(t, owner); m.Type != moji.EventTaskDone || m.TaskID != "u5-done-1" {
		t.Errorf("owner: got %s, want task.done", m.raw)
	}
	send(t, c, `{"type":"subscribe","topic":"task","task_id":"u5-done-1"}`)
	if m := readMsg(t, c); m.Type != "error" || m.Error.Code != moji.ENOTFOUND {
		t.Errorf("someone else's finished task: got %s, want not_found", m.raw)
	}
	waitFor(t, "the owner's subscription to be dropped", func() bool {
		inHub, inClients := th.subscriptions()
		return inHub == 1 && inClients == 1 // anon-running-1
	})
}

// Events that come while a subscription's task is looked up are held, then
// sent if the client may see them: none falls between the read and the
// subscription.
func TestHubSubscribeHoldsEventsDuringLookup(t *testing.T) {
	lookups := make(chan string, 1)
	release := make(chan struct{}, 1)
	th := newTestHub(t, HubConfig{
		ResultURL: func(key string) string { return "/media/" + key },
		Task: func(ctx context.Context, id string) (*moji.Task, error) {
			lookups <- id
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			// The read saw the task running, before the events.
			task, err := testTask(ctx, id)
			if task != nil {
				task.State, task.Stage, task.Percent = moji.TaskRunning, moji.StageDetecting, 10
			}
			return task, err
		},
	})
	// held reports whether the last of the events published is held: the
	// hub routes events asynchronously, so the first being held is not
	// enough before the lookup is released.
	var lastType string
	held := func(id string) bool {
		th.mu.Lock()
		defer th.mu.Unlock()
		for c := range th.byTask[id] {
			if h := c.tasks[id]; h.held != nil && bytes.Contains(h.held, []byte(`"type":"`+lastType+`"`)) {
				return true
			}
		}
		return false
	}
	c := th.dial(t, 0)
	lookUp := func(id string, events ...moji.Event) {
		t.Helper()
		send(t, c, `{"type":"subscribe","topic":"task","task_id":"`+id+`"}`)
		select {
		case <-lookups:
		case <-time.After(5 * time.Second):
			t.Fatal("no lookup")
		}
		for _, e := range events {
			th.publish(t, e)
			lastType = e.Type
		}
		waitFor(t, "the events to be held", func() bool { return held(id) })
		release <- struct{}{}
	}

	lookUp("anon-a", progress("anon-a", 0, 60), moji.Event{Type: moji.EventTaskDone, TaskID: "anon-a",
		Result: &moji.Result{ImageKey: "r/a.png"}})
	if m := readMsg(t, c); m.Type != moji.EventTaskDone || m.TaskID != "anon-a" || m.Result == nil || m.Result.ImageURL != "/media/r/a.png" {
		t.Fatalf("finished during the lookup: got %s, want task.done", m.raw)
	}
	waitFor(t, "the subscription to be dropped", func() bool { inHub, _ := th.subscriptions(); return inHub == 0 })

	lookUp("anon-b", progress("anon-b", 0, 60))
	if m := readMsg(t, c); m.Type != moji.EventTaskProgress || m.Percent != 60 {
		t.Fatalf("progress during the lookup: got %s, want the newer progress (60%%)", m.raw)
	}

	// Someone else's task: the held event is not shown.
	lookUp("u2-c", progress("u2-c", 2, 60))
	if m := readMsg(t, c); m.Type != "error" || m.TaskID != "u2-c" || m.Error.Code != moji.ENOTFOUND {
		t.Fatalf("someone else's task: got %s, want not_found", m.raw)
	}
	th.publish(t, progress("anon-b", 0, 80))
	if m := readMsg(t, c); m.TaskID != "anon-b" || m.Percent != 80 {
		t.Errorf("got %s, want only anon-b's progress", m.raw)
	}
	if inHub, inClients := th.subscriptions(); inHub != 1 || inClients != 1 {
		t.Errorf("got %d subscriptions in the hub, %d in its clients; want 1 (anon-b)", inHub, inClients)
	}
}

// A logged-in client's subscriptions to its own tasks end with the tasks,
// so that it may follow more than wsMaxTasks in its life.
func TestHubOwnSubscriptionsFreed(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	c := th.dial(t, 1)
	for i := range wsMaxTasks + 4 {
		id := fmt.Sprintf("u1-t%d", i)
		subscribeTask(t, th, c, id)
		e := moji.Event{Type: moji.EventTaskDone, TaskID: id, OwnerID: 1}
		if i%2 == 1 {
			e = moji.Event{Type: moji.EventTaskFailed, TaskID: id, OwnerID: 1, Error: &moji.TaskError{Code: "no_face", Message: "x"}}
		}
		th.publish(t, e)
		// Once: a second copy would show up as the next task's message.
		if m := readMsg(t, c); m.Type != e.Type || m.TaskID != id {
			t.Fatalf("got %s, want %s of %s", m.raw, e.Type, id)
		}
		waitFor(t, "the subscription to end", func() bool { return th.following(id) == 0 })
	}
	if inHub, inClients := th.subscriptions(); inHub != 0 || inClients != 0 {
		t.Errorf("got %d subscriptions in the hub, %d in its clients; want none", inHub, inClients)
	}
}

// The ranking is also read now and then while someone follows it, so that
// a change whose event was lost is sent anyway; only changes are sent.
func TestHubRankingRefresh(t *testing.T) {
	var calls, uses atomic.Int64
	th := newTestHub(t, HubConfig{
		RankingEvery:   5 * time.Millisecond,
		RankingRefresh: 30 * time.Millisecond,
		Ranking: func(context.Context) ([]moji.RankItem, error) {
			calls.Add(1)
			return []moji.RankItem{{Rank: 1, Uses: int(uses.Load()), Template: moji.Template{ID: 7, Name: "cats"}}}, nil
		},
	})
	time.Sleep(150 * time.Millisecond)
	if n := calls.Load(); n != 0 {
		t.Errorf("nobody subscribed: got %d ranking reads, want 0", n)
	}
	c := th.dial(t, 0)
	send(t, c, `{"type":"subscribe","topic":"ranking"}`)
	if m := readMsg(t, c); m.Type != moji.EventRankingUpdated || len(m.Ranking) != 1 || m.Ranking[0].Uses != 0 {
		t.Fatalf("got %s, want the initial ranking", m.raw)
	}
	waitFor(t, "refreshes", func() bool { return calls.Load() >= 4 })
	uses.Store(5) // and no event on the bus, as if it were lost
	if m := readMsg(t, c); m.Type != moji.EventRankingUpdated || m.Ranking[0].Uses != 5 {
		t.Errorf("got %s, want only the changed ranking (5 uses)", m.raw)
	}

	send(t, c, `{"type":"unsubscribe","topic":"ranking"}`)
	waitFor(t, "unsubscribing", func() bool { return th.rankingSubscribers() == 0 })
	time.Sleep(50 * time.Millisecond) // a read in progress ends
	before := calls.Load()
	time.Sleep(150 * time.Millisecond)
	if n := calls.Load() - before; n != 0 {
		t.Errorf("after unsubscribing: got %d ranking reads, want 0", n)
	}
}

func TestHubConnectionCaps(t *testing.T) {
	th := newTestHub(t, HubConfig{MaxConns: 3, MaxConnsPerAddr: 2})
	refused := func(query string, status int, code string) {
		t.Helper()
		resp, err := http.Get(th.srv.URL + "/ws?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != status || !strings.Contains(string(body), `"code":"`+code+`"`) || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: got %d %s, want %d %s with Retry-After", query, resp.StatusCode, body, status, code)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if c, resp, err := websocket.Dial(ctx, th.url+"?"+query, nil); err == nil || resp == nil || resp.StatusCode != status {
			if c != nil {
				c.CloseNow()
			}
			t.Errorf("%s: dial got %v, want a %d", query, err, status)
		}
	}
	admitted := func() int {
		th.mu.Lock()
		defer th.mu.Unlock()
		return th.conns
	}

	a1 := th.dialQuery(t, "addr=A")
	th.dialQuery(t, "addr=A")
	refused("addr=A", http.StatusTooManyRequests, moji.ERATELIMIT)
	th.dialQuery(t, "addr=B")
	refused("addr=C", http.StatusServiceUnavailable, moji.EUNAVAILABLE)
	if n := th.Connections(); n != 3 {
		t.Errorf("got %d connections, want 3", n)
	}

	// A connection that ends frees its places.
	a1.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the connection to end", func() bool { return admitted() == 2 })
	th.dialQuery(t, "addr=A")
	th.mu.Lock()
	if got := th.perAddr["A"]; got != 2 || len(th.perAddr) != 2 {
		t.Errorf("got %v per address, want A: 2, B: 1", th.perAddr)
	}
	th.mu.Unlock()
}

func TestHubTokenExpiry(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	c := th.dialQuery(t, fmt.Sprintf("user=1&exp=%d", time.Now().Add(200*time.Millisecond).UnixMilli()))
	forever := th.dial(t, 1) // no token expiry (anonymous, or tests)

	th.publish(t, progress("u1-a", 1, 10))
	if m := readMsg(t, c); m.TaskID != "u1-a" {
		t.Errorf("before expiry: got %s, want u1-a's event", m.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != wsTokenExpired || ce.Reason != "token expired" {
		t.Errorf("got %v, want close status 4001 \"token expired\"", err)
	}
	waitFor(t, "the expired client to go", func() bool { return th.Connections() == 1 })
	if m := readMsg(t, forever); m.TaskID != "u1-a" {
		t.Errorf("other client: got %s, want u1-a's event", m.raw)
	}

	// An already expired token is refused before the upgrade.
	resp, err := http.Get(th.srv.URL + fmt.Sprintf("/ws?user=1&exp=%d", time.Now().Add(-time.Second).UnixMilli()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"unauthorized"`) {
		t.Errorf("expired token: got %d %s, want 401 unauthorized", resp.StatusCode, body)
	}
}

// handleWS hands the hub the token's user and expiry.
func TestWSTokenExpiry(t *testing.T) {
	bus := mem.NewBus(64)
	// Two seconds: JWT times are whole seconds, so a one-second token
	// issued late in a second can expire before the first check.
	db := storetest.MustOpenDB(t, store.SQLite)
	u := &moji.User{Email: "ws@example.com", Alias: "ws", PasswordHash: []byte("x")}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	s := New(&config.Config{TokenTTL: 2 * time.Second, BcryptCost: bcrypt.MinCost}, slog.New(slog.DiscardHandler),
		[]byte("test secret"), Deps{Bus: bus, DB: db})
	srv := httptest.NewServer(s.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); s.Run(ctx) }()
	t.Cleanup(func() {
		s.hub.Close()
		cancel()
		<-ran
		srv.Close()
	})
	tok, _, err := s.tokens.Issue(u)
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	c, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/ws?token="+tok, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	// The server counts the client after the handshake that Dial returns on.
	waitFor(t, "the hub to count the client", func() bool { return s.hub.Connections() == 1 })
	// The token's user gets its events (published until the hub, which
	// subscribes in the background, has one), until the token expires
	// (within two seconds).
	stop := make(chan struct{})
	published := make(chan struct{})
	go func() {
		defer close(published)
		for {
			bus.Publish(context.Background(), progress("u9-a", u.ID, 1))
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-published }()
	var err2 error
	var gotEvent bool
	for err2 == nil {
		var data []byte
		_, data, err2 = c.Read(dctx)
		gotEvent = gotEvent || strings.Contains(string(data), `"u9-a"`)
	}
	var ce websocket.CloseError
	if !errors.As(err2, &ce) || ce.Code != wsTokenExpired || ce.Reason != "token expired" {
		t.Errorf("got %v, want close status 4001 \"token expired\"", err2)
	}
	if !gotEvent {
		t.Error("got no event of the token's user")
	}
}

// wantSessionEnded reads c until it closes, and wants the close status of
// an ended session (4001).
func wantSessionEnded(t *testing.T, what string, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue // an event sent before the close
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != wsTokenExpired {
			t.Errorf("%s: got %v, want close status 4001", what, err)
		}
		return
	}
}

// versions is a PasswordVersion of users whose versions a test sets; a
// user without one is gone, and user 99's reads fail.
type versions struct {
	mu sync.Mutex
	v  map[int64]int64
}

func (vs *versions) set(uid, pwd int64) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.v[uid] = pwd
}

func (vs *versions) del(uid int64) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	delete(vs.v, uid)
}

func (vs *versions) read(_ context.Context, uid int64) (int64, error) {
	if uid == 99 {
		return 0, errors.New("database away")
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	pwd, ok := vs.v[uid]
	if !ok {
		return 0, moji.Errorf(moji.ENOTFOUND, "no such user")
	}
	return pwd, nil
}

// A user.sessions_ended published while the hub was not subscribed is
// lost; once subscribed again, the hub reads the connected users'
// password versions and ends the sessions that are over.
func TestHubEndsSessionsMissedWhileAway(t *testing.T) {
	vs := &versions{v: map[int64]int64{7: 0, 8: 0, 9: 0}}
	bus := &flakyBus{subs: make(chan chan moji.Event, 4)}
	th := newTestHub(t, HubConfig{Bus: bus, PasswordVersion: vs.read})
	ch := bus.next(t)
	changed := th.dialQuery(t, "user=7&pwd=0")
	deleted := th.dialQuery(t, "user=8&pwd=0")
	kept := th.dialQuery(t, "user=9&pwd=0")
	unread := th.dialQuery(t, "user=99&pwd=0")
	waitFor(t, "four connections", func() bool { return th.Connections() == 4 })

	vs.set(7, 1) // a password change,
	vs.del(8)    // an account deletion, both while the bus was away
	close(ch)
	ch = bus.next(t)
	wantSessionEnded(t, "the changed password's connection", changed)
	wantSessionEnded(t, "the deleted account's connection", deleted)
	waitFor(t, "two connections left", func() bool { return th.Connections() == 2 })
	// The others still get what is theirs (a version that could not be
	// read ends nothing).
	ch <- progress("t9", 9, 50)
	ch <- progress("t99", 99, 50)
	for who, c := range map[string]*websocket.Conn{"t9": kept, "t99": unread} {
		if m := readMsg(t, c); m.TaskID != who {
			t.Errorf("%s: got %s, want its event", who, m.raw)
		}
	}
}

// A session that ends between the token's check and the connection's
// registration is caught when it registers.
func TestHubChecksTheSessionOnConnecting(t *testing.T) {
	vs := &versions{v: map[int64]int64{7: 1}}
	th := newTestHub(t, HubConfig{PasswordVersion: vs.read})
	for what, q := range map[string]string{"a connection of the older password": "user=7&pwd=0", "a connection of a deleted account": "user=8&pwd=0"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := websocket.Dial(ctx, th.url+"?"+q, nil)
		cancel()
		if err != nil {
			t.Fatalf("%s: dial: %v", what, err)
		}
		wantSessionEnded(t, what, c)
		c.CloseNow()
	}
	waitFor(t, "no connections", func() bool { return th.Connections() == 0 })
	c := th.dialQuery(t, "user=7&pwd=1")
	th.publish(t, progress("t7", 7, 50))
	if m := readMsg(t, c); m.TaskID != "t7" {
		t.Errorf("the current password's connection: got %s, want its event", m.raw)
	}
}

// A password change or an account deletion ends the user's sessions: their
// open connections of an older password version close as on an expired
// token (4001); one already on the new version, and no one else's, stay.
func TestSessionsEndedClosesTheUsersConnections(t *testing.T) {
	th := newTestHub(t, HubConfig{})
	old := []*websocket.Conn{th.dialQuery(t, "user=7&pwd=0"), th.dialQuery(t, "user=7&pwd=0")}
	renewed := th.dialQuery(t, "user=7&pwd=1")
	theirs := th.dial(t, 8)
	th.dial(t, 0) // anonymous
	wantClosed := func(what string, c *websocket.Conn) { t.Helper(); wantSessionEnded(t, what, c) }
	th.publish(t, moji.Event{Type: moji.EventSessionsEnded, OwnerID: 7, Version: 1}) // a password change
	for i, c := range old {
		wantClosed(fmt.Sprintf("user 7's older connection %d", i), c)
	}
	waitFor(t, "three connections left", func() bool { return th.Connections() == 3 })
	// The others still get what is theirs.
	th.publish(t, progress("t7", 7, 50))
	th.publish(t, progress("t8", 8, 50))
	for who, c := range map[string]*websocket.Conn{"t7": renewed, "t8": theirs} {
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, data, err := c.Read(rctx)
		rcancel()
		if err != nil || !strings.Contains(string(data), `"`+who+`"`) {
			t.Errorf("%s after: got %q, %v; want its event", who, data, err)
		}
	}
	th.publish(t, moji.Event{Type: moji.EventSessionsEnded, OwnerID: 7, Version: -1}) // the account deleted
	wantClosed("user 7's renewed connection after the deletion", renewed)
	waitFor(t, "two connections left", func() bool { return th.Connections() == 2 })
}

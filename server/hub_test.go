package server

import (
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

	"github.com/igemoji/igemoji/shared/mem"
	"github.com/igemoji/igemoji/shared/moji"
)

// Task owners known to the test hubs: ids starting with "anon" are
// anonymous, "u<N>-…" belong to user N.
func testTaskOwner(_ context.Context, id string) (int64, error) {
	switch {
	case id == "broken":
		return 0, errors.New("database down")
	case strings.HasPrefix(id, "anon"):
		return 0, nil
	case strings.HasPrefix(id, "u"):
		if n, err := strconv.ParseInt(strings.SplitN(id[1:], "-", 2)[0], 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, moji.Errorf(moji.ENOTFOUND, "No such task.")
}

// notifyBus is a bus that says when it has been subscribed to.
type notifyBus struct {
	moji.Bus
	subscribed chan struct{}
}

func (b *notifyBus) Subscribe(ctx context.Context) (<-chan moji.Event, error) {
	ch, err := b.Bus.Subscribe(ctx)
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

// newTestHub starts a hub with Run, served at /ws?user=N, with cfg's
// unset fields filled in. The server's handler may be tuned with
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
	if cfg.TaskOwner == nil {
		cfg.TaskOwner = testTaskOwner
	}
	gauge := new(atomic.Int64)
	cfg.OnConnections = func(d int) { gauge.Add(int64(d)) }
	h := NewHub(cfg)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := strconv.ParseInt(r.URL.Query().Get("user"), 10, 64)
		h.ServeWS(w, r, user)
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
	before := th.Connections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, th.url+"?user="+strconv.FormatInt(user, 10), nil)
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

// following is how many clients follow task id.
func (th *testHub) following(id string) int {
	th.mu.Lock()
	defer th.mu.Unlock()
	return len(th.byTask[id])
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

func (b *flakyBus) Subscribe(context.Context) (<-chan moji.Event, error) {
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

func TestHubRunResubscribes(t *testing.T) {
	bus := &flakyBus{subs: make(chan chan moji.Event, 4)}
	th := newTestHub(t, HubConfig{Bus: bus})
	c := th.dial(t, 1)
	next := func() chan moji.Event {
		t.Helper()
		select {
		case ch := <-bus.subs:
			return ch
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not subscribe")
			return nil
		}
	}
	ch := next() // after the failed first try
	ch <- progress("u1-a", 1, 1)
	if m := readMsg(t, c); m.Percent != 1 {
		t.Errorf("got %s, want percent 1", m.raw)
	}
	close(ch) // the subscription breaks
	ch = next()
	ch <- progress("u1-a", 1, 2)
	if m := readMsg(t, c); m.Percent != 2 {
		t.Errorf("after resubscribing: got %s, want percent 2", m.raw)
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
			c, _, err := websocket.Dial(ctx, th.url, &websocket.DialOptions{HTTPHeader: hdr})
			if c != nil {
				c.CloseNow()
			}
			if got := err == nil; got != tt.want {
				t.Errorf("got accepted=%v (%v), want %v", got, err, tt.want)
			}
		})
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

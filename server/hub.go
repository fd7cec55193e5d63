package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/http/httpguts"

	"github.com/igemoji/igemoji/shared/moji"
)

// Limits of one WebSocket client.
const (
	wsReadLimit     = 4 << 10          // bytes in one client message
	wsMaxTasks      = 32               // task ids one client may follow
	wsMaxTaskID     = 128              // bytes in a task id
	wsWriteTimeout  = 10 * time.Second // to write one message
	wsLookupTimeout = 5 * time.Second  // to look up a task or read the ranking
	wsMsgRate       = 20               // client messages per second, sustained
	wsMsgBurst      = 40               // client messages at once
	// wsCloseGrace bounds the close handshake of a dropped client: then
	// the connection is cut.
	wsCloseGrace = 2 * time.Second
	// wsTokenExpired closes a connection whose token has expired, so that
	// the client logs in again and reconnects.
	wsTokenExpired websocket.StatusCode = 4001
)

// Hub defaults.
const (
	defaultSendBuffer   = 64
	defaultPingInterval = 30 * time.Second
	defaultRankingEvery = time.Second
	// Refresh also without events: events published while the Redis
	// pub/sub connection was down are lost without a trace.
	defaultRankingRefresh  = 30 * time.Second
	defaultMaxConns        = 10000
	defaultMaxConnsPerAddr = 32
)

// Bus re-subscription backoff.
const (
	busRetryMin = 100 * time.Millisecond
	busRetryMax = 10 * time.Second
)

// HubConfig configures a Hub. Bus is required; Ranking and Task are needed
// for the ranking and task topics (without them, subscribing to the topic
// is answered with an error).
type HubConfig struct {
	Log *slog.Logger
	Bus moji.Bus
	// Ranking reads the current ranking from the database (the truth).
	Ranking func(ctx context.Context) ([]moji.RankItem, error)
	// Task reads a task from the database, or returns a *moji.Error
	// ENOTFOUND. A subscription is checked against its owner and answered
	// at once with its state when it is running or already finished.
	Task func(ctx context.Context, taskID string) (*moji.Task, error)
	// PasswordVersion reads a user's password version from the database,
	// or returns a *moji.Error ENOTFOUND for an account that is gone. With
	// it, a user.sessions_ended event the hub could have missed (while it
	// was not subscribed, or while a connection was being registered) is
	// made up for: see checkSessions.
	PasswordVersion func(ctx context.Context, userID int64) (int64, error)
	// SendBuffer is how many messages may wait for one client before the
	// client counts as too slow and is dropped (default 64).
	SendBuffer int
	// PingInterval is how often each client is pinged; a ping without a
	// pong drops it (default 30s).
	PingInterval time.Duration
	// RankingEvery is the least time between two reads of the ranking
	// (default 1s): bursts of task.done events are coalesced.
	RankingEvery time.Duration
	// RankingRefresh is how often the ranking is read, while anyone
	// follows it, even without an event (default 30s): events missed
	// while the bus was unreachable are caught up with. It is sent only
	// when it changed.
	RankingRefresh time.Duration
	// MaxConns caps the connections to this hub (default 10000); over it
	// a client is answered 503 before the upgrade.
	MaxConns int
	// MaxConnsPerAddr caps the connections from one client address
	// (default 32); over it a client is answered 429.
	MaxConnsPerAddr int
	// OnConnections, if set, is told of every client that comes (+1) and
	// goes (-1), for a metrics gauge.
	OnConnections func(delta int)
	// OnSlowDrop, if set, is told of every client dropped for being too
	// slow, for a metrics counter.
	OnSlowDrop func()
	// ResultURL, if set, fills a task.done result's image URL from its
	// key (result images are private: pass the signed-URL maker).
	ResultURL func(imageKey string) string
	// OriginPatterns lists other origins allowed to connect (see
	// websocket.AcceptOptions); by default only the request's own host.
	OriginPatterns []string
}

// Hub relays events from the Bus to WebSocket clients (GET /api/v1/ws).
//
// A logged-in client receives its own tasks' events without asking; any
// client may follow a task by id (an anonymous task's id is its credential)
// and the ranking. Routing never waits for a client: each has a bounded
// queue drained by its own writer, and a client whose queue is full is
// dropped. Create it with NewHub, run Run, and Close it on shutdown.
type Hub struct {
	cfg HubConfig
	log *slog.Logger

	mu       sync.Mutex
	closed   bool
	clients  map[*wsClient]struct{}
	byUser   map[int64]map[*wsClient]struct{}
	byTask   map[string]map[*wsClient]struct{}
	rankSubs map[*wsClient]struct{}
	// conns and perAddr count the connections admitted (from before the
	// upgrade until they end), for MaxConns and MaxConnsPerAddr.
	conns   int
	perAddr map[string]int
	// rankMsg is the last ranking.updated message, encoded; nil when
	// there is none or it may be stale.
	rankMsg []byte

	rankRead  sync.Mutex    // one ranking read at a time
	rankDirty chan struct{} // cap 1: the ranking may have changed
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
}

// NewHub returns a hub; it routes nothing until Run.
func NewHub(cfg HubConfig) *Hub {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = defaultSendBuffer
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = defaultPingInterval
	}
	if cfg.RankingEvery <= 0 {
		cfg.RankingEvery = defaultRankingEvery
	}
	if cfg.RankingRefresh <= 0 {
		cfg.RankingRefresh = defaultRankingRefresh
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.MaxConnsPerAddr <= 0 {
		cfg.MaxConnsPerAddr = defaultMaxConnsPerAddr
	}
	return &Hub{
		cfg:       cfg,
		log:       cfg.Log,
		clients:   map[*wsClient]struct{}{},
		byUser:    map[int64]map[*wsClient]struct{}{},
		byTask:    map[string]map[*wsClient]struct{}{},
		rankSubs:  map[*wsClient]struct{}{},
		perAddr:   map[string]int{},
		rankDirty: make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
}

// Connections is the number of connected clients.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Close closes every client with StatusGoingAway and waits for them to
// end (each at most a few seconds: the close handshake has timeouts). From
// then on ServeWS answers 503, and Run returns.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	clients := make([]*wsClient, 0, len(h.clients))
	for c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.drop(websocket.StatusGoingAway, "server shutting down", false)
	}
	h.wg.Wait()
}

// Run subscribes to the Bus and routes its events until ctx ends or the
// hub is closed, subscribing again, with backoff, whenever the
// subscription breaks. It also runs the ranking reader. Call it once; it
// returns nil when stopped.
func (h *Hub) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		select {
		case <-h.done:
			cancel()
		case <-ctx.Done():
		}
	})
	wg.Go(func() { h.rankLoop(ctx) })

	backoff := busRetryMin
	retry := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, busRetryMax)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	var resync pass
	defer resync.stop()
	for first := true; ; first = false {
		ch, err := h.cfg.Bus.Subscribe(ctx, hubEvents...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.log.Warn("websocket hub: subscribe to the event bus", "err", err, "retry_in", backoff)
			if !retry() {
				return nil
			}
			continue
		}
		if !first {
			// Events may have been missed: catch up from the database.
			h.log.Info("websocket hub: subscribed to the event bus again")
			h.markRankingDirty()
			// One pass at a time: a bus that keeps dropping must not
			// pile up passes over every followed task.
			resync.stop()
			rctx, cancel := context.WithCancel(ctx)
			resync.cancel = cancel
			wg.Go(func() {
				h.resyncSessions(rctx)
				h.resyncTasks(rctx)
			})
		}
	events:
		for {
			select {
			case <-ctx.Done():
				return nil
			case e, ok := <-ch:
				if !ok {
					break events
				}
				backoff = busRetryMin
				h.route(e)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("websocket hub: event bus subscription closed", "retry_in", backoff)
		if !retry() {
			return nil
		}
	}
}

// hubEvents are the events the hub relays. Not task.deleted, which is for
// workers: other tabs on a deleted task learn of it at their next read of
// the task (404).
var hubEvents = []string{moji.EventTaskProgress, moji.EventTaskDone, moji.EventTaskFailed, moji.EventRankingUpdated,
	moji.EventSessionsEnded}

// route hands an event to the clients it concerns. It never blocks.
func (h *Hub) route(e moji.Event) {
	switch e.Type {
	case moji.EventTaskProgress, moji.EventTaskDone, moji.EventTaskFailed:
		h.routeTask(e)
		if e.Type == moji.EventTaskDone {
			h.markRankingDirty()
		}
	case moji.EventRankingUpdated:
		h.markRankingDirty()
	case moji.EventSessionsEnded:
		h.endSessions(e.OwnerID, e.Version)
	default:
		h.log.Debug("websocket hub: unknown event", "type", e.Type)
	}
}

// endSessions closes user uid's connections whose tokens are not of
// password version pwd (-1: none is, the account is gone) as on an expired
// token (4001), so that their clients ask the person to log in again: a
// token from before a password change must not keep receiving the user's
// events, while a tab already on the new token keeps its connection.
func (h *Hub) endSessions(uid, pwd int64) {
	if uid == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byUser[uid] {
		if c.pwd != pwd {
			c.drop(wsTokenExpired, "session ended", false)
		}
	}
}

// resyncSessions checks every connected user's password version against
// the database, after the hub has subscribed to the bus again: a
// user.sessions_ended missed in the gap would otherwise leave a connection
// of a changed password or deleted account receiving events until its
// token expires.
func (h *Hub) resyncSessions(ctx context.Context) {
	if h.cfg.PasswordVersion == nil {
		return
	}
	for _, uid := range keysLocked(h, h.byUser) {
		if !h.checkSessions(ctx, uid) && ctx.Err() != nil {
			return
		}
	}
}

// checkSessions reads user uid's password version and ends the
// connections whose tokens are of another one. It reports whether it
// could read it; when it could not (the database away), nothing is ended:
// the REST API refuses such a token at once, and the hub checks again
// after its next resubscription.
func (h *Hub) checkSessions(ctx context.Context, uid int64) bool {
	lctx, cancel := context.WithTimeout(ctx, wsLookupTimeout)
	defer cancel()
	pwd, err := h.cfg.PasswordVersion(lctx, uid)
	switch {
	case moji.ErrorCode(err) == moji.ENOTFOUND:
		pwd = -1
	case err != nil:
		if ctx.Err() == nil {
			h.log.Warn("websocket hub: read a user's password version", "user_id", uid, "err", err)
		}
		return false
	}
	h.endSessions(uid, pwd)
	return true
}

func (h *Hub) routeTask(e moji.Event) {
	h.mu.Lock()
	wanted := (e.OwnerID != 0 && len(h.byUser[e.OwnerID]) > 0) || (e.TaskID != "" && len(h.byTask[e.TaskID]) > 0)
	h.mu.Unlock()
	if !wanted { // most events: their owner is connected to another server
		return
	}
	// Encoded once, outside the lock; all its clients share the bytes.
	msg, err := json.Marshal(wsTaskEvent(e, h.cfg.ResultURL))
	if err != nil {
		h.log.Error("websocket hub: encode event", "type", e.Type, "task_id", e.TaskID, "err", err)
		return
	}
	final := e.Type != moji.EventTaskProgress
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.OwnerID != 0 {
		for c := range h.byUser[e.OwnerID] {
			c.enqueue(msg)
		}
	}
	if e.TaskID == "" {
		return
	}
	for c := range h.byTask[e.TaskID] {
		sub := c.tasks[e.TaskID]
		if sub.pending {
			// The task is being looked up: hold the latest event (a
			// final one stays) for subscribeTask, which decides.
			if !sub.final {
				sub.held, sub.percent, sub.final = msg, e.Percent, final
			}
			continue
		}
		if e.OwnerID == 0 || c.userID != e.OwnerID { // else sent as the owner's
			c.enqueue(msg)
		}
		if final { // nothing more will come: free the subscription
			c.forgetTask(e.TaskID)
		}
	}
}

// pass is a cancellable piece of background work.
type pass struct{ cancel context.CancelFunc }

func (p *pass) stop() {
	if p.cancel != nil {
		p.cancel()
	}
}

// resyncTasks tells the clients following a task its state as the
// database has it, after the hub has subscribed to the bus again: a
// task.done missed in the gap would otherwise leave its page waiting. It
// may race a live event; the clients keep the further one, and a final
// event ends the following either way.
func (h *Hub) resyncTasks(ctx context.Context) {
	if h.cfg.Task == nil {
		return
	}
	for _, id := range keysLocked(h, h.byTask) {
		lctx, cancel := context.WithTimeout(ctx, wsLookupTimeout)
		t, err := h.cfg.Task(lctx, id)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil || t == nil {
			continue // deleted, or the database away: their next read tells them
		}
		if e, ok := taskStateEvent(id, t); ok {
			h.routeTask(e) // no OwnerID: to the task's followers only
		}
	}
}

func (h *Hub) markRankingDirty() {
	select {
	case h.rankDirty <- struct{}{}:
	default:
	}
}

// rankLoop reads the ranking when it may have changed, and every
// RankingRefresh, at most once per RankingEvery, and broadcasts it when it
// did change. With nobody subscribed it only forgets the cached ranking.
func (h *Hub) rankLoop(ctx context.Context) {
	if h.cfg.Ranking == nil {
		return
	}
	// Also read it now and then: a ranking.updated event published while
	// the bus was unreachable is lost, and a broken subscription is not
	// always noticed.
	refresh := time.NewTicker(h.cfg.RankingRefresh)
	defer refresh.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.rankDirty:
		case <-refresh.C:
		}
		if wait := time.Until(last.Add(h.cfg.RankingEvery)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select { // the read below covers what was marked meanwhile
		case <-h.rankDirty:
		default:
		}
		h.mu.Lock()
		watched := len(h.rankSubs) > 0
		if !watched {
			h.rankMsg = nil
		}
		h.mu.Unlock()
		if !watched {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, wsLookupTimeout)
		sent, err := h.refreshRanking(rctx, false)
		cancel()
		if sent {
			// Only a broadcast starts the period: a read that found nothing
			// new must not hold back the change that comes right after.
			last = time.Now()
		}
		if err != nil && ctx.Err() == nil {
			h.log.Warn("websocket hub: read the ranking", "err", err)
			h.markRankingDirty() // try again next period
		}
	}
}

// refreshRanking reads the ranking and, if it differs from the last one
// sent, caches it and sends it to the ranking's subscribers. With
// ifMissing it does nothing when a ranking is cached.
func (h *Hub) refreshRanking(ctx context.Context, ifMissing bool) (sent bool, err error) {
	h.rankRead.Lock()
	defer h.rankRead.Unlock()
	if ifMissing {
		h.mu.Lock()
		cached := h.rankMsg != nil
		h.mu.Unlock()
		if cached {
			return false, nil
		}
	}
	items, err := h.cfg.Ranking(ctx)
	if err != nil {
		return false, err
	}
	msg, err := json.Marshal(wsRankingMsg{Type: moji.EventRankingUpdated, Ranking: toRankJSON(items)})
	if err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.Equal(msg, h.rankMsg) {
		return false, nil
	}
	h.rankMsg = msg
	for c := range h.rankSubs {
		c.enqueue(msg)
	}
	return true, nil
}

// ServeWS upgrades the request and serves one client until it leaves, is
// dropped or the hub closes. userID is the verified user, 0 for anonymous;
// addr is the client's address, for MaxConnsPerAddr; expires, unless zero,
// is when the client's token expires: the connection is then closed with
// status 4001 "token expired", and a token already expired is refused
// with a 401.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request, userID, pwd int64, addr string, expires time.Time) {
	if !expires.IsZero() && !time.Now().Before(expires) {
		writeHubError(w, http.StatusUnauthorized, moji.EUNAUTHORIZED,
			"Your session has expired; log in again.", "")
		return
	}
	switch h.admit(addr) {
	case admitted:
	case admitClosed:
		writeShuttingDown(w)
		return
	case admitFull:
		writeHubError(w, http.StatusServiceUnavailable, moji.EUNAVAILABLE,
			"The server has too many live connections; please try again later.", "30")
		return
	case admitAddrFull:
		writeHubError(w, http.StatusTooManyRequests, moji.ERATELIMIT,
			"Too many live connections from your address; close some first.", "30")
		return
	}
	defer h.leave(addr)
	// Answered here, in JSON like every other error, rather than in the
	// WebSocket library's plain text.
	if !httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade") || !httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "websocket") {
		w.Header().Set("Upgrade", "websocket")
		writeHubError(w, http.StatusUpgradeRequired, moji.EINVALID, "Connect with a WebSocket.", "")
		return
	}
	if !h.originAllowed(r) {
		writeHubError(w, http.StatusForbidden, moji.EFORBIDDEN, "This site does not take WebSocket connections from that origin.", "")
		return
	}
	// The server's read and write timeouts stay on a hijacked connection:
	// lift them, the hub has its own.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.OriginPatterns})
	if err != nil { // Accept has answered
		h.log.Debug("websocket accept", "err", err, "remote", r.RemoteAddr)
		return
	}
	conn.SetReadLimit(wsReadLimit)

	// The connection outlives any request deadline. Cancelling ctx cuts
	// it; cancelling wctx cuts it if a write is in progress.
	ctx, cut := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cut()
	wctx, abortWrites := context.WithCancel(ctx)
	defer abortWrites()
	c := &wsClient{
		h:           h,
		conn:        conn,
		userID:      userID,
		pwd:         pwd,
		send:        make(chan []byte, h.cfg.SendBuffer),
		done:        make(chan struct{}),
		abortWrites: abortWrites,
		cut:         cut,
		tasks:       map[string]*wsTaskSub{},
	}
	if !h.register(c) {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer h.unregister(c)
	if userID != 0 && h.cfg.PasswordVersion != nil {
		// The token was checked before the client was registered: a
		// user.sessions_ended routed in between did not reach it.
		h.checkSessions(ctx, userID)
	}
	if !expires.IsZero() {
		t := time.AfterFunc(time.Until(expires), func() {
			c.drop(wsTokenExpired, "token expired", false)
		})
		defer t.Stop()
	}

	var wg sync.WaitGroup
	wg.Go(func() { c.readLoop(ctx) })
	wg.Go(func() { c.pingLoop(wctx) })
	c.writeLoop(wctx) // returns once the connection is closed
	c.cutTimer.Stop()
	cut()
	wg.Wait()
}

func writeShuttingDown(w http.ResponseWriter) {
	writeHubError(w, http.StatusServiceUnavailable, moji.EUNAVAILABLE,
		"The server is shutting down; please reconnect.", "5")
}

// writeHubError answers a request that is not upgraded with the API's
// JSON error body.
// originAllowed is websocket.Accept's origin rule, checked first so that a
// refusal is a JSON error: no Origin (not a browser), the request's own
// host, or one matching OriginPatterns.
func (h *Hub) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range h.cfg.OriginPatterns {
		target := u.Host
		if strings.Contains(p, "://") { // as the library does: scheme://host
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

func writeHubError(w http.ResponseWriter, status int, code, message, retryAfter string) {
	var body errorBody
	body.Error.Code, body.Error.Message = code, message
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, body)
}

// What admit decided.
const (
	admitted = iota
	admitClosed
	admitFull     // MaxConns reached
	admitAddrFull // MaxConnsPerAddr reached
)

// admit counts a connection from addr, unless the hub is closed or a cap
// is reached. Once admitted, the connection must leave.
func (h *Hub) admit(addr string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return admitClosed
	case h.conns >= h.cfg.MaxConns:
		return admitFull
	case h.perAddr[addr] >= h.cfg.MaxConnsPerAddr:
		return admitAddrFull
	}
	h.conns++
	h.perAddr[addr]++
	return admitted
}

func (h *Hub) leave(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns--
	if h.perAddr[addr]--; h.perAddr[addr] <= 0 {
		delete(h.perAddr, addr)
	}
}

func (h *Hub) register(c *wsClient) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.wg.Add(1)
	h.clients[c] = struct{}{}
	if c.userID != 0 {
		addTo(h.byUser, c.userID, c)
	}
	h.mu.Unlock()
	if h.cfg.OnConnections != nil {
		h.cfg.OnConnections(1)
	}
	return true
}

func (h *Hub) unregister(c *wsClient) {
	h.mu.Lock()
	delete(h.clients, c)
	if c.userID != 0 {
		removeFrom(h.byUser, c.userID, c)
	}
	for id := range c.tasks {
		removeFrom(h.byTask, id, c)
	}
	delete(h.rankSubs, c)
	h.mu.Unlock()
	if h.cfg.OnConnections != nil {
		h.cfg.OnConnections(-1)
	}
	h.wg.Done()
}

// keysLocked returns m's keys, read under the hub's lock: a snapshot to
// work through without holding it.
func keysLocked[K comparable](h *Hub, m map[K]map[*wsClient]struct{}) []K {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Collect(maps.Keys(m))
}

func addTo[K comparable](m map[K]map[*wsClient]struct{}, k K, c *wsClient) {
	set := m[k]
	if set == nil {
		set = map[*wsClient]struct{}{}
		m[k] = set
	}
	set[c] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*wsClient]struct{}, k K, c *wsClient) {
	set := m[k]
	delete(set, c)
	if len(set) == 0 {
		delete(m, k)
	}
}

// wsClient is one connection. Its subscriptions (tasks, and membership in
// the hub's sets) are guarded by the hub's mu: a client is in byTask[id]
// while tasks[id] is set (until unregister).
type wsClient struct {
	h      *Hub
	conn   *websocket.Conn
	userID int64
	pwd    int64 // the password version of its token (see moji.EventSessionsEnded)
	send   chan []byte
	tasks  map[string]*wsTaskSub

	once        sync.Once
	done        chan struct{} // closed by drop
	code        websocket.StatusCode
	reason      string
	abortWrites context.CancelFunc
	cut         context.CancelFunc
	cutTimer    *time.Timer
}

// wsTaskSub is a client's subscription to a task. It is pending while the
// task is looked up: its events are then held (the latest, or the final
// one) rather than sent, since the client may not be allowed to see them.
type wsTaskSub struct {
	pending bool
	held    []byte // the event to send, if any
	percent int    // held's percent
	final   bool   // held is task.done or task.failed
}

// forgetTask ends the client's subscription to a task. The hub's mu must
// be held.
func (c *wsClient) forgetTask(id string) {
	delete(c.tasks, id)
	removeFrom(c.h.byTask, id, c)
}

// enqueue queues msg without ever blocking; a client whose queue is full
// is dropped.
func (c *wsClient) enqueue(msg []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.send <- msg:
	default:
		if c.h.cfg.OnSlowDrop != nil {
			c.h.cfg.OnSlowDrop()
		}
		c.drop(websocket.StatusPolicyViolation, "too slow", true)
	}
}

// drop ends the client: its writer closes the connection with code and
// reason, and a connection still open wsCloseGrace later is cut. abort
// cuts short a write in progress at once (a client that does not read
// would hold it for the whole write timeout). It never blocks; the first
// call wins.
func (c *wsClient) drop(code websocket.StatusCode, reason string, abort bool) {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		if abort {
			c.abortWrites()
		}
		c.cutTimer = time.AfterFunc(wsCloseGrace, c.cut)
		close(c.done)
	})
}

// writeLoop sends queued messages until the client is dropped, then
// closes the connection.
func (c *wsClient) writeLoop(ctx context.Context) {
	for {
		select {
		case <-c.done:
			c.conn.Close(c.code, c.reason)
			return
		case msg := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
			err := c.conn.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				c.drop(websocket.StatusInternalError, "write failed", true)
			}
		}
	}
}

// pingLoop drops the client when a ping gets no pong in time.
func (c *wsClient) pingLoop(ctx context.Context) {
	every := c.h.cfg.PingInterval
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, min(every, wsWriteTimeout))
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				c.drop(websocket.StatusPolicyViolation, "no pong", true)
				return
			}
		}
	}
}

// wsRequest is a client message.
type wsRequest struct {
	Type   string `json:"type"`
	Topic  string `json:"topic"`
	TaskID string `json:"task_id"`
}

// readLoop handles client messages until the connection ends.
func (c *wsClient) readLoop(ctx context.Context) {
	tokens, last := float64(wsMsgBurst), time.Now()
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			code := websocket.StatusNormalClosure
			if websocket.CloseStatus(err) == -1 {
				code = websocket.StatusGoingAway
			}
			c.drop(code, "", false)
			return
		}
		now := time.Now()
		tokens = min(wsMsgBurst, tokens+now.Sub(last).Seconds()*wsMsgRate)
		last = now
		if tokens < 1 {
			c.drop(websocket.StatusPolicyViolation, "too many messages", false)
			return
		}
		tokens--
		var req wsRequest
		if typ != websocket.MessageText || json.Unmarshal(data, &req) != nil {
			c.reply("", moji.Errorf(moji.EINVALID, "A message must be a JSON object as text."))
			continue
		}
		if err := c.handle(ctx, req); err != nil {
			c.reply(req.TaskID, err)
		}
	}
}

func (c *wsClient) handle(ctx context.Context, req wsRequest) error {
	var sub bool
	switch req.Type {
	case "subscribe":
		sub = true
	case "unsubscribe":
	default:
		return moji.Errorf(moji.EINVALID, "Unknown message type %q: use subscribe or unsubscribe.", req.Type)
	}
	switch req.Topic {
	case "task":
		if req.TaskID == "" || len(req.TaskID) > wsMaxTaskID {
			return moji.Errorf(moji.EINVALID, "A task subscription needs a task_id.")
		}
		if sub {
			return c.subscribeTask(ctx, req.TaskID)
		}
		c.unsubscribeTask(req.TaskID)
	case "ranking":
		if sub {
			return c.subscribeRanking(ctx)
		}
		c.h.mu.Lock()
		delete(c.h.rankSubs, c)
		c.h.mu.Unlock()
	default:
		return moji.Errorf(moji.EINVALID, "Unknown topic %q: use task or ranking.", req.Topic)
	}
	return nil
}

// subscribeTask checks that the client may follow the task and subscribes
// it, answering at once with the task's state when it is running or
// already finished (its events may all have gone before the subscription).
// The subscription is made, pending, before the task is read, so that no
// event can fall between the read and the subscription.
func (c *wsClient) subscribeTask(ctx context.Context, id string) error {
	h := c.h
	if h.cfg.Task == nil {
		return moji.Errorf(moji.EUNAVAILABLE, "Task updates are not available here; poll the task instead.")
	}
	h.mu.Lock()
	if _, already := c.tasks[id]; already {
		h.mu.Unlock()
		return nil
	}
	if len(c.tasks) >= wsMaxTasks {
		h.mu.Unlock()
		return moji.Errorf(moji.EINVALID, "A connection may follow at most %d tasks.", wsMaxTasks)
	}
	sub := &wsTaskSub{pending: true}
	c.tasks[id] = sub
	addTo(h.byTask, id, c)
	h.mu.Unlock()

	lctx, cancel := context.WithTimeout(ctx, wsLookupTimeout)
	t, err := h.cfg.Task(lctx, id)
	cancel()
	if err == nil && (t == nil || (t.OwnerID != 0 && t.OwnerID != c.userID)) {
		// As GET /api/v1/faces/tasks/{id}: someone else's task does not exist.
		err = moji.Errorf(moji.ENOTFOUND, "No such task.")
	}
	var now []byte // the task's state as a message, if it is worth one
	nowFinal := false
	if err == nil {
		if e, ok := taskStateEvent(id, t); ok {
			now, err = json.Marshal(wsTaskEvent(e, h.cfg.ResultURL))
			nowFinal = e.Type != moji.EventTaskProgress
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		c.forgetTask(id)
		return err
	}
	sub.pending = false
	// Events held meanwhile were sent to the owner already.
	delivered := t.OwnerID != 0 && t.OwnerID == c.userID
	var msg []byte
	final := true
	switch {
	case sub.final: // finished while being read
		if !delivered {
			msg = sub.held
		}
	case nowFinal:
		msg = now
	case sub.held != nil && (now == nil || sub.percent >= t.Percent):
		final = false
		if !delivered {
			msg = sub.held
		}
	default:
		final = false
		msg = now
	}
	sub.held = nil
	if msg != nil {
		c.enqueue(msg)
	}
	if final {
		c.forgetTask(id)
	}
	return nil
}

// taskStateEvent is the event that tells a new subscriber a task's state:
// its result or error when finished, its progress when running; none when
// it is queued (the client has just been told so).
func taskStateEvent(id string, t *moji.Task) (moji.Event, bool) {
	switch t.State {
	case moji.TaskDone:
		return moji.Event{Type: moji.EventTaskDone, TaskID: id, Result: t.Result}, true
	case moji.TaskFailed:
		te := t.Error
		if te == nil {
			te = &moji.TaskError{Code: moji.EINTERNAL, Message: "The task failed."}
		}
		return moji.Event{Type: moji.EventTaskFailed, TaskID: id, Error: te}, true
	case moji.TaskRunning:
		return moji.Event{Type: moji.EventTaskProgress, TaskID: id, Stage: t.Stage, Percent: t.Percent}, true
	}
	return moji.Event{}, false
}

func (c *wsClient) unsubscribeTask(id string) {
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := c.tasks[id]; ok {
		c.forgetTask(id)
	}
}

// subscribeRanking adds the client to the ranking's subscribers and sends
// it the current ranking, reading it first if none is cached.
func (c *wsClient) subscribeRanking(ctx context.Context) error {
	h := c.h
	if h.cfg.Ranking == nil {
		return moji.Errorf(moji.EUNAVAILABLE, "Ranking updates are not available here.")
	}
	h.mu.Lock()
	h.rankSubs[c] = struct{}{}
	msg := h.rankMsg
	if msg != nil {
		c.enqueue(msg)
	}
	h.mu.Unlock()
	if msg != nil {
		return nil
	}
	// Subscribed first, so that the read's broadcast includes this client
	// (and rankLoop no longer forgets the cache).
	lctx, cancel := context.WithTimeout(ctx, wsLookupTimeout)
	_, err := h.refreshRanking(lctx, true)
	cancel()
	if err != nil {
		h.mu.Lock()
		delete(h.rankSubs, c)
		h.mu.Unlock()
	}
	return err
}

// reply sends the client an error message. Errors that are not a
// *moji.Error are logged and shown as internal.
func (c *wsClient) reply(taskID string, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		err = moji.Errorf(moji.EUNAVAILABLE, "The server is busy; please try again.")
	}
	if me := (*moji.Error)(nil); !errors.As(err, &me) {
		c.h.log.Error("websocket request failed", "user_id", c.userID, "task_id", taskID, "err", err)
	}
	msg, merr := json.Marshal(wsErrorMsg{Type: "error", TaskID: taskID,
		Error: moji.TaskError{Code: moji.ErrorCode(err), Message: moji.ErrorMessage(err)}})
	if merr == nil {
		c.enqueue(msg)
	}
}

// Client-facing messages. They never carry an owner.

type wsProgressMsg struct {
	Type    string     `json:"type"`
	TaskID  string     `json:"task_id"`
	Stage   moji.Stage `json:"stage"`
	Percent int        `json:"percent"`
}

type wsDoneMsg struct {
	Type   string       `json:"type"`
	TaskID string       `json:"task_id"`
	Result *moji.Result `json:"result"`
}

type wsFailedMsg struct {
	Type   string          `json:"type"`
	TaskID string          `json:"task_id"`
	Error  *moji.TaskError `json:"error"`
}

type wsErrorMsg struct {
	Type   string         `json:"type"`
	TaskID string         `json:"task_id,omitempty"`
	Error  moji.TaskError `json:"error"`
}

type wsRankingMsg struct {
	Type    string     `json:"type"`
	Ranking []rankJSON `json:"ranking"`
}

// wsTaskEvent is the client-facing form of a task event.
func wsTaskEvent(e moji.Event, resultURL func(string) string) any {
	switch e.Type {
	case moji.EventTaskProgress:
		return wsProgressMsg{Type: e.Type, TaskID: e.TaskID, Stage: e.Stage, Percent: e.Percent}
	case moji.EventTaskDone:
		r := e.Result
		if r != nil && resultURL != nil && r.ImageKey != "" {
			cp := *r
			cp.ImageURL = resultURL(r.ImageKey)
			r = &cp
		}
		return wsDoneMsg{Type: e.Type, TaskID: e.TaskID, Result: r}
	default:
		return wsFailedMsg{Type: e.Type, TaskID: e.TaskID, Error: e.Error}
	}
}

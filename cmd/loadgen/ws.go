package main

// The ws mode (make bench-ws): many WebSocket clients on one running
// server, all subscribed to the ranking. It measures what the clients
// cost the server in memory, and how long a ranking change takes to reach
// every one of them.
//
// One logged-in owner connection watches its own tasks. Each round
// submits one photo as the owner; the moment task.done reaches the owner
// is T0. The task added a use to its template, so the hub reads the
// ranking and broadcasts ranking.updated; each client's latency is the
// arrival of the first update that shows the new use count, minus T0 (and
// minus the submit, for the whole path). Rounds are -gap apart: the hub
// sends the first change after a quiet second at once and coalesces the
// rest, and this measures the fan-out, not the coalescing.
//
// The server's memory is read before the clients connect and with them
// connected and idle, both before any task has run (see runWS). The
// clients connect from 127.1.x.y, -per-addr from each address: the server
// admits 32 WebSockets per address, and real clients come from many.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"

	"github.com/igemoji/igemoji/shared/moji"
)

// wsMaxWarmup bounds the warm-up tasks (one per photo); with -rounds
// they stay within one user's photo allowance.
const wsMaxWarmup = 10

// wsReport is what one run measured; the JSON line is for the record.
type wsReport struct {
	Clients         int       `json:"clients"`
	ConnectS        float64   `json:"connect_s"`
	ConnectEach     quantiles `json:"connect_each"` // dial, subscribe, initial ranking
	RSSBefore       float64   `json:"rss_before_mib"`
	RSSWith         float64   `json:"rss_with_clients_mib"`
	RSSAfter        float64   `json:"rss_after_rounds_mib"`
	PerConnKiB      float64   `json:"rss_per_connection_kib"`
	HeapPerConnKiB  float64   `json:"heap_per_connection_kib"`
	StackPerConnKiB float64   `json:"stack_per_connection_kib"`
	GoroutinesPer   float64   `json:"goroutines_per_connection"`
	ServerConns     int       `json:"server_ws_connections"` // the server's gauge, clients and owner
	Rounds          int       `json:"rounds"`
	TaskDone        quantiles `json:"submit_to_task_done"` // at the owner
	FromDone        quantiles `json:"delivery_after_task_done"`
	FromSubmit      quantiles `json:"delivery_after_submit"`
	// Spread is, per round, the last client's arrival minus the first's:
	// the fan-out itself, whenever the hub started it.
	Spread  quantiles `json:"spread_per_round"`
	Missed  int       `json:"missed"`
	Dropped int       `json:"dropped"`        // client connections that ended during the run
	Stray   int       `json:"stray_messages"` // anything but a ranking update
	// Average busy cores during the rounds (gaps included): the server,
	// this generator, and the rest of the machine.
	ServerCPU  float64 `json:"server_cpu_cores"`
	LoadgenCPU float64 `json:"loadgen_cpu_cores"`
	OtherCPU   float64 `json:"other_cpu_cores"`
	CPUs       int     `json:"cpus"`
}

// wsRun is the clients and what their readers record.
type wsRun struct {
	template int64
	conns    []*websocket.Conn
	cur      atomic.Pointer[fanRound] // the round updates are counted for
	closing  atomic.Bool
	dropped  atomic.Int64
	stray    atomic.Int64 // messages other than ranking updates
	errMu    sync.Mutex
	firstErr error // why the first client stopped reading
}

// fanRound collects each client's first ranking update showing want uses.
type fanRound struct {
	want     int
	arrivals []atomic.Int64 // unix ns; 0: none yet
	got      atomic.Int64
	all      chan struct{} // closed when every client has one
}

func newFanRound(want, clients int) *fanRound {
	return &fanRound{want: want, arrivals: make([]atomic.Int64, clients), all: make(chan struct{})}
}

func (r *fanRound) arrive(i int, at time.Time) {
	if r.arrivals[i].CompareAndSwap(0, at.UnixNano()) && r.got.Add(1) == int64(len(r.arrivals)) {
		close(r.all)
	}
}

func runWS(ctx context.Context, o options) error {
	photos, err := readPhotos(o.photos)
	if err != nil {
		return err
	}
	metricsURL := o.url + "/metrics"
	if _, err := scrape(ctx, metricsURL); err != nil {
		return err
	}
	src := newSources(o.url)
	owner := src.main()
	fin := newFinishes()
	tokens, closeOwner, err := ownersWithSockets(ctx, owner, 1, fin)
	defer closeOwner()
	if err != nil {
		return err
	}
	token := tokens[0]

	// Memory before and with the clients is read before any task runs:
	// a task leaves garbage that the next collection frees, and memory
	// the connections then reuse would not count against them.
	logf("settling %s, then reading the server's memory", o.settle)
	before, err := settleAndScrape(ctx, o.settle, metricsURL)
	if err != nil {
		return err
	}
	logf("connecting %d clients, %d at a time, %d per source address", o.clients, o.dialers, o.perAddr)
	w := &wsRun{template: o.template}
	defer w.closeAll()
	t0 := time.Now()
	each, err := w.connect(ctx, src, o)
	if err != nil {
		return err
	}
	r := wsReport{Clients: o.clients, ConnectS: round(time.Since(t0).Seconds()), ConnectEach: quantilesOf(each),
		Rounds: o.rounds, CPUs: runtime.NumCPU()}
	for i, c := range w.conns {
		go w.read(i, c)
	}
	logf("all connected in %.2fs; settling %s", r.ConnectS, o.settle)
	with, err := settleAndScrape(ctx, o.settle, metricsURL)
	if err != nil {
		return err
	}

	if err := warmUp(ctx, o, owner, token, photos, fin); err != nil {
		return err
	}
	base, err := owner.rankingUses(ctx, o.template)
	if err != nil {
		return err
	}
	busy0, err := sampleBusy(ctx, metricsURL)
	if err != nil {
		return err
	}
	if err := w.rounds(ctx, o, owner, token, photos, fin, base, &r); err != nil {
		return err
	}
	busy1, err := sampleBusy(ctx, metricsURL)
	if err != nil {
		return err
	}
	r.ServerCPU, r.LoadgenCPU, r.OtherCPU = busy0.cores(busy1)
	after, err := settleAndScrape(ctx, o.settle, metricsURL)
	if err != nil {
		return err
	}

	fillMemory(&r, before, with, after)
	r.Dropped, r.Stray = int(w.dropped.Load()), int(w.stray.Load())
	printWS(r)
	return w.verdict(r)
}

// warmUp runs every photo once as the owner, unmeasured, so that the
// rounds find the vision pipeline warm. The clients get these rankings
// too; no round is open, so they are not counted.
func warmUp(ctx context.Context, o options, owner client, token string, photos []photo, fin *finishes) error {
	warm := photos[:min(len(photos), wsMaxWarmup)]
	logf("warm-up: %d tasks", len(warm))
	for _, p := range warm {
		if _, err := ownerTask(ctx, o, owner, token, p, fin); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	return nil
}

// rounds plays -rounds rounds, -gap apart, and fills the report's
// latencies and missed updates. Round k expects the template at base+k
// uses.
func (w *wsRun) rounds(ctx context.Context, o options, owner client, token string, photos []photo, fin *finishes, base int, r *wsReport) error {
	var taskDone, fromDone, fromSubmit, spread []time.Duration
	for k := 1; k <= o.rounds; k++ {
		if err := waitUntil(ctx, o.gap); err != nil {
			return err
		}
		rd, submitted, done, err := w.playRound(ctx, o, owner, token, photos[k%len(photos)], fin, base+k)
		if err != nil {
			return fmt.Errorf("round %d: %w", k, err)
		}
		taskDone = append(taskDone, done.Sub(submitted))
		var lat []time.Duration // this round's, after task.done
		for i := range rd.arrivals {
			if ns := rd.arrivals[i].Load(); ns != 0 {
				at := time.Unix(0, ns)
				lat = append(lat, at.Sub(done))
				fromSubmit = append(fromSubmit, at.Sub(submitted))
			}
		}
		fromDone = append(fromDone, lat...)
		missed := len(rd.arrivals) - len(lat)
		r.Missed += missed
		q := quantilesOf(lat)
		if len(lat) > 0 {
			spread = append(spread, slices.Max(lat)-slices.Min(lat))
		}
		logf("round %d: task done %.0f ms after submit; %d of %d clients updated %.1f to %.1f ms after task.done (p50 %.1f), missed %d",
			k, ms(done.Sub(submitted)), len(lat), len(rd.arrivals), q.Min, q.Max, q.P50, missed)
	}
	r.TaskDone, r.FromDone, r.FromSubmit = quantilesOf(taskDone), quantilesOf(fromDone), quantilesOf(fromSubmit)
	r.Spread = quantilesOf(spread)
	return nil
}

// busySample is the CPU time used so far by the server (from its
// metrics), by this generator and by the whole machine.
type busySample struct {
	server float64
	cpuSample
}

func sampleBusy(ctx context.Context, metricsURL string) (busySample, error) {
	m, err := scrape(ctx, metricsURL)
	if err != nil {
		return busySample{}, err
	}
	c, err := sampleCPU(os.Getpid())
	return busySample{server: m["process_cpu_seconds_total"], cpuSample: c}, err
}

// cores converts the CPU used between a and b into average busy cores.
func (a busySample) cores(b busySample) (server, self, other float64) {
	wall := b.at.Sub(a.at).Seconds()
	server, self = (b.server-a.server)/wall, (b.self-a.self)/wall
	other = max(0, (b.system-a.system)/wall-server-self)
	return round(server), round(self), round(other)
}

// settleAndScrape waits for d (the server's garbage collector and
// scavenger catch up) and reads its metrics.
func settleAndScrape(ctx context.Context, d time.Duration, url string) (metrics, error) {
	if err := waitUntil(ctx, d); err != nil {
		return nil, err
	}
	return scrape(ctx, url)
}

// ownerTask submits p as the owner and waits for task.done on the owner's
// WebSocket; it returns that event's arrival.
func ownerTask(ctx context.Context, o options, owner client, token string, p photo, fin *finishes) (time.Time, error) {
	id, err := owner.submit(ctx, token, p, o.template)
	if err != nil {
		return time.Time{}, err
	}
	e := fin.entry(id)
	select {
	case <-e.seen:
	case <-time.After(o.timeout):
		// Tell a lost event from a slow task.
		v, err := owner.task(ctx, token, id)
		if err != nil {
			return time.Time{}, fmt.Errorf("task %s: no task.done on the owner's WebSocket within %s (%v)", id, o.timeout, err)
		}
		return time.Time{}, fmt.Errorf("task %s: no task.done on the owner's WebSocket within %s; the API says %s", id, o.timeout, v.State)
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	if e.state != moji.TaskDone {
		v, _ := owner.task(ctx, token, id)
		return time.Time{}, fmt.Errorf("task %s: %w", id, v.check())
	}
	return e.at, nil
}

// connect opens -clients clients, -dialers at a time and -per-addr from
// each source address: each dials, subscribes to the ranking and reads
// the initial one. It returns how long each took.
func (w *wsRun) connect(ctx context.Context, src *sources, o options) ([]time.Duration, error) {
	n := o.clients
	w.conns = make([]*websocket.Conn, n)
	took := make([]time.Duration, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(o.dialers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				w.conns[i], errs[i] = subscribeRanking(ctx, src.get(i/o.perAddr))
				took[i] = time.Since(t)
				if errs[i] != nil {
					return // the others finish their own, then the run stops
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("client %d of %d: %w (is the open-file limit high enough? see ulimit -n)", i+1, n, err)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return took, nil
}

// subscribeRanking opens one anonymous client, subscribes it to the
// ranking and waits for the initial ranking.updated.
func subscribeRanking(ctx context.Context, cl client) (*websocket.Conn, error) {
	c, err := cl.dial(ctx, "")
	if err != nil {
		return nil, err
	}
	// A read whose context ends closes the connection; this one returns
	// first, and later reads use no deadline.
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Write(rctx, websocket.MessageText, []byte(`{"type":"subscribe","topic":"ranking"}`)); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	_, b, err := c.Read(rctx)
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("initial ranking: %w", err)
	}
	var m struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &m) != nil || m.Type != moji.EventRankingUpdated {
		c.CloseNow()
		return nil, fmt.Errorf("initial ranking: got %.200s", b)
	}
	return c, nil
}

// read records client i's ranking updates into the current round until
// the connection ends. Arrival is stamped before decoding.
func (w *wsRun) read(i int, c *websocket.Conn) {
	for {
		_, b, err := c.Read(context.Background())
		at := time.Now()
		if err != nil {
			if !w.closing.Load() {
				w.dropped.Add(1)
				w.errMu.Lock()
				if w.firstErr == nil {
					w.firstErr = fmt.Errorf("client %d: %w", i+1, err)
				}
				w.errMu.Unlock()
			}
			return
		}
		var m struct {
			Type    string     `json:"type"`
			Ranking []rankItem `json:"ranking"`
		}
		if json.Unmarshal(b, &m) != nil || m.Type != moji.EventRankingUpdated {
			w.stray.Add(1)
			continue
		}
		// Outside a round (the warm-up) updates are not measured; an
		// older ranking may still arrive late.
		if r := w.cur.Load(); r != nil && usesOf(m.Ranking, w.template) >= r.want {
			r.arrive(i, at)
		}
	}
}

// playRound submits one task as the owner and waits until every client has
// the ranking with want uses, or -timeout after task.done. It returns the
// round, the submit time and T0.
func (w *wsRun) playRound(ctx context.Context, o options, owner client, token string, p photo, fin *finishes, want int) (*fanRound, time.Time, time.Time, error) {
	rd := newFanRound(want, len(w.conns))
	w.cur.Store(rd)
	submitted := time.Now()
	done, err := ownerTask(ctx, o, owner, token, p, fin)
	if err != nil {
		return nil, submitted, done, err
	}
	select {
	case <-rd.all:
	case <-time.After(time.Until(done.Add(o.timeout))):
	case <-ctx.Done():
		return nil, submitted, done, ctx.Err()
	}
	return rd, submitted, done, nil
}

// fillMemory fills the report's server memory figures from the scrapes before
// the clients, with them idle, and after the rounds.
func fillMemory(r *wsReport, before, with, after metrics) {
	n := float64(r.Clients)
	r.RSSBefore, r.RSSWith, r.RSSAfter = round(before.rssMiB()), round(with.rssMiB()), round(after.rssMiB())
	perKiB := func(name string) float64 { return round((with[name] - before[name]) / n / 1024) }
	r.PerConnKiB = perKiB("process_resident_memory_bytes")
	r.HeapPerConnKiB = perKiB("go_memstats_heap_inuse_bytes")
	r.StackPerConnKiB = perKiB("go_memstats_stack_inuse_bytes")
	r.GoroutinesPer = round((with["go_goroutines"] - before["go_goroutines"]) / n)
	r.ServerConns = int(with["igemoji_websocket_connections"])
}

// verdict fails the run when a client missed an update or lost its
// connection.
func (w *wsRun) verdict(r wsReport) error {
	var errs []error
	if r.Missed > 0 {
		errs = append(errs, fmt.Errorf("%d ranking updates missed (of %d)", r.Missed, r.Clients*r.Rounds))
	}
	if r.Dropped > 0 {
		w.errMu.Lock()
		errs = append(errs, fmt.Errorf("%d client connections ended during the run; the first: %v", r.Dropped, w.firstErr))
		w.errMu.Unlock()
	}
	if want := r.Clients + 1; r.ServerConns != want {
		errs = append(errs, fmt.Errorf("the server counted %d WebSocket connections, want %d (clients and owner)", r.ServerConns, want))
	}
	return errors.Join(errs...)
}

func (w *wsRun) closeAll() {
	w.closing.Store(true)
	for _, c := range w.conns {
		if c != nil {
			c.CloseNow()
		}
	}
}

func printWS(r wsReport) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "clients\t%d subscribed to the ranking (+1 owner connection; the server counts %d)\n", r.Clients, r.ServerConns)
	c := r.ConnectEach
	fmt.Fprintf(tw, "connect\t%.2f s for all; each (dial, subscribe, initial ranking) p50 / p99 / max %.1f / %.1f / %.1f ms\n", r.ConnectS, c.P50, c.P99, c.Max)
	fmt.Fprintf(tw, "server RSS before / with clients\t%.1f / %.1f MiB (after the rounds %.1f MiB)\n", r.RSSBefore, r.RSSWith, r.RSSAfter)
	fmt.Fprintf(tw, "per connection\t%.1f KiB RSS (Go heap %.1f KiB, stacks %.1f KiB, %.1f goroutines)\n", r.PerConnKiB, r.HeapPerConnKiB, r.StackPerConnKiB, r.GoroutinesPer)
	t := r.TaskDone
	fmt.Fprintf(tw, "rounds\t%d (submit→task.done at the owner p50 / max %.0f / %.0f ms)\n", r.Rounds, t.P50, t.Max)
	d, s := r.FromDone, r.FromSubmit
	fmt.Fprintf(tw, "ranking.updated after task.done\tp50 / p99 / max %.1f / %.1f / %.1f ms (min %.1f; %d deliveries)\n", d.P50, d.P99, d.Max, d.Min, d.N)
	fmt.Fprintf(tw, "ranking.updated after submit\tp50 / p99 / max %.1f / %.1f / %.1f ms\n", s.P50, s.P99, s.Max)
	fmt.Fprintf(tw, "first to last client, per round\tp50 / max %.1f / %.1f ms\n", r.Spread.P50, r.Spread.Max)
	fmt.Fprintf(tw, "missed updates\t%d\n", r.Missed)
	fmt.Fprintf(tw, "dropped clients / stray messages\t%d / %d\n", r.Dropped, r.Stray)
	fmt.Fprintf(tw, "busy cores during the rounds\tserver %.2f, generator %.2f, rest of the machine %.2f, of %d CPUs\n",
		r.ServerCPU, r.LoadgenCPU, r.OtherCPU, r.CPUs)
	tw.Flush()
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// Command loadgen is the project's load generator. It has three modes:
//
// gallery (the default) measures gallery-page throughput and latency of a
// real `igemoji serve` on SQLite or MariaDB, over loopback, and the
// server's resident memory at idle and after the load:
//
//	make build && go run ./cmd/loadgen -db sqlite
//	go run ./cmd/loadgen -db mysql -mysql-url mysql://root@127.0.0.1:3306
//
// It starts the binary with a temporary data directory (and, for mysql, a
// database of its own), signs up one user, uploads -templates templates so
// the gallery has several pages, then GETs /api/v1/emojis/pages/1..N from
// -c keep-alive connections.
//
// tasks (make bench-tasks) submits photos to a running server as tasks and
// follows each to its end: tasks per second and submit-to-done latency.
//
// ws (make bench-ws) holds thousands of WebSocket clients on a running
// server and measures their memory on the server and how fast a ranking
// change reaches all of them.
//
// The tasks and ws modes drive a server that scripts/bench-*.sh started;
// see tasks.go and ws.go. The generator runs on the same machine as the
// server and competes with it for CPU; read the figures with that in mind.
// Linux only: gallery reads memory from /proc.
package main

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	mode string

	// gallery
	bin, db, mysqlURL, assets string
	templates, c, pages       int
	d, warmup, idle           time.Duration

	// tasks and ws: a server that is already running
	url, photos   string
	template      int64
	workerMetrics string // comma-separated /metrics URLs of worker processes
	timeout       time.Duration

	// tasks
	n, warmupTasks int
	poll           time.Duration

	// ws
	clients, rounds, dialers, perAddr int
	settle, gap                       time.Duration
}

// modeFlags lists the flags each mode reads; any other flag given is a
// mistake (most likely a flag meant for another mode) and is refused.
var modeFlags = map[string][]string{
	"gallery": {"bin", "db", "mysql-url", "assets", "templates", "c", "d", "warmup", "idle", "path-pages"},
	"tasks":   {"url", "photos", "template", "worker-metrics", "timeout", "n", "c", "warmup-tasks", "poll"},
	"ws":      {"url", "photos", "template", "timeout", "clients", "rounds", "dialers", "per-addr", "settle", "gap"},
}

// report is what one run measured; the JSON line is what the README quotes.
type report struct {
	DB        string  `json:"db"`
	Templates int     `json:"templates"`
	Pages     int     `json:"pages"`
	Conns     int     `json:"conns"`
	Duration  float64 `json:"duration_s"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	RPS       float64 `json:"req_per_s"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	IdleRSS   float64 `json:"idle_rss_mib"`
	LoadRSS   float64 `json:"rss_after_load_mib"`
	// Average busy cores in the measured window; other is the rest of the
	// machine: MariaDB on mysql, and anything else running.
	ServerCPU  float64 `json:"server_cpu_cores"`
	LoadgenCPU float64 `json:"loadgen_cpu_cores"`
	OtherCPU   float64 `json:"other_cpu_cores"`
	GoVersion  string  `json:"go"`
	CPUs       int     `json:"cpus"`
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "gallery", "what to measure: gallery, tasks or ws")

	flag.StringVar(&o.bin, "bin", "./bin/igemoji", "gallery: server binary (make build)")
	flag.StringVar(&o.db, "db", "sqlite", "gallery: database, sqlite or mysql")
	flag.StringVar(&o.mysqlURL, "mysql-url", "mysql://root@127.0.0.1:3306", "gallery: MariaDB server; a database is created on it and dropped afterwards")
	flag.StringVar(&o.assets, "assets", ".cache", "gallery: assets directory (make assets), for the built-in templates")
	flag.IntVar(&o.templates, "templates", 36, "gallery: user templates to upload before the load")
	flag.IntVar(&o.c, "c", 0, "gallery: concurrent connections (default 32); tasks: tasks in flight (default 8)")
	flag.DurationVar(&o.d, "d", 10*time.Second, "gallery: measured duration")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "gallery: load before measuring (connections, caches)")
	flag.DurationVar(&o.idle, "idle", 3*time.Second, "gallery: quiet time before reading idle memory")
	flag.IntVar(&o.pages, "path-pages", 3, "gallery: requests cycle over gallery pages 1..N")

	flag.StringVar(&o.url, "url", "", "tasks, ws: base URL of the running server, e.g. http://127.0.0.1:8080")
	flag.StringVar(&o.photos, "photos", ".cache/npm/@vladmandic/face-api@1.7.15/demo", "tasks, ws: directory of photos (.jpg, .jpeg, .png, .webp), used in turn")
	flag.Int64Var(&o.template, "template", 1, "tasks, ws: template id the photos are emojified with")
	flag.DurationVar(&o.timeout, "timeout", 0, "tasks: longest wait for one task (default 2m); ws: for a round's task.done, then for every client's update (default 30s)")
	flag.StringVar(&o.workerMetrics, "worker-metrics", "", "tasks: comma-separated /metrics URLs of the worker processes, for their memory and work")
	flag.IntVar(&o.n, "n", 60, "tasks: tasks measured")
	flag.IntVar(&o.warmupTasks, "warmup-tasks", 2, "tasks: tasks run to the end before measuring (models warm, not counted)")
	flag.DurationVar(&o.poll, "poll", 250*time.Millisecond, "tasks: polling interval of GET /api/v1/faces/tasks/{id}, beside the WebSocket")
	flag.IntVar(&o.clients, "clients", 2000, "ws: concurrent WebSocket clients subscribed to the ranking")
	flag.IntVar(&o.rounds, "rounds", 10, "ws: tasks submitted, one at a time, each changing the ranking")
	flag.IntVar(&o.dialers, "dialers", 50, "ws: connections opened at once while connecting")
	flag.IntVar(&o.perAddr, "per-addr", 25, "ws: clients per source address 127.1.x.y (the server admits 32 WebSockets per address)")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "ws: quiet time before each memory reading")
	flag.DurationVar(&o.gap, "gap", 2*time.Second, "ws: quiet time between rounds (the hub coalesces ranking updates to one a second)")
	flag.Parse()

	if err := o.check(); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: invalid flags:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var err error
	switch o.mode {
	case "gallery":
		err = run(ctx, o)
	case "tasks":
		err = runTasks(ctx, o)
	case "ws":
		err = runWS(ctx, o)
	}
	if err != nil {
		if ctx.Err() != nil && o.mode == "gallery" {
			err = fmt.Errorf("interrupted (server stopped, temporary data removed): %w", err)
		} else if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		cancel()
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

// check validates the command line: the mode, flags that belong to it,
// and the values of the new modes (gallery checks its own in run). It
// fills the mode-dependent defaults.
func (o *options) check() error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	allowed, ok := modeFlags[o.mode]
	if !ok {
		return fmt.Errorf("-mode %q: want gallery, tasks or ws", o.mode)
	}
	var errs []error
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) {
		set[f.Name] = true
		if f.Name != "mode" && !slices.Contains(allowed, f.Name) {
			errs = append(errs, fmt.Errorf("-%s does not apply to -mode %s", f.Name, o.mode))
		}
	})
	defaultC := map[string]int{"gallery": 32, "tasks": 8}[o.mode]
	if !set["c"] {
		o.c = defaultC
	}
	if !set["timeout"] {
		o.timeout = map[string]time.Duration{"tasks": 2 * time.Minute, "ws": 30 * time.Second}[o.mode]
	}
	if o.mode == "gallery" {
		return errors.Join(errs...)
	}
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(o.url); o.url == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("-url %q: want the running server's base URL, e.g. http://127.0.0.1:8080", o.url)
	}
	o.url = strings.TrimRight(o.url, "/")
	if o.template < 1 {
		bad("-template must be a template id (1 or more)")
	}
	if o.timeout <= 0 {
		bad("-timeout must be positive")
	}
	switch o.mode {
	case "tasks":
		if o.c < 1 || o.n < 1 {
			bad("-n and -c must be at least 1")
		} else if perClient := (o.n + o.c - 1) / o.c; perClient > maxUsersPerAddr*tasksPerUser {
			bad("-n / -c must be at most %d tasks per client (photos per user and sign-ups per address are limited)", maxUsersPerAddr*tasksPerUser)
		}
		if o.warmupTasks < 0 || o.warmupTasks > maxWarmupTasks {
			bad("-warmup-tasks must be from 0 to %d", maxWarmupTasks)
		}
		if o.poll < 10*time.Millisecond {
			bad("-poll must be at least 10ms")
		}
		for _, m := range splitList(o.workerMetrics) {
			if u, err := url.Parse(m); err != nil || u.Scheme != "http" || u.Host == "" {
				bad("-worker-metrics: %q is not an http:// URL", m)
			}
		}
	case "ws":
		if o.clients < 1 || o.rounds < 1 || o.dialers < 1 || o.perAddr < 1 {
			bad("-clients, -rounds, -dialers and -per-addr must be at least 1")
		} else if (o.clients+o.perAddr-1)/o.perAddr > maxSources {
			bad("-clients / -per-addr must be at most %d source addresses", maxSources)
		}
		if o.rounds > tasksPerUser-wsMaxWarmup {
			bad("-rounds must be at most %d (tasks per user are rate-limited)", tasksPerUser-wsMaxWarmup)
		}
		if o.settle < 0 || o.gap < 0 {
			bad("-settle and -gap must not be negative")
		}
	}
	return errors.Join(errs...)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(ctx context.Context, o options) (err error) {
	if o.db != "sqlite" && o.db != "mysql" {
		return fmt.Errorf("-db %q: want sqlite or mysql", o.db)
	}
	if o.c < 1 || o.pages < 1 || o.templates < 0 || o.d <= 0 || o.warmup < 0 {
		return errors.New("-c and -path-pages must be at least 1, -templates and -warmup not negative, -d positive")
	}
	// The Go version the server was built with, which is what is measured.
	bi, err := buildinfo.ReadFile(o.bin)
	if err != nil {
		return fmt.Errorf("%s: %w (run `make build`)", o.bin, err)
	}
	assets, _ := filepath.Abs(o.assets)
	if _, err := os.Stat(filepath.Join(assets, "emoji", ".stamp")); err != nil {
		return fmt.Errorf("assets in %s missing (run `make assets`): %w", assets, err)
	}
	dir, err := os.MkdirTemp("", "igemoji-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	secret := make([]byte, 32)
	rand.Read(secret)
	env := []string{"IGEMOJI_DATA=" + dir, "IGEMOJI_ASSETS=" + assets,
		"IGEMOJI_JWT_SECRET=" + hex.EncodeToString(secret), "IGEMOJI_BCRYPT_COST=10",
		"IGEMOJI_DATABASE_URL="} // SQLite in the data directory unless set below
	if o.db == "mysql" {
		// Not :=, which would shadow the named result the defer sets.
		var dbURL string
		var drop func() error
		if dbURL, drop, err = createMySQL(ctx, o.mysqlURL); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, drop()) }() // runs after the server stops
		env[len(env)-1] = "IGEMOJI_DATABASE_URL=" + dbURL
	}

	logf("starting %s on %s", o.bin, o.db)
	srv, err := startServer(ctx, o.bin, env)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()

	logf("server at %s; uploading %d templates", srv.base, o.templates)
	if err := populate(ctx, srv.base, o.templates, o.pages); err != nil {
		return err
	}
	logf("idle for %s", o.idle)
	select {
	case <-time.After(o.idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	idleRSS, err := srv.rssMiB()
	if err != nil {
		return err
	}

	logf("load: %d connections, %s warm-up, %s measured", o.c, o.warmup, o.d)
	// CPU is sampled over the measured window only, from a timer beside
	// the workers; load runs warmup+d, so the first sample is in by then.
	type mark struct {
		cpuSample
		err error
	}
	first := make(chan mark, 1)
	time.AfterFunc(o.warmup, func() { s, err := sampleCPU(srv.cmd.Process.Pid); first <- mark{s, err} })
	res := load(ctx, srv.base, o.c, o.pages, o.warmup, o.d)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	last, err := sampleCPU(srv.cmd.Process.Pid)
	m := <-first
	if err = errors.Join(err, m.err); err != nil {
		return err
	}
	loadRSS, err := srv.rssMiB()
	if err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}

	r := report{DB: o.db, Templates: o.templates, Pages: o.pages, Conns: o.c, Duration: o.d.Seconds(),
		Requests: len(res.lat) + res.errs, Errors: res.errs, RPS: float64(len(res.lat)+res.errs) / o.d.Seconds(),
		IdleRSS: round(idleRSS), LoadRSS: round(loadRSS), GoVersion: bi.GoVersion, CPUs: runtime.NumCPU()}
	r.ServerCPU, r.LoadgenCPU, r.OtherCPU = cores(m.cpuSample, last)
	if n := len(res.lat); n > 0 {
		slices.Sort(res.lat)
		// Nearest rank: the smallest latency at or above fraction p of all.
		pct := func(p float64) float64 { return ms(res.lat[max(0, int(p*float64(n)+0.999999)-1)]) }
		r.P50, r.P90, r.P99, r.Max = pct(0.50), pct(0.90), pct(0.99), ms(res.lat[n-1])
	}
	r.RPS = round(r.RPS)
	printReport(r)
	if res.errs > 0 {
		return fmt.Errorf("%d of %d requests failed; first: %v", res.errs, r.Requests, res.firstErr)
	}
	if len(res.lat) == 0 {
		return errors.New("no request completed in the measured window")
	}
	return nil
}

func printReport(r report) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "database\t%s\n", r.DB)
	fmt.Fprintf(tw, "gallery pages cycled\t1..%d (%d user templates + built-ins)\n", r.Pages, r.Templates)
	fmt.Fprintf(tw, "connections\t%d\n", r.Conns)
	fmt.Fprintf(tw, "requests\t%d in %.0fs\n", r.Requests, r.Duration)
	fmt.Fprintf(tw, "errors\t%d\n", r.Errors)
	fmt.Fprintf(tw, "req/s\t%.1f\n", r.RPS)
	fmt.Fprintf(tw, "p50 / p90 / p99 / max\t%.2f / %.2f / %.2f / %.2f ms\n", r.P50, r.P90, r.P99, r.Max)
	fmt.Fprintf(tw, "RSS idle / after load\t%.1f / %.1f MiB\n", r.IdleRSS, r.LoadRSS)
	fmt.Fprintf(tw, "busy cores\tserver %.2f, generator %.2f, other %.2f\n", r.ServerCPU, r.LoadgenCPU, r.OtherCPU)
	fmt.Fprintf(tw, "Go, CPUs\t%s, %d (shared by server and generator)\n", r.GoVersion, r.CPUs)
	tw.Flush()
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func ms(d time.Duration) float64 { return round(float64(d.Microseconds()) / 1000) }
func round(f float64) float64    { return float64(int64(f*100+0.5)) / 100 }

// logf reports progress on stderr, keeping stdout for the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
}

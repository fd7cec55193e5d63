package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/igemoji/igemoji/server"
	"github.com/igemoji/igemoji/shared/builtin"
	"github.com/igemoji/igemoji/shared/config"
	"github.com/igemoji/igemoji/shared/disk"
	"github.com/igemoji/igemoji/shared/mem"
	"github.com/igemoji/igemoji/shared/metrics"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/redis"
	"github.com/igemoji/igemoji/shared/s3"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/web"
	"github.com/igemoji/igemoji/worker/runner"
	"github.com/igemoji/igemoji/worker/vision"
)

// backend is what serve and worker share: configuration, logger, the
// database, the files and the transport.
type backend struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	blobs   moji.Blobs
	queue   moji.Queue
	bus     moji.Bus
	metrics *metrics.Metrics
	closers []func() error
}

func openBackend(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) (*backend, error) {
	cfg, err := config.Load(name, args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil, err
	} else if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w (see %s --help)", strings.TrimPrefix(name, "igemoji "), err, name)}
	}
	b := &backend{cfg: cfg, log: cfg.Logger(stderr), metrics: metrics.New()}
	// The SQLite file and the blobs live here: a fresh checkout has none.
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// Not under openCtx: a migration may take longer (Open bounds the
	// connecting itself).
	if b.db, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b.closers = append(b.closers, b.db.Close)
	if cfg.S3 != nil {
		b.blobs, err = s3.New(openCtx, *cfg.S3)
	} else {
		b.blobs, err = disk.New(filepath.Join(cfg.DataDir, "blobs"))
	}
	if err != nil {
		b.close()
		return nil, err
	}
	if cfg.RedisURL != "" {
		rc, err := redis.Open(openCtx, cfg.RedisURL, redis.Options{Visibility: 2 * cfg.TaskLease, Logger: b.log})
		if err != nil {
			b.close()
			return nil, err
		}
		b.closers = append(b.closers, rc.Close)
		b.queue, b.bus = rc.Queue(), rc.Bus()
	} else {
		b.queue, b.bus = mem.NewQueue(), mem.NewBus(0)
	}
	b.metrics.Gauge("igemoji_queue_depth", "Task ids in the queue not yet acknowledged.", func(ctx context.Context) (float64, error) {
		n, err := b.queue.Len(ctx)
		return float64(n), err
	})
	b.metrics.Gauge("igemoji_tasks_queued", "Tasks the database holds as queued.", func(ctx context.Context) (float64, error) {
		n, err := b.db.CountTasks(ctx, moji.TaskQueued)
		return float64(n), err
	})
	b.metrics.Gauge("igemoji_oldest_queued_task_age_seconds", "Age of the oldest queued task (0: none).", func(ctx context.Context) (float64, error) {
		t, ok, err := b.db.OldestQueued(ctx)
		if err != nil || !ok {
			return 0, err
		}
		return b.db.Now().Sub(t).Seconds(), nil
	})
	return b, nil
}

func (b *backend) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// background runs the jobs every process with a database runs: the
// reconciler and, with workers, the runner; plus the photo retention
// sweep.
func (b *backend) startWorkers(ctx context.Context, wg *sync.WaitGroup, workers int, name string) error {
	rec := &runner.Reconciler{Log: b.log, DB: b.db, Queue: b.queue, Every: max(b.cfg.TaskLease/3, time.Second)}
	wg.Go(func() { rec.Run(ctx) })
	if workers == 0 {
		return nil
	}
	vcfg := vision.DefaultConfig(b.cfg.AssetsDir)
	vcfg.Observe = b.metrics.Observe()
	p, err := vision.Open(vcfg)
	if err != nil {
		return err
	}
	r := runner.New(runner.Config{Name: name, Concurrency: workers, Lease: b.cfg.TaskLease, MaxSide: b.cfg.MaxSide,
		KeepPhotos: b.cfg.PhotoRetention > 0}, b.log, b.db, b.blobs, b.queue, b.bus, p, b.metrics)
	wg.Go(func() {
		defer p.Close()
		r.Run(ctx)
	})
	// With no retention the runner deletes each photo as it finishes; the
	// sweep then catches the ones a crash or a storage error left behind,
	// and the files deletions could not delete.
	wg.Go(func() { r.Sweep(ctx, max(b.cfg.PhotoRetention, time.Minute)) })
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	b, err := openBackend(ctx, "igemoji serve", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	cfg, log := b.cfg, b.log
	secret, err := cfg.Secret()
	if err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	srv := server.New(cfg, log, secret, server.Deps{DB: b.db, Blobs: b.blobs, Queue: b.queue, Bus: b.bus,
		Metrics: b.metrics, Web: web.Handler()})

	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if missing, err := srv.BuiltinsMissing(openCtx, builtin.Keys()); err != nil {
		return err
	} else if missing {
		sets, err := builtin.ReadRendered(filepath.Join(cfg.AssetsDir, "emoji"))
		if err != nil {
			return err
		}
		if err := srv.SeedBuiltins(openCtx, sets); err != nil {
			return err
		}
	}

	// Background work stops before the database closes.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopBG()
	if err := b.startWorkers(bg, &wg, cfg.Workers, "serve"); err != nil {
		return err
	}
	wg.Go(func() { srv.Run(bg) })

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// Tests and scripts that ask for port 0 read the real address here.
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()),
		"database", string(b.db.Dialect()), "data", cfg.DataDir, "transport", transportName(cfg), "workers", cfg.Workers)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopBG()
	wg.Wait()
	log.Info("stopped")
	return nil
}

// worker runs task workers as their own process: the distributed setup,
// against a shared database and Redis. It serves /metrics and /healthz on
// --metrics-addr.
func worker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	b, err := openBackend(ctx, "igemoji worker", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	cfg, log := b.cfg, b.log
	if cfg.RedisURL == "" {
		return usageError{errors.New("worker: --redis-url (IGEMOJI_REDIS_URL) is required; without Redis, igemoji serve runs the workers itself")}
	}
	n := cfg.Workers
	if n == 0 {
		n = 1 // "auto" means 0 for serve with Redis; a worker process always works
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopBG()
	if err := b.startWorkers(bg, &wg, n, "worker-"+hostTag()); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", b.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	log.Info("worker running", "metrics", "http://"+displayAddr(ln.Addr())+"/metrics", "workers", n, "database", string(b.db.Dialect()))

	<-ctx.Done()
	log.Info("shutting down")
	stopBG() // a task in flight is left to its lease; another worker takes it over
	wg.Wait()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutCtx)
	log.Info("stopped")
	return nil
}

func transportName(cfg *config.Config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "in-process"
}

func displayAddr(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && (t.IP == nil || t.IP.IsUnspecified()) {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return a.String()
}

// hostTag names this process for the queue: host and pid, so that two
// workers on one machine are two consumers.
func hostTag() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "host"
	}
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

// Package redistest gives tests a Redis: the machine's shared one (URL and
// Prefix), or a private, disposable redis-server (Start) for tests that
// restart it. When neither is available, tests skip loudly, except under CI
// (CI set), where they fail: there, the Redis run is mandatory.
package redistest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/igemoji/igemoji/shared/store/storetest"
)

// DefaultURL is this machine's Redis; override with IGEMOJI_TEST_REDIS_URL.
const DefaultURL = "redis://127.0.0.1:6379/0"

func baseURL() string {
	if u := os.Getenv("IGEMOJI_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// URL returns the URL of the shared test Redis after checking that it
// answers. Tests sharing it must keep to their own Prefix.
func URL(t testing.TB) string {
	t.Helper()
	raw := baseURL()
	opt, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatalf("IGEMOJI_TEST_REDIS_URL: %v", err)
	}
	if err := ping(opt, 3*time.Second); err != nil {
		storetest.ServiceMissing(t, "Redis at "+redacted(raw), err)
	}
	return raw
}

// Prefix returns a key prefix of the test's own; the shared Redis' keys
// under it are deleted when the test ends.
func Prefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "igemoji-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		opt, err := goredis.ParseURL(baseURL())
		if err != nil {
			return
		}
		rdb := goredis.NewClient(opt)
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

func ping(opt *goredis.Options, timeout time.Duration) error {
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// Server is a private redis-server that keeps nothing on disk.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	log     bytes.Buffer // the current process' output, for failures
	stopped bool
}

// Start starts a private redis-server on a free loopback port and waits
// until it answers; it is killed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		storetest.ServiceMissing(t, "redis-server (the program)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), port: port}
	t.Cleanup(s.Stop)
	s.start()
	return s
}

// URL is the server's redis:// URL, database 0.
func (s *Server) URL() string {
	return "redis://127.0.0.1:" + strconv.Itoa(s.port) + "/0"
}

// Restart kills the server and starts a fresh, empty one on the same port,
// as a crash of a Redis without persistence would.
func (s *Server) Restart() {
	s.t.Helper()
	s.kill()
	s.start()
}

// Stop kills the server; it is safe to call more than once.
func (s *Server) Stop() {
	s.kill()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

func (s *Server) start() {
	s.t.Helper()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		s.t.Fatal("redistest: server already stopped")
	}
	s.log.Reset()
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--dbfilename", "unused.rdb",
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	cmd.Stdout = &lockedWriter{mu: &s.mu, b: &s.log}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		s.t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	opt := &goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(s.port), MaxRetries: -1}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := ping(opt, time.Second)
		if err == nil {
			return
		}
		select {
		case <-exited:
			s.t.Fatalf("redis-server on port %d exited: %s", s.port, s.output())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d does not answer: %v\n%s", s.port, err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// lockedWriter lets the process write its log while tests read it.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

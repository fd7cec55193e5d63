package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/igemoji/igemoji/shared/store"
)

// server is one `igemoji serve` subprocess.
type server struct {
	cmd  *exec.Cmd
	base string     // http://127.0.0.1:PORT
	done chan error // receives cmd.Wait's result once
	tail *tailBuffer
	once sync.Once
	err  error
}

// startServer runs bin on a free loopback port and returns once /readyz
// answers 200. env adds IGEMOJI_* settings to the inherited environment.
func startServer(ctx context.Context, bin string, env []string) (*server, error) {
	// info, not warn: the listening line that names the port is logged at
	// info. Every request is then logged too, as it is with the default
	// configuration; a goroutine drains stderr so the server never blocks
	// on a full pipe.
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--log-level", "info", "--log-format", "text")
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = io.Discard, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1), tail: &tailBuffer{}}
	go func() { s.done <- cmd.Wait(); pw.Close() }()

	found := make(chan string, 1)
	go func() {
		addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.tail.add(sc.Text())
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr) // keep draining even after an over-long line
	}()

	select {
	case addr := <-found:
		s.base = "http://" + addr
	case err := <-s.done:
		return nil, fmt.Errorf("server exited before listening (%v):\n%s", err, s.tail)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server did not log its listening address within 30s:\n%s", s.tail)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/readyz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("server at %s not ready within 30s:\n%s", s.base, s.tail)
}

// stop sends SIGTERM and waits for a clean exit (the server drains its
// requests), killing it after 20s. It is safe to call more than once.
func (s *server) stop() error {
	s.once.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.done:
			if err != nil {
				s.err = fmt.Errorf("server exit after SIGTERM: %v:\n%s", err, s.tail)
			}
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			s.err = errors.New("server did not stop within 20s of SIGTERM; killed")
		}
	})
	return s.err
}

// rssMiB reads the server's resident set size from /proc (Linux only).
func (s *server) rssMiB() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return 0, fmt.Errorf("parse %q: %w", line, err)
			}
			return float64(kb) / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS line in /proc/PID/status")
}

// tailBuffer keeps the server's last log lines for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 20 {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return "  " + strings.Join(t.lines, "\n  ")
}

// createMySQL makes a fresh database on the server named by base
// (mysql://USER:PASS@HOST:PORT) and returns the server's URL for it and a
// function that drops it.
func createMySQL(ctx context.Context, base string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "mysql" {
		return "", nil, fmt.Errorf("-mysql-url %q: want mysql://USER:PASS@HOST:PORT", base)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "igemoji_bench_" + hex.EncodeToString(b)
	u.Path = "/" + name
	_, dsn, err := store.ParseURL(u.String())
	if err != nil {
		return "", nil, err
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", nil, err
	}
	cfg.DBName = "" // the admin connection must not name the database it creates
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database on %s: %w", u.Redacted(), err)
	}
	drop := func() error {
		defer admin.Close()
		// Not ctx: drop even after an interrupt.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

package main

// Process-level tests: the built binary run as separate server and worker
// processes against the machine's MariaDB and a private Redis, killed with
// SIGKILL and restarted the way production processes die.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/redis/redistest"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/shared/store/storetest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds igemoji once for the process tests.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "igemoji-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "igemoji")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one igemoji process.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	base string // serve: http://host:port
	logs *lockedLog
	done chan struct{}
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) add(line string) { l.mu.Lock(); l.b.WriteString(line + "\n"); l.mu.Unlock() }
func (l *lockedLog) String() string  { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

var readyRE = regexp.MustCompile(`msg=(?:listening addr=(\S+)|"worker running")`)

// startProc runs the binary with args and waits until it says it is ready.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, logs: &lockedLog{}, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.logs.add(sc.Text())
			if m := readyRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.logs.String())
		}
	})
	select {
	case addr := <-ready:
		if addr != "" {
			p.base = "http://" + addr
		}
	case <-p.done:
		t.Fatalf("%s exited early:\n%s", name, p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready in 60s:\n%s", name, p.logs.String())
	}
	return p
}

// kill sends SIGKILL: no clean-up, no last words, as in a crash.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// app gives the HTTP helpers of the in-process tests to a serve process.
func (p *proc) app() *app { return &app{t: p.t, base: p.base, logs: &syncBuffer{w: nopPipe()}} }

func nopPipe() *io.PipeWriter {
	r, w := io.Pipe()
	go io.Copy(io.Discard, r)
	return w
}

// count counts log lines of p that contain every one of parts.
func (p *proc) count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(p.logs.String(), "\n") {
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			n++
		}
	}
	return n
}

// waitLog waits until p logs a line matching re and returns its submatches.
func (p *proc) waitLog(re *regexp.Regexp, within time.Duration) []string {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.logs.String()); m != nil {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.t.Fatalf("%s: no log line matching %s within %v", p.name, re, within)
	return nil
}

// cluster is the distributed setup: servers and workers as processes
// sharing MariaDB, a private Redis and a data directory.
type cluster struct {
	t       *testing.T
	common  []string
	servers []*proc
	workers []*proc
	redis   *redistest.Server
}

func newCluster(t *testing.T, servers, workers int) *cluster {
	t.Helper()
	assets := visionAssets(t)
	c := &cluster{t: t, redis: redistest.Start(t)}
	c.common = []string{"--database-url", storetest.URL(t, store.MySQL), "--redis-url", c.redis.URL(),
		"--data", t.TempDir(), "--jwt-secret", testSecret, "--assets", assets, "--bcrypt-cost", "4",
		"--task-lease", "3s", "--log-level", "info"}
	for i := range servers {
		c.servers = append(c.servers, startProc(t, fmt.Sprintf("server%d", i+1),
			append([]string{"serve", "--addr", "127.0.0.1:0"}, c.common...)...))
	}
	for range workers {
		c.addWorker()
	}
	return c
}

func (c *cluster) addWorker() *proc {
	c.t.Helper()
	w := startProc(c.t, fmt.Sprintf("worker%d", len(c.workers)+1),
		append([]string{"worker", "--metrics-addr", "127.0.0.1:0"}, c.common...)...)
	c.workers = append(c.workers, w)
	return w
}

// processed counts, over every worker, the tasks processed to the end.
// processed counts the workers' "task done" lines for id. Called once the
// API says the task is done: the worker logs the line just after recording
// the result, so it waits a little for the first.
func (c *cluster) processed(id string) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, w := range c.workers {
			n += w.count(`msg="task done"`, "task="+id)
		}
		if n > 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two servers and two workers as separate processes: a client on server A
// sees the progress of its task, processed by a worker, while a client on
// server B sees the ranking change; then many clients on both servers
// submit at once and every task completes exactly once.
func TestDistributedServersAndWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	c := newCluster(t, 2, 2)
	a, b := c.servers[0].app(), c.servers[1].app()
	photo := readFile(t, samplePhoto(t, visionAssets(t), 1))

	tok := a.signup("ana@example.com", "ana")
	wsA := dialWS(t, a.base, tok)
	wsB := dialWS(t, b.base, "")
	wsB.send(map[string]string{"type": "subscribe", "topic": "ranking"})
	wsB.waitFor(5*time.Second, "the initial ranking", isType(moji.EventRankingUpdated, ""))

	v := a.submit(tok, photo, "1")
	_, seen := wsA.waitFor(60*time.Second, "task.done on server A", isType(moji.EventTaskDone, v.ID))
	progress := 0
	for _, m := range seen {
		if m["type"] == moji.EventTaskProgress && m["task_id"] == v.ID {
			progress++
		}
	}
	if progress == 0 {
		t.Errorf("client on server A: got no task.progress before task.done (%v)", seen)
	}
	wsB.waitFor(10*time.Second, "ranking.updated on server B", func(m map[string]any) bool {
		items, _ := m["ranking"].([]any)
		return m["type"] == moji.EventRankingUpdated && rankingUses(items, 1) == 1
	})
	if n := c.processed(v.ID); n != 1 {
		t.Errorf("workers that processed the task: got %d, want 1", n)
	}
	for _, s := range c.servers {
		if n := s.count(`msg="task claimed"`); n != 0 {
			t.Errorf("%s claimed %d tasks; servers run no workers with Redis", s.name, n)
		}
	}

	// Many clients, both servers.
	const clients, each = 6, 3
	var mu sync.Mutex
	ids := []string{v.ID}
	var wg sync.WaitGroup
	for i := range clients {
		srv := []*app{a, b}[i%2]
		ctok := srv.signup(fmt.Sprintf("m%d@example.com", i), fmt.Sprintf("many%d", i))
		wg.Go(func() {
			var mine []string
			for range each {
				mine = append(mine, srv.submit(ctok, photo, "2").ID)
			}
			for _, id := range mine {
				if got := srv.waitTask(ctok, id, 3*time.Minute); got.State != moji.TaskDone {
					t.Errorf("task %s: got %s %+v, want done", id, got.State, got.Error)
				}
			}
			mu.Lock()
			ids = append(ids, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if n := c.processed(id); n != 1 {
			t.Errorf("task %s processed to the end %d times, want 1", id, n)
		}
	}
	rk := b.getJSON("/api/v1/faces/ranking", "").json(t)
	if n := rankingUses(rk["items"].([]any), 2); n != clients*each {
		t.Errorf("uses of template 2: got %d, want %d", n, clients*each)
	}
	for _, w := range c.workers {
		if w.count(`msg="task done"`) == 0 {
			t.Errorf("%s did no work; the queue should spread tasks", w.name)
		}
	}
}

// A worker killed with SIGKILL in the middle of a task: the task still
// completes, on the other worker, once the dead one's lease lapses.
func TestWorkerKilledMidTask(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	c := newCluster(t, 1, 1)
	a := c.servers[0].app()
	photo := readFile(t, samplePhoto(t, visionAssets(t), 3))
	tok := a.signup("kim@example.com", "kim")

	victim := c.workers[0]
	claimed := regexp.MustCompile(`msg="task claimed" task=([0-9a-f]{32})`)
	var id string
	for try := 0; try < 5 && id == ""; try++ {
		v := a.submit(tok, photo, "1")
		m := victim.waitLog(regexp.MustCompile(`msg="task claimed" task=`+v.ID), 30*time.Second)
		victim.kill()
		if victim.count(`msg="task done"`, "task="+v.ID) == 0 {
			id = claimed.FindStringSubmatch(m[0])[1]
			break
		}
		// It finished before the kill landed; start another and try again.
		victim = c.addWorker()
	}
	if id == "" {
		t.Fatal("could not kill a worker mid-task in 5 tries")
	}
	rescuer := c.addWorker()
	got := a.waitTask(tok, id, 60*time.Second)
	if got.State != moji.TaskDone {
		t.Fatalf("task after its worker was killed: got %s %+v, want done", got.State, got.Error)
	}
	if n := c.processed(id); n != 1 { // first: it waits for the log line
		t.Errorf("task processed to the end %d times, want 1", n)
	}
	if n := rescuer.count(`msg="task done"`, "task="+id); n != 1 {
		t.Errorf("the surviving worker finished the task %d times, want 1", n)
	}
}

// Redis restarted mid-run, losing every queued entry: no accepted task is
// lost, because the database is the truth and the reconciler re-enqueues.
func TestRedisRestartLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	c := newCluster(t, 1, 1)
	a := c.servers[0].app()
	photo := readFile(t, samplePhoto(t, visionAssets(t), 2))
	tok := a.signup("lee@example.com", "lee")
	var ids []string
	for range 6 {
		ids = append(ids, a.submit(tok, photo, "1").ID)
	}
	c.redis.Restart() // the queue and its consumer group are gone
	for range 2 {
		ids = append(ids, a.submit(tok, photo, "1").ID)
	}
	for _, id := range ids {
		if got := a.waitTask(tok, id, 2*time.Minute); got.State != moji.TaskDone {
			t.Errorf("task %s after the Redis restart: got %s %+v, want done", id, got.State, got.Error)
		}
		if n := c.processed(id); n != 1 {
			t.Errorf("task %s processed to the end %d times, want 1", id, n)
		}
	}
	// Events flow again after the restart: a fresh task reaches the owner's
	// WebSocket.
	ws := dialWS(t, a.base, tok)
	v := a.submit(tok, photo, "1")
	ws.waitFor(60*time.Second, "task.done after the Redis restart", isType(moji.EventTaskDone, v.ID))
}

// The embedded setup killed mid-task and started again on the same data:
// the interrupted task and the queued ones complete, each exactly once.
func TestEmbeddedKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	assets := visionAssets(t)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--jwt-secret", testSecret,
		"--assets", assets, "--bcrypt-cost", "4", "--task-lease", "3s", "--log-level", "info"}
	first := startProc(t, "serve", args...)
	a := first.app()
	tok := a.signup("yoon@example.com", "yoon")
	photo := readFile(t, samplePhoto(t, assets, 1))
	var ids []string
	for range 4 {
		ids = append(ids, a.submit(tok, photo, "1").ID)
	}
	first.waitLog(regexp.MustCompile(`msg="task claimed"`), 30*time.Second)
	first.kill()
	doneBefore := first.count(`msg="task done"`)
	if doneBefore == len(ids) {
		t.Fatalf("every task finished before the kill; the test proves nothing")
	}

	second := startProc(t, "serve-again", args...)
	b := second.app()
	for _, id := range ids {
		if got := b.waitTask(tok, id, 90*time.Second); got.State != moji.TaskDone {
			t.Errorf("task %s after restart: got %s %+v, want done", id, got.State, got.Error)
		}
	}
	total := first.count(`msg="task done"`) + second.count(`msg="task done"`)
	if total != len(ids) {
		t.Errorf("tasks processed to the end: got %d, want %d (each once)", total, len(ids))
	}
	rk := b.getJSON("/api/v1/faces/ranking", "").json(t)
	if n := rankingUses(rk["items"].([]any), 1); n != len(ids) {
		t.Errorf("uses recorded: got %d, want %d", n, len(ids))
	}
	var _ = http.StatusOK
}

// A task deleted while a worker runs it: the server tells the workers over
// Redis and the worker stops at once (the log line comes only from the
// bus's word, not from a heartbeat that finds the task gone); no result is
// recorded for it.
func TestDeleteStopsTaskOnItsWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level test")
	}
	c := newCluster(t, 1, 1)
	a, w := c.servers[0].app(), c.workers[0]
	photo := readFile(t, samplePhoto(t, visionAssets(t), 2))
	tok := a.signup("del@example.com", "deleter")
	// The photo takes the worker a few hundred milliseconds; the delete
	// has to land inside them, so a run that finished first is tried again.
	for try := 0; try < 8; try++ {
		v := a.submit(tok, photo, "1")
		w.waitLog(regexp.MustCompile(`msg="task claimed" task=`+v.ID), 30*time.Second)
		wantStatus(t, "delete a running task", a.do("DELETE", "/api/v1/faces/tasks/"+v.ID, tok, "", nil), 204)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			stopped := w.count(`msg="task deleted while it ran; stopped"`, "task="+v.ID)
			done := w.count(`msg="task done"`, "task="+v.ID)
			if stopped > 0 && done > 0 {
				t.Fatalf("task %s: both stopped and done", v.ID)
			}
			if stopped > 0 {
				wantError(t, "the deleted task", a.getJSON("/api/v1/faces/tasks/"+v.ID, tok), 404, moji.ENOTFOUND)
				return
			}
			if done > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if w.count(`msg="task done"`, "task="+v.ID) == 0 {
			t.Fatalf("task %s: the worker neither stopped nor finished within 10 s of the delete", v.ID)
		}
	}
	t.Fatal("every task finished before its delete landed, in 8 tries")
}

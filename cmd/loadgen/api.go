package main

// What the tasks and ws modes share: photos, the tasks API, the owner's
// WebSocket, metrics scrapes and quantiles.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/igemoji/igemoji/shared/moji"
)

const (
	// tasksPerUser stays under the server's per-user photo allowance (60
	// at once, then slowed down), so no measured submit is rate-limited.
	tasksPerUser = 50
	// maxUsersPerAddr stays under the sign-ups one address may make (20).
	maxUsersPerAddr = 19
	// maxWarmupTasks keeps a user's warm-up and measured tasks together
	// within the per-user allowance.
	maxWarmupTasks = 60 - tasksPerUser
)

// photo is one file submitted as a task.
type photo struct {
	name string
	data []byte
}

// readPhotos loads every photo in dir, in name order.
func readPhotos(dir string) ([]photo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("-photos: %w", err)
	}
	var out []photo
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png", ".webp":
		default:
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, photo{name: e.Name(), data: b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-photos %s: no .jpg, .jpeg, .png or .webp files (run `make assets` for the demo photos)", dir)
	}
	return out, nil
}

// setupClient sends the generator's API calls (the gallery load has its
// own clients): enough idle connections kept for the tasks mode's
// parallel submits and polls to reuse theirs rather than reconnect.
var setupClient = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}()

// The server caps what one client address may hold: WebSocket
// connections (32) and uploads in flight (2). Real clients come from many
// addresses, and on loopback so can the generator's: Linux delivers all of
// 127.0.0.0/8 to the loopback interface, so a connection to 127.0.0.1 may
// come from any 127.x.y.z.

// sources hands out API clients, each from a loopback address of its own
// when the server is on an IPv4 loopback address.
type sources struct {
	base     string
	loopback bool
	mu       sync.Mutex
	m        map[int]client
}

func newSources(base string) *sources {
	u, _ := url.Parse(base) // checked by the flags
	ip := net.ParseIP(u.Hostname())
	s := &sources{base: base, loopback: ip != nil && ip.To4() != nil && ip.IsLoopback(), m: map[int]client{}}
	if !s.loopback {
		logf("%s is not an IPv4 loopback address: every connection comes from this machine's one address, and the server's per-address caps apply", u.Host)
	}
	return s
}

// main is the client from the default address, 127.0.0.1 on loopback.
func (s *sources) main() client { return client{base: s.base, hc: setupClient} }

// maxSources is how many source addresses get hands out.
const maxSources = 254 * 256

// get returns client k (0 to maxSources-1), from 127.1.x.y: address k+1
// of 127.1.0.0/16, skipping the .0 and .255 of each /24.
func (s *sources) get(k int) client {
	if !s.loopback {
		return s.main()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.m[k]; ok {
		return c
	}
	ip := net.IPv4(127, 1, byte(k/254), byte(k%254+1))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}).DialContext
	c := client{base: s.base, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	s.m[k] = c
	return c
}

// client is the API as seen from one source address.
type client struct {
	base string
	hc   *http.Client
}

// runTag is a random word that makes this run's user names unique, so
// that the modes can run twice against one server.
func runTag() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// submit posts p as a task with template and returns the task id.
func (c client) submit(ctx context.Context, token string, p photo, template int64) (string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("template_id", strconv.FormatInt(template, 10))
	fw, _ := w.CreateFormFile("image", p.name)
	fw.Write(p.data) // a bytes.Buffer does not fail
	w.Close()
	b, err := callWith(ctx, c.hc, "POST", c.base+"/api/v1/faces/tasks/", token, w.FormDataContentType(), &buf, http.StatusAccepted)
	if err != nil {
		return "", fmt.Errorf("submit %s: %w", p.name, err)
	}
	var t struct {
		ID string `json:"task_id"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.ID == "" {
		return "", fmt.Errorf("submit %s: no task_id in %.200s", p.name, b)
	}
	return t.ID, nil
}

// taskView is what GET /api/v1/faces/tasks/{id} says about a task.
type taskView struct {
	State  moji.TaskState  `json:"state"`
	Result *moji.Result    `json:"result"`
	Error  *moji.TaskError `json:"error"`
}

// task reads a task as its owner.
func (c client) task(ctx context.Context, token, id string) (taskView, error) {
	var v taskView
	b, err := callWith(ctx, c.hc, "GET", c.base+"/api/v1/faces/tasks/"+id, token, "", nil, http.StatusOK)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("task %s: %w in %.200s", id, err, b)
	}
	return v, nil
}

// check says what is wrong with a task that should be done, or nil.
func (v taskView) check() error {
	switch {
	case v.State == moji.TaskFailed && v.Error != nil:
		return fmt.Errorf("task failed: %s: %s", v.Error.Code, v.Error.Message)
	case v.State != moji.TaskDone:
		return fmt.Errorf("task is %s, want done", v.State)
	case v.Result == nil || v.Result.ImageURL == "":
		return fmt.Errorf("task is done without a result image")
	}
	return nil
}

// rankingUses reads the template's uses from GET /api/v1/faces/ranking (0
// when it is not ranked).
func (c client) rankingUses(ctx context.Context, template int64) (int, error) {
	b, err := callWith(ctx, c.hc, "GET", c.base+"/api/v1/faces/ranking", "", "", nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var r struct {
		Items []rankItem `json:"items"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("ranking: %w", err)
	}
	return usesOf(r.Items, template), nil
}

// rankItem is a ranking row, as the API and the WebSocket send it.
type rankItem struct {
	Uses     int `json:"uses"`
	Template struct {
		ID int64 `json:"id"`
	} `json:"template"`
}

func usesOf(items []rankItem, template int64) int {
	for _, it := range items {
		if it.Template.ID == template {
			return it.Uses
		}
	}
	return 0
}

// finishes records when each task was first seen finished, and by whom:
// the owner's WebSocket ("ws") or a poll ("poll").
type finishes struct {
	mu sync.Mutex
	m  map[string]*finish
}

type finish struct {
	seen  chan struct{} // closed once the fields below are set
	at    time.Time
	state moji.TaskState
	by    string
}

func newFinishes() *finishes { return &finishes{m: map[string]*finish{}} }

// entry returns the task's record, made on first use: an event may come
// before the submitter has even read the task's id.
func (f *finishes) entry(id string) *finish {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.m[id]
	if e == nil {
		e = &finish{seen: make(chan struct{})}
		f.m[id] = e
	}
	return e
}

// see records a sighting; the first one wins.
func (f *finishes) see(id string, state moji.TaskState, by string, at time.Time) {
	e := f.entry(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-e.seen:
		return
	default:
	}
	e.at, e.state, e.by = at, state, by
	close(e.seen)
}

// ownerSocket is a logged-in user's WebSocket: the server pushes that
// user's task events to it without any subscription.
type ownerSocket struct {
	conn *websocket.Conn
	mu   sync.Mutex
	err  error // why reading stopped, if it did before close
}

// dialOwner connects with token and records every task.done and
// task.failed in f, stamped on arrival.
func (c client) dialOwner(ctx context.Context, token string, f *finishes) (*ownerSocket, error) {
	conn, err := c.dial(ctx, token)
	if err != nil {
		return nil, err
	}
	s := &ownerSocket{conn: conn}
	go s.read(f)
	return s, nil
}

func (s *ownerSocket) read(f *finishes) {
	for {
		_, b, err := s.conn.Read(context.Background())
		at := time.Now() // before decoding: the arrival is what is measured
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		var m struct {
			Type   string `json:"type"`
			TaskID string `json:"task_id"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case moji.EventTaskDone:
			f.see(m.TaskID, moji.TaskDone, "ws", at)
		case moji.EventTaskFailed:
			f.see(m.TaskID, moji.TaskFailed, "ws", at)
		}
	}
}

// broken says why the socket stopped reading, or nil while it reads.
func (s *ownerSocket) broken() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *ownerSocket) close() { s.conn.Close(websocket.StatusNormalClosure, "") }

// dial opens /api/v1/ws, logged in when token is set.
func (c client) dial(ctx context.Context, token string) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/api/v1/ws"
	if token != "" {
		u += "?token=" + token
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: c.hc})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", strings.Split(u, "?")[0], err)
	}
	conn.SetReadLimit(1 << 20) // a ranking with its image URLs exceeds the 32 KB default
	return conn, nil
}

// metrics is one scrape of a Prometheus text endpoint: series (name with
// labels, as printed) to value.
type metrics map[string]float64

func scrape(ctx context.Context, url string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	res, err := setupClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %d", url, res.StatusCode)
	}
	m := metrics{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if line == "" || line[0] == '#' || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	if _, ok := m["process_resident_memory_bytes"]; !ok {
		return nil, fmt.Errorf("scrape %s: no process_resident_memory_bytes", url)
	}
	return m, nil
}

func (m metrics) rssMiB() float64 { return m["process_resident_memory_bytes"] / (1 << 20) }

// quantiles holds nearest-rank quantiles of a set of durations, in ms.
type quantiles struct {
	N   int     `json:"n"`
	Min float64 `json:"min_ms"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func quantilesOf(d []time.Duration) quantiles {
	n := len(d)
	if n == 0 {
		return quantiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	// Nearest rank: the smallest value at or above fraction p of all.
	at := func(p float64) float64 { return ms(s[max(0, int(p*float64(n)+0.999999)-1)]) }
	return quantiles{N: n, Min: ms(s[0]), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(s[n-1])}
}

// waitUntil sleeps for d unless ctx ends first.
func waitUntil(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

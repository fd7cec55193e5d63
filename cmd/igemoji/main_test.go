package main

// End-to-end tests: the real program (run, as main calls it) serves on port
// 0 with its real database, and the tests speak HTTP to it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/shared/store/storetest"
)

const testSecret = "e2e-secret-0123456789abcdefghijklmnopqrstuvwxyz"

// app is one running igemoji serve.
type app struct {
	t    *testing.T
	base string
	logs *syncBuffer
	stop func() error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	w  *io.PipeWriter
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.b.Write(p)
	s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// assetsDir is the npm cache `make assets` fills; without it the built-in
// templates cannot be seeded.
func assetsDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("../../.cache")
	if _, err := os.Stat(filepath.Join(dir, "emoji", ".stamp")); err != nil {
		storetest.ServiceMissing(t, "the npm asset cache (run `make assets`)", err)
	}
	return dir
}

// startApp runs igemoji serve on a free port against a new database of d.
func startApp(t *testing.T, d store.Dialect, extra ...string) *app {
	t.Helper()
	// A data directory that does not exist yet, as on a fresh checkout.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"),
		"--database-url", storetest.URL(t, d), "--jwt-secret", testSecret,
		"--assets", assetsDir(t), "--bcrypt-cost", "4", "--workers", "0", "--log-level", "warn"}, extra...)
	// The listening line is logged at info; read it, then keep logs quiet.
	args = append(args[:len(args)-len(extra)-2], append([]string{"--log-level", "info"}, extra...)...)
	pr, pw := io.Pipe()
	logs := &syncBuffer{w: pw}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(string) string { return "" }, io.Discard, logs); pw.Close() }()

	addrRE := regexp.MustCompile(`msg=listening addr=(\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	a := &app{t: t, logs: logs}
	select {
	case addr := <-found:
		a.base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start in 30s\n%s", logs.String())
	}
	var once sync.Once
	var stopErr error
	a.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = errors.New("serve did not stop within 20s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := a.stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return a
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %q", err, r.body)
	}
	return m
}

// errCode returns the error code of a JSON error body, checking its shape.
func (r resp) errCode(t *testing.T) string {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || e["code"] == nil || e["message"] == nil || e["message"] == "" {
		t.Fatalf("status %d: body %s is not {\"error\":{\"code\",\"message\"}}", r.status, r.body)
	}
	return e["code"].(string)
}

func (a *app) do(method, path, token, contentType string, body io.Reader) resp {
	a.t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return a.doWith(method, path, h, body)
}

// doWith sends a request with the given headers, as they are.
func (a *app) doWith(method, path string, h http.Header, body io.Reader) resp {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header = h
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (a *app) getJSON(path, token string) resp {
	a.t.Helper()
	return a.do("GET", path, token, "", nil)
}

func (a *app) postJSON(path, token string, v any) resp {
	a.t.Helper()
	b, _ := json.Marshal(v)
	return a.do("POST", path, token, "application/json", bytes.NewReader(b))
}

func wantStatus(t *testing.T, what string, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: got status %d, want %d; body %s", what, r.status, status, r.body)
	}
}

func wantError(t *testing.T, what string, r resp, status int, code string) {
	t.Helper()
	wantStatus(t, what, r, status)
	if got := r.errCode(t); got != code {
		t.Fatalf("%s: got error code %q, want %q; body %s", what, got, code, r.body)
	}
	conforms(t, what, "Error", r)
}

// signup creates an account and returns a token for it.
func (a *app) signup(email, alias string) string {
	a.t.Helper()
	r := a.postJSON("/api/v1/users/", "", map[string]string{"email": email, "password": "correct horse", "alias": alias})
	wantStatus(a.t, "sign up "+email, r, http.StatusCreated)
	conforms(a.t, "sign up", "User", r)
	return a.login(email, "correct horse")
}

func (a *app) login(email, password string) string {
	a.t.Helper()
	r := a.postJSON("/api/v1/users/auth", "", map[string]string{"email": email, "password": password})
	wantStatus(a.t, "log in "+email, r, http.StatusOK)
	conforms(a.t, "log in", "Auth", r)
	m := r.json(a.t)
	if m["token_type"] != "Bearer" || m["expires_in"].(float64) <= 0 {
		a.t.Fatalf("log in: got %s", r.body)
	}
	return m["access_token"].(string)
}

// facePNG draws an opaque emoji-like face on a plain background: the
// server must remove the background.
func facePNG(t *testing.T, hue uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 120, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 120; x++ {
			c := color.NRGBA{255, 255, 255, 255}
			if dx, dy := x-60, y-50; dx*dx+dy*dy < 40*40 {
				c = color.NRGBA{250, hue, 40, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// form builds a multipart body from fields; a []byte value is a file.
func form(t *testing.T, fields [][2]any) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		name := f[0].(string)
		switch v := f[1].(type) {
		case string:
			w.WriteField(name, v)
		case []byte:
			fw, _ := w.CreateFormFile(name, name+".png")
			fw.Write(v)
		}
	}
	w.Close()
	return w.FormDataContentType(), &buf
}

func templateFields(t *testing.T, name string) [][2]any {
	t.Helper()
	f := [][2]any{{"name", name}}
	for i, e := range moji.Expressions {
		f = append(f, [2]any{string(e), facePNG(t, uint8(30*i))})
	}
	return f
}

func (a *app) createTemplate(token string, fields [][2]any) resp {
	a.t.Helper()
	ct, body := form(a.t, fields)
	return a.do("POST", "/api/v1/emojis/", token, ct, body)
}

// forEachDialect runs the e2e test against a server on each database.
func forEachDialect(t *testing.T, fn func(t *testing.T, a *app)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, startApp(t, d))
		})
	}
}

func TestHealthAndErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *app) {
		wantStatus(t, "healthz", a.getJSON("/healthz", ""), 200)
		wantStatus(t, "readyz", a.getJSON("/readyz", ""), 200)
		wantError(t, "unknown API path", a.getJSON("/api/v1/nope", ""), 404, moji.ENOTFOUND)
		wrong := a.do("PUT", "/api/v1/users/auth", "", "", nil)
		wantError(t, "wrong method", wrong, 405, moji.EMETHOD)
		if got := wrong.header.Get("Allow"); got != "POST" {
			t.Errorf("wrong method: got Allow %q, want POST", got)
		}
		if got := a.do("PUT", "/api/v1/users/auth/", "", "", nil).header.Get("Allow"); got != "POST" {
			t.Errorf("wrong method, trailing slash: got Allow %q, want POST", got)
		}
		r := a.getJSON("/", "")
		if r.status != 200 || !strings.Contains(string(r.body), "IGE MOJI") {
			t.Fatalf("home page: got %d %q", r.status, r.body)
		}
	})
}

func TestAccounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *app) {
		taken := func(kind, value string) bool {
			t.Helper()
			r := a.getJSON("/api/v1/users/?case="+kind+"&value="+urlEscape(value), "")
			wantStatus(t, "taken "+value, r, 200)
			return r.json(t)["taken"].(bool)
		}
		if taken("email", "kim@example.com") || taken("alias", "김민수") {
			t.Fatal("taken before sign-up: got true, want false")
		}
		r := a.postJSON("/api/v1/users/", "", map[string]string{"email": "Kim@Example.com", "password": "correct horse", "alias": "김민수"})
		wantStatus(t, "sign up", r, 201)
		u := r.json(t)
		if u["email"] != "Kim@Example.com" || u["alias"] != "김민수" || u["id"] == nil {
			t.Fatalf("sign up: got %s", r.body)
		}
		if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
			t.Fatalf("sign up response leaks the password: %s", r.body)
		}
		if !taken("email", "KIM@example.COM") || !taken("alias", "김민수") {
			t.Fatal("taken after sign-up: got false, want true")
		}
		wantStatus(t, "sign up ace", a.postJSON("/api/v1/users/", "", map[string]string{"email": "ace@example.com", "password": "correct horse", "alias": "ace"}), 201)
		if !taken("alias", "асе") { // all Cyrillic
			t.Fatal("look-alike of ace: got not taken, want taken")
		}

		for _, tt := range []struct {
			name string
			body any
			code string
			want int
		}{
			{"duplicate email, other case", map[string]string{"email": "kim@EXAMPLE.com", "password": "correct horse", "alias": "other"}, moji.ECONFLICT, 409},
			{"duplicate alias", map[string]string{"email": "new@example.com", "password": "correct horse", "alias": "김민수"}, moji.ECONFLICT, 409},
			{"alias in look-alike letters", map[string]string{"email": "cyr@example.com", "password": "correct horse", "alias": "АСЕ"}, moji.ECONFLICT, 409},
			{"short password", map[string]string{"email": "p@example.com", "password": "short", "alias": "pshort"}, moji.EINVALID, 400},
			{"bad email", map[string]string{"email": "not-an-email", "password": "correct horse", "alias": "bademail"}, moji.EINVALID, 400},
			{"sql in email", map[string]string{"email": "x' OR '1'='1@example.com", "password": "correct horse", "alias": "sqlmail"}, moji.EINVALID, 400},
			{"sql in alias", map[string]string{"email": "sql@example.com", "password": "correct horse", "alias": "x'); DROP TABLE users;--"}, moji.EINVALID, 400},
			{"missing alias", map[string]string{"email": "m@example.com", "password": "correct horse"}, moji.EINVALID, 400},
			{"extra field", map[string]any{"email": "e@example.com", "password": "correct horse", "alias": "extra", "admin": true}, moji.EINVALID, 400},
			{"wrong type", map[string]any{"email": 42, "password": "correct horse", "alias": "typed"}, moji.EINVALID, 400},
		} {
			r := a.postJSON("/api/v1/users/", "", tt.body)
			wantError(t, tt.name, r, tt.want, tt.code)
		}
		for name, body := range map[string]string{
			"not JSON":         "{oops",
			"empty body":       "",
			"cut short":        `{"email":"t@example.com",`,
			"trailing brace":   `{"email":"t@example.com","password":"correct horse","alias":"trail"}}`,
			"trailing bracket": `{"email":"t@example.com","password":"correct horse","alias":"trail"}]`,
			"two objects":      `{"email":"t@example.com","password":"correct horse","alias":"trail"} {}`,
			"an array":         `[{"email":"t@example.com","password":"correct horse","alias":"trail"}]`,
			// encoding/json alone would take these: the first as email, the
			// second with the last value, the third as "correct horse\uFFFD".
			"key in other case": `{"EMAIL":"t@example.com","password":"correct horse","alias":"trail"}`,
			"repeated key":      `{"email":"x@example.com","email":"t@example.com","password":"correct horse","alias":"trail"}`,
			"invalid UTF-8":     "{\"email\":\"t@example.com\",\"password\":\"correct horse\xff\",\"alias\":\"trail\"}",
			"lone surrogate":    `{"email":"t@example.com","password":"correct horse\udcff","alias":"trail"}`,
		} {
			wantError(t, name, a.do("POST", "/api/v1/users/", "", "application/json", strings.NewReader(body)), 400, moji.EINVALID)
		}
		if taken("email", "t@example.com") {
			t.Fatal("a refused sign-up created the account")
		}
		wantError(t, "huge body", a.do("POST", "/api/v1/users/", "", "application/json",
			strings.NewReader(`{"email":"`+strings.Repeat("a", 100<<10)+`"}`)), 413, moji.ETOOLARGE)
		// null would decode as an object with every field missing.
		if r := a.do("POST", "/api/v1/users/auth", "", "application/json", strings.NewReader("null")); !strings.Contains(string(r.body), "must be a JSON object") {
			t.Errorf("null body: got %d %s, want 400 saying it must be a JSON object", r.status, r.body)
		}
		signup := `{"email":"ct@example.com","password":"correct horse","alias":"ctype"}`
		for _, tt := range []struct {
			name   string
			header http.Header
			status int
		}{
			{"XML", http.Header{"Content-Type": {"application/xml"}}, 415},
			{"a form", http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}, 415},
			{"gzip", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, 415},
			{"curl -d", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, 201},
		} {
			if r := a.doWith("POST", "/api/v1/users/", tt.header, strings.NewReader(signup)); r.status != tt.status {
				t.Errorf("sign-up sent as %s: got %d %s, want %d", tt.name, r.status, r.body, tt.status)
			}
		}
		// A body declared larger than allowed is refused before it is sent.
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("POST", a.base+"/api/v1/users/auth", pr)
		req.ContentLength = 1 << 30
		req.Header.Set("Content-Type", "application/json")
		// The body never comes; if the server waits for it, it ends in 5 s
		// (a client timeout would wait for the body's writer).
		stop := time.AfterFunc(5*time.Second, func() { pw.CloseWithError(errors.New("no answer within 5 s")) })
		res, err := http.DefaultClient.Do(req)
		stop.Stop()
		pw.Close()
		if err != nil {
			t.Errorf("declared 1 GiB body: %v, want an answer at once", err)
		} else if res.Body.Close(); res.StatusCode != 413 {
			t.Errorf("declared 1 GiB body: got %d, want 413", res.StatusCode)
		}
		wantError(t, "bad case", a.getJSON("/api/v1/users/?case=phone&value=1", ""), 400, moji.EINVALID)
		bad := a.getJSON("/api/v1/users/?case=email&value=%ZZ", "")
		wantError(t, "bad escape", bad, 400, moji.EINVALID)
		if !strings.Contains(string(bad.body), "query string") {
			t.Errorf("bad escape: got %s, want a message about the query string", bad.body)
		}

		// Unicode email with an apostrophe: valid, stored and found as typed.
		tok := a.signup("o'brien+ünï@bücher.example", "Ünïcode_user")
		me := a.getJSON("/api/v1/users/me", tok)
		wantStatus(t, "me", me, 200)
		if m := me.json(t); m["email"] != "o'brien+ünï@bücher.example" || m["alias"] != "Ünïcode_user" {
			t.Fatalf("me: got %s", me.body)
		}

		// Log-in: right, wrong, unknown. A failure never says which part was wrong.
		a.login("KIM@example.com", "correct horse")
		wrong := a.postJSON("/api/v1/users/auth", "", map[string]string{"email": "kim@example.com", "password": "wrong horse"})
		unknown := a.postJSON("/api/v1/users/auth", "", map[string]string{"email": "nobody@example.com", "password": "correct horse"})
		wantError(t, "wrong password", wrong, 401, moji.EUNAUTHORIZED)
		wantError(t, "unknown email", unknown, 401, moji.EUNAUTHORIZED)
		if string(wrong.body) != string(unknown.body) {
			t.Fatalf("failed log-ins differ: %s vs %s", wrong.body, unknown.body)
		}
		wantError(t, "empty log-in", a.postJSON("/api/v1/users/auth", "", map[string]string{}), 400, moji.EINVALID)
	})
}

// Failed log-ins slow the guesser down: after 5 for one account from one
// address, that address waits, even with the right password; the owner
// logging in from elsewhere, or changing the password from a session, is
// not locked out by someone else's guessing.
func TestLoginSlowdown(t *testing.T) {
	a := startApp(t, store.SQLite, "--trust-proxy", "true")
	tok := a.signup("victim@example.com", "victim")
	from := func(addr, path, token string, v any) resp {
		t.Helper()
		b, _ := json.Marshal(v)
		h := http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {addr}}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		method := "POST"
		if path == "/api/v1/users/me/password" {
			method = "PUT"
		}
		return a.doWith(method, path, h, bytes.NewReader(b))
	}
	login := func(addr, email, password string) resp {
		t.Helper()
		return from(addr, "/api/v1/users/auth", "", map[string]string{"email": email, "password": password})
	}
	var last resp
	for i := range 7 {
		last = login("203.0.113.9", "VICTIM@example.com ", fmt.Sprintf("guess-%d", i))
	}
	wantError(t, "7th failed log-in", last, 429, moji.ERATELIMIT)
	if last.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Even the right password waits out the lock, from that address.
	wantError(t, "right password from the guesser's address", login("203.0.113.9", "victim@example.com", "correct horse"), 429, moji.ERATELIMIT)
	// The owner, elsewhere, is not locked out.
	wantStatus(t, "right password from another address", login("198.51.100.7", "victim@example.com", "correct horse"), 200)
	// Nor is a logged-in session's password change, even from the
	// guesser's address (its count is the session's own).
	r := from("203.0.113.9", "/api/v1/users/me/password", tok, map[string]string{"current_password": "correct horse", "new_password": "correct horse 2"})
	wantStatus(t, "password change from a session", r, 200)
}

// "Is this email taken?" is answered 30 times per address, then one per
// 10 minutes; sign-ups count, and wait, with them; alias look-ups keep
// their own pace.
func TestEmailLookupsLimited(t *testing.T) {
	a := startApp(t, store.SQLite)
	for i := range 31 { // the 31st is answered, and locks
		wantStatus(t, fmt.Sprintf("email look-up %d", i+1), a.getJSON(fmt.Sprintf("/api/v1/users/?case=email&value=p%d@example.com", i), ""), 200)
	}
	r := a.getJSON("/api/v1/users/?case=email&value=more@example.com", "")
	wantError(t, "32nd email look-up", r, 429, moji.ERATELIMIT)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	wantStatus(t, "alias look-up", a.getJSON("/api/v1/users/?case=alias&value=someone", ""), 200)
	// Nor does a sign-up answer it meanwhile.
	r = a.postJSON("/api/v1/users/", "", map[string]string{"email": "p1@example.com", "password": "correct horse", "alias": "probe"})
	wantError(t, "sign-up while email look-ups wait", r, 429, moji.ERATELIMIT)
}

// A password is compared in its NFC form, as it is hashed: the same
// password typed where accents come composed otherwise logs in. A hash
// made at another bcrypt cost is made again at the configured one on the
// next log-in, so that known and unknown emails keep taking the same time.
func TestPasswordNormalizedAndRehashed(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	dbURL := "sqlite:" + filepath.Join(dataDir, "igemoji.db")
	a := startApp(t, store.SQLite, "--data", dataDir, "--database-url", dbURL)
	decomposed, composed := "cafe\u0301 au lait", "caf\u00e9 au lait"
	r := a.postJSON("/api/v1/users/", "", map[string]string{"email": "cafe@example.com", "password": decomposed, "alias": "cafe"})
	wantStatus(t, "sign up", r, http.StatusCreated)
	a.login("cafe@example.com", composed)
	a.login("cafe@example.com", decomposed)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}

	b := startApp(t, store.SQLite, "--data", dataDir, "--database-url", dbURL, "--bcrypt-cost", "5")
	b.login("cafe@example.com", composed) // rehashes at cost 5
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByEmail(context.Background(), "cafe@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(u.PasswordHash); err != nil || cost != 5 {
		t.Errorf("hash cost after a log-in at cost 5: got %d, %v; want 5", cost, err)
	}
	if u.PasswordVersion != 0 {
		t.Errorf("password version after the rehash: got %d, want 0 (sessions stay)", u.PasswordVersion)
	}
	b.login("cafe@example.com", decomposed)

	// 108 bytes as typed, 72 (the most bcrypt takes) in NFC: taken
	// everywhere, the password's confirmation included.
	long := strings.Repeat("e\u0301", 36)
	r = b.postJSON("/api/v1/users/", "", map[string]string{"email": "long@example.com", "password": long, "alias": "long"})
	wantStatus(t, "sign up with a long decomposed password", r, http.StatusCreated)
	tok := b.login("long@example.com", long)
	r = b.do("PUT", "/api/v1/users/me/password", tok, "application/json",
		strings.NewReader(`{"current_password":"`+long+`","new_password":"a new password"}`))
	wantStatus(t, "password change confirmed with it", r, http.StatusOK)
}

func TestTokens(t *testing.T) {
	a := startApp(t, store.SQLite)
	tok := a.signup("tok@example.com", "tokuser")
	wantStatus(t, "valid token", a.getJSON("/api/v1/users/me", tok), 200)

	sign := func(method jwt.SigningMethod, key any, claims jwt.RegisteredClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var sub string
	{ // read our own id from the valid token
		parts := strings.Split(tok, ".")
		var c jwt.RegisteredClaims
		b, _ := jwt.NewParser().DecodeSegment(parts[1])
		json.Unmarshal(b, &c)
		sub = c.Subject
	}
	now := time.Now()
	good := jwt.RegisteredClaims{Issuer: "igemoji", Subject: sub, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
	expired := good
	expired.IssuedAt, expired.ExpiresAt = jwt.NewNumericDate(now.Add(-2*time.Hour)), jwt.NewNumericDate(now.Add(-time.Hour))
	noExp := good
	noExp.ExpiresAt = nil
	otherIssuer := good
	otherIssuer.Issuer = "evil"

	for _, tt := range []struct {
		name, header, wantMsg string
	}{
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, []byte(testSecret), expired), "expired"},
		{"forged with another secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdefghijklmnop"), good), "Invalid"},
		{"alg none", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), "Invalid"},
		{"HS512", "Bearer " + sign(jwt.SigningMethodHS512, []byte(testSecret), good), "Invalid"},
		{"no expiry", "Bearer " + sign(jwt.SigningMethodHS256, []byte(testSecret), noExp), "Invalid"},
		{"other issuer", "Bearer " + sign(jwt.SigningMethodHS256, []byte(testSecret), otherIssuer), "Invalid"},
		{"tampered", "Bearer " + tok[:len(tok)-3] + "abc", "Invalid"},
		{"garbage", "Bearer not.a.jwt", "Invalid"},
		{"basic auth", "Basic dXNlcjpwYXNz", "Bearer"},
	} {
		r := a.doWith("GET", "/api/v1/users/me", http.Header{"Authorization": {tt.header}}, nil)
		wantError(t, tt.name, r, 401, moji.EUNAUTHORIZED)
		if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.wantMsg) {
			t.Errorf("%s: message %q should contain %q", tt.name, msg, tt.wantMsg)
		}
	}
	wantError(t, "no token on a private route", a.getJSON("/api/v1/users/me", ""), 401, moji.EUNAUTHORIZED)
}

func TestTemplates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *app) {
		alice := a.signup("alice@example.com", "alice")
		bob := a.signup("bob@example.com", "bob")

		// The built-in templates were seeded at start.
		p := a.getJSON("/api/v1/emojis/pages/1", "")
		wantStatus(t, "gallery", p, 200)
		conforms(t, "gallery", "TemplatePage", p)
		var page struct {
			Items []struct {
				ID           int64             `json:"id"`
				Name         string            `json:"name"`
				CreatorAlias string            `json:"creator_alias"`
				Builtin      bool              `json:"builtin"`
				Images       map[string]string `json:"images"`
			} `json:"items"`
			Page     int `json:"page"`
			PageSize int `json:"page_size"`
			Total    int `json:"total"`
		}
		json.Unmarshal(p.body, &page)
		if page.Total != 2 || !page.Items[0].Builtin || !page.Items[1].Builtin {
			t.Fatalf("seeded gallery: got %s, want 2 built-in templates", p.body)
		}

		name := `Ünï 😀 "q" '); DROP TABLE templates;--`
		r := a.createTemplate(alice, templateFields(t, name))
		wantStatus(t, "create", r, 201)
		created := r.json(t)
		id := int64(created["id"].(float64))
		if created["name"] != name || created["creator_alias"] != "alice" {
			t.Fatalf("create: got %s", r.body)
		}
		imgs := created["images"].(map[string]any)
		if len(imgs) != 7 {
			t.Fatalf("create: got %d images, want 7", len(imgs))
		}

		// Each image is a square PNG with transparent corners (background removed), cacheable.
		for _, e := range moji.Expressions {
			url, _ := imgs[string(e)].(string)
			img := a.getJSON(url, "")
			wantStatus(t, "image "+string(e), img, 200)
			if img.header.Get("Content-Type") != "image/png" || img.header.Get("Cache-Control") != "public, max-age=86400" || img.header.Get("ETag") == "" {
				t.Fatalf("image headers: got %v", img.header)
			}
			decoded, err := png.Decode(bytes.NewReader(img.body))
			if err != nil {
				t.Fatalf("image %s: %v", e, err)
			}
			b := decoded.Bounds()
			if b.Dx() != b.Dy() || b.Dx() > 512 {
				t.Fatalf("image %s: got %dx%d, want a square of at most 512", e, b.Dx(), b.Dy())
			}
			if _, _, _, alpha := decoded.At(b.Min.X, b.Min.Y).RGBA(); alpha != 0 {
				t.Errorf("image %s: corner alpha %d, want 0 (background removed)", e, alpha)
			}
			if _, _, _, alpha := decoded.At(b.Dx()/2, b.Dy()/2).RGBA(); alpha != 0xffff {
				t.Errorf("image %s: centre alpha %d, want opaque", e, alpha)
			}
		}
		req, _ := http.NewRequest("GET", a.base+imgs["happy"].(string), nil)
		req.Header.Set("If-None-Match", a.getJSON(imgs["happy"].(string), "").header.Get("ETag"))
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 304 {
			t.Fatalf("conditional image request: got %v, %v; want 304", res.StatusCode, err)
		}

		got := a.getJSON(fmt.Sprintf("/api/v1/emojis/%d", id), "")
		wantStatus(t, "get", got, 200)
		if g := got.json(t); g["name"] != name || g["created_at"] == nil {
			t.Fatalf("get: got %s", got.body)
		}
		json.Unmarshal(a.getJSON("/api/v1/emojis/pages/1", "").body, &page)
		if page.Total != 3 || page.Items[0].ID != id || page.PageSize != 12 || page.Page != 1 {
			t.Fatalf("gallery after create: got total %d first %d size %d, want 3, %d, 12", page.Total, page.Items[0].ID, page.PageSize, id)
		}
		mine := a.getJSON("/api/v1/users/mypage/templates", alice)
		wantStatus(t, "my templates", mine, 200)
		conforms(t, "my templates", "TemplatePage", mine)
		if m := mine.json(t); m["total"].(float64) != 1 {
			t.Fatalf("my templates: got %s, want 1", mine.body)
		}
		if m := a.getJSON("/api/v1/users/mypage/2", bob).json(t); m["total"].(float64) != 0 {
			t.Fatalf("bob's templates: got %v, want 0", m)
		}
		wantError(t, "my page anonymous", a.getJSON("/api/v1/users/mypage/templates", ""), 401, moji.EUNAUTHORIZED)
		wantError(t, "my page bad case", a.getJSON("/api/v1/users/mypage/friends", alice), 404, moji.ENOTFOUND)

		// Someone else's template: forbidden; the owner's delete is soft.
		path := fmt.Sprintf("/api/v1/emojis/%d", id)
		wantError(t, "delete anonymous", a.do("DELETE", path, "", "", nil), 401, moji.EUNAUTHORIZED)
		wantError(t, "delete by bob", a.do("DELETE", path, bob, "", nil), 403, moji.EFORBIDDEN)
		wantError(t, "delete built-in", a.do("DELETE", fmt.Sprintf("/api/v1/emojis/%d", page.Items[1].ID), bob, "", nil), 403, moji.EFORBIDDEN)
		wantStatus(t, "delete by alice", a.do("DELETE", path, alice, "", nil), 204)
		wantError(t, "get deleted", a.getJSON(path, ""), 404, moji.ENOTFOUND)
		wantError(t, "delete again", a.do("DELETE", path, alice, "", nil), 404, moji.ENOTFOUND)
		// Its pictures go too (no other template shows them; results are
		// pictures of their own).
		wantStatus(t, "deleted template's image", a.getJSON(imgs["sad"].(string), ""), 404)
		json.Unmarshal(a.getJSON("/api/v1/emojis/pages/1", "").body, &page)
		if page.Total != 2 {
			t.Fatalf("gallery after delete: got total %d, want 2", page.Total)
		}

		wantError(t, "page 0", a.getJSON("/api/v1/emojis/pages/0", ""), 400, moji.EINVALID)
		wantError(t, "page x", a.getJSON("/api/v1/emojis/pages/x", ""), 400, moji.EINVALID)
		wantError(t, "id x", a.getJSON("/api/v1/emojis/x", ""), 404, moji.ENOTFOUND)
		// One address a page: ids and pages as the links write them.
		wantError(t, "bad escape, no parameter read", a.getJSON("/api/v1/emojis/pages/1?x=%zz", ""), 400, moji.EINVALID)
		wantError(t, "semicolon", a.getJSON("/api/v1/faces/ranking?;", ""), 400, moji.EINVALID)
		wantError(t, "id 01", a.getJSON("/api/v1/emojis/01", ""), 404, moji.ENOTFOUND)
		wantError(t, "id +1", a.getJSON("/api/v1/emojis/+1", ""), 404, moji.ENOTFOUND)
		wantError(t, "page 01", a.getJSON("/api/v1/emojis/pages/01", ""), 400, moji.EINVALID)
		wantError(t, "page +1", a.getJSON("/api/v1/emojis/pages/+1", ""), 400, moji.EINVALID)
		if r := a.getJSON("/api/v1/emojis/pages/99", ""); r.status != 200 || len(r.json(t)["items"].([]any)) != 0 {
			t.Fatalf("page past the end: got %d %s, want 200 with no items", r.status, r.body)
		}
		if r := a.getJSON("/api/v1/emojis/pages", ""); r.status != 200 || r.json(t)["total"] != float64(2) {
			t.Fatalf("pages without a number: got %d %s, want 200, the first page", r.status, r.body)
		}
	})
}

func TestTemplateBadInput(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *app) {
		tok := a.signup("carol@example.com", "carol")
		valid := facePNG(t, 100)
		with := func(field string, data any) [][2]any {
			f := templateFields(t, "bad input")
			for i := range f {
				if f[i][0] == field {
					f[i][1] = data
				}
			}
			return f
		}
		truncated := valid[:len(valid)/2]
		huge := append(append([]byte{}, valid[:8]...), bytes.Repeat([]byte{0}, 3<<20)...)

		for _, tt := range []struct {
			name   string
			fields [][2]any
			status int
			code   string
			msg    string
		}{
			{"non-image", with("sad", []byte("hello, I am text")), 415, moji.EUNSUPPORTED, "sad"},
			{"truncated PNG", with("angry", truncated), 400, moji.EINVALID, "angry"},
			{"30000x30000 header", with("happy", bombPNG(30000, 30000)), 400, moji.EINVALID, "30000x30000"},
			{"3 MB file", with("neutral", huge), 413, moji.ETOOLARGE, "neutral"},
			{"missing class", templateFields(t, "x")[:7], 400, moji.EINVALID, "disgusted"},
			{"missing name", templateFields(t, "x")[1:], 400, moji.EINVALID, "name"},
			{"empty name", with("name", "   "), 400, moji.EINVALID, "Name"},
			{"long name", with("name", strings.Repeat("가", 41)), 400, moji.EINVALID, "Name"},
			{"control chars in name", with("name", "bad\x00name"), 400, moji.EINVALID, "Name"},
			{"extra field", append(templateFields(t, "x"), [2]any{"contempt", valid}), 400, moji.EINVALID, "contempt"},
			{"duplicate field", append(templateFields(t, "x"), [2]any{"sad", valid}), 400, moji.EINVALID, "sad"},
		} {
			r := a.createTemplate(tok, tt.fields)
			wantError(t, tt.name, r, tt.status, tt.code)
			if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.msg) {
				t.Errorf("%s: message %q should mention %q", tt.name, msg, tt.msg)
			}
		}
		wantError(t, "anonymous create", a.createTemplate("", templateFields(t, "x")), 401, moji.EUNAUTHORIZED)
		wantError(t, "JSON instead of multipart", a.postJSON("/api/v1/emojis/", tok, map[string]string{"name": "x"}), 415, moji.EUNSUPPORTED)
		wantError(t, "broken multipart", a.do("POST", "/api/v1/emojis/", tok, "multipart/form-data; boundary=xyz", strings.NewReader("--xyz\r\nnonsense")), 400, moji.EINVALID)
		// 20 MB body: refused at the body limit, not buffered.
		big := make([][2]any, 0, 10)
		big = append(big, [2]any{"name", "big"})
		for _, e := range moji.Expressions {
			big = append(big, [2]any{string(e), append(append([]byte{}, valid...), bytes.Repeat([]byte{1}, 1900<<10)...)})
		}
		big = append(big, [2]any{"disgusted", bytes.Repeat([]byte{1}, 3<<20)})
		if r := a.createTemplate(tok, big); r.status != 413 && r.status != 400 {
			t.Fatalf("oversized body: got %d %s, want 413 (or 400 for the trailing images)", r.status, r.body)
		}

		// Nothing was created by any of that.
		if m := a.getJSON("/api/v1/users/mypage/templates", tok).json(t); m["total"].(float64) != 0 {
			t.Fatalf("templates after bad input: got %v, want 0", m["total"])
		}
	})
}

// bombPNG is a PNG whose header claims w x h pixels with almost no data.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h), 8, 6, 0, 0, 0}
	writeChunk(&b, "IHDR", ihdr)
	writeChunk(&b, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	n := len(data)
	b.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	b.WriteString(typ)
	b.Write(data)
	crc := crc32IEEE(append([]byte(typ), data...))
	b.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
}

func TestGracefulShutdownAndRestart(t *testing.T) {
	data := t.TempDir()
	u := storetest.URL(t, store.SQLite)
	start := func() *app {
		t.Helper()
		return startApp(t, store.SQLite, "--data", data, "--database-url", u)
	}
	a := start()
	tok := a.signup("dana@example.com", "dana")
	wantStatus(t, "create", a.createTemplate(tok, templateFields(t, "kept")), 201)
	if err := a.stop(); err != nil {
		t.Fatalf("shutdown: got %v, want nil", err)
	}
	// A second start reuses the data: same templates, no second seeding,
	// and tokens still valid.
	b := start()
	var page struct{ Total int }
	json.Unmarshal(b.getJSON("/api/v1/emojis/pages/1", "").body, &page)
	if page.Total != 3 {
		t.Fatalf("after restart: got %d templates, want 3", page.Total)
	}
	wantStatus(t, "old token after restart", b.getJSON("/api/v1/users/me", tok), 200)
}

// Help goes to stdout with exit 0; a mistake is a line or two on stderr
// naming the way to help, with exit 2, never the whole flag list.
func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		env    map[string]string
		want   int
		stdout string // a part of it; "" wants it empty
		errHas string // a part of the error
	}{
		{args: nil, want: 2, errHas: "no command given"},
		{args: []string{"frobnicate"}, want: 2, errHas: "see igemoji help"},
		{args: []string{"serve", "--addr", "nonsense"}, want: 2, errHas: "addr"},
		{args: []string{"serve", "--database-url", "mysql://root@127.0.0.1:3306/test"}, want: 2, errHas: "jwt-secret"},
		{args: []string{"serve"}, env: map[string]string{"IGEMOJI_MAX_SIDE": "abc"}, want: 2, errHas: "IGEMOJI_MAX_SIDE, as --max-side"},
		{args: []string{"serve", "--max-side", "abc"}, env: map[string]string{"IGEMOJI_MAX_SIDE": "2048"}, want: 2, errHas: "\n  max-side"},
		{args: []string{"analyze", "--bogus", "x.jpg"}, want: 2, errHas: "see igemoji analyze --help"},
		{args: []string{"analyze"}, want: 2, errHas: "no image given (see igemoji analyze --help)"},
		{args: []string{"emojify", "x.jpg"}, want: 2, errHas: "-o OUT"},
		{args: []string{"assets", "extra"}, want: 2, errHas: "unexpected argument"},
		{args: []string{"version", "extra"}, want: 2, errHas: "unexpected argument"},
		{args: []string{"help"}, stdout: "igemoji bench-vision"},
		{args: []string{"--help"}, stdout: "Usage:"},
		{args: []string{"help", "emojify"}, stdout: "Usage: igemoji emojify"},
		{args: []string{"emojify", "--help"}, stdout: "--template"},
		{args: []string{"analyze", "-h"}, stdout: "radians"},
		{args: []string{"serve", "--help"}, stdout: "[IGEMOJI_MAX_SIDE]"},
		{args: []string{"worker", "--help"}, stdout: "Usage: igemoji worker"},
		{args: []string{"eval-expressions", "--help"}, stdout: "MANIFEST"},
		{args: []string{"bench-vision", "--help"}, stdout: "--runs"},
		{args: []string{"version"}, stdout: "igemoji "},
		{args: []string{"version", "--help"}, stdout: "usage: igemoji version"},
		{args: []string{"help", "version"}, stdout: "usage: igemoji version"},
		{args: []string{"help", "nosuch"}, want: 2, errHas: `unknown command "nosuch"`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
		if errors.Is(err, flag.ErrHelp) {
			err = nil // exit 0, as mainExit does
		}
		if got := exitCode(err); (err == nil) != (tt.want == 0) || (err != nil && got != tt.want) {
			t.Errorf("run(%q): got exit %d (%v), want %d", tt.args, got, err, tt.want)
		}
		if tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("run(%q): got error %v, want one with %q", tt.args, err, tt.errHas)
		}
		if tt.stdout != "" && !strings.Contains(stdout.String(), tt.stdout) {
			t.Errorf("run(%q): stdout %q, want %q in it", tt.args, stdout.String(), tt.stdout)
		}
		if tt.want != 0 && len(tt.args) > 0 && (stdout.Len() > 0 || strings.Contains(stderr.String(), "-assets")) {
			t.Errorf("run(%q): a mistake printed stdout %q, stderr %q; want neither the flag list", tt.args, stdout.String(), stderr.String())
		}
	}
}

// Guesses sent in parallel are counted before any is checked: a burst
// cannot slip past the slow-down.
func TestLoginSlowdownParallel(t *testing.T) {
	a := startApp(t, store.SQLite)
	a.signup("burst@example.com", "burst")
	const n = 40
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b, _ := json.Marshal(map[string]string{"email": "burst@example.com", "password": fmt.Sprintf("guess-%d", i)})
			res, err := http.Post(a.base+"/api/v1/users/auth", "application/json", bytes.NewReader(b))
			if err != nil {
				codes <- 0
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		}(i)
	}
	wg.Wait()
	close(codes)
	checked := 0
	for c := range codes {
		switch c {
		case 401:
			checked++
		case 429:
		default:
			t.Errorf("got status %d, want 401 or 429", c)
		}
	}
	if checked > 6 {
		t.Fatalf("passwords checked in a burst of %d: got %d, want at most 6 (5 free + 1)", n, checked)
	}
}

// The same email typed in decomposed Unicode logs in to the same account.
func TestLoginNormalizesEmail(t *testing.T) {
	a := startApp(t, store.SQLite)
	a.signup("jos\u00e9@example.com", "jose")
	a.login("jose\u0301@example.com", "correct horse")
	a.login("JOS\u00c9@example.com", "correct horse")
}

// A rejected upload stores nothing, not even the images that were fine.
func TestRejectedUploadLeavesNoFiles(t *testing.T) {
	data := t.TempDir()
	a := startApp(t, store.SQLite, "--data", data)
	tok := a.signup("tidy@example.com", "tidy")
	count := func() int {
		n := 0
		filepath.WalkDir(filepath.Join(data, "blobs"), func(_ string, d os.DirEntry, _ error) error {
			if d != nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	before := count()
	f := templateFields(t, "tidy")
	f[7][1] = []byte("not an image") // disgusted, the last one
	wantError(t, "bad last image", a.createTemplate(tok, f), 415, moji.EUNSUPPORTED)
	if after := count(); after != before {
		t.Fatalf("stored files: got %d after a rejected upload, want %d", after, before)
	}
}

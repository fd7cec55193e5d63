package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

// stall sends a request whose body stops after its first bytes, and
// returns the connection, from which the answer can be read.
func stall(t *testing.T, a *app, path, contentType, start string, length int) net.Conn {
	t.Helper()
	return stallAs(t, a, "", path, contentType, start, length)
}

// stallAs is stall for the user whose token is given ("": anonymous).
func stallAs(t *testing.T, a *app, token, path, contentType, start string, length int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(a.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	auth := ""
	if token != "" {
		auth = "Authorization: Bearer " + token + "\r\n"
	}
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: test\r\n%sContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", path, auth, contentType, length, start)
	return c
}

// answer reads the response on c, failing if none comes within limit.
func answer(t *testing.T, c net.Conn, limit time.Duration) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(limit))
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", limit, err)
	}
	defer r.Body.Close()
	var e errorBody
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("got %d %q, want a JSON error", r.StatusCode, b)
	}
	return r.StatusCode, e.Error.Code
}

type errorBody struct {
	Error struct{ Code, Message string } `json:"error"`
}

// A request body that stops arriving is answered 408 once the body
// timeout passes, instead of holding the request (and, for an upload, the
// client's upload slot) until the server's two-minute read timeout.
func TestStalledBodies(t *testing.T) {
	a := startApp(t, store.SQLite, "--body-timeout", "500ms")

	c := stall(t, a, "/api/v1/users/auth", "application/json", `{"email":`, 100)
	if status, code := answer(t, c, 10*time.Second); status != http.StatusRequestTimeout || code != moji.ETIMEOUT {
		t.Errorf("stalled JSON body: got %d %s, want 408 %s", status, code, moji.ETIMEOUT)
	}

	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	ct, body := photoForm(t, buf.Bytes(), "1")
	head := body.Bytes()[:body.Len()/2]
	// An anonymous address has two upload slots: two stalled uploads hold
	// them, and a third is turned away while they do...
	held := []net.Conn{
		stall(t, a, "/api/v1/faces/tasks/", ct, string(head), body.Len()),
		stall(t, a, "/api/v1/faces/tasks/", ct, string(head), body.Len()),
	}
	time.Sleep(100 * time.Millisecond) // let the server take both slots
	ct3, body3 := photoForm(t, buf.Bytes(), "1")
	third := a.do("POST", "/api/v1/faces/tasks/", "", ct3, body3)
	wantError(t, "third upload while two stall", third, http.StatusTooManyRequests, moji.ERATELIMIT)
	if third.header.Get("Retry-After") == "" {
		t.Error("third upload: got no Retry-After, want one with the 429")
	}
	// ...until the body timeout frees them.
	for i, c := range held {
		if status, code := answer(t, c, 10*time.Second); status != http.StatusRequestTimeout || code != moji.ETIMEOUT {
			t.Errorf("stalled upload %d: got %d %s, want 408 %s", i, status, code, moji.ETIMEOUT)
		}
	}
	a.submit("", buf.Bytes(), "1")

	// A slow upload that keeps coming is not cut off: each piece arrives
	// within the timeout, the whole takes several times longer.
	c = stall(t, a, "/api/v1/faces/tasks/", ct, "", body.Len())
	for p := bytes.NewReader(body.Bytes()); p.Len() > 0; {
		piece := make([]byte, max(1, body.Len()/8))
		n, _ := p.Read(piece)
		if _, err := c.Write(piece[:n]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || r.StatusCode != http.StatusAccepted {
		t.Fatalf("slow but steady upload: got %v, %v; want 202", r, err)
	}
	r.Body.Close()
}

// Accounts are free, so a few of them from one address cannot hold every
// global upload slot with stalled bodies: an address has four at most.
func TestStalledUploadsPerAddress(t *testing.T) {
	a := startApp(t, store.SQLite, "--body-timeout", "2s")
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	ct, body := photoForm(t, buf.Bytes(), "1")
	head := string(body.Bytes()[:body.Len()/2])
	var held []net.Conn
	for _, who := range []string{"one", "two"} {
		tok := a.signup(who+"@example.com", who)
		for range 2 {
			held = append(held, stallAs(t, a, tok, "/api/v1/faces/tasks/", ct, head, body.Len()))
		}
	}
	time.Sleep(100 * time.Millisecond) // let the server take the slots
	ct3, body3 := photoForm(t, buf.Bytes(), "1")
	third := a.do("POST", "/api/v1/faces/tasks/", a.signup("three@example.com", "three"), ct3, body3)
	wantError(t, "a third account's upload while two stall two each", third, http.StatusTooManyRequests, moji.ERATELIMIT)
	if !strings.Contains(string(third.body), "network") {
		t.Errorf("third account: got %s, want the message about the network", third.body)
	}
	for i, c := range held {
		if status, code := answer(t, c, 10*time.Second); status != http.StatusRequestTimeout || code != moji.ETIMEOUT {
			t.Errorf("stalled upload %d: got %d %s, want 408 %s", i, status, code, moji.ETIMEOUT)
		}
	}
}

// Methods the server has never heard of are counted under one label: each
// used to make new series in /metrics.
func TestMetricsMethodLabel(t *testing.T) {
	a := startApp(t, store.SQLite)
	for i := range 5 {
		a.do(fmt.Sprintf("M%dXYZ", i), "/api/v1/nope", "", "", nil)
	}
	m := string(a.getJSON("/metrics", "").body)
	if strings.Contains(m, "XYZ") || !strings.Contains(m, `method="OTHER"`) {
		t.Errorf("/metrics: got unknown methods as labels or no OTHER label:\n%s", grepLines(m, "http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/config"
)

func TestProxiedAddrAndClientAddr(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no header", "10.0.0.1:5555", nil, "10.0.0.1"},
		{"proxy appended", "10.0.0.1:5555", []string{"1.2.3.4"}, "1.2.3.4"},
		{"client spoofed a first entry", "10.0.0.1:5555", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4"},
		{"two headers, last wins", "10.0.0.1:5555", []string{"6.6.6.6", "1.2.3.4"}, "1.2.3.4"},
		{"garbage ignored", "10.0.0.1:5555", []string{"not-an-ip"}, "10.0.0.1"},
		{"ipv6 grouped by /64", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			req.Header.Set("X-Real-IP", "9.9.9.9") // never trusted
			var got string
			proxiedAddr(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientAddr(r) })).
				ServeHTTP(httptest.NewRecorder(), req)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Without --trust-proxy, requests that came through a proxy are noted
// once in the log: its clients all share its address.
func TestWarnUntrustedProxy(t *testing.T) {
	var logs strings.Builder
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	h := s.warnUntrustedProxy(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, xff := range []string{"", "1.2.3.4", "5.6.7.8"} {
		req := httptest.NewRequest("GET", "/", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if got := strings.Count(logs.String(), "--trust-proxy is off"); got != 1 {
		t.Errorf("got %d warnings, want 1:\n%s", got, logs.String())
	}
}

// The body deadline runs from the handler's first read, not from the
// request's arrival: a request may first wait for an upload slot.
func TestBodyDeadlineStartsAtFirstRead(t *testing.T) {
	s := &Server{cfg: &config.Config{BodyTimeout: 200 * time.Millisecond}}
	srv := httptest.NewServer(s.deadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond) // waiting for a slot
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		w.Write(b)
	})))
	defer srv.Close()
	// With "Expect: 100-continue" (curl sends it for bodies over 1 MB) the
	// client sends the body only once the handler starts reading.
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
	for _, path := range []string{"/api/v1/users/auth", "/api/v1/faces/tasks/"} {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(`{"a":1}`))
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != `{"a":1}` {
			t.Errorf("%s: got %d %q, want 200 and the body back", path, resp.StatusCode, b)
		}
	}
}

package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	tests := []struct {
		path     string
		status   int
		wantHTML bool
		cache    string
	}{
		{"/", 200, true, "no-cache"},
		{"/index.html", 301, false, ""}, // the file server's canonical redirect to /
		{"/templates/3", 200, true, "no-cache"},
		{"/me", 200, true, "no-cache"},
		{"/results/0123456789abcdef0123456789abcdef", 200, true, "no-cache"},
		{"/templates/new", 200, true, "no-cache"},
		// Not the client's: its "not found" page, said with the status.
		{"/nope", 404, true, "no-cache"},
		{"/templates/3/extra", 404, true, "no-cache"},
		// A segment that can name nothing.
		{"/templates/abc", 404, true, "no-cache"},
		{"/templates/0", 404, true, "no-cache"},
		{"/templates/-3", 404, true, "no-cache"},
		{"/templates/+3", 404, true, "no-cache"},
		{"/templates/03", 404, true, "no-cache"},
		{"/templates/9007199254740992", 404, true, "no-cache"}, // 2^53: Number() would read another id
		{"/templates/99999999999999999999", 404, true, "no-cache"},
		{"/results/0123abcd", 404, true, "no-cache"},
		{"/results/0123456789ABCDEF0123456789ABCDEF", 404, true, "no-cache"},
		{"/me/", 200, true, "no-cache"},   // cleaned to /me
		{"/Login", 200, true, "no-cache"}, // the client's routes ignore case
		{"/missing.js", 404, false, ""},
		{"/assets/missing-abc123.js", 404, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("got %d, want %d", rec.Code, tt.status)
			}
			if tt.wantHTML && !strings.Contains(rec.Body.String(), "<html") {
				t.Errorf("got %q, want the app's index.html", rec.Body.String()[:min(80, rec.Body.Len())])
			}
			if got := rec.Header().Get("Cache-Control"); tt.cache != "" && got != tt.cache {
				t.Errorf("Cache-Control: got %q, want %q", got, tt.cache)
			}
		})
	}
}

// Pages and files are read, never written.
func TestHandlerMethods(t *testing.T) {
	h := Handler()
	for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodPut} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "/", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: got %d, Allow %q; want 405, Allow GET, HEAD", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/me", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("HEAD /me: got %d, want 200", rec.Code)
	}
}

// The server's list of client routes is the client's own.
func TestClientRoutesMatchApp(t *testing.T) {
	src, err := os.ReadFile("app/src/App.tsx")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	if strings.Contains(string(src), "<Route index ") {
		got = append(got, "")
	}
	// Every path is a plain "literal" the test can read (a path={x} would
	// slip past it, and the server would answer that page with 404).
	paths := regexp.MustCompile(`<Route path="([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if n := strings.Count(string(src), "path="); n != len(paths) {
		t.Fatalf("App.tsx: %d path= attributes, %d of them plain <Route path=\"...\">", n, len(paths))
	}
	for _, m := range paths {
		if m[1] != "*" {
			got = append(got, m[1])
		}
	}
	for _, route := range got {
		for _, seg := range strings.Split(route, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok && routeParams[name] == nil {
				t.Errorf("route %q: no routeParams[%q] says what the segment may be", route, name)
			}
		}
	}
	want := slices.Clone(clientRoutes)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("App.tsx routes: got %q, clientRoutes has %q", got, want)
	}
}

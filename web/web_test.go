package web

import (
	"net/http"
	"net/http/httptest"
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

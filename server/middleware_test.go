package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
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

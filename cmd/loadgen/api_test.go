package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

func TestQuantilesNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	q := quantilesOf(d)
	want := quantiles{N: 100, Min: 1, P50: 50, P95: 95, P99: 99, Max: 100}
	if q != want {
		t.Errorf("got %+v, want %+v", q, want)
	}
	if d[0] != 100*time.Millisecond {
		t.Error("quantilesOf sorted its argument")
	}
	if q := quantilesOf(nil); q != (quantiles{}) {
		t.Errorf("empty: got %+v", q)
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 5.24288e+07
igemoji_tasks_finished_total{outcome="done"} 7
igemoji_http_requests_total{code="200",method="GET",route="/a b"} 3
`)
	}))
	defer srv.Close()
	m, err := scrape(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.rssMiB(); got != 50 {
		t.Errorf("rss: got %v MiB, want 50", got)
	}
	if got := m[`igemoji_tasks_finished_total{outcome="done"}`]; got != 7 {
		t.Errorf("tasks done: got %v, want 7", got)
	}
	if got := m[`igemoji_http_requests_total{code="200",method="GET",route="/a b"}`]; got != 3 {
		t.Errorf("a label value with a space: got %v, want 3", got)
	}
}

func TestScrapeWithoutMemoryFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "go_goroutines 9\n")
	}))
	defer srv.Close()
	if _, err := scrape(context.Background(), srv.URL); err == nil {
		t.Error("a scrape without process_resident_memory_bytes succeeded")
	}
}

func TestFinishesFirstSightingWins(t *testing.T) {
	f := newFinishes()
	e := f.entry("t1") // the waiter registers first
	at := time.Now()
	f.see("t1", moji.TaskDone, "ws", at)
	f.see("t1", moji.TaskFailed, "poll", at.Add(time.Second))
	select {
	case <-e.seen:
	default:
		t.Fatal("not marked seen")
	}
	if e.state != moji.TaskDone || e.by != "ws" || !e.at.Equal(at) {
		t.Errorf("got %s by %s at %v, want the first sighting", e.state, e.by, e.at)
	}
	// An event before anyone waits is kept for the waiter.
	f.see("t2", moji.TaskDone, "ws", at)
	if e2 := f.entry("t2"); e2.by != "ws" {
		t.Errorf("early event lost: %+v", e2)
	}
}

// Clients come from distinct 127.1.x.y addresses, which the server sees.
func TestSourcesSpreadOverLoopback(t *testing.T) {
	seen := make(chan string, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		seen <- host
	}))
	defer srv.Close()
	src := newSources(srv.URL)
	for _, k := range []int{0, 253, 254} {
		if _, err := callWith(context.Background(), src.get(k).hc, "GET", srv.URL, "", "", nil, http.StatusOK); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"127.1.0.1", "127.1.0.254", "127.1.1.1"} {
		if got := <-seen; got != want {
			t.Errorf("got a connection from %s, want %s", got, want)
		}
	}
}

package server

import (
	"sync"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	clock := time.Unix(1000, 0)
	l := NewLimiter(3, time.Second, 8*time.Second)
	l.now = func() time.Time { return clock }

	for i := 1; i <= 3; i++ {
		if d := l.Reserve("k"); d != 0 {
			t.Fatalf("free attempt %d: got wait %v, want 0", i, d)
		}
	}
	if d := l.Reserve("k"); d != 0 {
		t.Fatalf("4th attempt: got wait %v, want 0 (it is counted and locks)", d)
	}
	if d := l.Reserve("k"); d != time.Second {
		t.Fatalf("while locked: got wait %v, want 1s", d)
	}
	if d := l.Reserve("other"); d != 0 {
		t.Fatalf("other key: got wait %v, want 0", d)
	}
	steps := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	prev := time.Second
	for _, want := range steps {
		clock = clock.Add(prev) // wait out the lock
		if d := l.Reserve("k"); d != 0 {
			t.Fatalf("after the lock: got wait %v, want 0", d)
		}
		if got := l.Reserve("k"); got != want {
			t.Fatalf("doubling: got wait %v, want %v", got, want)
		}
		prev = want
	}
	// Idle longer than max: forgotten.
	clock = clock.Add(time.Minute)
	if d := l.Reserve("k"); d != 0 {
		t.Fatalf("after idling: got wait %v, want 0", d)
	}
	l.Reset("k")
}

// A leaking limiter drains a key's count by one per period, whatever the
// attempts: waiting out the longest lock does not give the free attempts
// back, and failures slower than the leak never add up.
func TestLimiterLeaking(t *testing.T) {
	clock := time.Unix(1000, 0)
	l := NewLimiter(2, time.Second, 8*time.Second).Leaking(time.Hour)
	l.now = func() time.Time { return clock }
	for range 3 { // two free, the third locks for 1 s
		l.Reserve("k")
	}
	tests := []struct {
		wait time.Duration
		want time.Duration // the lock the attempt after the wait sets; 0: none
	}{
		{time.Minute, 2 * time.Second},      // 4: past max, not drained
		{30 * time.Minute, 4 * time.Second}, // 5
		{2 * time.Hour, 2 * time.Second},    // drained by 2 to 3, then 4
		{10 * time.Hour, 0},                 // drained to 0, then 1: free
	}
	for _, tt := range tests {
		clock = clock.Add(tt.wait)
		if d := l.Reserve("k"); d != 0 {
			t.Fatalf("after %v: got wait %v, want 0", tt.wait, d)
		}
		if got := l.Reserve("k"); got != tt.want {
			t.Errorf("after %v, the next attempt: got wait %v, want %v", tt.wait, got, tt.want)
		}
		clock = clock.Add(tt.want) // wait out what it set
		if tt.want == 0 {
			l.Undo("k") // the probe above counted one more
		}
	}

	// One failure every 70 minutes, among successes taken back, from a
	// shared address: never a lock.
	shared := NewLimiter(2, time.Second, 8*time.Second).Leaking(time.Hour)
	shared.now = func() time.Time { return clock }
	for i := range 100 {
		clock = clock.Add(7 * time.Minute)
		if d := shared.Reserve("office"); d != 0 {
			t.Fatalf("attempt %d: got wait %v, want none", i, d)
		}
		if i%10 != 0 {
			shared.Undo("office") // a right password
		}
	}
}

func TestLimiterParallelBurst(t *testing.T) {
	l := NewLimiter(5, time.Minute, time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Reserve("victim") == 0 {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 6 {
		t.Fatalf("parallel burst: got %d attempts through, want 6 (5 free + the one that locks)", passed)
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := NewLimiter(1, time.Minute, time.Hour)
	for i := 0; i < maxLimitEntries+10; i++ {
		l.Reserve(string(rune(i)) + "key")
	}
	if n := len(l.entries); n > maxLimitEntries {
		t.Fatalf("entries: got %d, want at most %d", n, maxLimitEntries)
	}
}

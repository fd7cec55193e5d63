package server

import (
	"math"
	"sync"
	"time"
)

// Limiter slows repeated events (failed log-ins, sign-ups) per key: the
// first `free` events within the window cost nothing; after that each event
// locks the key for `base`, doubling with every further event, up to `max`.
// The key is forgotten once its lock and window have passed.
//
// It lives in process memory: with several server instances each keeps its
// own count, which still bounds an attacker to instances × free attempts.
type Limiter struct {
	free int
	base time.Duration
	max  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	count int
	until time.Time // locked until
	last  time.Time
}

// maxLimitEntries bounds memory under a flood of distinct keys.
const maxLimitEntries = 100_000

// NewLimiter returns a limiter with the given policy.
func NewLimiter(free int, base, max time.Duration) *Limiter {
	return &Limiter{free: free, base: base, max: max, now: time.Now, entries: map[string]*limitEntry{}}
}

// Wait reports how long key must wait before its next attempt (0: go ahead).
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return 0
	}
	if d := e.until.Sub(l.now()); d > 0 {
		return d
	}
	return 0
}

// Add records one event for key.
func (l *Limiter) Add(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entries[key]
	if e == nil || now.Sub(e.last) > l.max && now.After(e.until) {
		if len(l.entries) >= maxLimitEntries {
			l.sweep(now)
		}
		e = &limitEntry{}
		l.entries[key] = e
	}
	e.count++
	e.last = now
	if over := e.count - l.free; over > 0 {
		d := time.Duration(float64(l.base) * math.Pow(2, float64(min(over-1, 30))))
		e.until = now.Add(min(d, l.max))
	}
}

// Reset forgets key (after a successful log-in).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

// sweep drops forgotten keys; if the map is still full it drops everything
// rather than grow without bound.
func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.last) > l.max && now.After(e.until) {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= maxLimitEntries {
		clear(l.entries)
	}
}

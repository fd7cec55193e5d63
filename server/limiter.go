package server

import (
	"crypto/sha256"
	"math"
	"sync"
	"time"
)

// Limiter slows repeated attempts (log-ins, sign-ups, look-ups) per key:
// the first `free` attempts cost nothing; after that each attempt locks the
// key for `base`, doubling with every further attempt, up to `max`. A key
// idle for longer than `max` is forgotten, unless the limiter leaks (see
// Leaking): then its count drains by one every period instead, whatever
// else happens, and the key is forgotten once it is empty.
//
// Reserve counts an attempt before the expensive work starts, under one
// lock, so a burst of parallel requests cannot slip past the count.
//
// It lives in process memory: with several server instances each keeps its
// own count, which still bounds an attacker to instances × free attempts.
type Limiter struct {
	free int
	base time.Duration
	max  time.Duration
	leak time.Duration // 0: forget after max idle; else drain one per leak
	now  func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*limitEntry // hashed: keys hold client input of any length
}

type limitEntry struct {
	count int
	until time.Time // locked until
	// last is the last attempt; for a leaking limiter, when the count
	// last drained (attempts, counted or taken back, do not move it).
	last time.Time
}

// maxLimitEntries bounds memory under a flood of distinct keys.
const maxLimitEntries = 100_000

// NewLimiter returns a limiter with the given policy.
func NewLimiter(free int, base, max time.Duration) *Limiter {
	return &Limiter{free: free, base: base, max: max, now: time.Now, entries: map[[sha256.Size]byte]*limitEntry{}}
}

// Leaking makes l drain each key's count by one every d rather than forget
// it after max idle: a guesser who waits out the longest lock does not get
// the free attempts back, and people who share an address, failing now and
// then, never add up to a lock as long as they fail less than once per d.
func (l *Limiter) Leaking(d time.Duration) *Limiter {
	l.leak = d
	return l
}

// settle drains e's count for the time since it last drained, and
// reports whether e is spent (nothing counted, not locked): forgotten.
func (l *Limiter) settle(e *limitEntry, now time.Time) bool {
	if l.leak <= 0 {
		return now.Sub(e.last) > l.max && !now.Before(e.until)
	}
	if n := now.Sub(e.last) / l.leak; n > 0 {
		e.count = max(0, e.count-int(min(n, math.MaxInt32)))
		e.last = e.last.Add(n * l.leak)
	}
	return e.count == 0 && !now.Before(e.until)
}

// Reserve counts one attempt for key, unless key is locked, in which case
// it returns how long to wait and counts nothing.
func (l *Limiter) Reserve(key string) time.Duration {
	h := sha256.Sum256([]byte(key))
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entries[h]
	if e != nil {
		if d := e.until.Sub(now); d > 0 {
			return d
		}
		if l.settle(e, now) {
			e = nil // forgotten
		}
	}
	if e == nil {
		if len(l.entries) >= maxLimitEntries {
			l.evict(now)
		}
		e = &limitEntry{last: now}
		l.entries[h] = e
	}
	e.count++
	if l.leak <= 0 {
		e.last = now
	}
	if over := e.count - l.free; over > 0 {
		d := time.Duration(float64(l.base) * math.Pow(2, float64(min(over-1, 30))))
		e.until = now.Add(min(d, l.max))
	}
	return 0
}

// Undo takes back one attempt of key (it turned out to be a success that
// should not count, such as a right password from a shared address).
func (l *Limiter) Undo(key string) {
	h := sha256.Sum256([]byte(key))
	l.mu.Lock()
	if e := l.entries[h]; e != nil && e.count > 0 {
		e.count--
	}
	l.mu.Unlock()
}

// Reset forgets key (after a successful log-in).
func (l *Limiter) Reset(key string) {
	h := sha256.Sum256([]byte(key))
	l.mu.Lock()
	delete(l.entries, h)
	l.mu.Unlock()
}

// evict drops forgotten keys, then unlocked ones; only when every key is
// locked does it drop arbitrary ones, which takes a flood of 100,000
// distinct keys each driven past its free attempts.
func (l *Limiter) evict(now time.Time) {
	for k, e := range l.entries {
		if l.settle(e, now) {
			delete(l.entries, k)
		}
	}
	for k, e := range l.entries {
		if len(l.entries) < maxLimitEntries*9/10 {
			return
		}
		if now.After(e.until) {
			delete(l.entries, k)
		}
	}
	for k := range l.entries {
		if len(l.entries) < maxLimitEntries*9/10 {
			return
		}
		delete(l.entries, k)
	}
}

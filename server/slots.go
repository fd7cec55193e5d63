package server

import (
	"context"
	"sync"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// addrSlots caps the uploads one client address has in flight, so that a
// few slow uploads from one place cannot hold every global upload slot.
type addrSlots struct {
	mu  sync.Mutex
	n   map[string]int
	max int
}

func newAddrSlots(max int) *addrSlots { return &addrSlots{n: map[string]int{}, max: max} }

// acquire takes a slot for addr, or reports that it has none left.
func (a *addrSlots) acquire(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n[addr] >= a.max {
		return false
	}
	a.n[addr]++
	return true
}

func (a *addrSlots) release(addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n[addr]--; a.n[addr] <= 0 {
		delete(a.n, addr)
	}
}

// pixelBudget bounds the memory of photo decodes by their pixel count (a
// decode holds about 4 bytes a pixel), not by how many run: many small
// photos decode at once, two of the largest allowed do not fit together
// with much else.
type pixelBudget struct {
	mu    sync.Mutex
	free  int64
	total int64
	wake  chan struct{} // closed and replaced when pixels are returned
}

func newPixelBudget(total int64) *pixelBudget {
	return &pixelBudget{free: total, total: total, wake: make(chan struct{})}
}

// run waits (up to slotWait) for n pixels of budget, then runs fn.
func (b *pixelBudget) run(ctx context.Context, n int64, fn func() error) error {
	n = min(n, b.total) // one photo larger than the budget runs alone
	t := time.NewTimer(slotWait)
	defer t.Stop()
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			break
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return moji.Errorf(moji.EUNAVAILABLE, "The server is busy; please try again shortly.")
		}
	}
	defer func() {
		b.mu.Lock()
		b.free += n
		close(b.wake)
		b.wake = make(chan struct{})
		b.mu.Unlock()
	}()
	return fn()
}

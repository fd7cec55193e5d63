package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAddrSlots(t *testing.T) {
	a := newAddrSlots(2)
	for i, want := range []bool{true, true, false} {
		if got := a.acquire("1.2.3.4"); got != want {
			t.Fatalf("acquire %d: got %v, want %v", i+1, got, want)
		}
	}
	if !a.acquire("5.6.7.8") {
		t.Fatal("another address: got no slot, want one")
	}
	a.release("1.2.3.4")
	if !a.acquire("1.2.3.4") {
		t.Fatal("after a release: got no slot, want one")
	}
}

// The budget lets small decodes run together and keeps the sum of pixels
// in flight within the total.
func TestPixelBudget(t *testing.T) {
	b := newPixelBudget(100)
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	for _, n := range []int64{60, 60, 30, 30, 10, 500} { // 500: larger than the budget, runs alone
		wg.Go(func() {
			err := b.run(context.Background(), n, func() error {
				cur := inFlight.Add(min(n, 100))
				for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				inFlight.Add(-min(n, 100))
				return nil
			})
			if err != nil {
				t.Errorf("run(%d): %v", n, err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 100 {
		t.Errorf("pixels in flight: got a peak of %d, want at most 100", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.run(ctx, 100, func() error { return nil }); err != nil {
		t.Errorf("free budget with a cancelled context: got %v, want it to run", err)
	}
}

package server

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
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

// A template image's decode waits for its share of the decode budget that
// photos use, by what its header says the decode takes.
func TestEmojiDecodeChargesTheBudget(t *testing.T) {
	var buf bytes.Buffer
	m := image.NewNRGBA64(image.Rect(0, 0, 300, 200))
	draw.Draw(m, image.Rect(100, 50, 200, 150), image.NewUniform(color.NRGBA64{R: 0xffff, A: 0xffff}), image.Point{}, draw.Src)
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	const budget = 100_000 // pixels: a 16-bit 300x200 PNG takes 120,000 bytes, so 30,000 of them
	s := &Server{photoPixels: newPixelBudget(budget)}
	hold, release := make(chan struct{}), make(chan struct{})
	go s.photoPixels.run(context.Background(), budget-20_000, func() error { // another decode
		close(hold)
		<-release
		return nil
	})
	<-hold
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.normalizeEmoji(ctx, buf.Bytes()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with 20,000 pixels of budget free: got %v, want it to wait for the budget", err)
	}
	close(release)
	out, err := s.normalizeEmoji(context.Background(), buf.Bytes())
	if err != nil || len(out) == 0 {
		t.Fatalf("with the budget free: got %d bytes, %v; want a PNG", len(out), err)
	}
}

package mem

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/bustest"
	"github.com/igemoji/igemoji/shared/moji"
)

func TestQueueOrderAndLen(t *testing.T) {
	ctx := context.Background()
	q := NewQueue()
	for _, id := range []string{"a", "b", "c"} {
		q.Enqueue(ctx, id)
	}
	var got []moji.Delivery
	for range 3 {
		d, err := q.Receive(ctx, "w")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	for i, want := range []string{"a", "b", "c"} {
		if got[i].TaskID != want || got[i].Deliveries != 1 {
			t.Errorf("delivery %d: got %+v, want task %s, delivered once", i, got[i], want)
		}
	}
	if n, _ := q.Len(ctx); n != 3 {
		t.Errorf("len with 3 unacknowledged: got %d, want 3", n)
	}
	for _, d := range got {
		q.Ack(ctx, d)
	}
	if n, _ := q.Len(ctx); n != 0 {
		t.Errorf("len after acks: got %d, want 0", n)
	}
}

func TestQueueReceiveWaitsAndCancels(t *testing.T) {
	q := NewQueue()
	got := make(chan string, 1)
	go func() {
		d, _ := q.Receive(context.Background(), "w")
		got <- d.TaskID
	}()
	time.Sleep(20 * time.Millisecond)
	q.Enqueue(context.Background(), "late")
	select {
	case id := <-got:
		if id != "late" {
			t.Errorf("got %q, want late", id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a waiting Receive was not woken by Enqueue")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := q.Receive(ctx, "w"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive on an empty queue: got %v, want the context's error", err)
	}
}

func TestBusTypes(t *testing.T) {
	b := NewBus(0)
	bustest.Types(t, b, b)
}

func TestBusFansOutWithoutBlocking(t *testing.T) {
	b := NewBus(2)
	ctx, cancel := context.WithCancel(context.Background())
	fast, _ := b.Subscribe(ctx)
	slow, _ := b.Subscribe(ctx) // never read
	done := make(chan struct{})
	go func() {
		for i := range 100 {
			b.Publish(ctx, moji.Event{Type: moji.EventTaskProgress, Percent: i})
		}
		close(done)
	}()
	var got []int
	for len(got) < 2 {
		got = append(got, (<-fast).Percent)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	if got[0] != 0 {
		t.Errorf("first event: got percent %d, want 0", got[0])
	}
	if n := len(slow); n != 2 {
		t.Errorf("slow subscriber's buffer: got %d events, want 2 (the rest dropped)", n)
	}
	cancel()
	for range fast {
	} // closed after cancel
}

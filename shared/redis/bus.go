package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/igemoji/igemoji/shared/moji"
)

// dropLogEvery limits the warnings about dropped events to one per period.
const dropLogEvery = 10 * time.Second

// subscribeTimeout bounds the wait for Redis to confirm a subscription.
const subscribeTimeout = 5 * time.Second

// bus is the moji.Bus of a Client.
type bus struct{ c *Client }

var _ moji.Bus = bus{}

// wireEvent is an Event as it travels: all of it, with the result's stored
// key, which moji.Result keeps out of its JSON (clients get a signed link
// made from it, and the server that relays a task.done has to make it).
type wireEvent struct {
	moji.Event
	ImageKey string `json:"image_key,omitempty"`
}

func toWire(e moji.Event) wireEvent {
	w := wireEvent{Event: e}
	if e.Result != nil {
		w.ImageKey = e.Result.ImageKey
	}
	return w
}

func (w wireEvent) event() moji.Event {
	e := w.Event
	if e.Result != nil {
		e.Result.ImageKey = w.ImageKey
	}
	return e
}

// Publish sends e, JSON-encoded, to every subscriber connected now. It
// returns when Redis has taken it or ctx has ended, whichever is first.
func (b bus) Publish(ctx context.Context, e moji.Event) error {
	payload, err := json.Marshal(toWire(e))
	if err != nil {
		return fmt.Errorf("redis: publish: %w", err)
	}
	if ctx.Done() == nil { // never cancelled: go-redis' own timeouts bound it
		return b.publish(ctx, e.Type, payload)
	}
	// go-redis honours ctx deadlines but not plain cancellation; the
	// goroutine finishes on its own within go-redis' timeouts.
	errc := make(chan error, 1)
	go func() { errc <- b.publish(ctx, e.Type, payload) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return fmt.Errorf("redis: publish: %w", ctx.Err())
	}
}

// globEscape quotes the characters that Redis' PSUBSCRIBE patterns treat
// as special, so that a key prefix is matched as written.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (b bus) publish(ctx context.Context, typ string, payload []byte) error {
	if err := b.c.rdb.Publish(ctx, b.c.channel+typ, payload).Err(); err != nil {
		return fmt.Errorf("redis: publish: %w", ctxErr(ctx, err))
	}
	return nil
}

// Subscribe returns a channel of the events of the given types (every
// type when none is given) published from now on (the subscription is
// confirmed before it returns), closed when ctx ends or the Client is
// closed. Each type has its own Redis channel, so that Redis sends a
// subscriber only what it asked for.
//
// A subscriber that falls more than SubscribeBuffer events behind loses
// the newest ones (counted by DroppedEvents) rather than stalling the
// connection's reader. When the connection to Redis is lost, the channel
// is closed once go-redis has it back (events of the gap are lost, which
// the bus allows): the subscriber subscribes again and catches up.
func (b bus) Subscribe(ctx context.Context, types ...string) (<-chan moji.Event, error) {
	c := b.c
	var ps *goredis.PubSub
	confirmations := 1
	if len(types) == 0 {
		ps = c.rdb.PSubscribe(ctx, globEscape(c.channel)+"*")
	} else {
		// Redis confirms each channel once, however often it is named.
		types = slices.Compact(slices.Sorted(slices.Values(types)))
		channels := make([]string, len(types))
		for i, t := range types {
			channels[i] = c.channel + t
		}
		ps = c.rdb.Subscribe(ctx, channels...)
		confirmations = len(channels)
	}
	// Redis confirms each channel (or reports why not) before it sends
	// any message on them.
	for range confirmations {
		if _, err := ps.ReceiveTimeout(ctx, subscribeTimeout); err != nil {
			ps.Close()
			return nil, fmt.Errorf("redis: subscribe: %w", ctxErr(ctx, err))
		}
	}
	// go-redis' own goroutine reads the connection, answers its health
	// checks and reconnects; it blocks only on in, which ours drains at
	// once. The subscription replies come through too: one after those
	// above means go-redis lost the connection and subscribed again, and
	// events published meanwhile are gone.
	in := ps.ChannelWithSubscriptions(goredis.WithChannelSize(SubscribeBuffer))
	out := make(chan moji.Event, SubscribeBuffer)

	var once sync.Once
	closePS := func() { once.Do(func() { ps.Close() }) }
	stopCtx := context.AfterFunc(ctx, closePS)
	stopClient := context.AfterFunc(c.closed, closePS)

	go func() {
		defer close(out)
		defer stopClient()
		defer stopCtx()
		var lastLog time.Time
		for m := range in { // closed by go-redis once ps is closed
			var msg *goredis.Message
			switch m := m.(type) {
			case *goredis.Subscription:
				if m.Kind == "subscribe" || m.Kind == "psubscribe" {
					// Closing tells the subscriber that it may have missed
					// events (it subscribes again and catches up).
					c.log.Warn("bus: the connection to Redis was lost and is back; events of the gap are missed")
					closePS()
					for range in { // until go-redis closes it
					}
					return
				}
				continue
			case *goredis.Message:
				msg = m
			default:
				continue
			}
			var w wireEvent
			if err := json.Unmarshal([]byte(msg.Payload), &w); err != nil {
				c.log.Warn("bus: undecodable event", "err", err)
				continue
			}
			e := w.event()
			select {
			case out <- e:
			default:
				n := c.dropped.Add(1)
				if now := time.Now(); now.Sub(lastLog) >= dropLogEvery {
					lastLog = now
					c.log.Warn("bus: subscriber too slow, events dropped", "dropped_total", n)
				}
			}
		}
	}()
	return out, nil
}

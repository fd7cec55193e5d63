// Package redis is the distributed transport: a moji.Queue over a Redis
// stream with a consumer group, and a moji.Bus over Redis pub/sub, so that
// servers and workers in different processes (or machines) share tasks and
// events.
//
// Redis is not the truth. It may lose everything (this deployment keeps
// nothing on disk), and the transport copes: the consumer group is
// re-created whenever Redis says it is gone, the pub/sub subscription
// reconnects by itself, and the database-side reconciler puts queued tasks
// whose entries were lost back on the queue.
package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/igemoji/igemoji/shared/moji"
)

// Defaults of Options.
const (
	DefaultPrefix        = "igemoji:"
	DefaultVisibility    = 60 * time.Second
	DefaultMaxDeliveries = 5
	DefaultBlock         = 2 * time.Second

	// Group is the consumer group every worker reads the task stream in.
	Group = "workers"
	// SubscribeBuffer is the size of the channel Subscribe returns.
	SubscribeBuffer = 1024
	// deadMaxLen caps the dead-letter stream (approximately) so that a
	// poison flood cannot fill Redis' memory.
	deadMaxLen = 10000
)

// Options tune a Client. Zero fields take the defaults.
type Options struct {
	// Prefix starts every key and channel name, so that several
	// deployments (or tests) can share one Redis. Default "igemoji:".
	Prefix string
	// Visibility is how long an unacknowledged entry stays with the
	// consumer that received it before another consumer may reclaim it
	// (the first one is presumed dead). Default 60s.
	Visibility time.Duration
	// MaxDeliveries is how often an entry may be handed out; the next
	// attempt moves it to the dead-letter stream instead. Default 5.
	MaxDeliveries int
	// Block is how long one XREADGROUP waits for new entries. Receive
	// loops over it, reclaiming stalled entries between reads, so it also
	// bounds how late a stalled entry is noticed. Default 2s.
	Block time.Duration
	// Logger receives warnings (dropped events, dead letters). Default:
	// discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Visibility <= 0 {
		o.Visibility = DefaultVisibility
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = DefaultMaxDeliveries
	}
	if o.Block <= 0 {
		o.Block = DefaultBlock
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Client is a connection pool to one Redis, handing out the queue and the
// bus. It is safe for concurrent use.
type Client struct {
	rdb *goredis.Client
	opt Options
	log *slog.Logger

	stream  string // task entries
	dead    string // dead letters
	channel string // events: one pub/sub channel per type, channel+type

	dropped atomic.Uint64

	// closed ends every subscription when the client is closed.
	closed    context.Context
	closeSubs context.CancelFunc
	closeOnce sync.Once
}

// Open connects to the Redis at rawURL (redis://[user:pass@]host:port/db or
// rediss:// for TLS), checks that it answers, and makes sure the task
// stream and its consumer group exist.
func Open(ctx context.Context, rawURL string, opt Options) (*Client, error) {
	ro, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: parse URL %s: %w", redacted(rawURL), err)
	}
	// Without this, go-redis ignores ctx deadlines and a command against a
	// hung Redis runs to its own timeouts (and retries) whatever the caller
	// asked for.
	ro.ContextTimeoutEnabled = true
	ro.Dialer = dialer(ro)
	if opt.Logger != nil {
		// go-redis logs (dial failures, pool trouble) through one logger
		// of its own for the whole process; send it to ours, so that it
		// keeps the configured format (a JSON log stays JSON).
		goredis.SetLogger(clientLog{opt.Logger})
	}
	opt = opt.withDefaults()
	c := &Client{
		rdb:     goredis.NewClient(ro),
		opt:     opt,
		log:     opt.Logger,
		stream:  opt.Prefix + "tasks",
		dead:    opt.Prefix + "tasks:dead",
		channel: opt.Prefix + "events:",
	}
	c.closed, c.closeSubs = context.WithCancel(context.Background())
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: %s: %w", redacted(rawURL), err)
	}
	if err := c.ensureGroup(ctx, c.rdb); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: create consumer group: %w", err)
	}
	if n, err := c.pruneConsumers(ctx); err != nil {
		c.log.Warn("redis: forget idle consumers", "err", err) // only tidiness
	} else if n > 0 {
		c.log.Info("redis: forgot idle consumers that held nothing", "consumers", n)
	}
	return c, nil
}

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.rdb.Ping(ctx).Err()
}

// Close ends the subscriptions and closes the connections.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closeSubs()
		err = c.rdb.Close()
	})
	return err
}

// Queue returns the task queue: the stream <prefix>tasks read by the
// consumer group "workers".
func (c *Client) Queue() moji.Queue { return queue{c} }

// Bus returns the event bus: a pub/sub channel per event type,
// <prefix>events:<type> (e.g. igemoji:events:task.done).
func (c *Client) Bus() moji.Bus { return bus{c} }

// DroppedEvents counts the events that subscribers of this client lost
// because they did not read fast enough.
func (c *Client) DroppedEvents() uint64 { return c.dropped.Load() }

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// ctxErr prefers the caller's ctx error: a command cut short because ctx
// ended reports that, not the i/o error it caused.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// clientLog is go-redis' logger on a slog.Logger.
type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client: "+strings.TrimSpace(fmt.Sprintf(format, v...)))
}

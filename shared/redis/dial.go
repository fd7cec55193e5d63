package redis

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// userTimeout ends a connection whose sent data has gone unacknowledged
// that long (Linux; see setUserTimeout).
const userTimeout = 20 * time.Second

// dialer is go-redis' own (keep-alive probes after 30 s idle) plus, on
// Linux, a TCP user timeout. Without it a Redis that vanished without a
// reset (a network partition, a host powered off) goes unnoticed by a
// subscription until TCP gives up, about 15 minutes: its health-check
// PINGs keep the line from ever being idle, so keep-alive never probes.
func dialer(ro *goredis.Options) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{
			Timeout:         ro.DialTimeout,
			KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3},
			Control:         setUserTimeout,
		}
		if ro.TLSConfig == nil {
			return d.DialContext(ctx, network, addr)
		}
		return (&tls.Dialer{NetDialer: d, Config: ro.TLSConfig}).DialContext(ctx, network, addr)
	}
}

package redis

import (
	"context"
	"net"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"
)

func TestDialerSetsUserTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := dialer(&goredis.Options{})(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	raw.Control(func(fd uintptr) { got, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT) })
	if gerr != nil || got != int(userTimeout.Milliseconds()) {
		t.Errorf("TCP_USER_TIMEOUT: got %d ms (%v), want %d", got, gerr, userTimeout.Milliseconds())
	}
}

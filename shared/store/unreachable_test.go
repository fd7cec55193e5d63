package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

func TestUnreachable(t *testing.T) {
	// A real refused connection: nothing listens on a port just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	db, err := sql.Open("mysql", "root@tcp("+addr+")/test?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	refused := db.PingContext(ctx)

	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused connection", refused, true},
		{"broken connection", fmt.Errorf("store: finish task: %w", driver.ErrBadConn), true},
		{"mysql invalid connection", fmt.Errorf("store: %w", mysql.ErrInvalidConn), true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"not found", moji.Errorf(moji.ENOTFOUND, "Task not found."), false},
		{"query fault", errors.New("store: no such column: x"), false},
		{"nil", nil, false},
		{"caller's deadline", fmt.Errorf("store: %w", context.DeadlineExceeded), false},
		{"caller gone", context.Canceled, false},
	} {
		if got := store.Unreachable(tt.err); got != tt.want {
			t.Errorf("%s (%v): got %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

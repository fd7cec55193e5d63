// Package storetest gives tests a fresh database of each supported dialect.
// MariaDB tests skip loudly when no server answers, except under CI (CI set),
// where they fail: there, the MariaDB run is mandatory.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/igemoji/igemoji/shared/store"
)

// DefaultMySQLURL is this machine's MariaDB; override with IGEMOJI_TEST_MYSQL_URL.
const DefaultMySQLURL = "mysql://root@127.0.0.1:3306/test"

// Dialects lists the dialects every store test runs on.
var Dialects = []store.Dialect{store.SQLite, store.MySQL}

// URL returns the URL of a new, empty database of dialect d that is dropped
// when the test ends.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	switch d {
	case store.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case store.MySQL:
		return mysqlURL(t)
	}
	t.Fatalf("unknown dialect %q", d)
	return ""
}

// MustOpenDB opens a new, migrated database of dialect d, closed at cleanup.
func MustOpenDB(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t, d))
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ServiceMissing skips the test, loudly, or fails it under CI.
func ServiceMissing(t testing.TB, service string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s is not reachable (%v)", service, err)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI requires it", msg)
	}
	t.Skipf("!!! SKIPPED: %s; start it to run this test (see README) !!!", msg)
}

func mysqlURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("IGEMOJI_TEST_MYSQL_URL")
	if base == "" {
		base = DefaultMySQLURL
	}
	_, dsn, err := store.ParseURL(base)
	if err != nil {
		t.Fatalf("IGEMOJI_TEST_MYSQL_URL: %v", err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		ServiceMissing(t, "MariaDB at "+redacted(base), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "igemoji_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", dsn); err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name)
			db.Close()
		}
	})
	cfg, _ := mysql.ParseDSN(dsn)
	u := "mysql://" + cfg.User
	if cfg.Passwd != "" {
		u += ":" + cfg.Passwd
	}
	return u + "@" + cfg.Addr + "/" + name
}

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // substring; empty means success
		check   func(t *testing.T, c *config.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c *config.Config) {
			if c.Addr != ":8080" || c.DataDir != "./data" || c.DatabaseURL != "sqlite:data/igemoji.db" || c.TokenTTL != 24*time.Hour {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "flag beats env", args: []string{"--addr", "127.0.0.1:0"}, env: map[string]string{"IGEMOJI_ADDR": ":9"},
			check: func(t *testing.T, c *config.Config) {
				if c.Addr != "127.0.0.1:0" {
					t.Errorf("addr: got %q, want 127.0.0.1:0", c.Addr)
				}
			}},
		{name: "env used", env: map[string]string{"IGEMOJI_DATA": "/tmp/x", "IGEMOJI_TOKEN_TTL": "1h"},
			check: func(t *testing.T, c *config.Config) {
				if c.DatabaseURL != "sqlite:/tmp/x/igemoji.db" || c.TokenTTL != time.Hour {
					t.Errorf("got %q, %v", c.DatabaseURL, c.TokenTTL)
				}
			}},
		{name: "mysql needs secret", env: map[string]string{"IGEMOJI_DATABASE_URL": "mysql://root@127.0.0.1:3306/test"}, wantErr: "jwt-secret: required"},
		{name: "mysql with secret", env: map[string]string{"IGEMOJI_DATABASE_URL": "mysql://root@127.0.0.1:3306/test", "IGEMOJI_JWT_SECRET": secret}},
		{name: "short secret", args: []string{"--jwt-secret", "short"}, wantErr: "too short"},
		{name: "bad addr", args: []string{"--addr", "8080"}, wantErr: "addr"},
		{name: "bad port", args: []string{"--addr", ":99999"}, wantErr: "port"},
		{name: "bad db", args: []string{"--database-url", "postgres://x/y"}, wantErr: "unsupported scheme"},
		{name: "bad ttl", args: []string{"--token-ttl", "1s"}, wantErr: "token-ttl"},
		{name: "bad cost", args: []string{"--bcrypt-cost", "40"}, wantErr: "bcrypt-cost"},
		{name: "bad level", args: []string{"--log-level", "loud"}, wantErr: "log-level"},
		{name: "bad format", args: []string{"--log-format", "xml"}, wantErr: "log-format"},
		{name: "workers auto without redis", check: func(t *testing.T, c *config.Config) {
			if c.Workers != 1 || c.RedisURL != "" || c.TaskLease != 30*time.Second || c.PhotoRetention != 0 || c.MaxSide != 4096 || !c.Metrics {
				t.Errorf("got workers %d, redis %q, lease %v, retention %v, max side %d, metrics %v; want 1, \"\", 30s, 0, 4096, true",
					c.Workers, c.RedisURL, c.TaskLease, c.PhotoRetention, c.MaxSide, c.Metrics)
			}
		}},
		{name: "workers auto with redis", env: map[string]string{"IGEMOJI_REDIS_URL": "redis://127.0.0.1:6379/0"},
			check: func(t *testing.T, c *config.Config) {
				if c.Workers != 0 {
					t.Errorf("workers: got %d, want 0 (igemoji worker runs them)", c.Workers)
				}
			}},
		{name: "workers explicit", args: []string{"--workers", "3", "--redis-url", "redis://r:6379/1"},
			check: func(t *testing.T, c *config.Config) {
				if c.Workers != 3 {
					t.Errorf("workers: got %d, want 3", c.Workers)
				}
			}},
		{name: "bad redis url", args: []string{"--redis-url", "127.0.0.1:6379"}, wantErr: "redis-url"},
		{name: "bad workers", args: []string{"--workers", "-1"}, wantErr: "workers"},
		{name: "bad lease", args: []string{"--task-lease", "1s"}, wantErr: "task-lease"},
		{name: "bad retention", args: []string{"--photo-retention", "-1h"}, wantErr: "photo-retention"},
		{name: "bad max side", args: []string{"--max-side", "100"}, wantErr: "max-side"},
		{name: "bad public url", args: []string{"--public-url", "igemoji.example"}, wantErr: "public-url"},
		{name: "bad blob url", args: []string{"--blob-url", "ftp://host/bucket"}, wantErr: "blob URL"},
		{name: "blob url without keys", args: []string{"--blob-url", "s3://host/bucket"}, wantErr: "credentials"},
		{name: "blob url", args: []string{"--blob-url", "s3+http://k:s@minio:9000/media/app"},
			check: func(t *testing.T, c *config.Config) {
				if c.S3 == nil || c.S3.Endpoint != "minio:9000" || c.S3.Bucket != "media" || c.S3.Prefix != "app" || c.S3.Secure {
					t.Errorf("blob-url: got %+v, want minio:9000, bucket media, prefix app, no TLS", c.S3)
				}
			}},
		{name: "public url trimmed", args: []string{"--public-url", "https://igemoji.example/"},
			check: func(t *testing.T, c *config.Config) {
				if c.PublicURL != "https://igemoji.example" {
					t.Errorf("public-url: got %q, want https://igemoji.example", c.PublicURL)
				}
			}},
		{name: "stray arg", args: []string{"oops"}, wantErr: "unexpected argument"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "not defined"},
		{name: "all errors at once", args: []string{"--addr", "x", "--log-level", "loud"}, wantErr: "log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load("serve", tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestSecretIsMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load("serve", []string{"--data", dir}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Secret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Secret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 32 || string(a) != string(b) {
		t.Fatalf("got %q then %q, want the same secret of at least 32 bytes", a, b)
	}
	st, err := os.Stat(filepath.Join(dir, "jwt.secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: got %v, %v; want mode 0600", st.Mode().Perm(), err)
	}
}

func TestSecretRaceAgrees(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load("serve", []string{"--data", dir}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	got := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			s, err := c.Secret()
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- string(s)
		}()
	}
	first := <-got
	for i := 1; i < n; i++ {
		if s := <-got; s != first {
			t.Fatalf("concurrent secrets differ: %q vs %q", s, first)
		}
	}
}

// Workers sign no tokens: with MySQL they need no secret; serve does.
func TestWorkerNeedsNoSecret(t *testing.T) {
	args := []string{"--database-url", "mysql://root@127.0.0.1:3306/test", "--redis-url", "redis://127.0.0.1:6379/0"}
	if _, err := config.Load("igemoji worker", args, env(nil), io.Discard); err != nil {
		t.Errorf("worker without --jwt-secret: got %v, want no error", err)
	}
	if _, err := config.Load("igemoji serve", args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "jwt-secret") {
		t.Errorf("serve without --jwt-secret: got %v, want an error about it", err)
	}
}

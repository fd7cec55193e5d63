// Package config reads IGE MOJI's settings from flags and IGEMOJI_*
// environment variables (a flag wins over its variable) and validates them
// once, at start, so that a mistake is reported before anything runs.
package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/igemoji/igemoji/shared/s3"
	"github.com/igemoji/igemoji/shared/store"
)

// Config is the validated configuration of a serve (or worker) process.
type Config struct {
	Addr        string        // listen address, HOST:PORT
	DataDir     string        // SQLite database, uploaded files, generated secret
	DatabaseURL string        // sqlite:PATH (default, in DataDir) or mysql://...
	JWTSecret   []byte        // HMAC key; generated into DataDir when empty on SQLite
	TokenTTL    time.Duration // lifetime of an access token
	BodyTimeout time.Duration // how long a request body may stall before a 408
	AssetsDir   string        // build-time assets: npm/ (fetched packages) and emoji/ (rendered built-ins)
	BcryptCost  int           // password hashing work factor
	TrustProxy  bool          // take the client address from the last X-Forwarded-For entry
	LogLevel    slog.Level
	LogFormat   string // text or json

	RedisURL       string        // redis://...: distributed queue and bus; empty: in-process
	S3             *s3.Config    // the bucket for blobs; nil: DATA/blobs on disk
	Workers        int           // in-process workers of serve (0 with Redis by default)
	TaskLease      time.Duration // a task's claim without a heartbeat; a dead worker's task waits this long
	PhotoRetention time.Duration // keep uploaded originals this long after processing (0: delete at once)
	MaxSide        int           // results are scaled down to at most this many pixels a side
	PublicURL      string        // absolute base URL for share links' previews; empty: from the request
	Metrics        bool          // serve /metrics
	MetricsAddr    string        // worker: listen address for /metrics and /healthz
}

// Dialect reports which database the configuration selects.
func (c *Config) Dialect() store.Dialect {
	d, _, _ := store.ParseURL(c.DatabaseURL)
	return d
}

// Var documents one setting for --help and the README.
type Var struct{ Flag, Env, Default, Usage string }

// Vars lists every setting, in the order --help shows them.
var Vars = []Var{
	{"addr", "IGEMOJI_ADDR", ":8080", "listen address HOST:PORT"},
	{"data", "IGEMOJI_DATA", "./data", "data directory: SQLite database, uploaded files, generated secret"},
	{"database-url", "IGEMOJI_DATABASE_URL", "", "database: sqlite:PATH (default: DATA/igemoji.db) or mysql://USER:PASS@HOST:PORT/DB"},
	{"jwt-secret", "IGEMOJI_JWT_SECRET", "", "token signing secret, at least 32 bytes (required with MySQL; generated into DATA otherwise)"},
	{"token-ttl", "IGEMOJI_TOKEN_TTL", "24h", "lifetime of an access token (1m to 720h)"},
	{"body-timeout", "IGEMOJI_BODY_TIMEOUT", "15s", "a request body that stops arriving for this long is answered 408 (an upload may take up to 2m in all; 100ms to 2m)"},
	{"assets", "IGEMOJI_ASSETS", "./.cache", "build-time assets (made by make assets): npm/ holds fetched packages, emoji/ the rendered built-in templates, models/ the converted models"},
	{"bcrypt-cost", "IGEMOJI_BCRYPT_COST", "11", "password hashing work factor, 10 to 15 (tests may use 4)"},
	{"trust-proxy", "IGEMOJI_TRUST_PROXY", "false", "take the client address from the last X-Forwarded-For entry, the one your proxy adds (only behind your own proxy)"},
	{"log-level", "IGEMOJI_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"log-format", "IGEMOJI_LOG_FORMAT", "text", "text or json"},
	{"redis-url", "IGEMOJI_REDIS_URL", "", "redis://HOST:PORT/DB for the distributed queue and events (empty: in-process, one machine)"},
	{"blob-url", "IGEMOJI_BLOB_URL", "", "where uploads and results are kept: empty for DATA/blobs on disk, or an S3-compatible bucket s3://KEY:SECRET@HOST/BUCKET[/PREFIX][?region=R] (s3+http:// without TLS; keys may come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"},
	{"workers", "IGEMOJI_WORKERS", "auto", "task workers: in serve a number, or auto (1 without Redis, 0 with Redis, where igemoji worker runs them); in igemoji worker how many run in the process (auto: 1)"},
	{"task-lease", "IGEMOJI_TASK_LEASE", "30s", "how long a task stays with a worker that stopped answering before another takes it over (3s to 10m)"},
	{"photo-retention", "IGEMOJI_PHOTO_RETENTION", "0s", "keep uploaded photos this long after processing (0s: delete at once)"},
	{"max-side", "IGEMOJI_MAX_SIDE", "4096", "results are scaled down to at most this many pixels a side (256 to 12000)"},
	{"public-url", "IGEMOJI_PUBLIC_URL", "", "the site's public base URL, e.g. https://igemoji.example, for link previews (empty: from each request)"},
	{"metrics", "IGEMOJI_METRICS", "true", "serve Prometheus metrics at /metrics"},
	{"metrics-addr", "IGEMOJI_METRICS_ADDR", ":9091", "igemoji worker: listen address for /metrics and /healthz"},
}

// onlyFor names the one command that uses a setting, where only one does.
var onlyFor = map[string]string{
	"addr": "serve", "jwt-secret": "serve", "token-ttl": "serve", "body-timeout": "serve",
	"bcrypt-cost": "serve", "trust-proxy": "serve", "public-url": "serve", "metrics": "serve",
	"metrics-addr": "worker",
}

// Load parses args (without the program and subcommand names) over the
// environment given by getenv. --help prints the usage to stdout and
// returns flag.ErrHelp; mistakes are returned, not printed.
func Load(name string, args []string, getenv func(string) string, stdout io.Writer) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cmd := strings.TrimPrefix(name, "igemoji ")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nEach flag may instead be set by the environment variable in brackets.\n\nFlags:\n", name)
		// Only the flags this command uses (the others are accepted, so
		// that serve and worker can share one environment).
		shown := flag.NewFlagSet(name, flag.ContinueOnError)
		shown.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if o := onlyFor[f.Name]; o == "" || o == cmd {
				shown.Var(f.Value, f.Name, f.Usage)
			}
		})
		shown.PrintDefaults()
	}
	vals := map[string]*string{}
	fromEnv := map[string]bool{}
	for _, v := range Vars {
		def := v.Default
		if e := getenv(v.Env); e != "" {
			def, fromEnv[v.Flag] = e, true
		}
		vals[v.Flag] = fs.String(v.Flag, def, v.Usage+" ["+v.Env+"]")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { fromEnv[f.Name] = false }) // the command line wins
	get := func(f string) string { return strings.TrimSpace(*vals[f]) }

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c := &Config{Addr: get("addr"), DataDir: get("data"), DatabaseURL: get("database-url"),
		JWTSecret: []byte(get("jwt-secret")), AssetsDir: get("assets"), LogFormat: get("log-format")}

	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q: want HOST:PORT, e.g. :8080 or 127.0.0.1:8080", c.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("addr %q: port must be 0-65535", c.Addr)
	}
	if c.DataDir == "" {
		bad("data: must not be empty")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "igemoji.db")
	}
	d, _, err := store.ParseURL(c.DatabaseURL)
	if err != nil {
		bad("%v", err)
	}
	switch n := len(c.JWTSecret); {
	case n == 0 && d == store.MySQL && cmd != "worker": // workers sign nothing
		bad("jwt-secret: required with MySQL, where several instances must share it (at least 32 bytes; e.g. `openssl rand -hex 32`)")
	case n > 0 && n < 32:
		bad("jwt-secret: %d bytes is too short; use at least 32", n)
	}
	if c.TokenTTL, err = time.ParseDuration(get("token-ttl")); err != nil || c.TokenTTL < time.Minute || c.TokenTTL > 720*time.Hour {
		bad("token-ttl %q: want a duration from 1m to 720h", get("token-ttl"))
	}
	if c.BcryptCost, err = strconv.Atoi(get("bcrypt-cost")); err != nil || c.BcryptCost < 4 || c.BcryptCost > 15 {
		bad("bcrypt-cost %q: want a whole number from 10 to 15 (4 to 9 only for tests)", get("bcrypt-cost"))
	}
	if c.TrustProxy, err = strconv.ParseBool(get("trust-proxy")); err != nil {
		bad("trust-proxy %q: want true or false", get("trust-proxy"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("log-level"))); err != nil {
		bad("log-level %q: want debug, info, warn or error", get("log-level"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format %q: want text or json", c.LogFormat)
	}
	if v := get("blob-url"); v != "" {
		if sc, err := s3.ParseURL(v, getenv); err != nil {
			bad("%v", err)
		} else {
			c.S3 = &sc
		}
	}
	c.RedisURL = get("redis-url")
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("redis-url: want redis://HOST:PORT/DB")
	}
	switch w := get("workers"); w {
	case "auto":
		c.Workers = 1
		if c.RedisURL != "" {
			c.Workers = 0
		}
	default:
		if c.Workers, err = strconv.Atoi(w); err != nil || c.Workers < 0 || c.Workers > 64 {
			bad("workers %q: want auto or a whole number from 0 to 64", w)
		}
	}
	if c.BodyTimeout, err = time.ParseDuration(get("body-timeout")); err != nil || c.BodyTimeout < 100*time.Millisecond || c.BodyTimeout > 2*time.Minute {
		bad("body-timeout %q: want a duration from 100ms to 2m", get("body-timeout"))
	}
	if c.TaskLease, err = time.ParseDuration(get("task-lease")); err != nil || c.TaskLease < 3*time.Second || c.TaskLease > 10*time.Minute {
		bad("task-lease %q: want a duration from 3s to 10m", get("task-lease"))
	}
	if c.PhotoRetention, err = time.ParseDuration(get("photo-retention")); err != nil || c.PhotoRetention < 0 {
		bad("photo-retention %q: want a duration such as 0s or 72h", get("photo-retention"))
	}
	if c.MaxSide, err = strconv.Atoi(get("max-side")); err != nil || c.MaxSide < 256 || c.MaxSide > 12000 {
		bad("max-side %q: want a whole number from 256 to 12000", get("max-side"))
	}
	c.PublicURL = strings.TrimRight(get("public-url"), "/")
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public-url %q: want an absolute http(s) URL", c.PublicURL)
		}
	}
	if c.Metrics, err = strconv.ParseBool(get("metrics")); err != nil {
		bad("metrics %q: want true or false", get("metrics"))
	}
	c.MetricsAddr = get("metrics-addr")
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		bad("metrics-addr %q: want HOST:PORT", c.MetricsAddr)
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
			// Name the variable where the value came from it: the person
			// may never have typed the flag.
			for _, v := range Vars {
				if fromEnv[v.Flag] && (strings.HasPrefix(msgs[i], v.Flag+" ") || strings.HasPrefix(msgs[i], v.Flag+":")) {
					msgs[i] = v.Env + ", as --" + msgs[i]
					break
				}
			}
		}
		return nil, errors.New("invalid configuration:\n  " + strings.Join(msgs, "\n  "))
	}
	return c, nil
}

// Logger builds the process's one logger.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Secret returns the token signing secret: the configured one, or the one
// kept in the data directory, made on first start. The file is written
// whole under a temporary name and linked into place (link fails if the
// name exists), so two processes that start together agree on one secret
// and neither reads a half-written file.
func (c *Config) Secret() ([]byte, error) {
	if len(c.JWTSecret) > 0 {
		return c.JWTSecret, nil
	}
	p := filepath.Join(c.DataDir, "jwt.secret")
	for i := 0; i < 2; i++ {
		if b, err := os.ReadFile(p); err == nil {
			if s := bytes.TrimSpace(b); len(s) >= 32 {
				return s, nil
			}
			return nil, fmt.Errorf("%s holds fewer than 32 bytes; delete it to make a new one (this logs everyone out)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
			return nil, err
		}
		raw := make([]byte, 32)
		rand.Read(raw)
		s := []byte(hex.EncodeToString(raw))
		f, err := os.CreateTemp(c.DataDir, ".jwt.secret-*")
		if err != nil {
			return nil, err
		}
		_, werr := f.Write(append(s, '\n'))
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Link(f.Name(), p)
		}
		os.Remove(f.Name())
		if errors.Is(werr, fs.ErrExist) {
			continue // another process made it first; read theirs
		} else if werr != nil {
			return nil, werr
		}
		return s, nil
	}
	return nil, fmt.Errorf("could not read or create %s", p)
}

// Package store keeps IGE MOJI's records in SQL: SQLite by default (pure Go,
// no cgo) or MySQL/MariaDB when a database URL says so. Everything
// dialect-specific stays in this package; callers see moji types and
// *moji.Error values only.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/igemoji/igemoji/shared/moji"
)

//go:embed migrations
var migrations embed.FS

// Dialect names a supported database.
type Dialect string

const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// DB is the store. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect Dialect
	// Now is the clock; tests may replace it before use.
	Now func() time.Time
}

// Open connects to the database named by rawURL and applies pending
// migrations. Accepted forms:
//
//	sqlite:/path/to/igemoji.db   (or sqlite://relative/path.db)
//	mysql://user:pass@host:3306/dbname
//
// Reaching the database must take under 30 seconds; migrating may take as
// long as it needs (ctx ends it), and another instance's migration is waited
// for.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	return open(ctx, rawURL, true)
}

// OpenExisting opens a database the service made, for a tool to read: it
// neither creates nor migrates one, and refuses a database whose schema is
// not this version's.
func OpenExisting(ctx context.Context, rawURL string) (*DB, error) {
	if d, _, err := ParseURL(rawURL); err == nil && d == SQLite {
		file := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if st, err := os.Stat(file); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("no database at %s", file)
		}
	}
	return open(ctx, rawURL, false)
}

func open(ctx context.Context, rawURL string, migrate bool) (*DB, error) {
	d, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var sqldb *sql.DB
	switch d {
	case SQLite:
		sqldb, err = sql.Open("sqlite", dsn)
		if err == nil {
			// Keep connections: each new one re-runs the pragmas, which
			// cost more than the gallery query itself.
			sqldb.SetMaxOpenConns(32)
			sqldb.SetMaxIdleConns(32)
		}
	case MySQL:
		sqldb, err = sql.Open("mysql", dsn)
		if err == nil {
			sqldb.SetMaxOpenConns(32)
			sqldb.SetMaxIdleConns(16)
			sqldb.SetConnMaxLifetime(5 * time.Minute)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d, err)
	}
	db := &DB{db: sqldb, dialect: d, Now: time.Now}
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	err = sqldb.PingContext(pingCtx)
	cancel()
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to %s: %w", d, err)
	}
	if migrate {
		err = db.migrateWith(ctx, dsn)
	} else {
		err = db.checkSchema(ctx)
	}
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// connectTimeout bounds reaching the database at Open; migrating has no
// deadline of its own.
const connectTimeout = 30 * time.Second

// migrateWith migrates through a connection of its own: on MySQL one
// without the pool's read timeout, which a long index build would trip.
func (db *DB) migrateWith(ctx context.Context, dsn string) error {
	if db.dialect != MySQL {
		return db.migrate(ctx, db.db)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	cfg.ReadTimeout, cfg.WriteTimeout = 0, 0
	mdb, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer mdb.Close()
	return db.migrate(ctx, mdb)
}

// checkSchema reports whether every migration of this version is applied.
func (db *DB) checkSchema(ctx context.Context) error {
	names, err := fs.ReadDir(migrations, path.Join("migrations", string(db.dialect)))
	if err != nil {
		return err
	}
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("not an IGE MOJI database (%v)", err)
	}
	switch {
	case n < len(names):
		return fmt.Errorf("the database's schema has %d of this version's %d migrations; start igemoji serve once to bring it up to date", n, len(names))
	case n > len(names):
		return fmt.Errorf("the database is from a newer igemoji (%d migrations, this one knows %d); use that version", n, len(names))
	}
	return nil
}

// ParseURL validates a database URL and returns its dialect and driver DSN.
func ParseURL(rawURL string) (Dialect, string, error) {
	scheme, rest, ok := strings.Cut(rawURL, ":")
	if !ok {
		return "", "", fmt.Errorf("database URL %q: want sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB", rawURL)
	}
	switch scheme {
	case "sqlite":
		p := strings.TrimPrefix(rest, "//")
		if p == "" {
			return "", "", fmt.Errorf("database URL %q: missing file path", rawURL)
		}
		// WAL lets readers run beside the one writer; immediate transactions
		// take the write lock up front so two writers queue on busy_timeout
		// instead of failing with SQLITE_BUSY when a read lock is upgraded.
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		return SQLite, "file:" + p + "?" + q.Encode(), nil
	case "mysql":
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", "", fmt.Errorf("database URL: %v", err)
		}
		dbname := strings.TrimPrefix(u.Path, "/")
		if u.Host == "" || dbname == "" {
			return "", "", fmt.Errorf("database URL %q: want mysql://USER:PASS@HOST:PORT/DB", redact(u))
		}
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = u.Host + ":3306"
		}
		cfg.DBName = dbname
		cfg.Collation = "utf8mb4_bin"
		cfg.Timeout = 5 * time.Second
		// A stalled server must not hang requests forever.
		cfg.ReadTimeout = 30 * time.Second
		cfg.WriteTimeout = 30 * time.Second
		cfg.Params = map[string]string{}
		for k, v := range u.Query() {
			cfg.Params[k] = v[0]
		}
		return MySQL, cfg.FormatDSN(), nil
	default:
		return "", "", fmt.Errorf("database URL: unsupported scheme %q (want sqlite or mysql)", scheme)
	}
}

func redact(u *url.URL) string {
	if _, ok := u.User.Password(); ok {
		u2 := *u
		u2.User = url.UserPassword(u.User.Username(), "xxx")
		return u2.String()
	}
	return u.String()
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the connection pool.
func (db *DB) Close() error { return db.db.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }

// migrate applies the embedded migrations of this dialect that the
// schema_migrations table does not list, each in its own transaction.
//
// It is safe to run from several processes at once and to cut short at any
// point. On MySQL, DDL commits implicitly, so a named lock keeps two
// instances that start together from racing each other, and a migration cut
// short between its statements is finished on the next start: a statement
// whose table, column or index already exists counts as done. SQLite's DDL is
// transactional and has no such lock: each migration's write transaction
// checks again that no other process applied it meanwhile.
//
// Migrations run on their own connection without the pool's read timeout
// (building an index on a big table takes longer) and without a deadline of
// their own; ctx still cancels them.
func (db *DB) migrate(ctx context.Context, mdb *sql.DB) error {
	conn, err := mdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.dialect == MySQL {
		if err := migrationLock(ctx, conn); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('igemoji_migrate')")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       VARCHAR(255) NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := path.Join("migrations", string(db.dialect))
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		num, _, _ := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migrate: bad migration file name %q", name)
		}
		if applied[version] {
			continue
		}
		body, err := migrations.ReadFile(path.Join(dir, name))
		if err != nil {
			return err
		}
		if err := db.apply(ctx, conn, version, name, splitStatements(string(body))); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	if err := db.fillAliasLooks(ctx, conn); err != nil {
		return fmt.Errorf("migrate: alias look keys: %w", err)
	}
	return nil
}

// apply runs one migration and records it, in one transaction.
func (db *DB) apply(ctx context.Context, conn *sql.Conn, version int, name string, stmts []string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process may have applied it since the list was read (SQLite;
	// on MySQL the lock rules that out, and the check costs nothing).
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil && !(db.dialect == MySQL && alreadyDone(err)) {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		version, name, db.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

func appliedVersions(ctx context.Context, conn *sql.Conn) (map[int]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	// A list cut short by a dropped connection would re-run applied files.
	return applied, rows.Err()
}

// migrationLock takes MySQL's named migration lock, waiting as long as
// another instance holds it (its migration may be building an index on a
// big table) up to lockWait, in short steps so that ctx can end the wait.
func migrationLock(ctx context.Context, conn *sql.Conn) error {
	deadline := time.Now().Add(lockWait)
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('igemoji_migrate', 5)").Scan(&got); err != nil {
			return fmt.Errorf("migrate: could not take the migration lock: %w", err)
		}
		if got.Int64 == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("migrate: another instance has held the migration lock for over %v; is its migration stuck?", lockWait)
		}
	}
}

// lockWait bounds the wait for another instance's migration.
const lockWait = 30 * time.Minute

// alreadyDone reports a MySQL error that says a statement's table, column,
// index or key exists: the mark of a migration cut short after its first
// statements (MySQL commits each DDL statement on its own), to be finished
// rather than failed on.
func alreadyDone(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1050, // ER_TABLE_EXISTS_ERROR
		1060, // ER_DUP_FIELDNAME
		1061, // ER_DUP_KEYNAME
		1826: // ER_FK_DUP_NAME
		return true
	}
	return false
}

// splitStatements splits a migration file on semicolons that end a line,
// dropping comment lines. Our migrations hold no semicolons inside strings.
func splitStatements(src string) []string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, s := range strings.Split(b.String(), ";\n") {
		if s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// deadlock reports whether err is InnoDB choosing this statement as a
// deadlock's victim, which a retry settles.
func deadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

// uniqueViolation reports whether err is a unique-constraint failure and, if
// so, the violated constraint: its name on MySQL ("users_email_key"), its
// column on SQLite ("email_key"). Only that part of the message is read: the
// rest quotes the offending value, which the client chose.
func uniqueViolation(err error) (string, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		// "UNIQUE constraint failed: users.email_key"
		msg := se.Error()
		i := strings.LastIndex(msg, "failed: ")
		if i < 0 {
			return "", true
		}
		cols := strings.Fields(msg[i+len("failed: "):])
		if len(cols) == 0 {
			return "", true
		}
		_, col, _ := strings.Cut(strings.TrimSuffix(cols[0], ")"), ".")
		return col, true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1062 {
		// "Duplicate entry '...' for key 'users_email_key'" (MySQL 8 may
		// prefix the table: 'users.users_email_key').
		msg := me.Message
		i := strings.LastIndex(msg, " for key '")
		if i < 0 {
			return "", true
		}
		name := strings.TrimSuffix(msg[i+len(" for key '"):], "'")
		if _, after, ok := strings.Cut(name, "."); ok {
			name = after
		}
		return name, true
	}
	return "", false
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Unreachable reports whether err is the database being out of reach (a
// refused or broken connection), not a fault of the query: the caller may
// answer "try again" rather than "internal error".
func Unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's own deadline, not the database's absence
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

func notFound(what string) error { return moji.Errorf(moji.ENOTFOUND, "%s not found.", what) }

// offset turns a 1-based page number into a row offset, refusing pages so
// large that the offset would overflow.
func offset(page, size int) (int, error) {
	if page < 1 || size < 1 {
		return 0, moji.Errorf(moji.EINVALID, "Page numbers start at 1.")
	}
	if page > 1_000_000 {
		return 0, moji.Errorf(moji.EINVALID, "Page number too large.")
	}
	return (page - 1) * size, nil
}

package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/shared/store/storetest"
)

// Every test here runs on every dialect: the store must behave the same on all.
func forEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.MustOpenDB(t, d))
		})
	}
}

func mustCreateUser(t *testing.T, db *store.DB, email, alias string) *moji.User {
	t.Helper()
	u := &moji.User{Email: email, Alias: alias, PasswordHash: []byte("$2a$10$hash")}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%q, %q): %v", email, alias, err)
	}
	return u
}

func images(tag string) map[moji.Expression]string {
	m := map[moji.Expression]string{}
	for _, e := range moji.Expressions {
		m[e] = fmt.Sprintf("%s-%s.png", tag, e)
	}
	return m
}

func mustCreateTemplate(t *testing.T, db *store.DB, name string, creator int64) *moji.Template {
	t.Helper()
	tp := &moji.Template{Name: name, CreatorID: creator, Images: images(name)}
	if err := db.CreateTemplate(context.Background(), tp, ""); err != nil {
		t.Fatalf("CreateTemplate(%q): %v", name, err)
	}
	return tp
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := moji.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			u := storetest.URL(t, d)
			for i := 0; i < 2; i++ {
				db, err := store.Open(context.Background(), u)
				if err != nil {
					t.Fatalf("open #%d: %v", i+1, err)
				}
				db.Close()
			}
		})
	}
}

// Processes that start together on a new database (a server and a worker,
// two servers) all come up: one migrates, the others find it done.
func TestConcurrentOpens(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			u := storetest.URL(t, d)
			const n = 24
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				go func() {
					db, err := store.Open(context.Background(), u)
					if err == nil {
						db.Close()
					}
					errs <- err
				}()
			}
			for i := 0; i < n; i++ {
				if err := <-errs; err != nil {
					t.Errorf("open: got %v, want no error", err)
				}
			}
		})
	}
}

// MySQL commits each DDL statement on its own, so a start that stops in the
// middle of a migration (a deadline, a crash) leaves part of it applied and
// unrecorded; the next start must finish it, not fail on what exists.
func TestMigrationCutShortIsFinished(t *testing.T) {
	ctx := context.Background()
	u := storetest.URL(t, store.MySQL)
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	// 0003 stopped after its columns and first index.
	must(t, db.Exec(ctx, `DROP INDEX users_alias_look_cased ON users`))
	must(t, db.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 3`))
	db.Close()

	if db, err = store.Open(ctx, u); err != nil {
		t.Fatalf("open after a migration cut short: got %v, want no error", err)
	}
	defer db.Close()
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM schema_migrations WHERE version = 3`:                                                                                       1,
		`SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'users_alias_look_cased'`: 1,
	} {
		if n, err := db.Count(ctx, q); err != nil || n != want {
			t.Errorf("%s: got %d, %v; want %d", q, n, err, want)
		}
	}
}

// A second instance waits for the first one's migration (which may build an
// index on a big table) instead of giving up on the lock.
func TestOpenWaitsForAnotherMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := storetest.URL(t, store.MySQL)
	first, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- first.HoldMigrationLock(ctx, held, release) }()
	<-held
	const hold = 6 * time.Second // longer than one GET_LOCK step
	time.AfterFunc(hold, func() { close(release) })
	start := time.Now()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open while another instance migrates: got %v, want no error", err)
	}
	db.Close()
	if waited := time.Since(start); waited < hold {
		t.Errorf("open returned after %v, while the lock was held for %v", waited, hold)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// OpenExisting, for tools, neither creates nor migrates a database.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			u := storetest.URL(t, d)
			if db, err := store.OpenExisting(ctx, u); err == nil {
				db.Close()
				t.Fatal("a database never opened by the service: got no error, want one")
			}
			if d == store.SQLite {
				if _, err := os.Stat(strings.TrimPrefix(u, "sqlite:")); err == nil {
					t.Fatal("OpenExisting created the database file")
				}
			}
			db, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			if db, err = store.OpenExisting(ctx, u); err != nil {
				t.Fatalf("after the service made it: got %v, want no error", err)
			}
			db.Close()
		})
	}
	garbage := filepath.Join(t.TempDir(), "igemoji.db")
	os.WriteFile(garbage, []byte("not a database at all, just some text"), 0o644)
	if db, err := store.OpenExisting(ctx, "sqlite:"+garbage); err == nil {
		db.Close()
		t.Fatal("a text file: got no error, want one")
	}
	if b, _ := os.ReadFile(garbage); string(b) != "not a database at all, just some text" {
		t.Fatal("OpenExisting changed the file")
	}
}

func TestUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustCreateUser(t, db, "Kim@Example.com", "김민수")
		if u.ID == 0 || u.CreatedAt.IsZero() {
			t.Fatalf("got id %d, created %v; want both set", u.ID, u.CreatedAt)
		}
		got, err := db.UserByEmail(ctx, "kim@EXAMPLE.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Email != "Kim@Example.com" || got.Alias != "김민수" || string(got.PasswordHash) != "$2a$10$hash" {
			t.Fatalf("UserByEmail: got %+v, want %+v", got, u)
		}
		if !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("created_at: got %v, want %v", got.CreatedAt, u.CreatedAt)
		}
		byID, err := db.UserByID(ctx, u.ID)
		if err != nil || byID.Email != u.Email {
			t.Fatalf("UserByID: got %+v, %v", byID, err)
		}
		_, err = db.UserByID(ctx, 999999)
		wantCode(t, err, moji.ENOTFOUND)
		_, err = db.UserByEmail(ctx, "nobody@example.com")
		wantCode(t, err, moji.ENOTFOUND)

		tests := []struct {
			email, alias, code, contains string
		}{
			{"kim@example.com", "other", moji.ECONFLICT, "email"},
			{"KIM@EXAMPLE.COM", "other2", moji.ECONFLICT, "email"},
			{"new@example.com", "김민수", moji.ECONFLICT, "alias"},
			{"new2@example.com", "x'); DROP TABLE users; --", "", ""},
			{"ünï@例え.jp", "Ünïcode😀", "", ""},
		}
		for _, tt := range tests {
			err := db.CreateUser(ctx, &moji.User{Email: tt.email, Alias: tt.alias, PasswordHash: []byte("h")})
			if moji.ErrorCode(err) != tt.code {
				t.Errorf("CreateUser(%q, %q): got code %q (%v), want %q", tt.email, tt.alias, moji.ErrorCode(err), err, tt.code)
			}
			if tt.contains != "" && !containsFold(moji.ErrorMessage(err), tt.contains) {
				t.Errorf("CreateUser(%q, %q): message %q should mention %q", tt.email, tt.alias, moji.ErrorMessage(err), tt.contains)
			}
		}
		for _, tt := range []struct {
			value string
			alias bool
			want  bool
		}{
			{"KIM@example.com", false, true},
			{"nobody@example.com", false, false},
			{"x'); DROP TABLE users; --", true, true},
			{"ünïcode😀", true, true},
			{"김민수", true, true},
			{"김민", true, false},
		} {
			var got bool
			var err error
			if tt.alias {
				got, err = db.AliasTaken(ctx, tt.value)
			} else {
				got, err = db.EmailTaken(ctx, tt.value)
			}
			if err != nil || got != tt.want {
				t.Errorf("taken(%q): got %v, %v; want %v", tt.value, got, err, tt.want)
			}
		}
	})
}

// Aliases that look alike are one alias: the first account holds it.
func TestLookAlikeAliases(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, a := range []string{"ace", "mike", "bill", "oslo", "김민수", "lan", "KOT"} {
			mustCreateUser(t, db, a+"@example.com", a)
		}
		for i, tt := range []struct {
			alias string
			taken bool
		}{
			{"асе", true},   // Cyrillic а, с, е
			{"ACE", true},   // case
			{"rnike", true}, // r n reads as m
			{"bi11", true},
			{"BILL", true},
			{"os1o", true},  // 1 is l
			{"osio", false}, // i is not l
			{"0slo", true},  // 0 is O, and O is o
			{"김민수", true},
			{"김민주", false},
			{"aces", false},
			{"ice", false},
			{"Ian", true},  // capital I is small l
			{"ian", false}, // small i is not
			{"КОТ", true},  // Cyrillic capitals
			{"кот", false}, // whose small forms look otherwise
			{"blll", false},
		} {
			taken, err := db.AliasTaken(ctx, tt.alias)
			if err != nil || taken != tt.taken {
				t.Errorf("AliasTaken(%q): got %v, %v; want %v", tt.alias, taken, err, tt.taken)
			}
			err = db.CreateUser(ctx, &moji.User{Email: fmt.Sprintf("n%d@example.com", i), Alias: tt.alias, PasswordHash: []byte("h")})
			if got, want := moji.ErrorCode(err), map[bool]string{true: moji.ECONFLICT}[tt.taken]; got != want {
				t.Errorf("CreateUser(%q): got code %q (%v), want %q", tt.alias, got, err, want)
			}
			if tt.taken && !strings.Contains(moji.ErrorMessage(err), "alias") {
				t.Errorf("CreateUser(%q): message %q should name the alias", tt.alias, moji.ErrorMessage(err))
			}
		}
	})
}

// Accounts from before migration 0003 get their looks when the store
// opens; of two old look-alikes the older keeps the look and the newer
// keeps its alias, matched exactly.
func TestAliasLooksFilledAtOpen(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			u := storetest.URL(t, d)
			db, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			// Back to the schema of migration 0002, with accounts in it.
			for _, q := range map[store.Dialect][]string{
				store.SQLite: {`DROP INDEX users_alias_look`, `DROP INDEX users_alias_look_cased`,
					`ALTER TABLE users DROP COLUMN alias_look`, `ALTER TABLE users DROP COLUMN alias_look_cased`},
				store.MySQL: {`DROP INDEX users_alias_look ON users`, `DROP INDEX users_alias_look_cased ON users`,
					`ALTER TABLE users DROP COLUMN alias_look, DROP COLUMN alias_look_cased`},
			}[d] {
				must(t, db.Exec(ctx, q))
			}
			must(t, db.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 3`))
			for i, a := range []string{"ace", "bill", "асе", "lan", "Ian"} {
				must(t, db.Exec(ctx, `INSERT INTO users (email, email_key, alias, alias_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
					fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("u%d@example.com", i), a, store.Key(a), []byte("h"), 1))
			}
			db.Close()

			for i := 0; i < 2; i++ { // the second open finds the same
				if db, err = store.Open(ctx, u); err != nil {
					t.Fatalf("open #%d: %v", i+2, err)
				}
				// асе's looks are ace's; Ian's cased look is lan's.
				for col, want := range map[string]int{"alias_look": 1, "alias_look_cased": 2} {
					n, err := db.Count(ctx, `SELECT COUNT(*) FROM users WHERE `+col+` IS NULL`)
					if err != nil || n != want {
						t.Fatalf("open #%d: accounts without %s: got %d, %v; want %d", i+2, col, n, err, want)
					}
				}
				if i == 0 {
					db.Close()
				}
			}
			defer db.Close()
			folded, _ := store.Looks("асе")
			if n, err := db.Count(ctx, `SELECT COUNT(*) FROM users WHERE alias_look = ? AND alias = 'ace'`, folded); err != nil || n != 1 {
				t.Fatalf("the older account's look: got %d rows, %v; want 1", n, err)
			}
			for _, tt := range []struct {
				alias string
				taken bool
			}{{"bi11", true}, {"асе", true}, {"ace", true}, {"Ian", true}, {"bob", false}} {
				if taken, err := db.AliasTaken(ctx, tt.alias); err != nil || taken != tt.taken {
					t.Errorf("AliasTaken(%q): got %v, %v; want %v", tt.alias, taken, err, tt.taken)
				}
			}
			mustCreateUser(t, db, "new@example.com", "new")
			if n, err := db.Count(ctx, `SELECT COUNT(*) FROM users WHERE alias = 'new' AND alias_look IS NOT NULL AND alias_look_cased IS NOT NULL`); err != nil || n != 1 {
				t.Fatalf("a new account's looks: got %d rows, %v; want 1", n, err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func TestConcurrentSignupsOneWins(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ok := raceSignups(t, db, 8, func(i int) *moji.User {
			return &moji.User{Email: "race@example.com", Alias: fmt.Sprintf("racer%d", i)}
		})
		if ok != 1 {
			t.Fatalf("successful sign-ups: got %d, want 1", ok)
		}
	})
}

// Look-alike sign-ups racing each other: one wins, the rest are told the
// alias is taken (InnoDB's deadlocks among them are retried, never a 500).
func TestConcurrentLookAlikeSignups(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		for round := range 30 {
			ok := raceSignups(t, db, 6, func(i int) *moji.User {
				return &moji.User{Email: fmt.Sprintf("r%d.%d@example.com", round, i),
					Alias: []string{"ace", "асе", "ACE"}[i%3] + fmt.Sprint(round)}
			})
			if ok != 1 {
				t.Fatalf("round %d: successful sign-ups: got %d, want 1", round, ok)
			}
		}
	})
}

// raceSignups signs up n users at once and returns how many succeeded;
// any error but a conflict fails the test.
func raceSignups(t *testing.T, db *store.DB, n int, user func(i int) *moji.User) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		u := user(i)
		u.PasswordHash = []byte("h")
		wg.Go(func() { errs[i] = db.CreateUser(context.Background(), u) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch moji.ErrorCode(err) {
		case "":
			ok++
		case moji.ECONFLICT:
		default:
			t.Fatalf("got error %v, want nil or conflict", err)
		}
	}
	return ok
}

func TestTemplates(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		alice := mustCreateUser(t, db, "alice@example.com", "alice")
		bob := mustCreateUser(t, db, "bob@example.com", "bob")

		clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		db.Now = func() time.Time { clock = clock.Add(time.Second); return clock }

		var made []*moji.Template
		for i := 0; i < 5; i++ {
			made = append(made, mustCreateTemplate(t, db, fmt.Sprintf("alice-%d 🙂'\"", i), alice.ID))
		}
		bobs := mustCreateTemplate(t, db, "bob's", bob.ID)

		got, err := db.TemplateByID(ctx, made[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != made[0].Name || got.CreatorAlias != "alice" || got.CreatorID != alice.ID || got.Builtin {
			t.Fatalf("TemplateByID: got %+v", got)
		}
		for _, e := range moji.Expressions {
			if got.Images[e] != made[0].Images[e] {
				t.Errorf("image %s: got %q, want %q", e, got.Images[e], made[0].Images[e])
			}
		}
		if !got.CreatedAt.Equal(made[0].CreatedAt) {
			t.Errorf("created_at: got %v, want %v", got.CreatedAt, made[0].CreatedAt)
		}

		// Gallery: newest first, fixed size, total of live ones.
		p1, err := db.Templates(ctx, 1, 4)
		if err != nil {
			t.Fatal(err)
		}
		if p1.Total != 6 || len(p1.Items) != 4 || p1.Items[0].ID != bobs.ID || p1.Items[1].ID != made[4].ID {
			t.Fatalf("page 1: total %d, %d items, first %d; want 6, 4, %d", p1.Total, len(p1.Items), p1.Items[0].ID, bobs.ID)
		}
		p2, _ := db.Templates(ctx, 2, 4)
		if len(p2.Items) != 2 || p2.Items[1].ID != made[0].ID {
			t.Fatalf("page 2: got %d items, want 2 ending with %d", len(p2.Items), made[0].ID)
		}
		p9, err := db.Templates(ctx, 9, 4)
		if err != nil || len(p9.Items) != 0 || p9.Total != 6 {
			t.Fatalf("page 9: got %+v, %v; want empty with total 6", p9, err)
		}
		_, err = db.Templates(ctx, 0, 4)
		wantCode(t, err, moji.EINVALID)

		// Delete: owner only, soft.
		wantCode(t, second(db.DeleteTemplate(ctx, made[1].ID, bob.ID)), moji.EFORBIDDEN)
		wantCode(t, second(db.DeleteTemplate(ctx, 424242, alice.ID)), moji.ENOTFOUND)
		if _, err := db.DeleteTemplate(ctx, made[1].ID, alice.ID); err != nil {
			t.Fatalf("owner delete: %v", err)
		}
		wantCode(t, second(db.DeleteTemplate(ctx, made[1].ID, alice.ID)), moji.ENOTFOUND)
		_, err = db.TemplateByID(ctx, made[1].ID)
		wantCode(t, err, moji.ENOTFOUND)
		p1, _ = db.Templates(ctx, 1, 10)
		if p1.Total != 5 {
			t.Fatalf("after delete: total %d, want 5", p1.Total)
		}

		mine, err := db.TemplatesByCreator(ctx, alice.ID, 1, 10)
		if err != nil || mine.Total != 4 || len(mine.Items) != 4 {
			t.Fatalf("alice's: got %+v, %v; want 4", mine, err)
		}
		for _, it := range mine.Items {
			if it.CreatorID != alice.ID {
				t.Errorf("alice's page holds template of %d", it.CreatorID)
			}
		}
	})
}

func TestBuiltinTemplates(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if ok, err := db.BuiltinExists(ctx, "fluent"); err != nil || ok {
			t.Fatalf("BuiltinExists before seeding: got %v, %v; want false", ok, err)
		}
		tp := &moji.Template{Name: "Fluent", Images: images("fluent")}
		if err := db.CreateTemplate(ctx, tp, "fluent"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.BuiltinExists(ctx, "fluent"); !ok {
			t.Fatal("BuiltinExists after seeding: got false, want true")
		}
		err := db.CreateTemplate(ctx, &moji.Template{Name: "Fluent", Images: images("f2")}, "fluent")
		wantCode(t, err, moji.ECONFLICT)
		got, err := db.TemplateByID(ctx, tp.ID)
		if err != nil || !got.Builtin || got.CreatorID != 0 || got.CreatorAlias != "" {
			t.Fatalf("built-in: got %+v, %v", got, err)
		}
		// Nobody owns a built-in template, so nobody can delete it.
		u := mustCreateUser(t, db, "c@example.com", "c")
		wantCode(t, second(db.DeleteTemplate(ctx, tp.ID, u.ID)), moji.EFORBIDDEN)
	})
}

func TestCreateTemplateNeedsAllImages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		imgs := images("x")
		delete(imgs, moji.Disgusted)
		err := db.CreateTemplate(context.Background(), &moji.Template{Name: "x", Images: imgs}, "")
		if err == nil {
			t.Fatal("got nil error, want one for a missing image")
		}
	})
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		dialect store.Dialect
		wantErr bool
	}{
		{"sqlite:/tmp/x.db", store.SQLite, false},
		{"sqlite://data/x.db", store.SQLite, false},
		{"mysql://root@127.0.0.1:3306/test", store.MySQL, false},
		{"mysql://u:p%40ss@db/igemoji?tls=false", store.MySQL, false},
		{"sqlite:", "", true},
		{"mysql://host-only", "", true},
		{"postgres://x/y", "", true},
		{"nonsense", "", true},
	}
	for _, tt := range tests {
		d, _, err := store.ParseURL(tt.in)
		if (err != nil) != tt.wantErr || d != tt.dialect {
			t.Errorf("ParseURL(%q): got %q, %v; want %q, error %v", tt.in, d, err, tt.dialect, tt.wantErr)
		}
	}
}

// The conflict message must name the right field even when the offending
// value itself looks like the other field's name.
func TestConflictNamesTheRightField(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustCreateUser(t, db, "first@example.com", "email_key")
		err := db.CreateUser(ctx, &moji.User{Email: "second@example.com", Alias: "EMAIL_KEY", PasswordHash: []byte("h")})
		if msg := moji.ErrorMessage(err); moji.ErrorCode(err) != moji.ECONFLICT || !strings.Contains(msg, "alias") {
			t.Fatalf("taken alias: got %v, want a conflict about the alias", err)
		}
		err = db.CreateUser(ctx, &moji.User{Email: "FIRST@example.com", Alias: "users_alias_key", PasswordHash: []byte("h")})
		if msg := moji.ErrorMessage(err); moji.ErrorCode(err) != moji.ECONFLICT || !strings.Contains(msg, "email") {
			t.Fatalf("taken email: got %v, want a conflict about the email", err)
		}
		// Decomposed and composed forms of the same email are one account.
		mustCreateUser(t, db, "jos\u00e9@example.com", "jose")
		if _, err := db.UserByEmail(ctx, "jose\u0301@example.com"); err != nil {
			t.Fatalf("decomposed email look-up: %v", err)
		}
	})
}

// second is the error of a call that also returns a value.
func second[T any](_ T, err error) error { return err }

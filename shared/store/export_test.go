package store

import (
	"context"
	"fmt"
)

// Exec runs q as is, for tests that set up rows the API cannot make, such
// as accounts from before a migration.
func (db *DB) Exec(ctx context.Context, q string, args ...any) error {
	_, err := db.db.ExecContext(ctx, q, args...)
	return err
}

// Count returns the single integer q selects.
func (db *DB) Count(ctx context.Context, q string, args ...any) (n int, err error) {
	err = db.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// HoldMigrationLock takes the MySQL migration lock, as a migrating instance
// does, closes held, and keeps it until release is closed.
func (db *DB) HoldMigrationLock(ctx context.Context, held, release chan struct{}) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var got int
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('igemoji_migrate', 1)").Scan(&got); err != nil || got != 1 {
		return fmt.Errorf("GET_LOCK: got %d, %v; want 1", got, err)
	}
	close(held)
	<-release
	_, err = conn.ExecContext(ctx, "SELECT RELEASE_LOCK('igemoji_migrate')")
	return err
}

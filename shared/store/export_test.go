package store

import "context"

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

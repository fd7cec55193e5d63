package disk_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/blobtest"
	"github.com/igemoji/igemoji/shared/disk"
)

func TestBlobs(t *testing.T) {
	b, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, b)
}

// A file left half-written by a process that died is removed at the next
// start once it is old enough; one a live process may still be writing
// stays. A finished Put leaves nothing behind.
func TestLeftoversRemoved(t *testing.T) {
	dir := t.TempDir()
	b, err := disk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(context.Background(), "uploads/0123456789abcdef.jpg", []byte("photo")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tmp")
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("after a Put: got %d files being written, want 0", len(left))
	}
	old, fresh := filepath.Join(tmp, "put-old"), filepath.Join(tmp, "put-fresh")
	for _, f := range []string{old, fresh} {
		if err := os.WriteFile(f, []byte("half a photo"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, long, long)
	if _, err := disk.New(dir); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{old: false, fresh: true} {
		if _, err := os.Stat(f); (err == nil) != want {
			t.Errorf("%s: got present %v, want %v", filepath.Base(f), err == nil, want)
		}
	}
}

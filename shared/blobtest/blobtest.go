// Package blobtest is the behaviour every moji.Blobs must have, run by each
// adapter's tests (disk, s3) so that they stay interchangeable.
package blobtest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

// Run checks b: put, overwrite, open with size and seeking, not-found for
// missing and malformed keys, delete (twice), and concurrent puts of the
// same key leaving one whole value.
func Run(t *testing.T, b moji.Blobs) {
	t.Helper()
	ctx := context.Background()
	key := "t/0123456789abcdef.png"
	if err := b.Put(ctx, key, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, key, []byte("hello, again")); err != nil {
		t.Fatalf("second put: %v", err)
	}
	if got := read(t, b, key); got != "hello, again" {
		t.Fatalf("after overwrite: got %q, want %q", got, "hello, again")
	}
	f, n, err := b.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Errorf("size: got %d, want 12", n)
	}
	if _, err := f.Seek(7, io.SeekStart); err != nil {
		t.Fatalf("seek: %v", err)
	}
	rest, _ := io.ReadAll(f)
	f.Close()
	if string(rest) != "again" {
		t.Errorf("after seeking to 7: got %q, want %q", rest, "again")
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := b.Put(ctx, "r/big0123456789.jpg", big); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "r/big0123456789.jpg"); got != string(big) {
		t.Errorf("1 MiB blob: got %d bytes back, want the same %d", len(got), len(big))
	}

	for _, k := range []string{"t/missing12345678.png", "../etc/passwd", "t/../../x12345678.png", "/abs/x12345678.png", "t/short.png", "T/0123456789abcdef.png", "",
		// Longer than a file name or an object key may be: not found,
		// not an error of the store's.
		strings.Repeat("a", 300) + "/0123456789abcdef.png", "a/b/c/d/0123456789abcdef.png"} {
		if _, _, err := b.Open(ctx, k); moji.ErrorCode(err) != moji.ENOTFOUND {
			t.Errorf("Open(%q): got %v, want not_found", k, err)
		}
	}
	if err := b.Put(ctx, "../escape12345678.png", []byte("x")); err == nil {
		t.Error("Put of a malformed key: got nil error")
	}

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := b.Put(ctx, "c/concurrent1234.png", bytes.Repeat([]byte{byte('a' + i)}, 4096)); err != nil {
				t.Errorf("concurrent put: %v", err)
			}
		})
	}
	wg.Wait()
	if got := read(t, b, "c/concurrent1234.png"); len(got) != 4096 || got != strings.Repeat(got[:1], 4096) {
		t.Errorf("after concurrent puts: got %d bytes mixing values, want one whole value", len(got))
	}

	if err := b.Delete(ctx, key); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := b.Open(ctx, key); moji.ErrorCode(err) != moji.ENOTFOUND {
		t.Errorf("Open after Delete: got %v, want not_found", err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Errorf("second delete: got %v, want nil", err)
	}
	if err := b.Delete(ctx, "../escape12345678.png"); err == nil {
		t.Error("Delete of a malformed key: got nil error")
	}
}

func read(t *testing.T, b moji.Blobs, key string) string {
	t.Helper()
	f, _, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(data)
}

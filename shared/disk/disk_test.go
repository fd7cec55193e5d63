package disk_test

import (
	"context"
	"io"
	"testing"

	"github.com/igemoji/igemoji/shared/disk"
	"github.com/igemoji/igemoji/shared/moji"
)

func TestBlobs(t *testing.T) {
	ctx := context.Background()
	b, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := "t/0123456789abcdef.png"
	if err := b.Put(ctx, key, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, key, []byte("hello")); err != nil {
		t.Fatalf("second put: %v", err)
	}
	f, n, err := b.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	if string(got) != "hello" || n != 5 {
		t.Fatalf("got %q (%d bytes), want hello (5)", got, n)
	}
	for _, k := range []string{"t/missing12345678.png", "../etc/passwd", "t/../../x12345678.png", "/abs/x12345678.png", "t/short.png", "T/0123456789abcdef.png", ""} {
		if _, _, err := b.Open(ctx, k); moji.ErrorCode(err) != moji.ENOTFOUND {
			t.Errorf("Open(%q): got %v, want not_found", k, err)
		}
	}
	if err := b.Put(ctx, "../escape12345678.png", []byte("x")); err == nil {
		t.Error("Put outside the directory: got nil error")
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
		t.Error("Delete outside the directory: got nil error")
	}
}

// Package disk keeps blobs as files under a directory: the embedded default
// for uploads and results.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/igemoji/igemoji/shared/moji"
)

// ValidKey reports whether key is a well-formed blob key (moji.ValidBlobKey),
// which can never climb out of the directory.
func ValidKey(key string) bool { return moji.ValidBlobKey(key) }

// Blobs is a moji.Blobs on the local file system.
type Blobs struct{ dir string }

var _ moji.Blobs = (*Blobs)(nil)

// New returns blobs kept under dir, creating it.
func New(dir string) (*Blobs, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &Blobs{dir: dir}, nil
}

func (b *Blobs) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", moji.Errorf(moji.ENOTFOUND, "File not found.")
	}
	return filepath.Join(b.dir, filepath.FromSlash(key)), nil
}

// Put writes data to a temporary file and renames it into place, so a crash
// never leaves a half-written blob under its key.
func (b *Blobs) Put(ctx context.Context, key string, data []byte) error {
	p, err := b.path(key)
	if err != nil {
		return fmt.Errorf("put %q: invalid key", key)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// Open opens the blob under key.
func (b *Blobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, moji.Errorf(moji.ENOTFOUND, "File not found.")
	} else if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// Delete removes the blob under key; a missing blob is not an error, so
// that a retried clean-up succeeds.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

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
	"syscall"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// ValidKey reports whether key is a well-formed blob key (moji.ValidBlobKey),
// which can never climb out of the directory.
func ValidKey(key string) bool { return moji.ValidBlobKey(key) }

// Blobs is a moji.Blobs on the local file system.
type Blobs struct{ dir string }

var _ moji.Blobs = (*Blobs)(nil)

// tmpDir holds files being written, outside every key's reach (a key
// cannot start with a dot), on the same file system for the rename.
const tmpDir = ".tmp"

// staleTemp is how old a file being written must be to count as left by a
// process that died: servers and workers may share the directory, and a
// live one's upload must not be removed under it.
const staleTemp = time.Hour

// New returns blobs kept under dir, creating it, and removes what a process
// that died while writing left behind.
func New(dir string) (*Blobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	if entries, err := os.ReadDir(filepath.Join(dir, tmpDir)); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				os.Remove(filepath.Join(dir, tmpDir, e.Name()))
			}
		}
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
// never leaves a half-written blob under its key; the file and then its
// directory are synced, so that a blob a caller was told is stored survives
// a power cut.
func (b *Blobs) Put(ctx context.Context, key string, data []byte) error {
	p, err := b.path(key)
	if err != nil {
		return fmt.Errorf("put %q: invalid key", key)
	}
	if err := b.mkdirs(filepath.Dir(p)); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(b.dir, tmpDir), "put-*")
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
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// mkdirs makes dir and the folders above it up to the blob directory,
// syncing the parent of each one made, so that the folder is there after a
// power cut too.
func (b *Blobs) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil || dir == b.dir {
		return nil
	}
	if err := b.mkdirs(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open opens the blob under key.
func (b *Blobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG) {
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

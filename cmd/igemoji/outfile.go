package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// outFile is a command's output file, written to a temporary file beside it
// and renamed into place by commit, so that a failed or interrupted run
// leaves the old file (or none) rather than half a new one, and an output
// named like an input cannot destroy it midway.
type outFile struct {
	*os.File
	path     string // where commit puts it: the named path, symlinks followed
	mode     fs.FileMode
	keepMode bool // replacing a file: give the new one its mode
}

// createOut checks path before any work is done: it must be a regular file
// we may write, or not exist yet, and none of inputs (which are only read).
// A symlink is written through, as the shell's > would.
func createOut(path string, inputs ...string) (*outFile, error) {
	if path == "" {
		return nil, usageError{errors.New("no output file given")}
	}
	target := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			target = real
		} else if dest, err := os.Readlink(path); err == nil { // dangling: make its target
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(path), dest)
			}
			target = dest
		}
	}
	o := &outFile{path: target}
	st, err := os.Stat(target)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return nil, usageError{fmt.Errorf("%s: not a regular file; name a file to write", path)}
	case err == nil:
		for _, in := range inputs {
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return nil, usageError{fmt.Errorf("%s: is also an input; name another output", path)}
			}
		}
		// Renaming over a file needs only the folder's permission; the
		// file's own is what the user set.
		if err := syscall.Access(target, 2 /* W_OK */); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		o.mode, o.keepMode = st.Mode().Perm(), true
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	// Not os.CreateTemp, whose 0600 would outlive the rename: a new file
	// gets 0666 less the umask, as os.Create gives.
	dir, base := filepath.Dir(target), filepath.Base(target)
	for range 100 {
		f, err := os.OpenFile(filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// The temporary file's name means nothing to the person: name
		// their path.
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: its folder does not exist", path)
		}
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: cannot write a file in its folder: %w", path, pe.Err)
		}
		if err != nil {
			return nil, err
		}
		o.File = f
		return o, nil
	}
	return nil, fmt.Errorf("%s: could not make a temporary file beside it", path)
}

// commit closes the file and puts it in place; after a failed commit the
// temporary file is gone too.
func (o *outFile) commit() error {
	var err error
	if o.keepMode {
		err = o.Chmod(o.mode)
	}
	if cerr := o.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.Name())
		return err
	}
	o.File = nil
	return nil
}

// abort drops the temporary file unless commit put it in place; deferred
// by every user.
func (o *outFile) abort() {
	if o.File != nil {
		o.Close()
		os.Remove(o.Name())
	}
}

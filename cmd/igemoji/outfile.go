package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// outFile is a command's output file, written to a temporary file beside it
// and renamed into place by commit, so that a failed or interrupted run
// leaves the old file (or none) rather than half a new one, and an output
// named like an input cannot destroy it midway.
type outFile struct {
	*os.File
	path string // where commit puts it: the named path, symlinks followed
	mode fs.FileMode
}

// createOut checks path before any work is done: it must be a regular file
// or not exist yet, and none of inputs (which are only read). A symlink is
// written through, as the shell's > would.
func createOut(path string, inputs ...string) (*outFile, error) {
	if path == "" {
		return nil, usageError{errors.New("no output file given")}
	}
	target, mode := path, fs.FileMode(0o644)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		target = real
	}
	st, err := os.Stat(target)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return nil, usageError{fmt.Errorf("%s: not a regular file; name a file to write", path)}
	case err == nil:
		mode = st.Mode().Perm()
		for _, in := range inputs {
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return nil, usageError{fmt.Errorf("%s: is also an input; name another output", path)}
			}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return nil, err
	}
	return &outFile{File: f, path: target, mode: mode}, nil
}

// commit closes the file and puts it in place; after a failed commit the
// temporary file is gone too.
func (o *outFile) commit() error {
	err := o.Chmod(o.mode)
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

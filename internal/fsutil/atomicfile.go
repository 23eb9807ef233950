package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
)

// AtomicFile is a file written in a stream and put in place whole: writes go to a temporary
// file beside path, Commit syncs it and renames it over path (then syncs the directory),
// Abort removes it. Until Commit, path is untouched, so an export cut short by an error or a
// crash never leaves a file that looks complete.
type AtomicFile struct {
	*os.File
	path string
	done bool
}

// CreateAtomic starts writing path with perm.
func CreateAtomic(path string, perm fs.FileMode) (*AtomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &AtomicFile{File: f, path: path}, nil
}

// Commit syncs what was written and puts it at path.
func (a *AtomicFile) Commit() error {
	if a.done {
		return os.ErrClosed
	}
	a.done = true
	tmp := a.File.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	err := a.File.Sync()
	if cerr := a.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(a.path))
}

// Abort removes what was written; path is left as it was. It does nothing after Commit.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}

// Package fsutil writes small files durably: the node's signed consensus state and the
// wallet's key names must survive a crash either old or new, never half-written.
package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data durably: a temporary file in the same directory
// (named with a leading dot, so directory watchers such as go-ethereum's keystore skip it)
// gets perm, data and a sync, is renamed over path, and the directory is synced. A crash
// leaves the old or the new content.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if err := writeSynced(f, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteFileExclusive creates path with data and perm, failing if it exists, and syncs it and
// then its directory, so that the new name survives a crash as well as the content; on
// failure nothing is left behind.
func WriteFileExclusive(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := writeSynced(f, data, perm); err != nil {
		os.Remove(path)
		return err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// WriteFileAtomicExclusive creates path with data and perm whole or not at all, failing with
// fs.ErrExist if path exists: a temporary file in the same directory gets perm, data and a
// sync, is hard-linked at path (which, unlike a rename, refuses to replace a file), and the
// directory is synced. A reader that watches path — a running node re-reading its key files —
// sees nothing or the complete file, never a half-written one, and a crash leaves no path or
// the whole new content, and at most a stray temporary file (named with a leading dot). The
// file system must support hard links.
func WriteFileAtomicExclusive(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // path, once linked, keeps the content through its own link
	if err := writeSynced(f, data, perm); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	if err := os.Remove(tmp); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// Replace renames from over to, both in one directory, and syncs that directory: a reader of
// to finds the old file or the new one, never neither, and after a crash one of the two.
func Replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return syncDir(filepath.Dir(to))
}

// writeSynced sets f's mode, writes data, syncs and closes f.
func writeSynced(f *os.File, data []byte, perm fs.FileMode) error {
	err := f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory, making the names created or renamed in it durable. A variable
// so that a test can see it called.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

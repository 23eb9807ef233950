package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// A replacement leaves exactly the new content with the asked mode and no temporary file.
func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.bin")
	for _, content := range []string{"old", "new"} {
		if err := WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("read %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(entries))
	}
}

// An exclusive write refuses an existing file and leaves it untouched.
func TestWriteFileExclusiveRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := WriteFileExclusive(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileExclusive(path, []byte("second"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Fatalf("content %q", got)
	}
}

// An atomic new file appears whole with the asked mode, leaves no temporary file, and
// refuses an existing path, which keeps its content.
func TestWriteFileAtomicExclusive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "operator.next.key")
	if err := WriteFileAtomicExclusive(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomicExclusive(path, []byte("second"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: %v, want fs.ErrExist", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "first" {
		t.Fatalf("read %q, %v; want first", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "operator.next.key" {
		t.Fatalf("directory holds %v, want only operator.next.key", entries)
	}
}

// Replace puts the new file's content at the old name and removes the new name.
func TestReplace(t *testing.T) {
	dir := t.TempDir()
	cur, next := filepath.Join(dir, "api.token"), filepath.Join(dir, "api.next.token")
	if err := os.WriteFile(cur, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomicExclusive(next, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Replace(next, cur); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(cur); err != nil || string(got) != "new" {
		t.Fatalf("%s holds %q, %v; want new", cur, got, err)
	}
	if _, err := os.Stat(next); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is still there: %v", next, err)
	}
}

// Both writers sync the file's directory after creating the name, and an exclusive create
// whose directory sync fails leaves nothing behind.
func TestWritersSyncTheDirectory(t *testing.T) {
	real := syncDir
	t.Cleanup(func() { syncDir = real })
	var synced []string
	syncDir = func(dir string) error {
		synced = append(synced, dir)
		return real(dir)
	}
	dir := t.TempDir()
	if err := WriteFileExclusive(filepath.Join(dir, "key"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "state"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 2 || synced[0] != dir || synced[1] != dir {
		t.Fatalf("directories synced: %q, want %q twice", synced, dir)
	}

	syncDir = func(string) error { return errors.New("disk gone") }
	path := filepath.Join(dir, "other")
	if err := WriteFileExclusive(path, []byte("x"), 0o600); err == nil {
		t.Fatal("a failed directory sync is not reported")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed exclusive create left %s behind: %v", path, err)
	}
}

// An atomic file appears at its path only on Commit; Abort leaves the old content.
func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := CreateAtomic(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("before Commit the path holds %q", got)
	}
	a.Abort()
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("after Abort the path holds %q", got)
	}
	a, err = CreateAtomic(path, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("new"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Abort() // after Commit: nothing
	got, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(got) != "new" || st.Mode().Perm() != 0o644 {
		t.Fatalf("after Commit: %q %v", got, st.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files left in the directory, want 1", len(entries))
	}
}

package badger_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/badger"
	"github.com/loyal-ledger/loyal/chain/store/storetest"
)

// TestBadgerTransactionPath runs the suite with every batch committed as a
// badger transaction, the path of batches too big for one KVLoader write.
func TestBadgerTransactionPath(t *testing.T) {
	defer badger.SetLoaderMaxBytes(0)()
	storetest.Run(t, opener("badger", &store.Options{MaxBatchBytes: 12 << 20}))
}

// TestBadgerTornWrite commits two batches, then cuts badger's write-ahead log
// (its memtable file) at points all through the second batch, as a crash in
// the middle of the write would, and reopens a copy of the store each time:
// the second batch must be there whole or not at all, the first untouched.
func TestBadgerTornWrite(t *testing.T) {
	for _, path := range []struct {
		name     string
		loaderAt int64
	}{{"loader", 99 << 20}, {"transaction", 0}} {
		t.Run(path.name, func(t *testing.T) {
			defer badger.SetLoaderMaxBytes(path.loaderAt)()
			testTornWrite(t)
		})
	}
}

func testTornWrite(t *testing.T) {
	dir := t.TempDir()
	opts := &store.Options{MaxBatchBytes: 1 << 20}
	db := openBadger(t, dir, opts)
	defer db.Close()

	first := map[string]string{}
	b := db.NewBatch()
	for i := range 100 {
		k, v := fmt.Sprintf("a/%03d", i), fmt.Sprintf("first %d", i)
		b.Set([]byte(k), []byte(v))
		first[k] = v
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	walPath, endFirst := memtableLog(t, dir)

	second := map[string]string{}
	for k, v := range first {
		second[k] = v
	}
	b = db.NewBatch()
	for i := range 100 { // new keys, written in descending order: the store sorts them
		k, v := fmt.Sprintf("b/%03d", 99-i), fmt.Sprintf("second %d", 99-i)
		b.Set([]byte(k), []byte(v))
		second[k] = v
	}
	for i := range 50 { // overwrites
		k, v := fmt.Sprintf("a/%03d", i), fmt.Sprintf("second over %d", i)
		b.Set([]byte(k), []byte(v))
		second[k] = v
	}
	for i := 50; i < 60; i++ { // deletes
		k := fmt.Sprintf("a/%03d", i)
		b.Delete([]byte(k))
		delete(second, k)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	_, endSecond := memtableLog(t, dir)
	if endSecond <= endFirst {
		t.Fatalf("the second batch did not grow the log: %d → %d", endFirst, endSecond)
	}
	wal, err := os.ReadFile(walPath)
	if err != nil {
		t.Fatal(err)
	}

	cuts := []int{endFirst, endFirst + 1, endSecond - 1, endSecond}
	for c := endFirst + 2; c < endSecond-1; c += 97 {
		cuts = append(cuts, c)
	}
	for _, cut := range cuts {
		copyDir := t.TempDir()
		copyStore(t, dir, copyDir)
		torn := bytes.Clone(wal)
		clear(torn[cut:])
		if err := os.WriteFile(filepath.Join(copyDir, filepath.Base(walPath)), torn, 0o600); err != nil {
			t.Fatal(err)
		}
		want, name := first, "first batch only"
		if cut == endSecond {
			want, name = second, "both batches"
		}
		got := readAll(t, copyDir, opts)
		if !equalMaps(got, want) {
			t.Fatalf("log cut at %d of [%d, %d]: %d keys, want the %d of the %s", cut, endFirst, endSecond, len(got), len(want), name)
		}
	}
}

// memtableLog returns badger's memtable file in dir and the offset just past
// its last non-zero byte: the file is preallocated and zero beyond the log.
func memtableLog(t *testing.T, dir string) (path string, end int) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.mem"))
	if err != nil || len(paths) != 1 {
		t.Fatalf("memtable files in %s: %q, %v", dir, paths, err)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	end = len(data)
	for end > 0 && data[end-1] == 0 {
		end--
	}
	return paths[0], end
}

// copyStore copies the files of the open store in from to to. Badger
// preallocates its logs as sparse files of up to 2 GiB, so only their data
// segments are copied and the holes stay holes.
func copyStore(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "LOCK" {
			continue
		}
		if err := copySparse(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

func copySparse(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := dst.Truncate(info.Size()); err != nil {
		return err
	}
	for off := int64(0); off < info.Size(); {
		data, err := src.Seek(off, unix.SEEK_DATA)
		if err != nil { // ENXIO: no data after off
			break
		}
		hole, err := src.Seek(data, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.NewOffsetWriter(dst, data), io.NewSectionReader(src, data, hole-data)); err != nil {
			return err
		}
		off = hole
	}
	return dst.Close()
}

// readAll opens the badger store in dir and returns all its keys and values.
func readAll(t *testing.T, dir string, opts *store.Options) map[string]string {
	t.Helper()
	db := openBadger(t, dir, opts)
	defer db.Close()
	got := map[string]string{}
	if err := db.Iterate(nil, nil, func(k, v []byte) error {
		got[string(k)] = string(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestBadgerBatchesAtTheLimitSurviveACrash commits one-key batches just under
// badger's write limit once versions have three digits, with memtable
// rotations in between. Each is either refused as too large, writing nothing,
// or committed in one write: a copy of the open store, as a crash leaves it,
// holds every committed batch. (The KVLoader once sent such a batch and its
// closing entry as two writes, and a rotation between them lost batches.)
func TestBadgerBatchesAtTheLimitSurviveACrash(t *testing.T) {
	dir := t.TempDir()
	opts := &store.Options{MaxBatchBytes: 256 << 10}
	db := openBadger(t, dir, opts)
	defer db.Close()
	want := map[string]string{}
	commit := func(k, v string) (refused bool) {
		t.Helper()
		b := db.NewBatch()
		defer b.Close()
		b.Set([]byte(k), []byte(v))
		switch err := b.Commit(true); {
		case errors.Is(err, store.ErrBatchTooLarge):
			return true
		case err != nil:
			t.Fatalf("commit %s: %v", k, err)
		}
		want[k] = v
		return false
	}
	for i := range 120 {
		commit(fmt.Sprintf("t/%03d", i), "x")
	}
	// Key and value 34 bytes under the limit (the size that once split), and
	// every third batch 60 bytes under it, which fits.
	max := int(badger.MaxBatchSize(db))
	committed := 0
	for i := range 60 {
		k, size := fmt.Sprintf("e/%02d", i), max-34
		if i%3 == 0 {
			size = max - 60
		}
		if !commit(k, string(bytes.Repeat([]byte{byte('a' + i%26)}, size-len(k)))) {
			committed++
		}
	}
	if committed < 20 {
		t.Fatalf("only %d of the 60 large batches committed", committed)
	}
	copyDir := t.TempDir()
	copyStore(t, dir, copyDir)
	got := readAll(t, copyDir, opts)
	if !equalMaps(got, want) {
		t.Fatalf("after a crash: %d keys, want all %d committed", len(got), len(want))
	}
}

func openBadger(t *testing.T, dir string, opts *store.Options) store.DB {
	t.Helper()
	db, err := badger.Open(dir, opts)
	if err != nil {
		t.Fatalf("open badger %s: %v", dir, err)
	}
	return db
}

// opener returns a storetest.OpenFunc for badger with opts.
func opener(backend string, opts *store.Options) storetest.OpenFunc {
	return func(t *testing.T, dir string) store.DB {
		t.Helper()
		db, err := badger.Open(dir, opts)
		if err != nil {
			t.Fatalf("open %s: %v", backend, err)
		}
		return db
	}
}

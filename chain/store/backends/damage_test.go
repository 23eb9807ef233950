package backends_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// walGlob is where each backend keeps its write-ahead log.
var walGlob = map[string]string{"pebble": "*.log", "badger": "*.mem"}

// fillCommitted commits n small batches, one key each, the way the ledger commits blocks.
func fillCommitted(t *testing.T, db store.DB, n int) {
	t.Helper()
	for i := range n {
		b := db.NewBatch()
		b.Set(fmt.Appendf(nil, "k/%04d", i), []byte("value"))
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
}

func countKeys(t *testing.T, db store.DB) int {
	t.Helper()
	n := 0
	if err := db.Iterate(nil, nil, func(k, v []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A store closed cleanly does not depend on its write-ahead log: with the logs removed, every
// committed key is still there. Pebble replays a damaged log up to the damage without a word,
// so anything left only in the log after a clean shutdown could vanish silently. (Without the
// flush in pebble's Close, the pebble case finds no keys.)
func TestCleanCloseLeavesNothingOnlyInTheLog(t *testing.T) {
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			db, err := backends.Open(backend, dir, &store.Options{MaxBatchBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			fillCommitted(t, db, 50)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			logs, _ := filepath.Glob(filepath.Join(dir, walGlob[backend]))
			for _, l := range logs {
				if err := os.Remove(l); err != nil {
					t.Fatal(err)
				}
			}
			db, err = backends.Open(backend, dir, &store.Options{MaxBatchBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n := countKeys(t, db); n != 50 {
				t.Fatalf("%d keys after removing the logs of a cleanly closed store, want 50", n)
			}
		})
	}
}

// dirDigest is the name and content hash of every file in dir but LOCK.
func dirDigest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, e := range ents {
		if e.Name() == "LOCK" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(data)
	}
	return out
}

// A pebble store whose CURRENT file is gone made pebble.Open panic (a nil manifest); now
// opening it, read-write or read-only, is one error wrapping ErrCorrupt, and no file changes.
func TestOpenWithoutCurrentIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	db, err := backends.Open("pebble", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fillCommitted(t, db, 10)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "CURRENT")); err != nil {
		t.Fatal(err)
	}
	before := dirDigest(t, dir)
	for _, ro := range []bool{false, true} {
		db, err := backends.Open("pebble", dir, &store.Options{ReadOnly: ro})
		if err == nil {
			db.Close()
			t.Fatalf("read-only %v: a store without CURRENT opened", ro)
		}
		if !errors.Is(err, store.ErrCorrupt) || !strings.HasPrefix(err.Error(), "store: open pebble "+dir) {
			t.Fatalf("read-only %v: %v, want a store: open pebble error wrapping ErrCorrupt", ro, err)
		}
	}
	after := dirDigest(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for name, h := range before {
		if after[name] != h {
			t.Fatalf("%s changed", name)
		}
	}
}

// Package storetest is a conformance suite for implementations of store.DB.
//
// A backend's test calls Run with a function that opens (creating if needed)
// the backend's store in a directory:
//
//	func TestPebble(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string) store.DB {
//			db, err := pebble.Open(dir, nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		})
//	}
//
// Each subtest opens its own store in its own t.TempDir and closes it at the
// end; some close and reopen it. Run the suite under -race: it checks that
// concurrent readers never observe part of a batch.
package storetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loyal-ledger/loyal/chain/store"
)

// OpenFunc opens the store kept in dir, creating it if dir is empty. It may
// be called again on the same dir after the previous DB was closed.
type OpenFunc = func(t *testing.T, dir string) store.DB

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open OpenFunc) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenFunc)
	}{
		{"GetAbsent", testGetAbsent},
		{"SetGetHas", testSetGetHas},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"BatchLastWins", testBatchLastWins},
		{"BatchLenSize", testBatchLenSize},
		{"BatchReuse", testBatchReuse},
		{"EmptyValue", testEmptyValue},
		{"InvalidKey", testInvalidKey},
		{"IterateOrder", testIterateOrder},
		{"IterateBounds", testIterateBounds},
		{"IterateEmpty", testIterateEmpty},
		{"IterateStop", testIterateStop},
		{"IterateSnapshotReentrant", testIterateSnapshotReentrant},
		{"GetOwnership", testGetOwnership},
		{"SetCopiesArgs", testSetCopiesArgs},
		{"UncommittedBatch", testUncommittedBatch},
		{"ManyKeys", testManyKeys},
		{"LargeBatch", testLargeBatch},
		{"Reopen", testReopen},
		{"Closed", testClosed},
		{"CloseWhileBusy", testCloseWhileBusy},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentReadersSeeWholeBatches", testConcurrentReaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openTemp opens a store in a fresh directory and closes it when the test
// ends, unless the test already did.
func openTemp(t *testing.T, open OpenFunc) (store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db := open(t, dir)
	if db == nil {
		t.Fatal("open returned a nil DB")
	}
	t.Cleanup(func() { closeOnce(t, db) })
	return db, dir
}

// closeOnce closes db, accepting ErrClosed from an earlier Close.
func closeOnce(t *testing.T, db store.DB) {
	t.Helper()
	if err := db.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}

// commit writes kvs (key, value, key, value...) in one synced batch. A nil
// value means Delete.
func commit(t *testing.T, db store.DB, kvs ...[]byte) {
	t.Helper()
	if len(kvs)%2 != 0 {
		t.Fatal("commit: odd number of arguments")
	}
	b := db.NewBatch()
	defer b.Close()
	for i := 0; i < len(kvs); i += 2 {
		if kvs[i+1] == nil {
			b.Delete(kvs[i])
		} else {
			b.Set(kvs[i], kvs[i+1])
		}
	}
	if err := b.Commit(true); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func mustGet(t *testing.T, db store.DB, key []byte) []byte {
	t.Helper()
	v, err := db.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func wantValue(t *testing.T, db store.DB, key, want []byte) {
	t.Helper()
	if got := mustGet(t, db, key); !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
	if ok, err := db.Has(key); err != nil || !ok {
		t.Fatalf("Has(%q) = %v, %v; want true, nil", key, ok, err)
	}
}

func wantAbsent(t *testing.T, db store.DB, key []byte) {
	t.Helper()
	if v, err := db.Get(key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
	if ok, err := db.Has(key); err != nil || ok {
		t.Fatalf("Has(%q) = %v, %v; want false, nil", key, ok, err)
	}
}

type kv struct{ k, v []byte }

// collect returns copies of the pairs Iterate yields for [lower, upper).
func collect(t *testing.T, db store.Reader, lower, upper []byte) []kv {
	t.Helper()
	var out []kv
	err := db.Iterate(lower, upper, func(k, v []byte) error {
		out = append(out, kv{bytes.Clone(k), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate(%x, %x): %v", lower, upper, err)
	}
	return out
}

func keysOf(kvs []kv) [][]byte {
	keys := make([][]byte, len(kvs))
	for i, p := range kvs {
		keys[i] = p.k
	}
	return keys
}

func fmtKeys(keys [][]byte) string {
	s := "["
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%x", k)
	}
	return s + "]"
}

func equalKeys(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func testGetAbsent(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	wantAbsent(t, db, []byte("absent"))
	wantAbsent(t, db, []byte{0})
	wantAbsent(t, db, []byte{}) // no empty key can be stored
	wantAbsent(t, db, nil)
	commit(t, db, []byte("present"), []byte("x"))
	wantAbsent(t, db, []byte("absent"))
	wantAbsent(t, db, []byte("presen"))
	wantAbsent(t, db, []byte("present\x00"))
}

func testSetGetHas(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("k1"), []byte("v1"), []byte("k2"), []byte("v2"))
	wantValue(t, db, []byte("k1"), []byte("v1"))
	wantValue(t, db, []byte("k2"), []byte("v2"))
	if b := db.Backend(); b == "" {
		t.Error("Backend() is empty")
	}
}

func testOverwrite(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	k := []byte("key")
	commit(t, db, k, []byte("first"))
	commit(t, db, k, []byte("second, longer value"))
	wantValue(t, db, k, []byte("second, longer value"))
	commit(t, db, k, []byte("3"))
	wantValue(t, db, k, []byte("3"))
	if got := collect(t, db, nil, nil); len(got) != 1 {
		t.Fatalf("Iterate after overwrites yields %d pairs, want 1", len(got))
	}
}

func testDelete(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("a"), []byte("1"), []byte("b"), []byte("2"))
	commit(t, db, []byte("a"), nil)
	wantAbsent(t, db, []byte("a"))
	wantValue(t, db, []byte("b"), []byte("2"))
	commit(t, db, []byte("never-set"), nil) // deleting an absent key is fine
	wantAbsent(t, db, []byte("never-set"))
	if got := keysOf(collect(t, db, nil, nil)); !equalKeys(got, [][]byte{[]byte("b")}) {
		t.Fatalf("Iterate after delete = %s, want [62]", fmtKeys(got))
	}
	commit(t, db, []byte("a"), []byte("again"))
	wantValue(t, db, []byte("a"), []byte("again"))
}

func testBatchLastWins(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("pre"), []byte("old"))
	b := db.NewBatch()
	defer b.Close()
	b.Set([]byte("sd"), []byte("x")) // set then delete: absent
	b.Delete([]byte("sd"))
	b.Delete([]byte("ds")) // delete then set: present
	b.Set([]byte("ds"), []byte("y"))
	b.Set([]byte("ss"), []byte("1")) // set then set: last value
	b.Set([]byte("ss"), []byte("2"))
	b.Delete([]byte("pre")) // delete then set of a stored key
	b.Set([]byte("pre"), []byte("new"))
	b.Set([]byte("sds"), []byte("a")) // set, delete, set
	b.Delete([]byte("sds"))
	b.Set([]byte("sds"), []byte("c"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, db, []byte("sd"))
	wantValue(t, db, []byte("ds"), []byte("y"))
	wantValue(t, db, []byte("ss"), []byte("2"))
	wantValue(t, db, []byte("pre"), []byte("new"))
	wantValue(t, db, []byte("sds"), []byte("c"))
	if n := len(collect(t, db, nil, nil)); n != 4 {
		t.Fatalf("Iterate yields %d pairs, want 4", n)
	}
}

func testBatchLenSize(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	b := db.NewBatch()
	defer b.Close()
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatalf("new batch: Len %d Size %d, want 0 0", b.Len(), b.Size())
	}
	b.Set([]byte("key"), []byte("value")) // 3 + 5
	b.Delete([]byte("gone"))              // 4
	b.Set([]byte("key"), nil)             // 3
	if b.Len() != 3 {
		t.Errorf("Len = %d, want 3", b.Len())
	}
	if b.Size() != 15 {
		t.Errorf("Size = %d, want 15", b.Size())
	}
}

func testBatchReuse(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	b := db.NewBatch()
	defer b.Close()
	if err := b.Commit(true); err != nil {
		t.Fatalf("Commit of an empty batch: %v", err)
	}
	b.Set([]byte("r1"), []byte("1"))
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatalf("after Commit: Len %d Size %d, want 0 0", b.Len(), b.Size())
	}
	b.Set([]byte("r2"), []byte("2"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	wantValue(t, db, []byte("r1"), []byte("1"))
	wantValue(t, db, []byte("r2"), []byte("2"))
	if n := len(collect(t, db, nil, nil)); n != 2 {
		t.Fatalf("Iterate yields %d pairs, want 2 (a reused batch must not re-apply old ops)", n)
	}
}

func testEmptyValue(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("empty"), []byte{})
	b := db.NewBatch()
	b.Set([]byte("nil"), nil) // Set with a nil value stores an empty value
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	for _, k := range []string{"empty", "nil"} {
		v, err := db.Get([]byte(k))
		if err != nil {
			t.Fatalf("Get(%q) of empty value: %v", k, err)
		}
		if v == nil || len(v) != 0 {
			t.Fatalf("Get(%q) = %#v, want non-nil empty slice", k, v)
		}
		if ok, err := db.Has([]byte(k)); err != nil || !ok {
			t.Fatalf("Has(%q) = %v, %v; want true", k, ok, err)
		}
	}
	wantAbsent(t, db, []byte("absent"))
	got := collect(t, db, nil, nil)
	if len(got) != 2 || len(got[0].v) != 0 || len(got[1].v) != 0 {
		t.Fatalf("Iterate = %v, want two empty values", got)
	}
}

func testInvalidKey(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	for _, del := range []bool{false, true} {
		b := db.NewBatch()
		b.Set([]byte("valid"), []byte("v"))
		if del {
			b.Delete(nil)
		} else {
			b.Set([]byte{}, []byte("v"))
		}
		err := b.Commit(true)
		if !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("Commit with an empty key (delete %v) = %v, want ErrInvalidKey", del, err)
		}
		if err := b.Commit(true); !errors.Is(err, store.ErrInvalidKey) {
			t.Fatalf("second Commit of the failed batch = %v, want ErrInvalidKey again", err)
		}
		b.Close()
		wantAbsent(t, db, []byte("valid"))
	}
}

// orderKeys are binary keys in ascending bytewise order, with 0x00 and 0xff
// bytes and keys that are prefixes of others.
var orderKeys = [][]byte{
	{0x00},
	{0x00, 0x00},
	{0x00, 0x01},
	{0x01},
	[]byte("a"),
	[]byte("ab"),
	[]byte("abc"),
	[]byte("b"),
	{0x7f, 0xff},
	{0x80},
	{0xff},
	{0xff, 0x00},
	{0xff, 0xff},
	{0xff, 0xff, 0xff},
}

func fillOrderKeys(t *testing.T, db store.DB) {
	t.Helper()
	b := db.NewBatch()
	defer b.Close()
	// Insert in a scrambled order.
	for i := range orderKeys {
		k := orderKeys[(i*5)%len(orderKeys)]
		b.Set(k, append([]byte("v:"), k...))
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
}

func testIterateOrder(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	if !sort.SliceIsSorted(orderKeys, func(i, j int) bool { return bytes.Compare(orderKeys[i], orderKeys[j]) < 0 }) {
		t.Fatal("orderKeys not sorted")
	}
	fillOrderKeys(t, db)
	got := collect(t, db, nil, nil)
	if !equalKeys(keysOf(got), orderKeys) {
		t.Fatalf("Iterate order = %s, want %s", fmtKeys(keysOf(got)), fmtKeys(orderKeys))
	}
	for _, p := range got {
		if want := append([]byte("v:"), p.k...); !bytes.Equal(p.v, want) {
			t.Fatalf("Iterate value for %x = %q, want %q", p.k, p.v, want)
		}
	}
}

func testIterateBounds(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	fillOrderKeys(t, db)
	// between returns orderKeys in [lo, hi) by brute force, nil meaning unbounded.
	between := func(lo, hi []byte) [][]byte {
		var out [][]byte
		for _, k := range orderKeys {
			if (lo == nil || bytes.Compare(k, lo) >= 0) && (hi == nil || bytes.Compare(k, hi) < 0) {
				out = append(out, k)
			}
		}
		return out
	}
	cases := []struct {
		name   string
		lo, hi []byte
		want   int // expected count, as a check on between
	}{
		{"nil-nil", nil, nil, 14},
		{"lower-inclusive", []byte("ab"), nil, 9},
		{"upper-exclusive", nil, []byte("ab"), 5},
		{"both", []byte("ab"), []byte("b"), 2},
		{"lower=upper", []byte("ab"), []byte("ab"), 0},
		{"lower>upper", []byte("b"), []byte("a"), 0},
		{"zero-bytes", []byte{0x00}, []byte{0x00, 0x01}, 2},
		{"absent-bounds", []byte("aa"), []byte("abd"), 2},
		{"prefix-ff", []byte{0xff}, nil, 4},
		{"ff-range", []byte{0xff, 0x00}, []byte{0xff, 0xff}, 1},
		{"upper-ffff", nil, []byte{0xff, 0xff}, 12},
		{"empty-lower", []byte{}, nil, 14},
		{"empty-upper", nil, []byte{}, 0},
		{"past-end", []byte{0xff, 0xff, 0xff, 0x00}, nil, 0},
		{"before-start", nil, []byte{0x00}, 0},
		{"single", []byte{0x00}, []byte{0x00, 0x00}, 1},
	}
	for _, c := range cases {
		want := between(c.lo, c.hi)
		if c.lo != nil && c.hi != nil && bytes.Compare(c.lo, c.hi) >= 0 {
			want = nil
		}
		if len(want) != c.want {
			t.Fatalf("%s: test table expects %d keys, brute force finds %d", c.name, c.want, len(want))
		}
		if got := keysOf(collect(t, db, c.lo, c.hi)); !equalKeys(got, want) {
			t.Errorf("%s: Iterate(%x, %x) = %s, want %s", c.name, c.lo, c.hi, fmtKeys(got), fmtKeys(want))
		}
	}
}

func testIterateEmpty(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	if got := collect(t, db, nil, nil); len(got) != 0 {
		t.Fatalf("Iterate on an empty store yields %d pairs", len(got))
	}
	commit(t, db, []byte("k"), []byte("v"))
	commit(t, db, []byte("k"), nil)
	if got := collect(t, db, nil, nil); len(got) != 0 {
		t.Fatalf("Iterate after deleting every key yields %d pairs", len(got))
	}
}

func testIterateStop(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	fillOrderKeys(t, db)
	errStop := errors.New("stop here")
	calls := 0
	err := db.Iterate(nil, nil, func(k, v []byte) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if err != errStop { // the callback's error must come back as is, not wrapped
		t.Fatalf("Iterate returned %v, want the callback's error unchanged", err)
	}
	if calls != 3 {
		t.Fatalf("callback called %d times after returning an error at call 3", calls)
	}
	// The store stays usable after an early stop.
	if got := collect(t, db, nil, nil); len(got) != len(orderKeys) {
		t.Fatalf("Iterate after early stop yields %d pairs, want %d", len(got), len(orderKeys))
	}
}

// testIterateSnapshotReentrant checks that an Iterate callback may call Get
// and commit batches, and that Iterate reads a snapshot taken when it starts.
func testIterateSnapshotReentrant(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	for i := range 5 {
		commit(t, db, fmt.Appendf(nil, "s/%d", i), fmt.Appendf(nil, "%d", i))
	}
	calls := 0
	err := db.Iterate([]byte("s/"), []byte("s0"), func(k, v []byte) error {
		calls++
		if got, err := db.Get(k); err != nil || !bytes.Equal(got, v) {
			return fmt.Errorf("in the callback, Get(%q) = %q, %v; want %q", k, got, err, v)
		}
		// Written inside the range, after the snapshot: must not be seen.
		commit(t, db, append(bytes.Clone(k), 'x'), []byte("new"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 5 {
		t.Fatalf("Iterate saw %d keys, want the 5 present when it started", calls)
	}
	if n := len(collect(t, db, []byte("s/"), []byte("s0"))); n != 10 {
		t.Fatalf("after the iteration %d keys, want 10", n)
	}
}

func testGetOwnership(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("own"), []byte("original"))
	v1 := mustGet(t, db, []byte("own"))
	v2 := mustGet(t, db, []byte("own"))
	for i := range v1 {
		v1[i] = 'X'
	}
	if !bytes.Equal(v2, []byte("original")) {
		t.Fatalf("a second Get's buffer changed with the first's: %q", v2)
	}
	wantValue(t, db, []byte("own"), []byte("original"))

	// Keys and values copied out of Iterate callbacks stay right however
	// the store reuses its buffers between calls.
	fillOrderKeys(t, db)
	got := collect(t, db, nil, nil)
	if len(got) != len(orderKeys)+1 {
		t.Fatalf("Iterate yields %d pairs, want %d", len(got), len(orderKeys)+1)
	}
	for _, p := range got {
		want := append([]byte("v:"), p.k...)
		if bytes.Equal(p.k, []byte("own")) {
			want = []byte("original")
		}
		if !bytes.Equal(p.v, want) {
			t.Fatalf("copied value for %x = %q, want %q", p.k, p.v, want)
		}
	}
}

func testSetCopiesArgs(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("del/1"), []byte("doomed"))

	b := db.NewBatch()
	defer b.Close()
	key := []byte("set/1")
	val := []byte("value-1")
	b.Set(key, val)
	copy(key, "XXX/9")
	copy(val, "YYYYYYY")
	// The same buffers reused for a second operation.
	copy(key, "set/2")
	copy(val, "value-2")
	b.Set(key, val)
	dk := []byte("del/1")
	b.Delete(dk)
	copy(dk, "del/2")
	for i := range key {
		key[i] = 0
	}
	for i := range val {
		val[i] = 0
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	wantValue(t, db, []byte("set/1"), []byte("value-1"))
	wantValue(t, db, []byte("set/2"), []byte("value-2"))
	wantAbsent(t, db, []byte("XXX/9"))
	wantAbsent(t, db, []byte("del/1"))
	if n := len(collect(t, db, nil, nil)); n != 2 {
		t.Fatalf("Iterate yields %d pairs, want 2", n)
	}
}

func testUncommittedBatch(t *testing.T, open OpenFunc) {
	db, dir := openTemp(t, open)
	commit(t, db, []byte("keep"), []byte("v"))

	b := db.NewBatch()
	b.Set([]byte("uncommitted"), []byte("x"))
	b.Delete([]byte("keep"))
	wantAbsent(t, db, []byte("uncommitted")) // not visible before Commit
	b.Close()
	b.Close() // idempotent
	b.Set([]byte("after-close"), []byte("x"))
	b.Delete([]byte("keep"))
	if err := b.Commit(true); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Commit after batch Close = %v, want ErrClosed", err)
	}
	wantAbsent(t, db, []byte("uncommitted"))
	wantAbsent(t, db, []byte("after-close"))
	wantValue(t, db, []byte("keep"), []byte("v"))

	// A batch abandoned without Commit or Close writes nothing either.
	ab := db.NewBatch()
	ab.Set([]byte("abandoned"), []byte("x"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir)
	defer closeOnce(t, db)
	wantAbsent(t, db, []byte("uncommitted"))
	wantAbsent(t, db, []byte("abandoned"))
	wantValue(t, db, []byte("keep"), []byte("v"))
	ab.Close()
}

func counterKey(prefix string, i int) []byte {
	return fmt.Appendf(nil, "%s%08d", prefix, i)
}

func testManyKeys(t *testing.T, open OpenFunc) {
	const n = 10_000
	db, _ := openTemp(t, open)
	b := db.NewBatch()
	defer b.Close()
	for i := range n {
		b.Set(counterKey("many/", i), binary.BigEndian.AppendUint64(nil, uint64(i)))
	}
	if b.Len() != n {
		t.Fatalf("Len = %d, want %d", b.Len(), n)
	}
	wantAbsent(t, db, counterKey("many/", 0))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	i := 0
	err := db.Iterate([]byte("many/"), []byte("many0"), func(k, v []byte) error {
		if want := counterKey("many/", i); !bytes.Equal(k, want) {
			return fmt.Errorf("key %d = %q, want %q", i, k, want)
		}
		if got := binary.BigEndian.Uint64(v); got != uint64(i) {
			return fmt.Errorf("value of %q = %d", k, got)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("Iterate yields %d keys, want %d", i, n)
	}
	for _, j := range []int{0, 1, n / 2, n - 1} {
		wantValue(t, db, counterKey("many/", j), binary.BigEndian.AppendUint64(nil, uint64(j)))
	}
}

// largeValue returns a 1 KiB value determined by i.
func largeValue(i int) []byte {
	v := make([]byte, 1024)
	for j := range v {
		v[j] = byte(i*31 + j*7)
	}
	binary.BigEndian.PutUint64(v, uint64(i))
	return v
}

func testLargeBatch(t *testing.T, open OpenFunc) {
	const n = 8 << 10 // 8 Ki values of 1 KiB: 8 MiB of values
	db, _ := openTemp(t, open)
	commit(t, db, []byte("large/marker"), []byte("before"))
	b := db.NewBatch()
	defer b.Close()
	for i := range n {
		b.Set(counterKey("large/", i), largeValue(i))
	}
	b.Set([]byte("large/marker"), []byte("after"))
	if b.Size() < 8<<20 {
		t.Fatalf("Size = %d, want at least 8 MiB", b.Size())
	}
	if err := b.Commit(true); err != nil {
		t.Fatalf("Commit of an 8 MiB batch: %v", err)
	}
	count := 0
	err := db.Iterate(counterKey("large/", 0), counterKey("large/", n), func(k, v []byte) error {
		if !bytes.Equal(v, largeValue(count)) {
			return fmt.Errorf("value of %q differs", k)
		}
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("%d of %d keys visible", count, n)
	}
	wantValue(t, db, []byte("large/marker"), []byte("after"))
}

func testReopen(t *testing.T, open OpenFunc) {
	db, dir := openTemp(t, open)
	commit(t, db, []byte("r/synced"), []byte("1"), []byte("r/deleted"), []byte("x"))
	b := db.NewBatch()
	b.Set([]byte("r/unsynced"), []byte("2")) // sync=false still survives a clean Close
	b.Delete([]byte("r/deleted"))
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for round := range 2 {
		db = open(t, dir)
		wantValue(t, db, []byte("r/synced"), []byte("1"))
		wantValue(t, db, []byte("r/unsynced"), []byte("2"))
		wantAbsent(t, db, []byte("r/deleted"))
		if n := len(collect(t, db, nil, nil)); n != 2+round {
			t.Fatalf("round %d: %d pairs after reopen, want %d", round, n, 2+round)
		}
		commit(t, db, fmt.Appendf(nil, "r/round%d", round), []byte("x"))
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func testClosed(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("k"), []byte("v"))
	pending := db.NewBatch()
	pending.Set([]byte("pending"), []byte("x"))
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Fatalf("second Close = %v, want nil or ErrClosed", err)
	}
	if _, err := db.Get([]byte("k")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if _, err := db.Get([]byte("absent")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get of an absent key after Close = %v, want ErrClosed", err)
	}
	if _, err := db.Has([]byte("k")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Has after Close = %v, want ErrClosed", err)
	}
	called := false
	err := db.Iterate(nil, nil, func(k, v []byte) error { called = true; return nil })
	if !errors.Is(err, store.ErrClosed) || called {
		t.Errorf("Iterate after Close = %v (callback called: %v), want ErrClosed", err, called)
	}
	if err := pending.Commit(true); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit of a batch made before Close = %v, want ErrClosed", err)
	}
	pending.Close()
	b := db.NewBatch()
	b.Set([]byte("k2"), []byte("v"))
	if err := b.Commit(true); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit of a batch made after Close = %v, want ErrClosed", err)
	}
	b.Close()
	if db.Backend() == "" {
		t.Error("Backend() is empty after Close")
	}
}

func testConcurrentWriters(t *testing.T, open OpenFunc) {
	const writers, batches, keys = 4, 20, 50
	db, _ := openTemp(t, open)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			b := db.NewBatch()
			defer b.Close()
			for i := range batches {
				for k := range keys {
					b.Set(fmt.Appendf(nil, "w%d/%03d/%03d", w, i, k), []byte{byte(w), byte(i), byte(k)})
				}
				if err := b.Commit(i%2 == 0); err != nil {
					t.Errorf("writer %d: Commit: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(collect(t, db, nil, nil)); n != writers*batches*keys {
		t.Fatalf("%d pairs after concurrent writers, want %d", n, writers*batches*keys)
	}
}

// testConcurrentReaders commits batches that each write the same counter
// into 100 keys while readers iterate: every iteration must find 100 equal
// counters, never decreasing.
func testConcurrentReaders(t *testing.T, open OpenFunc) {
	const (
		keys    = 100
		batches = 100
		readers = 4
	)
	db, _ := openTemp(t, open)
	lo, hi := []byte("ctr/"), []byte("ctr0")
	write := func(b store.Batch, n uint64) error {
		v := binary.BigEndian.AppendUint64(nil, n)
		for k := range keys {
			b.Set(counterKey("ctr/", k), v)
		}
		// Deletes in the same batch too: a reader must never see them
		// without the matching sets.
		b.Delete(counterKey("tmp/", int(n)-1))
		b.Set(counterKey("tmp/", int(n)), v)
		return b.Commit(n%4 == 0)
	}
	b := db.NewBatch()
	defer b.Close()
	if err := write(b, 0); err != nil {
		t.Fatal(err)
	}

	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			last := uint64(0)
			// Every reader completes at least one iteration, even if the
			// writer is done before it starts.
			for once := true; once || !done.Load(); once = false {
				var first uint64
				n := 0
				err := db.Iterate(lo, hi, func(k, v []byte) error {
					c := binary.BigEndian.Uint64(v)
					if n == 0 {
						first = c
					} else if c != first {
						return fmt.Errorf("key %q holds counter %d, key 0 holds %d: half-applied batch", k, c, first)
					}
					n++
					return nil
				})
				if err == nil && n != keys {
					err = fmt.Errorf("iteration saw %d keys, want %d", n, keys)
				}
				if err == nil && first < last {
					err = fmt.Errorf("counter went back from %d to %d", last, first)
				}
				if err == nil && r%2 == 1 {
					// Odd readers also Get a counter key after the iteration:
					// it cannot be older than what the iteration saw.
					v, gerr := db.Get(counterKey("ctr/", keys-1))
					if gerr != nil {
						err = gerr
					} else if c := binary.BigEndian.Uint64(v); c < first {
						err = fmt.Errorf("a Get saw counter %d after Iterate saw %d", c, first)
					}
				}
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				last = first
				reads.Add(1)
			}
		})
	}
	for i := uint64(1); i <= batches; i++ {
		if err := write(b, i); err != nil {
			t.Errorf("Commit %d: %v", i, err)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		t.Error("no read completed")
	}
	want := binary.BigEndian.AppendUint64(nil, batches)
	for k := range keys {
		wantValue(t, db, counterKey("ctr/", k), want)
	}
	if got := keysOf(collect(t, db, []byte("tmp/"), []byte("tmp0"))); !equalKeys(got, [][]byte{counterKey("tmp/", batches)}) {
		t.Fatalf("tmp/ keys = %s, want only the last", fmtKeys(got))
	}
}

// testCloseWhileBusy closes the store while goroutines read and write: each
// call must succeed or return ErrClosed, and Close must not fail or panic.
func testCloseWhileBusy(t *testing.T, open OpenFunc) {
	db, _ := openTemp(t, open)
	commit(t, db, []byte("busy/0"), []byte("v"))
	var started sync.WaitGroup
	var wg sync.WaitGroup
	const workers = 6
	started.Add(workers)
	for w := range workers {
		wg.Go(func() {
			b := db.NewBatch()
			defer b.Close()
			for i := 0; ; i++ {
				var err error
				switch w % 3 {
				case 0:
					_, err = db.Get([]byte("busy/0"))
				case 1:
					err = db.Iterate(nil, nil, func(k, v []byte) error {
						_, gerr := db.Get(k) // a call nested in a call
						if errors.Is(gerr, store.ErrClosed) {
							return nil
						}
						return gerr
					})
				case 2:
					b.Set(fmt.Appendf(nil, "busy/%d/%d", w, i), []byte("v"))
					err = b.Commit(false)
				}
				if i == 0 {
					started.Done()
				}
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		})
	}
	started.Wait()
	if err := db.Close(); err != nil {
		t.Errorf("Close while busy: %v", err)
	}
	wg.Wait()
}

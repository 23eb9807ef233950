package pebble

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/internal/backend"
)

const (
	// pebbleCacheBytes is the size of pebble's block cache.
	pebbleCacheBytes = 64 << 20
	// pebbleMemTableBytes is pebble's memtable size. It is small on purpose: a batch larger
	// than half of it (every block of a few thousand transactions) is applied as a
	// flushable batch — logged, then flushed as a table in the background — instead of
	// being inserted key by key into the memtable's skiplist, which BenchmarkApplyBlock
	// measured faster than a 64 MiB memtable (BENCHMARKS.md). Small batches still go
	// through the memtable.
	pebbleMemTableBytes = 8 << 20
	// pebbleMaxBatchBytes bounds a pebble batch's encoded size; pebble
	// panics past min(4 GiB, MaxInt).
	pebbleMaxBatchBytes = min(math.MaxUint32, math.MaxInt) - 1<<20
	// pebbleOpOverhead over-estimates the encoding of one batch operation
	// beyond its key and value: kind byte and two uvarint lengths.
	pebbleOpOverhead = 1 + 2*5
)

// pebbleDB is a DB backed by github.com/cockroachdb/pebble.
type pebbleDB struct {
	db       *pebble.DB
	dir      string
	readOnly bool
	gate     *backend.Gate
}

var (
	_ store.DB    = (*pebbleDB)(nil)
	_ store.Batch = (*pebbleBatch)(nil)
)

// Open opens, creating it if needed, the pebble store in dir. opts may
// be nil. The store's own logging goes to opts.Logger, or nowhere.
func Open(dir string, opts *store.Options) (_ store.DB, err error) {
	defer backend.Recover("pebble", dir, &err)
	if _, err := backend.MaxBatchBytes(opts); err != nil {
		return nil, fmt.Errorf("store: open pebble %s: %w", dir, err)
	}
	if err := checkFiles(dir); err != nil {
		return nil, err
	}
	logger := backend.Logger(opts)

	cache := pebble.NewCache(pebbleCacheBytes)
	defer cache.Unref() // pebble.Open takes its own reference.

	levels := make([]pebble.LevelOptions, 7)
	for i := range levels {
		levels[i] = pebble.LevelOptions{FilterPolicy: bloom.FilterPolicy(10), FilterType: pebble.TableFilter}
	}
	po := &pebble.Options{
		Cache:        cache,
		MemTableSize: pebbleMemTableBytes,
		Levels:       levels,
		ReadOnly:     backend.ReadOnly(opts),
		Logger:       pebbleLogger{logger},
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				backend.Logf(logger, slog.LevelError, "pebble", "background error: %v", err)
			},
		},
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, pebbleErr("open pebble "+dir, err)
	}
	return &pebbleDB{db: db, dir: dir, readOnly: po.ReadOnly, gate: backend.NewGate()}, nil
}

// pebbleErr wraps a pebble error with the "store: " prefix and op, marking it
// store.ErrCorrupt if pebble reports corruption. Pebble marks corruption with
// cockroachdb/errors marks, which only its own Is recognises.
func pebbleErr(op string, err error) error {
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("store: %s: %w: %w", op, store.ErrCorrupt, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// Backend returns "pebble".
func (d *pebbleDB) Backend() string { return "pebble" }

// Get returns a copy of the value for key, or store.ErrNotFound.
func (d *pebbleDB) Get(key []byte) ([]byte, error) {
	if !d.gate.Enter() {
		return nil, store.ErrClosed
	}
	defer d.gate.Exit()
	v, closer, err := d.db.Get(key)
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, store.ErrNotFound
		}
		return nil, pebbleErr("pebble get", err)
	}
	out := make([]byte, len(v)) // non-nil even for an empty value
	copy(out, v)
	if err := closer.Close(); err != nil {
		return nil, pebbleErr("pebble get", err)
	}
	return out, nil
}

// Has reports whether key is present.
func (d *pebbleDB) Has(key []byte) (bool, error) {
	if !d.gate.Enter() {
		return false, store.ErrClosed
	}
	defer d.gate.Exit()
	_, closer, err := d.db.Get(key)
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return false, nil
		}
		return false, pebbleErr("pebble has", err)
	}
	if err := closer.Close(); err != nil {
		return false, pebbleErr("pebble has", err)
	}
	return true, nil
}

// Iterate calls fn for each key in [lower, upper), in ascending order, on a
// snapshot taken when it starts. key and value are valid only during fn.
func (d *pebbleDB) Iterate(lower, upper []byte, fn func(key, value []byte) error) (err error) {
	if !d.gate.Enter() {
		return store.ErrClosed
	}
	defer d.gate.Exit()
	if upper != nil && bytes.Compare(lower, upper) >= 0 {
		return nil // empty range; pebble wants LowerBound < UpperBound
	}
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return pebbleErr("pebble iterate", err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = pebbleErr("pebble iterate", cerr)
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		v, verr := it.ValueAndErr()
		if verr != nil {
			return pebbleErr("pebble iterate", verr)
		}
		if ferr := fn(it.Key(), v); ferr != nil {
			return ferr
		}
	}
	if ierr := it.Error(); ierr != nil {
		return pebbleErr("pebble iterate", ierr)
	}
	return nil
}

// NewBatch returns an empty batch.
func (d *pebbleDB) NewBatch() store.Batch {
	return &pebbleBatch{db: d, b: d.db.NewBatch()}
}

// NewBatchSized is NewBatch with pebble's buffer allocated for sizeHint bytes up front.
func (d *pebbleDB) NewBatchSized(sizeHint int) store.Batch {
	return &pebbleBatch{db: d, b: d.db.NewBatchWithSize(max(sizeHint, 0))}
}

// Close waits for calls in progress, flushes pebble's memtable to a table, then closes
// pebble. A second Close returns store.ErrClosed.
//
// The flush is why a clean shutdown leaves nothing that lives only in the write-ahead log:
// pebble replays a damaged or cut log up to the damage without complaint, so a store closed
// cleanly must not depend on its log at all.
func (d *pebbleDB) Close() error {
	if !d.gate.Close() {
		return store.ErrClosed
	}
	if !d.readOnly {
		if err := d.db.Flush(); err != nil {
			_ = d.db.Close()
			return pebbleErr("flush pebble "+d.dir, err)
		}
	}
	if err := d.db.Close(); err != nil {
		return pebbleErr("close pebble "+d.dir, err)
	}
	return nil
}

// pebbleBatch is a Batch over a pebble.Batch, which copies keys and values
// into its own buffer on Set and Delete.
type pebbleBatch struct {
	db   *pebbleDB
	b    *pebble.Batch // nil once closed
	n    int           // operations recorded
	size int           // bytes of keys and values recorded
	err  error         // sticky: set by an invalid key, an oversized batch or a failed Apply
	// leak is set when Apply failed: pebble may still reference the batch,
	// so Close must not return it to pebble's pool.
	leak bool
}

func (b *pebbleBatch) record(key, value []byte, del bool) {
	if b.b == nil || b.err != nil {
		return
	}
	if len(key) == 0 {
		b.err = fmt.Errorf("store: pebble batch: empty key: %w", store.ErrInvalidKey)
		return
	}
	if uint64(b.b.Len())+uint64(len(key))+uint64(len(value))+pebbleOpOverhead >= pebbleMaxBatchBytes {
		b.err = fmt.Errorf("store: pebble batch of %d ops, %d bytes, would exceed %d bytes: %w",
			b.n+1, b.size+len(key)+len(value), uint64(pebbleMaxBatchBytes), store.ErrBatchTooLarge)
		return
	}
	// pebble.Batch Set and Delete only fail for indexed batches.
	if del {
		_ = b.b.Delete(key, nil)
	} else {
		_ = b.b.Set(key, value, nil)
	}
	b.n++
	b.size += len(key) + len(value)
}

// Set records key = value, copying both.
func (b *pebbleBatch) Set(key, value []byte) { b.record(key, value, false) }

// Delete records the removal of key, copying it.
func (b *pebbleBatch) Delete(key []byte) { b.record(key, nil, true) }

// Len returns the number of operations recorded.
func (b *pebbleBatch) Len() int { return b.n }

// Size returns the bytes of keys and values recorded.
func (b *pebbleBatch) Size() int { return b.size }

// Commit applies the batch atomically, fsyncing pebble's WAL first if sync.
func (b *pebbleBatch) Commit(sync bool) error {
	if write, err := backend.BeginCommit(b.db.gate, "pebble", b.b == nil, b.err, b.db.readOnly, b.n == 0); !write {
		return err
	}
	defer b.db.gate.Exit()
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync
	}
	if err := b.db.db.Apply(b.b, wo); err != nil {
		// The pebble batch may be stuck in its commit pipeline; never reuse it.
		b.err = pebbleErr("pebble commit", err)
		b.leak = true
		return b.err
	}
	b.b.Reset()
	b.n, b.size = 0, 0
	return nil
}

// Close releases the batch. It is safe to call more than once.
func (b *pebbleBatch) Close() {
	if b.b == nil {
		return
	}
	if !b.leak {
		_ = b.b.Close() // never fails
	}
	b.b = nil
}

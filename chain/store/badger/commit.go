package badger

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/internal/backend"
	"github.com/loyal-ledger/loyal/internal/keysort"
)

// How a batch reaches badger.
//
// Badger's transactions keep their writes in a map and hand them to badger's
// writer in the map's random order, and badger's memtable is a skiplist
// without insertion hints: inserting a block's tens of thousands of keys in
// random order into a memtable already holding a few blocks costs a multiple
// of inserting them in key order (cache misses on every level of the list;
// BENCHMARKS.md has the figure). So a batch is
// written through badger's KVLoader instead, which passes entries to the
// writer in the order given, sorted here by key.
//
// The KVLoader is badger's restore path and does not mark entries as one
// transaction itself; the store sets badger's own transaction flags on them
// (badgerBitTxn on every entry and a closing badgerBitFinTxn entry, exactly
// what a badger transaction writes). Badger replays its write-ahead log one
// version at a time and applies the entries of a version only once it reads
// that closing entry, so a batch cut short by a crash is not applied at all.
// TestBadgerTornWrite cuts the log at every point of a batch and checks it.
// Readers read at the last published version (badgerVersions), so they see a
// batch only once all of it is written.
//
// A batch the KVLoader would send as more than one write (see fits) is
// committed as a badger transaction at its version instead.

// Badger's flags on an entry (badger/v4 value.go, unexported there) and the
// key of the entry that closes a transaction (txn.go).
const (
	badgerBitDelete byte = 1 << 0
	badgerBitTxn    byte = 1 << 6
	badgerBitFinTxn byte = 1 << 7
)

var badgerTxnKey = []byte("!badger!txn")

// badgerLoaderMaxBytes bounds the batches written through the KVLoader. The
// KVLoader sends what it holds as a write of its own once its running total
// (badger's size estimate of each entry plus its value) reaches 100 MiB
// (badger's flushThreshold), which would split a batch (see fits);
// 1 MiB of margin. A variable so tests can take the other path with a small
// batch.
var badgerLoaderMaxBytes int64 = 99 << 20

// badgerScratch is the commit path's reusable memory, guarded by commitMu.
type badgerScratch struct {
	order []keysort.Ref
	kvs   []pb.KV
}

// badgerMaxScratch bounds the entries whose scratch is kept between commits.
const badgerMaxScratch = 1 << 18

// Commit applies the batch as one atomic badger write at the next version.
// Badger syncs every commit, so sync is implied.
func (b *badgerBatch) Commit(sync bool) error {
	if write, err := backend.BeginCommit(b.db.gate, "badger", b.closed, b.err, b.db.readOnly, len(b.ops) == 0); !write {
		return err
	}
	defer b.db.gate.Exit()
	oneWrite, err := b.fits()
	if err != nil {
		b.err = err
		return err
	}

	d := b.db
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	if d.failed != nil {
		return fmt.Errorf("store: badger commit: an earlier write failed, reopen the store: %w", d.failed)
	}
	ts := d.versions.next()
	if oneWrite {
		err = b.writeOrdered(ts)
	} else {
		err = b.writeTxn(ts)
	}
	if err != nil {
		if errors.Is(err, badger.ErrTxnTooBig) || errors.Is(err, badger.ErrEmptyKey) || errors.Is(err, badger.ErrInvalidKey) {
			return b.txnErr(err) // refused before anything was written
		}
		// Part of the batch may be in the memtable at version ts. Publishing
		// any later version would show it, so no later commit may happen.
		d.failed = err
		return badgerErr("badger commit", err)
	}
	d.db.SetDiscardTs(d.versions.publish(ts))
	b.reset()
	return nil
}

// key returns the key of the i-th operation.
func (b *badgerBatch) key(i int32) []byte {
	op := b.ops[i]
	return b.buf[op.off : op.off+op.klen : op.off+op.klen]
}

// writeOrdered writes the batch through badger's KVLoader at version ts, in
// key order, as one write closed by badger's transaction marker.
func (b *badgerBatch) writeOrdered(ts uint64) error {
	sc := &b.db.scratch
	// Operations on the same key stay in batch order, so the later write wins.
	order := keysort.Sort(sc.order, len(b.ops), func(i int) []byte { return b.key(int32(i)) })
	kvs := slices.Grow(sc.kvs[:0], len(order)+1)[:len(order)+1]
	defer func() {
		clear(kvs) // drop the references into the batch's buffer
		if len(order) <= badgerMaxScratch {
			sc.order, sc.kvs = order[:0], kvs[:0]
		} else {
			sc.order, sc.kvs = nil, nil
		}
	}()

	set, del := []byte{badgerBitTxn}, []byte{badgerBitTxn | badgerBitDelete}
	l := b.db.db.NewKVLoader(1)
	for i, o := range order {
		j := o.Index
		op, kv := b.ops[j], &kvs[i]
		kv.Key, kv.Version = b.key(j), ts
		if op.del {
			kv.Meta = del
		} else {
			kv.Meta = set
			end := op.off + op.klen + op.vlen
			kv.Value = b.buf[op.off+op.klen : end : end]
		}
		if err := l.Set(kv); err != nil {
			return err
		}
	}
	fin := &kvs[len(order)]
	fin.Key, fin.Value, fin.Version, fin.Meta = badgerTxnKey, []byte(strconv.FormatUint(ts, 10)), ts, []byte{badgerBitFinTxn}
	if err := l.Set(fin); err != nil {
		return err
	}
	return l.Finish()
}

// writeTxn commits the batch as one badger transaction at version ts.
func (b *badgerBatch) writeTxn(ts uint64) error {
	txn := b.db.db.NewTransactionAt(ts, true)
	defer txn.Discard()
	for i, op := range b.ops {
		k := b.key(int32(i))
		var err error
		if op.del {
			err = txn.Delete(k)
		} else {
			end := op.off + op.klen + op.vlen
			err = txn.Set(k, b.buf[op.off+op.klen:end:end]) // full slice expressions: badger must not append into the buffer
		}
		if err != nil {
			return err
		}
	}
	return txn.CommitAt(ts, nil)
}

// fits reports, with the arithmetic of badger's Txn.checkSize, whether the
// batch fits in one badger transaction, so that an oversized batch is refused
// before anything is handed to badger. It also reports whether the KVLoader
// sends the batch as one write.
//
// KVLoader.Set sends what it holds as a write of its own before an entry that
// would reach badger's entry count or size limit, or once its running total
// reaches badgerLoaderMaxBytes. A split write is not all or nothing: were the
// memtable rotated between its parts, the entries would reach a table without
// their closing entry and replay would stop at the orphaned one. The count
// and size limits cannot split a batch that passes the check here: it counts
// the same entries, each 2 bytes above the KVLoader's estimate (key plus
// version, value, 2 meta bytes), and the closing entry at its largest
// (badgerFinEstimate; badger's transaction counts it as 21 bytes, its write
// with the version's digits). So only the running total is left to check.
func (b *badgerBatch) fits() (oneLoaderWrite bool, err error) {
	count := int64(1)
	size := int64(badgerFinEstimate)
	var loaderTotal int64
	for _, op := range b.ops {
		count++
		vlen := int64(op.vlen)
		if vlen >= b.db.valueMin {
			vlen = 12 // a value pointer instead of the value
		}
		size += int64(op.klen) + vlen + 2 + 10 // meta bytes, version
		loaderTotal += int64(op.klen) + 8 + vlen + 2 + int64(op.vlen)
	}
	maxCount, maxSize := b.db.db.MaxBatchCount(), b.db.db.MaxBatchSize()
	if count >= maxCount || size >= maxSize {
		return false, fmt.Errorf("store: badger batch of %d ops, %d bytes (badger estimate %d entries, %d bytes) exceeds one transaction's limit of %d entries, %d bytes (MaxBatchBytes %d): %w",
			len(b.ops), b.size, count, size, maxCount, maxSize, b.db.maxBatch, store.ErrBatchTooLarge)
	}
	return loaderTotal < badgerLoaderMaxBytes, nil
}

// badgerFinEstimate is badger's estimate of the closing entry at its largest:
// its key with the version, the version in decimal (up to 20 digits), 2 meta
// bytes.
const badgerFinEstimate = badgerTxnKeyLen + 8 + 20 + 2

// txnErr maps an error badger returned before writing anything.
func (b *badgerBatch) txnErr(err error) error {
	switch {
	case errors.Is(err, badger.ErrTxnTooBig):
		b.err = fmt.Errorf("store: badger batch of %d ops, %d bytes (MaxBatchBytes %d): %w: %w",
			len(b.ops), b.size, b.db.maxBatch, store.ErrBatchTooLarge, err)
		return b.err
	case errors.Is(err, badger.ErrEmptyKey) || errors.Is(err, badger.ErrInvalidKey):
		b.err = fmt.Errorf("store: badger batch: %w: %w", store.ErrInvalidKey, err)
		return b.err
	}
	return badgerErr("badger commit", err)
}

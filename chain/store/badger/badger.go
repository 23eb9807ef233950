package badger

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/internal/backend"
)

const (
	// badgerValueThreshold: values this long or longer are stored in badger's
	// value log rather than in the LSM tree (badger's default and maximum;
	// lowered to the transaction limit for small MaxBatchBytes).
	badgerValueThreshold = 1 << 20
	// badgerTxnKeyLen is len("!badger!txn"), the key of the entry badger adds
	// to mark the end of every transaction.
	badgerTxnKeyLen = 11
	// badgerMaxKeyLen is the longest key badger accepts.
	badgerMaxKeyLen = 65000
	// badgerRetainedBuf is the largest batch buffer kept for reuse after
	// Commit or Close: a block of 10,000 transfers needs about 7 MiB.
	badgerRetainedBuf = 32 << 20
)

// badgerReservedPrefix starts badger's internal keys; user keys may not.
var badgerReservedPrefix = []byte("!badger!")

// badgerSizes derives badger's memtable size from MaxBatchBytes.
//
// Badger refuses a transaction once its entry count reaches maxBatchCount or
// its estimated size reaches maxBatchSize, where (db.go, checkAndSetOptions)
//
//	maxBatchSize  = 15 * MemTableSize / 100
//	maxBatchCount = maxBatchSize / skl.MaxNodeSize   (MaxNodeSize is 96 on 64-bit)
//
// and an entry is estimated (txn.go, checkSize) at len(key)+len(value)+12
// bytes. We aim for maxBatchSize = 1.25*MaxBatchBytes + 64 KiB, so that a
// batch with Size() <= MaxBatchBytes and Len() <= MaxBatchBytes/80 fits both
// limits: its estimated size is at most 1.15*MaxBatchBytes plus the
// transaction marker, and its count at most MaxBatchBytes/80 + 1, below
// maxBatchSize/96 = MaxBatchBytes/76.8 + 682.
func badgerSizes(maxBatchBytes int) (memTableSize, txnBytes int64) {
	txnBytes = int64(maxBatchBytes) + int64(maxBatchBytes)/4 + 64<<10
	memTableSize = (txnBytes*100 + 14) / 15 // ceil, so 15*memTableSize/100 >= txnBytes
	return memTableSize, txnBytes
}

// badgerDB is a DB backed by github.com/dgraph-io/badger/v4, in badger's
// managed mode: the store numbers the versions itself (badgerVersions), and
// commits each Batch as one atomic badger write (badger_commit.go), never
// through badger's WriteBatch, which splits large batches into several
// non-atomic transactions.
type badgerDB struct {
	db       *badger.DB
	dir      string
	readOnly bool
	maxBatch int   // effective Options.MaxBatchBytes, for error messages
	valueMin int64 // badger's ValueThreshold: values this long go to the value log
	gate     *backend.Gate
	versions *badgerVersions
	spare    atomic.Pointer[badgerBuffers] // a closed batch's buffers, for the next batch

	// commitMu serialises commits: versions are published in the order
	// they are written. It also guards scratch and failed.
	commitMu sync.Mutex
	scratch  badgerScratch
	failed   error // a write that may have left part of a batch in the memtable
}

var (
	_ store.DB    = (*badgerDB)(nil)
	_ store.Batch = (*badgerBatch)(nil)
)

// Open opens, creating it if needed, the badger store in dir. opts may
// be nil. Every commit is synced (badger's SyncWrites), whatever Commit's
// sync argument. The store's own logging goes to opts.Logger, or nowhere.
//
// Badger's value log is not garbage-collected by this package; it only holds
// values of 1 MiB or more.
func Open(dir string, opts *store.Options) (_ store.DB, err error) {
	defer backend.Recover("badger", dir, &err)
	maxBatch, err := backend.MaxBatchBytes(opts)
	if err != nil {
		return nil, fmt.Errorf("store: open badger %s: %w", dir, err)
	}
	if maxBatch > store.MaxBatchBytesLimit { // badger's own bound, which the store's limit states
		return nil, fmt.Errorf("store: open badger %s: MaxBatchBytes %d exceeds badger's limit of %d",
			dir, maxBatch, store.MaxBatchBytesLimit)
	}
	memTableSize, txnBytes := badgerSizes(maxBatch)

	bo := badger.DefaultOptions(dir)
	bo.Logger = nil // badger checks for nil; its default logger writes to stderr
	if l := backend.Logger(opts); l != nil {
		bo.Logger = badgerLogger{l}
	}
	bo.ReadOnly = backend.ReadOnly(opts)
	bo.SyncWrites = true
	bo.DetectConflicts = false // batches are blind writes; no read-write transactions
	bo.MetricsEnabled = false
	bo.MemTableSize = memTableSize
	bo.NumMemtables = 1   // one immutable memtable waiting for flush, besides the active one
	bo.NumCompactors = 2  // badger's minimum
	bo.BlockCacheSize = 0 // blocks are uncompressed: read from the mmapped tables
	bo.IndexCacheSize = 0 // table indexes stay in memory
	bo.Compression = options.None
	// Verify table checksums when a table is opened, so a corrupt store
	// fails Open with store.ErrCorrupt. Per-block verification would be cheaper
	// on open but badger turns a failed block read into "not found" or an
	// iteration that silently ends early; without verification it returns
	// wrong data or panics.
	bo.ChecksumVerificationMode = options.OnTableRead
	bo.ValueThreshold = min(badgerValueThreshold, txnBytes)

	db, err := badger.OpenManaged(bo)
	if err != nil {
		return nil, badgerErr("open badger "+dir, err)
	}
	if db.MaxBatchSize() < txnBytes {
		// Our reading of badger's sizing rule is out of date; refuse rather
		// than break the MaxBatchBytes guarantee.
		_ = db.Close()
		return nil, fmt.Errorf("store: open badger %s: transaction limit %d is below the %d needed for MaxBatchBytes %d",
			dir, db.MaxBatchSize(), txnBytes, maxBatch)
	}
	// Every batch is written at one version above the last, so the newest
	// version in the store is the last batch committed (badger's MaxVersion
	// reads it from table and memtable metadata, without a scan).
	committed := db.MaxVersion()
	if !bo.ReadOnly {
		db.SetDiscardTs(committed)
	}
	return &badgerDB{
		db: db, dir: dir, readOnly: bo.ReadOnly, maxBatch: maxBatch, valueMin: bo.ValueThreshold,
		gate: backend.NewGate(), versions: newBadgerVersions(committed),
	}, nil
}

// read runs fn in a read transaction at the last committed version.
func (d *badgerDB) read(fn func(txn *badger.Txn) error) error {
	ts := d.versions.acquire()
	defer d.versions.release(ts)
	txn := d.db.NewTransactionAt(ts, false)
	defer txn.Discard()
	return fn(txn)
}

// badgerErr wraps a badger error with the "store: " prefix and op, marking it
// store.ErrCorrupt if it reports corruption. Badger flattens the errors it wraps
// into strings, so corruption is also recognised by its messages.
func badgerErr(op string, err error) error {
	if errors.Is(err, y.ErrChecksumMismatch) || errors.Is(err, badger.ErrTruncateNeeded) ||
		strings.Contains(err.Error(), y.ErrChecksumMismatch.Error()) ||
		strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()) {
		return fmt.Errorf("store: %s: %w: %w", op, store.ErrCorrupt, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// Backend returns "badger".
func (d *badgerDB) Backend() string { return "badger" }

// Get returns a copy of the value for key, or store.ErrNotFound.
func (d *badgerDB) Get(key []byte) ([]byte, error) {
	if !d.gate.Enter() {
		return nil, store.ErrClosed
	}
	defer d.gate.Exit()
	var v []byte
	err := d.read(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		if errors.Is(err, badger.ErrKeyNotFound) || errors.Is(err, badger.ErrEmptyKey) {
			return nil, store.ErrNotFound
		}
		return nil, badgerErr("badger get", err)
	}
	if v == nil {
		v = []byte{} // empty value, present key
	}
	return v, nil
}

// Has reports whether key is present.
func (d *badgerDB) Has(key []byte) (bool, error) {
	if !d.gate.Enter() {
		return false, store.ErrClosed
	}
	defer d.gate.Exit()
	err := d.read(func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		return err
	})
	if err != nil {
		if errors.Is(err, badger.ErrKeyNotFound) || errors.Is(err, badger.ErrEmptyKey) {
			return false, nil
		}
		return false, badgerErr("badger has", err)
	}
	return true, nil
}

// Iterate calls fn for each key in [lower, upper), in ascending order, in a
// read transaction started when it begins. key and value are valid only
// during fn.
//
// Values are copied into one buffer reused across keys: badger's Item.Value
// would hold the value log's read lock during fn, and a Commit from fn could
// then deadlock.
func (d *badgerDB) Iterate(lower, upper []byte, fn func(key, value []byte) error) error {
	if !d.gate.Enter() {
		return store.ErrClosed
	}
	defer d.gate.Exit()
	if upper != nil && bytes.Compare(lower, upper) >= 0 {
		return nil
	}
	return d.read(func(txn *badger.Txn) error {
		// No Prefix: bounds are arbitrary. Values are fetched one at a time.
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		var val []byte
		for it.Seek(lower); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if upper != nil && bytes.Compare(key, upper) >= 0 {
				break
			}
			var err error
			if val, err = item.ValueCopy(val[:0]); err != nil {
				return badgerErr("badger iterate", err)
			}
			if val == nil {
				val = []byte{}
			}
			if err := fn(key, val); err != nil {
				return err
			}
		}
		return nil
	})
}

// NewBatch returns an empty batch.
func (d *badgerDB) NewBatch() store.Batch { return d.NewBatchSized(0) }

// NewBatchSized returns an empty batch whose buffer holds sizeHint bytes of
// keys and values without growing. It reuses the buffer of a batch closed
// before it: a block's batch is several MiB, and memory touched for the first
// time costs a page fault per 4 KiB page, which on some virtual machines costs
// more than writing the data.
func (d *badgerDB) NewBatchSized(sizeHint int) store.Batch {
	b := &badgerBatch{db: d}
	if spare := d.spare.Swap(nil); spare != nil {
		b.buf, b.ops = spare.buf[:0], spare.ops[:0]
	}
	if sizeHint > cap(b.buf) && sizeHint <= badgerRetainedBuf {
		b.buf = make([]byte, 0, sizeHint)
	}
	return b
}

// Close waits for calls in progress, then closes badger, which flushes its
// memtable. A second Close returns store.ErrClosed.
func (d *badgerDB) Close() error {
	if !d.gate.Close() {
		return store.ErrClosed
	}
	if err := d.db.Close(); err != nil {
		return badgerErr("close badger "+d.dir, err)
	}
	return nil
}

// badgerOp is one recorded operation; its key and value are in the batch's
// buffer at buf[off:off+klen] and buf[off+klen:off+klen+vlen].
type badgerOp struct {
	off, klen, vlen int
	del             bool
}

// badgerBuffers are a batch's buffers, handed to the next batch once it is
// closed.
type badgerBuffers struct {
	buf []byte
	ops []badgerOp
}

// badgerBatch records operations in one buffer and applies them in a single
// atomic badger write on Commit.
type badgerBatch struct {
	db     *badgerDB
	buf    []byte
	ops    []badgerOp
	size   int
	err    error // sticky: set by an invalid key or an oversized batch
	closed bool
}

func (b *badgerBatch) record(key, value []byte, del bool) {
	if b.closed || b.err != nil {
		return
	}
	switch {
	case len(key) == 0:
		b.err = fmt.Errorf("store: badger batch: empty key: %w", store.ErrInvalidKey)
		return
	case len(key) > badgerMaxKeyLen:
		b.err = fmt.Errorf("store: badger batch: key of %d bytes, longer than %d: %w", len(key), badgerMaxKeyLen, store.ErrInvalidKey)
		return
	case bytes.HasPrefix(key, badgerReservedPrefix):
		b.err = fmt.Errorf("store: badger batch: key %q uses badger's reserved prefix: %w", key, store.ErrInvalidKey)
		return
	}
	off := len(b.buf)
	b.buf = append(b.buf, key...)
	b.buf = append(b.buf, value...)
	b.ops = append(b.ops, badgerOp{off: off, klen: len(key), vlen: len(value), del: del})
	b.size += len(key) + len(value)
}

// Set records key = value, copying both.
func (b *badgerBatch) Set(key, value []byte) { b.record(key, value, false) }

// Delete records the removal of key, copying it.
func (b *badgerBatch) Delete(key []byte) { b.record(key, nil, true) }

// Len returns the number of operations recorded.
func (b *badgerBatch) Len() int { return len(b.ops) }

// Size returns the bytes of keys and values recorded.
func (b *badgerBatch) Size() int { return b.size }

func (b *badgerBatch) reset() {
	if cap(b.buf) > badgerRetainedBuf {
		b.buf, b.ops = nil, nil
	} else {
		b.buf, b.ops = b.buf[:0], b.ops[:0]
	}
	b.size = 0
}

// Close releases the batch, handing its buffers to the next batch. It is
// safe to call more than once.
func (b *badgerBatch) Close() {
	if !b.closed && cap(b.buf) > 0 && cap(b.buf) <= badgerRetainedBuf {
		b.db.spare.Store(&badgerBuffers{buf: b.buf[:0], ops: b.ops[:0]})
	}
	b.closed = true
	b.buf, b.ops, b.err = nil, nil, nil
}

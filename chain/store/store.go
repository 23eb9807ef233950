package store

import (
	"errors"
	"log/slog"
)

// Sentinel errors. Errors returned by this package wrap them with context, so
// test for them with errors.Is, never with ==, except for ErrClosed and
// ErrNotFound, which are returned unwrapped.
var (
	// ErrNotFound is returned by Get when the key is absent.
	ErrNotFound = errors.New("store: not found")

	// ErrClosed is returned by every call on a DB after its Close, and by
	// Commit on a Batch that was closed or whose DB was closed.
	ErrClosed = errors.New("store: closed")

	// ErrBatchTooLarge is returned by Commit when a batch exceeds what the
	// backend can apply in one atomic write (see Options.MaxBatchBytes).
	// Nothing of the batch is written.
	ErrBatchTooLarge = errors.New("store: batch too large")

	// ErrCorrupt is wrapped around errors in which the backend reports on-disk
	// corruption, on open or on read.
	ErrCorrupt = errors.New("store: corrupt")

	// ErrReadOnly is returned by Commit on a DB opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store: read-only")

	// ErrInvalidKey is returned by Commit when the batch holds a key the
	// backend cannot store: an empty key (both backends), or for badger a key
	// longer than 65,000 bytes or one starting with badger's reserved prefix
	// "!badger!". Nothing of the batch is written.
	ErrInvalidKey = errors.New("store: invalid key")
)

// Reader reads a consistent key space.
//
// Keys are compared bytewise (bytes.Compare). Get returns a copy the caller
// owns; Iterate's key and value are only valid during the callback. Arguments
// are not retained after a call returns.
type Reader interface {
	// Get returns a copy of the value stored for key, which the caller may
	// keep and modify. A key stored with an empty value yields a non-nil
	// empty slice. Get returns ErrNotFound if key is absent.
	Get(key []byte) ([]byte, error)

	// Has reports whether key is present.
	Has(key []byte) (bool, error)

	// Iterate calls fn for each key in [lower, upper) in ascending bytewise
	// order. A nil lower means from the start; a nil upper means to the end.
	// It stops at the first error fn returns and returns that error as is.
	//
	// Iterate reads a snapshot taken when it starts: batches committed while
	// it runs are not visible to it, and it never sees part of a batch.
	//
	// key and value are only valid during the call; copy them to keep them,
	// and do not modify them. fn may call other methods of the DB, including
	// Get and Batch.Commit, but must not call Close.
	Iterate(lower, upper []byte, fn func(key, value []byte) error) error
}

// DB is a store. It is safe for concurrent use by multiple goroutines.
type DB interface {
	Reader

	// NewBatch returns an empty batch that writes to this DB. It never fails;
	// on a closed DB the batch's Commit returns ErrClosed.
	NewBatch() Batch
	// NewBatchSized is NewBatch with a hint of the bytes the batch will hold, so a large
	// batch (a block) is allocated once instead of grown by doubling.
	NewBatchSized(sizeHint int) Batch

	// Close waits for calls in progress to return, then flushes and closes
	// the store. Calls made after Close has begun return ErrClosed. A second
	// Close returns ErrClosed.
	Close() error

	// Backend returns the backend's name, "pebble" or "badger".
	Backend() string
}

// Batch collects writes that Commit applies atomically: after a crash either
// all or none of them are visible, and concurrent readers see all or none.
//
// A Batch is not safe for concurrent use. Set and Delete copy their
// arguments, so the caller may reuse its buffers as soon as they return.
//
// After a successful Commit the batch is empty and may be reused. If Commit
// fails, nothing was written and the batch keeps its contents; an invalid
// key (ErrInvalidKey) or an oversized batch (ErrBatchTooLarge) makes the
// batch fail every later Commit too, so Close it and build a new one.
type Batch interface {
	// Set records that key is to hold value.
	Set(key, value []byte)
	// Delete records that key is to be removed. Deleting an absent key is
	// not an error.
	Delete(key []byte)
	// Len returns the number of operations recorded since the batch was
	// created or last committed.
	Len() int
	// Size returns the approximate size in bytes of the recorded keys and
	// values.
	Size() int
	// Commit applies the batch atomically. If sync is true the batch is
	// durable (fsynced) before Commit returns; if false it may be lost in an
	// operating-system crash or power loss, but never partially (badger
	// always syncs). A later operation in the batch on the same key wins over
	// an earlier one.
	Commit(sync bool) error
	// Close releases the batch's resources, discarding anything not
	// committed. It is safe to call after Commit and more than once. The
	// batch is unusable after it: Set and Delete do nothing and Commit
	// returns ErrClosed.
	Close()
}

// MaxBatchBytesLimit is the largest Options.MaxBatchBytes that every backend accepts (badger's
// bound: beyond it its memtable write-ahead log, mapped at twice the memtable size, would
// overflow its 32-bit offsets). A caller that may run on either backend stays at or below it.
const MaxBatchBytesLimit = 128 << 20

// DefaultMaxBatchBytes is the Options.MaxBatchBytes used when it is 0.
const DefaultMaxBatchBytes = 64 << 20

// Options configures a backend's Open (packages pebble and badger, or backends.Open). The zero value (or a
// nil *Options) gives the defaults.
type Options struct {
	// MaxBatchBytes is the largest batch, by Batch.Size, that Commit must
	// accept atomically. 0 means DefaultMaxBatchBytes (64 MiB).
	//
	// Pebble accepts batches up to 4 GiB whatever this is. Badger caps one
	// transaction at 15% of its memtable, so badger sizes its memtable from
	// this value: about 8.3 × MaxBatchBytes (534 MiB by default), in an arena
	// of about 10.8 × MaxBatchBytes of address space allocated on open and at
	// each memtable rotation; resident memory grows towards it as writes fill
	// the memtable, for the active memtable and one being flushed. Lower
	// MaxBatchBytes to bound badger's memory. For badger the guarantee is: a
	// batch with Size() <= MaxBatchBytes and Len() <= MaxBatchBytes/80
	// commits; bigger batches, or batches of very many tiny entries, may fail
	// with ErrBatchTooLarge. Badger accepts at most MaxBatchBytesLimit.
	MaxBatchBytes int

	// ReadOnly opens the store without writing to it, for instance for an
	// auditor reading a data directory. Commit then returns ErrReadOnly. The
	// directory must exist.
	ReadOnly bool

	// Logger receives the backend's log messages. Nil means no logging.
	Logger *slog.Logger
}

// Package store is the key-value interface the ledger persists through. It links no storage
// engine: each of the two interchangeable on-disk backends is its own package behind this
// interface, store/pebble (github.com/cockroachdb/pebble, the default) and store/badger
// (github.com/dgraph-io/badger/v4), and store/backends opens either by name. Code that only
// reads and writes (the ledger, an auditor's tools) imports this package alone.
//
// A DB maps byte-string keys to byte-string values, ordered bytewise. Reads go
// straight to the DB; writes are collected in a Batch and applied atomically
// by Commit, so after a crash either all of a batch is visible or none of it,
// and concurrent readers never see part of one.
//
//	db, err := backends.Open("pebble", dir, nil) // or "badger", or pebble.Open(dir, nil); nil: defaults
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//
//	b := db.NewBatch()
//	defer b.Close()
//	b.Set([]byte("acct/alice"), []byte("100"))
//	b.Set([]byte("acct/bob"), []byte("50"))
//	b.Delete([]byte("acct/carol"))
//	if err := b.Commit(true); err != nil { // true: fsync before returning
//		return err
//	}
//
//	v, err := db.Get([]byte("acct/alice"))
//	switch {
//	case errors.Is(err, store.ErrNotFound):
//		// absent
//	case err != nil:
//		return err
//	}
//	_ = v // v is a copy the caller owns
//
//	// All keys with prefix "acct/": ["acct/", "acct0"), ascending.
//	err = db.Iterate([]byte("acct/"), []byte("acct0"), func(k, v []byte) error {
//		fmt.Printf("%s=%s\n", k, v) // k and v are valid only during the call
//		return nil
//	})
//
// # Concurrency and ownership
//
// A DB is safe for concurrent use by multiple goroutines; a Batch is not.
// Values returned by Get are copies the caller owns. Keys and values passed to
// an Iterate callback belong to the store and are valid only until the
// callback returns. Batch.Set and Batch.Delete copy their arguments, so
// callers may reuse buffers immediately. No method retains its arguments.
//
// # Errors
//
// Errors start with "store: " and wrap the sentinels ErrNotFound, ErrClosed,
// ErrBatchTooLarge, ErrCorrupt, ErrReadOnly and ErrInvalidKey; test for them
// with errors.Is. After Close every call returns ErrClosed.
//
// # Backends
//
// Both backends give the same results for the same calls, with these
// differences: badger syncs every commit whatever Commit's sync argument;
// badger bounds a batch by its memtable (see Options.MaxBatchBytes) and
// reserves keys longer than 65,000 bytes or starting with "!badger!"; pebble
// accepts batches up to 4 GiB. The storetest package checks a backend against
// this contract; store/backends runs it against both.
//
// Badger runs in its managed mode: the store numbers one version per batch
// and reads at the last one committed, and writes a batch in key order with
// badger's own transaction markers (store/badger's commit.go says why and how). A
// badger write that fails part-way leaves the store refusing commits until it
// is reopened, since part of the batch may already be in badger's memtable;
// whether that batch is there after reopening is not defined (a failed
// fsync, say, may leave it in the memtable badger flushes on Close).
package store

// Package badger is the second store backend: store.DB over github.com/dgraph-io/badger/v4,
// in badger's managed mode.
//
//	db, err := badger.Open(dir, &store.Options{MaxBatchBytes: 16 << 20})
//
// The store numbers one version per batch and reads at the last one committed; a batch is
// written in key order with badger's own transaction markers (commit.go says why and how),
// and every commit is synced. Options.MaxBatchBytes sizes badger's memtable, so it bounds
// both the largest batch and the memory badger holds; it may be at most
// store.MaxBatchBytesLimit.
package badger

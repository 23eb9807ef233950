// Package pebble is the default store backend: store.DB over github.com/cockroachdb/pebble.
//
//	db, err := pebble.Open(dir, nil) // nil: default store.Options
//
// Commit with sync false may lose the batch in an operating-system crash, never part of it.
// Batches may be up to 4 GiB whatever Options.MaxBatchBytes says.
//
// Pebble replays its write-ahead log up to the first damaged record without an error (v1.1
// has no strict mode for the last log), so a damaged log after a crash loses the records after
// the damage silently; this package cannot tell that from the torn tail of a write never
// acknowledged. Two things bound it: Close flushes the memtable, so a store closed cleanly
// needs no log at all, and a caller that knows what it committed checks the store against it
// (the node's head watermark, docs/adr/0006). A directory with manifests but no CURRENT file,
// and any panic inside pebble's Open, is a store.ErrCorrupt error.
package pebble

// Package pebble is the default store backend: store.DB over github.com/cockroachdb/pebble.
//
//	db, err := pebble.Open(dir, nil) // nil: default store.Options
//
// Commit with sync false may lose the batch in an operating-system crash, never part of it.
// Batches may be up to 4 GiB whatever Options.MaxBatchBytes says.
package pebble

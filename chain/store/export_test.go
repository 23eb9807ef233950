package store

// SetBadgerLoaderMaxBytes makes badger batches whose KVLoader total reaches n
// bytes commit as badger transactions, so tests reach that path with small
// batches. It returns a function restoring the bound.
func SetBadgerLoaderMaxBytes(n int64) (restore func()) {
	old := badgerLoaderMaxBytes
	badgerLoaderMaxBytes = n
	return func() { badgerLoaderMaxBytes = old }
}

// BadgerMaxBatchSize is badger's limit on one write's estimated size for a
// badger DB.
func BadgerMaxBatchSize(db DB) int64 { return db.(*badgerDB).db.MaxBatchSize() }

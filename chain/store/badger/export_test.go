package badger

import "github.com/loyal-ledger/loyal/chain/store"

// SetLoaderMaxBytes makes badger batches whose KVLoader total reaches n
// bytes commit as badger transactions, so tests reach that path with small
// batches. It returns a function restoring the bound.
func SetLoaderMaxBytes(n int64) (restore func()) {
	old := badgerLoaderMaxBytes
	badgerLoaderMaxBytes = n
	return func() { badgerLoaderMaxBytes = old }
}

// MaxBatchSize is badger's limit on one write's estimated size for a
// badger DB.
func MaxBatchSize(db store.DB) int64 { return db.(*badgerDB).db.MaxBatchSize() }

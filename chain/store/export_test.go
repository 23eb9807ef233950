package store

// SetBadgerLoaderMaxBytes makes badger batches whose KVLoader total reaches n
// bytes commit as badger transactions, so tests reach that path with small
// batches. It returns a function restoring the bound.
func SetBadgerLoaderMaxBytes(n int64) (restore func()) {
	old := badgerLoaderMaxBytes
	badgerLoaderMaxBytes = n
	return func() { badgerLoaderMaxBytes = old }
}

package ledger

// Settle drops the speculative block, so that the next commit executes its block: the apply
// benchmark measures execution, not a reused one.
func Settle(l *Ledger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settle()
}

// BlockKey is the store key of the block at height, for tests that damage a store.
func BlockKey(height uint64) []byte { return heightKey(pBlock, height) }

// ExpiryMemo is the day through which the ledger knows every program processed expiry.
func ExpiryMemo(l *Ledger) (day uint32, known bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return uint32(l.expiry.day), l.expiry.known
}

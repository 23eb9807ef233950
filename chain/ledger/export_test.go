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
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint32(l.expiry.day), l.expiry.known
}

// AdmitCached is the admission cache's record of key, if it holds one as of the ledger's head.
func AdmitCached(l *Ledger, key []byte) (value []byte, ok bool) {
	head := l.Head()
	l.admit.mu.Lock()
	defer l.admit.mu.Unlock()
	if l.admit.head != head {
		return nil, false
	}
	value, ok = l.admit.values[string(key)]
	return value, ok
}

// Executing holds the ledger's lock as a block's build, verification or commit does, until
// the returned function is called.
func Executing(l *Ledger) (done func()) {
	l.mu.Lock()
	return l.mu.Unlock
}

package ledger

// Reused is how many commits took their block's speculative execution.
func Reused(l *Ledger) uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.reused
}

// Settle drops the speculative block, so that the next commit executes its block: the apply
// benchmark measures execution, not a reused one.
func Settle(l *Ledger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settle()
}

package ledger

// Reused is how many commits took their block's speculative execution.
func Reused(l *Ledger) uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.reused
}

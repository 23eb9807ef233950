package ledger

// Settle drops the speculative block, so that the next commit executes its block: the apply
// benchmark measures execution, not a reused one.
func Settle(l *Ledger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.settle()
}

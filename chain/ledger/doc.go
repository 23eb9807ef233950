// Package ledger persists the chain: it applies blocks to a store.DB — block, state and
// indexes of a height in one atomic, synced batch — and keeps the authenticated state map
// (chain/smt) in memory, rebuilt from the stored state on open.
//
// Use:
//
//	db, _ := backends.Open("pebble", dir, nil)
//	l, err := ledger.Open(db, genesis) // initializes an empty store at height 0
//	blk, rejected, err := l.BuildBlock(time, proposer, txs, lastCommit)
//	err = l.ApplyBlock(blk, nil)       // verifies, executes, checks the state root, commits
//	head := l.Head()
//
// A crash at any point leaves the store at the old or the new height, never between: the
// head record is written in the same batch as everything else. Open recomputes the state
// root from the stored state and refuses a store whose root differs from its head's.
//
// A Ledger is safe for concurrent use: reads (Head, Get, proofs) may run while one goroutine
// applies blocks; applying blocks must be done by one goroutine at a time.
package ledger

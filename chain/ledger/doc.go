// Package ledger persists the chain: it applies blocks to a store.DB — block, state and
// indexes of a height in one atomic, synced batch — and keeps the authenticated state map
// (chain/smt) in memory, rebuilt from the stored state on open.
//
// It reads and writes through the store interface alone (chain/store); which engine lies
// behind it is the caller's choice. Each height is executed under the rules in force there
// (RulesAt, ADR 0005). Example (runnable in example_test.go):
//
//	db, _ := pebble.Open(dir, ledger.StoreOptions(genesis.Params))
//	l, err := ledger.Open(db, genesis)     // initializes an empty store at height 0
//	senders, err := l.RecoverSenders(txs)  // or the mempool's, recovered on admission
//	blk, rejected, err := l.BuildBlock(time, proposer, txs, senders, lastCommit)
//	err = l.ApplyBlock(blk, nil)           // verifies, executes, checks the state root, commits
//	head := l.Head()
//	proof, err := l.ProveAccount(addr)     // verifies with chain alone: proof.Verify(&blk.Header)
//
// A crash at any point leaves the store at the old or the new height, never between: the
// head record is written in the same batch as everything else. Open recomputes the state
// root from the stored state and refuses a store whose root differs from its head's.
//
// A Ledger is safe for concurrent use: reads (Head, GetState, Account, proofs) may run while one goroutine
// applies blocks; applying blocks must be done by one goroutine at a time. Head and the
// admission checks (CheckQueue, CommittedNonce) never wait for a block's execution, only for
// the store write that commits it: what a reader found in the store is never newer than the
// Head it reads next. CheckQueue reads through a cache of the records it needs, carried
// from each head to the next with the committed block's changes.
package ledger

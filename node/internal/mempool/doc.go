// Package mempool holds the signed transactions waiting for a block.
//
// Use:
//
//	pool := mempool.New(mempool.Config{}, signer, chainID, ledger.RulesAt(head+1).Params)
//
//	// A transaction from the API or a peer: checked, its signature recovered once.
//	sender, err := pool.AddWith(tx, ledgerNonce, mempool.AddOptions{
//		HeadTime: head.Time, Now: unixNow, Check: checkAgainstStateAndQueue,
//	}) // err has a chain.Code
//
//	// Building a block: the ready transactions with their senders, nothing removed.
//	txs, senders, err := pool.Ready(params.MaxBlockTxs, budget, ledgerNonce)
//	// ... build the block from them; those that failed to apply:
//	pool.Remove(failedHashes)                            // and their senders' later nonces
//
//	// After every committed block, in order:
//	err = pool.Update(blk.Txs, ledgerNonce, blk.Header.Time)
//
// Admission (Add, or AddWith with a stateful check) runs the stateless checks, recovers the
// sender from the signature, and bounds the nonce to [next, next+MaxFutureNonces] where next
// is the sender's next nonce in the committed state. One sender may hold one transaction per
// nonce; there is no replacement. AddWith's Check (the node's: ledger.CheckQueue) sees the
// sender's held transactions the new one would run after; one sender's admissions are
// serialised so that it sees them all.
//
// A transaction after a gap in its sender's nonces is queued: it cannot run until the gap is
// filled, which may never happen. Queued transactions are bounded per sender
// (ErrTooManyQueued), in count and in bytes (ErrFull), expire QueuedTTL seconds of block time
// after their admission, and are the only ones evicted: a full pool evicts them, the oldest
// first, for a transaction that can run, and otherwise refuses (ErrFull). ReservedPercent of
// the pool is left to admissions with AddOptions.Reserved.
//
// A transaction is ready when it and the sender's transactions before it form a gap-free run
// from the sender's next committed nonce. Ready walks the transactions in arrival order,
// emitting each one that is its sender's next expected nonce, and walks again until nothing
// more can be emitted or a limit is hit; so senders come in the order their first ready
// transaction arrived and each sender's transactions in nonce order.
//
// Removal is driven by the caller: Update after a block commits (the block's transactions,
// stale nonces, expired and queued-too-long transactions) and Remove for transactions a
// block could not apply.
// The pool keeps no clock: times are block times passed in.
//
// A Mempool is safe for concurrent use. It starts no goroutines. A NonceFunc is never called
// with the pool's lock held, so it may take the ledger's locks. Transactions passed in are
// kept and returned as is: callers must not modify them.
package mempool

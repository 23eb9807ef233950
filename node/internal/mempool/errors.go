package mempool

import "github.com/loyal-ledger/loyal/chain"

// Rejections by Add, besides the chain's own (chain.ErrNonceTooLow, chain.ErrNonceTooHigh,
// chain.ErrWrongChainID, chain.ErrExpiredTx, chain.ErrTxTooLarge, chain.ErrBadSignature and
// the stateless checks of chain.Tx.Check). Add wraps them with %w and a detail, so compare
// with errors.Is and read the stable code with chain.Code.
var (
	ErrDuplicateTx = &chain.Error{Code: "duplicate_tx", Msg: "transaction is already in the mempool"}
	ErrCommittedTx = &chain.Error{Code: "already_committed", Msg: "transaction is already committed"}
	ErrNonceTaken  = &chain.Error{Code: "nonce_taken", Msg: "another pending transaction of this sender has this nonce"}
	ErrFull        = &chain.Error{Code: "mempool_full", Msg: "mempool is full; retry later"}
)

// ErrTooManyQueued refuses a transaction that cannot run yet (a nonce before it is missing)
// when its sender already has Config.MaxQueuedPerSender such transactions waiting.
var ErrTooManyQueued = &chain.Error{Code: "too_many_queued", Msg: "too many transactions of this sender wait for a missing nonce"}

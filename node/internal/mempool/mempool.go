package mempool

import (
	"container/heap"
	"fmt"
	"sync"

	"github.com/loyal-ledger/loyal/chain"
)

// NonceFunc returns an account's next nonce in the committed state (0 for an unknown
// account). The Mempool never calls it with its lock held.
type NonceFunc func(chain.Address) (uint64, error)

// Mempool is the pool of signed transactions waiting for a block. It is safe for concurrent
// use and starts no goroutines.
type Mempool struct {
	cfg     Config // defaults applied
	signer  *chain.Signer
	chainID uint64
	params  chain.Params

	mu struct {
		sync.Mutex
		byHash   map[chain.Hash]*entry
		bySender map[chain.Address]map[uint64]*entry // sender -> nonce -> entry; no empty inner maps
		arrival  queue                               // every entry, oldest first
		expiry   expiryHeap                          // entries with a ValidUntil
		seq      uint64                              // arrival number of the next entry
		bytes    int                                 // sum of tx.Size() over the entries
		recent   *recentSet                          // hashes of the last committed transactions
	}
}

// entry is one held transaction. The hash is cached inside tx.
type entry struct {
	tx         *chain.Tx
	sender     chain.Address
	size       int    // sizeOf(tx), fixed at admission
	seq        uint64 // arrival number: unique, increasing
	prev, next *entry // arrival queue
	expIdx     int    // index in the expiry heap; -1 if tx.ValidUntil is 0
}

// New returns an empty Mempool for the network of chainID, whose transactions are verified
// with signer and bounded by params (genesis). A zero cfg means the defaults. It panics if
// signer is nil or for another chain: that is a wiring mistake, not a runtime condition.
func New(cfg Config, signer *chain.Signer, chainID uint64, params chain.Params) *Mempool {
	if signer == nil || signer.ChainID() != chainID {
		panic(fmt.Sprintf("mempool: signer is nil or not for chain %d", chainID))
	}
	m := &Mempool{cfg: cfg.withDefaults(), signer: signer, chainID: chainID, params: params}
	m.mu.byHash = make(map[chain.Hash]*entry)
	m.mu.bySender = make(map[chain.Address]map[uint64]*entry)
	m.mu.recent = newRecentSet(recentCommitted)
	return m
}

// Add admits a transaction and returns its sender. In order, it rejects:
//   - what fails the stateless checks (tx.Check), is larger than params.MaxTxBytes
//     (chain.ErrTxTooLarge), is for another chain (chain.ErrWrongChainID), or whose
//     ValidUntil, if non-zero, is before headTime (chain.ErrExpiredTx);
//   - a transaction already held (ErrDuplicateTx) or among the last committed ones
//     (ErrCommittedTx), before its signature is recovered;
//   - a signature that recovers no sender (code "bad_signature");
//   - a nonce below the sender's next committed
//     nonce (chain.ErrNonceTooLow) or more than MaxFutureNonces past it
//     (chain.ErrNonceTooHigh), a nonce another held transaction of the sender has
//     (ErrNonceTaken), and any transaction when the pool is full by count or bytes (ErrFull).
//
// Errors wrap those sentinels with a detail; an error of next is returned wrapped as is.
// The sender is returned whenever it was recovered, also with an error after recovery.
// The signature is recovered once, outside the lock; a transaction already held is reported
// as a duplicate without recovering it again. Add keeps tx: do not modify it afterwards.
func (m *Mempool) Add(tx *chain.Tx, next NonceFunc, headTime uint64) (chain.Address, error) {
	if tx == nil {
		return chain.Address{}, fmt.Errorf("%w: nil transaction", chain.ErrMalformed)
	}
	size, err := m.checkStateless(tx, headTime)
	if err != nil {
		return chain.Address{}, err
	}
	h := tx.Hash()
	m.mu.Lock()
	e, held := m.mu.byHash[h]
	done := m.mu.recent.has(h)
	m.mu.Unlock()
	switch {
	case held: // a gossiped copy: skip the recovery
		return e.sender, duplicate(h)
	case done:
		return chain.Address{}, fmt.Errorf("%w: %s", ErrCommittedTx, h)
	}
	sender, err := m.signer.Sender(tx)
	if err != nil {
		if chain.Code(err) == "internal" {
			err = fmt.Errorf("%w: %w", chain.ErrBadSignature, err)
		}
		return chain.Address{}, err
	}
	committed, err := next(sender)
	if err != nil {
		return sender, fmt.Errorf("mempool: next nonce of %s: %w", sender, err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.mu.byHash[h]; ok {
		return sender, duplicate(h)
	}
	if m.mu.recent.has(h) { // committed while its signature was being recovered
		return sender, fmt.Errorf("%w: %s", ErrCommittedTx, h)
	}
	switch n := tx.Nonce; {
	case n < committed:
		return sender, fmt.Errorf("%w: nonce %d, next committed is %d", chain.ErrNonceTooLow, n, committed)
	case n-committed > m.cfg.MaxFutureNonces:
		return sender, fmt.Errorf("%w: nonce %d, next committed is %d, at most %d ahead",
			chain.ErrNonceTooHigh, n, committed, m.cfg.MaxFutureNonces)
	}
	if other, ok := m.mu.bySender[sender][tx.Nonce]; ok {
		return sender, fmt.Errorf("%w: nonce %d is held by %s", ErrNonceTaken, tx.Nonce, other.tx.Hash())
	}
	if n := len(m.mu.byHash); n >= m.cfg.MaxTxs {
		return sender, fmt.Errorf("%w: holds %d transactions, the limit", ErrFull, n)
	}
	if m.mu.bytes+size > m.cfg.MaxBytes {
		return sender, fmt.Errorf("%w: holds %d bytes, %d more exceeds the limit of %d",
			ErrFull, m.mu.bytes, size, m.cfg.MaxBytes)
	}
	m.insertLocked(tx, sender, size)
	return sender, nil
}

// checkStateless is what Add checks before recovering the sender. It returns tx's size.
func (m *Mempool) checkStateless(tx *chain.Tx, headTime uint64) (int, error) {
	if err := tx.Check(); err != nil {
		return 0, err
	}
	size := sizeOf(tx)
	if size > m.params.MaxTxBytes {
		return 0, fmt.Errorf("%w: %d bytes exceeds %d", chain.ErrTxTooLarge, size, m.params.MaxTxBytes)
	}
	if tx.ChainID != m.chainID {
		return 0, fmt.Errorf("%w: transaction for chain %d, this network is chain %d",
			chain.ErrWrongChainID, tx.ChainID, m.chainID)
	}
	if tx.ValidUntil != 0 && tx.ValidUntil < headTime {
		return 0, fmt.Errorf("%w: valid until %d, head time %d", chain.ErrExpiredTx, tx.ValidUntil, headTime)
	}
	return size, nil
}

// sizeOf is tx.Size(), safe against a race in chain.Tx: Hash caches the hash before the
// size, so a goroutine that finds the hash cached by another can read the size as 0 while
// the other is still hashing (seen under -race when peers send the same tx at once). No
// encoding is empty, so 0 means that race; the encoding is then measured directly.
func sizeOf(tx *chain.Tx) int {
	if n := tx.Size(); n > 0 {
		return n
	}
	return len(tx.Encode())
}

func duplicate(h chain.Hash) error { return fmt.Errorf("%w: %s", ErrDuplicateTx, h) }

// lookup returns the entry of hash h.
func (m *Mempool) lookup(h chain.Hash) (*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.mu.byHash[h]
	return e, ok
}

// Get returns the held transaction with hash h and its sender.
func (m *Mempool) Get(h chain.Hash) (tx *chain.Tx, sender chain.Address, ok bool) {
	e, ok := m.lookup(h)
	if !ok {
		return nil, chain.Address{}, false
	}
	return e.tx, e.sender, true
}

// Size returns how many transactions the pool holds and their total size in bytes (sum of
// tx.Size()).
func (m *Mempool) Size() (txs, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mu.byHash), m.mu.bytes
}

// PendingNonce returns the nonce after the highest gap-free pending transaction of a, given
// its next committed nonce, so a wallet can send several transactions in a row. It equals
// committed if nothing from a is pending at committed.
func (m *Mempool) PendingNonce(a chain.Address, committed uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	txs := m.mu.bySender[a]
	n := committed
	for {
		if _, ok := txs[n]; !ok {
			return n
		}
		if n == ^uint64(0) {
			return n // no nonce after the last one
		}
		n++
	}
}

// insertLocked adds a checked transaction.
func (m *Mempool) insertLocked(tx *chain.Tx, sender chain.Address, size int) {
	e := &entry{tx: tx, sender: sender, size: size, seq: m.mu.seq, expIdx: -1}
	m.mu.seq++
	m.mu.byHash[tx.Hash()] = e
	txs := m.mu.bySender[sender]
	if txs == nil {
		txs = make(map[uint64]*entry, 1)
		m.mu.bySender[sender] = txs
	}
	txs[tx.Nonce] = e
	m.mu.arrival.push(e)
	if tx.ValidUntil != 0 {
		heap.Push(&m.mu.expiry, e)
	}
	m.mu.bytes += size
}

// removeLocked drops a held entry.
func (m *Mempool) removeLocked(e *entry) {
	delete(m.mu.byHash, e.tx.Hash())
	txs := m.mu.bySender[e.sender]
	delete(txs, e.tx.Nonce)
	if len(txs) == 0 {
		delete(m.mu.bySender, e.sender)
	}
	m.mu.arrival.unlink(e)
	if e.expIdx >= 0 {
		heap.Remove(&m.mu.expiry, e.expIdx)
	}
	m.mu.bytes -= e.size
}

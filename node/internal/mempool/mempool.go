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

// CheckFunc is the stateful check of an admission: whether tx from sender would run after
// queue, the sender's held transactions with nonces from its next committed one up to tx's,
// in nonce order (there may be gaps). The Mempool calls it without its lock held, but with
// the sender's admissions serialised, so the queue it sees is the one tx joins.
type CheckFunc func(tx *chain.Tx, sender chain.Address, queue []*chain.Tx) error

// AddOptions are the details of one admission.
type AddOptions struct {
	// HeadTime is the committed head's time: a transaction valid only until before it is
	// refused.
	HeadTime uint64
	// Now is the admission time in seconds, the start of a queued transaction's QueuedTTL;
	// 0 means HeadTime.
	Now uint64
	// Reserved lets the admission use the share of the pool (Config.ReservedPercent) that
	// others cannot.
	Reserved bool
	// Check, if not nil, is the stateful check (CheckFunc); its error is returned as is.
	Check CheckFunc
}

// Mempool is the pool of signed transactions waiting for a block. It is safe for concurrent
// use and starts no goroutines.
type Mempool struct {
	cfg     Config // defaults applied
	signer  *chain.Signer
	chainID uint64
	params  chain.Params

	// admitting serialises the admissions of one sender (by a stripe of its address) from
	// the snapshot of its queue to the insertion, so that CheckFunc sees what the
	// transaction joins. It is taken before mu, never while holding it.
	admitting [64]sync.Mutex

	mu struct {
		sync.Mutex
		byHash      map[chain.Hash]*entry
		bySender    map[chain.Address]*senderTxs // no empty senderTxs
		arrival     queue                        // every entry, oldest first
		expiry      expiryHeap                   // entries with a ValidUntil
		queued      queuedHeap                   // entries that cannot run yet (queued.go)
		queuedBytes int                          // sum of their sizes
		seq         uint64                       // arrival number of the next entry
		bytes       int                          // sum of tx.Size() over the entries
		recent      *recentSet                   // hashes of the last committed transactions
	}
}

// entry is one held transaction. The hash is cached inside tx.
type entry struct {
	tx         *chain.Tx
	sender     chain.Address
	size       int    // sizeOf(tx), fixed at admission
	seq        uint64 // arrival number: unique, increasing
	since      uint64 // admission time (AddOptions.Now), seconds
	prev, next *entry // arrival queue
	expIdx     int    // index in the expiry heap; -1 if tx.ValidUntil is 0
	qIdx       int    // index in the queued heap; -1 unless queued
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
	m.mu.bySender = make(map[chain.Address]*senderTxs)
	m.mu.recent = newRecentSet(recentCommitted)
	return m
}

// Add is AddWith with only the head time: no stateful check, no reserved share.
func (m *Mempool) Add(tx *chain.Tx, next NonceFunc, headTime uint64) (chain.Address, error) {
	return m.AddWith(tx, next, AddOptions{HeadTime: headTime})
}

// AddWith admits a transaction and returns its sender. In order, it rejects:
//   - what fails the stateless checks (tx.Check), is larger than params.MaxTxBytes
//     (chain.ErrTxTooLarge), is for another chain (chain.ErrWrongChainID), or whose
//     ValidUntil, if non-zero, is before o.HeadTime (chain.ErrExpiredTx);
//   - a transaction already held (ErrDuplicateTx) or among the last committed ones
//     (ErrCommittedTx), before its signature is recovered;
//   - a signature that recovers no sender (code "bad_signature");
//   - a nonce below the sender's next committed
//     nonce (chain.ErrNonceTooLow) or more than MaxFutureNonces past it
//     (chain.ErrNonceTooHigh), a nonce another held transaction of the sender has
//     (ErrNonceTaken);
//   - a queued transaction (one after a gap) beyond its sender's MaxQueuedPerSender
//     (ErrTooManyQueued) or the pool's MaxQueuedTxs or MaxQueuedBytes (ErrFull);
//   - what o.Check refuses (its error as is);
//   - any transaction the pool has no room for (ErrFull), after evicting queued transactions,
//     the oldest first, to make room for one that can run. Without o.Reserved the room ends
//     ReservedPercent short of MaxTxs and MaxBytes.
//
// Errors wrap those sentinels with a detail; an error of next is returned wrapped as is.
// The sender is returned whenever it was recovered, also with an error after recovery.
// The signature is recovered once, outside the lock; a transaction already held is reported
// as a duplicate without recovering it again. AddWith keeps tx: do not modify it afterwards.
func (m *Mempool) AddWith(tx *chain.Tx, next NonceFunc, o AddOptions) (chain.Address, error) {
	if tx == nil {
		return chain.Address{}, fmt.Errorf("%w: nil transaction", chain.ErrMalformed)
	}
	size, err := m.checkStateless(tx, o.HeadTime)
	if err != nil {
		return chain.Address{}, err
	}
	if o.Now == 0 {
		o.Now = o.HeadTime
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
	stripe := &m.admitting[sender[len(sender)-1]%byte(len(m.admitting))]
	stripe.Lock()
	defer stripe.Unlock()
	committed, err := next(sender)
	if err != nil {
		return sender, fmt.Errorf("mempool: next nonce of %s: %w", sender, err)
	}

	m.mu.Lock()
	queue, _, err := m.admissibleLocked(tx, sender, size, committed)
	m.mu.Unlock()
	if err != nil {
		return sender, err
	}
	if o.Check != nil {
		if err := o.Check(tx, sender, queue); err != nil {
			return sender, err
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	// Again: blocks may have committed meanwhile (the sender's own admissions wait).
	_, queued, err := m.admissibleLocked(tx, sender, size, committed)
	if err != nil {
		return sender, err
	}
	if err := m.makeRoomLocked(size, queued, o.Reserved); err != nil {
		return sender, err
	}
	m.insertLocked(tx, sender, size, committed, o.Now)
	return sender, nil
}

// admissibleLocked runs the checks of AddWith that need the pool's content, short of room.
// It returns the sender's held transactions tx would run after, and whether tx would be
// queued (after a gap).
func (m *Mempool) admissibleLocked(tx *chain.Tx, sender chain.Address, size int, committed uint64) ([]*chain.Tx, bool, error) {
	h := tx.Hash()
	if _, ok := m.mu.byHash[h]; ok {
		return nil, false, duplicate(h)
	}
	if m.mu.recent.has(h) { // committed while its signature was being recovered
		return nil, false, fmt.Errorf("%w: %s", ErrCommittedTx, h)
	}
	s := m.mu.bySender[sender]
	if s != nil {
		committed = max(committed, s.base)
	}
	switch n := tx.Nonce; {
	case n < committed:
		return nil, false, fmt.Errorf("%w: nonce %d, next committed is %d", chain.ErrNonceTooLow, n, committed)
	case n-committed > m.cfg.MaxFutureNonces:
		return nil, false, fmt.Errorf("%w: nonce %d, next committed is %d, at most %d ahead",
			chain.ErrNonceTooHigh, n, committed, m.cfg.MaxFutureNonces)
	}
	if s == nil {
		if tx.Nonce == committed {
			return nil, false, nil
		}
		return nil, true, m.queueRoomLocked(nil, tx, size, committed)
	}
	if other, ok := s.byNonce[tx.Nonce]; ok {
		return nil, false, fmt.Errorf("%w: nonce %d is held by %s", ErrNonceTaken, tx.Nonce, other.tx.Hash())
	}
	queue := s.heldBetween(committed, tx.Nonce)
	if gap := s.runFrom(committed); tx.Nonce > gap {
		return queue, true, m.queueRoomLocked(s, tx, size, gap)
	}
	return queue, false, nil
}

// queueRoomLocked refuses a queued transaction (one after a gap at nonce gap) over the
// queued bounds.
func (m *Mempool) queueRoomLocked(s *senderTxs, tx *chain.Tx, size int, gap uint64) error {
	if s != nil && s.queued >= m.cfg.MaxQueuedPerSender {
		return fmt.Errorf("%w: nonce %d waits for nonce %d, and %d transactions of this sender already wait",
			ErrTooManyQueued, tx.Nonce, gap, s.queued)
	}
	if n, b := len(m.mu.queued), m.mu.queuedBytes; n >= m.cfg.MaxQueuedTxs || b+size > m.cfg.MaxQueuedBytes {
		return fmt.Errorf("%w: nonce %d waits for nonce %d, and the pool holds all the waiting transactions it may (%d, %d bytes)",
			ErrFull, tx.Nonce, gap, n, b)
	}
	return nil
}

// makeRoomLocked makes room for a transaction of size bytes by evicting queued
// transactions, the oldest first, unless it would be queued itself; or refuses it (ErrFull),
// evicting nothing, if that would not be enough.
func (m *Mempool) makeRoomLocked(size int, queued, reserved bool) error {
	maxTxs, maxBytes := m.cfg.limits(reserved)
	n, b := len(m.mu.byHash), m.mu.bytes
	if !queued { // what is left once every queued transaction is gone
		n, b = n-len(m.mu.queued), b-m.mu.queuedBytes
	}
	if n >= maxTxs {
		return fmt.Errorf("%w: holds %d transactions, the limit", ErrFull, len(m.mu.byHash))
	}
	if b+size > maxBytes {
		return fmt.Errorf("%w: holds %d bytes, %d more exceeds the limit of %d", ErrFull, m.mu.bytes, size, maxBytes)
	}
	for len(m.mu.byHash) >= maxTxs || m.mu.bytes+size > maxBytes {
		m.removeLocked(m.mu.queued[0]) // its sender's later ones were queued already
	}
	return nil
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
	s := m.mu.bySender[a]
	if s == nil {
		return committed
	}
	return s.runFrom(committed)
}

// insertLocked adds a checked transaction; committed is the sender's next committed nonce.
func (m *Mempool) insertLocked(tx *chain.Tx, sender chain.Address, size int, committed, now uint64) {
	e := &entry{tx: tx, sender: sender, size: size, seq: m.mu.seq, since: now, expIdx: -1, qIdx: -1}
	m.mu.seq++
	m.mu.byHash[tx.Hash()] = e
	s := m.mu.bySender[sender]
	if s == nil {
		s = &senderTxs{byNonce: make(map[uint64]*entry, 1), base: committed}
		m.mu.bySender[sender] = s
	}
	s.base = max(s.base, committed)
	s.byNonce[tx.Nonce] = e
	m.mu.arrival.push(e)
	if tx.ValidUntil != 0 {
		heap.Push(&m.mu.expiry, e)
	}
	m.mu.bytes += size
	m.classifyLocked(s)
}

// removeLocked drops a held entry. The sender's other transactions keep their class: the
// caller reclassifies them if e may have been before a gap of theirs.
func (m *Mempool) removeLocked(e *entry) {
	delete(m.mu.byHash, e.tx.Hash())
	s := m.mu.bySender[e.sender]
	m.setQueuedLocked(s, e, false)
	delete(s.byNonce, e.tx.Nonce)
	if len(s.byNonce) == 0 {
		delete(m.mu.bySender, e.sender)
	}
	m.mu.arrival.unlink(e)
	if e.expIdx >= 0 {
		heap.Remove(&m.mu.expiry, e.expIdx)
	}
	m.mu.bytes -= e.size
}

package mempool

import (
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// Update is called after a block commits, for every block in order, with its transactions
// and time. It removes the block's transactions, every transaction whose nonce is now below
// its sender's next committed nonce (stale, such as another transaction with a nonce the
// block used), every transaction whose ValidUntil (if non-zero) is before blockTime, and
// every queued transaction admitted more than QueuedTTL seconds before blockTime.
//
// A sender's next nonce changes only through a committed transaction of that sender, so
// Update asks next only about the block's senders that still have transactions here: its
// cost follows the block, not the pool. The sender of a block transaction the pool did not
// hold is recovered from its signature (outside the lock), unless the pool is empty. If next
// fails, the other senders are still updated and the first error is returned.
func (m *Mempool) Update(committed []*chain.Tx, next NonceFunc, blockTime uint64) error {
	return m.UpdateWithSenders(committed, nil, next, blockTime)
}

// UpdateWithSenders is Update with the senders of the committed transactions already known
// (senders[i] of committed[i]), so none is recovered; nil senders means unknown.
func (m *Mempool) UpdateWithSenders(committed []*chain.Tx, senders []chain.Address, next NonceFunc, blockTime uint64) error {
	if senders != nil && len(senders) != len(committed) {
		return fmt.Errorf("mempool: %d senders for %d transactions", len(senders), len(committed))
	}
	touched, expired := newAddrSet(), newAddrSet()
	var unheld []*chain.Tx
	m.mu.Lock()
	for i, tx := range committed {
		if tx == nil {
			continue
		}
		m.mu.recent.add(tx.Hash())
		switch e, ok := m.mu.byHash[tx.Hash()]; {
		case ok:
			touched.add(e.sender)
			m.removeLocked(e)
		case senders != nil:
			touched.add(senders[i])
		default:
			unheld = append(unheld, tx)
		}
	}
	for len(m.mu.expiry) > 0 && m.mu.expiry[0].tx.ValidUntil < blockTime {
		expired.add(m.mu.expiry[0].sender)
		m.removeLocked(m.mu.expiry[0])
	}
	empty := len(m.mu.byHash) == 0
	m.mu.Unlock()
	if empty {
		return nil
	}
	// The senders of expired transactions are reclassified at the end, with the others: a
	// sender can be in both, and only then is its committed nonce known.

	for _, tx := range unheld {
		if a, err := m.signer.Sender(tx); err == nil { // a committed tx verified; else no sender
			touched.add(a)
		}
	}
	pending := m.withPending(touched.list)
	nonces := make([]uint64, len(pending))
	var firstErr error
	for i, a := range pending {
		n, err := next(a)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("mempool: next nonce of %s: %w", a, err)
			}
			continue // nonce 0 drops nothing
		}
		nonces[i] = n
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	for i, a := range pending {
		if s := m.mu.bySender[a]; s != nil && nonces[i] > s.base {
			s.base = nonces[i]
		}
		m.dropLocked(a, func(nonce uint64) bool { return nonce < nonces[i] })
	}
	for _, a := range append(pending, expired.list...) {
		if s := m.mu.bySender[a]; s != nil {
			m.classifyLocked(s)
		}
	}
	m.expireQueuedLocked(blockTime)
	return firstErr
}

// Remove drops the transactions with the given hashes (they failed when a block was built)
// and, for each, every held transaction of its sender with a higher nonce (they cannot apply
// before it). Unknown hashes are ignored. It returns how many transactions were dropped.
func (m *Mempool) Remove(hashes []chain.Hash) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	dropped := 0
	for _, h := range hashes {
		e, ok := m.mu.byHash[h]
		if !ok {
			continue
		}
		from := e.tx.Nonce
		dropped += m.dropLocked(e.sender, func(nonce uint64) bool { return nonce >= from })
	}
	return dropped // what is left of each sender is below the dropped: its class holds
}

// dropLocked removes the transactions of sender a whose nonce matches and returns how many.
// It costs O(the sender's transactions); which it removes does not depend on map order.
func (m *Mempool) dropLocked(a chain.Address, match func(nonce uint64) bool) int {
	s := m.mu.bySender[a]
	if s == nil {
		return 0
	}
	var doomed []*entry
	for nonce, e := range s.byNonce {
		if match(nonce) {
			doomed = append(doomed, e)
		}
	}
	for _, e := range doomed {
		m.removeLocked(e)
	}
	return len(doomed)
}

// withPending returns the addresses, in order, that have transactions in the pool.
func (m *Mempool) withPending(addrs []chain.Address) []chain.Address {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := addrs[:0:0]
	for _, a := range addrs {
		if _, ok := m.mu.bySender[a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// addrSet is a set of addresses that remembers insertion order.
type addrSet struct {
	seen map[chain.Address]struct{}
	list []chain.Address
}

func newAddrSet() *addrSet { return &addrSet{seen: make(map[chain.Address]struct{})} }

func (s *addrSet) add(a chain.Address) {
	if _, ok := s.seen[a]; !ok {
		s.seen[a] = struct{}{}
		s.list = append(s.list, a)
	}
}

package mempool

import (
	"container/heap"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// Ready returns, for a block, up to maxTxs transactions totalling at most maxBytes (sum of
// tx.Size()+4), with their senders, such that each sender's transactions form a gap-free run
// of nonces starting at its next committed nonce (next); a transaction after a gap is not
// ready. It removes nothing.
//
// The order is that of walking the transactions in arrival order, emitting each one that is
// its sender's next expected nonce, and walking again until nothing more can be emitted:
// senders come in the order their first ready transaction arrived, each sender's
// transactions in nonce order. It stops at maxTxs. A transaction that would exceed maxBytes
// is skipped and ends its sender's run, and the others go on, so smaller transactions fill
// the block; the oldest ready transaction always fits an empty block. Non-positive limits
// return nothing. The result depends only on the sequence of calls made on the pool, and it
// costs O(n) to find the senders plus O(log s) per transaction returned, not repeated walks.
func (m *Mempool) Ready(maxTxs, maxBytes int, next NonceFunc) ([]*chain.Tx, []chain.Address, error) {
	if maxTxs <= 0 || maxBytes <= 0 {
		return nil, nil, nil
	}
	senders := m.senders()
	nonces := make([]uint64, len(senders))
	for i, a := range senders {
		n, err := next(a)
		if err != nil {
			return nil, nil, fmt.Errorf("mempool: next nonce of %s: %w", a, err)
		}
		nonces[i] = n
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	// The walks, without walking: a transaction is emitted in the walk (pass) of its
	// predecessor if it arrived after it, else in the next walk, at its arrival position; so
	// emitting by (pass, arrival) from a heap of each sender's next candidate is the same.
	h := make(readyHeap, 0, len(senders))
	for i, a := range senders { // senders that arrived since senders() wait for the next call
		if s := m.mu.bySender[a]; s != nil {
			if e, ok := s.byNonce[nonces[i]]; ok {
				h = append(h, candidate{e: e, pass: 0})
			}
		}
	}
	heap.Init(&h)
	var (
		txs   []*chain.Tx
		from  []chain.Address
		bytes int
	)
	for len(h) > 0 && len(txs) < maxTxs {
		c := h[0]
		if cost := c.e.size + 4; cost <= maxBytes-bytes {
			txs = append(txs, c.e.tx)
			from = append(from, c.e.sender)
			bytes += cost
			if succ := m.successorLocked(c.e); succ != nil {
				pass := c.pass
				if succ.seq < c.e.seq {
					pass++
				}
				h[0] = candidate{e: succ, pass: pass}
				heap.Fix(&h, 0)
				continue
			}
		}
		heap.Pop(&h) // the sender's run ends: a gap, or too large for what is left
	}
	return txs, from, nil
}

// senders returns the distinct senders of the held transactions in order of arrival of
// their oldest held transaction.
func (m *Mempool) senders() []chain.Address {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]chain.Address, 0, len(m.mu.bySender))
	seen := make(map[chain.Address]struct{}, len(m.mu.bySender))
	for e := m.mu.arrival.head; e != nil && len(out) < len(m.mu.bySender); e = e.next {
		if _, ok := seen[e.sender]; !ok {
			seen[e.sender] = struct{}{}
			out = append(out, e.sender)
		}
	}
	return out
}

// successorLocked returns the held transaction of e's sender with the next nonce, or nil.
func (m *Mempool) successorLocked(e *entry) *entry {
	if e.tx.Nonce == ^uint64(0) {
		return nil
	}
	return m.mu.bySender[e.sender].byNonce[e.tx.Nonce+1]
}

// candidate is a sender's next transaction in Ready, with the walk it is emitted in.
type candidate struct {
	e    *entry
	pass uint64
}

// readyHeap orders the candidates by walk, then arrival.
type readyHeap []candidate

var _ heap.Interface = (*readyHeap)(nil)

func (h readyHeap) Len() int { return len(h) }

func (h readyHeap) Less(i, j int) bool {
	if h[i].pass != h[j].pass {
		return h[i].pass < h[j].pass
	}
	return h[i].e.seq < h[j].e.seq
}

func (h readyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *readyHeap) Push(x any) { *h = append(*h, x.(candidate)) }

func (h *readyHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

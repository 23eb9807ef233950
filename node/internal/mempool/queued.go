package mempool

import (
	"container/heap"

	"github.com/loyal-ledger/loyal/chain"
)

// A transaction is queued when it cannot run yet: some nonce between its sender's next
// committed nonce and its own is held by no transaction here (a gap). Nothing says the gap
// will ever be filled, so queued transactions are bounded apart (per sender, in all, in
// bytes), evicted first when the pool is full, and expire after Config.QueuedTTL seconds of
// block time from their admission.
//
// Which transactions are queued changes when one of the sender's transactions arrives or
// leaves, or its committed nonce moves; each time, classifyLocked walks that sender's
// transactions (at most MaxFutureNonces+1 of them).

// senderTxs are one sender's held transactions.
type senderTxs struct {
	byNonce map[uint64]*entry // never empty while in Mempool.mu.bySender
	base    uint64            // the sender's next committed nonce, as last seen
	queued  int               // how many of byNonce are queued
}

// runEnd is the first nonce from base that no held transaction has: the transactions with
// nonces in [base, runEnd) can run in turn.
func (s *senderTxs) runEnd() uint64 { return s.runFrom(s.base) }

// runFrom is the first nonce from n that no held transaction has.
func (s *senderTxs) runFrom(n uint64) uint64 {
	for {
		if _, ok := s.byNonce[n]; !ok || n == ^uint64(0) {
			return n
		}
		n++
	}
}

// classifyLocked marks each of s's transactions queued or not.
func (m *Mempool) classifyLocked(s *senderTxs) {
	end := s.runEnd()
	for nonce, e := range s.byNonce { // the result does not depend on the order
		m.setQueuedLocked(s, e, nonce > end)
	}
}

// setQueuedLocked moves e into or out of the queued set.
func (m *Mempool) setQueuedLocked(s *senderTxs, e *entry, queued bool) {
	switch {
	case queued && e.qIdx < 0:
		heap.Push(&m.mu.queued, e)
		s.queued++
		m.mu.queuedBytes += e.size
	case !queued && e.qIdx >= 0:
		heap.Remove(&m.mu.queued, e.qIdx)
		s.queued--
		m.mu.queuedBytes -= e.size
	}
}

// expireQueuedLocked drops the queued transactions admitted more than QueuedTTL seconds
// before blockTime.
func (m *Mempool) expireQueuedLocked(blockTime uint64) {
	for len(m.mu.queued) > 0 {
		e := m.mu.queued[0]
		if e.since+m.cfg.QueuedTTL >= blockTime || e.since+m.cfg.QueuedTTL < e.since {
			return
		}
		m.removeLocked(e) // the sender's later ones were queued already: nothing to reclassify
	}
}

// Queued returns how many held transactions are queued (cannot run yet) and their bytes.
func (m *Mempool) Queued() (txs, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mu.queued), m.mu.queuedBytes
}

// queuedHeap holds the queued entries, the earliest admitted (then the oldest) first: the
// first to expire and to be evicted. Each entry keeps its index (entry.qIdx).
type queuedHeap []*entry

var _ heap.Interface = (*queuedHeap)(nil)

func (h queuedHeap) Len() int { return len(h) }

func (h queuedHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.since != b.since {
		return a.since < b.since
	}
	return a.seq < b.seq
}

func (h queuedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].qIdx = i
	h[j].qIdx = j
}

func (h *queuedHeap) Push(x any) {
	e := x.(*entry)
	e.qIdx = len(*h)
	*h = append(*h, e)
}

func (h *queuedHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	*h = old[:n]
	e.qIdx = -1
	return e
}

// heldBetween returns s's held transactions with nonces in [from, to), in nonce order.
func (s *senderTxs) heldBetween(from, to uint64) []*chain.Tx {
	var out []*chain.Tx
	for n := from; n < to; n++ {
		if e, ok := s.byNonce[n]; ok {
			out = append(out, e.tx)
		}
	}
	return out
}
